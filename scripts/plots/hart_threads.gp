# SPDX-License-Identifier: MIT
# hart_threads.gp - Hart et al.: ns/op vs threads (queue, list); the dashed line is the machine's PUs.
load plotdir.'/common.gp'
set xtics 1
set yrange [0:*]
if (pus > 0) { set arrow from pus, graph 0 to pus, graph 1 nohead dt 2 lc rgb '#888888'; set label 'PUs' at pus, graph 1 offset 0.5,-1 tc rgb '#888888' }
PLOT = LINES
load plotdir.'/emit.gp'

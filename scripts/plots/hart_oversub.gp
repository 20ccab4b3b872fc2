# SPDX-License-Identifier: MIT
# hart_oversub.gp - Hart et al.: ns/op (or unreclaimed objects) when threads exceed the PUs.
load plotdir.'/common.gp'
set xtics (1, 2, 4, 8, 16, 32, 64, 128, 256)
if (pus > 0) { set arrow from pus, graph 0 to pus, graph 1 nohead dt 2 lc rgb '#888888'; set label 'PUs' at pus, graph 1 offset 0.5,-1 tc rgb '#888888' }
PLOT = LINES
load plotdir.'/emit.gp'

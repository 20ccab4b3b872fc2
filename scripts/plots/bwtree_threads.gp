# SPDX-License-Identifier: MIT
# bwtree_threads.gp - Bw-tree inserts: ns/op or Mops/s (ylabel says which) vs threads per scheme.
load plotdir.'/common.gp'
set xtics 1
set yrange [0:*]
if (pus > 0) { set arrow from pus, graph 0 to pus, graph 1 nohead dt 2 lc rgb '#888888'; set label 'PUs' at pus, graph 1 offset 0.5,-1 tc rgb '#888888' }
PLOT = LINES
load plotdir.'/emit.gp'

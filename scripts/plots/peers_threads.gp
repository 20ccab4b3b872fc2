# SPDX-License-Identifier: MIT
# peers_threads.gp - Niksic's LazyTransform (2017) across languages: ns per get vs threads, the peers
# (jvm, crossbeam-epoch) beside the C schemes; log y (they span two decades).
load plotdir.'/common.gp'
set xtics 1
if (pus > 0) { set arrow from pus, graph 0 to pus, graph 1 nohead dt 2 lc rgb '#888888'; set label 'PUs' at pus, graph 1 offset 0.5,-1 tc rgb '#888888' }
PLOT = LINES
load plotdir.'/emit.gp'

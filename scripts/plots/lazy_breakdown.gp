# SPDX-License-Identifier: MIT
# lazy_breakdown.gp - Niksic's breakdown (2017): ns/op per payload (clusters), one bar per scheme.
load plotdir.'/common.gp'
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set xtics rotate by 0
set yrange [0:*]
set grid ytics
# A dashed series (a reference back end) is hatched as in report.py; a dotted one (a peer)
# cross-hatched, gnuplot's nearest to report.py's dots.
PLOT = "plot for [i=1:nseries] datafile using (column(3*i-1)):(column(3*i)):(column(3*i+1)):xtic(1) lt i fs pattern (word(dashes, i) eq '1' ? 3 : word(dashes, i) eq '2' ? 4 : 1) border -1 title word(names, i)"
load plotdir.'/emit.gp'

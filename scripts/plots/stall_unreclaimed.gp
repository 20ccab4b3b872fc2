# SPDX-License-Identifier: MIT
# stall_unreclaimed.gp - unreclaimed objects (or RSS) over time per scheme, one stalled thread
# (median over repetitions of each sample; the bars are the min-max).
load plotdir.'/common.gp'
set yrange [0:*]
set format y '%.0s%c'
PLOT = "plot for [i=1:nseries] datafile index (i-1) using 1:2 with lines lt i lw 2 title word(names, i), for [i=1:nseries] datafile index (i-1) using 1:2:3:4 with yerrorbars lt i pt 0 notitle"
load plotdir.'/emit.gp'

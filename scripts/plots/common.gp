# SPDX-License-Identifier: MIT
# common.gp - what every figure shares.  The figure scripts are called by
# scripts/plot.py as:  gnuplot -e "datafile='..'; outbase='..'; plotdir='..';
#   names='none ebr ..'; ttl='..'; xlabel='..'; ylabel='..'; logx=0; logy=0; pus=2;
#   colors='#000000 #1f77b4 ..'; points='7 5 ..'; dashes='1 1 ..'" FIG.gp
# datafile holds one block per series (x median min max), in the order of names,
# except for bar charts (one row per category: median min max of each series).
# ttl names the allocator (alloc=..., scripts/plot.py): a figure holds one allocator's cells.
set encoding utf8
set termoption noenhanced
set title ttl
set xlabel xlabel
set ylabel ylabel
set key outside right top
set grid ytics lc rgb '#dddddd'
set border 3
set tics nomirror
if (logx) { set logscale x }
if (logy) { set logscale y }
nseries = words(names)
# One colour, point type and dash per series, a scheme's own in every figure and the same
# as report.py's (scripts/smrb_results.py, series_styles: the order of smrbench list; the
# reference back ends dashed, the peers dotted): words of colors, points and dashes, one per name.
do for [i=1:nseries] { set linetype i lc rgb word(colors, i) pt int(word(points, i)) dt int(word(dashes, i)) }
# The series as lines with min-max error bars: @LINES
LINES = "plot for [i=1:nseries] datafile index (i-1) using 1:2:3:4 with yerrorlines lt i lw 1.5 title word(names, i)"

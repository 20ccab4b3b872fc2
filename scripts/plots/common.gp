# common.gp - what every figure shares.  The figure scripts are called by
# scripts/plot.py as:  gnuplot -e "datafile='..'; outbase='..'; plotdir='..';
#   names='none ebr ..'; ttl='..'; xlabel='..'; ylabel='..'; logx=0; logy=0; pus=2" FIG.gp
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
# One colour and point type per series, stable across figures (the order of smrbench
# list); from the 12th on, dashed (the reference back ends come last in that list).
set linetype 1 lc rgb '#000000' pt 7 dt 1
set linetype 2 lc rgb '#1f77b4' pt 5 dt 1
set linetype 3 lc rgb '#d62728' pt 9 dt 1
set linetype 4 lc rgb '#2ca02c' pt 11 dt 1
set linetype 5 lc rgb '#9467bd' pt 13 dt 1
set linetype 6 lc rgb '#ff7f0e' pt 4 dt 1
set linetype 7 lc rgb '#8c564b' pt 6 dt 1
set linetype 8 lc rgb '#e377c2' pt 8 dt 1
set linetype 9 lc rgb '#7f7f7f' pt 10 dt 1
set linetype 10 lc rgb '#bcbd22' pt 12 dt 1
set linetype 11 lc rgb '#17becf' pt 14 dt 1
set linetype 12 lc rgb '#aec7e8' pt 1 dt 2
set linetype 13 lc rgb '#ff9896' pt 2 dt 2
set linetype 14 lc rgb '#98df8a' pt 3 dt 2
set linetype 15 lc rgb '#c5b0d5' pt 15 dt 2
set linetype 16 lc rgb '#ffbb78' pt 7 dt 2
set linetype 17 lc rgb '#c49c94' pt 5 dt 2
set linetype 18 lc rgb '#f7b6d2' pt 9 dt 2
set linetype 19 lc rgb '#dbdb8d' pt 11 dt 2
set linetype 20 lc rgb '#9edae5' pt 13 dt 2
set linetype cycle 20
# The series as lines with min-max error bars: @LINES
LINES = "plot for [i=1:nseries] datafile index (i-1) using 1:2:3:4 with yerrorlines lt i lw 1.5 title word(names, i)"

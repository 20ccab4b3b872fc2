# SPDX-License-Identifier: MIT
# emit.gp - draw the figure (the command in the string PLOT) as PNG and SVG.
set terminal pngcairo size 960,540 font ',10'
set output outbase.'.png'
@PLOT
set terminal svg size 960,540 dynamic font 'sans,10'
set output outbase.'.svg'
@PLOT
unset output

# SPDX-License-Identifier: MIT
# hart_update.gp - Hart et al.: ns/op vs the fraction of updates (0 read-only .. 1 update-only).
load plotdir.'/common.gp'
set xlabel 'update fraction'
set xrange [-0.05:1.05]
set yrange [0:*]
PLOT = LINES
load plotdir.'/emit.gp'

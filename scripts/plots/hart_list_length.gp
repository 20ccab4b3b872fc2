# SPDX-License-Identifier: MIT
# hart_list_length.gp - Hart et al.: ns/op vs list length at a fixed update fraction (log-log).
load plotdir.'/common.gp'
set xlabel 'list length (elements)'
PLOT = LINES
load plotdir.'/emit.gp'

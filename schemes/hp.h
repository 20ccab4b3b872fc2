/* SPDX-License-Identifier: MIT */
/*
 * hp.h - Michael's hazard pointers, symmetric flavour: every protect pays a
 * locked exchange (xchg_ns in machine.json) to order its hazard before the re-load of the
 * source; scans pay one seq_cst fence.  The code is hp_impl.h's.
 */
#ifndef SMR_HP_H
#define SMR_HP_H

#define HP_(x) hp_##x
#define HP_ASYM 0
#include "hp_impl.h"

#define SMR_PARAMS_hp \
	{ "hp_r0", "100", "retire-list threshold R = hp_r0 + 2H (H: all hazard slots); Hart et al. use 100", \
	  0, 1L << 30 },

#endif

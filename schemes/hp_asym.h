/* SPDX-License-Identifier: MIT */
/*
 * hp_asym.h - hazard pointers with asymmetric fences (folly hazptr, liburcu
 * memb): protect publishes with a plain store and a compiler barrier, the
 * reclaimer issues membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) before each
 * scan.  That costs microseconds once another thread runs (an IPI each:
 * membarrier_busy_peer_ns in machine.json), so scans are batched: R = hpa_r0 + 2H with hpa_r0 = 1000 by
 * default (folly's threshold), against hp's 100.  Its hazards linger until
 * the thread's quiescent point instead of being cleared at every end() (see
 * hp_impl.h).  The code is hp_impl.h's.
 */
#ifndef SMR_HP_ASYM_H
#define SMR_HP_ASYM_H

#define HP_(x) hp_asym_##x
#define HP_ASYM 1
#include "hp_impl.h"

#define SMR_PARAMS_hp_asym \
	{ "hpa_r0", "1000", "retire-list threshold R = hpa_r0 + 2H (H: all hazard slots); each scan costs a membarrier", \
	  0, 1L << 30 },

#endif

/* SPDX-License-Identifier: MIT */
/*
 * hp_pop.h - HazardPtrPOP: hazard pointers published on ping (Singh, Brown
 * et al., "Publish on Ping: A Better Way to Publish Reservations in Memory
 * Reclamation for Concurrent Data Structures", PPoPP 2025).
 *
 * Michael's hazard pointers whose protect stores the hazard in a slot of
 * the thread's own with a plain store: no fence, no locked instruction, and
 * no store to a line a reclaimer reads.  Before each scan the reclaimer
 * pings every registered thread (pthread_kill); each thread's signal handler
 * copies its slots to the published row the scan reads, and acknowledges.
 * The scan starts once every thread has answered.  Why no reader's hazard
 * can be missed: smr_ping.h.  The rest, and the bound on what a thread holds
 * back (R per thread), is hp's (hp_impl.h); the slots linger until the
 * thread's quiescent point, as hp-asym's do.
 *
 * Against hp-asym, which gets the same effect from membarrier(2): the
 * kernel's IPI interrupts only the CPUs running our threads (a thread that
 * is switched out passed a full barrier on the way), while a ping wakes
 * every registered thread, sleeping ones too, and waits for its answer:
 * a signal per thread per scan.  In exchange, no slot shared with a
 * reclaimer is written on the read path: hp-asym's reader still stores to
 * the row the scan reads.
 *
 * The threshold trades memory for rounds: a scan frees R - H objects, so a
 * round costs 1/(R - H) of itself per retire, and a thread holds up to R.
 * hpp_r0 = 200 keeps R within twice hp's (Hart et al.'s 100 + 2H): a
 * stalled thread costs at most twice the memory it costs under hp.  hpp_r0
 * = 1000 (hp-asym's) pings five times less often (README: the sweep).
 */
#ifndef SMR_HP_POP_H
#define SMR_HP_POP_H

#define HP_(x) hp_pop_##x
#define HP_ASYM 0
#define HP_POP 1
#include "hp_impl.h"

#define SMR_PARAMS_hp_pop \
	{ "hpp_r0", SMR_PING_R0_DEFAULT, "retire-list threshold R = hpp_r0 + 2H (H: all hazard slots); each scan pings every thread", \
	  0, 1L << 30 },

#endif

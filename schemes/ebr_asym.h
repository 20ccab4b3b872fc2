/* SPDX-License-Identifier: MIT */
/*
 * ebr_asym.h - epoch-based reclamation with asymmetric fences (liburcu's memb
 * flavour, folly's asymmetric hazptr fences): EBR (ebr.h) whose readers pin
 * with a plain store and a compiler barrier, and whose reclaimer pays for the
 * missing store->load fence with membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)
 * before it scans the announcements.
 *
 * Read side: pin = one load of the global epoch plus one plain store (no
 * locked instruction, no fence); unpin = one plain store.  The cost moves to
 * the reclaimer (a membarrier: a syscall, and an IPI per CPU running another
 * of our threads; membarrier_ns and membarrier_busy_peer_ns in machine.json) and to the readers it interrupts (one
 * IPI each per membarrier).  So reclamation is batched harder than ebr's:
 * ebr_asym_batch retires between two attempts to advance the epoch.
 *
 * One implementation with ebr: the types embed ebr's, retire and the slow
 * paths are ebr's (ebr.c issues the membarrier when the domain says asym).
 * The domain refuses to start (NULL with an error) where the kernel lacks
 * the private expedited command (Linux < 4.14).
 */
#ifndef SMR_EBR_ASYM_H
#define SMR_EBR_ASYM_H

#include "ebr.h"

struct ebr_asym_thread {
	struct ebr_thread e;     /* the records are ebr's: ebr.c allocates them */
};

struct ebr_asym_domain {
	struct ebr_domain e;
};

#define SMR_PARAMS_ebr_asym \
	{ "ebr_asym_batch", "512", "retires between two attempts to advance the epoch (each one a membarrier)", \
	  1, 1 << 20 },

struct ebr_asym_domain *ebr_asym_domain_create(const struct smr_config *cfg, char *err, size_t errlen);
void ebr_asym_domain_destroy(struct ebr_asym_domain *d, struct smr_stats *out);
struct ebr_asym_thread *ebr_asym_register(struct ebr_asym_domain *d);
void ebr_asym_unregister(struct ebr_asym_thread *t);
void ebr_asym_stats(struct ebr_asym_domain *d, struct smr_stats *out);

static inline void ebr_asym_begin(struct ebr_asym_thread *t)
{
	uint64_t e = atomic_load_explicit(&t->e.d->epoch, memory_order_relaxed);
	/*
	 * Plain store, no fence: a reclaimer's membarrier orders it before our
	 * later loads as far as the reclaimer can tell (either it sees the
	 * announcement, or our loads come after its unlinks).  The signal fence
	 * only keeps the compiler from sinking the store below those loads.
	 */
	atomic_store_explicit(&t->e.local, (e << 1) | EBR_ACTIVE, memory_order_relaxed);
	atomic_signal_fence(memory_order_seq_cst);
}

#define SMR_OWN_BARRIER_STATS
static inline void ebr_asym_barrier_stats(struct ebr_asym_domain *d, struct smr_barrier_stats *out)
{
	smr_barrier_read(&d->e.barriers, out);
}

static inline void ebr_asym_end(struct ebr_asym_thread *t)
{
	ebr_end(&t->e);
}

static inline void ebr_asym_quiescent(struct ebr_asym_thread *t) { (void)t; }

static inline void ebr_asym_retire(struct ebr_asym_thread *t, struct smr_node *n, smr_reclaim_fn dtor)
{
	ebr_retire(&t->e, n, dtor);
}

#endif

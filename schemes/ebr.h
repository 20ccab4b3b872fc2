/* SPDX-License-Identifier: MIT */
/*
 * ebr.h - epoch-based reclamation (Fraser; Hart et al.; crossbeam's scheme as
 * Niksic describes it): a global epoch, a per-thread announcement and three
 * per-thread limbo bags.
 *
 * Read side: pin = one load of the global epoch plus one locked exchange that
 * publishes it (the store->load fence EBR needs, cheaper than an mfence on
 * x86: xchg_ns and mfence_ns in machine.json); unpin = one release store.  No RMW on shared data.
 *
 * Write side: retire tags the object with the global epoch read after it was
 * unlinked; a bag tagged e is freed once the global epoch reaches e + 2, which
 * needs every pinned thread to have been seen at e + 1.  Every ebr_batch
 * retires a thread tries to advance the epoch and frees its own bags.
 */
#ifndef SMR_EBR_H
#define SMR_EBR_H

#include <stdlib.h>

#include "smr_node_link.h"
#include "smr_delay.h"

/* t->local: (epoch << 1) | 1 while pinned, 0 while not. */
#define EBR_ACTIVE 1u

struct ebr_thread {
	struct smr_slot slot;
	_Atomic uint64_t local;           /* read by reclaimers: own line */
	struct ebr_domain *d;
	unsigned since_collect;
	unsigned batch;
	struct smr_list bag[3];           /* bag[e % 3] holds objects retired in epoch e */
	uint64_t bag_epoch[3];
	struct smr_counters cnt;
#ifdef SMRB_DEMO_DELAY_SPINS
	unsigned long demo_pins;          /* make bench-ci-demo: pins since the thread began */
#endif
} SMR_ALIGNED;

struct ebr_domain {
	_Atomic uint64_t epoch SMR_ALIGNED; /* read on every pin: alone on its line */
	char pad_[SMR_CACHE_LINE - sizeof(uint64_t)];
	int max_threads;
	struct ebr_thread *threads;
	/* ebr-asym (ebr_asym.h): readers publish without a fence, so the scan
	 * of the announcements starts with membarrier(2).  Slow path only. */
	bool asym;
	struct smr_barrier_counters barriers; /* ebr-asym's membarriers (smr_common.h) */
};

#define SMR_PARAMS_ebr \
	{ "ebr_batch", "64", "retires between two attempts to advance the epoch", 1, 1 << 20 },

struct ebr_domain *ebr_domain_create(const struct smr_config *cfg, char *err, size_t errlen);
void ebr_domain_destroy(struct ebr_domain *d, struct smr_stats *out);
/* For the variants that embed an ebr_domain (ebr-asym, nebr): set up a zeroed
 * domain with this retire batch, and tear it down without freeing d itself. */
void ebr_domain_init(struct ebr_domain *d, const struct smr_config *cfg, unsigned batch, bool asym);
void ebr_domain_fini(struct ebr_domain *d, struct smr_stats *out);
struct ebr_thread *ebr_register(struct ebr_domain *d);
void ebr_unregister(struct ebr_thread *t);
void ebr_stats(struct ebr_domain *d, struct smr_stats *out);
/* Try to advance the global epoch, then free this thread's bags that are old enough. */
void ebr_collect(struct ebr_thread *t);
/* Free a bag whose slot is needed for a newer epoch (it is at least 3 behind). */
void ebr_bag_flush(struct ebr_thread *t, unsigned i);

static inline void ebr_begin(struct ebr_thread *t)
{
	uint64_t e = atomic_load_explicit(&t->d->epoch, memory_order_relaxed);
#ifdef SMRB_DEMO_DELAY_SPINS
	/* make bench-ci-demo's planted slowdown (smr_delay.h; adds 0) */
	if (__builtin_expect(++t->demo_pins % SMR_DEMO_DELAY_EVERY == 0, 0))
		e += smr_delay_spins(SMRB_DEMO_DELAY_SPINS);
#endif
	/*
	 * seq_cst exchange: the announcement must be visible before any load of a
	 * shared pointer that follows (store->load order), else a reclaimer could
	 * miss us and free what we are about to read.  A stale e only makes us
	 * hold the epoch back, which is safe.
	 */
	atomic_exchange_explicit(&t->local, (e << 1) | EBR_ACTIVE, memory_order_seq_cst);
}

static inline void ebr_end(struct ebr_thread *t)
{
	/* release: our reads of shared objects happen before a reclaimer sees us leave. */
	atomic_store_explicit(&t->local, 0, memory_order_release);
}

static inline void ebr_quiescent(struct ebr_thread *t) { (void)t; }

static inline void ebr_retire(struct ebr_thread *t, struct smr_node *n, smr_reclaim_fn dtor)
{
	/* acquire: the epoch read here comes after the unlink in this thread. */
	uint64_t e = atomic_load_explicit(&t->d->epoch, memory_order_acquire);
	unsigned i = (unsigned)(e % 3);
	if (t->bag_epoch[i] != e) {
		ebr_bag_flush(t, i);
		t->bag_epoch[i] = e;
	}
	n->smr_dtor = dtor;
	smr_list_push(&t->bag[i], n);
	smr_count_retired(&t->cnt);
	if (++t->since_collect >= t->batch)
		ebr_collect(t);
}

#endif

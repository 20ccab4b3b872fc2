/* SPDX-License-Identifier: MIT */
/*
 * ext_ck_hp.h - Concurrency Kit's ck_hp (0.7, Michael's hazard pointers) as a
 * reference back end.
 *
 *   protect    load the pointer, ck_hp_set_fence() (an xchg on TSO) into the
 *              slot, load again; repeat until the two loads agree.
 *   end        ck_hp_clear(): a plain store of NULL into each of the
 *              record's slots.
 *   retire     ck_hp_free(): push onto the record's pending stack (no RMW);
 *              at threshold pending objects ck_hp_reclaim(): copy every
 *              record's hazards, qsort them, bsearch each pending object.
 *              The threshold is hp's rule, R = hp_r0 + 2H (H: every hazard
 *              slot of the domain), so that it batches as hp does.
 *
 * The header: Concurrency Kit's ck_hp_hazard (24 bytes), as its users embed
 * it, and the destructor (8): a user's callback knows its type, ours is one
 * callback for every type.  Callbacks run inside ck_hp_free() or
 * ck_hp_reclaim() on the record's owner (or in destroy), which names its
 * thread in ext_ck_hp_reclaiming for the callback to count there.
 *
 * Records: ck_hp_unregister() drops the record's pending list, so before it
 * the list is stashed with our slot and re-retired by the slot's next owner
 * (or freed by destroy, when nothing is protected any more).  ck records come
 * from ck_hp_recycle() or, when none is free, from the domain's pool.
 *
 * Chains (smr_retire_chain): every node of the chain is retired as its own
 * ck_hp entry, all pointing at one small descriptor; when the last entry
 * clears the hazard scan, the chain's destructor runs on its head.  So a
 * reader that holds any node of the chain keeps the whole chain.
 */
#ifndef SMR_EXT_CK_HP_H
#define SMR_EXT_CK_HP_H

#include <ck_hp.h>
#include "ext_tsan.h"
#include <stddef.h>
#include <stdlib.h>

#define SMR_OWN_PROTECT
#define SMR_OWN_CHAIN

struct smr_node {
	ck_hp_hazard_t smr_hazard;      /* ck's pending entry: ck_hp_free() queues it */
	smr_reclaim_fn smr_dtor;        /* run by the callback; NULL: bare free */
};

struct ext_ck_hp_thread {
	struct smr_slot slot;
	struct ext_ck_hp_domain *d;
	ck_hp_record_t *rec;             /* the ck record in use while registered */
	ck_stack_entry_t *stash;         /* pending entries left by the slot's last owner */
	struct smr_counters cnt;
} SMR_ALIGNED;

struct ext_ck_hp_domain {
	ck_hp_t hp;
	int max_threads;
	int degree;                      /* hazard slots per thread */
	_Atomic int nrecs;               /* pool records handed out */
	ck_hp_record_t *recs;            /* pool of max_threads ck records */
	void **ptrs;                     /* their hazard slots, a cache line (or more) each */
	size_t ptr_stride;
	struct ext_ck_hp_thread *threads;
};

/* The thread whose ck record is reclaiming right now: the callback counts there. */
extern __thread struct ext_ck_hp_thread *ext_ck_hp_reclaiming;

#define SMR_PARAMS_ext_ck_hp \
	{ "hp_r0", "100", "reclaim threshold R = hp_r0 + 2H (H: all hazard slots), as hp", 0, 1L << 30 },

struct ext_ck_hp_domain *ext_ck_hp_domain_create(const struct smr_config *cfg, char *err, size_t errlen);
void ext_ck_hp_domain_destroy(struct ext_ck_hp_domain *d, struct smr_stats *out);
struct ext_ck_hp_thread *ext_ck_hp_register(struct ext_ck_hp_domain *d);
void ext_ck_hp_unregister(struct ext_ck_hp_thread *t);
void ext_ck_hp_stats(struct ext_ck_hp_domain *d, struct smr_stats *out);
#ifdef EXT_TSAN
extern char ext_ck_hp_tsan_gp;   /* ext_tsan.h: hazards dropped -> destructor callbacks */
#endif
void ext_ck_hp_retire_chain(struct ext_ck_hp_thread *t, struct smr_node *head, smr_reclaim_fn dtor,
			    smr_chain_next_fn next);

static inline void ext_ck_hp_begin(struct ext_ck_hp_thread *t) { (void)t; }

static inline void ext_ck_hp_end(struct ext_ck_hp_thread *t)
{
	EXT_TSAN_RELEASE(&ext_ck_hp_tsan_gp);
	ck_hp_clear(t->rec);
}

static inline void ext_ck_hp_quiescent(struct ext_ck_hp_thread *t) { (void)t; }

static inline void *ext_ck_hp_protect(struct ext_ck_hp_thread *t, int slot, void *_Atomic *src)
{
	void *p = atomic_load_explicit(src, memory_order_relaxed);
	EXT_TSAN_RELEASE(&ext_ck_hp_tsan_gp);   /* the slot's previous hazard is dropped */
	for (;;) {
		/* xchg: the hazard is visible before the validating load (store->load). */
		ck_hp_set_fence(t->rec, (unsigned)slot, smr_unmark(p));
		void *q = atomic_load_explicit(src, memory_order_acquire);
		if (__builtin_expect(q == p, 1))
			return p;
		p = q;
	}
}

static inline void ext_ck_hp_retire(struct ext_ck_hp_thread *t, struct smr_node *n, smr_reclaim_fn dtor)
{
	n->smr_dtor = dtor;
	smr_count_retired(&t->cnt);
	ext_ck_hp_reclaiming = t;
	ck_hp_free(t->rec, &n->smr_hazard, n, n);
}

#endif

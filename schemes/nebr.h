/* SPDX-License-Identifier: MIT */
/*
 * nebr.h - Hart et al.'s "new EBR" (NEBR, JPDC 2007): EBR whose critical
 * region spans many operations, so that the pin's locked exchange is paid
 * once per ops_per_cs operations instead of once per operation.
 *
 * Where the region opens and closes: the first begin() after a quiescent()
 * pins (ebr's pin: load + locked exchange); every later begin() sees the
 * thread already pinned and does nothing (one load of our own record and a
 * branch); end() does nothing; quiescent() unpins (a release store).  The
 * workloads call quiescent() after every ops_per_cs operations (this scheme's
 * quiescent interval).
 *
 * Why that is safe: smr.h's rules say a reference lasts at most until end(),
 * and quiescent() means "I hold no references now".  Staying pinned from one
 * begin() to the next quiescent() covers every reference the thread took in
 * between, so it only holds the epoch back longer than EBR would (the grace
 * period now waits for batches, not operations).  A thread that is registered
 * but between quiescent() and its next begin() is not pinned and holds
 * nothing back.
 *
 * Everything else is ebr's: the records, the bags, retire and collection.
 */
#ifndef SMR_NEBR_H
#define SMR_NEBR_H

#include "ebr.h"

#define SMR_OWN_QUIESCENT_INTERVAL

struct nebr_thread {
	struct ebr_thread e;     /* the records are ebr's: ebr.c allocates them */
};

struct nebr_domain {
	struct ebr_domain e;
	long ops_per_cs;
};

#define SMR_PARAMS_nebr \
	{ "ebr_batch", "64", "retires between two attempts to advance the epoch", 1, 1 << 20 }, \
	{ "ops_per_cs", "100", "operations per critical region (between two quiescent states)", 1, 1L << 30 },

struct nebr_domain *nebr_domain_create(const struct smr_config *cfg, char *err, size_t errlen);
void nebr_domain_destroy(struct nebr_domain *d, struct smr_stats *out);
struct nebr_thread *nebr_register(struct nebr_domain *d);
void nebr_unregister(struct nebr_thread *t);
void nebr_stats(struct nebr_domain *d, struct smr_stats *out);

static inline void nebr_begin(struct nebr_thread *t)
{
	/* relaxed: our own record, only we write it. */
	if (__builtin_expect(atomic_load_explicit(&t->e.local, memory_order_relaxed) != 0, 1))
		return;
	ebr_begin(&t->e);
}

static inline void nebr_end(struct nebr_thread *t) { (void)t; }

static inline void nebr_quiescent(struct nebr_thread *t)
{
	/* No reference survives this point: unpin (ebr_end's release store). */
	ebr_end(&t->e);
}

static inline long nebr_quiescent_interval(struct nebr_thread *t)
{
	return ((const struct nebr_domain *)t->e.d)->ops_per_cs;
}

static inline void nebr_retire(struct nebr_thread *t, struct smr_node *n, smr_reclaim_fn dtor)
{
	ebr_retire(&t->e, n, dtor);
}

#endif

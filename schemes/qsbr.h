/* SPDX-License-Identifier: MIT */
/*
 * qsbr.h - quiescent-state-based reclamation (McKenney & Slingwine; Hart et
 * al.; liburcu's QSBR flavour).
 *
 * Read side: begin, end and protect are nothing but the acquire load.  Every
 * qsbr_k operations (the workloads run their loops in batches of that length)
 * a thread announces "I hold no references": it copies the global
 * grace-period counter into its own record.
 *
 * Write side: retired objects collect in an open batch; once it holds
 * qsbr_batch objects it is sealed with a new grace-period number g (the
 * counter is bumped after the objects were unlinked) and queued.  A sealed
 * batch is freed once every online thread has announced g or later.  Sealing
 * is O(1): g goes into the batch's record in a per-thread ring, not into
 * every object, so an object is touched at retire and at free only (stamping
 * each one was a cache miss per object, 5% of a queue operation).  A thread
 * that stops announcing holds every batch back: that is QSBR's known weakness,
 * which the stalled-thread experiment shows.
 */
#ifndef SMR_QSBR_H
#define SMR_QSBR_H

#include <stdlib.h>

#include "smr_node_link.h"

#define SMR_OWN_QUIESCENT_INTERVAL

/* Announcement of a thread that is offline (unregistered): never holds anyone back. */
#define QSBR_OFFLINE UINT64_MAX

/* A sealed batch: freed once every online thread has announced gp. */
struct qsbr_batch {
	struct smr_list objs;
	uint64_t gp;
};

struct qsbr_thread {
	struct smr_slot slot;
	_Atomic uint64_t seen;           /* grace period at the last quiescent state */
	struct qsbr_domain *d;
	long k;                          /* operations per quiescent state */
	unsigned batch;
	struct smr_list open;            /* retired, not yet sealed */
	/* Sealed batches, oldest first: a ring of cap (a power of 2) records. */
	struct qsbr_batch *sealed;
	uint64_t sealed_first, sealed_end; /* ring positions [first, end) */
	uint64_t sealed_cap;
	struct smr_counters cnt;
} SMR_ALIGNED;

struct qsbr_domain {
	_Atomic uint64_t gp SMR_ALIGNED;  /* grace-period counter */
	char pad_[SMR_CACHE_LINE - sizeof(uint64_t)];
	int max_threads;
	struct qsbr_thread *threads;
};

#define SMR_PARAMS_qsbr \
	{ "qsbr_k", "100", "operations between two quiescent-state announcements", 1, 1L << 30 }, \
	{ "qsbr_batch", "64", "retired objects per grace period (batch seal)", 1, 1 << 20 },

struct qsbr_domain *qsbr_domain_create(const struct smr_config *cfg, char *err, size_t errlen);
void qsbr_domain_destroy(struct qsbr_domain *d, struct smr_stats *out);
struct qsbr_thread *qsbr_register(struct qsbr_domain *d);
void qsbr_unregister(struct qsbr_thread *t);
void qsbr_stats(struct qsbr_domain *d, struct smr_stats *out);
/* Seal the open batch and free every sealed batch whose grace period has passed. */
void qsbr_collect(struct qsbr_thread *t);

static inline void qsbr_begin(struct qsbr_thread *t) { (void)t; }
static inline void qsbr_end(struct qsbr_thread *t) { (void)t; }

static inline void qsbr_announce(struct qsbr_thread *t)
{
	/*
	 * acquire load: reads after this point happen after the unlinks that came
	 * before the counter reached this value.  release store: reads before this
	 * point happen before a reclaimer that sees the announcement frees.
	 */
	uint64_t g = atomic_load_explicit(&t->d->gp, memory_order_acquire);
	/*
	 * No grace period began since our last announcement: nothing new to
	 * say (liburcu's rcu_quiescent_state() skips the store too).  Safe: the
	 * objects of a batch sealed with g were unlinked before g was reached,
	 * and our reads since we announced g came after that.  Not storing keeps
	 * our record's line shared with the reclaimers that read it, instead of
	 * taking it back from them every qsbr_k operations.
	 */
	if (g != atomic_load_explicit(&t->seen, memory_order_relaxed))
		atomic_store_explicit(&t->seen, g, memory_order_release);
}

static inline void qsbr_quiescent(struct qsbr_thread *t)
{
	qsbr_announce(t);
}

/* Workloads run this many operations between two quiescent() calls. */
static inline long qsbr_quiescent_interval(struct qsbr_thread *t)
{
	return t->k;
}

static inline void qsbr_retire(struct qsbr_thread *t, struct smr_node *n, smr_reclaim_fn dtor)
{
	n->smr_dtor = dtor;
	smr_list_push(&t->open, n);
	smr_count_retired(&t->cnt);
	if (t->open.count >= t->batch)
		qsbr_collect(t);
}

#endif

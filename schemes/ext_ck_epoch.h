/* SPDX-License-Identifier: MIT */
/*
 * ext_ck_epoch.h - Concurrency Kit's ck_epoch (0.7) as a reference back end.
 *
 *   begin      ck_epoch_begin(record, NULL): if not nested, an xchg of the
 *              record's active flag (ck's store->load order on TSO), then a
 *              load of the global epoch and a store of it into the record.
 *   end        ck_epoch_end(record, NULL): compiler barrier, store active - 1.
 *   protect    a plain acquire load.
 *   retire     ck_epoch_call(): push onto the record's pending stack of the
 *              current epoch (4 buckets, single-producer push: no RMW); every
 *              ck_batch retires ck_epoch_poll(): an mfence, a scan of every
 *              record, a CAS on the epoch when all active records saw it, and
 *              the dispatch of the buckets that are two epochs old (or of
 *              every bucket when no record is active).
 *
 * The header: Concurrency Kit's ck_epoch_entry (16 bytes), as its users
 * embed it, and the destructor (8): a user's callback knows its type, ours is
 * one callback for every type.  A record dispatches only its own callbacks,
 * in its owner's poll or in destroy, which name the record in
 * ext_ck_epoch_dispatching for the callback to count there.
 *
 * A ck record stays registered with its slot for the domain's life: an
 * inactive record holds nothing back, and the next thread to claim the slot
 * inherits (and polls) its pending callbacks.  Destroy dispatches every
 * record's pending callbacks (ck_epoch_reclaim): no thread is reading then.
 */
#ifndef SMR_EXT_CK_EPOCH_H
#define SMR_EXT_CK_EPOCH_H

#include <ck_epoch.h>
#include "ext_tsan.h"
#include <stddef.h>
#include <stdlib.h>

struct smr_node {
	ck_epoch_entry_t smr_entry;     /* ck's entry: ck_epoch_call() queues it */
	smr_reclaim_fn smr_dtor;        /* run by the callback; NULL: bare free */
};

struct ext_ck_epoch_thread {
	struct smr_slot slot;
	bool ck_registered;              /* rec was registered with the domain's ck_epoch */
	unsigned since_poll, batch;
	struct ext_ck_epoch_domain *d;
	struct smr_counters cnt;
	ck_epoch_record_t rec;           /* cache-line aligned by ck */
} SMR_ALIGNED;

struct ext_ck_epoch_domain {
	ck_epoch_t epoch SMR_ALIGNED;    /* read by every begin: own line */
	char pad_[SMR_CACHE_LINE - sizeof(ck_epoch_t) % SMR_CACHE_LINE];
	int max_threads;
	struct ext_ck_epoch_thread *threads;
};

#define SMR_PARAMS_ext_ck_epoch \
	{ "ck_batch", "64", "retires between two ck_epoch_poll() calls", 1, 1 << 20 },

struct ext_ck_epoch_domain *ext_ck_epoch_domain_create(const struct smr_config *cfg, char *err, size_t errlen);
void ext_ck_epoch_domain_destroy(struct ext_ck_epoch_domain *d, struct smr_stats *out);
struct ext_ck_epoch_thread *ext_ck_epoch_register(struct ext_ck_epoch_domain *d);
void ext_ck_epoch_unregister(struct ext_ck_epoch_thread *t);
void ext_ck_epoch_stats(struct ext_ck_epoch_domain *d, struct smr_stats *out);
/* The ck_epoch_call callback: destructor, free, count. */
void ext_ck_epoch_reclaim_cb(ck_epoch_entry_t *e);
void ext_ck_epoch_poll(struct ext_ck_epoch_thread *t);
#ifdef EXT_TSAN
extern char ext_ck_epoch_tsan_gp;   /* ext_tsan.h: sections ended -> callbacks */
#endif

static inline void ext_ck_epoch_begin(struct ext_ck_epoch_thread *t)
{
	ck_epoch_begin(&t->rec, NULL);
}

static inline void ext_ck_epoch_end(struct ext_ck_epoch_thread *t)
{
	/* Before the end: from there on a poll may dispatch and free. */
	EXT_TSAN_RELEASE(&ext_ck_epoch_tsan_gp);
	ck_epoch_end(&t->rec, NULL);
}

static inline void ext_ck_epoch_quiescent(struct ext_ck_epoch_thread *t) { (void)t; }

static inline void ext_ck_epoch_retire(struct ext_ck_epoch_thread *t, struct smr_node *n, smr_reclaim_fn dtor)
{
	n->smr_dtor = dtor;
	smr_count_retired(&t->cnt);
	ck_epoch_call(&t->rec, &n->smr_entry, ext_ck_epoch_reclaim_cb);
	if (++t->since_poll >= t->batch)
		ext_ck_epoch_poll(t);
}

#endif

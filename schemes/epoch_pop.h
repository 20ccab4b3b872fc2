/* SPDX-License-Identifier: MIT */
/*
 * epoch_pop.h - EpochPOP (Singh, Brown et al., "Publish on Ping: A Better
 * Way to Publish Reservations in Memory Reclamation for Concurrent Data
 * Structures", PPoPP 2025): epoch-based reclamation that falls back on
 * hazard pointers published on ping when a thread holds the epoch back.
 *
 * Read side: ebr's pin (load the epoch, publish it with a locked exchange:
 * the store->load fence EBR needs) and unpin (a release store).  protect
 * also stores the pointer it returns in a hazard slot of the thread's own,
 * with a plain store, and re-loads the source until the two agree (hp-pop's
 * protect): no fence, no store to a line a reclaimer reads.  The slots
 * linger until the thread's quiescent point, as hp-pop's do.  The authors'
 * artifact (pop_setbench, reclaimer_rcu_pophp.h) announces the epoch with
 * a release store and no fence, which x86 lets pass the reader's later
 * loads: a reclaimer could miss a reader that already holds an object.
 * We keep ebr's exchange; the local hazard store and its re-load are what
 * epoch-pop's get costs beyond ebr's.
 *
 * Write side: ebr's.  Retire puts the object in the thread's bag of the
 * current epoch; every epop_batch retires the thread tries to advance the
 * epoch and frees its bags two epochs old.  While every thread moves on,
 * that is all, and nobody is pinged.  When a thread's bags hold R =
 * epop_r0 + 2H objects (H: every hazard slot of the domain) - a thread
 * pinned for long, stalled or preempted, keeps the epoch where it is - the
 * thread pings every registered thread (smr_ping.h), and frees each object
 * of its bags that no published hazard names, whatever its epoch.  epop_r0
 * defaults to hp-pop's hpp_r0 (SMR_PING_R0_DEFAULT, smr_ping.h).
 *
 * Why it is safe.  An object freed by its epoch: ebr's argument (ebr.h):
 * retired in epoch e after it was unlinked, freed once the epoch reached
 * e + 2, which needs every pinned thread to have been seen in e + 1, after
 * the unlink.  An object freed by the fallback: hazard pointers' argument,
 * with the ping as the publication (smr_ping.h): a reader dereferences only
 * what it protected, protect stores the hazard before it validates, and
 * after the round every such hazard is in the published slots the scan
 * reads.  Each rule decides alone about the objects it frees; an object
 * sits in one bag and is freed once.
 *
 * Robust: after a fallback scan a thread keeps at most H of its retired
 * objects (one per hazard), so its backlog stays under R whatever a stalled
 * thread does, as hp's does.  Retired chains (SMR_OWN_CHAIN: a Bw-tree
 * page's delta chain) go to the bags' chain lists: the epoch frees a chain
 * whole, the fallback keeps it while any of its objects is published.
 */
#ifndef SMR_EPOCH_POP_H
#define SMR_EPOCH_POP_H

#include <stdlib.h>

#include "smr_node_link.h"
#include "smr_ping.h"

#define SMR_OWN_PROTECT
#define SMR_OWN_CHAIN
#define SMR_PROTECT_HOOKED

/* t->local: (epoch << 1) | 1 while pinned, 0 while not (ebr's). */
#define EPOCH_POP_ACTIVE 1u

struct epoch_pop_thread {
	struct smr_slot slot;
	_Atomic uint64_t local;           /* the epoch announcement: read by reclaimers */
	void *_Atomic *hp;                /* this thread's k local hazard slots */
	int k;
	bool scanning;                    /* a destructor run by collect may retire: no nested collect */
	unsigned since_collect;
	uint64_t pending;                 /* objects and chains in the bags */
	struct epoch_pop_domain *d;
	struct smr_list bag[3];           /* bag[e % 3]: objects retired in epoch e */
	struct smr_list chains[3];        /* chain heads retired in epoch e, walked with chain_next */
	uint64_t bag_epoch[3];
	smr_chain_next_fn chain_next;
	void **snap;                      /* fallback scratch: every published hazard */
	uint64_t *want;                   /* a ping round's scratch */
	struct smr_ping_member ping;      /* hp -> the published row */
	struct smr_counters cnt;
} SMR_ALIGNED;

struct epoch_pop_domain {
	_Atomic uint64_t epoch SMR_ALIGNED; /* read on every pin: alone on its line */
	char pad_[SMR_CACHE_LINE - sizeof(uint64_t)];
	int max_threads;
	int k;                            /* hazard slots per thread */
	size_t stride;                    /* slots per row: k rounded up to a cache line */
	unsigned batch;                   /* retires between two attempts to advance the epoch */
	uint64_t threshold;               /* R: the fallback scans once a thread's bags hold this many */
	void *_Atomic *locals;            /* the threads' local slots, a row each */
	void *_Atomic *published;         /* what their handlers copied, a row each */
	struct epoch_pop_thread *threads;
	struct smr_ping_counters pings;
};

#define SMR_PARAMS_epoch_pop \
	{ "epop_batch", "64", "retires between two attempts to advance the epoch", 1, 1 << 20 }, \
	{ "epop_r0", SMR_PING_R0_DEFAULT, "bags threshold R = epop_r0 + 2H (H: all hazard slots): beyond it, ping and free what no hazard holds", \
	  0, 1L << 30 },

struct epoch_pop_domain *epoch_pop_domain_create(const struct smr_config *cfg, char *err, size_t errlen);
void epoch_pop_domain_destroy(struct epoch_pop_domain *d, struct smr_stats *out);
struct epoch_pop_thread *epoch_pop_register(struct epoch_pop_domain *d);
void epoch_pop_unregister(struct epoch_pop_thread *t);
void epoch_pop_stats(struct epoch_pop_domain *d, struct smr_stats *out);
/* Try to advance the epoch, free the bags old enough; past R, ping and free what no hazard holds. */
void epoch_pop_collect(struct epoch_pop_thread *t);
/* Free bag i, whose slot is needed for a newer epoch (it is at least 3 behind). */
void epoch_pop_bag_flush(struct epoch_pop_thread *t, unsigned i);

static inline void epoch_pop_begin(struct epoch_pop_thread *t)
{
	uint64_t e = atomic_load_explicit(&t->d->epoch, memory_order_relaxed);
	/* seq_cst exchange, as ebr_begin: the announcement before any load of a shared pointer. */
	atomic_exchange_explicit(&t->local, (e << 1) | EPOCH_POP_ACTIVE, memory_order_seq_cst);
}

static inline void epoch_pop_end(struct epoch_pop_thread *t)
{
	/* release: our reads of shared objects happen before a reclaimer sees us leave. */
	atomic_store_explicit(&t->local, 0, memory_order_release);
}

/* The hazard slots linger until here: at most k objects a little later, none too early. */
static inline void epoch_pop_quiescent(struct epoch_pop_thread *t)
{
	void *_Atomic *hp = t->hp;
	for (int i = 0, k = t->k; i < k; i++)
		atomic_store_explicit(&hp[i], NULL, memory_order_relaxed);
}

static inline __attribute__((always_inline)) void *epoch_pop_protect(struct epoch_pop_thread *t, int slot,
								       void *_Atomic *src)
{
	void *_Atomic *h = &t->hp[slot];
	/* relaxed: only a candidate; the validating load below is the one that counts. */
	void *p = atomic_load_explicit(src, memory_order_relaxed);
	for (;;) {
		SMR_TEST_HOOK(SMR_HOOK_PROTECT_LOADED); /* test builds: p loaded, not yet in the slot */
		/* hp-pop's publication (hp_impl.h, smr_ping.h): a plain store to our
		 * own slot, kept before the re-load by a signal fence. */
		atomic_store_explicit(h, p, memory_order_relaxed);
		atomic_signal_fence(memory_order_seq_cst);
		/* acquire: the object's contents, published with the link, are visible. */
		void *q = atomic_load_explicit(src, memory_order_acquire);
		if (__builtin_expect(q == p, 1))
			return p;
		p = q;
	}
}

/* After a push onto a bag: count it, collect every batch or once the bags hold R. */
static inline void epoch_pop_retired_(struct epoch_pop_thread *t)
{
	smr_count_retired(&t->cnt);
	t->pending++;
	if (__builtin_expect(++t->since_collect >= t->d->batch || t->pending >= t->d->threshold, 0) &&
	    !t->scanning)
		epoch_pop_collect(t);
}

/* The bag index of the current epoch; a bag still holding an older epoch is freed first. */
static inline unsigned epoch_pop_bag_(struct epoch_pop_thread *t)
{
	/* acquire: the epoch read here comes after the unlink in this thread. */
	uint64_t e = atomic_load_explicit(&t->d->epoch, memory_order_acquire);
	unsigned i = (unsigned)(e % 3);
	if (t->bag_epoch[i] != e) {
		t->bag_epoch[i] = e;
		epoch_pop_bag_flush(t, i);
	}
	return i;
}

static inline void epoch_pop_retire(struct epoch_pop_thread *t, struct smr_node *n, smr_reclaim_fn dtor)
{
	n->smr_dtor = dtor;
	smr_list_push(&t->bag[epoch_pop_bag_(t)], n);
	epoch_pop_retired_(t);
}

static inline void epoch_pop_retire_chain(struct epoch_pop_thread *t, struct smr_node *head, smr_reclaim_fn dtor,
					  smr_chain_next_fn next)
{
#ifdef SMR_PLANT_EARLY_FREE
	/* The planted bug (smr.h) applies to chains too: free the whole chain now. */
	(void)t;
	(void)next;
	smr_node_reclaim(head, dtor);
#else
	head->smr_dtor = dtor;
	t->chain_next = next;
	smr_list_push(&t->chains[epoch_pop_bag_(t)], head);
	epoch_pop_retired_(t);
#endif
}

#endif

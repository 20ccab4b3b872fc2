/* SPDX-License-Identifier: MIT */
/*
 * hp_impl.h - Michael's hazard pointers (IEEE TPDS 2004; Hart et al.'s
 * "HPBR"), written once and instantiated twice:
 *
 *   hp.h       HP_ASYM 0: protect publishes with a locked exchange (the
 *              store->load fence every protect needs: machine.json's
 *              calibration has its cost, xchg_ns).
 *   hp_asym.h  HP_ASYM 1: protect publishes with a plain store and a compiler
 *              barrier; the reclaimer makes up for it with one
 *              membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) per scan, which
 *              forces a full barrier on every CPU running one of our threads
 *              (folly's hazptr, liburcu's memb flavour).
 *   hp_pop.h   HP_POP 1: protect stores the hazard in a slot of the thread's
 *              own, with a plain store; the reclaimer pings every thread
 *              before a scan and each publishes its slots from a signal
 *              handler (smr_ping.h).
 *
 * The including header defines HP_(x) (the scheme's name prefix: hp_##x or
 * hp_asym_##x) and HP_ASYM, then includes this file; hp_impl_slow.h holds
 * the slow paths the same way.  A translation unit includes one instance.
 * HP_POP is 0 unless the header defines it.
 *
 * Read side: K hazard slots per thread (cfg->hazard_slots).  protect(slot,
 * src) loads *src, publishes it in the slot (mark bits and all: scan strips
 * them, which keeps a mask off the reader's path) and re-loads *src until the
 * two loads agree; end() clears the slots.  hp-asym and hp-pop clear them at
 * the thread's quiescent points instead, once per batch of operations: a slot
 * keeps the last object it protected, at most K objects per thread, until the
 * next protect overwrites it or the batch ends.  That is a bounded delay of
 * reclamation, never a premature free, and it takes the per-operation
 * clearing (about a third of hp-asym's cost over none on a lazy get: 2.35x
 * none with it, 1.48x without, -d1 -r5) off the read path.
 *
 * Write side: retire pushes onto a per-thread list; once it holds R objects
 * (R = r0 + 2H, H = every slot of every thread, Hart et al.'s 100 + 2H when
 * r0 = 100) the thread scans (hp-pop: after a round of pings, which fills
 * the slots it reads): it snapshots every slot into a sorted array and
 * frees each retired object whose address is not in it.  At most H objects
 * survive a scan (one per hazard), so a scan frees at least R - H >= H + r0
 * objects, and a thread's list never holds more than R: unreclaimed objects
 * are bounded by R per thread, whatever the other threads do (tests/
 * hp_bound.sh checks it; a destructor that itself retires, during a scan,
 * can push a list past R until the next retire scans it).
 *
 * Chains (SMR_OWN_CHAIN, a Bw-tree page's delta chain): a retired chain is
 * one entry of a second list, kept while ANY of its objects is in the
 * snapshot: a reader may hold an object deep inside it.  Its heads carry the
 * 16-byte header like any object; the walk (next()) is the thread's, since
 * one domain's chains all have the shape of its one workload.
 */

#if !defined(HP_) || !defined(HP_ASYM)
#error "define HP_ and HP_ASYM before including hp_impl.h (see hp.h)"
#endif
#ifndef HP_POP
#define HP_POP 0
#endif

#include <stdlib.h>

#include "smr_node_link.h"
#if HP_POP
#include "smr_ping.h"
#endif

#define SMR_OWN_PROTECT
#define SMR_OWN_CHAIN
#define SMR_PROTECT_HOOKED

struct HP_(thread) {
	struct smr_slot slot;
	void *_Atomic *hp;            /* this thread's k slots, on line(s) of their own
	                                 (hp-pop: its local slots; the ping publishes them) */
	int k;
	bool scanning;                /* a destructor run by scan() may retire: no nested scan */
	struct HP_(domain) *d;
	uint64_t threshold;           /* R: scan once the list holds this many */
	struct smr_list retired;      /* single objects */
	struct smr_list chains;       /* chain heads, walked with chain_next */
	smr_chain_next_fn chain_next;
	void **snap;                  /* scan scratch: room for every slot of every thread */
	struct smr_counters cnt;
#if HP_POP
	struct smr_ping_member ping;  /* local slots (hp) -> the published row in hazards */
	uint64_t *want;               /* a ping round's scratch */
#endif
} SMR_ALIGNED;

struct HP_(domain) {
	int max_threads;
	int k;                        /* slots per thread */
	size_t stride;                /* slots per row: k rounded up to a cache line */
	void *_Atomic *hazards;       /* max_threads rows of stride slots */
	struct HP_(thread) *threads;
	struct smr_barrier_counters barriers; /* hp-asym's membarriers, hp-pop's ping rounds (smr_common.h) */
#if HP_POP
	void *_Atomic *locals;        /* hp-pop: the threads' local slots, laid out as hazards */
	struct smr_ping_counters pings;
#endif
};

#if HP_ASYM || HP_POP
#define SMR_OWN_BARRIER_STATS
static inline void HP_(barrier_stats)(struct HP_(domain) *d, struct smr_barrier_stats *out)
{
	smr_barrier_read(&d->barriers, out);
}
#endif

struct HP_(domain) *HP_(domain_create)(const struct smr_config *cfg, char *err, size_t errlen);
void HP_(domain_destroy)(struct HP_(domain) *d, struct smr_stats *out);
struct HP_(thread) *HP_(register)(struct HP_(domain) *d);
void HP_(unregister)(struct HP_(thread) *t);
void HP_(stats)(struct HP_(domain) *d, struct smr_stats *out);
/* Snapshot every hazard and free this thread's retired objects that no slot holds. */
void HP_(scan)(struct HP_(thread) *t);

static inline void HP_(begin)(struct HP_(thread) *t) { (void)t; }

static inline __attribute__((always_inline)) void HP_(clear_)(struct HP_(thread) *t)
{
	/* release: every read of the protected objects happens before a
	 * reclaimer that sees the slot empty frees them. */
	void *_Atomic *hp = t->hp;
	for (int i = 0, k = t->k; i < k; i++)
		atomic_store_explicit(&hp[i], NULL, memory_order_release);
}

/* hp-asym, hp-pop: the slots linger until here (see the top of this file). */
static inline void HP_(quiescent)(struct HP_(thread) *t)
{
	if (HP_ASYM || HP_POP)
		HP_(clear_)(t);
}

static inline __attribute__((always_inline)) void *HP_(protect)(struct HP_(thread) *t, int slot, void *_Atomic *src)
{
	void *_Atomic *h = &t->hp[slot];
	/* relaxed: only a candidate; the validating load below is the one that counts. */
	void *p = atomic_load_explicit(src, memory_order_relaxed);
	for (;;) {
		SMR_TEST_HOOK(SMR_HOOK_PROTECT_LOADED); /* test builds: p loaded, not yet published */
#if HP_POP
		/*
		 * A plain store to this thread's own slot: nobody else reads it.
		 * A reclaimer pings us before its scan and our handler copies the
		 * slot (smr_ping.h says why that is enough).  The signal fence
		 * keeps the compiler from moving the store below the re-load: a
		 * handler that runs between them must see the slot set.
		 */
		atomic_store_explicit(h, p, memory_order_relaxed);
		atomic_signal_fence(memory_order_seq_cst);
		/* acquire: the object's contents, published with the link, are visible. */
		void *q = atomic_load_explicit(src, memory_order_acquire);
#elif HP_ASYM
		/*
		 * Plain store plus a compiler barrier: the CPU may still order the
		 * load below before this store becomes visible, but a reclaimer
		 * runs membarrier() before reading the slots, which drains our
		 * store buffer (a full barrier here, at that moment) first.
		 */
		atomic_store_explicit(h, p, memory_order_release);
		atomic_signal_fence(memory_order_seq_cst);
		/* acquire: the object's contents, published with the link, are visible. */
		void *q = atomic_load_explicit(src, memory_order_acquire);
#else
		/*
		 * seq_cst exchange (xchg, one locked instruction): the hazard must
		 * be visible before we re-read src (store->load order), else a
		 * reclaimer that unlinked the object could miss our hazard and
		 * free it.  A locked RMW is several times cheaper than an mfence
		 * on x86 (xchg_ns, mfence_ns in machine.json).
		 */
		atomic_exchange_explicit(h, p, memory_order_seq_cst);
		/*
		 * seq_cst load (a plain mov on x86): with the exchange above and
		 * the reclaimer's seq_cst fence between its unlink and its slot
		 * reads, C11 forbids both sides missing each other.  It is an
		 * acquire too: the object's contents are visible.
		 */
		void *q = atomic_load_explicit(src, memory_order_seq_cst);
#endif
		/* Raw compare, mark bits included: the caller acts on the mark. */
		if (__builtin_expect(q == p, 1))
			return p;
		p = q;
	}
}

static inline __attribute__((always_inline)) void HP_(end)(struct HP_(thread) *t)
{
	if (!HP_ASYM && !HP_POP)
		HP_(clear_)(t);
}

/* After a push onto either list: count it, scan once the lists hold R. */
static inline void HP_(retired_)(struct HP_(thread) *t)
{
	smr_count_retired(&t->cnt);
	if (__builtin_expect(t->retired.count + t->chains.count >= t->threshold, 0) && !t->scanning)
		HP_(scan)(t);
}

static inline void HP_(retire)(struct HP_(thread) *t, struct smr_node *n, smr_reclaim_fn dtor)
{
	n->smr_dtor = dtor;
	smr_list_push(&t->retired, n);
	HP_(retired_)(t);
}

static inline void HP_(retire_chain)(struct HP_(thread) *t, struct smr_node *head, smr_reclaim_fn dtor,
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
	smr_list_push(&t->chains, head);
	HP_(retired_)(t);
#endif
}

/* SPDX-License-Identifier: MIT */
/*
 * hyaline.h - Hyaline-1S (Nikolaev & Ravindran, "Snapshot-Free, Transparent,
 * and Robust Memory Reclamation for Lock-Free Data Structures", PLDI 2021):
 * reference-counted batches of retired objects, handed to the threads that
 * may hold them, with birth eras so that a stalled thread holds back only
 * objects born before it stalled (robust).  "1": one slot per thread, so a
 * slot's head is a plain list pointer with an active bit, no count beside it.
 *
 * Per thread (slot): head = a list of batch nodes handed to this thread, bit 0
 * set while the thread is active; access = the era it last published.  A
 * global era clock; every object is stamped with its birth era at allocation,
 * and every era_freq allocations of a thread the clock moves on.
 *
 * Retire puts the object on the thread's open batch.  Once the batch holds
 * hyaline_batch objects (at least max_threads + 1), it is sealed: for every
 * slot that is active and whose access era is >= the batch's oldest birth,
 * one node of the batch is pushed onto that slot's list (CAS on the head),
 * and the batch's count (kept in its first-retired node, which is never
 * pushed) gets the number of slots it went to.  A thread that finds a batch
 * node in its list drops one reference when it is done with it; whoever
 * drops the last one frees the whole batch.  The count starts at 0 and goes
 * negative while the threads drop before the retirer has added, so it
 * reaches 0 exactly once.
 *
 * Why it is safe.  A reader R can hold object n of batch B only if it loaded
 * n's link through protect() while active.  (1) R's enter made its slot
 * active with a seq_cst exchange before that load, and the retirer reads R's
 * head after unlinking n: so it sees R active (this session, or a later one,
 * which only keeps B longer).  (2) protect() returns n only once the era R
 * published (seq_cst exchange, before its load of the link) equals the clock
 * read after loading the link, and the clock read then is >= n's birth (n
 * was stamped before it was linked), so R's access >= birth(n) >= B's
 * oldest birth, and the retirer, which reads access after the unlink, sees
 * that era or a later, larger one.  So B goes to R's list, and R drops its
 * reference only after it holds nothing of B.  An object must be retired
 * after its unlink, as for every scheme.
 *
 * Why it is robust.  A stalled thread whose published era is A receives only
 * batches that contain an object born in an era <= A: those already
 * allocated when it stalled.  Batches of objects born later skip its slot
 * and are freed by the others.  (Without eras, Hyaline-1 hands every batch to
 * every active thread: one stalled reader holds back everything.)
 *
 * Read side.  As in the authors' benchmark ("TR": enter once, trim after
 * every operation), a thread enters when it registers (one exchange) and
 * stays active until it unregisters, so begin is empty.  Active with the
 * era of a fresh record, 0, a thread receives no batch until its protect
 * publishes an era.  protect = a load of the link and of the clock, and a
 * locked exchange of the access era only when the clock moved since the
 * thread last published.  end = one load of the own slot's head; only when
 * batches arrived, the head is exchanged for an empty active one (a leave
 * and an enter in one exchange) and every batch taken drops a reference.
 * The authors' trim walks without the exchange but must keep the newest
 * batch (its address is the "nothing new" mark), one more batch held per
 * thread; one exchange per batch received costs little beside the batch's
 * 64 retires.  unregister leaves: the head is exchanged for 0, the list is
 * released.
 *
 * Chains (smr_retire_chain): as he.h, a retired chain's birth is the oldest
 * of its nodes' (a reader holding any node published an era >= that).
 *
 * The object header: the slot-list link, the batch link, the batch chain (in
 * the count node: the count), the birth era (in the count node once sealed:
 * the retiring thread, whose counters the batch's reclaims go to) and the
 * destructor.  40 bytes.
 */
#ifndef SMR_HYALINE_H
#define SMR_HYALINE_H

#include <stdlib.h>

struct hyaline_thread;

struct smr_node {
	struct smr_node *smr_next;              /* the slot list this node was pushed on */
	/* The count node: the batch's newest node (where the batch chain starts); others: the count node. */
	struct smr_node *smr_batch;
	union {
		struct smr_node *smr_batch_next; /* the next older node of the batch */
		_Atomic int64_t smr_refs;        /* the count node (the oldest): references left */
	};
	union {
		uint64_t smr_birth;              /* the era at allocation; read until the batch is sealed */
		struct hyaline_thread *smr_owner; /* the count node, once sealed: the retiring thread */
	};
	smr_reclaim_fn smr_dtor;                /* set by retire; NULL: bare free */
};

#define SMR_OWN_PROTECT
#define SMR_OWN_ALLOC
#define SMR_OWN_CHAIN
#define SMR_OWN_CARVE
#define SMR_PROTECT_HOOKED

/* Bit 0 of a slot's head: the thread is active (it may hold references). */
#define HYALINE_ACTIVE ((uintptr_t)1)

struct hyaline_thread {
	struct smr_slot slot;
	struct hyaline_domain *d;
	uint64_t access_seen;            /* the era this thread last published (its own copy) */
	/* The open batch: newest node, count node (the oldest), size, oldest birth. */
	struct smr_node *open_first, *open_refs;
	unsigned open_count, batch;
	uint64_t open_min;
	unsigned allocs, era_freq;
	struct smr_counters cnt;         /* reclaimed: added to by whichever thread frees a batch */
	/* Read and CASed by retirers: on a line of their own. */
	_Atomic uintptr_t head SMR_ALIGNED;
	_Atomic uint64_t access;
} SMR_ALIGNED;

struct hyaline_domain {
	_Atomic uint64_t clock SMR_ALIGNED;  /* read on every protect: alone on its line */
	char pad_[SMR_CACHE_LINE - sizeof(uint64_t)];
	int max_threads;
	struct hyaline_thread *threads;
};

#define SMR_PARAMS_hyaline \
	{ "hyaline_batch", "64", "retires per batch (at least max_threads + 1 are used)", 1, 1 << 20 }, \
	{ "era_freq", "64", "allocations of a thread between two advances of the era clock", 1, 1 << 20 },

struct hyaline_domain *hyaline_domain_create(const struct smr_config *cfg, char *err, size_t errlen);
void hyaline_domain_destroy(struct hyaline_domain *d, struct smr_stats *out);
struct hyaline_thread *hyaline_register(struct hyaline_domain *d);
void hyaline_unregister(struct hyaline_thread *t);
void hyaline_stats(struct hyaline_domain *d, struct smr_stats *out);
/* Slow paths: release the batches handed to t (it holds nothing); seal the open batch. */
void hyaline_trim(struct hyaline_thread *t);
void hyaline_seal(struct hyaline_thread *t);
void hyaline_retire_chain(struct hyaline_thread *t, struct smr_node *head, smr_reclaim_fn dtor,
			  smr_chain_next_fn next);

static inline void hyaline_begin(struct hyaline_thread *t) { (void)t; }

static inline void hyaline_end(struct hyaline_thread *t)
{
	/* relaxed: only a hint; trim's exchange orders the walk. */
	if (__builtin_expect(atomic_load_explicit(&t->head, memory_order_relaxed) != HYALINE_ACTIVE, 0))
		hyaline_trim(t);
}

static inline void hyaline_quiescent(struct hyaline_thread *t) { (void)t; }

static inline void *hyaline_protect(struct hyaline_thread *t, int slot, void *_Atomic *src)
{
	(void)slot;
	uint64_t access = t->access_seen;
	for (;;) {
		void *p = atomic_load_explicit(src, memory_order_acquire);
		/* acquire: pairs with the link that published p; the era read after p is >= its birth. */
		uint64_t e = atomic_load_explicit(&t->d->clock, memory_order_acquire);
		if (__builtin_expect(e == access, 1))
			return p;
		SMR_TEST_HOOK(SMR_HOOK_PROTECT_LOADED); /* test builds: p and e loaded, e not yet published */
		/* seq_cst exchange: the era is visible before we load the link again (store->load). */
		atomic_exchange_explicit(&t->access, e, memory_order_seq_cst);
		t->access_seen = access = e;
	}
}

static inline void *hyaline_alloc(struct hyaline_thread *t, size_t size)
{
	struct smr_node *n = smr_node_alloc(size);
	/* acquire: a reader that finds n reads the clock after this, so birth <= the era it publishes. */
	if (__builtin_expect(++t->allocs >= t->era_freq, 0)) {
		t->allocs = 0;
		n->smr_birth = atomic_fetch_add_explicit(&t->d->clock, 1, memory_order_acq_rel) + 1;
	} else {
		n->smr_birth = atomic_load_explicit(&t->d->clock, memory_order_acquire);
	}
	return n;
}

/* A slot of block's allocation (smr.h, smr_carved) is as old as the block. */
static inline void hyaline_carved(struct smr_node *n, const struct smr_node *block)
{
	n->smr_birth = block->smr_birth;
}

static inline void hyaline_dealloc(struct hyaline_thread *t, struct smr_node *n)
{
	(void)t;
	smr_node_free(n);
}

static inline void hyaline_reclaim_now(struct hyaline_thread *t, struct smr_node *n, smr_reclaim_fn dtor)
{
	(void)t;
	smr_node_reclaim(n, dtor);
}

static inline void hyaline_retire(struct hyaline_thread *t, struct smr_node *n, smr_reclaim_fn dtor)
{
	n->smr_dtor = dtor;
	if (!t->open_first) {
		/* The oldest node of a batch keeps its count (set at seal): it is never pushed on a list. */
		t->open_refs = n;
		t->open_min = n->smr_birth;
	} else {
		if (n->smr_birth < t->open_min)
			t->open_min = n->smr_birth;
		n->smr_batch = t->open_refs;
		n->smr_batch_next = t->open_first;
	}
	t->open_first = n;
	smr_count_retired(&t->cnt);
	if (++t->open_count >= t->batch)
		hyaline_seal(t);
}

#endif

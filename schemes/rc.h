/* SPDX-License-Identifier: MIT */
/*
 * rc.h - lock-free reference counting (Valois, PODC 1995, with Michael &
 * Scott's correction, TR 599, 1995), as Hart et al. measured it ("LFRC").
 *
 * THE HEADER (struct smr_node, 24 bytes): the count word, a link (the work
 * list of claimed objects, then the pool's free list) and the destructor.
 *
 * THE COUNT WORD (smr_node.smr_refs, one int64 per object)
 *
 *     bits 2..63  count: links that point here (rc_store/cas/exchange keep
 *                 them) + protection slots that hold it + protects that are
 *                 in flight (incremented, not yet validated)
 *     bit 1       RETIRED: the workload retired the object (it is unlinked)
 *     bit 0       CLAIMED: one thread won the right to free it, or it is in
 *                 the pool (free memory)
 *
 * The word is only ever changed by atomic read-modify-writes, never stored
 * as a whole.  That is Michael & Scott's point: Valois's allocator set the
 * count of a recycled node to 1 with a plain store, which wiped out the
 * increment of a reader that had read a stale pointer to the node just before
 * and was about to validate it; its matching decrement later freed a live
 * node.  Here allocation clears the two flags with a fetch_and and leaves
 * the count alone, so every increment is matched by exactly one decrement
 * whatever incarnation of the node it lands in.
 *
 * LIFE OF AN OBJECT
 *   alloc     pop from the pool; fetch_and(~3): flags off, count = the
 *             in-flight protects of stale readers (they will undo them).
 *   link      rc_store/rc_cas/rc_exchange add one for the new target before
 *             publishing it and take one off the target they replaced.
 *   protect   fetch_add(+1) on the target, then re-read the source: if it
 *             changed, undo (fetch_sub) and retry.  The slot remembers the
 *             object; protecting the slot again, or end(), releases it.
 *   retire    fetch_add(RETIRED).
 *   free      whoever turns the word into exactly RETIRED (count 0, retired,
 *             unclaimed) with its decrement or its retire tries one CAS to
 *             RETIRED|CLAIMED; the one that wins runs the destructor (which
 *             releases the object's own links with smr_drop_link(): their
 *             targets may be freed in turn, through a per-thread work list,
 *             never by recursion) and puts the memory back into the pool.
 *
 * WHY IT IS SAFE
 *  - Freed memory stays an RC node of the same size class until the domain
 *    is destroyed (type-stable pool, SMR_OWN_ALLOC): a reader that loaded a
 *    pointer just before the object was freed may still increment and
 *    decrement its count word, and that is harmless: the word of a free
 *    node has CLAIMED set, so no decrement can claim it a second time, and
 *    the flags are cleared by an RMW that keeps the stray increment counted.
 *  - A reader that validated (it incremented, then re-read the source and
 *    found the same value) keeps the object alive.  The unlinker drops the
 *    link's count after its unlink; had that decrement come before the
 *    reader's increment on the count word, the (acq_rel) increment would
 *    synchronise with it and the re-read would see the unlink.  So the
 *    link's count was still there when the reader's arrived, and the count
 *    cannot reach zero until the reader releases.  (If the same object was
 *    linked there again, ABA, the new link holds a count: still safe.)
 *  - An object is freed only when RETIRED is set too, so one the workload
 *    took out with smr_exchange (count 0, not retired) stays valid for its
 *    owner until it retires it.
 *
 * Two rules the workloads keep for RC (list.c, bwtree.c do): a fresh
 * object's links are set with smr_store too (they hold counts like any
 * other), and an object handed to smr_dealloc() has its links reset to NULL
 * first (smr_store NULL): dealloc cannot know the layout, so a link left set
 * would leak a count on its target.  SMRBENCH_RC_DEBUG=1 reports, at domain
 * destroy, retired objects still counted (leaked counts, cycles) and objects
 * never retired (their memory goes with the pool's, where LSan cannot see).
 *
 * The pool: one free list per size class per thread, spilling to and
 * refilling from a per-domain list in batches of RC_BATCH under a mutex (the
 * only lock, once per RC_BATCH allocations; reads and link updates are
 * lock-free).  Memory goes back to the OS only at domain destroy.  With
 * SMRBENCH_POISON=1 (or under ASan) freed objects are poisoned and never
 * reused, so a use after free reads poison instead of a new object.
 *
 * Counters: retired and reclaimed are exact per thread (reclaimed is counted
 * by the thread that frees, which is often not the one that retired).  The
 * unreclaimed peak is a domain-wide backlog that threads update in batches
 * of RC_PEAK_BATCH, so it is exact to within RC_PEAK_BATCH per thread.
 *
 * Per get on a read path: protect = one fetch_add, end = one fetch_sub: two
 * locked RMWs, on a line every reader of the same object shares.
 */
#ifndef SMR_RC_H
#define SMR_RC_H

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
/* Pooled objects are poisoned for ASan (all but the header, which stale
 * readers and the pool itself touch): a use after free is reported. */
#define RC_ASAN_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define RC_ASAN_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define RC_ASAN_POISON(p, n) ((void)(p), (void)(n))
#define RC_ASAN_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define SMR_OWN_PROTECT
#define SMR_OWN_ALLOC
#define SMR_OWN_LINKS
#define SMR_PROTECT_HOOKED

struct smr_node {
	_Atomic int64_t smr_refs;       /* the count word (above) */
	struct smr_node *smr_next;      /* work list, then pool free list */
	smr_reclaim_fn smr_dtor;        /* set by retire; NULL: bare free */
};

#define RC_CLAIMED ((int64_t)1)
#define RC_RETIRED ((int64_t)2)
#define RC_ONE ((int64_t)4)

/* Size classes (the pool's: 16-byte steps up to 256, then four per power of two), up to 64 MiB. */
#define RC_NCLASSES (16 + 4 * 18)
#define RC_MAX_SIZE ((size_t)1 << 26)
#define RC_BATCH 32           /* objects moved between a thread's cache and the domain's */
#define RC_PEAK_BATCH 16

struct rc_cache {
	struct smr_node *head;
	uint32_t count;
};

struct rc_thread {
	struct smr_slot slot;
	struct rc_domain *d;
	struct smr_node **held;       /* per slot: the object it holds a count on (unmarked), or NULL */
	int k;
	bool freeing;                 /* a free loop runs on this thread: defer to it */
	struct smr_node *work;        /* claimed objects waiting for their destructor */
	int64_t backlog_delta;        /* retires - frees not yet added to d->backlog */
	struct smr_counters cnt;
	struct rc_cache cache[RC_NCLASSES];
} SMR_ALIGNED;

struct rc_pool {
	pthread_mutex_t lock;
	struct smr_node *head;
	uint64_t count;
};

struct rc_domain {
	_Atomic int64_t backlog SMR_ALIGNED;
	_Atomic int64_t peak;
	int max_threads;
	int k;
	bool no_reuse;                /* poisoning or ASan: freed objects are never reused */
	struct rc_thread *threads;
	pthread_mutex_t chunk_lock;
	struct rc_chunk *chunks;
	struct rc_pool pool[RC_NCLASSES];
};

#define SMR_PARAMS_rc /* none */

struct rc_domain *rc_domain_create(const struct smr_config *cfg, char *err, size_t errlen);
void rc_domain_destroy(struct rc_domain *d, struct smr_stats *out);
struct rc_thread *rc_register(struct rc_domain *d);
void rc_unregister(struct rc_thread *t);
void rc_stats(struct rc_domain *d, struct smr_stats *out);
void rc_dealloc(struct rc_thread *t, struct smr_node *n);
void rc_reclaim_now(struct rc_thread *t, struct smr_node *n, smr_reclaim_fn dtor);
/* Slow paths of the inline functions below. */
struct smr_node *rc_refill(struct rc_thread *t, unsigned c);
void rc_bad_size(size_t size) __attribute__((noreturn, cold));
void rc_claim_free(struct rc_thread *t, struct smr_node *n);
void rc_backlog_flush(struct rc_thread *t);
void rc_drop_link_value(void *v);
void rc_drop_link_at(void *_Atomic *link);

/*
 * smr_drop_link(), called by destructors: takes the link's value (the
 * target, possibly marked) or the link's address (void *_Atomic *); the
 * address form also clears the link.
 */
#define rc_drop_link(link) \
	_Generic((link), void *_Atomic *: rc_drop_link_at, default: rc_drop_link_value)(link)

/* rc's size classes are the pool allocator's (smr_pool.h), up to RC_MAX_SIZE. */
_Static_assert(SMR_POOL_SMALL_MAX == 256, "RC_NCLASSES counts 16 small classes");
static inline unsigned rc_class(size_t size)
{
	return smr_pool_class(size);
}

static inline size_t rc_class_size(unsigned c)
{
	return smr_pool_class_size(c);
}

static inline void rc_begin(struct rc_thread *t) { (void)t; }
static inline void rc_quiescent(struct rc_thread *t) { (void)t; }

/* Add a reference (a link or a slot) to an object the caller already holds. */
static inline __attribute__((always_inline)) void rc_acquire_held_(struct smr_node *n)
{
	/* relaxed: the caller's own reference keeps n alive; whoever sees the
	 * new reference gets n through a release store of the link. */
	atomic_fetch_add_explicit(&n->smr_refs, RC_ONE, memory_order_relaxed);
}

/* Drop a reference; free the object if it was the last one and it is retired. */
static inline __attribute__((always_inline)) void rc_release(struct rc_thread *t, struct smr_node *n)
{
	/* release: our reads of n happen before its free; acquire: if we free it,
	 * everything the other holders did happens before. */
	int64_t old = atomic_fetch_sub_explicit(&n->smr_refs, RC_ONE, memory_order_acq_rel);
	if (__builtin_expect(old - RC_ONE == RC_RETIRED, 0))
		rc_claim_free(t, n);
}

static inline __attribute__((always_inline)) void *rc_protect(struct rc_thread *t, int slot, void *_Atomic *src)
{
	struct smr_node **h = &t->held[slot];
	for (;;) {
		/* acquire: the target's contents, published with the link, are visible. */
		void *p = atomic_load_explicit(src, memory_order_acquire);
		struct smr_node *q = smr_unmark(p);
		if (q == *h)
			return p; /* this slot already holds a count on it */
		if (q) {
			SMR_TEST_HOOK(SMR_HOOK_PROTECT_LOADED); /* test builds: q loaded, not yet counted */
			/*
			 * Count first, then validate.  acq_rel: if the unlinker's
			 * decrement came before this increment on the word, we
			 * synchronise with it and the re-read below sees the unlink;
			 * otherwise its decrement comes after ours and the count cannot
			 * reach zero while we hold it.  q may already be free memory:
			 * the pool is type-stable, so the increment only touches a
			 * count word, and the validation fails.
			 */
			atomic_fetch_add_explicit(&q->smr_refs, RC_ONE, memory_order_acq_rel);
			if (__builtin_expect(atomic_load_explicit(src, memory_order_acquire) != p, 0)) {
				rc_release(t, q);
				continue;
			}
		}
		struct smr_node *old = *h;
		*h = q;
		/* After taking the new one: src may lie inside the old object. */
		if (old)
			rc_release(t, old);
		return p;
	}
}

static inline __attribute__((always_inline)) void rc_end(struct rc_thread *t)
{
	struct smr_node **held = t->held;
	for (int i = 0, k = t->k; i < k; i++) {
		struct smr_node *n = held[i];
		if (n) {
			held[i] = NULL;
			rc_release(t, n);
		}
	}
}

static inline void rc_backlog_add_(struct rc_thread *t, int64_t v)
{
	t->backlog_delta += v;
	if (__builtin_expect(t->backlog_delta >= RC_PEAK_BATCH || t->backlog_delta <= -RC_PEAK_BATCH, 0))
		rc_backlog_flush(t);
}

static inline void rc_retire(struct rc_thread *t, struct smr_node *n, smr_reclaim_fn dtor)
{
	n->smr_dtor = dtor;
	smr_counters_add_(&t->cnt.retired, 1);
	rc_backlog_add_(t, 1);
	/* acq_rel: smr_dtor (written above) is visible to whoever frees n. */
	int64_t old = atomic_fetch_add_explicit(&n->smr_refs, RC_RETIRED, memory_order_acq_rel);
	if (old == 0)
		rc_claim_free(t, n);
}

static inline void *rc_alloc(struct rc_thread *t, size_t size)
{
	if (__builtin_expect(size > RC_MAX_SIZE || size < sizeof(struct smr_node), 0))
		rc_bad_size(size);
	unsigned c = rc_class(size);
	struct rc_cache *cc = &t->cache[c];
	struct smr_node *n = cc->head;
	if (__builtin_expect(n != NULL, 1)) {
		cc->head = n->smr_next;
		cc->count--;
	} else {
		n = rc_refill(t, c);
	}
	/*
	 * Michael & Scott: clear the flags with an RMW, never store the word: a
	 * reader with a stale pointer may be incrementing the count right now,
	 * and its decrement must find the increment still there.
	 */
	atomic_fetch_and_explicit(&n->smr_refs, ~(RC_CLAIMED | RC_RETIRED), memory_order_relaxed);
	RC_ASAN_UNPOISON(n + 1, size - sizeof *n);
	n->smr_next = NULL;
	n->smr_dtor = NULL;
	/* Zero the rest: links start NULL, so the first rc_store into one releases nothing. */
	memset(n + 1, 0, size - sizeof *n);
	return n;
}

static inline void rc_store(struct rc_thread *t, void *_Atomic *dst, void *v)
{
	struct smr_node *nv = smr_unmark(v);
	if (nv)
		rc_acquire_held_(nv);
	/* acq_rel: publishes v's contents (release); we may free what we replaced (acquire). */
	struct smr_node *old = smr_unmark(atomic_exchange_explicit(dst, v, memory_order_acq_rel));
	if (old)
		rc_release(t, old);
}

static inline void *rc_exchange(struct rc_thread *t, void *_Atomic *dst, void *v)
{
	struct smr_node *nv = smr_unmark(v);
	if (nv)
		rc_acquire_held_(nv);
	void *old = atomic_exchange_explicit(dst, v, memory_order_acq_rel);
	/* The link's reference goes; the caller owns the object until it retires it. */
	if (smr_unmark(old))
		rc_release(t, smr_unmark(old));
	return old;
}

static inline bool rc_cas(struct rc_thread *t, void *_Atomic *dst, void *expect, void *v)
{
	struct smr_node *ne = smr_unmark(expect), *nv = smr_unmark(v);
	if (ne == nv) /* only the mark bits change: the link keeps its reference */
		return atomic_compare_exchange_strong_explicit(dst, &expect, v, memory_order_acq_rel,
							       memory_order_acquire);
	if (nv)
		rc_acquire_held_(nv);
	if (atomic_compare_exchange_strong_explicit(dst, &expect, v, memory_order_acq_rel,
						    memory_order_acquire)) {
		if (ne)
			rc_release(t, ne);
		return true;
	}
	if (nv)
		rc_release(t, nv); /* undo: the caller still holds nv, so this frees nothing */
	return false;
}

#endif

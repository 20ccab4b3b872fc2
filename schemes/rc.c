/* SPDX-License-Identifier: MIT */
/* rc.c - lock-free reference counting: the pool, the free loop, teardown (see rc.h). */
#include "smr.h"
#include "rc.h"

#include <stdio.h>

/*
 * Blocks of one size class, carved from chunks that live until domain
 * destroy.  A chunk is aligned to RC_CHUNK_BYTES and every block starts in
 * its first RC_CHUNK_BYTES, so a block finds its chunk, and so its class, by
 * masking its address: the header holds no size.
 */
struct rc_chunk {
	struct rc_chunk *next;
	size_t bsize;
	size_t nblocks;
	unsigned cls;
} SMR_ALIGNED;

#define RC_CHUNK_BYTES ((size_t)64 << 10)

static inline struct rc_chunk *rc_chunk_of(const struct smr_node *n)
{
	return (struct rc_chunk *)((uintptr_t)n & ~(uintptr_t)(RC_CHUNK_BYTES - 1));
}

/* The thread whose free loop is running: destructors reach it through smr_drop_link(). */
static _Thread_local struct rc_thread *rc_self;

static inline struct smr_node *rc_block(struct rc_chunk *ch, size_t i)
{
	return (struct smr_node *)((char *)(ch + 1) + i * ch->bsize);
}

void rc_bad_size(size_t size)
{
	fprintf(stderr, "smrbench: rc: cannot allocate an object of %zu bytes (want %zu..%zu)\n", size,
		sizeof(struct smr_node), RC_MAX_SIZE);
	abort();
}

struct rc_domain *rc_domain_create(const struct smr_config *cfg, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	struct rc_domain *d = smr_aligned_calloc(1, sizeof *d);
	d->max_threads = cfg->max_threads;
	d->k = cfg->hazard_slots > 0 ? cfg->hazard_slots : 1;
#if defined(__SANITIZE_ADDRESS__)
	d->no_reuse = true;
#else
	d->no_reuse = smr_poison_enabled;
#endif
	pthread_mutex_init(&d->chunk_lock, NULL);
	for (unsigned c = 0; c < RC_NCLASSES; c++)
		pthread_mutex_init(&d->pool[c].lock, NULL);
	d->threads = smr_aligned_calloc((size_t)d->max_threads, sizeof *d->threads);
	for (int i = 0; i < d->max_threads; i++) {
		struct rc_thread *t = &d->threads[i];
		t->d = d;
		t->k = d->k;
		t->held = calloc((size_t)d->k, sizeof *t->held);
		if (!t->held) {
			fprintf(stderr, "smrbench: out of memory allocating rc slots\n");
			abort();
		}
	}
	return d;
}

struct rc_thread *rc_register(struct rc_domain *d)
{
	int i = smr_slot_claim(d->threads, sizeof *d->threads, d->max_threads);
	return i < 0 ? NULL : &d->threads[i];
}

void rc_unregister(struct rc_thread *t)
{
	rc_end(t);
	rc_backlog_flush(t);
	/* The record keeps its pool cache: the next thread to claim it uses it. */
	smr_slot_release(&t->slot);
}

void rc_backlog_flush(struct rc_thread *t)
{
	struct rc_domain *d = t->d;
	int64_t delta = t->backlog_delta;
	t->backlog_delta = 0;
	if (!delta)
		return;
	int64_t v = atomic_fetch_add_explicit(&d->backlog, delta, memory_order_relaxed) + delta;
	int64_t p = atomic_load_explicit(&d->peak, memory_order_relaxed);
	while (v > p && !atomic_compare_exchange_weak_explicit(&d->peak, &p, v, memory_order_relaxed,
							       memory_order_relaxed))
		;
}

/* Take objects of class c from the domain, or carve a new chunk.  Returns one; the rest go to the cache. */
struct smr_node *rc_refill(struct rc_thread *t, unsigned c)
{
	struct rc_domain *d = t->d;
	struct rc_cache *cc = &t->cache[c];
	if (!d->no_reuse) {
		struct rc_pool *p = &d->pool[c];
		pthread_mutex_lock(&p->lock);
		struct smr_node *n = p->head;
		for (int i = 0; n && i < RC_BATCH; i++) {
			p->head = n->smr_next;
			p->count--;
			n->smr_next = cc->head;
			cc->head = n;
			cc->count++;
			n = p->head;
		}
		pthread_mutex_unlock(&p->lock);
		if (cc->head) {
			n = cc->head;
			cc->head = n->smr_next;
			cc->count--;
			return n;
		}
	}
	size_t bs = rc_class_size(c);
	/* Every block starts inside the chunk's first RC_CHUNK_BYTES (rc_chunk_of). */
	size_t nb = (RC_CHUNK_BYTES - sizeof(struct rc_chunk)) / bs;
	if (nb < 1)
		nb = 1;
	if (d->no_reuse && nb > RC_BATCH)
		nb = RC_BATCH; /* nothing is reused: do not carve far ahead */
	size_t bytes = (sizeof(struct rc_chunk) + nb * bs + RC_CHUNK_BYTES - 1) & ~(RC_CHUNK_BYTES - 1);
	struct rc_chunk *ch = aligned_alloc(RC_CHUNK_BYTES, bytes);
	if (!ch)
		smr_out_of_memory(bytes);
	memset(ch, 0, sizeof *ch);
	ch->bsize = bs;
	ch->nblocks = nb;
	ch->cls = c;
	for (size_t i = 0; i < nb; i++) {
		struct smr_node *n = rc_block(ch, i);
		/* Free memory is claimed and retired: no decrement can claim it. */
		atomic_init(&n->smr_refs, RC_CLAIMED | RC_RETIRED);
		RC_ASAN_POISON(n + 1, bs - sizeof *n);
		if (i > 0) {
			n->smr_next = cc->head;
			cc->head = n;
			cc->count++;
		}
	}
	pthread_mutex_lock(&d->chunk_lock);
	ch->next = d->chunks;
	d->chunks = ch;
	pthread_mutex_unlock(&d->chunk_lock);
	return rc_block(ch, 0);
}

/* Give a freed (claimed) object's memory back to the pool. */
static void rc_put(struct rc_thread *t, struct smr_node *n)
{
	struct rc_domain *d = t->d;
	unsigned c = rc_chunk_of(n)->cls;
	size_t bs = rc_class_size(c);
	if (d->no_reuse) {
		/* Keep it out of use until the domain goes; only the header stays
		 * intact (stale readers may still touch the count). */
		if (smr_poison_enabled) {
			/* alloc unpoisoned (for ASan) only the size asked for */
			RC_ASAN_UNPOISON(n + 1, bs - sizeof *n);
			memset(n + 1, SMR_POISON_BYTE, bs - sizeof *n);
		}
		RC_ASAN_POISON(n + 1, bs - sizeof *n);
		return;
	}
	RC_ASAN_POISON(n + 1, bs - sizeof *n);
	struct rc_cache *cc = &t->cache[c];
	n->smr_next = cc->head;
	cc->head = n;
	if (++cc->count < 2 * RC_BATCH)
		return;
	/* Spill a batch so that a thread that only frees (a reader) feeds the ones that allocate. */
	struct smr_node *first = cc->head, *last = first;
	for (int i = 1; i < RC_BATCH; i++)
		last = last->smr_next;
	cc->head = last->smr_next;
	cc->count -= RC_BATCH;
	struct rc_pool *p = &d->pool[c];
	pthread_mutex_lock(&p->lock);
	last->smr_next = p->head;
	p->head = first;
	p->count += RC_BATCH;
	pthread_mutex_unlock(&p->lock);
}

/* Run the destructors of every claimed object on t's work list, freeing each one. */
static void rc_drain(struct rc_thread *t)
{
	struct rc_thread *outer = rc_self;
	rc_self = t;
	t->freeing = true;
	struct smr_node *n;
	while ((n = t->work)) {
		t->work = n->smr_next;
		/* The destructor's smr_drop_link() calls may claim more objects:
		 * they join the work list instead of recursing. */
		if (n->smr_dtor)
			n->smr_dtor(n);
		rc_put(t, n);
		smr_count_reclaimed(&t->cnt, 1);
		rc_backlog_add_(t, -1);
	}
	t->freeing = false;
	rc_self = outer;
}

static void rc_free_claimed(struct rc_thread *t, struct smr_node *n)
{
	n->smr_next = t->work;
	t->work = n;
	if (!t->freeing)
		rc_drain(t);
}

void rc_claim_free(struct rc_thread *t, struct smr_node *n)
{
	/*
	 * Count zero, retired, unclaimed: try to claim.  Several threads may get
	 * here for the same object (a stale reader's undo races with the last
	 * real release); the CAS lets exactly one through.  acq_rel: we see
	 * every holder's work on n, and claimers after us see the flag.
	 */
	int64_t expect = RC_RETIRED;
	if (atomic_compare_exchange_strong_explicit(&n->smr_refs, &expect, RC_RETIRED | RC_CLAIMED,
						    memory_order_acq_rel, memory_order_relaxed))
		rc_free_claimed(t, n);
}

void rc_dealloc(struct rc_thread *t, struct smr_node *n)
{
	/* Nobody saw it (a stale reader may still bump the count: harmless). */
	atomic_fetch_or_explicit(&n->smr_refs, RC_CLAIMED | RC_RETIRED, memory_order_release);
	rc_put(t, n);
}

void rc_reclaim_now(struct rc_thread *t, struct smr_node *n, smr_reclaim_fn dtor)
{
	/* The planted bug: free at once whatever the count says, outside the counters. */
	atomic_fetch_or_explicit(&n->smr_refs, RC_CLAIMED | RC_RETIRED, memory_order_acq_rel);
	struct rc_thread *outer = rc_self;
	bool was = t->freeing;
	rc_self = t;
	t->freeing = true;
	if (dtor)
		dtor(n);
	rc_put(t, n);
	t->freeing = was;
	rc_self = outer;
	if (!was && t->work)
		rc_drain(t);
}

void rc_drop_link_value(void *v)
{
	struct smr_node *n = smr_unmark(v);
	if (!n)
		return;
	struct rc_thread *t = rc_self;
	if (!t) {
		fprintf(stderr, "smrbench: rc: smr_drop_link() called outside a destructor\n");
		abort();
	}
	rc_release(t, n);
}

void rc_drop_link_at(void *_Atomic *link)
{
	/* The object is being freed: nobody else writes its links any more. */
	void *v = atomic_load_explicit(link, memory_order_relaxed);
	atomic_store_explicit(link, NULL, memory_order_relaxed);
	rc_drop_link_value(v);
}

void rc_stats(struct rc_domain *d, struct smr_stats *out)
{
	*out = (struct smr_stats){0};
	for (int i = 0; i < d->max_threads; i++)
		smr_counters_sum(&d->threads[i].cnt, out);
	int64_t p = atomic_load_explicit(&d->peak, memory_order_relaxed);
	out->unreclaimed_peak = p > 0 ? (uint64_t)p : 0;
}

void rc_domain_destroy(struct rc_domain *d, struct smr_stats *out)
{
	/*
	 * No thread is registered, so no slot holds anything.  What is retired
	 * but not freed is kept by counts from links: links of live objects the
	 * workload never retired, or cycles of retired objects (RC's known
	 * blind spot).  Free them all now so retired == reclaimed; a workload
	 * that follows the rules leaves none (SMRBENCH_RC_DEBUG=1 reports them).
	 */
	struct rc_thread *t = &d->threads[0];
	uint64_t forced = 0, live = 0;
	for (struct rc_chunk *ch = d->chunks; ch; ch = ch->next)
		for (size_t i = 0; i < ch->nblocks; i++) {
			struct smr_node *n = rc_block(ch, i);
			int64_t w = atomic_load_explicit(&n->smr_refs, memory_order_acquire);
			if ((w & (RC_RETIRED | RC_CLAIMED)) != RC_RETIRED)
				continue;
			atomic_fetch_or_explicit(&n->smr_refs, RC_CLAIMED, memory_order_acq_rel);
			forced++;
			rc_free_claimed(t, n);
		}
	/* Objects never retired: the chunks go below, so LSan cannot see them. */
	for (struct rc_chunk *ch = d->chunks; ch; ch = ch->next)
		for (size_t i = 0; i < ch->nblocks; i++)
			live += !(atomic_load_explicit(&rc_block(ch, i)->smr_refs, memory_order_relaxed) &
				  RC_CLAIMED);
	const char *dbg = getenv("SMRBENCH_RC_DEBUG");
	if ((forced || live) && dbg && *dbg && *dbg != '0')
		fprintf(stderr,
			"smrbench: rc: at domain destroy %llu retired objects were still counted, "
			"%llu objects were never retired\n",
			(unsigned long long)forced, (unsigned long long)live);
	for (int i = 0; i < d->max_threads; i++)
		rc_backlog_flush(&d->threads[i]);
	rc_stats(d, out);
	/* Both kinds stayed in the pool, out of LSan's sight: the harness fails the cell. */
	out->pool_live = forced + live;
	while (d->chunks) {
		struct rc_chunk *ch = d->chunks;
		d->chunks = ch->next;
		RC_ASAN_UNPOISON(ch, sizeof *ch + ch->nblocks * ch->bsize);
		free(ch);
	}
	for (int i = 0; i < d->max_threads; i++)
		free(d->threads[i].held);
	for (unsigned c = 0; c < RC_NCLASSES; c++)
		pthread_mutex_destroy(&d->pool[c].lock);
	pthread_mutex_destroy(&d->chunk_lock);
	free(d->threads);
	free(d);
}

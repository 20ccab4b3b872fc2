/* SPDX-License-Identifier: MIT */
/* qsbr.c - quiescent-state-based reclamation: grace periods and batch frees. */
#include <stdio.h>
#include <stdlib.h>

#include "smr.h"
#include "qsbr.h"

struct qsbr_domain *qsbr_domain_create(const struct smr_config *cfg, char *err, size_t errlen)
{
	(void)err; (void)errlen;
	struct qsbr_domain *d = smr_aligned_calloc(1, sizeof *d);
	atomic_init(&d->gp, 1);
	d->max_threads = cfg->max_threads;
	d->threads = smr_aligned_calloc((size_t)cfg->max_threads, sizeof *d->threads);
	for (int i = 0; i < d->max_threads; i++) {
		struct qsbr_thread *t = &d->threads[i];
		t->d = d;
		t->k = SMR_PARAM(cfg, 0);
		t->batch = (unsigned)SMR_PARAM(cfg, 1);
		atomic_init(&t->seen, QSBR_OFFLINE);
	}
	return d;
}

struct qsbr_thread *qsbr_register(struct qsbr_domain *d)
{
	int i = smr_slot_claim(d->threads, sizeof *d->threads, d->max_threads);
	if (i < 0)
		return NULL;
	struct qsbr_thread *t = &d->threads[i];
	/*
	 * Online from here.  The exchange orders the announcement before every
	 * read that follows: a reclaimer whose scan missed it had already made
	 * its unlinks visible, so we cannot reach what it frees.
	 */
	atomic_exchange_explicit(&t->seen, atomic_load_explicit(&d->gp, memory_order_acquire),
				 memory_order_seq_cst);
	return t;
}

void qsbr_unregister(struct qsbr_thread *t)
{
	atomic_store_explicit(&t->seen, QSBR_OFFLINE, memory_order_release);
	qsbr_collect(t);
	smr_slot_release(&t->slot);
}

/* The oldest grace period some online thread may still be in. */
static uint64_t min_seen(struct qsbr_domain *d)
{
	uint64_t m = QSBR_OFFLINE;
	for (int i = 0; i < d->max_threads; i++) {
		uint64_t s = atomic_load_explicit(&d->threads[i].seen, memory_order_acquire);
		if (s < m)
			m = s;
	}
	return m;
}

/* Double the ring of sealed batches (it is full), keeping their order. */
static void sealed_grow(struct qsbr_thread *t)
{
	uint64_t cap = t->sealed_cap ? 2 * t->sealed_cap : 16;
	struct qsbr_batch *ring = malloc(cap * sizeof *ring);
	if (!ring) {
		fprintf(stderr, "smrbench: qsbr: out of memory for %llu sealed batches\n",
			(unsigned long long)cap);
		abort();
	}
	uint64_t n = 0;
	for (uint64_t i = t->sealed_first; i != t->sealed_end; i++)
		ring[n++] = t->sealed[i & (t->sealed_cap - 1)];
	free(t->sealed);
	t->sealed = ring;
	t->sealed_cap = cap;
	t->sealed_first = 0;
	t->sealed_end = n;
}

void qsbr_collect(struct qsbr_thread *t)
{
	if (t->open.head) {
		/* Seal: the objects were unlinked before this increment, so a
		 * thread that announces the new value can no longer reach them. */
		uint64_t g = atomic_fetch_add_explicit(&t->d->gp, 1, memory_order_seq_cst) + 1;
		if (t->sealed_end - t->sealed_first == t->sealed_cap)
			sealed_grow(t);
		t->sealed[t->sealed_end++ & (t->sealed_cap - 1)] = (struct qsbr_batch){ t->open, g };
		t->open = (struct smr_list){ NULL, 0 };
	}
	/*
	 * No announcement here: retire is called in the middle of an operation,
	 * while this thread may still hold objects others retired.  Our own
	 * batches wait for our next quiescent().
	 */
	uint64_t safe = min_seen(t->d);
	uint64_t freed = 0;
	while (t->sealed_first != t->sealed_end) {
		struct qsbr_batch *b = &t->sealed[t->sealed_first & (t->sealed_cap - 1)];
		if (b->gp > safe)
			break;
		freed += smr_list_reclaim(&b->objs);
		t->sealed_first++;
	}
	smr_count_reclaimed(&t->cnt, freed);
}

void qsbr_stats(struct qsbr_domain *d, struct smr_stats *out)
{
	*out = (struct smr_stats){0};
	for (int i = 0; i < d->max_threads; i++)
		smr_counters_sum(&d->threads[i].cnt, out);
}

void qsbr_domain_destroy(struct qsbr_domain *d, struct smr_stats *out)
{
	for (int i = 0; i < d->max_threads; i++) {
		struct qsbr_thread *t = &d->threads[i];
		uint64_t n = smr_list_reclaim(&t->open);
		for (; t->sealed_first != t->sealed_end; t->sealed_first++)
			n += smr_list_reclaim(&t->sealed[t->sealed_first & (t->sealed_cap - 1)].objs);
		free(t->sealed);
		t->sealed = NULL;
		smr_count_reclaimed(&t->cnt, n);
	}
	qsbr_stats(d, out);
	smr_quarantine_drain();
	free(d->threads);
	free(d);
}

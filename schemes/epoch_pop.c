/* SPDX-License-Identifier: MIT */
/* epoch_pop.c - EpochPOP: registration, epoch advance, bag frees, the published-hazard fallback. */
#include "smr.h"
#include "epoch_pop.h"
#include "smr_hazard_snap.h"

#include <stdio.h>
#include <stdlib.h>

struct epoch_pop_domain *epoch_pop_domain_create(const struct smr_config *cfg, char *err, size_t errlen)
{
	if (smr_ping_install(err, errlen) < 0)
		return NULL;
	struct epoch_pop_domain *d = smr_aligned_calloc(1, sizeof *d);
	/* Start at 3 so that "bag_epoch + 2 <= epoch" never sees a bag of epoch 0 as old. */
	atomic_init(&d->epoch, 3);
	d->max_threads = cfg->max_threads;
	d->k = cfg->hazard_slots > 0 ? cfg->hazard_slots : 1;
	size_t per_line = SMR_CACHE_LINE / sizeof(void *);
	d->stride = ((size_t)d->k + per_line - 1) / per_line * per_line;
	d->batch = (unsigned)SMR_PARAM(cfg, 0);
	uint64_t h = (uint64_t)d->max_threads * (uint64_t)d->k;
	d->threshold = (uint64_t)SMR_PARAM(cfg, 1) + 2 * h;
	d->locals = smr_aligned_calloc((size_t)d->max_threads * d->stride, sizeof(void *));
	d->published = smr_aligned_calloc((size_t)d->max_threads * d->stride, sizeof(void *));
	d->threads = smr_aligned_calloc((size_t)d->max_threads, sizeof *d->threads);
	for (int i = 0; i < d->max_threads; i++) {
		struct epoch_pop_thread *t = &d->threads[i];
		t->d = d;
		t->k = d->k;
		t->hp = &d->locals[(size_t)i * d->stride];
		t->snap = calloc(h, sizeof(void *));
		t->want = calloc((size_t)d->max_threads, sizeof *t->want);
		if (!t->snap || !t->want) {
			fprintf(stderr, "smrbench: out of memory allocating hazard snapshots\n");
			abort();
		}
	}
	return d;
}

struct epoch_pop_thread *epoch_pop_register(struct epoch_pop_domain *d)
{
	int i = smr_slot_claim(d->threads, sizeof *d->threads, d->max_threads);
	if (i < 0)
		return NULL;
	/* On the registering thread: the one the pings must reach. */
	smr_ping_join(&d->threads[i].ping, d->threads[i].hp, &d->published[(size_t)i * d->stride], d->k);
	return &d->threads[i];
}

void epoch_pop_unregister(struct epoch_pop_thread *t)
{
	/* Unpinned, no hazard; what collect cannot free stays with the record
	 * (a later thread that claims it, or domain destroy, frees it). */
	atomic_store_explicit(&t->local, 0, memory_order_release);
	epoch_pop_quiescent(t);
	epoch_pop_collect(t);
	smr_ping_leave(&t->ping);
	smr_slot_release(&t->slot);
}

/* Free every entry of l (detached first: a destructor may retire onto it). */
static void free_list(struct epoch_pop_thread *t, struct smr_list *l)
{
	struct smr_list all = *l;
	*l = (struct smr_list){0};
	uint64_t n = smr_list_reclaim(&all);
	t->pending -= n;
	smr_count_reclaimed(&t->cnt, n);
}

void epoch_pop_bag_flush(struct epoch_pop_thread *t, unsigned i)
{
	free_list(t, &t->bag[i]);
	free_list(t, &t->chains[i]);
}

/* Advance the epoch if every pinned thread has been seen in the current one (ebr.c's rule). */
static void try_advance(struct epoch_pop_domain *d)
{
	uint64_t e = atomic_load_explicit(&d->epoch, memory_order_seq_cst);
	for (int i = 0; i < d->max_threads; i++) {
		/* acquire: pairs with end's release, so the reads a thread did
		 * while pinned happen before anything we free after advancing. */
		uint64_t l = atomic_load_explicit(&d->threads[i].local, memory_order_acquire);
		if ((l & EPOCH_POP_ACTIVE) && (l >> 1) != e)
			return;
	}
	atomic_compare_exchange_strong_explicit(&d->epoch, &e, e + 1, memory_order_seq_cst, memory_order_relaxed);
}

/* Free the entries from x on that no published hazard names (a chain: none of its objects); keep the others on l. */
static void sweep(struct epoch_pop_thread *t, struct smr_node *x, struct smr_list *l, size_t nsnap,
		  smr_chain_next_fn next)
{
	while (x) {
		struct smr_node *after = x->smr_next;
		if (smr_hazard_held(t->snap, nsnap, x, next)) {
			smr_list_push(l, x);
		} else {
			smr_node_reclaim(x, x->smr_dtor);
			t->pending--;
			smr_count_reclaimed(&t->cnt, 1);
		}
		x = after;
	}
}

/* The fallback: every thread publishes its hazards, and what none names goes, whatever its epoch. */
static void free_unpublished(struct epoch_pop_thread *t)
{
	struct epoch_pop_domain *d = t->d;
	/* A round a thread did not answer in time frees nothing: the next retire tries again. */
	if (!smr_ping_round(&d->threads[0].ping, sizeof *d->threads, d->max_threads, t->want, &d->pings))
		return;
	size_t n = smr_hazard_snapshot(d->published, d->max_threads, d->stride, d->k, t->snap);
	/*
	 * Take every bag first: a destructor run below may retire, and what it
	 * retires was unlinked after the round, so no hazard of this round
	 * speaks for it.  It goes to the live bags, which we do not sweep.
	 */
	struct smr_node *objs[3], *chains[3];
	for (unsigned b = 0; b < 3; b++) {
		objs[b] = t->bag[b].head;
		chains[b] = t->chains[b].head;
		t->bag[b] = (struct smr_list){0};
		t->chains[b] = (struct smr_list){0};
	}
	for (unsigned b = 0; b < 3; b++) {
		sweep(t, objs[b], &t->bag[b], n, NULL);
		sweep(t, chains[b], &t->chains[b], n, t->chain_next);
	}
}

void epoch_pop_collect(struct epoch_pop_thread *t)
{
	struct epoch_pop_domain *d = t->d;
	t->scanning = true;
	t->since_collect = 0;
	try_advance(d);
	uint64_t e = atomic_load_explicit(&d->epoch, memory_order_acquire);
	for (unsigned i = 0; i < 3; i++)
		if (t->bag_epoch[i] + 2 <= e)
			epoch_pop_bag_flush(t, i);
	if (t->pending >= d->threshold)
		free_unpublished(t);
	t->scanning = false;
}

void epoch_pop_stats(struct epoch_pop_domain *d, struct smr_stats *out)
{
	*out = (struct smr_stats){0};
	for (int i = 0; i < d->max_threads; i++)
		smr_counters_sum(&d->threads[i].cnt, out);
	smr_ping_stats(&d->pings, out);
}

void epoch_pop_domain_destroy(struct epoch_pop_domain *d, struct smr_stats *out)
{
	/* No thread is registered any more: everything goes.  Repeat in case a destructor retired something. */
	bool again = true;
	while (again) {
		again = false;
		for (int i = 0; i < d->max_threads; i++)
			for (unsigned b = 0; b < 3; b++) {
				struct epoch_pop_thread *t = &d->threads[i];
				if (t->bag[b].head || t->chains[b].head) {
					t->scanning = true;
					epoch_pop_bag_flush(t, b);
					t->scanning = false;
					again = true;
				}
			}
	}
	epoch_pop_stats(d, out);
	smr_quarantine_drain();
	for (int i = 0; i < d->max_threads; i++) {
		free(d->threads[i].snap);
		free(d->threads[i].want);
	}
	free(d->locals);
	free(d->published);
	free(d->threads);
	free(d);
}

/* SPDX-License-Identifier: MIT */
/* ext_ck_hp.c - ck_hp back end: records, the destructor callback, chains, teardown. */
#include "smr.h"
#include "ext_ck_hp.h"

#include <stdio.h>

/*
 * A retired chain: each node's ck entry carries (desc | 1) as its data; the
 * last one to pass the hazard scan runs the chain's destructor on the head.
 */
struct ext_ck_hp_chain {
	struct smr_node *head;
	smr_reclaim_fn dtor;
	size_t remaining;
};

__thread struct ext_ck_hp_thread *ext_ck_hp_reclaiming;

#ifdef EXT_TSAN
char ext_ck_hp_tsan_gp;
#endif

/* ck_hp's destructor: runs inside ck_hp_reclaim(), on the record's owner (or in destroy). */
static void reclaim_cb(void *data)
{
	EXT_TSAN_ACQUIRE(&ext_ck_hp_tsan_gp);
	if ((uintptr_t)data & 1) {
		struct ext_ck_hp_chain *c = (struct ext_ck_hp_chain *)((uintptr_t)data & ~(uintptr_t)1);
		if (--c->remaining > 0)
			return;
		smr_node_reclaim(c->head, c->dtor);
		smr_count_reclaimed(&ext_ck_hp_reclaiming->cnt, 1);
		free(c);
		return;
	}
	struct smr_node *n = data;
	smr_node_reclaim(n, n->smr_dtor);
	smr_count_reclaimed(&ext_ck_hp_reclaiming->cnt, 1);
}

struct ext_ck_hp_domain *ext_ck_hp_domain_create(const struct smr_config *cfg, char *err, size_t errlen)
{
	(void)err; (void)errlen;
	struct ext_ck_hp_domain *d = smr_aligned_calloc(1, sizeof *d);
	d->max_threads = cfg->max_threads;
	d->degree = cfg->hazard_slots > 0 ? cfg->hazard_slots : 1;
	long r = SMR_PARAM(cfg, 0) + 2L * d->max_threads * d->degree;
	ck_hp_init(&d->hp, (unsigned)d->degree, (unsigned)(r > 0 ? r : 1), reclaim_cb);
	d->recs = smr_aligned_calloc((size_t)d->max_threads, sizeof *d->recs);
	d->ptr_stride = ((size_t)d->degree * sizeof(void *) + SMR_CACHE_LINE - 1) / SMR_CACHE_LINE *
			(SMR_CACHE_LINE / sizeof(void *));
	d->ptrs = smr_aligned_calloc((size_t)d->max_threads * d->ptr_stride, sizeof(void *));
	d->threads = smr_aligned_calloc((size_t)d->max_threads, sizeof *d->threads);
	for (int i = 0; i < d->max_threads; i++)
		d->threads[i].d = d;
	return d;
}

struct ext_ck_hp_thread *ext_ck_hp_register(struct ext_ck_hp_domain *d)
{
	int i = smr_slot_claim(d->threads, sizeof *d->threads, d->max_threads);
	if (i < 0)
		return NULL;
	struct ext_ck_hp_thread *t = &d->threads[i];
	/*
	 * A free ck record, else a fresh one from the pool.  Records in use never
	 * outnumber claimed slots, and a slot is released only after its record
	 * was unregistered, so the pool of max_threads is enough.
	 */
	ck_hp_record_t *rec = ck_hp_recycle(&d->hp);
	if (!rec) {
		int k = atomic_fetch_add_explicit(&d->nrecs, 1, memory_order_relaxed);
		if (k >= d->max_threads) {
			fprintf(stderr, "smrbench: ck-hp: record pool exhausted\n");
			abort();
		}
		rec = &d->recs[k];
		ck_hp_register(&d->hp, rec, &d->ptrs[(size_t)k * d->ptr_stride]);
	}
	t->rec = rec;
	/* Take over what the slot's last owner left pending. */
	ck_stack_entry_t *e = t->stash;
	t->stash = NULL;
	while (e) {
		ck_stack_entry_t *next = e->next;
		ck_hp_hazard_t *h = (ck_hp_hazard_t *)(void *)((char *)e - offsetof(ck_hp_hazard_t, pending_entry));
		ck_hp_retire(rec, h, h->data, h->pointer);
		e = next;
	}
	return t;
}

void ext_ck_hp_unregister(struct ext_ck_hp_thread *t)
{
	ck_hp_record_t *rec = t->rec;
	ck_hp_clear(rec);
	ext_ck_hp_reclaiming = t;
	ck_hp_reclaim(rec);
	/* ck_hp_unregister() forgets the pending list: keep it with the slot. */
	t->stash = CK_STACK_FIRST(&rec->pending);
	ck_hp_unregister(rec);
	t->rec = NULL;
	smr_slot_release(&t->slot);
}

void ext_ck_hp_retire_chain(struct ext_ck_hp_thread *t, struct smr_node *head, smr_reclaim_fn dtor,
			    smr_chain_next_fn next)
{
	size_t len = 0;
	for (struct smr_node *n = head; n; n = next(n))
		len++;
	if (len == 1) {
		ext_ck_hp_retire(t, head, dtor);
		return;
	}
	struct ext_ck_hp_chain *c = malloc(sizeof *c);
	if (!c)
		abort();
	*c = (struct ext_ck_hp_chain){ head, dtor, len };
	smr_count_retired(&t->cnt);
	ext_ck_hp_reclaiming = t;
	/* next() is read before ck_hp_free: a reclaim inside it may free the chain. */
	for (struct smr_node *n = head, *nx; n; n = nx) {
		nx = next(n);
		ck_hp_free(t->rec, &n->smr_hazard, (void *)((uintptr_t)c | 1), n);
	}
}

void ext_ck_hp_stats(struct ext_ck_hp_domain *d, struct smr_stats *out)
{
	*out = (struct smr_stats){0};
	for (int i = 0; i < d->max_threads; i++)
		smr_counters_sum(&d->threads[i].cnt, out);
}

void ext_ck_hp_domain_destroy(struct ext_ck_hp_domain *d, struct smr_stats *out)
{
	/* No thread is registered: nothing is protected; free every stash. */
	for (int i = 0; i < d->max_threads; i++) {
		ck_stack_entry_t *e = d->threads[i].stash;
		ext_ck_hp_reclaiming = &d->threads[i];
		while (e) {
			ck_stack_entry_t *next = e->next;
			ck_hp_hazard_t *h = (ck_hp_hazard_t *)(void *)((char *)e - offsetof(ck_hp_hazard_t, pending_entry));
			reclaim_cb(h->data);
			e = next;
		}
		d->threads[i].stash = NULL;
	}
	ext_ck_hp_stats(d, out);
	smr_quarantine_drain();
	free(d->threads);
	free(d->ptrs);
	free(d->recs);
	free(d);
}

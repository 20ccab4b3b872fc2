/* SPDX-License-Identifier: MIT */
/* ext_ck_epoch.c - ck_epoch back end: records, polls, teardown. */
#include "smr.h"
#include "ext_ck_epoch.h"

#ifdef EXT_TSAN
char ext_ck_epoch_tsan_gp;
#endif

/* The record whose callbacks this thread is dispatching (its poll, or destroy). */
static __thread struct ext_ck_epoch_thread *ext_ck_epoch_dispatching;

void ext_ck_epoch_reclaim_cb(ck_epoch_entry_t *e)
{
	EXT_TSAN_ACQUIRE(&ext_ck_epoch_tsan_gp);
	struct smr_node *n = smr_container_of(e, struct smr_node, smr_entry);
	smr_node_reclaim(n, n->smr_dtor);
	/* Run by the record's owner (its poll) or by destroy: a plain count. */
	smr_count_reclaimed(&ext_ck_epoch_dispatching->cnt, 1);
}

struct ext_ck_epoch_domain *ext_ck_epoch_domain_create(const struct smr_config *cfg, char *err, size_t errlen)
{
	(void)err; (void)errlen;
	struct ext_ck_epoch_domain *d = smr_aligned_calloc(1, sizeof *d);
	ck_epoch_init(&d->epoch);
	d->max_threads = cfg->max_threads;
	d->threads = smr_aligned_calloc((size_t)cfg->max_threads, sizeof *d->threads);
	for (int i = 0; i < d->max_threads; i++) {
		d->threads[i].d = d;
		d->threads[i].batch = (unsigned)SMR_PARAM(cfg, 0);
	}
	return d;
}

struct ext_ck_epoch_thread *ext_ck_epoch_register(struct ext_ck_epoch_domain *d)
{
	int i = smr_slot_claim(d->threads, sizeof *d->threads, d->max_threads);
	if (i < 0)
		return NULL;
	struct ext_ck_epoch_thread *t = &d->threads[i];
	if (!t->ck_registered) {
		ck_epoch_register(&d->epoch, &t->rec, t);
		t->ck_registered = true;
	}
	return t;
}

void ext_ck_epoch_poll(struct ext_ck_epoch_thread *t)
{
	t->since_poll = 0;
	ext_ck_epoch_dispatching = t;
	ck_epoch_poll(&t->rec);
	ext_ck_epoch_dispatching = NULL;
}

void ext_ck_epoch_unregister(struct ext_ck_epoch_thread *t)
{
	/* Inactive (end() ran); leave the record registered, pending callbacks and all. */
	ext_ck_epoch_poll(t);
	smr_slot_release(&t->slot);
}

void ext_ck_epoch_stats(struct ext_ck_epoch_domain *d, struct smr_stats *out)
{
	*out = (struct smr_stats){0};
	for (int i = 0; i < d->max_threads; i++)
		smr_counters_sum(&d->threads[i].cnt, out);
}

void ext_ck_epoch_domain_destroy(struct ext_ck_epoch_domain *d, struct smr_stats *out)
{
	/* No thread is reading: dispatch every record's every bucket. */
	for (int i = 0; i < d->max_threads; i++)
		if (d->threads[i].ck_registered) {
			ext_ck_epoch_dispatching = &d->threads[i];
			ck_epoch_reclaim(&d->threads[i].rec);
			ext_ck_epoch_dispatching = NULL;
		}
	ext_ck_epoch_stats(d, out);
	smr_quarantine_drain();
	free(d->threads);
	free(d);
}

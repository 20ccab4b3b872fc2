/* SPDX-License-Identifier: MIT */
/* ebr.c - epoch-based reclamation: registration, epoch advance, bag frees. */
#include "smr.h"
#include "ebr.h"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

void ebr_domain_init(struct ebr_domain *d, const struct smr_config *cfg, unsigned batch, bool asym)
{
	/* Start at 3 so that "bag_epoch + 2 <= epoch" never sees a bag of epoch 0 as old. */
	atomic_init(&d->epoch, 3);
	d->asym = asym;
	d->max_threads = cfg->max_threads;
	d->threads = smr_aligned_calloc((size_t)cfg->max_threads, sizeof *d->threads);
	for (int i = 0; i < d->max_threads; i++) {
		d->threads[i].d = d;
		d->threads[i].batch = batch;
	}
}

struct ebr_domain *ebr_domain_create(const struct smr_config *cfg, char *err, size_t errlen)
{
	(void)err; (void)errlen;
	struct ebr_domain *d = smr_aligned_calloc(1, sizeof *d);
	ebr_domain_init(d, cfg, (unsigned)SMR_PARAM(cfg, 0), false);
	return d;
}

struct ebr_thread *ebr_register(struct ebr_domain *d)
{
	int i = smr_slot_claim(d->threads, sizeof *d->threads, d->max_threads);
	return i < 0 ? NULL : &d->threads[i];
}

void ebr_unregister(struct ebr_thread *t)
{
	/* Unpinned; what is left in the bags stays with the record (a later
	 * thread that claims it, or domain destroy, frees it). */
	atomic_store_explicit(&t->local, 0, memory_order_release);
	ebr_collect(t);
	smr_slot_release(&t->slot);
}

static void reclaim_bag(struct ebr_thread *t, unsigned i)
{
	smr_count_reclaimed(&t->cnt, smr_list_reclaim(&t->bag[i]));
}

void ebr_bag_flush(struct ebr_thread *t, unsigned i)
{
	reclaim_bag(t, i);
}

/* Advance the epoch if every pinned thread has been seen in the current one. */
static void try_advance(struct ebr_domain *d)
{
	uint64_t e = atomic_load_explicit(&d->epoch, memory_order_seq_cst);
	/*
	 * ebr-asym: its readers publish with a plain store and no fence.  A
	 * membarrier runs a full barrier on every CPU running one of our threads,
	 * so each reader's announcement is either visible to the scan below or
	 * its later loads come after our unlinks: the store->load order that
	 * ebr_begin's locked exchange gives, paid here instead of per read.
	 * Should it ever fail, do not advance: nothing is freed, which is safe.
	 */
	bool fenced = false;
	if (d->asym) {
		if (syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0)
			return;
		atomic_fetch_add_explicit(&d->barriers.barriers, 1, memory_order_relaxed);
		fenced = true;
	}
	if (d->asym)
		smr_barrier_count_scan(&d->barriers, fenced);
	for (int i = 0; i < d->max_threads; i++) {
		/* acquire: pairs with ebr_end's release, so the reads a thread did
		 * while pinned happen before anything we free after advancing. */
		uint64_t l = atomic_load_explicit(&d->threads[i].local, memory_order_acquire);
		if ((l & EBR_ACTIVE) && (l >> 1) != e)
			return;
	}
	atomic_compare_exchange_strong_explicit(&d->epoch, &e, e + 1, memory_order_seq_cst,
						memory_order_relaxed);
}

void ebr_collect(struct ebr_thread *t)
{
	t->since_collect = 0;
	try_advance(t->d);
	uint64_t e = atomic_load_explicit(&t->d->epoch, memory_order_acquire);
	for (unsigned i = 0; i < 3; i++)
		if (t->bag[i].head && t->bag_epoch[i] + 2 <= e)
			reclaim_bag(t, i);
}

void ebr_stats(struct ebr_domain *d, struct smr_stats *out)
{
	*out = (struct smr_stats){0};
	for (int i = 0; i < d->max_threads; i++)
		smr_counters_sum(&d->threads[i].cnt, out);
}

void ebr_domain_fini(struct ebr_domain *d, struct smr_stats *out)
{
	/* No thread is registered any more: every bag is safe to free. */
	for (int i = 0; i < d->max_threads; i++)
		for (unsigned b = 0; b < 3; b++)
			reclaim_bag(&d->threads[i], b);
	ebr_stats(d, out);
	smr_quarantine_drain();
	free(d->threads);
}

void ebr_domain_destroy(struct ebr_domain *d, struct smr_stats *out)
{
	ebr_domain_fini(d, out);
	free(d);
}

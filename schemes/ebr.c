/* ebr.c - epoch-based reclamation: registration, epoch advance, bag frees. */
#include "smr.h"
#include "ebr.h"

struct ebr_domain *ebr_domain_create(const struct smr_config *cfg, char *err, size_t errlen)
{
	(void)err; (void)errlen;
	struct ebr_domain *d = smr_aligned_calloc(1, sizeof *d);
	/* Start at 3 so that "bag_epoch + 2 <= epoch" never sees a bag of epoch 0 as old. */
	atomic_init(&d->epoch, 3);
	d->max_threads = cfg->max_threads;
	d->threads = smr_aligned_calloc((size_t)cfg->max_threads, sizeof *d->threads);
	for (int i = 0; i < d->max_threads; i++) {
		d->threads[i].d = d;
		d->threads[i].batch = (unsigned)SMR_PARAM(cfg, 0);
	}
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

void ebr_domain_destroy(struct ebr_domain *d, struct smr_stats *out)
{
	/* No thread is registered any more: every bag is safe to free. */
	for (int i = 0; i < d->max_threads; i++)
		for (unsigned b = 0; b < 3; b++)
			reclaim_bag(&d->threads[i], b);
	ebr_stats(d, out);
	smr_quarantine_drain();
	free(d->threads);
	free(d);
}

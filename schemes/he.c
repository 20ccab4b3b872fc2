/* SPDX-License-Identifier: MIT */
/* he.c - hazard eras: registration, scans of the published eras, frees. */
#include "smr.h"
#include "he.h"

struct he_domain *he_domain_create(const struct smr_config *cfg, char *err, size_t errlen)
{
	(void)err; (void)errlen;
	struct he_domain *d = smr_aligned_calloc(1, sizeof *d);
	atomic_init(&d->clock, 1);
	d->max_threads = cfg->max_threads;
	d->nslots = cfg->hazard_slots > 0 ? cfg->hazard_slots : 1;
	/* Each thread's eras on cache lines of their own: reclaimers read them. */
	d->stride = ((size_t)d->nslots * sizeof(uint64_t) + SMR_CACHE_LINE - 1) / SMR_CACHE_LINE *
		    (SMR_CACHE_LINE / sizeof(uint64_t));
	d->eras = smr_aligned_calloc((size_t)d->max_threads * d->stride, sizeof(uint64_t));
	d->threads = smr_aligned_calloc((size_t)d->max_threads, sizeof *d->threads);
	for (int i = 0; i < d->max_threads; i++) {
		struct he_thread *t = &d->threads[i];
		t->d = d;
		t->nslots = d->nslots;
		t->era = &d->eras[(size_t)i * d->stride];
		for (int s = 0; s < d->nslots; s++)
			atomic_init(&t->era[s], HE_NONE);
		t->batch = (unsigned)SMR_PARAM(cfg, 0);
		t->era_freq = (unsigned)SMR_PARAM(cfg, 1);
		t->snap = calloc((size_t)d->max_threads * (size_t)d->nslots, sizeof(uint64_t));
		if (!t->snap)
			abort();
	}
	return d;
}

struct he_thread *he_register(struct he_domain *d)
{
	int i = smr_slot_claim(d->threads, sizeof *d->threads, d->max_threads);
	return i < 0 ? NULL : &d->threads[i];
}

void he_unregister(struct he_thread *t)
{
	he_end(t);
	/* What stays retired stays with the record (its next owner, or destroy, frees it). */
	he_scan(t);
	smr_slot_release(&t->slot);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Is some era of the sorted snapshot (n of them) within [lo, hi]? */
static bool he_covered(const struct he_thread *t, size_t n, uint64_t lo, uint64_t hi)
{
	/* The first era >= lo (lower bound), then: is it <= hi? */
	const uint64_t *snap = t->snap;
	size_t a = 0, b = n;
	while (a < b) {
		size_t m = a + (b - a) / 2;
		if (snap[m] < lo)
			a = m + 1;
		else
			b = m;
	}
	return a < n && snap[a] <= hi;
}

#include "era_impl_slow.h"

void he_scan(struct he_thread *t)
{
	struct he_domain *d = t->d;
	t->since_scan = 0;
	if (!t->retired.head)
		return;
	size_t n = 0;
	for (int i = 0; i < d->max_threads; i++)
		for (int s = 0; s < d->nslots; s++) {
			/*
			 * seq_cst: pairs with protect's seq_cst exchange (store->load on
			 * both sides): either we see a reader's era, or its reload of
			 * the pointer sees our unlink.  Acquire also orders a cleared
			 * slot's reads before our frees.
			 */
			uint64_t e = atomic_load_explicit(&d->threads[i].era[s], memory_order_seq_cst);
			if (e != HE_NONE)
				t->snap[n++] = e;
		}
	qsort(t->snap, n, sizeof *t->snap, cmp_u64);
	he_sweep(t, n);
}

void he_domain_destroy(struct he_domain *d, struct smr_stats *out)
{
	he_reclaim_all(d, out);
	for (int i = 0; i < d->max_threads; i++)
		free(d->threads[i].snap);
	free(d->threads);
	free((void *)d->eras);
	free(d);
}

/* SPDX-License-Identifier: MIT */
/* ibr.c - 2GEIBR: registration, scans of the reservations, frees. */
#include "smr.h"
#include "ibr.h"

struct ibr_domain *ibr_domain_create(const struct smr_config *cfg, char *err, size_t errlen)
{
	(void)err; (void)errlen;
	struct ibr_domain *d = smr_aligned_calloc(1, sizeof *d);
	atomic_init(&d->clock, 1);
	d->max_threads = cfg->max_threads;
	d->threads = smr_aligned_calloc((size_t)d->max_threads, sizeof *d->threads);
	for (int i = 0; i < d->max_threads; i++) {
		struct ibr_thread *t = &d->threads[i];
		t->d = d;
		atomic_init(&t->lower, IBR_NONE);
		atomic_init(&t->upper, IBR_NONE);
		t->batch = (unsigned)SMR_PARAM(cfg, 0);
		t->era_freq = (unsigned)SMR_PARAM(cfg, 1);
		t->snap_lo = calloc((size_t)d->max_threads, sizeof(uint64_t));
		t->snap_hi = calloc((size_t)d->max_threads, sizeof(uint64_t));
		if (!t->snap_lo || !t->snap_hi)
			abort();
	}
	return d;
}

struct ibr_thread *ibr_register(struct ibr_domain *d)
{
	int i = smr_slot_claim(d->threads, sizeof *d->threads, d->max_threads);
	return i < 0 ? NULL : &d->threads[i];
}

void ibr_unregister(struct ibr_thread *t)
{
	ibr_end(t);
	/* What stays retired stays with the record (its next owner, or destroy, frees it). */
	ibr_scan(t);
	smr_slot_release(&t->slot);
}

/* Does one of the n reservations of the snapshot overlap [birth, retire]? (inclusive: ibr.h) */
static bool ibr_covered(const struct ibr_thread *t, size_t n, uint64_t birth, uint64_t retire)
{
	for (size_t i = 0; i < n; i++)
		if (t->snap_hi[i] >= birth && t->snap_lo[i] <= retire)
			return true;
	return false;
}

#include "era_impl_slow.h"

void ibr_scan(struct ibr_thread *t)
{
	struct ibr_domain *d = t->d;
	t->since_scan = 0;
	if (!t->retired.head)
		return;
	int n = 0;
	for (int i = 0; i < d->max_threads; i++) {
		/*
		 * seq_cst: pairs with begin's and protect's seq_cst exchanges
		 * (store->load on both sides).  lower before upper: see ibr.h.
		 */
		uint64_t lo = atomic_load_explicit(&d->threads[i].lower, memory_order_seq_cst);
		uint64_t hi = atomic_load_explicit(&d->threads[i].upper, memory_order_seq_cst);
		if (lo == IBR_NONE)
			continue; /* no operation, or one that started after we read lower */
		t->snap_lo[n] = lo;
		t->snap_hi[n] = hi;
		n++;
	}
	ibr_sweep(t, (size_t)n);
}

void ibr_domain_destroy(struct ibr_domain *d, struct smr_stats *out)
{
	ibr_reclaim_all(d, out);
	for (int i = 0; i < d->max_threads; i++) {
		free(d->threads[i].snap_lo);
		free(d->threads[i].snap_hi);
	}
	free(d->threads);
	free(d);
}

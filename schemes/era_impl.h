/* SPDX-License-Identifier: MIT */
/*
 * era_impl.h - the era stamps that hazard eras (he.h) and interval-based
 * reclamation (ibr.h) share, written once as hp_impl.h is for hp/hp-asym.
 *
 * A global era clock.  alloc stamps an object with the era it was born in
 * (smr_birth), retire with the era read after its unlink (smr_retire_era);
 * every era_freq retires of a thread the clock moves on unless someone
 * already moved it (HE's "if (clock == e) clock++"), and every `batch`
 * retires the thread scans.  The schemes differ only in what readers publish
 * (an era per hazard slot, or one interval) and so in the scan's test.
 *
 * The including header defines ERA_(x) to its prefix, declares
 * ERA_(scan)(), and defines its thread struct first, with the fields d (a
 * domain with an _Atomic uint64_t clock), retired, cnt, since_era, era_freq,
 * since_scan and batch.
 */

/* Our alloc only stamps the birth era on an smr_node_alloc() block: smr_node_free() releases it. */
static inline void *ERA_(alloc)(struct ERA_(thread) *t, size_t size)
{
	struct smr_node *n = smr_node_alloc(size);
	/* acquire: a reader that finds n reads the clock after this, so birth <= the era it publishes. */
	n->smr_birth = atomic_load_explicit(&t->d->clock, memory_order_acquire);
	return n;
}

/* A slot of block's allocation (smr.h, smr_carved) is as old as the block. */
static inline void ERA_(carved)(struct smr_node *n, const struct smr_node *block)
{
	n->smr_birth = block->smr_birth;
}

static inline void ERA_(dealloc)(struct ERA_(thread) *t, struct smr_node *n)
{
	(void)t;
	smr_node_free(n);
}

static inline void ERA_(reclaim_now)(struct ERA_(thread) *t, struct smr_node *n, smr_reclaim_fn dtor)
{
	(void)t;
	smr_node_reclaim(n, dtor);
}

static inline void ERA_(retire)(struct ERA_(thread) *t, struct smr_node *n, smr_reclaim_fn dtor)
{
	/* acquire, after the unlink (an RMW): an era a reader published when it reached n is <= this one. */
	uint64_t e = atomic_load_explicit(&t->d->clock, memory_order_acquire);
	n->smr_dtor = dtor;
	n->smr_retire_era = e;
	smr_list_push(&t->retired, n);
	smr_count_retired(&t->cnt);
	if (++t->since_era >= t->era_freq) {
		t->since_era = 0;
		atomic_compare_exchange_strong_explicit(&t->d->clock, &e, e + 1, memory_order_acq_rel,
							memory_order_relaxed);
	}
	if (++t->since_scan >= t->batch)
		ERA_(scan)(t);
}

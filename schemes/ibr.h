/* SPDX-License-Identifier: MIT */
/*
 * ibr.h - interval-based reclamation, the two-global-epoch variant (2GEIBR;
 * Wen, Izraelevitz, Cai, Beadle & Scott, PPoPP 2018).
 *
 * A global era clock; objects carry their birth era (stamped at allocation)
 * and retire era.  A thread reserves an interval [lower, upper] of eras:
 * begin() sets both to the current era, protect() raises upper when the clock
 * moved (and loads again), end() clears both.  A retired object is freed
 * once no reservation overlaps [birth, retire].  Unlike hazard eras, one
 * interval covers every pointer of the operation, whatever the hazard slot.
 *
 * Read side: begin = a load of the clock, a store and a locked exchange (the
 * store->load fence); protect = a load of the pointer and of the clock, a
 * locked exchange only when the clock moved since the last one; end = two
 * stores.
 *
 * Write side: he.h's (era_impl.h): retire stamps the era read after the unlink, moves the
 * clock on every era_freq retires of the thread, and every ibr_batch retires
 * snapshots the reservations and frees what none overlaps.
 *
 * Pitfalls avoided (IBR artifact, "fixed off-by-one error in epoch-related
 * trackers"): the overlap test is inclusive at both ends (upper >= birth &&
 * lower <= retire); empty reservations are UINT64_MAX, never a real era; the
 * reservation is published with a seq_cst RMW, not a release store (a release
 * store may pass the loads that follow it); and the scan reads lower before
 * upper (begin writes lower first), so a torn snapshot only widens an
 * interval or comes from an operation that started after the scan began.
 *
 * Chains: as he.h, a retired chain's interval is [min birth of its nodes,
 * retire].
 */
#ifndef SMR_IBR_H
#define SMR_IBR_H

#include <stdlib.h>

#include "smr_node_era.h"

#define SMR_OWN_PROTECT
#define SMR_OWN_ALLOC
#define SMR_OWN_CHAIN
#define SMR_OWN_CARVE
#define SMR_PROTECT_HOOKED

/* An empty reservation bound: never an era (the clock starts at 1). */
#define IBR_NONE UINT64_MAX

struct ibr_thread {
	struct smr_slot slot;
	struct ibr_domain *d;
	unsigned since_scan, batch;
	unsigned since_era, era_freq;
	struct smr_list retired;         /* smr_birth / smr_retire_era stamped */
	uint64_t *snap_lo, *snap_hi;     /* scratch for the scan */
	struct smr_counters cnt;
	/* Read by reclaimers: on a line of their own. */
	_Atomic uint64_t lower SMR_ALIGNED;
	_Atomic uint64_t upper;
} SMR_ALIGNED;

struct ibr_domain {
	_Atomic uint64_t clock SMR_ALIGNED;  /* read on every begin and protect: alone on its line */
	char pad_[SMR_CACHE_LINE - sizeof(uint64_t)];
	int max_threads;
	struct ibr_thread *threads;
};

#define SMR_PARAMS_ibr \
	{ "ibr_batch", "64", "retires between two scans of the reservations", 1, 1 << 20 }, \
	{ "era_freq", "8", "retires of a thread between two advances of the era clock", 1, 1 << 20 },

struct ibr_domain *ibr_domain_create(const struct smr_config *cfg, char *err, size_t errlen);
void ibr_domain_destroy(struct ibr_domain *d, struct smr_stats *out);
struct ibr_thread *ibr_register(struct ibr_domain *d);
void ibr_unregister(struct ibr_thread *t);
void ibr_stats(struct ibr_domain *d, struct smr_stats *out);
/* Free this thread's retired objects that no reservation overlaps. */
void ibr_scan(struct ibr_thread *t);
void ibr_retire_chain(struct ibr_thread *t, struct smr_node *head, smr_reclaim_fn dtor,
		      smr_chain_next_fn next);

static inline void ibr_begin(struct ibr_thread *t)
{
	uint64_t e = atomic_load_explicit(&t->d->clock, memory_order_acquire);
	/* lower first (the scan reads it first); the exchange orders both before our loads. */
	atomic_store_explicit(&t->lower, e, memory_order_relaxed);
	atomic_exchange_explicit(&t->upper, e, memory_order_seq_cst);
}

static inline void ibr_end(struct ibr_thread *t)
{
	/* release: our reads happen before a reclaimer sees the reservation gone. */
	atomic_store_explicit(&t->upper, IBR_NONE, memory_order_release);
	atomic_store_explicit(&t->lower, IBR_NONE, memory_order_release);
}

static inline void ibr_quiescent(struct ibr_thread *t) { (void)t; }

static inline void *ibr_protect(struct ibr_thread *t, int slot, void *_Atomic *src)
{
	(void)slot;
	/* relaxed: our own reservation, only we write it. */
	uint64_t prev = atomic_load_explicit(&t->upper, memory_order_relaxed);
	for (;;) {
		void *p = atomic_load_explicit(src, memory_order_acquire);
		uint64_t e = atomic_load_explicit(&t->d->clock, memory_order_acquire);
		if (__builtin_expect(e == prev, 1))
			return p;
		SMR_TEST_HOOK(SMR_HOOK_PROTECT_LOADED); /* test builds: p and e loaded, e not yet published */
		/* seq_cst: the raised bound is visible before we load the pointer again. */
		atomic_exchange_explicit(&t->upper, e, memory_order_seq_cst);
		prev = e;
	}
}

#define ERA_(x) ibr_##x
#include "era_impl.h"

#endif

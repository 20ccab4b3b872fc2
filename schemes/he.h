/* SPDX-License-Identifier: MIT */
/*
 * he.h - hazard eras (Ramalhete & Correia, SPAA 2017).
 *
 * A global era clock.  Every object is stamped with the era at its allocation
 * (smr_birth) and at its retirement (smr_retire_era).  A reader publishes, per
 * hazard slot, the era in which it loaded a pointer: protect() loads the
 * pointer, reads the clock, and returns if the clock still equals the era the
 * slot already publishes; otherwise it publishes the new era (a locked
 * exchange: the store->load fence) and loads again.  end() clears its slots.
 * A retired object is freed once no published era lies in [birth, retire].
 *
 * Read side: per protect, a load of the pointer and of the clock; a locked
 * exchange only when the slot's era differs from the clock (after every end(),
 * which clears it, and whenever the clock moved); end() = one store per slot.
 *
 * Write side (era_impl.h, shared with ibr): retire stamps the era (read after
 * the unlink) and every era_freq
 * retires of a thread the clock moves on, if nobody moved it since (the
 * paper's rule, era_freq = 1).  Every he_batch retires the thread snapshots
 * every published era (sorted) and frees what no era covers.
 *
 * Two known pitfalls avoided (IBR artifact and its WFE fork): an empty slot
 * is HE_NONE = UINT64_MAX, never a value the clock can take (the IBR
 * artifact's HE used 0, a valid era, for "none"); and the interval test is
 * inclusive at both ends (an era equal to the birth or the retire era
 * protects the object).
 *
 * Chains (smr_retire_chain): a reader may hold any node of a retired chain.
 * Each node is safe once no era lies in [its birth, retire]; the chain is
 * freed as one, so its interval is the union: [min birth over its nodes,
 * retire].  retire_chain stamps that minimum on the head and retires the head.
 *
 * Unlinks are RMWs (smr_cas / smr_exchange): the retire era is read after
 * the unlink is globally visible.
 */
#ifndef SMR_HE_H
#define SMR_HE_H

#include <stdlib.h>

#include "smr_node_era.h"

#define SMR_OWN_PROTECT
#define SMR_OWN_ALLOC
#define SMR_OWN_CHAIN
#define SMR_OWN_CARVE
#define SMR_PROTECT_HOOKED

/* A hazard slot that protects nothing.  Never an era: the clock starts at 1. */
#define HE_NONE UINT64_MAX

struct he_thread {
	struct smr_slot slot;
	int nslots;
	struct he_domain *d;
	_Atomic uint64_t *era;           /* nslots published eras: own cache line(s), read by reclaimers */
	unsigned since_scan, batch;
	unsigned since_era, era_freq;
	struct smr_list retired;         /* smr_birth / smr_retire_era stamped */
	uint64_t *snap;                  /* scratch for the scan: every published era */
	struct smr_counters cnt;
} SMR_ALIGNED;

struct he_domain {
	_Atomic uint64_t clock SMR_ALIGNED;  /* read on every protect: alone on its line */
	char pad_[SMR_CACHE_LINE - sizeof(uint64_t)];
	int max_threads;
	int nslots;
	struct he_thread *threads;
	_Atomic uint64_t *eras;              /* max_threads * stride published eras */
	size_t stride;
};

#define SMR_PARAMS_he \
	{ "he_batch", "64", "retires between two scans of the published eras", 1, 1 << 20 }, \
	{ "era_freq", "1", "retires of a thread between two advances of the era clock", 1, 1 << 20 },

struct he_domain *he_domain_create(const struct smr_config *cfg, char *err, size_t errlen);
void he_domain_destroy(struct he_domain *d, struct smr_stats *out);
struct he_thread *he_register(struct he_domain *d);
void he_unregister(struct he_thread *t);
void he_stats(struct he_domain *d, struct smr_stats *out);
/* Free this thread's retired objects that no published era covers. */
void he_scan(struct he_thread *t);
void he_retire_chain(struct he_thread *t, struct smr_node *head, smr_reclaim_fn dtor,
		     smr_chain_next_fn next);

static inline void he_begin(struct he_thread *t) { (void)t; }

static inline void he_end(struct he_thread *t)
{
	/* release: our reads of what the slots protected happen before a reclaimer sees them empty. */
	for (int i = 0; i < t->nslots; i++)
		atomic_store_explicit(&t->era[i], HE_NONE, memory_order_release);
}

static inline void he_quiescent(struct he_thread *t) { (void)t; }

static inline void *he_protect(struct he_thread *t, int slot, void *_Atomic *src)
{
	_Atomic uint64_t *he = &t->era[slot];
	/* relaxed: our own slot, only we write it. */
	uint64_t prev = atomic_load_explicit(he, memory_order_relaxed);
	for (;;) {
		void *p = atomic_load_explicit(src, memory_order_acquire);
		/* acquire: pairs with the link that published p; the era read after p covers it. */
		uint64_t e = atomic_load_explicit(&t->d->clock, memory_order_acquire);
		if (__builtin_expect(e == prev, 1))
			return p;
		SMR_TEST_HOOK(SMR_HOOK_PROTECT_LOADED); /* test builds: p and e loaded, e not yet published */
		/*
		 * seq_cst exchange: the era must be visible before we load the
		 * pointer again (store->load), else a reclaimer could scan without
		 * it and free what we load.
		 */
		atomic_exchange_explicit(he, e, memory_order_seq_cst);
		prev = e;
	}
}

#define ERA_(x) he_##x
#include "era_impl.h"

#endif

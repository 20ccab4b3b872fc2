/* SPDX-License-Identifier: MIT */
/*
 * smr_common.h - pieces every scheme shares: object allocation and release
 * (with the poisoning the stress tests rely on), per-thread counters, intrusive
 * retire lists and the registration table.  Nothing here is on a read path.
 */
#ifndef SMR_COMMON_H
#define SMR_COMMON_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smr_pool.h"
#include "smr_types.h"

/* Cache line size; per-thread records are aligned to it to avoid false sharing. */
#define SMR_CACHE_LINE 64
#define SMR_ALIGNED __attribute__((aligned(SMR_CACHE_LINE)))

/* The byte that fills reclaimed memory when poisoning is on. */
#define SMR_POISON_BYTE 0xDD

/*
 * Poisoning (tests): when on, reclaimed objects are overwritten with
 * SMR_POISON_BYTE and kept in a quarantine until smr_quarantine_drain(), so a
 * reader that touches one after reclamation reads poison instead of a reused
 * block.  Set from the environment (SMRBENCH_POISON=1) by smr_debug_init().
 */
extern bool smr_poison_enabled;
void smr_debug_init(void);

/*
 * Object memory: the run's allocator (-P alloc): malloc, whichever library
 * the cell's process has preloaded, or Hart et al.'s pool (smr_pool.h).
 * Inline, so that an allocation costs what the allocator costs: one
 * predictable branch and its call.  The scheme's alloc initialises the
 * header fields it needs; nothing is zeroed here.
 */
void smr_out_of_memory(size_t size) __attribute__((noreturn, cold));

static inline void *smr_node_alloc(size_t size)
{
	void *n = smr_pool_on ? smr_pool_alloc(size) : malloc(size);
	if (__builtin_expect(!n, 0))
		smr_out_of_memory(size);
	return n;
}

/* The allocator that gave n (pool or malloc) takes it back. */
static inline void smr_node_release(void *n)
{
	if (smr_pool_on)
		smr_pool_free(n);
	else
		free(n);
}

/* Poison n and keep it in quarantine (smr_node_free's slow path). */
void smr_node_free_poisoned(void *n);

/* Give an object's memory back (poison and quarantine it when poisoning is on). */
static inline void smr_node_free(void *n)
{
	if (__builtin_expect(smr_poison_enabled, 0))
		smr_node_free_poisoned(n);
	else
		smr_node_release(n);
}

/* Free everything held in quarantine; called when a domain is destroyed. */
void smr_quarantine_drain(void);

/* Run the object's destructor (drop) if it has one, then free its memory. */
static inline void smr_node_reclaim(struct smr_node *n, smr_reclaim_fn dtor)
{
	if (dtor)
		dtor(n);
	smr_node_free(n);
}

/*
 * Per-thread counters.  Only the owner writes them (a relaxed load and store,
 * a plain mov on x86: no RMW); the harness may read them from another thread
 * while the run goes on.
 */
struct smr_counters {
	_Atomic uint64_t retired;
	_Atomic uint64_t reclaimed;
	_Atomic uint64_t peak;  /* peak of retired - reclaimed */
};

static inline void smr_counters_add_(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static inline void smr_count_retired(struct smr_counters *c)
{
	smr_counters_add_(&c->retired, 1);
	uint64_t backlog = atomic_load_explicit(&c->retired, memory_order_relaxed) -
			   atomic_load_explicit(&c->reclaimed, memory_order_relaxed);
	if (backlog > atomic_load_explicit(&c->peak, memory_order_relaxed))
		atomic_store_explicit(&c->peak, backlog, memory_order_relaxed);
}

static inline void smr_count_reclaimed(struct smr_counters *c, uint64_t n)
{
	smr_counters_add_(&c->reclaimed, n);
}

/* Add a thread's counters into a stats total. */
void smr_counters_sum(const struct smr_counters *c, struct smr_stats *out);

/*
 * Registration table: a fixed array of per-thread records, each starting with
 * struct smr_slot.  A record is claimed by CAS on in_use and stays in the
 * table after unregister, so its counters survive for the final stats.
 */
struct smr_slot {
	_Atomic bool in_use;
	bool ever_used;
};

/*
 * Claim a free record in an array of n records of record_size bytes each,
 * every record starting with struct smr_slot.  Returns the index or -1.
 */
int smr_slot_claim(void *records, size_t record_size, int n);
void smr_slot_release(struct smr_slot *s);

/* Allocate a zeroed, cache-line aligned array (records or a domain). */
void *smr_aligned_calloc(size_t n, size_t size);

/*
 * Deterministic interleavings (tests/scheme_selftest.c): a scheme whose
 * protect has a window between loading a pointer and publishing what keeps
 * it alive (hp and hp-asym publish the pointer, he and ibr an era, rc
 * increments the count) calls SMR_TEST_HOOK(SMR_HOOK_PROTECT_LOADED) in
 * that window, and defines SMR_PROTECT_HOOKED.  In the test builds
 * (SMRB_FAULTS) the hook calls this thread's smr_test_hook when one is set:
 * a selftest stops a reader there while a writer unlinks, retires and
 * reclaims.  In the measured binary it compiles to nothing.
 */
/*
 * Heavy-barrier accounting of the asymmetric schemes (hp-asym, ebr-asym:
 * SMR_OWN_BARRIER_STATS, <s>_barrier_stats): every scan that reads the
 * readers' hazards or epochs counts itself, every membarrier it issued
 * before that read counts too, and a scan that reached its read without one
 * counts as unfenced.  Kept in every build: a relaxed add or two beside a
 * syscall that costs microseconds.  tests/scheme_selftest.c checks unfenced == 0.
 * hp-pop counts the same way, a round of pings that every thread answered
 * standing for the membarrier.
 */
struct smr_barrier_stats {
	uint64_t scans;       /* scans that read the readers' announcements */
	uint64_t barriers;    /* membarrier(PRIVATE_EXPEDITED) calls that succeeded */
	uint64_t unfenced;    /* scans that read them with no barrier issued first */
};
struct smr_barrier_counters {
	_Atomic uint64_t scans, barriers, unfenced;
};
/* A scan is about to read: count it, and whether this scan issued its barrier. */
static inline void smr_barrier_count_scan(struct smr_barrier_counters *c, bool fenced)
{
	atomic_fetch_add_explicit(&c->scans, 1, memory_order_relaxed);
	if (!fenced)
		atomic_fetch_add_explicit(&c->unfenced, 1, memory_order_relaxed);
}
static inline void smr_barrier_read(struct smr_barrier_counters *c, struct smr_barrier_stats *out)
{
	out->scans = atomic_load_explicit(&c->scans, memory_order_relaxed);
	out->barriers = atomic_load_explicit(&c->barriers, memory_order_relaxed);
	out->unfenced = atomic_load_explicit(&c->unfenced, memory_order_relaxed);
}

enum smr_hook_point { SMR_HOOK_PROTECT_LOADED = 1 };
extern _Thread_local void (*smr_test_hook)(int point);
#ifdef SMRB_FAULTS
#define SMR_TEST_HOOK(point)                                   \
	do {                                                   \
		if (__builtin_expect(smr_test_hook != NULL, 0)) \
			smr_test_hook(point);                  \
	} while (0)
#else
#define SMR_TEST_HOOK(point) ((void)0)
#endif

/*
 * The contract's assertions, in the test builds only (SMRB_FAULTS:
 * smrbench-faults, smrbench-planted, in every tree), as liburcu's
 * urcu_assert: smr.h passes each call through these first (smr_check.c).
 * A handle is used by the thread that registered it, inside begin/end
 * pairs that do not nest; protect names a slot below the domain's
 * hazard_slots; retire comes from a registered handle.
 */
#ifdef SMRB_FAULTS
#define SMR_CHECKS 1
void smr_check_domain_created(const void *d, int hazard_slots);
void smr_check_domain_destroyed(const void *d);
void smr_check_registered(const void *d, const void *t);
void smr_check_unregistered(const void *t);
void smr_check_begin(const void *t);
void smr_check_end(const void *t);
void smr_check_protect(const void *t, int slot);
void smr_check_retire(const void *t);
#endif

/* Plain versions of protect and the link updates, for the schemes that need no more. */
static inline void *smr_plain_protect(void *_Atomic *src)
{
	return atomic_load_explicit(src, memory_order_acquire);
}

static inline void smr_plain_store(void *_Atomic *dst, void *v)
{
	atomic_store_explicit(dst, v, memory_order_release);
}

static inline bool smr_plain_cas(void *_Atomic *dst, void *expect, void *v)
{
	return atomic_compare_exchange_strong_explicit(dst, &expect, v, memory_order_acq_rel,
						       memory_order_acquire);
}

static inline void *smr_plain_exchange(void *_Atomic *dst, void *v)
{
	return atomic_exchange_explicit(dst, v, memory_order_acq_rel);
}

/* Read an integer scheme param from the config, by position. */
#define SMR_PARAM(cfg, i) ((cfg)->param[(i)])

#endif /* SMR_COMMON_H */

/* SPDX-License-Identifier: MIT */
/*
 * smr_types.h - the contract's types (smr.h): the object header every scheme
 * defines for itself, the destructor, the counters the harness reads, a
 * scheme's params and its domain's configuration.  Included first by
 * smr_common.h and smr.h, which build on them.
 */
#ifndef SMR_TYPES_H
#define SMR_TYPES_H

#include <stddef.h>
#include <stdint.h>

/*
 * The object header.  Every reclaimable object embeds its scheme's own
 * struct smr_node, holding only what that scheme needs, as the libraries'
 * users embed struct rcu_head or ck_epoch_entry:
 *
 *   none ebr ebr-asym nebr qsbr hp hp-asym   a retire link and the destructor
 *                                            (smr_node_link.h: 16 bytes)
 *   hp-pop epoch-pop                         the same (smr_node_link.h)
 *   he ibr                                   those, the birth and the retire
 *                                            era (era_impl.h: 32 bytes)
 *   rc                                       the count word, a link and the
 *                                            destructor (rc.h: 24 bytes)
 *   hyaline                                  a slot-list link, the batch's links,
 *                                            its count or birth era, the
 *                                            destructor (hyaline.h: 40 bytes)
 *   urcu-*, ck-*                             the library's own entry and the
 *                                            destructor (ext_*.h)
 *
 * A scheme's metadata is part of its cost, as it is for its users, so the
 * object sizes differ by scheme and every row records the workload's
 * (runs.csv object_bytes).  The struct is defined by the scheme's header:
 * here, and in every file that does not include one (smr_common.c, the
 * harness), it stays incomplete, and nothing there touches its fields.
 * smr_container_of() gets the object back from its header.
 */
struct smr_node;

#define smr_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/*
 * Destructor run on a retired object once no reader can reach it.  It frees
 * what the object owns (recursively, or by pushing a page id onto a free
 * list); the memory of the object itself is then freed by the scheme.
 */
typedef void (*smr_reclaim_fn)(struct smr_node *n);

/* Low pointer bits a workload may use as marks (Harris/Michael lists): never part of an address. */
#define SMR_MARK_MASK ((uintptr_t)3)

static inline void *smr_unmark(void *p)
{
	return (void *)((uintptr_t)p & ~SMR_MARK_MASK);
}

/* For smr_retire_chain: the next object of a chain retired as one (NULL at the end). */
typedef struct smr_node *(*smr_chain_next_fn)(struct smr_node *n);

/* Counters every scheme keeps; the harness reads them. */
struct smr_stats {
	uint64_t retired;          /* objects handed to retire */
	uint64_t reclaimed;        /* objects whose memory was given back */
	/*
	 * Peak of retired-but-not-reclaimed objects: the sum over threads of each
	 * thread's own peak backlog.  Every native scheme frees what a thread
	 * retired from that thread's own lists, so this bounds the true
	 * simultaneous peak from above and equals it with one retiring thread.
	 */
	uint64_t unreclaimed_peak;
	/*
	 * Filled at domain destroy only (0 in a live snapshot): objects that a
	 * scheme with a pool of its own (rc's type-stable pool) still held
	 * live, never retired or retired but still counted by a link.  The
	 * workload's teardown freed everything, so anything here leaked where
	 * LSan cannot see it.  The harness adds the -P alloc=pool allocator's
	 * live objects (smr_pool_live_objects()) and fails the cell unless 0.
	 */
	uint64_t pool_live;
	/*
	 * Filled by a workload's destroy, after the domain's: payloads it made
	 * minus payloads it destroyed (lazy: box, rc, str; bwtree: page ids,
	 * which id records give back).  Not 0 when an object was retired with
	 * free where drop was due; the harness fails the cell.
	 */
	int64_t payloads_live;
	/*
	 * Publish on ping (hp-pop, epoch-pop; 0 for every other scheme): rounds
	 * in which every registered thread answered, signals sent, and rounds
	 * given up because a thread did not answer in time (smr_ping.h).
	 */
	uint64_t ping_rounds, ping_signals, ping_unanswered;
};

/* A scheme parameter, set with -P name=value. */
struct smr_param_spec {
	const char *name;
	const char *def;
	const char *help;
	long min, max;
};

#define SMR_MAX_PARAMS 8
/* Domain configuration: the values of the scheme's params, in spec order. */
struct smr_config {
	int max_threads;            /* threads that may register */
	int hazard_slots;           /* slots a thread needs (HP-like schemes) */
	long param[SMR_MAX_PARAMS]; /* scheme params, in SMR_PARAMS_<s> order */
};

#endif /* SMR_TYPES_H */

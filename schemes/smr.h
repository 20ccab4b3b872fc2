/*
 * smr.h - the contract every safe-memory-reclamation scheme implements.
 *
 * A workload is written once against the smr_* names below and compiled once
 * per scheme: the translation unit defines SMR_SCHEME to the scheme's token
 * (none, ebr, qsbr, ...) before including this header, and every smr_* name
 * becomes that scheme's static inline function or type.  So begin, protect
 * and end inline into the workload's loop with no indirect call, as the C++
 * suites get from templates (setbench builds one binary per combination; we
 * build one object per scheme).
 *
 * Per scheme <s>, schemes/<s>.h must provide:
 *
 *   struct <s>_domain, struct <s>_thread
 *   struct <s>_domain *<s>_domain_create(const struct smr_config *cfg, char *err, size_t errlen)
 *   void  <s>_domain_destroy(struct <s>_domain *d, struct smr_stats *out)
 *                                  reclaims every retired object, then fills out
 *   struct <s>_thread *<s>_register(struct <s>_domain *d)
 *   void  <s>_unregister(struct <s>_thread *t)
 *   void  <s>_begin(struct <s>_thread *t)   start a read-side critical region
 *   void  <s>_end(struct <s>_thread *t)     end it; drop every protection
 *   void *<s>_protect(struct <s>_thread *t, int slot, void *_Atomic *src)
 *                                  load *src so that the object stays valid until
 *                                  end() or until slot is reused
 *   void  <s>_quiescent(struct <s>_thread *t)  "I hold no references now"; workloads
 *                                  call it after every batch of operations
 *   void *<s>_alloc(struct <s>_thread *t, size_t size)  object starting with smr_node
 *   void  <s>_dealloc(struct <s>_thread *t, struct smr_node *n)
 *                                  free an object nobody else ever saw
 *   void  <s>_retire(struct <s>_thread *t, struct smr_node *n, smr_reclaim_fn dtor)
 *   void  <s>_reclaim_now(struct <s>_thread *t, struct smr_node *n, smr_reclaim_fn dtor)
 *                                  run dtor and free n at once (used only by the
 *                                  planted early-free bug of the tests)
 *   void  <s>_store(struct <s>_thread *t, void *_Atomic *dst, void *v)
 *   void *<s>_exchange(struct <s>_thread *t, void *_Atomic *dst, void *v)
 *                                  store, cas and exchange are how workloads update
 *                                  shared links: RC adjusts link counts in them,
 *                                  every other scheme is a plain atomic
 *   bool  <s>_cas(struct <s>_thread *t, void *_Atomic *dst, void *expect, void *v)
 *   void  <s>_stats(struct <s>_domain *d, struct smr_stats *out)  racy snapshot
 *   SMR_PARAMS_<s>   a list of struct smr_param_spec initialisers, each ending in
 *                    a comma (may be empty); their values arrive in cfg->param[]
 *
 * Workloads retire through smr_retire_drop() or smr_retire_free() (below):
 * the choice between running a destructor and freeing bare memory is made by
 * name at every call.  Both seeds of this project were bitten by confusing
 * the two.
 *
 * Optional, each behind a flag the scheme's header defines (smr_common.h's
 * plain versions otherwise): SMR_OWN_PROTECT (<s>_protect), SMR_OWN_ALLOC
 * (<s>_alloc, <s>_dealloc, <s>_reclaim_now), SMR_OWN_LINKS (<s>_store,
 * <s>_cas, <s>_exchange, <s>_drop_link), SMR_OWN_QUIESCENT_INTERVAL
 * (<s>_quiescent_interval), SMR_OWN_CHAIN (<s>_retire_chain), SMR_OWN_CARVE
 * (<s>_carved: an object carved out of another's allocation, see below).
 *
 * Ownership rules every workload follows, so that reference counting (RC)
 * works behind the same calls:
 *  - smr_alloc() returns an object nobody else can see; until it is linked
 *    in, smr_dealloc() frees it at once (reset its own links to NULL with
 *    smr_store first, or RC keeps the counts they hold).
 *  - Every update of a shared link goes through smr_store/smr_cas/
 *    smr_exchange.  A link holds a reference on its target: RC counts it,
 *    others do nothing.  A successful cas or an exchange gives up the link's
 *    reference on the value it replaced.
 *  - Every load of a shared link that is then dereferenced goes through
 *    smr_protect(t, slot, src).  The reference lasts until the slot is
 *    protected again or smr_end().  The value returned is the raw link,
 *    mark bits (SMR_MARK_MASK) included; the scheme protects the unmarked
 *    address.
 *  - smr_retire_*() is called once an object is unlinked, by a thread that
 *    still holds it.  If the thread holds it protected, it may go on using it
 *    until the protection ends.  If it took it out with smr_exchange (no
 *    protection, no count under RC), retire is its last use: RC may free it
 *    at once.  An object is freed once it is retired and nobody holds it.
 *  - A destructor releases the links the object holds with
 *    smr_drop_link(&obj->link) (the link's address)
 *    (RC: the target loses a count and may be freed in turn, recursively;
 *    others: nothing), then whatever else the object owns.
 */
#ifndef SMR_H
#define SMR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The object header.  Every reclaimable object embeds its scheme's own
 * struct smr_node, holding only what that scheme needs, as the libraries'
 * users embed struct rcu_head or ck_epoch_entry:
 *
 *   none ebr ebr-asym nebr qsbr hp hp-asym   a retire link and the destructor
 *                                            (smr_node_link.h: 16 bytes)
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

#include "smr_common.h"

#ifdef SMR_SCHEME

#define SMR_CAT2_(a, b) a##_##b
#define SMR_CAT2(a, b) SMR_CAT2_(a, b)
/* SMR_SYM(x): a symbol that is unique to this scheme's instance. */
#define SMR_SYM(x) SMR_CAT2(x, SMR_SCHEME)
#define SMR_STR_(x) #x
#define SMR_STR(x) SMR_STR_(x)
#define SMR_HEADER_(s) SMR_STR(s.h)

#include SMR_HEADER_(SMR_SCHEME)

typedef struct SMR_CAT2(SMR_SCHEME, domain) smr_domain;
typedef struct SMR_CAT2(SMR_SCHEME, thread) smr_thread;

#define smr_domain_create SMR_CAT2(SMR_SCHEME, domain_create)
#define smr_domain_destroy SMR_CAT2(SMR_SCHEME, domain_destroy)
#define smr_register SMR_CAT2(SMR_SCHEME, register)
#define smr_unregister SMR_CAT2(SMR_SCHEME, unregister)
#define smr_begin SMR_CAT2(SMR_SCHEME, begin)
#define smr_end SMR_CAT2(SMR_SCHEME, end)
#define smr_quiescent SMR_CAT2(SMR_SCHEME, quiescent)
#define smr_stats_read SMR_CAT2(SMR_SCHEME, stats)
#define smr_retire_raw_ SMR_CAT2(SMR_SCHEME, retire)

/*
 * Schemes whose protect is a plain acquire load, whose objects are malloc'd
 * and whose links are plain atomics take the smr_plain_* versions of
 * smr_common.h; a scheme that needs its own defines SMR_OWN_PROTECT,
 * SMR_OWN_ALLOC or SMR_OWN_LINKS in its header and provides them.
 */
#ifdef SMR_OWN_PROTECT
#define smr_protect SMR_CAT2(SMR_SCHEME, protect)
#else
#define smr_protect(t, slot, src) ((void)(t), (void)(slot), smr_plain_protect(src))
#endif
#ifdef SMR_OWN_ALLOC
#define smr_alloc SMR_CAT2(SMR_SCHEME, alloc)
#define smr_dealloc SMR_CAT2(SMR_SCHEME, dealloc)
#define smr_reclaim_now_ SMR_CAT2(SMR_SCHEME, reclaim_now)
#else
#define smr_alloc(t, size) ((void)(t), smr_node_alloc(size))
#define smr_dealloc(t, n) ((void)(t), smr_node_free(n))
#define smr_reclaim_now_(t, n, dtor) ((void)(t), smr_node_reclaim(n, dtor))
#endif
/*
 * smr_carved(n, block): n was not allocated on its own but carved out of
 * block's allocation (a Bw-tree delta slot beside its base), and is freed
 * with it.  HE and IBR give n the block's birth era: n's memory is as old as
 * the block's, so a chain's interval only widens (safe).  Nothing for the
 * others.
 */
#ifdef SMR_OWN_BARRIER_STATS
#define smr_barrier_stats_read SMR_CAT2(SMR_SCHEME, barrier_stats)
#endif
#ifdef SMR_OWN_CARVE
#define smr_carved SMR_CAT2(SMR_SCHEME, carved)
#else
#define smr_carved(n, block) ((void)(n), (void)(block))
#endif
/*
 * Workloads call quiescent() after every batch of smr_quiescent_interval()
 * operations, checking their stop flag at the same point.  QSBR sets the
 * batch from its qsbr_k param; every other scheme runs batches of
 * SMR_DEFAULT_BATCH (Hart et al.'s 100).
 */
#define SMR_DEFAULT_BATCH 100
#ifdef SMR_OWN_QUIESCENT_INTERVAL
#define smr_quiescent_interval SMR_CAT2(SMR_SCHEME, quiescent_interval)
#else
#define smr_quiescent_interval(t) ((void)(t), (long)SMR_DEFAULT_BATCH)
#endif
#ifdef SMR_OWN_LINKS
#define smr_store SMR_CAT2(SMR_SCHEME, store)
#define smr_cas SMR_CAT2(SMR_SCHEME, cas)
#define smr_exchange SMR_CAT2(SMR_SCHEME, exchange)
#define smr_drop_link SMR_CAT2(SMR_SCHEME, drop_link)
#else
#define smr_store(t, dst, v) ((void)(t), smr_plain_store(dst, v))
#define smr_cas(t, dst, expect, v) ((void)(t), smr_plain_cas(dst, expect, v))
#define smr_exchange(t, dst, v) ((void)(t), smr_plain_exchange(dst, v))
#define smr_drop_link(link) ((void)(link))
#endif

#ifdef SMR_PLANT_EARLY_FREE
/*
 * The planted bug of the early-free tests: reclaim at retire time, while
 * readers may still hold the object.  The stress tests must catch it, for
 * every scheme, by the readers' canary check on poisoned memory or by ASan.
 * The object bypasses the scheme, so the scheme's own counters stay
 * consistent and only the use after free can fail the run.
 */
static inline void smr_retire_planted_(smr_thread *t, struct smr_node *n, smr_reclaim_fn dtor)
{
	smr_reclaim_now_(t, n, dtor);
}
#define smr_retire_ smr_retire_planted_
#else
#define smr_retire_ smr_retire_raw_
#endif

/* Retire with a destructor: dtor frees what the object owns, then its memory goes. */
static inline void smr_retire_drop(smr_thread *t, struct smr_node *n, smr_reclaim_fn dtor)
{
	smr_retire_(t, n, dtor);
}

/* Retire bare memory: the contents were moved out, so no destructor runs. */
static inline void smr_retire_free(smr_thread *t, struct smr_node *n)
{
	smr_retire_(t, n, NULL);
}

/*
 * Retire a chain of objects as one (a Bw-tree page's delta chain): head is
 * its first object, next() walks it, dtor (run on head) frees the whole
 * chain.  A scheme that protects addresses (HP) must check every object of
 * the chain against its hazards, since a reader may hold one deep inside:
 * it defines SMR_OWN_CHAIN.  For every other scheme the chain is one object.
 */
#ifdef SMR_OWN_CHAIN
#define smr_retire_chain SMR_CAT2(SMR_SCHEME, retire_chain)
#else
static inline void smr_retire_chain(smr_thread *t, struct smr_node *head, smr_reclaim_fn dtor,
				    smr_chain_next_fn next)
{
	(void)next;
	smr_retire_drop(t, head, dtor);
}
#endif

#endif /* SMR_SCHEME */
#endif /* SMR_H */

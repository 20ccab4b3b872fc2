/* SPDX-License-Identifier: MIT */
/*
 * ext_urcu.h - liburcu (userspace RCU, 0.13) as a reference back end.
 *
 * A template: ext_urcu_qsbr.h, ext_urcu_memb.h and ext_urcu_mb.h each include
 * one flavour's LGPL header (the inline read side, _LGPL_SOURCE) and then this
 * file, with EXT_URCU set to the scheme's token and EXT_URCU_LIB to the
 * flavour's symbol prefix (urcu_qsbr, urcu_memb, urcu_mb).  A translation unit
 * holds one flavour: liburcu's names (call_rcu, rcu_head ...) are per flavour.
 *
 * What each operation is:
 *   begin/end    the flavour's rcu_read_lock/unlock, inline:
 *                  qsbr: nothing;
 *                  memb: TLS nesting counter, store of the grace-period
 *                        counter, compiler barrier (membarrier(2) on the
 *                        writer side supplies the fence); unlock: store and
 *                        a check whether a writer waits;
 *                  mb:   the same with mfence: one on lock, two on unlock.
 *   protect      a plain acquire load (rcu_dereference).
 *   quiescent    qsbr: rcu_quiescent_state() (a TLS compare, and when the
 *                grace period moved a store between mfences); others nothing.
 *   retire       call_rcu(): the object's rcu_head is queued (wait-free queue,
 *                an xchg) on the flavour's default call_rcu worker thread,
 *                which waits a grace period per batch of callbacks and runs
 *                them.  The callback runs the destructor, frees the object
 *                and counts it.
 *
 * The header: liburcu's struct rcu_head (16 bytes), as its users embed it,
 * and the destructor (8): a user's callback knows its type, ours is one
 * callback for every type.  The callback counts the reclaim in the domain,
 * which it finds through EU(live): one domain of a flavour at a time per
 * process (every cell and test makes them one after another; a second
 * create is refused).  The unreclaimed peak is sampled by the callback every
 * EU_PEAK_EVERY reclaims (Σ retired - reclaimed), so it is exact to within
 * that many.
 *
 * Threads: liburcu's reader is the OS thread.  smr_register registers it on
 * its first handle, smr_unregister unregisters it with its last one.  QSBR: a
 * registered thread is online; smr_quiescent announces; destroy goes offline
 * around rcu_barrier() when its own thread is still registered.
 *
 * Domain destroy waits for every callback queued so far (rcu_barrier()), so
 * every retired object is reclaimed and counted before it returns.
 */
#include <stddef.h>
#include <stdlib.h>

#define EU_CAT_(a, b) a##_##b
#define EU_CAT(a, b) EU_CAT_(a, b)
#define EU(x) EU_CAT(EXT_URCU, x)          /* this scheme's names */
#define EU_LIB(x) EU_CAT(EXT_URCU_LIB, x)  /* the flavour's liburcu names */

struct smr_node {
	struct rcu_head smr_head;       /* liburcu's entry: call_rcu() queues it */
	smr_reclaim_fn smr_dtor;        /* run by the callback; NULL: bare free */
};

#define EU_PEAK_EVERY 32

struct EU(thread) {
	struct smr_slot slot;
	struct EU(domain) *d;
	unsigned qs_mark;                        /* QSBR: qs_round + 1 once this handle passed one */
	struct smr_counters cnt;                 /* retired: the owner writes; reclaimed, peak unused */
} SMR_ALIGNED;

struct EU(domain) {
	int max_threads;
	struct EU(thread) *threads;
	_Atomic uint64_t reclaimed SMR_ALIGNED;  /* the call_rcu thread adds here: own line */
	_Atomic uint64_t peak;                   /* sampled by the callbacks */
};

/* The domain whose callbacks may run: at most one per flavour (above). */
extern struct EU(domain) *_Atomic EU(live);

struct EU(domain) *EU(domain_create)(const struct smr_config *cfg, char *err, size_t errlen);
void EU(domain_destroy)(struct EU(domain) *d, struct smr_stats *out);
struct EU(thread) *EU(register)(struct EU(domain) *d);
void EU(unregister)(struct EU(thread) *t);
void EU(stats)(struct EU(domain) *d, struct smr_stats *out);
/* The call_rcu callback: destructor, free, count. */
void EU(reclaim_cb)(struct rcu_head *h);
#if EXT_URCU_QSBR
/*
 * liburcu's reader is the OS thread, ours is the handle: an OS thread may hold
 * several (a test's reader and writer, two domains).  The thread announces a
 * quiescent state once every handle it holds passed one since its last
 * announcement (with one handle: at every call).  Per OS thread: handles held,
 * handles that passed one in this round, and the round.
 */
extern __thread int EU(handles);
extern __thread int EU(qs_count);
extern __thread unsigned EU(qs_round);
#endif
#ifdef EXT_TSAN
/* ThreadSanitizer tokens (ext_tsan.h): readers' sections end -> callbacks; callbacks -> destroy. */
extern char EU(tsan_gp), EU(tsan_cb);
#endif

static inline void EU(begin)(struct EU(thread) *t)
{
	(void)t;
	EU_LIB(read_lock)();
}

static inline void EU(end)(struct EU(thread) *t)
{
	(void)t;
#if !EXT_URCU_QSBR
	/* Before the unlock: from there on a grace period may end and a callback free. */
	EXT_TSAN_RELEASE(&EU(tsan_gp));
#endif
	EU_LIB(read_unlock)();
}

static inline void EU(quiescent)(struct EU(thread) *t)
{
#if EXT_URCU_QSBR
	unsigned mark = EU(qs_round) + 1;
	if (t->qs_mark == mark)
		return;         /* this handle already counted in this round */
	t->qs_mark = mark;
	if (++EU(qs_count) < EU(handles))
		return;         /* another handle of this thread may still hold references */
	EU(qs_count) = 0;
	EU(qs_round) = mark;
	EXT_TSAN_RELEASE(&EU(tsan_gp));
	EU_LIB(quiescent_state)();
#else
	(void)t;
#endif
}

static inline void EU(retire)(struct EU(thread) *t, struct smr_node *n, smr_reclaim_fn dtor)
{
	n->smr_dtor = dtor;
	/* Counted before the callback can run: reclaimed never passes retired. */
	smr_counters_add_(&t->cnt.retired, 1);
	EXT_TSAN_RELEASE(n);
	EU_LIB(call_rcu)(&n->smr_head, EU(reclaim_cb));
}

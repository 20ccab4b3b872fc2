/* SPDX-License-Identifier: MIT */
/*
 * ext_urcu_impl.h - the slow paths of the liburcu back end, for the flavour
 * whose header (ext_urcu_<flavour>.h) was included just before: ext_urcu_qsbr.c,
 * ext_urcu_memb.c and ext_urcu_mb.c are this file, one flavour each.
 */
#include <stdio.h>

#define EU_STR_(x) #x
#define EU_STR(x) EU_STR_(x)

/* Handles this OS thread holds (any domain): liburcu registers the OS thread once. */
__thread int EU(handles);
#if EXT_URCU_QSBR
__thread int EU(qs_count);         /* handles past a quiescent state in this round */
__thread unsigned EU(qs_round);
#endif

#ifdef EXT_TSAN
char EU(tsan_gp), EU(tsan_cb);
#endif

struct EU(domain) *_Atomic EU(live);

/* Σ retired - reclaimed, into the domain's peak (the callback thread alone writes it). */
static void EU(sample_peak_)(struct EU(domain) *d, uint64_t reclaimed)
{
	uint64_t retired = 0;
	for (int i = 0; i < d->max_threads; i++)
		retired += atomic_load_explicit(&d->threads[i].cnt.retired, memory_order_relaxed);
	/* + 1: the object just freed was still unreclaimed a moment ago. */
	uint64_t backlog = retired > reclaimed ? retired - reclaimed + 1 : 1;
	if (backlog > atomic_load_explicit(&d->peak, memory_order_relaxed))
		atomic_store_explicit(&d->peak, backlog, memory_order_relaxed);
}

void EU(reclaim_cb)(struct rcu_head *h)
{
	struct smr_node *n = smr_container_of(h, struct smr_node, smr_head);
	/* ThreadSanitizer: the retire, and every read-side section ended so far, come before. */
	EXT_TSAN_ACQUIRE(n);
	EXT_TSAN_ACQUIRE(&EU(tsan_gp));
	struct EU(domain) *d = atomic_load_explicit(&EU(live), memory_order_acquire);
	smr_node_reclaim(n, n->smr_dtor);
	/* An RMW: rcu_barrier() and the worker may both run callbacks. */
	uint64_t r = atomic_fetch_add_explicit(&d->reclaimed, 1, memory_order_relaxed) + 1;
	if (r % EU_PEAK_EVERY == 1)
		EU(sample_peak_)(d, r);
	EXT_TSAN_RELEASE(&EU(tsan_cb));
}

struct EU(domain) *EU(domain_create)(const struct smr_config *cfg, char *err, size_t errlen)
{
	struct EU(domain) *d = smr_aligned_calloc(1, sizeof *d);
	struct EU(domain) *none = NULL;
	/* release: the callback thread that finds d sees it set up (d->threads below is
	 * written before any retire, which call_rcu publishes to the callback anyway). */
	if (!atomic_compare_exchange_strong_explicit(&EU(live), &none, d, memory_order_acq_rel,
						     memory_order_relaxed)) {
		snprintf(err, errlen, "%s: one domain at a time per process (another one is live)",
			 EU_STR(EXT_URCU_LIB));
		free(d);
		return NULL;
	}
	d->max_threads = cfg->max_threads;
	d->threads = smr_aligned_calloc((size_t)cfg->max_threads, sizeof *d->threads);
	for (int i = 0; i < d->max_threads; i++)
		d->threads[i].d = d;
	return d;
}

struct EU(thread) *EU(register)(struct EU(domain) *d)
{
	int i = smr_slot_claim(d->threads, sizeof *d->threads, d->max_threads);
	if (i < 0)
		return NULL;
	struct EU(thread) *t = &d->threads[i];
#if EXT_URCU_QSBR
	t->qs_mark = EU(qs_round);           /* not past a quiescent state in this round */
#endif
	if (EU(handles)++ == 0)
		EU_LIB(register_thread)();   /* QSBR: online from here */
	return t;
}

void EU(unregister)(struct EU(thread) *t)
{
	EXT_TSAN_RELEASE(&EU(tsan_gp));   /* QSBR: going offline ends the thread's section */
#if EXT_URCU_QSBR
	if (t->qs_mark == EU(qs_round) + 1)
		EU(qs_count)--;              /* it no longer counts in this round */
#endif
	smr_slot_release(&t->slot);
	if (--EU(handles) == 0) {
		EU_LIB(unregister_thread)(); /* QSBR: offline first */
#if EXT_URCU_QSBR
		EU(qs_count) = 0;
		EU(qs_round)++;
#endif
	}
#if EXT_URCU_QSBR
	else if (EU(qs_count) >= EU(handles)) {
		/* Every handle left passed a quiescent state: the round is complete. */
		EU(qs_count) = 0;
		EU(qs_round)++;
		EU_LIB(quiescent_state)();
	}
#endif
}

void EU(stats)(struct EU(domain) *d, struct smr_stats *out)
{
	*out = (struct smr_stats){0};
	for (int i = 0; i < d->max_threads; i++)
		out->retired += atomic_load_explicit(&d->threads[i].cnt.retired, memory_order_relaxed);
	out->reclaimed = atomic_load_explicit(&d->reclaimed, memory_order_relaxed);
	out->unreclaimed_peak = atomic_load_explicit(&d->peak, memory_order_relaxed);
}

void EU(domain_destroy)(struct EU(domain) *d, struct smr_stats *out)
{
	/*
	 * Wait for every callback queued so far (ours among them).  A QSBR
	 * thread that is still registered (a handle of another domain) must be
	 * offline meanwhile, or the grace period would wait for it.
	 */
#if EXT_URCU_QSBR
	bool online = EU(handles) > 0;
	if (online)
		EU_LIB(thread_offline)();
#endif
	EU_LIB(barrier)();
	EXT_TSAN_ACQUIRE(&EU(tsan_cb));    /* every callback ran (rcu_barrier) */
#if EXT_URCU_QSBR
	if (online)
		EU_LIB(thread_online)();
#endif
	EU(stats)(d, out);
	atomic_store_explicit(&EU(live), NULL, memory_order_release);
	smr_quarantine_drain();
	free(d->threads);
	free(d);
}

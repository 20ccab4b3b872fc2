/*
 * ext_urcu_impl.h - the slow paths of the liburcu back end, for the flavour
 * whose header (ext_urcu_<flavour>.h) was included just before: ext_urcu_qsbr.c,
 * ext_urcu_memb.c and ext_urcu_mb.c are this file, one flavour each.
 */

/* Handles this OS thread holds (any domain): liburcu registers the OS thread once. */
__thread int EU(handles);
#if EXT_URCU_QSBR
__thread int EU(qs_count);         /* handles past a quiescent state in this round */
__thread unsigned EU(qs_round);
#endif

#ifdef EXT_TSAN
char EU(tsan_gp), EU(tsan_cb);
#endif

void EU(reclaim_cb)(struct rcu_head *h)
{
	struct smr_node *n = (struct smr_node *)(void *)((char *)h - offsetof(struct smr_node, smr_birth));
	/* ThreadSanitizer: the retire, and every read-side section ended so far, come before. */
	EXT_TSAN_ACQUIRE(n);
	EXT_TSAN_ACQUIRE(&EU(tsan_gp));
	struct EU(thread) *t = (struct EU(thread) *)(void *)n->smr_next;
	smr_node_reclaim(n, n->smr_dtor);
	/* Callbacks run on the call_rcu thread, several retiring threads' at once: an RMW. */
	atomic_fetch_add_explicit(&t->reclaimed, 1, memory_order_relaxed);
	EXT_TSAN_RELEASE(&EU(tsan_cb));
}

struct EU(domain) *EU(domain_create)(const struct smr_config *cfg, char *err, size_t errlen)
{
	(void)err; (void)errlen;
	struct EU(domain) *d = smr_aligned_calloc(1, sizeof *d);
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
	for (int i = 0; i < d->max_threads; i++) {
		struct EU(thread) *t = &d->threads[i];
		out->retired += atomic_load_explicit(&t->cnt.retired, memory_order_relaxed);
		out->reclaimed += atomic_load_explicit(&t->reclaimed, memory_order_relaxed);
		out->unreclaimed_peak += atomic_load_explicit(&t->cnt.peak, memory_order_relaxed);
	}
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
	smr_quarantine_drain();
	free(d->threads);
	free(d);
}

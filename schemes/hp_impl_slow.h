/* SPDX-License-Identifier: MIT */
/*
 * hp_impl_slow.h - the slow paths of hazard pointers (registration, scan,
 * teardown), written once for hp.c and hp_asym.c: the including file has
 * included its scheme header (which defines HP_ and HP_ASYM) first.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smr_hazard_snap.h"
#if HP_ASYM
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#if HP_ASYM
static int HP_(membarrier_)(int cmd)
{
	return (int)syscall(__NR_membarrier, cmd, 0, 0);
}
#endif

/* Free the entries of l that no hazard holds; keep the others on l. */
static void HP_(sweep_)(struct HP_(thread) *t, struct smr_list *l, size_t nsnap, smr_chain_next_fn next)
{
	/* Detach the list: a destructor may retire onto it while we walk. */
	struct smr_node *x = l->head;
	l->head = NULL;
	l->count = 0;
	while (x) {
		struct smr_node *after = x->smr_next;
		if (smr_hazard_held(t->snap, nsnap, x, next)) {
			smr_list_push(l, x);
		} else {
			smr_node_reclaim(x, x->smr_dtor);
			smr_count_reclaimed(&t->cnt, 1);
		}
		x = after;
	}
}

struct HP_(domain) *HP_(domain_create)(const struct smr_config *cfg, char *err, size_t errlen)
{
#if HP_ASYM
	/*
	 * Register for private expedited membarrier: without it the command
	 * scan() issues fails, and there is no cheap fallback that keeps
	 * protect() fence-free.  Refuse to start instead: a scheme that cannot
	 * keep its own fast path does not run under its name.
	 */
	int mask = HP_(membarrier_)(MEMBARRIER_CMD_QUERY);
	if (mask < 0 || !(mask & MEMBARRIER_CMD_PRIVATE_EXPEDITED) ||
	    HP_(membarrier_)(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) < 0) {
		snprintf(err, errlen,
			 "hp-asym needs membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) (Linux >= 4.14): %s",
			 mask < 0 ? strerror(errno) : "not supported by this kernel");
		return NULL;
	}
#elif HP_POP
	if (smr_ping_install(err, errlen) < 0)
		return NULL;
#else
	(void)err;
	(void)errlen;
#endif
	struct HP_(domain) *d = smr_aligned_calloc(1, sizeof *d);
	d->max_threads = cfg->max_threads;
	d->k = cfg->hazard_slots > 0 ? cfg->hazard_slots : 1;
	/* A row per thread, rounded up to whole cache lines: a reader's
	 * exchange on its own slot never bounces another reader's line. */
	size_t per_line = SMR_CACHE_LINE / sizeof(void *);
	d->stride = ((size_t)d->k + per_line - 1) / per_line * per_line;
	d->hazards = smr_aligned_calloc((size_t)d->max_threads * d->stride, sizeof(void *));
	d->threads = smr_aligned_calloc((size_t)d->max_threads, sizeof *d->threads);
#if HP_POP
	d->locals = smr_aligned_calloc((size_t)d->max_threads * d->stride, sizeof(void *));
#endif
	uint64_t h = (uint64_t)d->max_threads * (uint64_t)d->k;
	uint64_t r = (uint64_t)SMR_PARAM(cfg, 0) + 2 * h; /* Hart et al.: R = 100 + 2H */
	for (int i = 0; i < d->max_threads; i++) {
		struct HP_(thread) *t = &d->threads[i];
		t->d = d;
		t->k = d->k;
		t->hp = &d->hazards[(size_t)i * d->stride];
#if HP_POP
		t->hp = &d->locals[(size_t)i * d->stride];
		t->want = calloc((size_t)d->max_threads, sizeof *t->want);
		if (!t->want) {
			fprintf(stderr, "smrbench: out of memory allocating ping scratch\n");
			abort();
		}
#endif
		t->threshold = r;
		t->snap = calloc(h, sizeof(void *));
		if (!t->snap) {
			fprintf(stderr, "smrbench: out of memory allocating hazard snapshots\n");
			abort();
		}
	}
	return d;
}

struct HP_(thread) *HP_(register)(struct HP_(domain) *d)
{
	int i = smr_slot_claim(d->threads, sizeof *d->threads, d->max_threads);
	if (i < 0)
		return NULL;
#if HP_POP
	/* On the registering thread: the one the pings must reach. */
	smr_ping_join(&d->threads[i].ping, d->threads[i].hp, &d->hazards[(size_t)i * d->stride], d->k);
#endif
	return &d->threads[i];
}

void HP_(unregister)(struct HP_(thread) *t)
{
	HP_(clear_)(t);
	/* What a scan cannot free yet stays with the record: the next thread
	 * that claims it, or domain destroy, frees it. */
	if (t->retired.head || t->chains.head)
		HP_(scan)(t);
#if HP_POP
	smr_ping_leave(&t->ping);
#endif
	smr_slot_release(&t->slot);
}

void HP_(scan)(struct HP_(thread) *t)
{
	struct HP_(domain) *d = t->d;
	t->scanning = true;
	bool fenced = false;
#if HP_ASYM
	/*
	 * Every thread of ours that is running gets a full barrier now: the
	 * hazards readers published with plain stores are visible below, and a
	 * reader that had not published yet will see our unlinks when it
	 * re-reads its source.
	 */
	if (HP_(membarrier_)(MEMBARRIER_CMD_PRIVATE_EXPEDITED) < 0) {
		fprintf(stderr, "smrbench: hp-asym: membarrier failed: %s\n", strerror(errno));
		abort();
	}
	atomic_fetch_add_explicit(&d->barriers.barriers, 1, memory_order_relaxed);
	fenced = true;
#elif HP_POP
	/*
	 * Every registered thread publishes its local slots now, ours included
	 * (smr_ping.h).  A round that a thread did not answer in time frees
	 * nothing: the list stays, and the next retire tries again.
	 */
	if (!smr_ping_round(&d->threads[0].ping, sizeof *d->threads, d->max_threads, t->want, &d->pings)) {
		t->scanning = false;
		return;
	}
	atomic_fetch_add_explicit(&d->barriers.barriers, 1, memory_order_relaxed);
	fenced = true;
#elif defined(__SANITIZE_THREAD__)
	/* TSan does not model standalone fences: a seq_cst RMW is the same full barrier on x86. */
	static _Atomic int tsan_fence_;
	atomic_fetch_add_explicit(&tsan_fence_, 1, memory_order_seq_cst);
#else
	/*
	 * Store->load order between the unlinks this thread made before retiring
	 * (RMWs that are only acq_rel in C11) and the slot reads below; pairs
	 * with protect's seq_cst exchange and seq_cst re-load.  One per scan.
	 */
	atomic_thread_fence(memory_order_seq_cst);
#endif
#if HP_ASYM || HP_POP
	smr_barrier_count_scan(&d->barriers, fenced);
#else
	(void)fenced;
#endif
	size_t n = smr_hazard_snapshot(d->hazards, d->max_threads, d->stride, d->k, t->snap);
	HP_(sweep_)(t, &t->retired, n, NULL);
	HP_(sweep_)(t, &t->chains, n, t->chain_next);
	t->scanning = false;
}

void HP_(stats)(struct HP_(domain) *d, struct smr_stats *out)
{
	*out = (struct smr_stats){0};
	for (int i = 0; i < d->max_threads; i++)
		smr_counters_sum(&d->threads[i].cnt, out);
#if HP_POP
	smr_ping_stats(&d->pings, out);
#endif
}

void HP_(domain_destroy)(struct HP_(domain) *d, struct smr_stats *out)
{
	/* No thread is registered any more: no hazard is set, everything goes.
	 * Repeat in case a destructor retired something. */
	bool again = true;
	while (again) {
		again = false;
		for (int i = 0; i < d->max_threads; i++) {
			struct HP_(thread) *t = &d->threads[i];
			if (t->retired.head || t->chains.head) {
				struct smr_list l = t->retired, c = t->chains;
				t->retired = (struct smr_list){0};
				t->chains = (struct smr_list){0};
				t->scanning = true;
				smr_count_reclaimed(&t->cnt, smr_list_reclaim(&l) + smr_list_reclaim(&c));
				t->scanning = false;
				again = true;
			}
		}
	}
	HP_(stats)(d, out);
	smr_quarantine_drain();
	for (int i = 0; i < d->max_threads; i++)
		free(d->threads[i].snap);
#if HP_POP
	for (int i = 0; i < d->max_threads; i++)
		free(d->threads[i].want);
	free(d->locals);
#endif
	free(d->hazards);
	free(d->threads);
	free(d);
}

/* SPDX-License-Identifier: MIT */
/*
 * msqueue.c - the Michael-Scott lock-free queue (PODC 1996) with a dummy
 * node, the queue of Hart et al.: each worker operation is an enqueue or a
 * dequeue on a coin flip; the queue is prefilled with `prefill` values.
 * Dequeue retires the old dummy.
 *
 * Reclamation, as in Michael's hazard-pointer version (TPDS 2004), two slots:
 *  - enqueue protects the tail (slot 0), reads tail->next and links its node
 *    there with a CAS.  The final tail swing names the new node without
 *    holding it: that is safe because the held tail's next link keeps it
 *    alive (RC) and a CAS only compares its address (everyone else).
 *  - dequeue protects the head (slot 0) and head->next (slot 1), then checks
 *    that the head is still the head, so the next it protected was in the
 *    queue when it did.  The tail is only compared, never dereferenced.
 *
 * Checks: values are unique (producer << 40 | sequence).  Each consumer
 * checks that the values of one producer reach it in increasing order (FIFO)
 * and keeps the last it saw per producer; verify proves enqueued == dequeued
 * + remaining (count, hash sum, hash xor), that each producer's remaining
 * values increase and follow everything already dequeued, and that the tail
 * is the last node.  Every node carries a canary, checked when read.
 *
 * Included by instances/instance.h once per scheme.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/workload.h"
#include "workloads/common.h"

#define MSQ_CANARY 0x4d5371756575ca7bull
#define MSQ_HAZARD_SLOTS 2 /* head (or tail) and its next */

struct msq_node {
	struct smr_node node;
	WL_CANARY_FIELD(uint64_t) /* MSQ_CANARY while live (test builds) */
	uint64_t value;
	void *_Atomic next;  /* NULL, then set once by the enqueue that links after this node */
};

/* One thread's record; written once, when its loop ends. */
struct msq_rec {
	struct wl_sum enq, deq;
	uint64_t *last;      /* [producer]: the last of its values this thread dequeued (0: none) */
} SMR_ALIGNED;

struct msq_state {
	void *_Atomic head;  /* dequeuers CAS it */
	char pad0_[SMR_CACHE_LINE - sizeof(void *)];
	void *_Atomic tail;  /* enqueuers CAS it: its own line */
	char pad1_[SMR_CACHE_LINE - sizeof(void *)];
	smr_domain *dom;
	int nrecs;           /* workers, then the set-up (prefill) producer */
	struct msq_rec *rec;
};

static void msq_dtor(struct smr_node *n)
{
	smr_drop_link(&smr_container_of(n, struct msq_node, node)->next);
}

static inline struct msq_node *msq_node_new(smr_thread *t, uint64_t v)
{
	struct msq_node *n = smr_alloc(t, sizeof *n);
	wl_canary_set(n, MSQ_CANARY);
	n->value = v;
	wl_link_init(&n->next);
	return n;
}

static inline bool msq_bad(struct msq_node *n, struct wl_thread_ctx *ctx)
{
	if (wl_likely(!wl_canary_bad(n, MSQ_CANARY)))
		return false;
	wl_error(ctx, "msqueue: node canary is %#llx: read after reclaim",
		 (unsigned long long)wl_canary_of(n));
	return true;
}

/* 0, or -1 on a corrupt node (reported; n is freed). */
static inline int msq_enqueue(struct msq_state *st, smr_thread *t, struct msq_node *n,
			      struct wl_thread_ctx *ctx)
{
	smr_begin(t);
	for (;;) {
		struct msq_node *tail = smr_protect(t, 0, &st->tail);
		WL_FAULT_POINT();
		if (wl_unlikely(msq_bad(tail, ctx))) {
			smr_end(t);
			smr_dealloc(t, &n->node);
			return -1;
		}
		/* acquire: pairs with the release of the CAS that linked next. */
		void *next = atomic_load_explicit(&tail->next, memory_order_acquire);
		/* Tail moved on: next may be stale; start over (MS's consistency check). */
		if (wl_unlikely(tail != atomic_load_explicit(&st->tail, memory_order_acquire)))
			continue;
		if (next) {
			/* The tail lags: help swing it.  next is alive: tail is held and links it. */
			smr_cas(t, &st->tail, tail, next);
			continue;
		}
		/* The CAS publishes n's fields (release) to the dequeuer that reads them. */
		if (smr_cas(t, &tail->next, NULL, n)) {
			smr_cas(t, &st->tail, tail, n);
			break;
		}
	}
	smr_end(t);
	return 0;
}

/* 1: dequeued *out; 0: the queue was empty; -1: a corrupt node (reported). */
static inline int msq_dequeue(struct msq_state *st, smr_thread *t, uint64_t *out,
			      struct wl_thread_ctx *ctx)
{
	int r;
	smr_begin(t);
	for (;;) {
		struct msq_node *head = smr_protect(t, 0, &st->head);
		WL_FAULT_POINT();
		if (wl_unlikely(msq_bad(head, ctx))) {
			r = -1;
			break;
		}
		/* Only compared and swung, never dereferenced: a plain load. */
		void *tail = atomic_load_explicit(&st->tail, memory_order_acquire);
		struct msq_node *next = smr_protect(t, 1, &head->next);
		/* Still the head: next was in the queue when we protected it (Michael). */
		if (wl_unlikely(head != atomic_load_explicit(&st->head, memory_order_acquire)))
			continue;
		if (!next) {
			r = 0;
			break;
		}
		if (head == tail) {
			/* The tail lags behind a linked node: help, then retry. */
			smr_cas(t, &st->tail, tail, next);
			continue;
		}
		WL_FAULT_POINT();
		if (wl_unlikely(msq_bad(next, ctx))) {
			r = -1;
			break;
		}
		/* Read before the CAS: once next is the dummy, another dequeue may retire it. */
		uint64_t v = next->value;
		if (smr_cas(t, &st->head, head, next)) {
			*out = v;
			smr_retire_drop(t, &head->node, msq_dtor);
			r = 1;
			break;
		}
	}
	smr_end(t);
	return r;
}

/* A consumer's FIFO check: one producer's values arrive in increasing order. */
static inline bool msq_check_order(const struct msq_state *st, uint64_t *last, uint64_t v,
				   struct wl_thread_ctx *ctx)
{
	uint64_t p = wl_value_producer(v);
	if (wl_unlikely(p >= (uint64_t)st->nrecs || v <= last[p])) {
		wl_error(ctx, "msqueue: dequeued %#llx after %#llx of the same producer",
			 (unsigned long long)v,
			 (unsigned long long)(p < (uint64_t)st->nrecs ? last[p] : 0));
		return false;
	}
	last[p] = v;
	return true;
}

static void msq_thread(void *state, struct wl_thread_ctx *ctx)
{
	struct msq_state *st = state;
	smr_thread *t = smr_register(st->dom);
	if (!t) {
		wl_error(ctx, "msqueue: could not register with the scheme");
		wl_ready(ctx);
		wl_done(ctx);
		return;
	}
	struct msq_rec *rec = &st->rec[ctx->id];
	struct wl_sum enq = { 0 }, deq = { 0 };
	uint64_t *last = rec->last;
	const uint64_t producer = (uint64_t)ctx->id;
	uint64_t seq = 0, ops = 0;
	struct wl_rng rng;
	wl_rng_seed(&rng, (uint64_t)ctx->id, 0x6d7371);
	const long batch = smr_quiescent_interval(t);
	wl_ready(ctx);
	while (!wl_should_stop(ctx) && wl_likely(!ctx->errors)) {
		for (long i = 0; i < batch; i++) {
			if (wl_rng_next(&rng) >> 63) {
				uint64_t v = wl_value(producer, ++seq);
				if (wl_unlikely(msq_enqueue(st, t, msq_node_new(t, v), ctx) < 0))
					break;
				wl_sum_add(&enq, v);
			} else {
				uint64_t v;
				int r = msq_dequeue(st, t, &v, ctx);
				if (wl_likely(r > 0)) {
					wl_sum_add(&deq, v);
					if (!msq_check_order(st, last, v, ctx))
						break;
				} else if (r < 0) {
					break;
				}
			}
		}
		smr_quiescent(t);
		ops += (uint64_t)batch;
	}
	ctx->ops = ops;
	wl_done(ctx);
	rec->enq = enq;
	rec->deq = deq;
	smr_unregister(t);
}

/* ---- params, set-up, verify, teardown ---- */

static const struct wl_param_spec msq_params[] = {
	{ "prefill", WL_INT, "1000", "values enqueued before the run", 0, 1e8, NULL },
	{ NULL, 0, NULL, NULL, 0, 0, NULL },
};

static void msq_free_state(struct msq_state *st)
{
	for (int i = 0; i < st->nrecs; i++)
		free(st->rec[i].last);
	free(st->rec);
	free(st);
}

static void *msq_create(struct cell *c, char *err, size_t errlen)
{
	long prefill = cell_param_long(c, "prefill");
	struct msq_state *st = smr_aligned_calloc(1, sizeof *st);
	st->nrecs = c->threads + 1;
	st->rec = smr_aligned_calloc((size_t)st->nrecs, sizeof *st->rec);
	for (int i = 0; i < st->nrecs; i++)
		st->rec[i].last = calloc((size_t)st->nrecs, sizeof *st->rec[i].last);
	c->smr.hazard_slots = MSQ_HAZARD_SLOTS;
	st->dom = smr_domain_create(&c->smr, err, errlen);
	if (!st->dom) {
		msq_free_state(st);
		return NULL;
	}
	smr_thread *t = smr_register(st->dom);
	struct msq_node *dummy = msq_node_new(t, 0);
	smr_store(t, &st->head, dummy);
	smr_store(t, &st->tail, dummy);
	struct msq_rec *r = &st->rec[st->nrecs - 1];
	struct wl_thread_ctx ctx = { .id = st->nrecs - 1 };
	for (long i = 1; i <= prefill; i++) {
		uint64_t v = wl_value((uint64_t)st->nrecs - 1, (uint64_t)i);
		msq_enqueue(st, t, msq_node_new(t, v), &ctx);
		wl_sum_add(&r->enq, v);
	}
	smr_quiescent(t);
	smr_unregister(t);
	return st;
}

static bool msq_verify(void *state, char *msg, size_t msglen)
{
	struct msq_state *st = state;
	struct wl_sum enq = { 0 }, deq = { 0 }, left = { 0 };
	/* after[p]: each producer's remaining values must follow all of its dequeued ones. */
	uint64_t *after = calloc((size_t)st->nrecs, sizeof *after);
	for (int i = 0; i < st->nrecs; i++) {
		wl_sum_merge(&enq, &st->rec[i].enq);
		wl_sum_merge(&deq, &st->rec[i].deq);
		for (int p = 0; p < st->nrecs; p++)
			if (st->rec[i].last[p] > after[p])
				after[p] = st->rec[i].last[p];
	}
	bool ok = true;
	struct msq_node *dummy = atomic_load_explicit(&st->head, memory_order_acquire), *last = dummy;
	if (!dummy || wl_canary_bad(dummy, MSQ_CANARY)) {
		snprintf(msg, msglen, "msqueue: the dummy node is %s", dummy ? "corrupt" : "missing");
		ok = false;
	}
	for (struct msq_node *n = ok ? atomic_load_explicit(&dummy->next, memory_order_acquire) : NULL;
	     n; n = atomic_load_explicit(&n->next, memory_order_acquire)) {
		if (wl_canary_bad(n, MSQ_CANARY)) {
			snprintf(msg, msglen, "msqueue: node %llu of the queue has a bad canary",
				 (unsigned long long)left.n);
			ok = false;
			break;
		}
		uint64_t p = wl_value_producer(n->value);
		if (p >= (uint64_t)st->nrecs || n->value <= after[p]) {
			snprintf(msg, msglen, "msqueue: value %#llx out of FIFO order or foreign (node %llu)",
				 (unsigned long long)n->value, (unsigned long long)left.n);
			ok = false;
			break;
		}
		after[p] = n->value;
		wl_sum_add(&left, n->value);
		last = n;
		if (left.n > enq.n) {
			snprintf(msg, msglen, "msqueue: more nodes in the queue than were enqueued (a cycle?)");
			ok = false;
			break;
		}
	}
	free(after);
	if (!ok)
		return false;
	if (atomic_load_explicit(&st->tail, memory_order_acquire) != last) {
		snprintf(msg, msglen, "msqueue: the tail is not the last node");
		return false;
	}
	struct wl_sum out = deq;
	wl_sum_merge(&out, &left);
	if (!wl_sum_eq(&enq, &out)) {
		snprintf(msg, msglen,
			 "msqueue: enqueued %llu values, dequeued %llu, %llu left in the queue%s",
			 (unsigned long long)enq.n, (unsigned long long)deq.n, (unsigned long long)left.n,
			 enq.n == out.n ? " (counts agree, checksums do not: lost and duplicated values)" : "");
		return false;
	}
	return true;
}

static void *msq_domain(void *state)
{
	return ((struct msq_state *)state)->dom;
}

static void msq_destroy(void *state, struct smr_stats *out)
{
	struct msq_state *st = state;
	/* Take each node out of its link, then retire it: every node is retired once. */
	smr_thread *t = smr_register(st->dom);
	smr_begin(t);
	smr_exchange(t, &st->tail, NULL); /* the tail's node is retired on the walk from the head */
	struct msq_node *n = smr_exchange(t, &st->head, NULL);
	while (n) {
		struct msq_node *next = smr_exchange(t, &n->next, NULL);
		smr_retire_drop(t, &n->node, msq_dtor);
		n = next;
	}
	smr_end(t);
	smr_unregister(t);
	smr_domain_destroy(st->dom, out);
	msq_free_state(st);
}

#ifdef SMRB_FAULTS
#include "tests/msqueue_selftest.c"
#define MSQ_SELFTEST msq_selftest
#else
#define MSQ_SELFTEST NULL
#endif

static const struct workload_desc wl_msqueue = {
	.name = "msqueue",
	.object_bytes = sizeof(struct msq_node),
	.hazard_slots = MSQ_HAZARD_SLOTS,
	.summary = "Michael-Scott queue (Hart et al.): enqueue or dequeue on a coin flip",
	.params = msq_params,
	.create = msq_create,
	.thread = msq_thread,
	.verify = msq_verify,
	.domain = msq_domain,
	.destroy = msq_destroy,
	.selftest = MSQ_SELFTEST,
};

/* SPDX-License-Identifier: MIT */
/*
 * treiber.c - Treiber's lock-free stack (IBM RJ 5118, 1986), the stack of
 * Hart et al.: every worker alternates push and pop on one shared stack,
 * prefilled with `prefill` values.  Pop retires the node it took.
 *
 * Reclamation: pop protects the top (slot 0), reads its next and swings the
 * top with a CAS.  The old top is held, so it cannot be freed and reused
 * between the read and the CAS (no ABA), and its next link keeps the next
 * node alive for the CAS (RC).  Push only copies the top into its new node,
 * so it needs no protection, except under counted links (WL_LOAD_FOR_LINK).
 *
 * Checks: values are unique (producer << 40 | sequence).  Each thread keeps a
 * checksum of what it pushed and popped; verify proves pushed == popped +
 * remaining (count, hash sum, hash xor) and that each producer's remaining
 * values are in LIFO order (so none is there twice).  Every node carries a
 * canary, checked when a node is read, so poisoned memory fails the run.
 *
 * Included by instances/instance.h once per scheme.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/workload.h"
#include "workloads/common.h"

#define TR_CANARY 0x7ae1be45ac4c0de1ull
#define TR_HAZARD_SLOTS 1 /* the top node */

struct tr_node {
	struct smr_node node;
	WL_CANARY_FIELD(uint64_t) /* TR_CANARY while live (test builds) */
	uint64_t value;
	void *_Atomic next;  /* never changes once the node is pushed */
};

/* What one thread pushed and popped; written once, when its loop ends. */
struct tr_rec {
	struct wl_sum pushed, popped;
} SMR_ALIGNED;

struct tr_state {
	void *_Atomic top;   /* every push and pop CASes it: alone on its line */
	char pad_[SMR_CACHE_LINE - sizeof(void *)];
	smr_domain *dom;
	int nrecs;           /* workers, then the set-up (prefill) producer */
	struct tr_rec *rec;
};

static void tr_dtor(struct smr_node *n)
{
	smr_drop_link(&smr_container_of(n, struct tr_node, node)->next);
}

static inline struct tr_node *tr_node_new(smr_thread *t, uint64_t v)
{
	struct tr_node *n = smr_alloc(t, sizeof *n);
	wl_canary_set(n, TR_CANARY);
	n->value = v;
	wl_link_init(&n->next);
	return n;
}

static inline void tr_push(struct tr_state *st, smr_thread *t, struct tr_node *n)
{
	smr_begin(t);
	for (;;) {
		void *top = WL_LOAD_FOR_LINK(t, 0, &st->top);
		smr_store(t, &n->next, top);
		/* The CAS publishes n's fields (release) to whoever pops it (acquire). */
		if (smr_cas(t, &st->top, top, n))
			break;
	}
	smr_end(t);
}

/* 1: popped *out; 0: the stack was empty; -1: a corrupt node (reported). */
static inline int tr_pop(struct tr_state *st, smr_thread *t, uint64_t *out, struct wl_thread_ctx *ctx)
{
	int r;
	smr_begin(t);
	for (;;) {
		struct tr_node *top = smr_protect(t, 0, &st->top);
		if (!top) {
			r = 0;
			break;
		}
		WL_FAULT_POINT();
		if (wl_unlikely(wl_canary_bad(top, TR_CANARY))) {
			wl_error(ctx, "treiber: node canary is %#llx: read after reclaim",
				 (unsigned long long)wl_canary_of(top));
			r = -1;
			break;
		}
		/* acquire: pairs with the release of the CAS that pushed top. */
		void *next = atomic_load_explicit(&top->next, memory_order_acquire);
		uint64_t v = top->value;
		if (smr_cas(t, &st->top, top, next)) {
			*out = v;
			smr_retire_drop(t, &top->node, tr_dtor);
			r = 1;
			break;
		}
	}
	smr_end(t);
	return r;
}

static void tr_thread(void *state, struct wl_thread_ctx *ctx)
{
	struct tr_state *st = state;
	smr_thread *t = smr_register(st->dom);
	if (!t) {
		wl_error(ctx, "treiber: could not register with the scheme");
		wl_ready(ctx);
		wl_done(ctx);
		return;
	}
	struct tr_rec loc;
	memset(&loc, 0, sizeof loc);
	const uint64_t producer = (uint64_t)ctx->id;
	uint64_t seq = 0, ops = 0;
	const long batch = smr_quiescent_interval(t);
	bool push = true;
	wl_ready(ctx);
	while (!wl_should_stop(ctx) && wl_likely(!ctx->errors)) {
		for (long i = 0; i < batch; i++, push = !push) {
			if (push) {
				uint64_t v = wl_value(producer, ++seq);
				tr_push(st, t, tr_node_new(t, v));
				wl_sum_add(&loc.pushed, v);
			} else {
				uint64_t v;
				int r = tr_pop(st, t, &v, ctx);
				if (wl_likely(r > 0))
					wl_sum_add(&loc.popped, v);
				else if (r < 0)
					break;
			}
		}
		smr_quiescent(t);
		ops += (uint64_t)batch;
	}
	ctx->ops = ops;
	wl_done(ctx);
	st->rec[ctx->id] = loc;
	smr_unregister(t);
}

/* ---- params, set-up, verify, teardown ---- */

static const struct wl_param_spec tr_params[] = {
	{ "prefill", WL_INT, "1000", "values pushed before the run", 0, 1e8, NULL },
	{ NULL, 0, NULL, NULL, 0, 0, NULL },
};

static void *tr_create(struct cell *c, char *err, size_t errlen)
{
	long prefill = cell_param_long(c, "prefill");
	struct tr_state *st = smr_aligned_calloc(1, sizeof *st);
	st->nrecs = c->threads + 1;
	st->rec = smr_aligned_calloc((size_t)st->nrecs, sizeof *st->rec);
	c->smr.hazard_slots = TR_HAZARD_SLOTS;
	st->dom = smr_domain_create(&c->smr, err, errlen);
	if (!st->dom) {
		free(st->rec);
		free(st);
		return NULL;
	}
	smr_thread *t = smr_register(st->dom);
	struct tr_rec *r = &st->rec[st->nrecs - 1];
	for (long i = 1; i <= prefill; i++) {
		uint64_t v = wl_value((uint64_t)st->nrecs - 1, (uint64_t)i);
		tr_push(st, t, tr_node_new(t, v));
		wl_sum_add(&r->pushed, v);
	}
	smr_quiescent(t);
	smr_unregister(t);
	return st;
}

static bool tr_verify(void *state, char *msg, size_t msglen)
{
	struct tr_state *st = state;
	struct wl_sum pushed = { 0 }, popped = { 0 }, left = { 0 };
	for (int i = 0; i < st->nrecs; i++) {
		wl_sum_merge(&pushed, &st->rec[i].pushed);
		wl_sum_merge(&popped, &st->rec[i].popped);
	}
	/* Each producer's values lie on the stack newest first: strictly decreasing. */
	uint64_t *below = malloc((size_t)st->nrecs * sizeof *below);
	for (int i = 0; i < st->nrecs; i++)
		below[i] = UINT64_MAX;
	bool ok = true;
	for (struct tr_node *n = atomic_load_explicit(&st->top, memory_order_acquire); n;
	     n = atomic_load_explicit(&n->next, memory_order_acquire)) {
		if (wl_canary_bad(n, TR_CANARY)) {
			snprintf(msg, msglen, "treiber: node %llu of the stack has a bad canary",
				 (unsigned long long)left.n);
			ok = false;
			break;
		}
		uint64_t p = wl_value_producer(n->value);
		if (p >= (uint64_t)st->nrecs || n->value >= below[p]) {
			snprintf(msg, msglen, "treiber: value %#llx out of order or foreign (node %llu)",
				 (unsigned long long)n->value, (unsigned long long)left.n);
			ok = false;
			break;
		}
		below[p] = n->value;
		wl_sum_add(&left, n->value);
		if (left.n > pushed.n) {
			snprintf(msg, msglen, "treiber: more nodes on the stack than were pushed (a cycle?)");
			ok = false;
			break;
		}
	}
	free(below);
	if (!ok)
		return false;
	struct wl_sum out = popped;
	wl_sum_merge(&out, &left);
	if (!wl_sum_eq(&pushed, &out)) {
		snprintf(msg, msglen,
			 "treiber: pushed %llu values, popped %llu, %llu left on the stack%s",
			 (unsigned long long)pushed.n, (unsigned long long)popped.n,
			 (unsigned long long)left.n,
			 pushed.n == out.n ? " (counts agree, checksums do not: lost and duplicated values)" : "");
		return false;
	}
	return true;
}

static void *tr_domain(void *state)
{
	return ((struct tr_state *)state)->dom;
}

static void tr_destroy(void *state, struct smr_stats *out)
{
	struct tr_state *st = state;
	/* Take each node out of its link, then retire it: every node is retired once. */
	smr_thread *t = smr_register(st->dom);
	smr_begin(t);
	struct tr_node *n = smr_exchange(t, &st->top, NULL);
	while (n) {
		struct tr_node *next = smr_exchange(t, &n->next, NULL);
		smr_retire_drop(t, &n->node, tr_dtor);
		n = next;
	}
	smr_end(t);
	smr_unregister(t);
	smr_domain_destroy(st->dom, out);
	free(st->rec);
	free(st);
}

#ifdef SMRB_FAULTS
#include "tests/treiber_selftest.c"
#define TR_SELFTEST tr_selftest
#else
#define TR_SELFTEST NULL
#endif

static const struct workload_desc wl_treiber = {
	.name = "treiber",
	.object_bytes = sizeof(struct tr_node),
	.hazard_slots = TR_HAZARD_SLOTS,
	.summary = "Treiber stack (Hart et al.): push/pop pairs on one shared stack",
	.params = tr_params,
	.create = tr_create,
	.thread = tr_thread,
	.verify = tr_verify,
	.domain = tr_domain,
	.destroy = tr_destroy,
	.selftest = TR_SELFTEST,
};

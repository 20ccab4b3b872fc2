/* SPDX-License-Identifier: MIT */
/*
 * lazy_transform.c - the LazyTransform of Niksic, "Exploring lock-free Rust 3: Crossbeam" (2017).
 *
 * One producer publishes a new source every `period` ns of busy work.  Readers
 * call get(): if a source is pending, one of them (under a try-lock) moves the
 * payload out of the source cell into a new value cell, swaps that in, retires
 * the old value cell with DROP (its payload dies with it) and the emptied
 * source cell with FREE (its payload moved on: dropping it too would double
 * free; that is Niksic's bug).  Otherwise get() clones the cached value.
 * Readers then inspect the clone and drop it.
 *
 * Payloads (Niksic's breakdown): u64 (copied), box (a heap u64: clone
 * allocates), rc (a shared object with an atomic count, as Arc: clone is a
 * fetch_add on a line every reader shares), str:N (N bytes: clone is malloc +
 * memcpy).
 *
 * Checks: every value cell carries a canary (poisoned memory fails it), the
 * clone must match the sequence number its cell claims, sequence numbers must
 * never go backwards for one reader and never pass what was published.
 *
 * Included by instances/instance.h once per scheme.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness/workload.h"

enum lt_kind { LT_U64, LT_BOX, LT_RC, LT_STR };

#define LT_CANARY 0x5eedcafe12345678ull
#define LT_HAZARD_SLOTS 1 /* the cached value cell a get reads */

/* The encoded value of sequence number s: what every payload of s holds. */
static inline uint64_t lt_encode(uint64_t s)
{
	return (s * 0x9E3779B97F4A7C15ull) ^ 0xA5A5A5A5A5A5A5A5ull;
}

struct lt_rc {
	_Atomic int64_t refs;
	uint64_t v;
};

union lt_payload {
	uint64_t v;          /* u64 */
	uint64_t *box;       /* box */
	struct lt_rc *rc;    /* rc */
	char *str;           /* str:N */
};

/* A source cell or a value cell: what the two atomic pointers point to. */
struct lt_cell {
	struct smr_node node;
	WL_CANARY_FIELD(uint64_t) /* LT_CANARY while live (test builds) */
	uint64_t seq;
	union lt_payload p;
};

struct lt_state {
	/* The LazyTransform itself: two pointers and a try-lock, as in Niksic's. */
	void *_Atomic source;
	void *_Atomic value;
	_Atomic bool transform_lock;
	char pad_[SMR_CACHE_LINE - 2 * sizeof(void *) - sizeof(bool)];
	_Atomic uint64_t published SMR_ALIGNED; /* last sequence number the producer made */
	smr_domain *dom;
	enum lt_kind kind;
	size_t str_len;
	long period_ns;
	int64_t payloads_base;          /* lt_payloads_live() at create (test builds) */
};

/* ---- payloads ---- */

/*
 * Payload accounting (test builds): every heap payload made (a source's box,
 * rc or str, and each clone's box or str) counts one up, every one destroyed
 * one down; lt_destroy reports what is left after the domain's final
 * reclamation (smr_stats.payloads_live), and the harness fails the cell
 * unless it is 0.  A cell retired with free where drop was due leaks its
 * payload: this catches it in the plain tree, where no LeakSanitizer runs.
 *
 * Only in the test builds (smrbench-faults, which every stress test of the
 * plain tree runs), not in the measured binary: a box or str get makes and
 * drops a clone per get, and destructors run on whichever thread reclaims
 * (liburcu's call_rcu thread among them) with no thread context to hold a
 * per-thread counter.  So the count would be a shared RMW on a line every
 * reader writes (tens of ns at 2 threads, more than the clone's malloc) or a
 * thread-local summed through a registry at exit: either is work the papers'
 * harnesses do not do, in the loop being measured.
 */
#ifdef SMRB_FAULTS
static _Atomic int64_t lt_payloads_live_;
#define lt_payload_made() atomic_fetch_add_explicit(&lt_payloads_live_, 1, memory_order_relaxed)
#define lt_payload_gone() atomic_fetch_sub_explicit(&lt_payloads_live_, 1, memory_order_relaxed)
#define lt_payloads_live() atomic_load(&lt_payloads_live_)
#else
#define lt_payload_made() ((void)0)
#define lt_payload_gone() ((void)0)
#define lt_payloads_live() ((int64_t)0)
#endif

static void lt_rc_release(struct lt_rc *rc)
{
	if (atomic_fetch_sub_explicit(&rc->refs, 1, memory_order_acq_rel) == 1) {
		lt_payload_gone();
		free(rc);
	}
}

/* Make the payload of sequence number s. */
static union lt_payload lt_payload_make(const struct lt_state *st, uint64_t s)
{
	union lt_payload p = { .v = 0 };
	uint64_t v = lt_encode(s);
	switch (st->kind) {
	case LT_U64:
		p.v = v;
		break;
	case LT_BOX:
		p.box = malloc(sizeof *p.box);
		*p.box = v;
		lt_payload_made();
		break;
	case LT_RC:
		p.rc = malloc(sizeof *p.rc);
		atomic_init(&p.rc->refs, 1);
		p.rc->v = v;
		lt_payload_made();
		break;
	case LT_STR:
		p.str = malloc(st->str_len);
		memset(p.str, (int)(v & 0xff), st->str_len);
		p.str[0] = (char)(v >> 8);
		lt_payload_made();
		break;
	}
	return p;
}

static void lt_payload_destroy(enum lt_kind kind, union lt_payload p)
{
	switch (kind) {
	case LT_U64:
		break;
	case LT_BOX:
		lt_payload_gone();
		free(p.box);
		break;
	case LT_RC:
		lt_rc_release(p.rc);
		break;
	case LT_STR:
		lt_payload_gone();
		free(p.str);
		break;
	}
}

/*
 * The destructor of a retired cell (drop): the payload's kind is not stored in
 * the cell, so each kind has its own destructor.
 */
static void lt_drop_box(struct smr_node *n) { lt_payload_destroy(LT_BOX, smr_container_of(n, struct lt_cell, node)->p); }
static void lt_drop_rc(struct smr_node *n) { lt_payload_destroy(LT_RC, smr_container_of(n, struct lt_cell, node)->p); }
static void lt_drop_str(struct smr_node *n) { lt_payload_destroy(LT_STR, smr_container_of(n, struct lt_cell, node)->p); }
static void lt_drop_u64(struct smr_node *n) { (void)n; }

static smr_reclaim_fn lt_drop_fn(enum lt_kind kind)
{
	static const smr_reclaim_fn fns[] = { lt_drop_u64, lt_drop_box, lt_drop_rc, lt_drop_str };
	return fns[kind];
}

/*
 * A reader's copy of a value: what get() returns (p), and, when the value
 * cell is one this reader had not seen before (fresh), its sequence number,
 * for the checks (lt_reader_batches).
 */
struct lt_clone {
	bool fresh;
	uint64_t seq;        /* set when fresh */
	union lt_payload p;
};

static inline __attribute__((always_inline)) void
lt_clone_of(const struct lt_state *st, const struct lt_cell *c, struct lt_clone *out,
	    const enum lt_kind kind)
{
	switch (kind) {
	case LT_U64:
		out->p.v = c->p.v;
		break;
	case LT_BOX:
		out->p.box = malloc(sizeof *out->p.box);
		*out->p.box = *c->p.box;
		lt_payload_made();
		break;
	case LT_RC:
		atomic_fetch_add_explicit(&c->p.rc->refs, 1, memory_order_relaxed);
		out->p.rc = c->p.rc;
		break;
	case LT_STR:
		out->p.str = malloc(st->str_len);
		memcpy(out->p.str, c->p.str, st->str_len);
		lt_payload_made();
		break;
	}
}

/*
 * Does a clone hold the value of its sequence number?  Read before the drop.
 * A u64 clone is a plain copy; the others own their payload (box, str) or a
 * count on it (rc), which lt_drop_clone() gives back.
 */
static inline __attribute__((always_inline)) bool
lt_clone_ok(const struct lt_state *st, const struct lt_clone *cl, const enum lt_kind kind)
{
	uint64_t want = lt_encode(cl->seq);
	switch (kind) {
	case LT_U64:
		return cl->p.v == want;
	case LT_BOX:
		return *cl->p.box == want;
	case LT_RC:
		return cl->p.rc->v == want;
	case LT_STR:
		return cl->p.str[0] == (char)(want >> 8) &&
		       cl->p.str[st->str_len - 1] == (char)(st->str_len > 1 ? want & 0xff : want >> 8);
	}
	return false;
}

/* Drop a clone; returns one word of its payload, for the reader's sink (see lt_reader_batches). */
static inline __attribute__((always_inline)) uint64_t
lt_drop_clone(const struct lt_state *st, struct lt_clone *cl, const enum lt_kind kind)
{
	uint64_t word = 0;
	switch (kind) {
	case LT_U64:
		word = cl->p.v;
		break;
	case LT_BOX:
		word = *cl->p.box;
		lt_payload_gone();
		free(cl->p.box);
		break;
	case LT_RC:
		word = cl->p.rc->v;
		lt_rc_release(cl->p.rc);
		break;
	case LT_STR:
		word = (uint64_t)(unsigned char)cl->p.str[0];
		lt_payload_gone();
		free(cl->p.str);
		break;
	}
	(void)st;
	return word;
}

/* ---- the LazyTransform ---- */

static void lt_set_source(struct lt_state *st, smr_thread *t, uint64_t s)
{
	struct lt_cell *c = smr_alloc(t, sizeof *c);
	wl_canary_set(c, LT_CANARY);
	c->seq = s;
	c->p = lt_payload_make(st, s);
	atomic_store_explicit(&st->published, s, memory_order_relaxed);
	smr_begin(t);
	struct lt_cell *prev = smr_exchange(t, &st->source, c);
	/* A source nobody transformed still owns its payload: drop it. */
	if (prev)
		smr_retire_drop(t, &prev->node, lt_drop_fn(st->kind));
	smr_end(t);
}

/*
 * Move the pending source into a new value cell, if we win the try-lock.
 * Returns true with a clone of the new value in out.  Called inside begin/end.
 */
static bool lt_try_transform(struct lt_state *st, smr_thread *t, struct lt_clone *out,
			     const enum lt_kind kind)
{
	if (atomic_load_explicit(&st->transform_lock, memory_order_relaxed) ||
	    atomic_exchange_explicit(&st->transform_lock, true, memory_order_acquire))
		return false;
	bool done = false;
	struct lt_cell *src = smr_exchange(t, &st->source, NULL);
	if (src) {
		/* We own src now: nobody else can take it out of the slot. */
		struct lt_cell *v = smr_alloc(t, sizeof *v);
		wl_canary_set(v, LT_CANARY);
		v->seq = src->seq;
		v->p = src->p;                  /* the payload moves: src is left empty */
		out->fresh = true;
		out->seq = v->seq;
		lt_clone_of(st, v, out, kind);
		struct lt_cell *old = smr_exchange(t, &st->value, v);
		if (old)
			smr_retire_drop(t, &old->node, lt_drop_fn(kind));
		smr_retire_free(t, &src->node); /* bare memory: its payload lives on in v */
		done = true;
	}
	atomic_store_explicit(&st->transform_lock, false, memory_order_release);
	return done;
}

/*
 * get(): a clone of the cached value.  *seen is the value cell this reader
 * met last: the sequence number is read (inside the critical section) only
 * from a cell it has not met yet, so that a get in the measured binary is
 * the LazyTransform's own loads (the pending source, the value, its
 * payload) and the scheme's, no more.  Test builds read it every time.
 */
static inline __attribute__((always_inline)) bool
lt_get(struct lt_state *st, smr_thread *t, struct lt_clone *out, const struct lt_cell **seen,
       struct wl_thread_ctx *ctx, const enum lt_kind kind)
{
	bool got = false;
	smr_begin(t);
	/* relaxed: only a hint; try_transform takes the source with an exchange. */
	/*
	 * The transform gets its own clone, not out: out's address would escape
	 * to that out-of-line call, and every compiler barrier (a scheme's
	 * begin/end) would then force the reader's clone through the stack.
	 */
	struct lt_clone fresh;
	if (__builtin_expect(atomic_load_explicit(&st->source, memory_order_relaxed) != NULL, 0) &&
	    lt_try_transform(st, t, &fresh, kind)) {
		*out = fresh;
		*seen = NULL;
		got = true;
	} else {
		struct lt_cell *v = smr_protect(t, 0, &st->value);
		WL_FAULT_POINT();
		if (__builtin_expect(v != NULL, 1)) {
			if (__builtin_expect(wl_canary_bad(v, LT_CANARY), 0))
				wl_error(ctx, "lazy: value cell canary is %#llx: read after reclaim",
					 (unsigned long long)wl_canary_of(v));
			else {
				out->fresh = WL_CANARIES || v != *seen;
				if (__builtin_expect(out->fresh, 0)) {
					out->seq = v->seq;
					*seen = v;
				}
				lt_clone_of(st, v, out, kind);
				got = true;
			}
		}
	}
	smr_end(t);
	return got;
}

/*
 * Loop body of a reader, specialised per payload kind by the constant `kind`
 * and by the batch length (see lt_reader_loop).
 */
static inline __attribute__((always_inline)) void
lt_reader_batches(struct lt_state *st, smr_thread *t, struct wl_thread_ctx *ctx,
		  const enum lt_kind kind, const long batch)
{
	uint64_t ops = 0, last_seq = 0, sink = 0;
	const struct lt_cell *seen = NULL;
	while (!wl_should_stop(ctx)) {
		for (long i = 0; i < batch; i++) {
			struct lt_clone cl = { .fresh = false, .seq = 0 };
			if (lt_get(st, t, &cl, &seen, ctx, kind)) {
				/*
				 * A cell not met before (every get in test builds): its
				 * sequence number never goes back and never passes what was
				 * published, and the clone holds its value.  The measured
				 * binary checks once per cell, so that a get costs what the
				 * LazyTransform and the scheme cost (issue 13: the floor).
				 * The payload goes into sink, so that the copy is done.
				 */
				if (__builtin_expect(cl.fresh, 0)) {
					uint64_t pub = atomic_load_explicit(&st->published, memory_order_relaxed);
					if (cl.seq < last_seq || cl.seq > pub) {
						wl_error(ctx, "lazy: saw sequence %llu after %llu (published %llu)",
							 (unsigned long long)cl.seq,
							 (unsigned long long)last_seq,
							 (unsigned long long)pub);
					}
					last_seq = cl.seq;
					if (__builtin_expect(!lt_clone_ok(st, &cl, kind), 0))
						wl_error(ctx, "lazy: clone of sequence %llu holds a wrong value",
							 (unsigned long long)cl.seq);
				}
				sink ^= lt_drop_clone(st, &cl, kind);
			}
		}
		smr_quiescent(t);
		ops += (uint64_t)batch;
	}
	/* The payloads the readers copied are used: the compiler keeps every copy. */
	__asm__ volatile("" : : "r"(sink));
	ctx->ops = ops;
}

/*
 * Every scheme but qsbr runs batches of the constant SMR_DEFAULT_BATCH; qsbr's
 * comes from its qsbr_k param.  With a trip count only known at run time, gcc
 * gave the count a register and re-built a 64-bit constant on every get: the
 * same per-get code otherwise, yet qsbr measured 1.3x none where a constant
 * 100 gave 0.98x.  So the default length gets its own copy of the loop.
 */
static inline __attribute__((always_inline)) void
lt_reader_loop(struct lt_state *st, smr_thread *t, struct wl_thread_ctx *ctx, const enum lt_kind kind)
{
	const long batch = smr_quiescent_interval(t);
	if (batch == SMR_DEFAULT_BATCH)
		lt_reader_batches(st, t, ctx, kind, SMR_DEFAULT_BATCH);
	else
		lt_reader_batches(st, t, ctx, kind, batch);
}

static void lt_producer_loop(struct lt_state *st, smr_thread *t, struct wl_thread_ctx *ctx)
{
	uint64_t s = atomic_load_explicit(&st->published, memory_order_relaxed);
	struct timespec now;
	while (!wl_should_stop(ctx)) {
		/* Busy work: spin on the clock for period ns. */
		clock_gettime(CLOCK_MONOTONIC, &now);
		uint64_t until = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec +
				 (uint64_t)st->period_ns;
		do {
			clock_gettime(CLOCK_MONOTONIC, &now);
		} while ((uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec < until &&
			 !wl_should_stop(ctx));
		lt_set_source(st, t, ++s);
		smr_quiescent(t);
		ctx->ops++;
	}
}

static void lt_thread(void *state, struct wl_thread_ctx *ctx)
{
	struct lt_state *st = state;
	smr_thread *t = smr_register(st->dom);
	if (!t) {
		wl_error(ctx, "lazy: could not register with the scheme");
		wl_ready(ctx);
		wl_done(ctx);
		return;
	}
	wl_ready(ctx);
	if (ctx->role == WL_HELPER) {
		lt_producer_loop(st, t, ctx);
	} else {
		switch (st->kind) {
		case LT_U64: lt_reader_loop(st, t, ctx, LT_U64); break;
		case LT_BOX: lt_reader_loop(st, t, ctx, LT_BOX); break;
		case LT_RC: lt_reader_loop(st, t, ctx, LT_RC); break;
		case LT_STR: lt_reader_loop(st, t, ctx, LT_STR); break;
		}
	}
	wl_done(ctx);
	smr_unregister(t);
}

/* ---- params, set-up, verify, teardown ---- */

static const struct wl_param_spec lt_params[] = {
	{ "payload", WL_CUSTOM, "u64", "what a get clones: u64, box (heap u64), rc (atomically counted), str:N (N-byte string)",
	  0, 0, "u64|box|rc|str:N" },
	{ "period", WL_INT, "10000", "ns of producer busy work between two published sources", 0, 1e10, NULL },
	{ NULL, 0, NULL, NULL, 0, 0, NULL },
};

static int lt_parse_payload(const char *s, enum lt_kind *kind, size_t *len)
{
	*len = 0;
	if (!strcmp(s, "u64"))
		*kind = LT_U64;
	else if (!strcmp(s, "box"))
		*kind = LT_BOX;
	else if (!strcmp(s, "rc"))
		*kind = LT_RC;
	else if (!strncmp(s, "str:", 4)) {
		char *end;
		unsigned long n = strtoul(s + 4, &end, 10);
		if (end == s + 4 || *end || n < 1 || n > (1ul << 24))
			return -1;
		*kind = LT_STR;
		*len = n;
	} else
		return -1;
	return 0;
}

static int lt_check(const struct cell *c, char *err, size_t errlen)
{
	enum lt_kind k;
	size_t len;
	const char *p = cell_param(c, "payload");
	if (lt_parse_payload(p, &k, &len) < 0) {
		snprintf(err, errlen, "bad payload '%s' (want u64, box, rc or str:N with 1 <= N <= 16777216)", p);
		return -1;
	}
	return 0;
}

static int lt_helpers(const struct cell *c)
{
	(void)c;
	return 1; /* the producer */
}

static void *lt_create(struct cell *c, char *err, size_t errlen)
{
	struct lt_state *st = smr_aligned_calloc(1, sizeof *st);
	if (lt_parse_payload(cell_param(c, "payload"), &st->kind, &st->str_len) < 0) {
		snprintf(err, errlen, "bad payload '%s'", cell_param(c, "payload"));
		free(st);
		return NULL;
	}
	st->period_ns = cell_param_long(c, "period");
	st->payloads_base = lt_payloads_live();
	c->smr.hazard_slots = LT_HAZARD_SLOTS;
	st->dom = smr_domain_create(&c->smr, err, errlen);
	if (!st->dom) {
		free(st);
		return NULL;
	}
	/* A first value, so that readers have something from the start. */
	smr_thread *t = smr_register(st->dom);
	lt_set_source(st, t, 1);
	smr_begin(t);
	struct lt_clone cl;
	if (lt_try_transform(st, t, &cl, st->kind))
		lt_drop_clone(st, &cl, st->kind);
	smr_end(t);
	smr_unregister(t);
	return st;
}

static bool lt_verify(void *state, char *msg, size_t msglen)
{
	struct lt_state *st = state;
	struct lt_cell *v = atomic_load_explicit(&st->value, memory_order_acquire);
	if (!v || wl_canary_bad(v, LT_CANARY)) {
		snprintf(msg, msglen, "lazy: the cached value is %s", v ? "corrupt" : "missing");
		return false;
	}
	uint64_t pub = atomic_load_explicit(&st->published, memory_order_relaxed);
	if (v->seq < 1 || v->seq > pub) {
		snprintf(msg, msglen, "lazy: the cached value has sequence %llu, published %llu",
			 (unsigned long long)v->seq, (unsigned long long)pub);
		return false;
	}
	return true;
}

static void *lt_domain(void *state)
{
	return ((struct lt_state *)state)->dom;
}

static void lt_destroy(void *state, struct smr_stats *out)
{
	struct lt_state *st = state;
	/* The cells still linked were never retired: unlink and retire them, so
	 * that the domain's final reclamation frees them like every other. */
	smr_thread *t = smr_register(st->dom);
	smr_begin(t);
	struct lt_cell *src = smr_exchange(t, &st->source, NULL);
	struct lt_cell *val = smr_exchange(t, &st->value, NULL);
	if (src)
		smr_retire_drop(t, &src->node, lt_drop_fn(st->kind));
	if (val)
		smr_retire_drop(t, &val->node, lt_drop_fn(st->kind));
	smr_end(t);
	smr_unregister(t);
	smr_domain_destroy(st->dom, out);
	/* Every cell was reclaimed, every clone dropped: no payload may be left. */
	out->payloads_live = lt_payloads_live() - st->payloads_base;
	free(st);
}

static const struct workload_desc wl_lazy = {
	.name = "lazy",
	.object_bytes = sizeof(struct lt_cell),
	.hazard_slots = LT_HAZARD_SLOTS,
	.summary = "LazyTransform (Niksic 2017): one producer publishes, readers get the cached transform",
	.params = lt_params,
	.check = lt_check,
	.helpers = lt_helpers,
	.create = lt_create,
	.thread = lt_thread,
	.verify = lt_verify,
	.domain = lt_domain,
	.destroy = lt_destroy,
};

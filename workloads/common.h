/* SPDX-License-Identifier: MIT */
/*
 * common.h - helpers the treiber, msqueue and list workloads share: a
 * per-thread RNG, value encoding, conservation checksums, and (test builds)
 * the scaffolding of their property tests.
 *
 * Included into each scheme's instance (instances/instance.h), after smr.h has
 * been set up for that scheme; the guard keeps it once per translation unit.
 */
#ifndef WL_COMMON_H
#define WL_COMMON_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "harness/workload.h"

#define wl_likely(x) __builtin_expect(!!(x), 1)
#define wl_unlikely(x) __builtin_expect(!!(x), 0)

/* The scheme's name as `smrbench list` shows it (instance.h's default is set after us). */
#ifdef SMR_SCHEME_NAME
#define WL_SCHEME_NAME SMR_SCHEME_NAME
#else
#define WL_SCHEME_NAME SMR_STR(SMR_SCHEME)
#endif

/* splitmix64's finaliser: a bijective 64-bit mix. */
static inline uint64_t wl_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

/* xorshift64*: one multiply per draw, state in a register of the loop. */
struct wl_rng {
	uint64_t s;
};

static inline void wl_rng_seed(struct wl_rng *r, uint64_t id, uint64_t salt)
{
	r->s = wl_mix64((id + 1) * 0x9E3779B97F4A7C15ull ^ salt) | 1;
}

static inline uint64_t wl_rng_next(struct wl_rng *r)
{
	uint64_t x = r->s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* A number in [0, n) from 32 random bits (multiply-shift, no division). */
static inline uint64_t wl_range32(uint32_t r, uint64_t n)
{
	return ((uint64_t)r * n) >> 32;
}

/*
 * Values of the stack and the queue: producer << 40 | sequence (from 1), so
 * every value is unique and each producer's values increase.
 */
#define WL_PROD_SHIFT 40
#define WL_SEQ_MASK ((UINT64_C(1) << WL_PROD_SHIFT) - 1)

static inline uint64_t wl_value(uint64_t producer, uint64_t seq)
{
	return producer << WL_PROD_SHIFT | seq;
}

static inline uint64_t wl_value_producer(uint64_t v)
{
	return v >> WL_PROD_SHIFT;
}

/*
 * A multiset checksum of values: count, and sum and xor of their hashes.
 * "pushed == popped + remaining" on all three catches a loss, a duplicate
 * and (short of a hash collision) a duplicate that hides a loss.
 */
struct wl_sum {
	uint64_t n, sum, xor_;
};

static inline void wl_sum_add(struct wl_sum *s, uint64_t v)
{
	uint64_t h = wl_mix64(v);
	s->n++;
	s->sum += h;
	s->xor_ ^= h;
}

static inline void wl_sum_merge(struct wl_sum *into, const struct wl_sum *s)
{
	into->n += s->n;
	into->sum += s->sum;
	into->xor_ ^= s->xor_;
}

static inline bool wl_sum_eq(const struct wl_sum *a, const struct wl_sum *b)
{
	return a->n == b->n && a->sum == b->sum && a->xor_ == b->xor_;
}

/*
 * Load a link whose target is not dereferenced but written into another link
 * (the value of smr_store/smr_cas).  Counted links (RC, SMR_OWN_LINKS) add a
 * count to that target, so the loader must hold it: protect it.  Every other
 * scheme only copies the address, and an acquire load is enough.
 */
#ifdef SMR_OWN_LINKS
#define WL_LOAD_FOR_LINK(t, slot, src) smr_protect(t, slot, src)
#else
#define WL_LOAD_FOR_LINK(t, slot, src) \
	((void)(t), (void)(slot), atomic_load_explicit(src, memory_order_acquire))
#endif

/* Initialise a link of an object nobody else sees yet (no count to adjust). */
static inline void wl_link_init(void *_Atomic *link)
{
	atomic_store_explicit(link, NULL, memory_order_relaxed);
}

#ifdef SMRB_FAULTS
/* ---- property tests (smrbench-faults selftest) ---- */

/* This scheme's params, for the defaults of a domain made outside a run. */
static const struct smr_param_spec wl_st_scheme_params[] = {
	SMR_CAT2(SMR_PARAMS, SMR_SCHEME)
	{ NULL, NULL, NULL, 0, 0 },
};

static _Atomic bool wl_st_no_stop;

/* A one-thread cell with the given workload params (all of them: no defaults are filled in). */
static inline void wl_st_cell(struct cell *c, const char *workload, int nparams,
			      const char *const *names, const char *const *values)
{
	memset(c, 0, sizeof *c);
	c->workload = workload;
	c->scheme = WL_SCHEME_NAME;
	c->threads = 1;
	c->duration_s = 0;
	c->nparams = nparams;
	for (int i = 0; i < nparams; i++) {
		c->param_name[i] = names[i];
		c->param_value[i] = values[i];
	}
	c->smr.max_threads = 3; /* create's set-up thread, the test thread, destroy's */
	smr_config_defaults(&c->smr, wl_st_scheme_params);
}

/* The context of the test thread: worker 0 of one, never told to stop. */
static inline void wl_st_ctx(struct wl_thread_ctx *ctx)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->id = 0;
	ctx->role = WL_WORKER;
	ctx->nworkers = 1;
	ctx->stop = &wl_st_no_stop;
}

/* Keep the first failure's description (buf is a char array). */
#define WL_ST_NOTE(buf, ...)                                    \
	do {                                                    \
		if (!(buf)[0])                                  \
			snprintf(buf, sizeof(buf), __VA_ARGS__); \
	} while (0)

/* One TAP line "ok - SCHEME: ..." or "not ok - ..."; returns 1 if it failed. */
static inline __attribute__((format(printf, 2, 3))) int wl_tap(bool ok, const char *fmt, ...)
{
	va_list ap;
	printf("%s - %s: ", ok ? "ok" : "not ok", WL_SCHEME_NAME);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return !ok;
}
#endif /* SMRB_FAULTS */

#endif /* WL_COMMON_H */

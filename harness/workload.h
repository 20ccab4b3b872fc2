/* SPDX-License-Identifier: MIT */
/*
 * workload.h - what the harness and a workload instance tell each other.
 *
 * A workload is written once against schemes/smr.h and compiled once per
 * scheme (instances/<scheme>.c includes instances/instance.h, which includes
 * every workload).  Each compiled copy exports a struct workload_desc; the
 * harness only calls through it at cell set-up, thread start and teardown,
 * never per operation.
 */
#ifndef SMRB_WORKLOAD_H
#define SMRB_WORKLOAD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schemes/smr.h"

/* A workload parameter (-P name=value). */
enum wl_param_type {
	WL_INT,    /* integer in [min, max] */
	WL_REAL,   /* real number in [min, max] */
	WL_ENUM,   /* one of the '|'-separated words in choices */
	WL_CUSTOM, /* checked by the workload's check() */
};

struct wl_param_spec {
	const char *name;
	enum wl_param_type type;
	const char *def;
	const char *help;
	double min, max;       /* WL_INT, WL_REAL */
	const char *choices;   /* WL_ENUM: "a|b|c"; WL_CUSTOM: the form, for --help */
};

#define CELL_MAX_PARAMS 24

/* One measured cell: a scheme, a workload, a thread count, param values, a rep. */
struct cell {
	const char *workload;
	const char *scheme;
	int threads;            /* worker threads (measured) */
	double duration_s;
	int rep;
	int nparams;            /* workload params first, then the scheme's */
	const char *param_name[CELL_MAX_PARAMS];
	const char *param_value[CELL_MAX_PARAMS];
	struct smr_config smr;  /* max_threads and scheme params; hazard_slots set by the workload */
};

/* The value of a param of this cell (its default when not given); NULL if unknown. */
const char *cell_param(const struct cell *c, const char *name);
long cell_param_long(const struct cell *c, const char *name);
double cell_param_real(const struct cell *c, const char *name);

/* Fill cfg->param[] with the defaults of a scheme's params (tests, set-up threads). */
void smr_config_defaults(struct smr_config *cfg, const struct smr_param_spec *params);

enum wl_role {
	WL_WORKER, /* its operations are counted in ns_per_op */
	WL_HELPER, /* runs alongside (lazy's producer); not counted */
};

/* Per thread, shared between the harness and the workload's thread function. */
struct wl_thread_ctx {
	int id;                       /* 0 .. threads-1 for workers, then helpers */
	enum wl_role role;
	int nworkers;
	const _Atomic bool *stop;     /* set by the harness when the duration is over */
	uint64_t ops;                 /* set by the workload: operations completed */
	uint64_t errors;              /* set by the workload: failed checks (canary, order) */
	char error[160];              /* the first failed check, for the message */
	void *harness;                /* harness-private */
};

/* Called by the workload's thread function once it is registered and ready:
 * waits on the start barrier and starts the clock and the counters. */
void wl_ready(struct wl_thread_ctx *c);
/* Called when its loop is over, before it unregisters: stops the clock and counters. */
void wl_done(struct wl_thread_ctx *c);
/* Record a failed check (first message kept). */
void wl_error(struct wl_thread_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True when the workload itself finished before the duration (bwtree: all keys in). */
void wl_finished_early(struct wl_thread_ctx *c);

/* Check the stop flag: relaxed, it only has to be seen eventually. */
static inline bool wl_should_stop(const struct wl_thread_ctx *c)
{
	return atomic_load_explicit(c->stop, memory_order_relaxed);
}

struct workload_desc {
	const char *name;
	const char *summary;
	const struct wl_param_spec *params;   /* terminated by a {NULL} entry */
	/* sizeof the workload's main object (its node, the scheme's header
	 * included) in this scheme's instance: runs.csv's object_bytes. */
	size_t object_bytes;
	/* Hazard slots a thread of it protects at once (HP-like schemes); its
	 * create() asks the domain for as many. */
	int hazard_slots;
	/* Custom param checks and cross-param checks; NULL when none.  Returns 0 or -1 with err. */
	int (*check)(const struct cell *c, char *err, size_t errlen);
	/* Threads beyond the workers (lazy: one producer). */
	int (*helpers)(const struct cell *c);
	/* Build the structure and the scheme's domain.  NULL with err on failure. */
	void *(*create)(struct cell *c, char *err, size_t errlen);
	/* Thread body: register, wl_ready(), loop until stop, wl_done(), unregister. */
	void (*thread)(void *state, struct wl_thread_ctx *ctx);
	/* After every thread joined: is the structure intact?  false with msg if not. */
	bool (*verify)(void *state, char *msg, size_t msglen);
	/* The scheme's domain (smr_domain *) the structure uses: the harness
	 * samples its live counters (scheme_desc.domain_stats) and its
	 * stalled-thread mode registers a thread of its own with it. */
	void *(*domain)(void *state);
	/* Tear the structure down, destroy the domain (reclaiming everything), final stats. */
	void (*destroy)(void *state, struct smr_stats *out);
	/* Test builds only (smrbench-faults): property tests against a sequential
	 * model, TAP lines on stdout; returns the number of failed tests. */
	int (*selftest)(void);
};

/*
 * What a scheme is, declared once (instances/<scheme>.c) and read by the
 * harness, `smrbench list --json` and through it the tests and scripts:
 *   none          never frees until the end (the floor)
 *   grace-period  frees after every thread passed a quiescent point (EBR,
 *                 QSBR, RCU): one stalled reader holds back everything
 *   pointer       frees what no published hazard pointer names (HP)
 *   era           frees what no reserved era interval covers (HE, IBR)
 *   count         frees at a zero reference count (RC)
 * The last three are robust: a stalled reader holds back a bounded number.
 */
enum smr_family { SMR_FAMILY_NONE, SMR_FAMILY_GRACE_PERIOD, SMR_FAMILY_POINTER, SMR_FAMILY_ERA, SMR_FAMILY_COUNT };
extern const char *const smr_family_name[];

struct scheme_desc {
	const char *name;
	const char *summary;
	enum smr_family family;
	/* The library a reference back end wraps ("liburcu"), NULL for the
	 * schemes this repository implements. */
	const char *reference;
	/* What one get of the lazy workload pays beyond the bare load, for
	 * scripts/predict.py; { NULL } when not predicted.  path: the read path's
	 * work per get, in words.  cost: the calibration's costs it adds, terms
	 * joined by " + ", each "C" (once per get), "N*C" (N times) or "C/PARAM"
	 * (once per PARAM gets, a scheme param); "" for none beyond the floor. */
	struct { const char *path, *cost; } lazy_get;
	const struct smr_param_spec *params;  /* terminated by a {NULL} entry */
	const struct workload_desc *const *workloads;  /* NULL-terminated */
	/* Live counters of one of this scheme's domains (a racy snapshot). */
	void (*domain_stats)(void *domain, struct smr_stats *out);
	/* Stalled-thread mode (-P stall=1; instance.h compiles it per scheme):
	 * register with a workload's domain (workload_desc.domain) and enter a
	 * critical section, returning the thread (NULL if registration failed);
	 * stall_leave ends the section and unregisters, on the same thread. */
	void *(*stall_enter)(void *domain);
	void (*stall_leave)(void *thread);
	/* Test builds only (smrbench-faults): the contract's unit tests for this
	 * scheme, TAP lines on stdout; returns the number of failed tests. */
	int (*selftest)(void);
};

/* All compiled-in schemes (registry.c), NULL-terminated. */
extern const struct scheme_desc *const smrb_schemes[];

const struct scheme_desc *smrb_find_scheme(const char *name);
const struct workload_desc *smrb_find_workload(const struct scheme_desc *s, const char *name);

/*
 * Canaries (test builds: smrbench-faults and smrbench-planted, which the
 * selftests, stress and planted-bug tests run): a word in every node, set
 * while it is live and checked by every reader, so that a read of reclaimed
 * (poisoned) memory fails the run.  The measured binary has neither the word
 * nor the checks: a node is its scheme's header and the workload's own
 * fields, as in the papers' harnesses (a list node under ebr: 32 bytes).
 */
#ifdef SMRB_FAULTS
#define WL_CANARIES 1
#define WL_CANARY_FIELD(type) type canary;
#define wl_canary_set(n, v) ((n)->canary = (v))
#define wl_canary_bad(n, v) ((n)->canary != (v))
#define wl_canary_of(n) ((n)->canary)
#else
#define WL_CANARIES 0
#define WL_CANARY_FIELD(type)
#define wl_canary_set(n, v) ((void)(n))
#define wl_canary_bad(n, v) ((void)(n), false)
#define wl_canary_of(n) ((void)(n), 0)
#endif

/* Fault injection (tests): built into smrbench-faults only, never into smrbench. */
#ifdef SMRB_FAULTS
void wl_fault_point(void);
#define WL_FAULT_POINT() wl_fault_point()
#else
#define WL_FAULT_POINT() ((void)0)
#endif

#endif /* SMRB_WORKLOAD_H */

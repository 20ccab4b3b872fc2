/* SPDX-License-Identifier: MIT */
/*
 * cell.c - what a cell is and how it runs: its params, then its timed run:
 * the structure built, threads created and pinned (topology.c), released
 * together by a barrier, stopped by a flag after the duration, joined, the
 * structure verified and torn down.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness/cell.h"
#include "harness/alloc.h"
#include "schemes/smr_pool.h"

/* ---- params of a cell ---- */

const char *cell_param(const struct cell *c, const char *name)
{
	for (int i = 0; i < c->nparams; i++)
		if (!strcmp(c->param_name[i], name))
			return c->param_value[i];
	return NULL;
}

long cell_param_long(const struct cell *c, const char *name)
{
	const char *v = cell_param(c, name);
	return v ? strtol(v, NULL, 10) : 0;
}

double cell_param_real(const struct cell *c, const char *name)
{
	const char *v = cell_param(c, name);
	return v ? strtod(v, NULL) : 0;
}

const char *cell_alloc(const struct cell *c)
{
	const char *a = cell_param(c, "alloc");
	return a ? a : SMRB_DEFAULT_ALLOC;
}

void smr_config_defaults(struct smr_config *cfg, const struct smr_param_spec *params)
{
	for (int i = 0; params[i].name && i < SMR_MAX_PARAMS; i++)
		cfg->param[i] = strtol(params[i].def, NULL, 10);
}

/* ---- the threads of a run ---- */

struct cell_run;

struct harness_thread {
	struct cell_run *run;
	pthread_t tid;
	struct wl_thread_ctx ctx;
	int cpu;                    /* -1: not pinned */
	struct ctr_thread *ctr;
	uint64_t start_ns, end_ns;
	int64_t ctr_values[CTR_N];
	bool ready_called;
	bool pin_failed;
};

/* The stalled thread of -P stall=1. */
struct stall_thread {
	pthread_t tid;
	bool failed;
};

struct cell_run {
	struct cell_job *job;
	void *state;
	int nthreads;               /* workers and helpers */
	struct harness_thread *th;
	struct stall_thread staller;
	pthread_barrier_t start;
	_Atomic bool stop;
	_Atomic bool finished_early;
};

void wl_ready(struct wl_thread_ctx *c)
{
	struct harness_thread *h = c->harness;
	h->ready_called = true;
	h->ctr = counters_thread_prepare();
	pthread_barrier_wait(&h->run->start);
	counters_thread_start(h->ctr);
	h->start_ns = clock_now_ns();
}

void wl_done(struct wl_thread_ctx *c)
{
	struct harness_thread *h = c->harness;
	h->end_ns = clock_now_ns();
	counters_thread_stop(h->ctr, h->ctr_values);
	h->ctr = NULL;
}

void wl_error(struct wl_thread_ctx *c, const char *fmt, ...)
{
	if (c->errors++ == 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->error, sizeof c->error, fmt, ap);
		va_end(ap);
		/* Say it now: a thread that found poison may crash on its next read,
		 * and the reason must not die with it. */
		fprintf(stderr, "smrbench: thread %d: %s\n", c->id, c->error);
	}
}

void wl_finished_early(struct wl_thread_ctx *c)
{
	struct harness_thread *h = c->harness;
	atomic_store(&h->run->finished_early, true);
}

/*
 * Fault injection (smrbench-faults): at a fault point inside a critical
 * section, yield the CPU one time in 16, so that a reclaimer gets to run
 * while this thread holds a reference.  Widens every race window the
 * stress tests look for.  A per-thread xorshift keeps threads independent.
 */
void wl_fault_point(void)
{
	static _Thread_local uint32_t x;
	if (!x)
		x = (uint32_t)clock_now_ns() | 1;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	if ((x & 15) == 0)
		sched_yield();
}

static uint64_t rss_peak_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	uint64_t kb = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmHWM: %lu kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void *thread_main(void *arg)
{
	struct harness_thread *h = arg;
	if (h->cpu >= 0 && pin_this_thread(h->cpu) < 0)
		h->pin_failed = true;
	h->run->job->wl->thread(h->run->state, &h->ctx);
	/* A workload that bailed out before wl_ready still has to meet the barrier. */
	if (!h->ready_called) {
		wl_error(&h->ctx, "thread ended before it was ready");
		wl_ready(&h->ctx);
		wl_done(&h->ctx);
	}
	return NULL;
}

/*
 * Stalled-thread mode: enter the scheme's critical section before the
 * workers start, sleep until the run stops, then leave.  It sleeps in 1 ms
 * slices: it must not take a CPU from the workers, only hold the scheme back.
 */
static void *stall_main(void *arg)
{
	struct cell_run *run = arg;
	const struct scheme_desc *scheme = run->job->scheme;
	void *t = scheme->stall_enter(run->job->wl->domain(run->state));
	run->staller.failed = t == NULL;
	pthread_barrier_wait(&run->start);
	while (!atomic_load_explicit(&run->stop, memory_order_acquire))
		sleep_ns(1000000);
	if (t)
		scheme->stall_leave(t);
	return NULL;
}

void cell_fail(struct cell_result *r, const char *fmt, ...)
{
	if (r->status)
		return;
	r->status = EXIT_RUN_FAILED;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof r->message, fmt, ap);
	va_end(ap);
}

/* ---- sampling (--sample-ms) ---- */

/* Resident set now (not the peak): /proc/self/statm's second field, in pages. */
static uint64_t rss_now_kb(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size, resident = 0;
	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return (uint64_t)resident * (uint64_t)(sysconf(_SC_PAGESIZE) / 1024);
}

/* One row: the workload's live counters (a racy snapshot, as smr.h allows). */
static void sample_row(FILE *f, const struct cell_run *run, uint64_t t_ns)
{
	const struct cell_job *job = run->job;
	fprintf(f, "%s,%.3f,", job->sampling.prefix, (double)t_ns / 1e6);
	if (job->scheme->domain_stats && job->wl->domain) {
		struct smr_stats st = { 0 };
		job->scheme->domain_stats(job->wl->domain(run->state), &st);
		/* Read without a lock, reclaimed may pass retired by a few: clamp. */
		uint64_t un = st.retired > st.reclaimed ? st.retired - st.reclaimed : 0;
		fprintf(f, "%llu,%llu,%llu,", (unsigned long long)un, (unsigned long long)st.retired,
			(unsigned long long)st.reclaimed);
	} else {
		fputs(",,,", f); /* no live counters: empty, never a zero */
	}
	fprintf(f, "%llu\n", (unsigned long long)rss_now_kb());
	fflush(f); /* an interrupted run keeps every row written */
}

/* ---- the steps of a run ---- */

/* The domain's size: every thread that registers, and whether the scheme can stall. */
static int size_domain(struct cell_run *run, struct cell_result *r)
{
	struct cell_job *job = run->job;
	const struct workload_desc *wl = job->wl;
	struct cell *c = &job->cell;
	run->nthreads = c->threads + (wl->helpers ? wl->helpers(c) : 0);
	c->smr.max_threads = run->nthreads + 2 + job->stall; /* + set-up and teardown threads (+ the stalled one) */
	/*
	 * Tests (tests/stress.sh): SMRBENCH_FULL_DOMAIN=1 gives the domain
	 * exactly one record per running thread (set-up and teardown register
	 * only while no worker runs), so a worker holds the last record and a
	 * scan that stops one record short misses it.  Not the default: a
	 * domain's size sets hp's scan threshold (R = r0 + 2H), part of what a
	 * row measures.
	 */
	const char *full = getenv("SMRBENCH_FULL_DOMAIN");
	if (full && *full && *full != '0')
		c->smr.max_threads = run->nthreads + job->stall;
	if (job->stall && (!job->scheme->stall_enter || !wl->domain)) {
		cell_fail(r, "stall=1: %s", !wl->domain ? "the workload does not expose its domain" :
							"the scheme has no stalled-thread mode");
		return -1;
	}
	return 0;
}

/* Start the stalled thread, then the workers and helpers, each pinned; all wait on run->start. */
static void start_threads(struct cell_run *run)
{
	const struct cell_job *job = run->job;
	int n = run->nthreads;
	pthread_barrier_init(&run->start, NULL, (unsigned)n + 1 + job->stall);
	if (job->stall && pthread_create(&run->staller.tid, NULL, stall_main, run)) {
		fprintf(stderr, "smrbench: could not start the stalled thread\n");
		exit(EXIT_RUN_FAILED);
	}
	int *cpu = calloc((size_t)n, sizeof *cpu);
	pin_cpus(job->pin, n, cpu);
	run->th = calloc((size_t)n, sizeof *run->th);
	for (int i = 0; i < n; i++) {
		struct harness_thread *h = &run->th[i];
		h->run = run;
		h->cpu = cpu[i];
		h->ctx = (struct wl_thread_ctx){
			.id = i,
			.role = i < job->cell.threads ? WL_WORKER : WL_HELPER,
			.nworkers = job->cell.threads,
			.stop = &run->stop,
			.harness = h,
		};
		int e = pthread_create(&h->tid, NULL, thread_main, h);
		if (e) {
			/* Threads already started wait on the barrier: let them go and stop. */
			fprintf(stderr, "smrbench: could not start thread %d: %s\n", i, strerror(e));
			exit(EXIT_RUN_FAILED);
		}
	}
	free(cpu);
}

/*
 * Release the threads and let them run for the duration.  Sleep in slices
 * so that a workload that finishes early ends the cell early, and so that
 * samples are taken on time.
 */
static void run_for_duration(struct cell_run *run)
{
	const struct cell_job *job = run->job;
	pthread_barrier_wait(&run->start);
	uint64_t start = clock_now_ns();
	uint64_t deadline = start + (uint64_t)(job->cell.duration_s * 1e9);
	FILE *samples = NULL;
	uint64_t period = (uint64_t)job->sampling.ms * 1000000ull, next_sample = start;
	if (job->sampling.ms && !(samples = fopen(job->sampling.path, "a")))
		fprintf(stderr, "smrbench: cannot append to %s: %s\n", job->sampling.path, strerror(errno));
	for (uint64_t now = start; now < deadline && !atomic_load(&run->finished_early); now = clock_now_ns()) {
		if (samples && now >= next_sample) {
			sample_row(samples, run, now - start);
			/* Late (a busy machine): skip the missed slots rather than burst. */
			while (next_sample <= now)
				next_sample += period;
		}
		uint64_t until = deadline;
		if (samples && next_sample < until)
			until = next_sample;
		if (until > now + 10000000ull)
			until = now + 10000000ull;
		if (until > now)
			sleep_ns(until - now);
	}
	if (samples) { /* the state at stop */
		sample_row(samples, run, clock_now_ns() - start);
		fclose(samples);
	}
}

static void stop_threads(struct cell_run *run, struct cell_result *r)
{
	atomic_store(&run->stop, true);
	for (int i = 0; i < run->nthreads; i++)
		pthread_join(run->th[i].tid, NULL);
	if (run->job->stall) {
		pthread_join(run->staller.tid, NULL);
		if (run->staller.failed)
			cell_fail(r, "stall=1: the stalled thread could not register");
	}
	pthread_barrier_destroy(&run->start);
}

/* Sum what the workers measured; a failed check or pin of any thread fails the cell. */
static void collect_threads(struct cell_run *run, struct cell_result *r)
{
	bool pin_failed = false;
	for (int i = 0; i < run->nthreads; i++) {
		struct harness_thread *h = &run->th[i];
		pin_failed |= h->pin_failed;
		if (h->ctx.errors)
			cell_fail(r, "thread %d: %s (%llu failed checks)", i, h->ctx.error,
				  (unsigned long long)h->ctx.errors);
		if (h->ctx.role != WL_WORKER)
			continue;
		uint64_t el = h->end_ns - h->start_ns;
		r->ops += h->ctx.ops;
		r->worker_ns += el;
		if (el > r->wall_ns)
			r->wall_ns = el;
		/* A worker that could not count makes the sum unknown, not smaller. */
		for (int k = 0; k < CTR_N; k++)
			r->ctr[k] = r->ctr[k] >= 0 && h->ctr_values[k] >= 0 ? r->ctr[k] + h->ctr_values[k] : -1;
	}
	r->finished_early = atomic_load(&run->finished_early);
	if (pin_failed)
		cell_fail(r, "could not pin a thread (--pin %s)", pin_name(run->job->pin));
}

/* Verify the structure, tear it down, and check that nothing was left behind. */
static void verify_and_destroy(struct cell_run *run, struct cell_result *r)
{
	const struct workload_desc *wl = run->job->wl;
	char msg[256] = "";
	if (!wl->verify(run->state, msg, sizeof msg))
		cell_fail(r, "verify failed: %s", msg);
	wl->destroy(run->state, &r->smr);
	if (r->smr.retired != r->smr.reclaimed)
		cell_fail(r, "verify failed: %llu objects retired but %llu reclaimed after teardown",
			  (unsigned long long)r->smr.retired, (unsigned long long)r->smr.reclaimed);
	/* Leaks no sanitizer sees: objects left in a pool, payloads never dropped (smr.h). */
	if (smr_pool_on)
		r->smr.pool_live += smr_pool_live_objects();
	if (r->smr.pool_live || r->smr.payloads_live)
		cell_fail(r,
			  "verify failed: after teardown %llu objects still live in a pool, %lld payloads "
			  "(what retired objects own: lazy's values, bwtree's page ids) not given back "
			  "(want 0 and 0)",
			  (unsigned long long)r->smr.pool_live, (long long)r->smr.payloads_live);
	if (r->ops == 0)
		cell_fail(r, "no operation completed");
}

void cell_execute(struct cell_job *job, struct cell_result *r)
{
	memset(r, 0, sizeof *r);
	for (int i = 0; i < CTR_N; i++)
		r->ctr[i] = counters_available((enum ctr_id)i) ? 0 : -1;
	struct cell_run run = { .job = job };
	if (size_domain(&run, r) < 0)
		return;
	char err[256] = "";
	run.state = job->wl->create(&job->cell, err, sizeof err);
	if (!run.state) {
		cell_fail(r, "set-up failed: %s", err);
		return;
	}
	counters_process_init();
	start_threads(&run);
	run_for_duration(&run);
	stop_threads(&run, r);
	collect_threads(&run, r);
	verify_and_destroy(&run, r);
	r->rss_peak_kb = rss_peak_kb();
	free(run.th);
}

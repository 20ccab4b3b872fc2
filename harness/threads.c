/*
 * threads.c - one cell's timed run: threads created and pinned with hwloc,
 * released together by a barrier, stopped by a flag after the duration.
 */
#include <errno.h>
#include <hwloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness/harness.h"
#include "schemes/smr_pool.h"

static hwloc_topology_t topo;
static int npus;

int topology_init(char *err, size_t errlen)
{
	if (hwloc_topology_init(&topo) < 0 || hwloc_topology_load(topo) < 0) {
		snprintf(err, errlen, "hwloc could not load the machine's topology: %s", strerror(errno));
		return -1;
	}
	npus = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
	if (npus < 1) {
		snprintf(err, errlen, "hwloc found no processing units");
		return -1;
	}
	return 0;
}

static int count_type(hwloc_obj_type_t t)
{
	int n = hwloc_get_nbobjs_by_type(topo, t);
	return n < 0 ? 0 : n;
}

void topology_json(FILE *f)
{
	hwloc_obj_t root = hwloc_get_root_obj(topo);
	const char *model = hwloc_obj_get_info_by_name(root, "CPUModel");
	if (!model) {
		hwloc_obj_t pkg = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PACKAGE, 0);
		model = pkg ? hwloc_obj_get_info_by_name(pkg, "CPUModel") : NULL;
	}
	fprintf(f, "{\"packages\": %d, \"numa_nodes\": %d, \"cores\": %d, \"pus\": %d, ",
		count_type(HWLOC_OBJ_PACKAGE), count_type(HWLOC_OBJ_NUMANODE),
		count_type(HWLOC_OBJ_CORE), npus);
	fprintf(f, "\"l3_caches\": %d, \"cpu_model\": \"%s\", \"hwloc_version\": \"%s\"}",
		count_type(HWLOC_OBJ_L3CACHE), model ? model : "unknown", HWLOC_VERSION);
}

const char *pin_name(enum pin_policy p)
{
	static const char *const names[] = { "compact", "scatter", "none" };
	return names[p];
}

int pin_parse(const char *s, enum pin_policy *p)
{
	for (int i = PIN_COMPACT; i <= PIN_NONE; i++)
		if (!strcmp(s, pin_name((enum pin_policy)i))) {
			*p = (enum pin_policy)i;
			return 0;
		}
	return -1;
}

/*
 * The cpusets of n threads: compact fills PUs in hwloc's logical order (the
 * hyperthreads of a core, then the next core); scatter spreads them over the
 * topology's widest level first (hwloc_distrib).  Beyond the PU count they
 * wrap around: more threads than cores is the oversubscription experiment.
 */
static hwloc_bitmap_t *pin_sets(enum pin_policy p, int n)
{
	if (p == PIN_NONE)
		return NULL;
	hwloc_bitmap_t *sets = calloc((size_t)n, sizeof *sets);
	if (p == PIN_COMPACT) {
		for (int i = 0; i < n; i++) {
			hwloc_obj_t pu = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, (unsigned)(i % npus));
			sets[i] = hwloc_bitmap_dup(pu->cpuset);
		}
	} else {
		int m = n < npus ? n : npus;
		hwloc_bitmap_t *spread = calloc((size_t)m, sizeof *spread);
		hwloc_obj_t root = hwloc_get_root_obj(topo);
		hwloc_distrib(topo, &root, 1, spread, (unsigned)m, INT_MAX, 0);
		for (int i = 0; i < n; i++) {
			sets[i] = hwloc_bitmap_dup(spread[i % m]);
			hwloc_bitmap_singlify(sets[i]);
		}
		for (int i = 0; i < m; i++)
			hwloc_bitmap_free(spread[i]);
		free(spread);
	}
	return sets;
}

/* The OS index of the PU each of n threads is pinned to (the first PU of its
 * set), -1 for all under PIN_NONE: what a peer process is told (peers.c). */
void pin_cpus(enum pin_policy p, int n, int *cpu)
{
	hwloc_bitmap_t *sets = pin_sets(p, n);
	for (int i = 0; i < n; i++) {
		cpu[i] = sets ? hwloc_bitmap_first(sets[i]) : -1;
		if (sets)
			hwloc_bitmap_free(sets[i]);
	}
	free(sets);
}

/* ---- one cell ---- */

struct cell_run;

struct harness_thread {
	struct cell_run *run;
	pthread_t tid;
	struct wl_thread_ctx ctx;
	hwloc_bitmap_t cpuset;
	struct ctr_thread *ctr;
	uint64_t start_ns, end_ns;
	int64_t ctr_values[CTR_N];
	bool ready_called;
	bool pin_failed;
};

struct cell_run {
	const struct workload_desc *wl;
	void *state;
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

static void *thread_main(void *arg)
{
	struct harness_thread *h = arg;
	if (h->cpuset && hwloc_set_cpubind(topo, h->cpuset, HWLOC_CPUBIND_THREAD) < 0)
		h->pin_failed = true;
	h->run->wl->thread(h->run->state, &h->ctx);
	/* A workload that bailed out before wl_ready still has to meet the barrier. */
	if (!h->ready_called) {
		wl_error(&h->ctx, "thread ended before it was ready");
		wl_ready(&h->ctx);
		wl_done(&h->ctx);
	}
	return NULL;
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

/* ---- sampling (--sample-ms) ---- */

static struct {
	unsigned ms;
	char path[4096];
	char prefix[1024];
} sampling;

void cell_set_sampling(unsigned ms, const char *path, const char *prefix)
{
	sampling.ms = ms;
	snprintf(sampling.path, sizeof sampling.path, "%s", path ? path : "");
	snprintf(sampling.prefix, sizeof sampling.prefix, "%s", prefix ? prefix : "");
}

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
static void sample_row(FILE *f, const struct workload_desc *wl, const struct scheme_desc *scheme,
		       void *state, uint64_t t_ns)
{
	fprintf(f, "%s,%.3f,", sampling.prefix, (double)t_ns / 1e6);
	if (scheme && scheme->domain_stats && wl->domain) {
		struct smr_stats st = { 0 };
		scheme->domain_stats(wl->domain(state), &st);
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

/* ---- stalled-thread mode (-P stall=1) ---- */

struct stall_thread {
	pthread_t tid;
	const struct scheme_desc *scheme;
	void *domain;
	pthread_barrier_t *start;
	const _Atomic bool *stop;
	bool failed;
};

/*
 * Enter the scheme's critical section before the workers start, sleep
 * until the run stops, then leave.  It sleeps in 1 ms slices: it must not
 * take a CPU from the workers, only hold the scheme back.
 */
static void *stall_main(void *arg)
{
	struct stall_thread *s = arg;
	void *t = s->scheme->stall_enter(s->domain);
	s->failed = t == NULL;
	pthread_barrier_wait(s->start);
	while (!atomic_load_explicit(s->stop, memory_order_acquire))
		sleep_ns(1000000);
	if (t)
		s->scheme->stall_leave(t);
	return NULL;
}

void cell_execute(const struct workload_desc *wl, struct cell *c, enum pin_policy pin,
		  struct cell_result *r)
{
	memset(r, 0, sizeof *r);
	for (int i = 0; i < CTR_N; i++)
		r->ctr[i] = counters_available((enum ctr_id)i) ? 0 : -1;
	int nhelpers = wl->helpers ? wl->helpers(c) : 0;
	int n = c->threads + nhelpers;
	const char *stall_v = cell_param(c, "stall");
	bool stall = stall_v && strcmp(stall_v, "0");
	c->smr.max_threads = n + 2 + stall; /* + set-up and teardown threads (+ the stalled one) */
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
		c->smr.max_threads = n + stall;
	const struct scheme_desc *scheme = smrb_find_scheme(c->scheme);
	if (stall && (!scheme || !scheme->stall_enter || !wl->domain)) {
		r->status = EXIT_RUN_FAILED;
		snprintf(r->message, sizeof r->message, "stall=1: %s",
			 !wl->domain ? "the workload does not expose its domain" :
				       "the scheme has no stalled-thread mode");
		return;
	}

	struct cell_run run = { .wl = wl };
	char err[256] = "";
	run.state = wl->create(c, err, sizeof err);
	if (!run.state) {
		r->status = EXIT_RUN_FAILED;
		snprintf(r->message, sizeof r->message, "set-up failed: %s", err);
		return;
	}
	counters_process_init();
	pthread_barrier_init(&run.start, NULL, (unsigned)n + 1 + stall);
	struct stall_thread staller = {
		.scheme = scheme,
		.domain = stall ? wl->domain(run.state) : NULL,
		.start = &run.start,
		.stop = &run.stop,
	};
	if (stall && pthread_create(&staller.tid, NULL, stall_main, &staller)) {
		fprintf(stderr, "smrbench: could not start the stalled thread\n");
		exit(EXIT_RUN_FAILED);
	}
	struct harness_thread *th = calloc((size_t)n, sizeof *th);
	hwloc_bitmap_t *sets = pin_sets(pin, n);
	for (int i = 0; i < n; i++) {
		struct harness_thread *h = &th[i];
		h->run = &run;
		h->cpuset = sets ? sets[i] : NULL;
		h->ctx = (struct wl_thread_ctx){
			.id = i,
			.role = i < c->threads ? WL_WORKER : WL_HELPER,
			.nworkers = c->threads,
			.stop = &run.stop,
			.harness = h,
		};
		int e = pthread_create(&h->tid, NULL, thread_main, h);
		if (e) {
			/* Threads already started wait on the barrier: let them go and stop. */
			fprintf(stderr, "smrbench: could not start thread %d: %s\n", i, strerror(e));
			exit(EXIT_RUN_FAILED);
		}
	}
	pthread_barrier_wait(&run.start);
	uint64_t start = clock_now_ns();
	uint64_t deadline = start + (uint64_t)(c->duration_s * 1e9);
	FILE *samples = NULL;
	uint64_t period = (uint64_t)sampling.ms * 1000000ull, next_sample = start;
	if (sampling.ms && !(samples = fopen(sampling.path, "a")))
		fprintf(stderr, "smrbench: cannot append to %s: %s\n", sampling.path, strerror(errno));
	/* Sleep in slices so that a workload that finishes early ends the cell
	 * early, and so that samples are taken on time. */
	for (uint64_t now = start; now < deadline && !atomic_load(&run.finished_early);
	     now = clock_now_ns()) {
		if (samples && now >= next_sample) {
			sample_row(samples, wl, scheme, run.state, now - start);
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
	if (samples) /* the state at stop */
		sample_row(samples, wl, scheme, run.state, clock_now_ns() - start);
	atomic_store(&run.stop, true);
	for (int i = 0; i < n; i++)
		pthread_join(th[i].tid, NULL);
	if (stall) {
		pthread_join(staller.tid, NULL);
		if (staller.failed && !r->status) {
			r->status = EXIT_RUN_FAILED;
			snprintf(r->message, sizeof r->message, "stall=1: the stalled thread could not register");
		}
	}
	if (samples)
		fclose(samples);

	bool pin_failed = false;
	for (int i = 0; i < n; i++) {
		struct harness_thread *h = &th[i];
		pin_failed |= h->pin_failed;
		if (h->ctx.errors && !r->status) {
			r->status = EXIT_RUN_FAILED;
			snprintf(r->message, sizeof r->message, "thread %d: %s (%llu failed checks)", i,
				 h->ctx.error, (unsigned long long)h->ctx.errors);
		}
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
	r->finished_early = atomic_load(&run.finished_early);
	if (pin_failed && !r->status) {
		r->status = EXIT_RUN_FAILED;
		snprintf(r->message, sizeof r->message, "could not pin a thread (--pin %s)", pin_name(pin));
	}
	char msg[256] = "";
	if (!wl->verify(run.state, msg, sizeof msg) && !r->status) {
		r->status = EXIT_RUN_FAILED;
		snprintf(r->message, sizeof r->message, "verify failed: %s", msg);
	}
	wl->destroy(run.state, &r->smr);
	if (r->smr.retired != r->smr.reclaimed && !r->status) {
		r->status = EXIT_RUN_FAILED;
		snprintf(r->message, sizeof r->message,
			 "verify failed: %llu objects retired but %llu reclaimed after teardown",
			 (unsigned long long)r->smr.retired, (unsigned long long)r->smr.reclaimed);
	}
	/* Leaks no sanitizer sees: objects left in a pool, payloads never dropped (smr.h). */
	if (smr_pool_on)
		r->smr.pool_live += smr_pool_live_objects();
	if ((r->smr.pool_live || r->smr.payloads_live) && !r->status) {
		r->status = EXIT_RUN_FAILED;
		snprintf(r->message, sizeof r->message,
			 "verify failed: after teardown %llu objects still live in a pool, %lld payloads "
			 "(what retired objects own: lazy's values, bwtree's page ids) not given back "
			 "(want 0 and 0)",
			 (unsigned long long)r->smr.pool_live, (long long)r->smr.payloads_live);
	}
	if (r->ops == 0 && !r->status) {
		r->status = EXIT_RUN_FAILED;
		snprintf(r->message, sizeof r->message, "no operation completed");
	}
	r->rss_peak_kb = rss_peak_kb();
	for (int i = 0; i < n && sets; i++)
		hwloc_bitmap_free(sets[i]);
	free(sets);
	free(th);
	pthread_barrier_destroy(&run.start);
}

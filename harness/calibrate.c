/* SPDX-License-Identifier: MIT */
/*
 * calibrate.c - what the primitives cost on this machine, measured at the
 * start of a run and written into machine.json ("calibration"): a reader can
 * then put a scheme's ns per op beside the locked RMW or fence it pays for,
 * and the lazy workload's `none` rows beside the bare get they cannot beat.
 *
 * Everything runs in a forked child.  The measurements start threads, register
 * the process for membarrier and map and free large buffers (which moves
 * glibc's mmap threshold); the cells are forked from the same parent and must
 * not inherit any of that.  The child sends a plain struct back through a pipe.
 *
 * Each measurement is a noinline loop of n iterations timed by the harness's
 * own clock (clock_now_ns, as the cells' elapsed times are).  A pilot doubles n
 * until one pass takes CAL_PILOT_NS, n is then scaled so that a repetition
 * takes CAL_REP_NS, and the result is the median over CAL_REPS repetitions of
 * elapsed / n, with min and max.  The loop's own overhead is included, as it
 * is in the workloads' ns per op.  Fifteen measurements of ~22 ms, a warm-up
 * and the DRAM buffer's setup make about 0.4 s.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/membarrier.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CAL_X86 1
#endif

#include "config.h"
#include "harness/harness.h"
#include "schemes/smr_delay.h"

#define CAL_PILOT_NS 200000ull    /* a pilot pass long enough to time */
/*
 * Short repetitions, many of them: on a shared machine another process takes
 * the CPU for a few ms at a time; a repetition it hits is an outlier the
 * median ignores, while 4 ms repetitions were nearly all hit.  1 ms is still
 * 40000 times the clock's own cost.
 */
#define CAL_REP_NS 1000000ull
#define CAL_REPS 21               /* odd: the median is one of them */
/*
 * With the busy peer: a repetition counts only if the peer ran throughout
 * (measure_gated), and shared CPUs hand out slices of ~1 ms (EEVDF's 0.75 ms
 * base slice), so its repetitions are short enough to fit in one.
 */
#define CAL_PEER_REP_NS 100000ull
#define CAL_TIMEOUT_MS 30000      /* the child's limit, should a peer never get a CPU */
#define CAL_LINE 64

#define CAL_L1_BYTES (16u << 10)   /* inside any L1D of the last decade (32-48 KiB) */
#define CAL_L2_BYTES (512u << 10)  /* beyond L1, inside a 1-2 MiB L2 */
/*
 * Well beyond a 32 MiB L3, and set up in ~40 ms (256 MiB took ~0.4 s).  On x86
 * the lines are flushed after setup and each is visited at most once, so no
 * load hits a cache whatever the LLC's size.
 */
#define CAL_DRAM_BYTES (64u << 20)

enum cal_id {
	CAL_LAZY_FLOOR, CAL_LAZY_ALGORITHM, CAL_ACQ_LOAD, CAL_XCHG, CAL_CAS, CAL_MFENCE, CAL_SC_FENCE,
	CAL_MEMBARRIER, CAL_MEMBARRIER_PEER, CAL_MALLOC64,
	CAL_LAT_L1, CAL_LAT_L2, CAL_LAT_DRAM, CAL_CLOCK, CAL_DELAY_SPIN,
	CAL_N
};

static const struct {
	const char *key;
	const char *how;
} cal_item[CAL_N] = {
	[CAL_LAZY_FLOOR] = { "lazy_get_floor_ns",
		"the bare LazyTransform get, one thread: an acquire load of the cached pointer (an _Atomic on its "
		"own line), then the u64 it points to (another line), summed; ns per get = elapsed / gets, as the "
		"lazy workload's ns_per_op, which with scheme none cannot go below it" },
	[CAL_LAZY_ALGORITHM] = { "lazy_get_algorithm_ns",
		"the same get with the LazyTransform's own tests added: a relaxed load of the pending source (on the "
		"cached pointer's line, NULL) and its branch, and whether the cell is the one met last: what "
		"scheme none's get does in the workload, minus the harness" },
	[CAL_ACQ_LOAD] = { "acquire_load_ns",
		"an acquire load of an _Atomic u64 on its own line (L1), summed: a loop of independent loads" },
	[CAL_XCHG] = { "xchg_ns", "atomic_exchange seq_cst (x86: lock xchg) on a line of our own, uncontended, back to back" },
	[CAL_CAS] = { "cas_ns",
		"atomic_compare_exchange_strong seq_cst (x86: lock cmpxchg), always succeeding, on a line of our "
		"own, uncontended, back to back" },
	[CAL_MFENCE] = { "mfence_ns", "mfence back to back, no store pending" },
	[CAL_SC_FENCE] = { "seq_cst_fence_ns",
		"atomic_thread_fence(memory_order_seq_cst) back to back, no store pending (the compiler's choice "
		"of instruction: gcc 12 emits lock or $0 to the stack, older gcc mfence)" },
	[CAL_MEMBARRIER] = { "membarrier_ns",
		"membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) after registering the process, no other thread of "
		"it running: no IPI to send" },
	[CAL_MEMBARRIER_PEER] = { "membarrier_busy_peer_ns",
		"the same while a second thread of the process spins on another CPU: one IPI per call; a "
		"repetition counts only if the peer was on its CPU for 90% of it (its CPU-time clock), the others "
		"are reps_left_out" },
	[CAL_MALLOC64] = { "malloc_free_64_ns",
		"malloc(64) then free, back to back, with the process's malloc, in a thread other than main (as a "
		"cell's workers)" },
	[CAL_LAT_L1] = { "load_latency_l1_ns",
		"dependent loads (pointer chase) over a random cyclic permutation of the 64-byte lines of a 16 KiB buffer" },
	[CAL_LAT_L2] = { "load_latency_l2_ns",
		"dependent loads (pointer chase) over a random cyclic permutation of the 64-byte lines of a 512 KiB "
		"buffer; its 128 pages of 4 KiB are beyond most L1 TLBs, so most loads also take an L2 TLB hit" },
	[CAL_LAT_DRAM] = { "load_latency_dram_ns",
#ifdef CAL_X86
		"dependent loads (pointer chase) over a random cyclic permutation of the 64-byte lines of a 64 MiB "
		"buffer (not 256 MiB: too slow to set up), flushed from the caches (clflush) after setup, each line "
		"visited at most once; 4 KiB pages unless THP gives huge ones (see thp), so most loads also miss the TLB"
#else
		"dependent loads (pointer chase) over a random cyclic permutation of the 64-byte lines of a 64 MiB "
		"buffer (not 256 MiB: too slow to set up), not flushed: with an LLC of L bytes, about L / 64 MiB of "
		"the loads may hit it; 4 KiB pages unless THP gives huge ones (see thp)"
#endif
	},
	[CAL_CLOCK] = { "clock_gettime_ns",
		"clock_gettime(CLOCK_MONOTONIC) back to back (the vDSO when the clocksource allows it; see clocksource)" },
	[CAL_DELAY_SPIN] = { "delay_spin_ns",
		"one spin of smr_delay_spins() (schemes/smr_delay.h), a loop-carried dependency: the unit of the "
		"planted slowdowns of make bench-ci-demo" },
};

struct cal_stat {
	bool ok;
	char why[160];          /* when !ok: why the value is null */
	double med, min, max;   /* ns per iteration */
	uint64_t iters;         /* per repetition */
	int reps;               /* the median's */
	int discarded;          /* repetitions left out (the peer was off its CPU) */
};

/* What the child measured: a plain struct, sent through a pipe. */
struct cal_result {
	struct cal_stat s[CAL_N];
	int cpu, peer_cpu;      /* where the measuring thread and the peer ran; -1 unknown */
	uint64_t elapsed_ns;
	uint64_t llc_bytes;     /* 0 unknown */
	char thp[32];           /* transparent_hugepage mode */
	char clocksource[32];
};

/* ---- the loops ----
 *
 * Each is noinline, so that its loop is compiled on its own and aligned as the
 * workloads' loops are (configure's -falign-loops=64), and returns a value
 * derived from every iteration, which lands in cal_sink: the compiler must
 * keep each load.  Check with objdump -d harness/calibrate.o.
 */

typedef uint64_t (*cal_loop)(void *arg, uint64_t n);

static volatile uint64_t cal_sink;

struct cal_lines {
	/*
	 * The LazyTransform's cached pointer and the cell it points to: one line
	 * each, as in the workload; the pending source shares the pointer's line
	 * (NULL: nothing pending), as lt_state's does.
	 */
	_Alignas(CAL_LINE) const uint64_t *_Atomic cached;
	const uint64_t *_Atomic source;
	_Alignas(CAL_LINE) uint64_t cell;
	_Alignas(CAL_LINE) _Atomic uint64_t word;   /* acquire load, xchg, CAS: a line nobody else touches */
	_Alignas(CAL_LINE) _Atomic bool peer_stop;
	_Atomic bool peer_running;
};
static struct cal_lines lines;

static __attribute__((noinline)) uint64_t loop_lazy_get(void *arg, uint64_t n)
{
	struct cal_lines *l = arg;
	uint64_t sum = 0;
	for (uint64_t i = 0; i < n; i++) {
		/* acquire: what a get under `none` does (smr_protect is a plain acquire load) */
		const uint64_t *v = atomic_load_explicit(&l->cached, memory_order_acquire);
		sum += *v;
	}
	return sum;
}

/*
 * The LazyTransform's own get, with no scheme and no harness: the relaxed load
 * of the pending source and its test (Niksic's algorithm: a get transforms
 * a pending source first), then the floor's load and copy, and the test of
 * whether the cell is one the reader met already (lt_get's *seen).  What
 * `none`'s get does beyond loop_lazy_get but cannot leave out.
 */
static __attribute__((noinline)) uint64_t loop_lazy_get_algorithm(void *arg, uint64_t n)
{
	struct cal_lines *l = arg;
	const uint64_t *seen = NULL;
	uint64_t sum = 0, fresh = 0;
	for (uint64_t i = 0; i < n; i++) {
		if (__builtin_expect(atomic_load_explicit(&l->source, memory_order_relaxed) != NULL, 0))
			return 0; /* never: nothing is published during the calibration */
		const uint64_t *v = atomic_load_explicit(&l->cached, memory_order_acquire);
		if (__builtin_expect(v != seen, 0)) {
			seen = v;
			fresh++;
		}
		sum += *v;
	}
	return sum + fresh;
}

static __attribute__((noinline)) uint64_t loop_acquire_load(void *arg, uint64_t n)
{
	struct cal_lines *l = arg;
	uint64_t sum = 0;
	for (uint64_t i = 0; i < n; i++)
		sum += atomic_load_explicit(&l->word, memory_order_acquire); /* the ordering measured */
	return sum;
}

static __attribute__((noinline)) uint64_t loop_xchg(void *arg, uint64_t n)
{
	struct cal_lines *l = arg;
	uint64_t sum = 0;
	for (uint64_t i = 0; i < n; i++)
		/* seq_cst: the strongest; on x86 the same lock xchg as smr_exchange's acq_rel */
		sum += atomic_exchange_explicit(&l->word, i, memory_order_seq_cst);
	return sum;
}

static __attribute__((noinline)) uint64_t loop_cas(void *arg, uint64_t n)
{
	struct cal_lines *l = arg;
	/* relaxed: one thread; only the CAS below is measured. */
	uint64_t expect = atomic_load_explicit(&l->word, memory_order_relaxed), fails = 0;
	for (uint64_t i = 0; i < n; i++) {
		/* seq_cst: on x86 the same lock cmpxchg as smr_cas's acq_rel.  It always
		 * succeeds: nobody else writes the word. */
		if (atomic_compare_exchange_strong_explicit(&l->word, &expect, expect + 1, memory_order_seq_cst,
							    memory_order_relaxed))
			expect++;
		else
			fails++;
	}
	return expect + fails;
}

#ifdef CAL_X86
static __attribute__((noinline)) uint64_t loop_mfence(void *arg, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		__asm__ volatile("mfence" ::: "memory");
	return n;
}
#endif

static __attribute__((noinline)) uint64_t loop_sc_fence(void *arg, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		atomic_thread_fence(memory_order_seq_cst); /* the fence measured */
	return n;
}

static int sys_membarrier(int cmd)
{
	return (int)syscall(__NR_membarrier, cmd, 0, 0);
}

static __attribute__((noinline)) uint64_t loop_membarrier(void *arg, uint64_t n)
{
	uint64_t fails = 0;
	for (uint64_t i = 0; i < n; i++)
		fails += sys_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0;
	return fails;
}

static __attribute__((noinline)) uint64_t loop_malloc_free(void *arg, uint64_t n)
{
	uint64_t sum = 0;
	for (uint64_t i = 0; i < n; i++) {
		void *p = malloc(64);
		/* p escapes into an asm: gcc may not elide the malloc/free pair. */
		__asm__ volatile("" : : "r"(p) : "memory");
		sum += (uintptr_t)p;
		free(p);
	}
	return sum;
}

struct chase {
	void **cur;             /* where the next pass starts: DRAM passes never revisit a line */
};

static __attribute__((noinline)) uint64_t loop_chase(void *arg, uint64_t n)
{
	struct chase *c = arg;
	void **p = c->cur;
	for (uint64_t i = 0; i < n; i++)
		p = *p; /* each load's address is the previous load's value */
	c->cur = p;
	return (uintptr_t)p;
}

static __attribute__((noinline)) uint64_t loop_delay_spin(void *arg, uint64_t n)
{
	(void)arg;
	return smr_delay_spins(n);
}

static __attribute__((noinline)) uint64_t loop_clock(void *arg, uint64_t n)
{
	uint64_t sum = 0;
	struct timespec ts;
	for (uint64_t i = 0; i < n; i++) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		sum += (uint64_t)ts.tv_nsec;
	}
	return sum;
}

/* ---- measuring ---- */

static uint64_t time_pass(cal_loop fn, void *arg, uint64_t n)
{
	uint64_t t0 = clock_now_ns();
	cal_sink += fn(arg, n);
	return clock_now_ns() - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static __attribute__((format(printf, 2, 3))) void null_because(struct cal_stat *st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	st->ok = false;
	vsnprintf(st->why, sizeof st->why, fmt, ap);
	va_end(ap);
}

static uint64_t thread_cpu_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Time fn as the file's comment says, in repetitions of about rep_ns and at
 * most max_iters iterations.  With a peer (the CPU-time clock of a spinning
 * thread), a repetition counts only if the peer was on its CPU for 90% of it:
 * on a busy machine the scheduler runs others there, and a membarrier then
 * has no IPI to send.  Up to 8 x CAL_REPS are tried; fewer than a majority
 * kept makes the value null.
 */
static void measure_gated(cal_loop fn, void *arg, uint64_t max_iters, uint64_t rep_ns, const clockid_t *peer,
			  struct cal_stat *st)
{
	uint64_t n = 16, ns;
	while ((ns = time_pass(fn, arg, n)) < CAL_PILOT_NS && n < max_iters / 2)
		n *= 2;
	/* Once more at that size: a pilot pass the scheduler interrupted would make n far too small. */
	uint64_t again = time_pass(fn, arg, n);
	ns = again < ns ? again : ns;
	double per = (double)(ns ? ns : 1) / (double)n;
	double want = (double)rep_ns / per;
	n = want < 1 ? 1 : want > (double)max_iters ? max_iters : (uint64_t)want;
	double r[CAL_REPS];
	int kept = 0, tried = 0;
	while (kept < CAL_REPS && tried < (peer ? 8 * CAL_REPS : CAL_REPS)) {
		uint64_t p0 = peer ? thread_cpu_ns(*peer) : 0;
		ns = time_pass(fn, arg, n);
		tried++;
		if (peer && thread_cpu_ns(*peer) - p0 < ns / 10 * 9)
			continue;
		r[kept++] = (double)ns / (double)n;
	}
	st->iters = n;
	st->reps = kept;
	st->discarded = tried - kept;
	if (kept < CAL_REPS / 2 + 1) {
		null_because(st, "the peer thread was off its CPU in %d of %d repetitions (a busy machine): "
			     "too few with an IPI to send", tried - kept, tried);
		return;
	}
	qsort(r, (size_t)kept, sizeof r[0], cmp_double);
	st->ok = true;
	st->med = r[kept / 2];
	st->min = r[0];
	st->max = r[kept - 1];
}

static void measure(cal_loop fn, void *arg, uint64_t max_iters, struct cal_stat *st)
{
	measure_gated(fn, arg, max_iters, CAL_REP_NS, NULL, st);
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * A pointer chase over bytes of fresh memory, one pointer per 64-byte line,
 * the lines in one random cycle (Sattolo's algorithm: a random permutation
 * with a single cycle, so a chase never falls into a short loop).
 */
static void measure_chase(size_t bytes, bool dram, struct cal_stat *st)
{
	size_t n = bytes / CAL_LINE;
	char *buf = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint32_t *next = malloc(n * sizeof *next);
	if (buf == MAP_FAILED || !next) {
		null_because(st, "cannot allocate the buffer: %s", strerror(errno));
		free(next);
		if (buf != MAP_FAILED)
			munmap(buf, bytes);
		return;
	}
	uint64_t seed = 0x9E3779B97F4A7C15ull; /* fixed: the same cycle every run */
	for (size_t i = 0; i < n; i++)
		next[i] = (uint32_t)i;
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = xorshift(&seed) % i;
		uint32_t t = next[i];
		next[i] = next[j];
		next[j] = t;
	}
	/* In address order: the buffer's pages are faulted in sequentially, fast. */
	for (size_t i = 0; i < n; i++)
		*(void **)(buf + i * CAL_LINE) = buf + (size_t)next[i] * CAL_LINE;
	free(next);
	struct chase c = { .cur = (void **)buf };
	uint64_t max_iters = UINT64_MAX / 2;
	if (dram) {
#ifdef CAL_X86
		for (size_t i = 0; i < n; i++)
			_mm_clflush(buf + i * CAL_LINE);
		_mm_mfence(); /* the flushes are done before the first timed load */
#endif
		/* Passes continue along the cycle: pilot and repetitions together stay within one lap. */
		max_iters = n / (CAL_REPS + 5);
	} else {
		cal_sink += loop_chase(&c, n); /* one lap: every line in the cache measured */
	}
	measure(loop_chase, &c, max_iters, st);
	munmap(buf, bytes);
}

static void *peer_spin(void *arg)
{
	struct cal_lines *l = arg;
	/* release/acquire: the measuring thread starts only once we run. */
	atomic_store_explicit(&l->peer_running, true, memory_order_release);
	/* relaxed: a flag to stop on, nothing to order after it. */
	while (!atomic_load_explicit(&l->peer_stop, memory_order_relaxed))
		;
	return NULL;
}

/* Start fn(arg) pinned to cpu from its first instruction (cpu < 0: unpinned); 0 or an errno. */
static int start_pinned(pthread_t *t, int cpu, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	cpu_set_t set;
	pthread_attr_init(&attr);
	if (cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		pthread_attr_setaffinity_np(&attr, sizeof set, &set);
	}
	int e = pthread_create(t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return e;
}

static void measure_membarrier(struct cal_result *r, int peer_cpu)
{
	struct cal_stat *alone = &r->s[CAL_MEMBARRIER], *peer = &r->s[CAL_MEMBARRIER_PEER];
	int mask = sys_membarrier(MEMBARRIER_CMD_QUERY);
	if (mask < 0) {
		null_because(alone, "membarrier(MEMBARRIER_CMD_QUERY): %s", strerror(errno));
		null_because(peer, "%s", alone->why);
		return;
	}
	if (!(mask & MEMBARRIER_CMD_PRIVATE_EXPEDITED)) {
		null_because(alone, "%s", "the kernel does not offer MEMBARRIER_CMD_PRIVATE_EXPEDITED (Linux < 4.14)");
		null_because(peer, "%s", alone->why);
		return;
	}
	if (sys_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) < 0) {
		null_because(alone, "membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED): %s", strerror(errno));
		null_because(peer, "%s", alone->why);
		return;
	}
	if (sys_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) < 0) {
		null_because(alone, "membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED): %s", strerror(errno));
		null_because(peer, "%s", alone->why);
		return;
	}
	measure(loop_membarrier, NULL, UINT64_MAX / 2, alone);

	if (peer_cpu < 0) {
		null_because(peer, "%s", "this process may run on one CPU only: none for the peer");
		return;
	}
	pthread_t t;
	atomic_store_explicit(&lines.peer_stop, false, memory_order_relaxed); /* before the thread exists */
	/* Pinned: unpinned, the peer could share our CPU, and there would be no IPI to send. */
	int e = start_pinned(&t, peer_cpu, peer_spin, &lines);
	if (e) {
		null_because(peer, "cannot start the peer thread on CPU %d: %s", peer_cpu, strerror(e));
		return;
	}
	/* acquire: pairs with the peer's release; it is running on its CPU from here on. */
	while (!atomic_load_explicit(&lines.peer_running, memory_order_acquire))
		sched_yield();
	r->peer_cpu = peer_cpu;
	clockid_t peer_clock;
	if ((e = pthread_getcpuclockid(t, &peer_clock)))
		null_because(peer, "no CPU-time clock for the peer thread: %s", strerror(e));
	else
		measure_gated(loop_membarrier, NULL, UINT64_MAX / 2, CAL_PEER_REP_NS, &peer_clock, peer);
	atomic_store_explicit(&lines.peer_stop, true, memory_order_relaxed); /* join below orders the rest */
	pthread_join(t, NULL);
}

/* The first line of path into buf (without its newline); "" if unreadable. */
static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	buf[0] = 0;
	if (f) {
		if (fgets(buf, (int)len, f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
}

/* The size of CPU 0's last-level cache from sysfs; 0 if unknown. */
static uint64_t llc_bytes(void)
{
	uint64_t best = 0;
	int best_level = 0;
	for (int i = 0; i < 8; i++) {
		char path[96], v[32];
		snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
		read_line(path, v, sizeof v);
		int level = atoi(v);
		snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
		read_line(path, v, sizeof v);
		char *end;
		unsigned long long sz = strtoull(v, &end, 10);
		sz <<= *end == 'K' ? 10 : *end == 'M' ? 20 : 0;
		if (level > best_level && sz) {
			best_level = level;
			best = sz;
		}
	}
	return best;
}

struct cal_ctx {
	struct cal_result *r;
	int peer_cpu;
};

/* The measuring thread: pinned to one CPU, a thread other than main as a cell's workers are. */
static void *calibrate_thread(void *arg)
{
	struct cal_ctx *ctx = arg;
	struct cal_result *r = ctx->r;
	uint64_t t0 = clock_now_ns();
	r->cpu = sched_getcpu();

	/* Warm up: let the CPU leave any idle or low-clock state before the first timed pass. */
	while (clock_now_ns() - t0 < 20000000ull)
		cal_sink += loop_acquire_load(&lines, 1000);

	lines.cell = 0x5eed;
	/* release: the cell is written before its pointer can be seen (one thread: for form). */
	atomic_store_explicit(&lines.cached, &lines.cell, memory_order_release);
	measure(loop_lazy_get, &lines, UINT64_MAX / 2, &r->s[CAL_LAZY_FLOOR]);
	measure(loop_lazy_get_algorithm, &lines, UINT64_MAX / 2, &r->s[CAL_LAZY_ALGORITHM]);
	measure(loop_acquire_load, &lines, UINT64_MAX / 2, &r->s[CAL_ACQ_LOAD]);
	measure(loop_xchg, &lines, UINT64_MAX / 2, &r->s[CAL_XCHG]);
	measure(loop_cas, &lines, UINT64_MAX / 2, &r->s[CAL_CAS]);
#ifdef CAL_X86
	measure(loop_mfence, NULL, UINT64_MAX / 2, &r->s[CAL_MFENCE]);
#else
	null_because(&r->s[CAL_MFENCE], "%s", "not an x86 machine");
#endif
	measure(loop_sc_fence, NULL, UINT64_MAX / 2, &r->s[CAL_SC_FENCE]);
	measure(loop_malloc_free, NULL, UINT64_MAX / 2, &r->s[CAL_MALLOC64]);
	measure(loop_clock, NULL, UINT64_MAX / 2, &r->s[CAL_CLOCK]);
	measure(loop_delay_spin, NULL, UINT64_MAX / 2, &r->s[CAL_DELAY_SPIN]);
	measure_chase(CAL_L1_BYTES, false, &r->s[CAL_LAT_L1]);
	measure_chase(CAL_L2_BYTES, false, &r->s[CAL_LAT_L2]);
	measure_chase(CAL_DRAM_BYTES, true, &r->s[CAL_LAT_DRAM]);
	/* Last: registering for membarrier is for good, and the peer's spinning would disturb the rest. */
	measure_membarrier(r, ctx->peer_cpu);
	r->elapsed_ns = clock_now_ns() - t0;
	return NULL;
}

/* In the child: measure everything into r. */
static void calibrate_child(struct cal_result *r)
{
	memset(r, 0, sizeof *r);
	r->cpu = r->peer_cpu = -1;
	r->llc_bytes = llc_bytes();
	char thp[128];
	read_line("/sys/kernel/mm/transparent_hugepage/enabled", thp, sizeof thp);
	char *open = strchr(thp, '['), *close = open ? strchr(open, ']') : NULL;
	if (open && close) {
		*close = 0;
		snprintf(r->thp, sizeof r->thp, "%s", open + 1);
	} else {
		snprintf(r->thp, sizeof r->thp, "unknown");
	}
	read_line("/sys/devices/system/clocksource/clocksource0/current_clocksource", r->clocksource,
		  sizeof r->clocksource);
	if (!r->clocksource[0])
		snprintf(r->clocksource, sizeof r->clocksource, "unknown");

	/* The first two CPUs this process may use: the measuring thread's and the peer's. */
	cpu_set_t allowed;
	int cpu = -1, peer = -1;
	if (sched_getaffinity(0, sizeof allowed, &allowed) == 0)
		for (int i = 0; i < CPU_SETSIZE && peer < 0; i++)
			if (CPU_ISSET(i, &allowed)) {
				if (cpu < 0)
					cpu = i;
				else
					peer = i;
			}
	struct cal_ctx ctx = { .r = r, .peer_cpu = peer };
	pthread_t t;
	int e = start_pinned(&t, cpu, calibrate_thread, &ctx);
	if (e)
		e = start_pinned(&t, -1, calibrate_thread, &ctx); /* unpinned it measures too; r->cpu says where */
	if (e) {
		for (int i = 0; i < CAL_N; i++)
			null_because(&r->s[i], "cannot start the measuring thread: %s", strerror(e));
		return;
	}
	pthread_join(t, NULL);
}

/* ---- the parent ---- */

static enum { CAL_NOT_RUN, CAL_DONE, CAL_NULL } cal_state;
static char cal_note[256];
static struct cal_result cal_res;

void calibrate_skip(const char *why)
{
	cal_state = CAL_NULL;
	snprintf(cal_note, sizeof cal_note, "%s", why);
}

static void calibrate_run(void)
{
	int fds[2];
	if (pipe(fds) < 0) {
		calibrate_skip("not measured: pipe failed");
		return;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		calibrate_skip("not measured: fork failed");
		return;
	}
	if (pid == 0) {
		close(fds[0]);
		static struct cal_result r;
		calibrate_child(&r);
		const char *p = (const char *)&r;
		size_t left = sizeof r;
		while (left) {
			ssize_t w = write(fds[1], p, left);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				exit(1);
			p += w;
			left -= (size_t)w;
		}
		close(fds[1]);
		exit(0); /* exit, not _exit: sanitizers report leaks at exit */
	}
	close(fds[1]);
	char *p = (char *)&cal_res;
	size_t got = 0;
	uint64_t deadline = clock_now_ns() + CAL_TIMEOUT_MS * 1000000ull;
	bool timed_out = false;
	while (got < sizeof cal_res) {
		uint64_t now = clock_now_ns();
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		if (now >= deadline || poll(&pfd, 1, (int)((deadline - now) / 1000000 + 1)) == 0) {
			timed_out = true;
			kill(pid, SIGKILL);
			break;
		}
		ssize_t n = read(fds[0], p + got, sizeof cal_res - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fds[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (timed_out)
		snprintf(cal_note, sizeof cal_note, "not measured: the calibration took over %d s", CAL_TIMEOUT_MS / 1000);
	else if (got != sizeof cal_res && WIFSIGNALED(st))
		snprintf(cal_note, sizeof cal_note, "not measured: the calibration crashed (signal %d)", WTERMSIG(st));
	else if (got != sizeof cal_res)
		snprintf(cal_note, sizeof cal_note, "not measured: the calibration's process failed");
	cal_state = got == sizeof cal_res ? CAL_DONE : CAL_NULL;
}

void calibrate_json(FILE *f)
{
	if (cal_state == CAL_NOT_RUN)
		calibrate_run();
	if (cal_state == CAL_NULL) {
		fprintf(f, "\"calibration\": null,\n  \"calibration_note\": ");
		json_str(f, cal_note);
		return;
	}
	const struct cal_result *r = &cal_res;
	fprintf(f, "\"calibration\": {\n    \"unit\": \"ns\",\n");
	fprintf(f, "    \"statistic\": \"median over reps of (elapsed / iterations) of one repetition; "
		   "min and max in method\",\n");
	for (int i = 0; i < CAL_N; i++) {
		if (r->s[i].ok)
			fprintf(f, "    \"%s\": %.3f,\n", cal_item[i].key, r->s[i].med);
		else
			fprintf(f, "    \"%s\": null,\n", cal_item[i].key);
	}
	fprintf(f, "    \"cpu\": %d,\n    \"peer_cpu\": %d,\n", r->cpu, r->peer_cpu);
	fprintf(f, "    \"dram_buffer_bytes\": %u,\n    \"llc_bytes\": %llu,\n    \"thp\": ", CAL_DRAM_BYTES,
		(unsigned long long)r->llc_bytes);
	json_str(f, r->thp);
	fprintf(f, ",\n    \"clocksource\": ");
	json_str(f, r->clocksource);
	fprintf(f, ",\n    \"elapsed_ms\": %.0f,\n    \"method\": {\n", (double)r->elapsed_ns / 1e6);
	for (int i = 0; i < CAL_N; i++) {
		const struct cal_stat *s = &r->s[i];
		fprintf(f, "      \"%s\": {", cal_item[i].key);
		if (s->ok) {
			fprintf(f, "\"iterations\": %llu, \"reps\": %d, \"min\": %.3f, \"max\": %.3f, ",
				(unsigned long long)s->iters, s->reps, s->min, s->max);
		} else {
			fprintf(f, "\"null_because\": ");
			json_str(f, s->why);
			fprintf(f, ", ");
		}
		if (s->discarded)
			fprintf(f, "\"reps_left_out\": %d, ", s->discarded);
		fprintf(f, "\"how\": ");
		json_str(f, cal_item[i].how);
		fprintf(f, "}%s\n", i + 1 < CAL_N ? "," : "");
	}
	fprintf(f, "    }\n  }");
}

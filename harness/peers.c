/* SPDX-License-Identifier: MIT */
/*
 * peers.c - the peers: the LazyTransform of Niksic, "Exploring lock-free
 * Rust 3: Crossbeam" (2017) in other languages
 * (peers/jvm: Java with AtomicReference and a GC; peers/crossbeam: Rust with
 * crossbeam-epoch), run by `smrbench run` as schemes of the lazy workload.
 * configure builds each one when its toolchain is here; the runner launches
 * one child process per cell and writes its row in the same runs.csv.
 *
 * The protocol between the harness and a peer process:
 *
 *   in   argv: key=value words
 *          threads=N      readers (measured); one producer besides
 *          duration=S     seconds of the timed window
 *          payload=P      u64, box, rc or str:N (the lazy workload's)
 *          period=NS      ns of producer busy work between two sources
 *          cpus=A,B,..    (crossbeam-epoch) the OS CPU of each reader, then of
 *                         the producer, "-" when not pinned; the JVM has no
 *                         thread affinity: the harness binds its whole
 *                         process to the union of those CPUs instead
 *          warmup_ms=MS   (jvm) untimed run of the same loops first (JIT)
 *        environment: LD_PRELOAD=the cell's allocator when it is preloaded
 *        (crossbeam-epoch's String and Box use it; the JVM's objects live in
 *        its heap, its own native allocations use it).  alloc=pool (the
 *        default) and glibc preload nothing: a peer has no pool, it runs with
 *        its language's own allocation (the JVM's heap; Rust's global
 *        allocator, glibc's malloc), which the runtime column says;
 *        SMRBENCH_JVM_OPTS: extra java options (GC, heap), word-split
 *   out  stdout, one line each:
 *          window=start   the timed window begins now
 *          window=end     it is over; the peer then waits for one line on its
 *                         stdin, while the harness reads the process's
 *                         software counters (so they cover the window only)
 *          ops=.. worker_ns=.. wall_ns=.. verify=ok|fail:WHY [retired=..
 *          reclaimed=.. gc_count=.. gc_ms=.. runtime=..]   the result
 *        exit 0 (verify says whether the run was right); 2 with one line on
 *        stderr for bad arguments.
 *
 * The row: ns_per_op, ops, duration from the peer; rss_peak_kb from the
 * child's rusage (its whole life: the JVM's heap included); ctx_switches,
 * page_faults and migrations from /proc over the window, summed over every
 * thread of the process (the JVM's compiler and GC threads too, where a C
 * cell counts its workers); retired and reclaimed where the peer counts
 * them (crossbeam-epoch); the columns runtime (the JVM's version, GC and max
 * heap; the crate's version), gc_count and gc_ms (GarbageCollectorMXBean,
 * over the window).  What a peer cannot measure stays empty, never zero.
 */
/* sched_setaffinity, CPU_SET */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "harness/alloc.h"
#include "harness/harness.h"
#include "harness/peers.h"

struct peer {
	const char *name;
	const char *summary;
	bool built;              /* configure found the toolchain */
	const char *why_not;     /* configure's reason when not */
	const char *artifact;    /* the class or binary make builds */
	struct scheme_desc scheme;
	struct workload_desc lazy;
	const struct workload_desc *wls[2];
};

/* Paths of peers configure did not build: never used (peer_find refuses them). */
#ifndef SMRB_JAVA
#define SMRB_JAVA "java"
#endif
#ifndef SMRB_PEER_JVM_DIR
#define SMRB_PEER_JVM_DIR "."
#endif
#ifndef SMRB_PEERS_NOT_BUILT_JVM
#define SMRB_PEERS_NOT_BUILT_JVM ""
#endif
#ifndef SMRB_PEERS_NOT_BUILT_CROSSBEAM
#define SMRB_PEERS_NOT_BUILT_CROSSBEAM ""
#endif

static const struct smr_param_spec jvm_params[] = {
	{ "warmup_ms", "500", "jvm: ms of untimed gets before the window, so that the JIT has compiled them", 0, 3600000 },
	{ NULL, NULL, NULL, 0, 0 },
};
static const struct smr_param_spec no_params[] = { { NULL, NULL, NULL, 0, 0 } };

/* Their summaries say that they run the lazy workload only (smrbench list). */
static struct peer peers[] = {
	{
		.name = "jvm",
		.summary = "-w lazy only: Niksic's (2017) Java LazyTransform (AtomicReference, the JVM's GC), its own process",
#ifdef HAVE_PEER_JVM
		.built = true,
		.artifact = SMRB_PEER_JVM_DIR "/LazyPeer.class",
#endif
		.why_not = SMRB_PEERS_NOT_BUILT_JVM,
	},
	{
		.name = "crossbeam-epoch",
		.summary = "-w lazy only: Niksic's (2017) Rust LazyTransform (crossbeam-epoch pin, defer_destroy), its own process",
#ifdef HAVE_PEER_CROSSBEAM
		.built = true,
		.artifact = SMRB_PEER_CROSSBEAM_BIN,
#endif
		.why_not = SMRB_PEERS_NOT_BUILT_CROSSBEAM,
	},
};
enum { NPEERS = sizeof peers / sizeof peers[0] };

static const struct smr_param_spec *peer_params(const struct peer *p)
{
	return strcmp(p->name, "jvm") ? no_params : jvm_params;
}

static struct peer *peer_by_name(const char *name)
{
	for (int i = 0; i < NPEERS; i++)
		if (!strcmp(peers[i].name, name))
			return &peers[i];
	return NULL;
}

bool peer_is(const char *name)
{
	return peer_by_name(name) != NULL;
}

/*
 * A peer runs the lazy workload only, with lazy's own params and checks
 * (taken from the C instance: the two cannot drift apart); its object_bytes
 * stays 0, which the row writes as empty.
 */
int peer_find(const char *name, const struct scheme_desc **out, char *err, size_t errlen)
{
	struct peer *p = peer_by_name(name);
	*out = NULL;
	if (!p)
		return 0;
	if (!p->built) {
		snprintf(err, errlen, "peer %s is not built: %s", name, p->why_not);
		return -1;
	}
	if (access(p->artifact, R_OK) < 0) {
		snprintf(err, errlen, "peer %s is configured but %s is missing (run make)", name, p->artifact);
		return -1;
	}
	const struct workload_desc *c_lazy = smrb_find_workload(smrb_schemes[0], "lazy");
	if (!c_lazy) {
		snprintf(err, errlen, "peer %s: this build has no lazy workload", name);
		return -1;
	}
	p->lazy = (struct workload_desc){
		.name = c_lazy->name, .summary = c_lazy->summary, .params = c_lazy->params,
		.check = c_lazy->check, .helpers = c_lazy->helpers,
	};
	p->wls[0] = &p->lazy;
	p->wls[1] = NULL;
	p->scheme = (struct scheme_desc){
		.name = p->name, .summary = p->summary,
		.params = peer_params(p), .workloads = p->wls,
	};
	*out = &p->scheme;
	return 0;
}

void peer_list(FILE *f)
{
	fprintf(f, "peers:\n");
	for (int i = 0; i < NPEERS; i++) {
		const struct peer *p = &peers[i];
		fprintf(f, "  %-16s built: %-3s %s%s%s\n", p->name, p->built ? "yes" : "no", p->summary,
			p->built ? "" : "; not built: ", p->built ? "" : p->why_not);
		const struct smr_param_spec *sp = peer_params(p);
		for (int k = 0; sp[k].name; k++)
			fprintf(f, "      %-12s default %-8s %s [%ld..%ld]\n", sp[k].name, sp[k].def, sp[k].help, sp[k].min,
				sp[k].max);
	}
}

bool peer_info(int i, struct peer_info *out)
{
	if (i < 0 || i >= NPEERS)
		return false;
	*out = (struct peer_info){ peers[i].name, peers[i].summary, peers[i].built,
				   peers[i].built ? NULL : peers[i].why_not, peer_params(&peers[i]) };
	return true;
}

int peer_check(const struct cell *c, char *err, size_t errlen)
{
	const char *stall = cell_param(c, "stall");
	if (stall && strcmp(stall, "0")) {
		snprintf(err, errlen, "peer %s has no stalled-thread mode (-P stall=1 is for the C schemes)", c->scheme);
		return -1;
	}
	return 0;
}

/* ---- the process's software counters, from /proc ---- */

static long long read_stat_faults(pid_t pid)
{
	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	/* Fields after the command's closing parenthesis: state is field 3, minflt 10, majflt 12. */
	char *p = strrchr(buf, ')');
	unsigned long long minflt, majflt;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %llu %*u %llu", &minflt, &majflt) != 2)
		return -1;
	return (long long)(minflt + majflt);
}

/* Summed over the process's threads: context switches and migrations (-1 each when unreadable). */
static void read_task_counts(pid_t pid, long long *ctxsw, long long *migr)
{
	char path[96], line[256];
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	*ctxsw = *migr = -1;
	if (!d)
		return;
	long long cs = 0, mg = 0;
	bool have_cs = false, have_mg = false;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/%d/task/%.20s/status", (int)pid, e->d_name);
		FILE *f = fopen(path, "r");
		long long v;
		while (f && fgets(line, sizeof line, f))
			if (sscanf(line, "voluntary_ctxt_switches: %lld", &v) == 1 ||
			    sscanf(line, "nonvoluntary_ctxt_switches: %lld", &v) == 1)
				cs += v, have_cs = true;
		if (f)
			fclose(f);
		/* sched: only with the kernel's scheduler debugging (most distributions have it). */
		snprintf(path, sizeof path, "/proc/%d/task/%.20s/sched", (int)pid, e->d_name);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof line, f))
			if (sscanf(line, "se.nr_migrations : %lld", &v) == 1)
				mg += v, have_mg = true;
		if (f)
			fclose(f);
	}
	closedir(d);
	if (have_cs)
		*ctxsw = cs;
	if (have_mg)
		*migr = mg;
}

struct soft_counts {
	long long faults, ctxsw, migr;
};

static void soft_counts(pid_t pid, struct soft_counts *s)
{
	s->faults = read_stat_faults(pid);
	read_task_counts(pid, &s->ctxsw, &s->migr);
}

static int64_t diff_or_empty(long long a, long long b)
{
	return a < 0 || b < 0 || b < a ? -1 : (int64_t)(b - a);
}

/* ---- one cell ---- */

/* The value of key in a result line of key=value words; NULL if absent. */
static const char *result_value(const char *line, const char *key, char *buf, size_t len)
{
	size_t k = strlen(key);
	for (const char *p = line; *p;) {
		p += strspn(p, " \n");
		size_t w = strcspn(p, " \n");
		if (w > k && !strncmp(p, key, k) && p[k] == '=') {
			size_t n = w - k - 1 < len - 1 ? w - k - 1 : len - 1;
			memcpy(buf, p + k + 1, n);
			buf[n] = 0;
			return buf;
		}
		p += w;
	}
	return NULL;
}

static bool result_u64(const char *line, const char *key, uint64_t *out)
{
	char buf[32], *end;
	if (!result_value(line, key, buf, sizeof buf))
		return false;
	errno = 0;
	unsigned long long v = strtoull(buf, &end, 10);
	if (end == buf || *end || errno)
		return false;
	*out = v;
	return true;
}

static void fail(struct cell_result *r, const char *fmt, const char *a, const char *b)
{
	r->status = EXIT_RUN_FAILED;
	snprintf(r->message, sizeof r->message, fmt, a, b);
}

/* The cell's allocator when it is preloaded (jemalloc, ...); NULL for glibc and pool. */
static const struct smrb_alloc *preloaded_alloc(const struct cell *c)
{
	const char *alloc = cell_param(c, "alloc");
	const struct smrb_alloc *a = alloc_find(alloc ? alloc : SMRB_DEFAULT_ALLOC);
	return a && alloc_preloaded(a) ? a : NULL;
}

/* In the forked child: the cell's command line, CPU binding and allocator, then exec. */
__attribute__((noreturn)) static void exec_peer(const struct peer *p, const struct cell *c, const int *cpu,
						int ncpu)
{
	char *argv[64 + 8];
	int k = 0;
	static char threads[32], dur[48], payload[64], period[48], cpus[4096], warm[48];
	if (!strcmp(p->name, "jvm")) {
		argv[k++] = SMRB_JAVA;
		/* The user's JVM options (GC, heap), word-split; the row records what the JVM chose. */
		const char *opts = getenv("SMRBENCH_JVM_OPTS");
		char *copy = opts ? strdup(opts) : NULL, *save;
		for (char *w = copy ? strtok_r(copy, " \t", &save) : NULL; w && k < 56; w = strtok_r(NULL, " \t", &save))
			argv[k++] = w;
		argv[k++] = "-cp";
		argv[k++] = SMRB_PEER_JVM_DIR;
		argv[k++] = "LazyPeer";
		snprintf(warm, sizeof warm, "warmup_ms=%s", cell_param(c, "warmup_ms") ? cell_param(c, "warmup_ms") : "0");
		argv[k++] = warm;
		/* No thread affinity in Java: the process gets the union of the threads' CPUs. */
		cpu_set_t set;
		CPU_ZERO(&set);
		bool any = false;
		for (int i = 0; i < ncpu; i++)
			if (cpu[i] >= 0 && cpu[i] < CPU_SETSIZE) {
				CPU_SET(cpu[i], &set);
				any = true;
			}
		if (any && sched_setaffinity(0, sizeof set, &set) < 0)
			fprintf(stderr, "smrbench: peer jvm: cannot bind to the cell's CPUs: %s\n", strerror(errno));
	} else {
		argv[k++] = (char *)p->artifact;
		size_t n = (size_t)snprintf(cpus, sizeof cpus, "cpus=");
		for (int i = 0; i < ncpu && n < sizeof cpus; i++)
			n += cpu[i] < 0 ? (size_t)snprintf(cpus + n, sizeof cpus - n, "%s-", i ? "," : "")
					: (size_t)snprintf(cpus + n, sizeof cpus - n, "%s%d", i ? "," : "", cpu[i]);
		argv[k++] = cpus;
	}
	snprintf(threads, sizeof threads, "threads=%d", c->threads);
	snprintf(dur, sizeof dur, "duration=%.17g", c->duration_s);
	snprintf(payload, sizeof payload, "payload=%s", cell_param(c, "payload"));
	snprintf(period, sizeof period, "period=%s", cell_param(c, "period"));
	argv[k++] = threads;
	argv[k++] = dur;
	argv[k++] = payload;
	argv[k++] = period;
	argv[k] = NULL;
	/* A preloaded allocator goes first in LD_PRELOAD, as for a C cell (runner.c). */
	const struct smrb_alloc *a = preloaded_alloc(c);
	char lib[4096];
	if (a && alloc_library_path(a, lib, sizeof lib)) {
		const char *old = getenv("LD_PRELOAD");
		char *pre = malloc(strlen(lib) + (old ? strlen(old) : 0) + 2);
		sprintf(pre, old && *old ? "%s:%s" : "%s", lib, old);
		setenv("LD_PRELOAD", pre, 1);
	}
	execv(argv[0], argv);
	fprintf(stderr, "smrbench: peer %s: cannot run %s: %s\n", p->name, argv[0], strerror(errno));
	_exit(127);
}

/* Start the peer with its stdout and stdin on pipes: its pid, or -1 with r failed. */
static pid_t spawn_peer(const struct peer *p, const struct cell *c, enum pin_policy pin, int *out_fd, int *in_fd,
			struct cell_result *r)
{
	int ncpu = c->threads + 1; /* the readers, then the producer */
	int out[2], in[2];
	if (pipe(out) < 0 || pipe(in) < 0) {
		fail(r, "pipe: %s%s", strerror(errno), "");
		return -1;
	}
	int *cpu = calloc((size_t)ncpu, sizeof *cpu);
	pin_cpus(pin, ncpu, cpu);
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		fail(r, "fork: %s%s", strerror(errno), "");
		free(cpu);
		return -1;
	}
	if (pid == 0) {
		dup2(out[1], STDOUT_FILENO);
		dup2(in[0], STDIN_FILENO);
		close(out[0]);
		close(out[1]);
		close(in[0]);
		close(in[1]);
		exec_peer(p, c, cpu, ncpu);
	}
	free(cpu);
	close(out[1]);
	close(in[0]);
	*out_fd = out[0];
	*in_fd = in[1];
	return pid;
}

/*
 * Follow the protocol until the peer closes its stdout: the software
 * counters at window=start and window=end (then tell it to go on; *window:
 * both were seen), and its last result line (ops=...), returned (malloc'd;
 * NULL if none).
 */
static char *follow_peer(pid_t pid, int out_fd, int in_fd, struct soft_counts *s0, struct soft_counts *s1,
			 bool *window)
{
	bool started = false, ended = false;
	/* A peer that died early must not kill the harness with SIGPIPE. */
	void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
	FILE *f = fdopen(out_fd, "r");
	char *line = NULL, *result = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		if (!strncmp(line, "window=start", 12)) {
			soft_counts(pid, s0);
			started = true;
		} else if (!strncmp(line, "window=end", 10)) {
			soft_counts(pid, s1);
			ended = true;
			(void)!write(in_fd, "\n", 1);
		} else if (strstr(line, "ops=")) {
			free(result);
			result = strdup(line);
		}
	}
	fclose(f);
	close(in_fd);
	signal(SIGPIPE, old_pipe);
	free(line);
	*window = started && ended;
	return result;
}

/* What the result line says beyond ops and time: verify, counts, GC, the runtime. */
static void read_peer_result(const struct peer *p, const struct cell *c, char *result, struct cell_result *r,
			     struct peer_result *pr)
{
	char v[200];
	if (!result_value(result, "verify", v, sizeof v) || strcmp(v, "ok"))
		fail(r, "verify: %s", result_value(result, "verify", v, sizeof v) ? v : "missing", "");
	uint64_t x;
	if (result_u64(result, "retired", &x))
		pr->retired = (int64_t)x;
	if (result_u64(result, "reclaimed", &x))
		pr->reclaimed = (int64_t)x;
	if (result_u64(result, "gc_count", &x))
		pr->gc_count = (int64_t)x;
	if (result_u64(result, "gc_ms", &x))
		pr->gc_ms = (int64_t)x;
	if (result_value(result, "runtime", v, sizeof v))
		snprintf(pr->runtime, sizeof pr->runtime, "%s", v);
#ifdef SMRB_CROSSBEAM_VERSION
	else if (!strcmp(p->name, "crossbeam-epoch"))
		snprintf(pr->runtime, sizeof pr->runtime, "crossbeam-epoch-%s;malloc=%s", SMRB_CROSSBEAM_VERSION,
			 preloaded_alloc(c) ? preloaded_alloc(c)->name : "glibc");
#else
	(void)p;
	(void)c;
#endif
	/* One CSV field: a peer's comma would shift every column after it. */
	for (char *q = pr->runtime; (q = strchr(q, ',')); )
		*q = ';';
}

void peer_run_cell(const struct cell *c, enum pin_policy pin, struct cell_result *r, struct peer_result *pr)
{
	memset(r, 0, sizeof *r);
	memset(pr, 0, sizeof *pr);
	pr->retired = pr->reclaimed = pr->gc_count = pr->gc_ms = -1;
	for (int i = 0; i < CTR_N; i++)
		r->ctr[i] = -1;
	const struct peer *p = peer_by_name(c->scheme);
	int out_fd, in_fd;
	pid_t pid = spawn_peer(p, c, pin, &out_fd, &in_fd, r);
	if (pid < 0)
		return;
	struct soft_counts s0 = { -1, -1, -1 }, s1 = { -1, -1, -1 };
	bool window;
	char *result = follow_peer(pid, out_fd, in_fd, &s0, &s1, &window);
	int st;
	struct rusage ru;
	while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(st)) {
		r->status = EXIT_RUN_FAILED;
		snprintf(r->message, sizeof r->message, "peer %s crashed (signal %d: %s)", p->name, WTERMSIG(st),
			 strsignal(WTERMSIG(st)));
	} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		r->status = EXIT_RUN_FAILED;
		snprintf(r->message, sizeof r->message, "peer %s failed (exit %d; its message is above)", p->name,
			 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	} else if (!result || !window || !result_u64(result, "ops", &r->ops) ||
		   !result_u64(result, "worker_ns", &r->worker_ns) || !result_u64(result, "wall_ns", &r->wall_ns) ||
		   r->ops == 0) {
		fail(r, "peer %s broke the protocol (no window or no ops, worker_ns, wall_ns in '%s')", p->name,
		     result ? strtok(result, "\n") : "");
	} else {
		read_peer_result(p, c, result, r, pr);
	}
	free(result);
	r->rss_peak_kb = (uint64_t)ru.ru_maxrss;
	r->ctr[CTR_PAGE_FAULTS] = diff_or_empty(s0.faults, s1.faults);
	r->ctr[CTR_CTX_SWITCHES] = diff_or_empty(s0.ctxsw, s1.ctxsw);
	r->ctr[CTR_MIGRATIONS] = diff_or_empty(s0.migr, s1.migr);
}

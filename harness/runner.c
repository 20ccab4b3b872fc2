/* SPDX-License-Identifier: MIT */
/*
 * runner.c - `smrbench run`: validate the request, expand it into cells, run
 * each cell in a child process of its own and write one CSV row per cell.
 *
 * A cell runs in a fork()ed child so that no allocator state, RSS peak or
 * crashed thread carries from one cell into the next; the child sends its
 * struct cell_result back through a pipe.  Rows are flushed as they complete,
 * so an interrupted run keeps what it measured.
 *
 * The allocator (-P alloc=, harness/alloc.h) is a param like the others,
 * swept and interleaved with them, but written as the `alloc` column beside
 * the cell's identity.  glibc and pool run in the forked child as it is; a
 * preloaded allocator (jemalloc, mimalloc, tcmalloc) must be in the process
 * from its start, so that child re-executes smrbench (/proc/self/exe) with
 * the library at the head of LD_PRELOAD as `smrbench __cell ...`, which runs
 * exactly that cell from its command line (runner_cell_main) and writes the
 * same struct cell_result to the same pipe: the parent cannot tell the two
 * apart.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness/alloc.h"
#include "harness/cell.h"
#include "harness/harness.h"
#include "harness/peers.h"
#include "harness/plan.h"

/* ---- the results folder ---- */

static int make_dirs(const char *path)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			if (mkdir(buf, 0777) < 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(buf, 0777) < 0 && errno != EEXIST ? -1 : 0;
}

/* Create the results folder; never reuse one that holds results. */
static int open_out_dir(const char *given, char *dir, size_t dirlen, char *err, size_t errlen)
{
	if (given) {
		snprintf(dir, dirlen, "%s", given);
		char csv[PATH_MAX];
		snprintf(csv, sizeof csv, "%s/runs.csv", dir);
		if (access(csv, F_OK) == 0) {
			snprintf(err, errlen, "%s already holds results (runs.csv); results are never overwritten", dir);
			return -1;
		}
		if (make_dirs(dir) < 0) {
			snprintf(err, errlen, "cannot create results folder %s: %s", dir, strerror(errno));
			return -1;
		}
	} else {
		char host[64] = "host", stamp[32];
		time_t now = time(NULL);
		gethostname(host, sizeof host - 1);
		host[strcspn(host, ".")] = 0;
		strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", gmtime(&now));
		if (make_dirs("results") < 0) {
			snprintf(err, errlen, "cannot create results folder results/: %s", strerror(errno));
			return -1;
		}
		for (int n = 1;; n++) {
			if (n == 1)
				snprintf(dir, dirlen, "results/%s-%s", stamp, host);
			else
				snprintf(dir, dirlen, "results/%s-%s-%d", stamp, host, n);
			if (mkdir(dir, 0777) == 0)
				break;
			if (errno != EEXIST || n > 100) {
				snprintf(err, errlen, "cannot create results folder %s: %s", dir, strerror(errno));
				return -1;
			}
		}
	}
	char probe[PATH_MAX];
	snprintf(probe, sizeof probe, "%s/.write-test", dir);
	FILE *f = fopen(probe, "w");
	if (!f) {
		snprintf(err, errlen, "results folder %s is not writable: %s", dir, strerror(errno));
		return -1;
	}
	fclose(f);
	unlink(probe);
	return 0;
}

/* ---- running one cell in a child process ---- */

/* Send r to the runner through fd, then end the cell's process. */
__attribute__((noreturn)) static void send_result(const struct cell_result *r, int fd)
{
	const char *p = (const char *)r;
	size_t left = sizeof *r;
	while (left) {
		ssize_t w = write(fd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(EXIT_RUN_FAILED);
		p += w;
		left -= (size_t)w;
	}
	close(fd);
	/* exit, not _exit: sanitizers report leaks at exit. */
	exit(0);
}

/* In the cell's process (forked, or re-executed as __cell): the allocator
 * first (switched on, or checked to be the one preloaded), then the cell. */
__attribute__((noreturn)) static void run_cell_child(struct cell_job *job, int fd)
{
	struct cell_result r;
	char err[sizeof r.message];
	if (alloc_cell_setup(cell_alloc(&job->cell), err, sizeof err) < 0) {
		memset(&r, 0, sizeof r);
		cell_fail(&r, "%s", err);
	} else {
		cell_execute(job, &r);
	}
	send_result(&r, fd);
}

/* A failed result from the child before the cell could start. */
__attribute__((noreturn)) static void send_failure(int fd, const char *fmt,
									  const char *a, const char *b)
{
	struct cell_result r;
	memset(&r, 0, sizeof r);
	cell_fail(&r, fmt, a, b);
	send_result(&r, fd);
}

/*
 * In the forked child, for a preloaded allocator: re-execute smrbench with
 * the library at the head of LD_PRELOAD (before whatever the user preloads:
 * the first definition of malloc wins) as `smrbench __cell`, with
 * everything the cell needs on its command line:
 *   __cell FD WORKLOAD SCHEME THREADS DURATION REP PIN COUNTERS SAMPLE_MS
 *          SAMPLE_PATH SAMPLE_PREFIX [NAME=VALUE ..]
 * COUNTERS is counters_mask_get()'s string; the params are the cell's, in
 * its order, the allocator among them.  The pipe's fd survives the exec.
 */
static void exec_cell(const struct smrb_alloc *a, const struct cell_job *job, int fd)
{
	const struct cell *c = &job->cell;
	char lib[PATH_MAX];
	if (!alloc_library_path(a, lib, sizeof lib))
		send_failure(fd, "alloc=%s: %s is not installed", a->name, lib);
	const char *old = getenv("LD_PRELOAD");
	size_t n = strlen(lib) + (old ? strlen(old) : 0) + 2;
	char *preload = malloc(n);
	snprintf(preload, n, old && *old ? "%s:%s" : "%s", lib, old);
	setenv("LD_PRELOAD", preload, 1);

	char fdbuf[16], threads[16], dur[48], rep[16], ms[16], mask[CTR_N + 1];
	snprintf(fdbuf, sizeof fdbuf, "%d", fd);
	snprintf(threads, sizeof threads, "%d", c->threads);
	snprintf(dur, sizeof dur, "%.17g", c->duration_s);
	snprintf(rep, sizeof rep, "%d", c->rep);
	snprintf(ms, sizeof ms, "%u", job->sampling.ms);
	counters_mask_get(mask);
	char *argv[13 + CELL_MAX_PARAMS + 1];
	int k = 0;
	argv[k++] = "smrbench";
	argv[k++] = "__cell";
	argv[k++] = fdbuf;
	argv[k++] = (char *)c->workload;
	argv[k++] = (char *)c->scheme;
	argv[k++] = threads;
	argv[k++] = dur;
	argv[k++] = rep;
	argv[k++] = (char *)pin_name(job->pin);
	argv[k++] = mask;
	argv[k++] = ms;
	argv[k++] = (char *)(job->sampling.path ? job->sampling.path : "");
	argv[k++] = (char *)(job->sampling.prefix ? job->sampling.prefix : "");
	for (int i = 0; i < c->nparams; i++) {
		size_t len = strlen(c->param_name[i]) + strlen(c->param_value[i]) + 2;
		argv[k] = malloc(len);
		snprintf(argv[k++], len, "%s=%s", c->param_name[i], c->param_value[i]);
	}
	argv[k] = NULL;
	fflush(NULL);
	execv("/proc/self/exe", argv);
	send_failure(fd, "alloc=%s: cannot re-execute /proc/self/exe: %s", a->name, strerror(errno));
}

static void run_cell(struct cell_job *job, struct cell_result *r)
{
	int fds[2];
	memset(r, 0, sizeof *r);
	const struct smrb_alloc *alloc = alloc_find(cell_alloc(&job->cell));
	if (pipe(fds) < 0) {
		cell_fail(r, "pipe: %s", strerror(errno));
		return;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		cell_fail(r, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (pid == 0) {
		close(fds[0]);
		if (alloc && alloc_preloaded(alloc))
			exec_cell(alloc, job, fds[1]);
		run_cell_child(job, fds[1]);
	}
	close(fds[1]);
	char *p = (char *)r;
	size_t got = 0;
	while (got < sizeof *r) {
		ssize_t n = read(fds[0], p + got, sizeof *r - got);
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
	if (got != sizeof *r || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		r->status = EXIT_RUN_FAILED;
		if (WIFSIGNALED(st))
			snprintf(r->message, sizeof r->message, "the cell crashed (signal %d: %s)",
				 WTERMSIG(st), strsignal(WTERMSIG(st)));
		else
			snprintf(r->message, sizeof r->message,
				 "the cell's process failed (exit %d; a sanitizer report above says why)",
				 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	}
}

/* ---- CSV ---- */

/*
 * The cell's identity (workload, scheme, threads, rep), then what it ran
 * with (alloc, and object_bytes: the size of the workload's node in this
 * scheme's instance), the measurements, and the params (the allocator is
 * one, but has its own column above and is not repeated).
 */
const char *const csv_columns_before_counters[] = {
	"workload", "scheme", "threads", "rep", "alloc", "object_bytes", "duration_s", "ops", "ns_per_op",
	"ops_per_s", NULL,
};
const char *const csv_columns_after_counters[] = {
	"retired", "reclaimed", "unreclaimed_peak", "ping_rounds", "ping_signals", "ping_unanswered", "rss_peak_kb", "pin",
	"verify", "ended", NULL,
};
/* Before `ended`, in a run with a peer (peers.c): what ran, its GC over the window. */
const char *const csv_columns_peers[] = { "runtime", "gc_count", "gc_ms", NULL };

static void csv_header(FILE *f, const struct plan *pl)
{
	const char *sep = "";
	for (int i = 0; csv_columns_before_counters[i]; i++, sep = ",")
		fprintf(f, "%s%s", sep, csv_columns_before_counters[i]);
	for (int i = 0; i < CTR_N; i++)
		fprintf(f, ",%s", ctr_column[i]);
	for (int i = 0; csv_columns_after_counters[i]; i++) {
		/* A peer's columns go before `ended`: the params are what follows it. */
		for (int k = 0; pl->has_peer && !strcmp(csv_columns_after_counters[i], "ended") && csv_columns_peers[k]; k++)
			fprintf(f, ",%s", csv_columns_peers[k]);
		fprintf(f, ",%s", csv_columns_after_counters[i]);
	}
	for (int i = 0; i < pl->nparams; i++)
		if (!pl->param[i].alloc_param)
			fprintf(f, ",%s", pl->param[i].name);
	fputc('\n', f);
}

/* A count, or an empty column when it is unknown (a peer's). */
static void csv_count(FILE *f, int64_t v)
{
	if (v < 0)
		fputc(',', f);
	else
		fprintf(f, ",%lld", (long long)v);
}

/* pr: a peer's cell (peers.c), NULL for a C scheme's. */
static void csv_row(FILE *f, const struct plan *pl, const struct cell_job *job, const struct cell_result *r,
		    const struct peer_result *pr)
{
	const struct cell *c = &job->cell;
	double ns_per_op = (double)r->worker_ns / (double)r->ops;
	double wall_s = (double)r->wall_ns / 1e9;
	fprintf(f, "%s,%s,%d,%d,%s", c->workload, c->scheme, c->threads, c->rep, cell_alloc(c));
	csv_count(f, pr ? -1 : (int64_t)job->wl->object_bytes);
	fprintf(f, ",%.4f,%llu,%.4f,%.1f", wall_s, (unsigned long long)r->ops, ns_per_op, (double)r->ops / wall_s);
	for (int i = 0; i < CTR_N; i++) {
		if (r->ctr[i] < 0)
			fputc(',', f); /* unavailable: empty, never a zero */
		else if (ctr_per_op[i])
			fprintf(f, ",%.4f", (double)r->ctr[i] / (double)r->ops);
		else
			fprintf(f, ",%lld", (long long)r->ctr[i]);
	}
	csv_count(f, pr ? pr->retired : (int64_t)r->smr.retired);
	csv_count(f, pr ? pr->reclaimed : (int64_t)r->smr.reclaimed);
	csv_count(f, pr ? -1 : (int64_t)r->smr.unreclaimed_peak);
	csv_count(f, pr ? -1 : (int64_t)r->smr.ping_rounds);
	csv_count(f, pr ? -1 : (int64_t)r->smr.ping_signals);
	csv_count(f, pr ? -1 : (int64_t)r->smr.ping_unanswered);
	fprintf(f, ",%llu,%s,ok", (unsigned long long)r->rss_peak_kb, pin_name(job->pin));
	if (pl->has_peer) {
		fprintf(f, ",%s", pr ? pr->runtime : "");
		csv_count(f, pr ? pr->gc_count : -1);
		csv_count(f, pr ? pr->gc_ms : -1);
	}
	fprintf(f, ",%s", r->finished_early ? "done" : "duration");
	for (int i = 0; i < pl->nparams; i++)
		if (!pl->param[i].alloc_param)
			fprintf(f, ",%s", cell_param(c, pl->param[i].name) ? cell_param(c, pl->param[i].name) : "");
	fputc('\n', f);
	fflush(f);
}

static void describe_cell(char *buf, size_t len, const struct cell *c, const struct plan *pl)
{
	size_t n = (size_t)snprintf(buf, len, "%s %s t=%d", c->workload, c->scheme, c->threads);
	for (int i = 0; i < c->nparams && n < len; i++) {
		int k;
		for (k = 0; k < pl->nparams && strcmp(pl->param[k].name, c->param_name[i]); k++)
			;
		if (k < pl->nparams && pl->param[k].nvalues > 1)
			n += (size_t)snprintf(buf + n, len - n, " %s=%s", c->param_name[i], c->param_value[i]);
	}
}

static void format_duration(char *buf, size_t len, double s)
{
	long t = lround(s);
	if (t >= 3600)
		snprintf(buf, len, "%ldh%02ldm", t / 3600, t / 60 % 60);
	else if (t >= 60)
		snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
	else
		snprintf(buf, len, "%lds", t);
}

/* ---- the run ---- */

/* What a run writes, in its results folder. */
struct run_files {
	char dir[PATH_MAX];
	FILE *csv;                          /* runs.csv */
	FILE *fail_log;                     /* failures.log, opened at the first failure */
	char samples_path[PATH_MAX + 32];   /* samples.csv, "" without --sample-ms */
};

/* Open dir/name for writing into *f: 0, or -1 having said why. */
static int create_file(const char *dir, const char *name, FILE **f, char *path, size_t pathlen)
{
	snprintf(path, pathlen, "%s/%s", dir, name);
	*f = fopen(path, "w");
	if (!*f) {
		fprintf(stderr, "smrbench: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* machine.json, runs.csv's header, samples.csv's header: 0, or -1 having said why. */
static int open_run_files(struct run_files *rf, const struct plan *pl)
{
	char path[PATH_MAX + 32];
	FILE *mf, *sf;
	if (create_file(rf->dir, "machine.json", &mf, path, sizeof path) < 0)
		return -1;
	sysinfo_write(mf);
	fclose(mf);
	if (create_file(rf->dir, "runs.csv", &rf->csv, path, sizeof path) < 0)
		return -1;
	csv_header(rf->csv, pl);
	fflush(rf->csv);
	if (!pl->o->sample_ms)
		return 0;
	/* The cells' processes append to it (cell.c), one flushed row per sample. */
	if (create_file(rf->dir, "samples.csv", &sf, rf->samples_path, sizeof rf->samples_path) < 0)
		return -1;
	fprintf(sf, "workload,scheme,threads,rep,alloc");
	for (int i = 0; i < pl->nparams; i++)
		if (!pl->param[i].alloc_param)
			fprintf(sf, ",%s", pl->param[i].name);
	fprintf(sf, ",t_ms,unreclaimed,retired,reclaimed,rss_kb\n");
	fclose(sf);
	return 0;
}

/* A cell's identity columns in samples.csv, as its header names them. */
static void sample_prefix(char *buf, size_t len, const struct plan *pl, const struct cell *c)
{
	size_t k = (size_t)snprintf(buf, len, "%s,%s,%d,%d,%s", c->workload, c->scheme, c->threads, c->rep,
				    cell_alloc(c));
	for (int i = 0; i < pl->nparams && k < len; i++) {
		if (pl->param[i].alloc_param)
			continue;
		const char *v = cell_param(c, pl->param[i].name);
		k += (size_t)snprintf(buf + k, len - k, ",%s", v ? v : "");
	}
}

struct progress {
	int done, total;
	uint64_t t0;
};

/* Run one cell (a peer's or ours), then write its row or its failure: false if it failed. */
static bool run_and_record(struct run_files *rf, const struct plan *pl, struct cell_job *job, struct progress *pg)
{
	const struct cell *c = &job->cell;
	struct cell_result r;
	struct peer_result pr;
	bool peer = peer_is(c->scheme);
	if (peer)
		peer_run_cell(c, job->pin, &r, &pr);
	else
		run_cell(job, &r);
	pg->done++;
	char what[256], eta[32];
	describe_cell(what, sizeof what, c, pl);
	double per_cell = (double)(clock_now_ns() - pg->t0) / 1e9 / pg->done;
	format_duration(eta, sizeof eta, per_cell * (pg->total - pg->done));
	if (r.status == 0) {
		csv_row(rf->csv, pl, job, &r, peer ? &pr : NULL);
		char peak[32] = "-"; /* a peer does not count it */
		if (!peer)
			snprintf(peak, sizeof peak, "%llu", (unsigned long long)r.smr.unreclaimed_peak);
		fprintf(stderr, "[%d/%d] %s rep %d: %.3f ns/op, unreclaimed peak %s (%s left)\n", pg->done,
			pg->total, what, c->rep, (double)r.worker_ns / (double)r.ops, peak, eta);
		return true;
	}
	fprintf(stderr, "[%d/%d] %s rep %d: FAILED: %s (%s left)\n", pg->done, pg->total, what, c->rep,
		r.message, eta);
	if (!rf->fail_log) {
		char path[PATH_MAX + 32];
		snprintf(path, sizeof path, "%s/failures.log", rf->dir);
		rf->fail_log = fopen(path, "a");
	}
	if (rf->fail_log) {
		fprintf(rf->fail_log, "%s rep %d: %s\n", what, c->rep, r.message);
		fflush(rf->fail_log);
	}
	return false;
}

/* Every cell, repetitions outermost and schemes innermost (interleaved): how many failed. */
static int run_cells(struct run_files *rf, const struct plan *pl)
{
	const struct run_options *o = pl->o;
	int first_rep = o->first_rep > 0 ? o->first_rep : 1;
	struct progress pg = { 0, o->reps * pl->combos * o->nthreads * o->nschemes, clock_now_ns() };
	int failed = 0;
	fprintf(stderr, "smrbench: %d cells of %g s into %s\n", pg.total, o->duration_s, rf->dir);
	for (int rep = first_rep; rep < first_rep + o->reps; rep++)
		for (int combo = 0; combo < pl->combos; combo++)
			for (int ti = 0; ti < o->nthreads; ti++)
				for (int si = 0; si < o->nschemes; si++) {
					struct cell_job job;
					char prefix[1024] = "";
					plan_job(pl, si, combo, o->threads[ti], rep, &job);
					if (o->sample_ms)
						sample_prefix(prefix, sizeof prefix, pl, &job.cell);
					job.sampling = (struct cell_sampling){ o->sample_ms, rf->samples_path, prefix };
					failed += !run_and_record(rf, pl, &job, &pg);
				}
	return failed;
}

int runner_run(const struct run_options *o, const char *counters_note)
{
	char err[512];
	struct plan pl;
	struct run_files rf = { .csv = NULL };
	if (plan_build(&pl, o, err, sizeof err) < 0 ||
	    open_out_dir(o->out_dir, rf.dir, sizeof rf.dir, err, sizeof err) < 0) {
		fprintf(stderr, "smrbench: %s\n", err);
		plan_free(&pl);
		return EXIT_USAGE;
	}
	if (counters_note && counters_note[0])
		fprintf(stderr, "smrbench: %s\n", counters_note);
	if (open_run_files(&rf, &pl) < 0) {
		if (rf.csv)
			fclose(rf.csv);
		plan_free(&pl);
		return EXIT_USAGE;
	}
	int failed = run_cells(&rf, &pl);
	int total = o->reps * pl.combos * o->nthreads * o->nschemes;
	fclose(rf.csv);
	if (rf.fail_log)
		fclose(rf.fail_log);
	plan_free(&pl);
	if (failed) {
		fprintf(stderr, "smrbench: %d of %d cells failed (no row written for them); see %s/failures.log\n",
			failed, total, rf.dir);
		return EXIT_RUN_FAILED;
	}
	fprintf(stderr, "smrbench: results in %s\n", rf.dir);
	printf("%s\n", rf.dir);
	return EXIT_OK;
}

/*
 * `smrbench __cell FD WORKLOAD SCHEME THREADS DURATION REP PIN COUNTERS
 * SAMPLE_MS SAMPLE_PATH SAMPLE_PREFIX [NAME=VALUE ..]` (hidden): one cell in
 * this process, re-executed by run_cell with a preloaded allocator (see
 * exec_cell); its struct cell_result goes to FD.  The request was checked
 * by the runner that built it: a malformed one is a usage error all the
 * same (exit 2, one line), never a row.
 */
int runner_cell_main(int argc, char **argv)
{
	if (argc < 12) {
		fprintf(stderr, "smrbench: __cell is internal (smrbench run starts it): %d arguments, want 11 or more\n",
			argc - 1);
		return EXIT_USAGE;
	}
	char *end;
	long fd = strtol(argv[1], &end, 10);
	if (end == argv[1] || *end || fd < 0 || fd > INT_MAX || fcntl((int)fd, F_GETFD) < 0) {
		fprintf(stderr, "smrbench: __cell: bad result fd '%s'\n", argv[1]);
		return EXIT_USAGE;
	}
	struct cell_job job = { .scheme = smrb_find_scheme(argv[3]) };
	job.wl = job.scheme ? smrb_find_workload(job.scheme, argv[2]) : NULL;
	if (!job.wl) {
		fprintf(stderr, "smrbench: __cell: unknown scheme or workload '%s %s'\n", argv[3], argv[2]);
		return EXIT_USAGE;
	}
	struct cell *c = &job.cell;
	c->workload = job.wl->name;
	c->scheme = job.scheme->name;
	long threads = strtol(argv[4], &end, 10);
	if (end == argv[4] || *end || threads < 1 || threads > 4096) {
		fprintf(stderr, "smrbench: __cell: bad thread count '%s'\n", argv[4]);
		return EXIT_USAGE;
	}
	c->threads = (int)threads;
	c->duration_s = strtod(argv[5], &end);
	if (end == argv[5] || *end || !(c->duration_s > 0)) {
		fprintf(stderr, "smrbench: __cell: bad duration '%s'\n", argv[5]);
		return EXIT_USAGE;
	}
	c->rep = (int)strtol(argv[6], &end, 10);
	if (end == argv[6] || *end) {
		fprintf(stderr, "smrbench: __cell: bad repetition '%s'\n", argv[6]);
		return EXIT_USAGE;
	}
	if (pin_parse(argv[7], &job.pin) < 0) {
		fprintf(stderr, "smrbench: __cell: bad pin policy '%s'\n", argv[7]);
		return EXIT_USAGE;
	}
	if (counters_mask_set(argv[8]) < 0) {
		fprintf(stderr, "smrbench: __cell: bad counters mask '%s'\n", argv[8]);
		return EXIT_USAGE;
	}
	long ms = strtol(argv[9], &end, 10);
	if (end == argv[9] || *end || ms < 0) {
		fprintf(stderr, "smrbench: __cell: bad sampling period '%s'\n", argv[9]);
		return EXIT_USAGE;
	}
	job.sampling = (struct cell_sampling){ (unsigned)ms, argv[10], argv[11] };
	for (int i = 12; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		if (!eq || eq == argv[i] || c->nparams == CELL_MAX_PARAMS) {
			fprintf(stderr, "smrbench: __cell: bad param '%s'\n", argv[i]);
			return EXIT_USAGE;
		}
		*eq = 0;
		c->param_name[c->nparams] = argv[i];
		c->param_value[c->nparams++] = eq + 1;
		/* The scheme's params as plan_cell sets them: every one of this
		 * scheme's is in the list, with its value or its default. */
		int k = find_scheme_param(job.scheme, argv[i]);
		if (k >= 0)
			c->smr.param[k] = strtol(eq + 1, NULL, 10);
	}
	job.stall = cell_param_long(c, "stall") != 0;
	run_cell_child(&job, (int)fd);
}

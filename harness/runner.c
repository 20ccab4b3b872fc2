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

/* What a cell's process needs besides the cell: its sampling (--sample-ms). */
struct cell_io {
	unsigned sample_ms;
	const char *sample_path;
	const char *sample_prefix;
};

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
__attribute__((noreturn)) static void run_cell_child(const struct workload_desc *wl, struct cell *c,
							enum pin_policy pin, int fd)
{
	struct cell_result r;
	char err[sizeof r.message];
	if (alloc_cell_setup(cell_alloc(c), err, sizeof err) < 0) {
		memset(&r, 0, sizeof r);
		r.status = EXIT_RUN_FAILED;
		snprintf(r.message, sizeof r.message, "%s", err);
	} else {
		cell_execute(wl, c, pin, &r);
	}
	send_result(&r, fd);
}

/* A failed result from the child before the cell could start. */
__attribute__((noreturn)) static void send_failure(int fd, const char *fmt,
									  const char *a, const char *b)
{
	struct cell_result r;
	memset(&r, 0, sizeof r);
	r.status = EXIT_RUN_FAILED;
	snprintf(r.message, sizeof r.message, fmt, a, b);
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
static void exec_cell(const struct smrb_alloc *a, const struct cell *c, enum pin_policy pin,
		      const struct cell_io *io, int fd)
{
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
	snprintf(ms, sizeof ms, "%u", io->sample_ms);
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
	argv[k++] = (char *)pin_name(pin);
	argv[k++] = mask;
	argv[k++] = ms;
	argv[k++] = (char *)(io->sample_path ? io->sample_path : "");
	argv[k++] = (char *)(io->sample_prefix ? io->sample_prefix : "");
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

static void run_cell(const struct workload_desc *wl, struct cell *c, enum pin_policy pin,
		     const struct cell_io *io, struct cell_result *r)
{
	int fds[2];
	memset(r, 0, sizeof *r);
	const struct smrb_alloc *alloc = alloc_find(cell_alloc(c));
	if (pipe(fds) < 0) {
		r->status = EXIT_RUN_FAILED;
		snprintf(r->message, sizeof r->message, "pipe: %s", strerror(errno));
		return;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		r->status = EXIT_RUN_FAILED;
		snprintf(r->message, sizeof r->message, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (pid == 0) {
		close(fds[0]);
		if (alloc && alloc_preloaded(alloc))
			exec_cell(alloc, c, pin, io, fds[1]);
		cell_set_sampling(io->sample_ms, io->sample_path, io->sample_prefix);
		run_cell_child(wl, c, pin, fds[1]);
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
static void csv_row(FILE *f, const struct plan *pl, const struct workload_desc *wl, const struct cell *c,
		    enum pin_policy pin, const struct cell_result *r, const struct peer_result *pr)
{
	double ns_per_op = (double)r->worker_ns / (double)r->ops;
	double wall_s = (double)r->wall_ns / 1e9;
	fprintf(f, "%s,%s,%d,%d,%s", c->workload, c->scheme, c->threads, c->rep, cell_alloc(c));
	csv_count(f, pr ? -1 : (int64_t)wl->object_bytes);
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
	fprintf(f, ",%llu,%s,ok", (unsigned long long)r->rss_peak_kb, pin_name(pin));
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

int runner_run(const struct run_options *o, const char *counters_note)
{
	char err[512];
	struct plan pl;
	if (plan_build(&pl, o, err, sizeof err) < 0) {
		fprintf(stderr, "smrbench: %s\n", err);
		plan_free(&pl);
		return EXIT_USAGE;
	}
	char dir[PATH_MAX];
	if (open_out_dir(o->out_dir, dir, sizeof dir, err, sizeof err) < 0) {
		fprintf(stderr, "smrbench: %s\n", err);
		plan_free(&pl);
		return EXIT_USAGE;
	}
	if (counters_note && counters_note[0])
		fprintf(stderr, "smrbench: %s\n", counters_note);

	char path[PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/machine.json", dir);
	FILE *mf = fopen(path, "w");
	if (!mf) {
		fprintf(stderr, "smrbench: cannot write %s: %s\n", path, strerror(errno));
		plan_free(&pl);
		return EXIT_USAGE;
	}
	sysinfo_write(mf);
	fclose(mf);
	snprintf(path, sizeof path, "%s/runs.csv", dir);
	FILE *csv = fopen(path, "w");
	if (!csv) {
		fprintf(stderr, "smrbench: cannot write %s: %s\n", path, strerror(errno));
		plan_free(&pl);
		return EXIT_USAGE;
	}
	csv_header(csv, &pl);
	fflush(csv);
	char samples_path[PATH_MAX + 32] = "";
	if (o->sample_ms) {
		/* The cells' processes append to it (threads.c), one flushed row per sample. */
		snprintf(samples_path, sizeof samples_path, "%s/samples.csv", dir);
		FILE *sf = fopen(samples_path, "w");
		if (!sf) {
			fprintf(stderr, "smrbench: cannot write %s: %s\n", samples_path, strerror(errno));
			fclose(csv);
			plan_free(&pl);
			return EXIT_USAGE;
		}
		fprintf(sf, "workload,scheme,threads,rep,alloc");
		for (int i = 0; i < pl.nparams; i++)
			if (!pl.param[i].alloc_param)
				fprintf(sf, ",%s", pl.param[i].name);
		fprintf(sf, ",t_ms,unreclaimed,retired,reclaimed,rss_kb\n");
		fclose(sf);
	}
	int first_rep = o->first_rep > 0 ? o->first_rep : 1;

	int total = o->reps * pl.combos * o->nthreads * o->nschemes;
	fprintf(stderr, "smrbench: %d cells of %g s into %s\n", total, o->duration_s, dir);
	uint64_t t0 = clock_now_ns();
	int done = 0, failed = 0;
	FILE *fail_log = NULL;
	for (int rep = first_rep; rep < first_rep + o->reps; rep++)
		for (int combo = 0; combo < pl.combos; combo++)
			for (int ti = 0; ti < o->nthreads; ti++)
				for (int si = 0; si < o->nschemes; si++) {
					struct cell c = {
						.workload = o->workload,
						.scheme = pl.scheme[si]->name,
						.threads = o->threads[ti],
						.duration_s = o->duration_s,
						.rep = rep,
					};
					plan_cell(&pl, si, combo, &c);
					char prefix[1024] = "";
					if (o->sample_ms) {
						size_t k = (size_t)snprintf(prefix, sizeof prefix, "%s,%s,%d,%d,%s",
									    c.workload, c.scheme, c.threads, rep,
									    cell_alloc(&c));
						for (int i = 0; i < pl.nparams && k < sizeof prefix; i++) {
							if (pl.param[i].alloc_param)
								continue;
							const char *v = cell_param(&c, pl.param[i].name);
							k += (size_t)snprintf(prefix + k, sizeof prefix - k, ",%s",
									      v ? v : "");
						}
					}
					struct cell_result r;
					struct peer_result pr;
					struct cell_io io = { o->sample_ms, samples_path, prefix };
					bool peer = peer_is(c.scheme);
					if (peer)
						peer_run_cell(&c, o->pin, &r, &pr);
					else
						run_cell(pl.wl[si], &c, o->pin, &io, &r);
					done++;
					char what[256], eta[32];
					describe_cell(what, sizeof what, &c, &pl);
					double per_cell = (double)(clock_now_ns() - t0) / 1e9 / done;
					format_duration(eta, sizeof eta, per_cell * (total - done));
					if (r.status == 0) {
						csv_row(csv, &pl, pl.wl[si], &c, o->pin, &r, peer ? &pr : NULL);
						char peak[32] = "-"; /* a peer does not count it */
						if (!peer)
							snprintf(peak, sizeof peak, "%llu", (unsigned long long)r.smr.unreclaimed_peak);
						fprintf(stderr, "[%d/%d] %s rep %d: %.3f ns/op, unreclaimed peak %s (%s left)\n",
							done, total, what, rep, (double)r.worker_ns / (double)r.ops, peak, eta);
					} else {
						failed++;
						fprintf(stderr, "[%d/%d] %s rep %d: FAILED: %s (%s left)\n", done, total,
							what, rep, r.message, eta);
						if (!fail_log) {
							snprintf(path, sizeof path, "%s/failures.log", dir);
							fail_log = fopen(path, "a");
						}
						if (fail_log) {
							fprintf(fail_log, "%s rep %d: %s\n", what, rep, r.message);
							fflush(fail_log);
						}
					}
				}
	fclose(csv);
	if (fail_log)
		fclose(fail_log);
	plan_free(&pl);
	if (failed) {
		fprintf(stderr, "smrbench: %d of %d cells failed (no row written for them); see %s/failures.log\n",
			failed, total, dir);
		return EXIT_RUN_FAILED;
	}
	fprintf(stderr, "smrbench: results in %s\n", dir);
	printf("%s\n", dir);
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
	const struct scheme_desc *scheme = smrb_find_scheme(argv[3]);
	const struct workload_desc *wl = scheme ? smrb_find_workload(scheme, argv[2]) : NULL;
	if (!wl) {
		fprintf(stderr, "smrbench: __cell: unknown scheme or workload '%s %s'\n", argv[3], argv[2]);
		return EXIT_USAGE;
	}
	struct cell c = { .workload = wl->name, .scheme = scheme->name };
	long threads = strtol(argv[4], &end, 10);
	if (end == argv[4] || *end || threads < 1 || threads > 4096) {
		fprintf(stderr, "smrbench: __cell: bad thread count '%s'\n", argv[4]);
		return EXIT_USAGE;
	}
	c.threads = (int)threads;
	c.duration_s = strtod(argv[5], &end);
	if (end == argv[5] || *end || !(c.duration_s > 0)) {
		fprintf(stderr, "smrbench: __cell: bad duration '%s'\n", argv[5]);
		return EXIT_USAGE;
	}
	c.rep = (int)strtol(argv[6], &end, 10);
	if (end == argv[6] || *end) {
		fprintf(stderr, "smrbench: __cell: bad repetition '%s'\n", argv[6]);
		return EXIT_USAGE;
	}
	enum pin_policy pin;
	if (pin_parse(argv[7], &pin) < 0) {
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
	for (int i = 12; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		if (!eq || eq == argv[i] || c.nparams == CELL_MAX_PARAMS) {
			fprintf(stderr, "smrbench: __cell: bad param '%s'\n", argv[i]);
			return EXIT_USAGE;
		}
		*eq = 0;
		c.param_name[c.nparams] = argv[i];
		c.param_value[c.nparams++] = eq + 1;
		/* The scheme's params as plan_cell sets them: every one of this
		 * scheme's is in the list, with its value or its default. */
		int k = find_scheme_param(scheme, argv[i]);
		if (k >= 0)
			c.smr.param[k] = strtol(eq + 1, NULL, 10);
	}
	cell_set_sampling((unsigned)ms, argv[10], argv[11]);
	run_cell_child(wl, &c, pin, (int)fd);
}

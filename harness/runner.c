/*
 * runner.c - `smrbench run`: validate the request, expand it into cells, run
 * each cell in a child process of its own and write one CSV row per cell.
 *
 * A cell runs in a fork()ed child so that no allocator state, RSS peak or
 * crashed thread carries from one cell into the next; the child sends its
 * struct cell_result back through a pipe.  Rows are flushed as they complete,
 * so an interrupted run keeps what it measured.
 */
#include <errno.h>
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

#include "harness/harness.h"

/* ---- params of a cell ---- */

static const struct wl_param_spec *find_wl_param(const struct workload_desc *wl, const char *name)
{
	for (const struct wl_param_spec *p = wl->params; p->name; p++)
		if (!strcmp(p->name, name))
			return p;
	return NULL;
}

static int find_scheme_param(const struct scheme_desc *s, const char *name)
{
	for (int i = 0; s->params[i].name; i++)
		if (!strcmp(s->params[i].name, name))
			return i;
	return -1;
}

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

void smr_config_defaults(struct smr_config *cfg, const struct smr_param_spec *params)
{
	for (int i = 0; params[i].name && i < SMR_MAX_PARAMS; i++)
		cfg->param[i] = strtol(params[i].def, NULL, 10);
}

static int parse_long(const char *s, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (end == s || *end || errno)
		return -1;
	*out = v;
	return 0;
}

/* Check one value of a workload param. */
static int check_wl_value(const struct wl_param_spec *p, const char *v, char *err, size_t errlen)
{
	switch (p->type) {
	case WL_INT: {
		long x;
		if (parse_long(v, &x) < 0 || x < p->min || x > p->max) {
			snprintf(err, errlen, "bad value '%s' for param %s (want an integer in %.0f..%.0f)",
				 v, p->name, p->min, p->max);
			return -1;
		}
		return 0;
	}
	case WL_REAL: {
		char *end;
		double x = strtod(v, &end);
		if (end == v || *end || !(x >= p->min && x <= p->max)) {
			snprintf(err, errlen, "bad value '%s' for param %s (want a number in %g..%g)", v,
				 p->name, p->min, p->max);
			return -1;
		}
		return 0;
	}
	case WL_ENUM: {
		size_t n = strlen(v);
		for (const char *c = p->choices; c && *c;) {
			size_t w = strcspn(c, "|");
			if (w == n && !strncmp(c, v, n))
				return 0;
			c += w + (c[w] == '|');
		}
		snprintf(err, errlen, "bad value '%s' for param %s (want one of %s)", v, p->name, p->choices);
		return -1;
	}
	case WL_CUSTOM:
		return 0; /* the workload's check() decides */
	}
	return -1;
}

/* ---- the plan: every param's list of values ---- */

struct plan_param {
	const char *name;
	char *values[64];
	int nvalues;
	bool scheme_param;
	bool harness_param;  /* stall: handled by the harness (threads.c), 0 or 1 */
};

struct plan {
	const struct run_options *o;
	const struct workload_desc *wl[64];   /* per scheme */
	const struct scheme_desc *scheme[64];
	struct plan_param param[CELL_MAX_PARAMS];
	int nparams;
	int combos;
};

static const char *given_value(const struct run_options *o, const char *name)
{
	const char *v = NULL;
	for (int i = 0; i < o->nparams; i++)
		if (!strcmp(o->param_name[i], name))
			v = o->param_values[i]; /* the last one given wins */
	return v;
}

static int plan_add(struct plan *pl, const char *name, const char *def, bool scheme_param,
		    char *err, size_t errlen)
{
	for (int i = 0; i < pl->nparams; i++)
		if (!strcmp(pl->param[i].name, name))
			return 0;
	if (pl->nparams == CELL_MAX_PARAMS) {
		snprintf(err, errlen, "too many params");
		return -1;
	}
	struct plan_param *p = &pl->param[pl->nparams++];
	p->name = name;
	p->scheme_param = scheme_param;
	const char *given = given_value(pl->o, name);
	char *list = strdup(given ? given : def);
	for (char *save, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (p->nvalues == 64) {
			snprintf(err, errlen, "param %s: more than 64 values", name);
			return -1;
		}
		p->values[p->nvalues++] = strdup(tok);
	}
	free(list);
	if (p->nvalues == 0) {
		snprintf(err, errlen, "param %s has no value", name);
		return -1;
	}
	return 0;
}

/* Fill a cell's params for combination `combo` and scheme si. */
static void plan_cell(const struct plan *pl, int si, int combo, struct cell *c)
{
	c->nparams = 0;
	memset(c->smr.param, 0, sizeof c->smr.param);
	for (int i = 0; i < pl->nparams; i++) {
		const struct plan_param *p = &pl->param[i];
		const char *v = p->values[combo % p->nvalues];
		combo /= p->nvalues;
		if (p->scheme_param) {
			int k = find_scheme_param(pl->scheme[si], p->name);
			if (k < 0)
				continue; /* another scheme's param */
			/* Not given: this scheme's own default (two schemes may share a
			 * param name with different defaults, as he and ibr's era_freq). */
			if (!given_value(pl->o, p->name))
				v = pl->scheme[si]->params[k].def;
			c->smr.param[k] = strtol(v, NULL, 10);
		}
		c->param_name[c->nparams] = p->name;
		c->param_value[c->nparams++] = v;
	}
}

static int plan_build(struct plan *pl, const struct run_options *o, char *err, size_t errlen)
{
	memset(pl, 0, sizeof *pl);
	pl->o = o;
	for (int s = 0; s < o->nschemes; s++) {
		pl->scheme[s] = smrb_find_scheme(o->schemes[s]);
		if (!pl->scheme[s]) {
			snprintf(err, errlen, "unknown scheme '%s' (smrbench list shows them)", o->schemes[s]);
			return -1;
		}
		pl->wl[s] = smrb_find_workload(pl->scheme[s], o->workload);
		if (!pl->wl[s]) {
			if (s == 0 || !smrb_find_workload(pl->scheme[0], o->workload))
				snprintf(err, errlen, "unknown workload '%s' (smrbench list shows them)", o->workload);
			else
				snprintf(err, errlen, "scheme %s cannot run workload %s", o->schemes[s], o->workload);
			return -1;
		}
	}
	/* Workload params first, then every selected scheme's. */
	for (const struct wl_param_spec *p = pl->wl[0]->params; p->name; p++)
		if (plan_add(pl, p->name, p->def, false, err, errlen) < 0)
			return -1;
	for (int s = 0; s < o->nschemes; s++)
		for (int i = 0; pl->scheme[s]->params[i].name; i++)
			if (plan_add(pl, pl->scheme[s]->params[i].name, pl->scheme[s]->params[i].def, true,
				     err, errlen) < 0)
				return -1;
	/* The harness's own params, only when given: other runs keep their columns. */
	if (given_value(o, "stall")) {
		int before = pl->nparams;
		if (plan_add(pl, "stall", "0", false, err, errlen) < 0)
			return -1;
		if (pl->nparams > before)
			pl->param[before].harness_param = true;
	}
	for (int i = 0; i < o->nparams; i++) {
		bool known = false;
		for (int k = 0; k < pl->nparams; k++)
			known |= !strcmp(pl->param[k].name, o->param_name[i]);
		if (!known) {
			snprintf(err, errlen, "unknown param '%s' for workload %s and the schemes given",
				 o->param_name[i], o->workload);
			return -1;
		}
	}
	/* Check every value. */
	pl->combos = 1;
	for (int i = 0; i < pl->nparams; i++) {
		struct plan_param *p = &pl->param[i];
		for (int v = 0; v < p->nvalues; v++) {
			if (p->scheme_param) {
				for (int s = 0; s < o->nschemes; s++) {
					int k = find_scheme_param(pl->scheme[s], p->name);
					long x;
					if (k < 0)
						continue;
					const struct smr_param_spec *sp = &pl->scheme[s]->params[k];
					if (parse_long(p->values[v], &x) < 0 || x < sp->min || x > sp->max) {
						snprintf(err, errlen,
							 "bad value '%s' for param %s (want an integer in %ld..%ld)",
							 p->values[v], p->name, sp->min, sp->max);
						return -1;
					}
				}
			} else if (p->harness_param) {
				if (strcmp(p->values[v], "0") && strcmp(p->values[v], "1")) {
					snprintf(err, errlen, "bad value '%s' for param %s (want 0 or 1)",
						 p->values[v], p->name);
					return -1;
				}
			} else if (check_wl_value(find_wl_param(pl->wl[0], p->name), p->values[v], err,
						  errlen) < 0) {
				return -1;
			}
		}
		pl->combos *= p->nvalues;
		if (pl->combos > 100000) {
			snprintf(err, errlen, "the param sweep has too many combinations");
			return -1;
		}
	}
	/* The workload's own checks, on every combination. */
	if (pl->wl[0]->check)
		for (int c = 0; c < pl->combos; c++) {
			struct cell cell = { .workload = o->workload, .threads = o->threads[0] };
			plan_cell(pl, 0, c, &cell);
			if (pl->wl[0]->check(&cell, err, errlen) < 0)
				return -1;
		}
	return 0;
}

static void plan_free(struct plan *pl)
{
	for (int i = 0; i < pl->nparams; i++)
		for (int v = 0; v < pl->param[i].nvalues; v++)
			free(pl->param[i].values[v]);
}

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

static void run_cell_child(const struct workload_desc *wl, struct cell *c, enum pin_policy pin,
			   int fd)
{
	struct cell_result r;
	cell_execute(wl, c, pin, &r);
	const char *p = (const char *)&r;
	size_t left = sizeof r;
	while (left) {
		ssize_t w = write(fd, p, left);
		if (w <= 0)
			_exit(EXIT_RUN_FAILED);
		p += w;
		left -= (size_t)w;
	}
	close(fd);
	/* exit, not _exit: sanitizers report leaks at exit. */
	exit(0);
}

static void run_cell(const struct workload_desc *wl, struct cell *c, enum pin_policy pin,
		     struct cell_result *r)
{
	int fds[2];
	memset(r, 0, sizeof *r);
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

static void csv_header(FILE *f, const struct plan *pl)
{
	fprintf(f, "workload,scheme,threads,rep,duration_s,ops,ns_per_op,ops_per_s");
	for (int i = 0; i < CTR_N; i++)
		fprintf(f, ",%s", ctr_column[i]);
	fprintf(f, ",retired,reclaimed,unreclaimed_peak,rss_peak_kb,pin,verify,ended");
	for (int i = 0; i < pl->nparams; i++)
		fprintf(f, ",%s", pl->param[i].name);
	fputc('\n', f);
}

static void csv_row(FILE *f, const struct plan *pl, const struct cell *c, enum pin_policy pin,
		    const struct cell_result *r)
{
	double ns_per_op = (double)r->worker_ns / (double)r->ops;
	double wall_s = (double)r->wall_ns / 1e9;
	fprintf(f, "%s,%s,%d,%d,%.4f,%llu,%.4f,%.1f", c->workload, c->scheme, c->threads, c->rep,
		wall_s, (unsigned long long)r->ops, ns_per_op, (double)r->ops / wall_s);
	for (int i = 0; i < CTR_N; i++) {
		if (r->ctr[i] < 0)
			fputc(',', f); /* unavailable: empty, never a zero */
		else if (ctr_per_op[i])
			fprintf(f, ",%.4f", (double)r->ctr[i] / (double)r->ops);
		else
			fprintf(f, ",%lld", (long long)r->ctr[i]);
	}
	fprintf(f, ",%llu,%llu,%llu,%llu,%s,ok,%s", (unsigned long long)r->smr.retired,
		(unsigned long long)r->smr.reclaimed, (unsigned long long)r->smr.unreclaimed_peak,
		(unsigned long long)r->rss_peak_kb, pin_name(pin), r->finished_early ? "done" : "duration");
	for (int i = 0; i < pl->nparams; i++)
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
		fprintf(sf, "workload,scheme,threads,rep");
		for (int i = 0; i < pl.nparams; i++)
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
					if (o->sample_ms) {
						char prefix[1024];
						size_t k = (size_t)snprintf(prefix, sizeof prefix, "%s,%s,%d,%d",
									    c.workload, c.scheme, c.threads, rep);
						for (int i = 0; i < pl.nparams && k < sizeof prefix; i++) {
							const char *v = cell_param(&c, pl.param[i].name);
							k += (size_t)snprintf(prefix + k, sizeof prefix - k, ",%s",
									      v ? v : "");
						}
						cell_set_sampling(o->sample_ms, samples_path, prefix);
					}
					struct cell_result r;
					run_cell(pl.wl[si], &c, o->pin, &r);
					done++;
					char what[256], eta[32];
					describe_cell(what, sizeof what, &c, &pl);
					double per_cell = (double)(clock_now_ns() - t0) / 1e9 / done;
					format_duration(eta, sizeof eta, per_cell * (total - done));
					if (r.status == 0) {
						csv_row(csv, &pl, &c, o->pin, &r);
						fprintf(stderr, "[%d/%d] %s rep %d: %.3f ns/op, unreclaimed peak %llu (%s left)\n",
							done, total, what, rep, (double)r.worker_ns / (double)r.ops,
							(unsigned long long)r.smr.unreclaimed_peak, eta);
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

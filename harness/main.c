/* SPDX-License-Identifier: MIT */
/*
 * main.c - the smrbench command line.  Its options, subcommands and exit
 * statuses (smrbench --help, README "Running it yourself") are a contract
 * that scripts, CI and users rely on:
 * extend it, don't rename it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "harness/alloc.h"
#include "harness/harness.h"
#include "harness/peers.h"

static const char usage_text[] =
	"usage: smrbench run -w|--workload NAME -s|--scheme A,B,.. -t|--threads 1,2,4\n"
	"                    [-d|--duration SECONDS] [-r|--reps N] [-p|--pin compact|scatter|none]\n"
	"                    [-o|--out DIR] [-P|--param key=value[,value..] ...]\n"
	"                    [--sample-ms N] [--first-rep N] [--no-calibrate]\n"
	"                    [--counters auto|papi|kernel]\n"
	"       smrbench list [--json]  schemes (with their family), workloads (with their params),\n"
	"                           allocators, counters; --json: all of it, and runs.csv's columns\n"
	"       smrbench sysinfo    what machine.json would say [--no-calibrate]\n"
	"       smrbench --help | --version\n";

static const char help_text[] =
	"\n"
	"Runs every combination of scheme x threads x param values, --reps times\n"
	"(repetitions interleaved), each cell in a fresh process, and writes one row\n"
	"per cell to DIR/runs.csv with DIR/machine.json beside it.\n"
	"\n"
	"  -w, --workload NAME    the workload (smrbench list)\n"
	"  -s, --scheme LIST      comma-separated schemes (smrbench list); with -w lazy also\n"
	"                         the peers jvm and crossbeam-epoch where built\n"
	"  -t, --threads LIST     comma-separated worker thread counts (default 1)\n"
	"  -d, --duration SEC     seconds per cell (default 1)\n"
	"  -r, --reps N           repetitions of every cell (default 1)\n"
	"  -p, --pin POLICY       compact (default), scatter or none (hwloc)\n"
	"  -o, --out DIR          results folder (default results/<UTC time>-<host>);\n"
	"                         one that already holds runs.csv is refused\n"
	"  -P, --param K=V        a workload or scheme param; V may be a comma list to sweep\n"
	"      --sample-ms N      every N ms, the live retired/reclaimed counts and RSS\n"
	"                         of the running cell into DIR/samples.csv\n"
	"      --first-rep N      number the repetitions N, N+1, .. (resuming a run)\n"
	"      --no-calibrate     (run, sysinfo) skip measuring what the primitives cost\n"
	"                         here (~0.4 s): machine.json's \"calibration\" is null\n"
	"                         (so does SMRBENCH_NO_CALIBRATE=1 in the environment)\n"
	"      --counters MODE    where the software counters\n"
	"                         (ctx_switches, page_faults, migrations) come from:\n"
	"                         auto (default) PAPI's perf_event component, else the\n"
	"                         kernel (perf_event_open, else getrusage RUSAGE_THREAD);\n"
	"                         papi: PAPI only; kernel: the kernel even where PAPI\n"
	"                         has them.  Hardware counters are always PAPI's.\n"
	"                         machine.json's counter_sources and smrbench list\n"
	"                         name each column's source.  SMRBENCH_COUNTERS=MODE in\n"
	"                         the environment sets it for run, list and sysinfo\n"
	"  -P stall=0,1           harness param: one extra thread enters the scheme's\n"
	"                         critical section and stays there for the whole cell\n"
	"  -P alloc=A,B,..        the allocator: glibc, jemalloc, mimalloc, tcmalloc or pool\n"
	"                         (default " SMRB_DEFAULT_ALLOC "; smrbench list says which are\n"
	"                         installed); swept like any param, runs.csv's alloc column.\n"
	"                         jemalloc, mimalloc, tcmalloc: the cell's process is\n"
	"                         re-executed with the library in LD_PRELOAD\n"
	"\n"
	"Exit status: 0 ok; 1 a cell failed (verify, crash, thread start);\n"
	"2 bad usage (unknown scheme, workload, param or allocator, an allocator not\n"
	"installed or not usable in a sanitizer build, bad number, unusable folder).\n";

static int usage_error(const char *fmt, const char *what)
{
	fprintf(stderr, "smrbench: ");
	fprintf(stderr, fmt, what);
	fprintf(stderr, " (smrbench --help)\n");
	return EXIT_USAGE;
}

/* Split a comma list into ints in [lo, hi]. */
static int parse_int_list(const char *s, int *out, int max, int lo, int hi, int *n)
{
	char *copy = strdup(s), *save;
	*n = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		errno = 0;
		long v = strtol(tok, &end, 10);
		if (end == tok || *end || errno || v < lo || v > hi || *n == max) {
			free(copy);
			return -1;
		}
		out[(*n)++] = (int)v;
	}
	free(copy);
	return *n ? 0 : -1;
}

/* -s A,B,..: split in place (argv's strings are ours to modify, and nothing
 * is allocated that an early usage error would leak). */
static int parse_schemes(char *list, struct run_options *o)
{
	o->nschemes = 0;
	char *save;
	for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (o->nschemes == 64)
			return -1;
		o->schemes[o->nschemes++] = tok;
	}
	return 0;
}

/* -P key=value[,value..] */
static int parse_param(char *arg, struct run_options *o)
{
	char *eq = strchr(arg, '=');
	if (!eq || eq == arg || !eq[1])
		return usage_error("bad param '%s' (want key=value)", arg);
	if (o->nparams == CELL_MAX_PARAMS)
		return usage_error("too many params at '%s'", arg);
	*eq = 0;
	o->param_name[o->nparams] = arg;
	o->param_values[o->nparams++] = eq + 1;
	return 0;
}

enum { OPT_SAMPLE_MS = 256, OPT_FIRST_REP, OPT_NO_CALIBRATE, OPT_COUNTERS };

/* One option of `smrbench run` with its value: 0, a usage error's status, or
 * -1 when opt is none of run's. */
static int run_option(int opt, char *arg, struct run_options *o)
{
	int n, ms;
	char *end;
	enum ctr_mode m;
	switch (opt) {
	case 'w':
		o->workload = arg;
		return 0;
	case 's':
		return parse_schemes(arg, o) < 0 ? usage_error("too many schemes in '%s'", arg) : 0;
	case 't':
		if (parse_int_list(arg, o->threads, 64, 1, 4096, &o->nthreads) < 0)
			return usage_error("bad thread count in '%s' (want integers 1..4096, comma-separated)", arg);
		return 0;
	case 'd':
		o->duration_s = strtod(arg, &end);
		if (end == arg || *end || !(o->duration_s > 0 && o->duration_s <= 86400))
			return usage_error("bad duration '%s' (want seconds, 0 < d <= 86400)", arg);
		return 0;
	case 'r':
		if (parse_int_list(arg, &o->reps, 1, 1, 10000, &n) < 0)
			return usage_error("bad repetition count '%s' (want 1..10000)", arg);
		return 0;
	case 'p':
		if (pin_parse(arg, &o->pin) < 0)
			return usage_error("bad pin policy '%s' (want compact, scatter or none)", arg);
		return 0;
	case 'o':
		o->out_dir = arg;
		return 0;
	case 'P':
		return parse_param(arg, o);
	case OPT_SAMPLE_MS:
		if (parse_int_list(arg, &ms, 1, 1, 3600000, &n) < 0)
			return usage_error("bad sampling period '%s' (want milliseconds, 1..3600000)", arg);
		o->sample_ms = (unsigned)ms;
		return 0;
	case OPT_FIRST_REP:
		if (parse_int_list(arg, &o->first_rep, 1, 1, 1000000, &n) < 0)
			return usage_error("bad first repetition '%s' (want 1..1000000)", arg);
		return 0;
	case OPT_NO_CALIBRATE:
		calibrate_skip("skipped: --no-calibrate");
		return 0;
	case OPT_COUNTERS:
		if (counters_mode_parse(arg, &m) < 0)
			return usage_error("bad counters mode '%s' (want auto, papi or kernel)", arg);
		counters_mode_set(m);
		return 0;
	}
	return -1;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "workload", required_argument, NULL, 'w' },
		{ "scheme", required_argument, NULL, 's' },
		{ "threads", required_argument, NULL, 't' },
		{ "duration", required_argument, NULL, 'd' },
		{ "reps", required_argument, NULL, 'r' },
		{ "pin", required_argument, NULL, 'p' },
		{ "out", required_argument, NULL, 'o' },
		{ "param", required_argument, NULL, 'P' },
		{ "sample-ms", required_argument, NULL, OPT_SAMPLE_MS },
		{ "first-rep", required_argument, NULL, OPT_FIRST_REP },
		{ "no-calibrate", no_argument, NULL, OPT_NO_CALIBRATE },
		{ "counters", required_argument, NULL, OPT_COUNTERS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_options o = { .duration_s = 1, .reps = 1, .pin = PIN_COMPACT, .nthreads = 1 };
	o.threads[0] = 1;
	int c, st;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":w:s:t:d:r:p:o:P:h", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			fputs(help_text, stdout);
			return EXIT_OK;
		}
		if (c == ':')
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		if ((st = run_option(c, optarg, &o)) < 0)
			return usage_error("unknown option '%s'", argv[optind - 1]);
		if (st)
			return st;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!o.workload)
		return usage_error("%s", "run needs a workload (-w)");
	if (!o.nschemes)
		return usage_error("%s", "run needs at least one scheme (-s)");
	/* Probe before any cell forks; the runner prints the note once the
	 * request is known to be valid (a usage error stays one line). */
	char note[512];
	counters_probe(note, sizeof note);
	return runner_run(&o, note);
}

static void print_wl_param(const struct wl_param_spec *p)
{
	char range[96] = "";
	if (p->type == WL_INT || p->type == WL_REAL)
		snprintf(range, sizeof range, " [%g..%g]", p->min, p->max);
	else if (p->choices)
		snprintf(range, sizeof range, " [%s]", p->choices);
	printf("      %-12s default %-8s %s%s\n", p->name, p->def, p->help, range);
}

static int cmd_list(void)
{
	printf("schemes:\n");
	for (int i = 0; smrb_schemes[i]; i++) {
		const struct scheme_desc *s = smrb_schemes[i];
		printf("  %-12s %s [%s%s%s]\n", s->name, s->summary, smr_family_name[s->family],
		       s->reference ? "; reference: " : "", s->reference ? s->reference : "");
		for (int k = 0; s->params[k].name; k++)
			printf("      %-12s default %-8s %s [%ld..%ld]\n", s->params[k].name, s->params[k].def,
			       s->params[k].help, s->params[k].min, s->params[k].max);
	}
	printf("workloads:\n");
	const struct scheme_desc *s0 = smrb_schemes[0];
	for (int w = 0; s0->workloads[w]; w++) {
		const struct workload_desc *wl = s0->workloads[w];
		printf("  %-12s %s\n", wl->name, wl->summary);
		for (const struct wl_param_spec *p = wl->params; p->name; p++)
			print_wl_param(p);
	}
	peer_list(stdout);
	char note[512];
	counters_probe(note, sizeof note);
	printf("counters on this machine:\n");
	/* The PAPI name first: scripts and tests match lines by it. */
	for (int i = 0; i < CTR_N; i++) {
		const char *src = counters_source((enum ctr_id)i);
		printf("  %-24s %-18s %s%s\n", counters_event_name((enum ctr_id)i), ctr_column[i],
		       src ? "available from " : "not available", src ? src : "");
	}
	/* Last: scripts read the sections above by their headers. */
	printf("allocators:\n");
	const char *san = alloc_sanitizer_owner();
	for (const struct smrb_alloc *a = smrb_allocs; a->name; a++) {
		char lib[4096];
		bool installed = alloc_library_path(a, lib, sizeof lib);
		printf("  %-10s installed: %-3s %s%s [%s%s%s]%s\n", a->name, installed ? "yes" : "no", a->summary,
		       a->preload ? "; preloaded" : "", lib, a->package ? ", Debian " : "",
		       a->package ? a->package : "", a->preload && san ? " (not in this sanitizer build)" : "");
	}
	printf("default allocator: %s\n", SMRB_DEFAULT_ALLOC);
	return EXIT_OK;
}

/*
 * `selftest [SCHEME..]` (test builds): each scheme's contract tests and each
 * workload's property tests, as TAP.  Exit 1 if any failed.
 */
static int cmd_selftest(int argc, char **argv)
{
	int failed = 0, ran = 0;
	for (int i = 0; smrb_schemes[i]; i++) {
		const struct scheme_desc *s = smrb_schemes[i];
		bool wanted = argc <= 1;
		for (int a = 1; a < argc; a++)
			wanted |= !strcmp(argv[a], s->name);
		if (!wanted)
			continue;
		if (!s->selftest) {
			fprintf(stderr, "smrbench: this binary has no self tests (build smrbench-faults: make check)\n");
			return EXIT_USAGE;
		}
		ran++;
		failed += s->selftest();
		for (int w = 0; s->workloads[w]; w++)
			if (s->workloads[w]->selftest)
				failed += s->workloads[w]->selftest();
	}
	for (int a = 1; a < argc; a++)
		if (!smrb_find_scheme(argv[a]))
			return usage_error("unknown scheme '%s' (smrbench list shows them)", argv[a]);
	if (!ran)
		return usage_error("%s", "no scheme to test");
	return failed ? EXIT_RUN_FAILED : EXIT_OK;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	/* The test suite runs hundreds of short cells: it sets this once instead of
	 * passing --no-calibrate to every call (tests/local.mk). */
	const char *cmode = getenv("SMRBENCH_COUNTERS");
	if (cmode && *cmode) {
		enum ctr_mode m;
		if (counters_mode_parse(cmode, &m) < 0)
			return usage_error("bad SMRBENCH_COUNTERS '%s' (want auto, papi or kernel)", cmode);
		counters_mode_set(m);
	}
	const char *nocal = getenv("SMRBENCH_NO_CALIBRATE");
	if (nocal && *nocal && strcmp(nocal, "0"))
		calibrate_skip("skipped: SMRBENCH_NO_CALIBRATE is set");
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		fputs(usage_text, stdout);
		fputs(help_text, stdout);
		return EXIT_OK;
	}
	if (!strcmp(cmd, "--version")) {
		printf("smrbench %s (%s)\n", PACKAGE_VERSION, SMRB_GIT_REVISION);
		return EXIT_OK;
	}
	smr_debug_init();
	char err[256];
	if (!strcmp(cmd, "selftest"))
		return cmd_selftest(argc - 1, argv + 1);
	if (strcmp(cmd, "run") && strcmp(cmd, "list") && strcmp(cmd, "sysinfo") && strcmp(cmd, "__cell"))
		return usage_error("unknown command '%s'", cmd);
	if (topology_init(err, sizeof err) < 0) {
		fprintf(stderr, "smrbench: %s\n", err);
		return EXIT_RUN_FAILED;
	}
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "__cell"))
		return runner_cell_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "list")) {
		if (argc > 2 && (argc > 3 || strcmp(argv[2], "--json")))
			return usage_error("unknown option '%s' (list takes --json)", argv[2]);
		if (argc == 3) {
			char note[512];
			counters_probe(note, sizeof note);
			list_json(stdout);
			return EXIT_OK;
		}
		return cmd_list();
	}
	for (int a = 2; a < argc; a++) {
		if (strcmp(argv[a], "--no-calibrate"))
			return usage_error("unknown option '%s' (sysinfo takes --no-calibrate)", argv[a]);
		calibrate_skip("skipped: --no-calibrate");
	}
	char note[512];
	counters_probe(note, sizeof note);
	sysinfo_write(stdout);
	return EXIT_OK;
}

/* SPDX-License-Identifier: MIT */
/* harness.h - the harness's small modules (clock, counters, machine.json, the
 * runner), as main.c and runner.c see them. */
#ifndef SMRB_HARNESS_H
#define SMRB_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "harness/topology.h"
#include "harness/workload.h"

/* Exit statuses: part of the CLI contract (smrbench --help says them). */
enum { EXIT_OK = 0, EXIT_RUN_FAILED = 1, EXIT_USAGE = 2 };

/* ---- clock.c ---- */
uint64_t clock_now_ns(void);

/* ---- counters.c: PAPI per thread, the kernel's software events, or empty columns ---- */
enum ctr_id {
	CTR_CYCLES, CTR_INSTR, CTR_L1D_MISS, CTR_LLC_MISS, CTR_BR_MISS,
	CTR_CTX_SWITCHES, CTR_PAGE_FAULTS, CTR_MIGRATIONS,
	CTR_N
};
/* CSV column of each counter, per op for hardware events, per cell for software ones. */
extern const char *const ctr_column[CTR_N];
/* runs.csv's columns, in order: these, the counters' (ctr_column), these,
 * then one per param (runner.c); NULL-terminated. */
extern const char *const csv_columns_before_counters[];
extern const char *const csv_columns_after_counters[];
extern const bool ctr_per_op[CTR_N];
/* Which counters this machine has (in the parent, before any fork).  Fills a
 * one-line note for the user when some are missing; returns how many exist. */
int counters_probe(char *note, size_t notelen);
bool counters_available(enum ctr_id id);
/* What counters_probe() found, one character per counter (0 none, 1 PAPI,
 * k perf_event_open, u perf_event_open user mode only, r getrusage): how a
 * re-executed cell process (smrbench __cell) inherits it.  set: -1 if the
 * mask is malformed. */
void counters_mask_get(char out[CTR_N + 1]);
int counters_mask_set(const char *mask);
/* PAPI name of each counter, and the library's version ("none" without PAPI). */
const char *counters_event_name(enum ctr_id id);
/* Where counter id comes from ("papi:PAPI_TOT_CYC",
 * "perf_event_open:PERF_COUNT_SW_CONTEXT_SWITCHES", "getrusage:RUSAGE_THREAD:..."),
 * NULL when nothing gives it.  Valid after counters_probe() or _mask_set(). */
const char *counters_source(enum ctr_id id);
/* --counters / SMRBENCH_COUNTERS: auto (PAPI, the kernel for the software
 * events PAPI lacks), papi (PAPI only), kernel (software events from the
 * kernel even where PAPI has them).  Set before counters_probe(). */
enum ctr_mode { CTR_MODE_AUTO, CTR_MODE_PAPI, CTR_MODE_KERNEL };
int counters_mode_parse(const char *s, enum ctr_mode *m);
void counters_mode_set(enum ctr_mode m);
const char *counters_papi_version(void);
/* In a cell's process, before its threads start. */
void counters_process_init(void);
struct ctr_thread;
/* In a measured thread, before the start barrier: set up its event set (NULL
 * when nothing is available); then, after the barrier, start counting. */
struct ctr_thread *counters_thread_prepare(void);
void counters_thread_start(struct ctr_thread *c);
/* Stop and read: out[i] = count, or -1 when counter i is unavailable. */
void counters_thread_stop(struct ctr_thread *c, int64_t out[CTR_N]);

/* ---- calibrate.c: calibrate_skip(), calibrate_json() ---- */
#include "harness/calibrate.h"

/* ---- sysinfo.c ---- */
/* Write machine.json's content: CPU, topology, kernel, compiler, libraries, git revision,
 * the calibration. */
void sysinfo_write(FILE *f);
/* Write s as a JSON string, escaped (NULL: ""). */
void json_str(FILE *f, const char *s);
/* smrbench list --json (list_json.c): schemes with their family, workloads,
 * columns, counters, allocators. */
void list_json(FILE *f);

/* ---- runner.c ---- */
struct run_options {
	const char *workload;
	const char *schemes[64];
	int nschemes;
	int threads[64];
	int nthreads;
	double duration_s;
	int reps;
	enum pin_policy pin;
	const char *out_dir;
	int nparams;
	const char *param_name[CELL_MAX_PARAMS];
	const char *param_values[CELL_MAX_PARAMS];  /* comma-separated: a sweep */
	unsigned sample_ms;         /* --sample-ms: live stats every N ms into samples.csv; 0 off */
	int first_rep;              /* --first-rep: number of the first repetition (default 1) */
};
/* counters_note: what counters_probe() said, printed once the run is valid. */
int runner_run(const struct run_options *o, const char *counters_note);
/* `smrbench __cell ...` (hidden): one cell, re-executed by the runner with a
 * preloaded allocator; argv[0] is "__cell".  Exits; returns only on bad usage. */
int runner_cell_main(int argc, char **argv);

#endif

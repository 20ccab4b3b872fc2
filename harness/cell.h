/* SPDX-License-Identifier: MIT */
/*
 * cell.h - what a cell is and how it runs (cell.c): a scheme's instance of a
 * workload, resolved once from the command line (plan.c, or the __cell
 * command line of a re-executed cell), with everything the run needs, and
 * what the run measured.
 */
#ifndef SMRB_CELL_H
#define SMRB_CELL_H

#include <stdbool.h>
#include <stdint.h>

#include "harness/harness.h"
#include "harness/topology.h"
#include "harness/workload.h"

/* --sample-ms: every ms milliseconds, one row appended to path: prefix (the
 * cell's identity columns), then t_ms, unreclaimed, retired, reclaimed, rss_kb. */
struct cell_sampling {
	unsigned ms;            /* 0: off */
	const char *path;
	const char *prefix;
};

/* One cell, ready to run. */
struct cell_job {
	struct cell cell;                      /* what the workload sees */
	const struct scheme_desc *scheme;
	const struct workload_desc *wl;        /* the scheme's instance of the workload */
	enum pin_policy pin;
	bool stall;                            /* -P stall=1: a thread stays in a critical section */
	struct cell_sampling sampling;
};

/* What one cell measured, sent from the cell's process to the runner. */
struct cell_result {
	int status;                 /* 0 ok, else EXIT_RUN_FAILED */
	char message[256];          /* why it failed */
	uint64_t ops;               /* workers' operations */
	uint64_t worker_ns;         /* sum of workers' elapsed ns */
	uint64_t wall_ns;           /* longest worker elapsed */
	bool finished_early;        /* the workload ran out of work before the duration */
	int64_t ctr[CTR_N];         /* summed over workers; -1 unavailable */
	struct smr_stats smr;
	uint64_t rss_peak_kb;
};

/* Record why the cell failed; the first reason stays. */
void cell_fail(struct cell_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Run one cell in this process: create, run threads pinned by job->pin, verify, destroy. */
void cell_execute(struct cell_job *job, struct cell_result *r);

/* The allocator of a cell (its alloc param, or the default). */
const char *cell_alloc(const struct cell *c);

#endif

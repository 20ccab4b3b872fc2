/* SPDX-License-Identifier: MIT */
/*
 * plan.h - a `smrbench run` request expanded into cells: every param's list
 * of values (workload, scheme and harness params), checked once, and the
 * cell of each (scheme, combination).  runner.c runs the cells.
 */
#ifndef SMRB_PLAN_H
#define SMRB_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "harness/cell.h"
#include "harness/harness.h"

struct plan_param {
	const char *name;
	char *values[64];
	int nvalues;
	bool scheme_param;
	bool harness_param;  /* stall: handled by the harness (cell.c), 0 or 1 */
	bool alloc_param;    /* alloc: the allocator (alloc.h); runs.csv's alloc column */
};

struct plan {
	const struct run_options *o;
	const struct workload_desc *wl[64];   /* per scheme */
	const struct scheme_desc *scheme[64];
	struct plan_param param[CELL_MAX_PARAMS];
	int nparams;
	int combos;
	bool has_peer;  /* a peer among the schemes: runs.csv gets the peers' columns */
};

/* Expand and check the request: 0, or -1 with a one-line err (a usage error). */
int plan_build(struct plan *pl, const struct run_options *o, char *err, size_t errlen);
void plan_free(struct plan *pl);
/* The params of scheme si's cell in param combination combo. */
void plan_cell(const struct plan *pl, int si, int combo, struct cell *c);
/* That cell with threads workers, repetition rep, ready to run (sampling is the runner's). */
void plan_job(const struct plan *pl, int si, int combo, int threads, int rep, struct cell_job *job);
/* The index of a scheme's param called name, or -1. */
int find_scheme_param(const struct scheme_desc *s, const char *name);

#endif

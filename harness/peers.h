/* SPDX-License-Identifier: MIT */
/* peers.h - the peers (peers.c): Niksic's LazyTransform (2017) in other languages, run as child processes. */
#ifndef SMRB_PEERS_H
#define SMRB_PEERS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "harness/cell.h"

/* What a peer's row has beyond struct cell_result; -1: unknown (an empty column). */
struct peer_result {
	int64_t retired, reclaimed;
	int64_t gc_count, gc_ms;
	char runtime[160];          /* what ran: the JVM's version, GC and heap; the crate's version */
};

/* runs.csv's columns a run with a peer adds, before `ended` (runner.c). */
extern const char *const csv_columns_peers[];

/* Is name a peer (built or not)? */
bool peer_is(const char *name);
/* A peer's scheme (its one workload: lazy) into *out: 0, *out NULL when name
 * is no peer; -1 with err when it is one but not built. */
int peer_find(const char *name, const struct scheme_desc **out, char *err, size_t errlen);
/* What a peer cannot do with this cell (-P stall=1): -1 with err. */
int peer_check(const struct cell *c, char *err, size_t errlen);
/* `smrbench list`'s peers section. */
void peer_list(FILE *f);
/* What `smrbench list --json` says of peer i (false past the last one). */
struct peer_info {
	const char *name, *summary;
	bool built;
	const char *why_not;                   /* configure's reason when not built */
	const struct smr_param_spec *params;   /* terminated by a {NULL} entry */
};
bool peer_info(int i, struct peer_info *out);
/* Run one cell of a peer in a child process (the protocol: peers.c). */
void peer_run_cell(const struct cell *c, enum pin_policy pin, struct cell_result *r, struct peer_result *pr);

#endif

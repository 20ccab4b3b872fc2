/* SPDX-License-Identifier: MIT */
/*
 * topology.h - the machine's processing units (hwloc) and where a cell's
 * threads are pinned.  The only module that speaks hwloc.
 */
#ifndef SMRB_TOPOLOGY_H
#define SMRB_TOPOLOGY_H

#include <stddef.h>
#include <stdio.h>

enum pin_policy { PIN_COMPACT, PIN_SCATTER, PIN_NONE };
const char *pin_name(enum pin_policy p);
int pin_parse(const char *s, enum pin_policy *p);
/* Load the topology (hwloc).  -1 with err when hwloc fails. */
int topology_init(char *err, size_t errlen);
/* The OS CPU index of each of n threads under policy p (-1: not pinned). */
void pin_cpus(enum pin_policy p, int n, int *cpu);
/* Bind the calling thread to OS CPU cpu: 0, or -1 when the OS refused. */
int pin_this_thread(int cpu);
/* Write the machine's topology as a JSON object (for machine.json). */
void topology_json(FILE *f);

#endif

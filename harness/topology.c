/* SPDX-License-Identifier: MIT */
/*
 * topology.c - the machine's processing units as hwloc sees them, and the
 * CPUs a cell's threads are pinned to (topology.h).
 */
#include <errno.h>
#include <hwloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/topology.h"

static hwloc_topology_t topo;
static int npus;

int topology_init(char *err, size_t errlen)
{
	if (hwloc_topology_init(&topo) < 0 || hwloc_topology_load(topo) < 0) {
		snprintf(err, errlen, "hwloc could not load the machine's topology: %s", strerror(errno));
		return -1;
	}
	npus = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
	if (npus < 1) {
		snprintf(err, errlen, "hwloc found no processing units");
		return -1;
	}
	return 0;
}

static int count_type(hwloc_obj_type_t t)
{
	int n = hwloc_get_nbobjs_by_type(topo, t);
	return n < 0 ? 0 : n;
}

void topology_json(FILE *f)
{
	hwloc_obj_t root = hwloc_get_root_obj(topo);
	const char *model = hwloc_obj_get_info_by_name(root, "CPUModel");
	if (!model) {
		hwloc_obj_t pkg = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PACKAGE, 0);
		model = pkg ? hwloc_obj_get_info_by_name(pkg, "CPUModel") : NULL;
	}
	fprintf(f, "{\"packages\": %d, \"numa_nodes\": %d, \"cores\": %d, \"pus\": %d, ",
		count_type(HWLOC_OBJ_PACKAGE), count_type(HWLOC_OBJ_NUMANODE),
		count_type(HWLOC_OBJ_CORE), npus);
	fprintf(f, "\"l3_caches\": %d, \"cpu_model\": \"%s\", \"hwloc_version\": \"%s\"}",
		count_type(HWLOC_OBJ_L3CACHE), model ? model : "unknown", HWLOC_VERSION);
}

const char *pin_name(enum pin_policy p)
{
	static const char *const names[] = { "compact", "scatter", "none" };
	return names[p];
}

int pin_parse(const char *s, enum pin_policy *p)
{
	for (int i = PIN_COMPACT; i <= PIN_NONE; i++)
		if (!strcmp(s, pin_name((enum pin_policy)i))) {
			*p = (enum pin_policy)i;
			return 0;
		}
	return -1;
}

/*
 * The cpusets of n threads: compact fills PUs in hwloc's logical order (the
 * hyperthreads of a core, then the next core); scatter spreads them over the
 * topology's widest level first (hwloc_distrib).  Beyond the PU count they
 * wrap around: more threads than cores is the oversubscription experiment.
 * Each set is one PU.
 */
static hwloc_bitmap_t *pin_sets(enum pin_policy p, int n)
{
	if (p == PIN_NONE)
		return NULL;
	hwloc_bitmap_t *sets = calloc((size_t)n, sizeof *sets);
	if (p == PIN_COMPACT) {
		for (int i = 0; i < n; i++) {
			hwloc_obj_t pu = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, (unsigned)(i % npus));
			sets[i] = hwloc_bitmap_dup(pu->cpuset);
		}
	} else {
		int m = n < npus ? n : npus;
		hwloc_bitmap_t *spread = calloc((size_t)m, sizeof *spread);
		hwloc_obj_t root = hwloc_get_root_obj(topo);
		hwloc_distrib(topo, &root, 1, spread, (unsigned)m, INT_MAX, 0);
		for (int i = 0; i < n; i++) {
			sets[i] = hwloc_bitmap_dup(spread[i % m]);
			hwloc_bitmap_singlify(sets[i]);
		}
		for (int i = 0; i < m; i++)
			hwloc_bitmap_free(spread[i]);
		free(spread);
	}
	return sets;
}

/* The OS index of the PU each of n threads is pinned to, -1 for all under
 * PIN_NONE: what a cell's threads bind to (cell.c) and a peer is told (peers.c). */
void pin_cpus(enum pin_policy p, int n, int *cpu)
{
	hwloc_bitmap_t *sets = pin_sets(p, n);
	for (int i = 0; i < n; i++) {
		cpu[i] = sets ? hwloc_bitmap_first(sets[i]) : -1;
		if (sets)
			hwloc_bitmap_free(sets[i]);
	}
	free(sets);
}

int pin_this_thread(int cpu)
{
	hwloc_bitmap_t set = hwloc_bitmap_alloc();
	hwloc_bitmap_only(set, (unsigned)cpu);
	int rc = hwloc_set_cpubind(topo, set, HWLOC_CPUBIND_THREAD);
	hwloc_bitmap_free(set);
	return rc < 0 ? -1 : 0;
}

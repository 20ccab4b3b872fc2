/* SPDX-License-Identifier: MIT */
/*
 * none.h - the leak floor: retire keeps every object until the domain is
 * destroyed.  Nothing on the read path, no reclamation work: every other
 * scheme's cost is reported as a ratio against this one.
 */
#ifndef SMR_NONE_H
#define SMR_NONE_H

#include <stdlib.h>

#include "smr_node_link.h"

struct none_thread {
	struct smr_slot slot;
	struct none_domain *d;
	struct smr_list kept;          /* retired, freed only at domain destroy */
	struct smr_counters cnt;
} SMR_ALIGNED;

struct none_domain {
	int max_threads;
	struct none_thread *threads;
};

#define SMR_PARAMS_none /* none */

struct none_domain *none_domain_create(const struct smr_config *cfg, char *err, size_t errlen);
void none_domain_destroy(struct none_domain *d, struct smr_stats *out);
struct none_thread *none_register(struct none_domain *d);
void none_unregister(struct none_thread *t);
void none_stats(struct none_domain *d, struct smr_stats *out);

static inline void none_begin(struct none_thread *t) { (void)t; }
static inline void none_end(struct none_thread *t) { (void)t; }
static inline void none_quiescent(struct none_thread *t) { (void)t; }

static inline void none_retire(struct none_thread *t, struct smr_node *n, smr_reclaim_fn dtor)
{
	n->smr_dtor = dtor;
	smr_list_push(&t->kept, n);
	smr_count_retired(&t->cnt);
}

#endif

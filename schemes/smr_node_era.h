/* SPDX-License-Identifier: MIT */
/*
 * smr_node_era.h - the object header of hazard eras (he.h) and
 * interval-based reclamation (ibr.h): a retire link and the destructor, as
 * smr_node_link.h, and the object's lifetime in eras, which their scans test
 * against the eras readers publish.  32 bytes.
 */
#ifndef SMR_NODE_ERA_H
#define SMR_NODE_ERA_H

struct smr_node {
	struct smr_node *smr_next;      /* the retire list, once retired */
	smr_reclaim_fn smr_dtor;        /* set by retire; NULL: bare free */
	uint64_t smr_birth;             /* the era at allocation (alloc stamps it) */
	uint64_t smr_retire_era;        /* the era read after the unlink (retire stamps it) */
};

#include "smr_list.h"

#endif

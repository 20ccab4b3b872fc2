/* SPDX-License-Identifier: MIT */
/*
 * smr_node_link.h - the object header of the schemes that only keep retired
 * objects on a list until it is safe to free them: none, ebr, ebr-asym, nebr,
 * qsbr, hp, hp-asym, hp-pop, epoch-pop.  A retire link and the destructor, 16 bytes: what
 * liburcu's struct rcu_head and Concurrency Kit's ck_epoch_entry hold, and
 * the link and destructor of Hart et al.'s nodes.
 */
#ifndef SMR_NODE_LINK_H
#define SMR_NODE_LINK_H

struct smr_node {
	struct smr_node *smr_next;      /* the retire list, once retired */
	smr_reclaim_fn smr_dtor;        /* set by retire; NULL: bare free */
};

#include "smr_list.h"

#endif

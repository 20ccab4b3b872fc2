/* SPDX-License-Identifier: MIT */
/*
 * smr_list.h - an intrusive singly linked list of retired objects, through
 * their header's smr_next, each reclaimed with its smr_dtor.  For the schemes
 * whose struct smr_node has both fields (smr_node_link.h, era_impl.h): the
 * including header defines the struct first.
 */
#ifndef SMR_LIST_H
#define SMR_LIST_H

struct smr_list {
	struct smr_node *head;
	uint64_t count;
};

static inline void smr_list_push(struct smr_list *l, struct smr_node *n)
{
	n->smr_next = l->head;
	l->head = n;
	l->count++;
}

/* Reclaim every node of l (running each one's destructor); returns how many. */
static inline uint64_t smr_list_reclaim(struct smr_list *l)
{
	uint64_t count = 0;
	struct smr_node *n = l->head;
	while (n) {
		struct smr_node *next = n->smr_next;
		smr_node_reclaim(n, n->smr_dtor);
		n = next;
		count++;
	}
	l->head = NULL;
	l->count = 0;
	return count;
}

#endif

/* SPDX-License-Identifier: MIT */
/*
 * era_impl_slow.h - the slow paths he.c and ibr.c share: freeing what no
 * reader's published era covers, chains, stats and teardown.  The including
 * file has included its scheme header (which defines ERA_) and defines
 *   static bool ERA_(covered)(const struct ERA_(thread) *t, size_t n, uint64_t birth, uint64_t retire)
 * (does one of the n published eras or intervals its scan collected lie in
 * [birth, retire]?) before including this.
 */

/* Free each retired object of t that no published era covers (n: what the scan collected). */
static void ERA_(sweep)(struct ERA_(thread) *t, size_t n)
{
	struct smr_node **link = &t->retired.head;
	uint64_t freed = 0;
	while (*link) {
		struct smr_node *x = *link;
		if (ERA_(covered)(t, n, x->smr_birth, x->smr_retire_era)) {
			link = &x->smr_next;
			continue;
		}
		*link = x->smr_next;
		smr_node_reclaim(x, x->smr_dtor);
		freed++;
	}
	t->retired.count -= freed;
	smr_count_reclaimed(&t->cnt, freed);
}

/*
 * A reader may hold any node of a retired chain.  Each node is safe once no
 * era lies in [its birth, retire]; the chain is freed as one, so its interval
 * is the union: [the oldest birth of its nodes, retire], stamped on the head.
 */
void ERA_(retire_chain)(struct ERA_(thread) *t, struct smr_node *head, smr_reclaim_fn dtor,
			smr_chain_next_fn next)
{
	uint64_t b = head->smr_birth;
	for (struct smr_node *n = next(head); n; n = next(n))
		if (n->smr_birth < b)
			b = n->smr_birth;
	head->smr_birth = b;
	ERA_(retire)(t, head, dtor);
}

void ERA_(stats)(struct ERA_(domain) *d, struct smr_stats *out)
{
	*out = (struct smr_stats){0};
	for (int i = 0; i < d->max_threads; i++)
		smr_counters_sum(&d->threads[i].cnt, out);
}

/* Teardown, first half: no thread is registered any more, so nothing is protected. */
static void ERA_(reclaim_all)(struct ERA_(domain) *d, struct smr_stats *out)
{
	for (int i = 0; i < d->max_threads; i++) {
		struct ERA_(thread) *t = &d->threads[i];
		smr_count_reclaimed(&t->cnt, smr_list_reclaim(&t->retired));
	}
	ERA_(stats)(d, out);
	smr_quarantine_drain();
}

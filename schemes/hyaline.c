/* SPDX-License-Identifier: MIT */
/* hyaline.c - Hyaline-1S: registration, sealing batches, releasing them, frees. */
#include "smr.h"
#include "hyaline.h"

struct hyaline_domain *hyaline_domain_create(const struct smr_config *cfg, char *err, size_t errlen)
{
	(void)err; (void)errlen;
	struct hyaline_domain *d = smr_aligned_calloc(1, sizeof *d);
	atomic_init(&d->clock, 1); /* a fresh slot's access era, 0, covers no object */
	d->max_threads = cfg->max_threads;
	d->threads = smr_aligned_calloc((size_t)d->max_threads, sizeof *d->threads);
	/* One node of a batch per slot, and the count node, which is never pushed. */
	long batch = SMR_PARAM(cfg, 0);
	if (batch < d->max_threads + 1)
		batch = d->max_threads + 1;
	for (int i = 0; i < d->max_threads; i++) {
		struct hyaline_thread *t = &d->threads[i];
		t->d = d;
		t->batch = (unsigned)batch;
		t->era_freq = (unsigned)SMR_PARAM(cfg, 1);
		atomic_init(&t->head, 0);
		atomic_init(&t->access, 0);
	}
	return d;
}

static void hyaline_enter(struct hyaline_thread *t)
{
	/* seq_cst exchange: active before any link is loaded (store->load), see hyaline.h (1). */
	atomic_exchange_explicit(&t->head, HYALINE_ACTIVE, memory_order_seq_cst);
}

struct hyaline_thread *hyaline_register(struct hyaline_domain *d)
{
	int i = smr_slot_claim(d->threads, sizeof *d->threads, d->max_threads);
	if (i < 0)
		return NULL;
	hyaline_enter(&d->threads[i]);
	return &d->threads[i];
}

/* Free a batch whose last reference is gone (count is its count node), crediting its retiring thread. */
static void hyaline_free_batch(struct smr_node *count)
{
	struct hyaline_thread *owner = count->smr_owner;
	uint64_t freed = 0;
	struct smr_node *n = count->smr_batch;
	for (;;) {
		struct smr_node *older = n == count ? NULL : n->smr_batch_next;
		smr_node_reclaim(n, n->smr_dtor);
		freed++;
		if (!older)
			break;
		n = older;
	}
	/* An RMW: any thread may free another's batch. */
	atomic_fetch_add_explicit(&owner->cnt.reclaimed, freed, memory_order_relaxed);
}

/*
 * Drop one reference on the batch of every node of a slot list taken whole
 * from a head.  Each node's link is read before its batch is released: the
 * release may free it.
 */
static void hyaline_release(struct smr_node *n)
{
	while (n) {
		struct smr_node *next = n->smr_next, *count = n->smr_batch;
		/* acq_rel: the one that frees sees every other thread's uses of the batch end before. */
		if (atomic_fetch_sub_explicit(&count->smr_refs, 1, memory_order_acq_rel) == 1)
			hyaline_free_batch(count);
		n = next;
	}
}

/*
 * The thread holds nothing (end of an operation) and batches arrived: take
 * them and stay active, in one exchange, then release them.
 */
void hyaline_trim(struct hyaline_thread *t)
{
	/* acq_rel: the pushed nodes' fields are visible to the walk (pairs with the retirers' CAS). */
	uintptr_t h = atomic_exchange_explicit(&t->head, HYALINE_ACTIVE, memory_order_acq_rel);
	hyaline_release((struct smr_node *)(h & ~HYALINE_ACTIVE));
}

static void hyaline_leave(struct hyaline_thread *t)
{
	/* seq_cst exchange: our uses end before a retirer sees us inactive; we take the list whole. */
	uintptr_t h = atomic_exchange_explicit(&t->head, 0, memory_order_seq_cst) & ~HYALINE_ACTIVE;
	hyaline_release((struct smr_node *)h);
}

void hyaline_unregister(struct hyaline_thread *t)
{
	hyaline_leave(t);
	/*
	 * A new owner of the record starts with an era that covers nothing; its
	 * protect publishes.  release: a retirer that reads this 0 skips the slot
	 * without reading its head, and may free what we read: our reads happen
	 * before (TSan caught the relaxed store here).
	 */
	atomic_store_explicit(&t->access, 0, memory_order_release);
	t->access_seen = 0;
	/* The open batch stays with the record (its next owner, or destroy, frees it). */
	smr_slot_release(&t->slot);
}

void hyaline_seal(struct hyaline_thread *t)
{
	struct hyaline_domain *d = t->d;
	struct smr_node *first = t->open_first, *count = t->open_refs;
	const uint64_t oldest = t->open_min;
	t->open_first = t->open_refs = NULL;
	t->open_count = 0;
	count->smr_batch = first;
	count->smr_owner = t; /* the births are no longer read: oldest holds what counts */
	atomic_store_explicit(&count->smr_refs, 0, memory_order_relaxed);
	/* The nodes pushed: the newest down; there are more than slots, so never the count node. */
	struct smr_node *push = first;
	int64_t pushed = 0;
	for (int i = 0; i < d->max_threads; i++) {
		struct hyaline_thread *s = &d->threads[i];
		/* seq_cst: after our unlinks (RMWs); pairs with protect's exchange, see hyaline.h (2). */
		if (atomic_load_explicit(&s->access, memory_order_seq_cst) < oldest)
			continue; /* its era predates every object of the batch */
		uintptr_t h = atomic_load_explicit(&s->head, memory_order_seq_cst);
		do {
			if (!(h & HYALINE_ACTIVE))
				goto next_slot; /* holds nothing; enters after our unlinks */
			push->smr_next = (struct smr_node *)(h & ~HYALINE_ACTIVE);
			/* the CAS publishes the node's fields (and the batch's) to the walk that finds it. */
		} while (!atomic_compare_exchange_weak_explicit(&s->head, &h, (uintptr_t)push | HYALINE_ACTIVE,
								 memory_order_seq_cst, memory_order_seq_cst));
		push = push->smr_batch_next;
		pushed++;
next_slot:;
	}
	/* The readers may have dropped some already (the count went below 0): whoever reaches 0 frees. */
	if (atomic_fetch_add_explicit(&count->smr_refs, pushed, memory_order_acq_rel) == -pushed)
		hyaline_free_batch(count);
}

/*
 * A reader may hold any node of a retired chain, having published an era >=
 * that node's birth.  The chain is freed as one object, so it counts as born
 * with its oldest node (stamped on the head).
 */
void hyaline_retire_chain(struct hyaline_thread *t, struct smr_node *head, smr_reclaim_fn dtor,
			  smr_chain_next_fn next)
{
	uint64_t b = head->smr_birth;
	for (struct smr_node *n = next(head); n; n = next(n))
		if (n->smr_birth < b)
			b = n->smr_birth;
	head->smr_birth = b;
	hyaline_retire(t, head, dtor);
}

void hyaline_stats(struct hyaline_domain *d, struct smr_stats *out)
{
	*out = (struct smr_stats){0};
	for (int i = 0; i < d->max_threads; i++)
		smr_counters_sum(&d->threads[i].cnt, out);
}

/* No thread is registered any more: every sealed batch was released; free the open ones. */
void hyaline_domain_destroy(struct hyaline_domain *d, struct smr_stats *out)
{
	for (int i = 0; i < d->max_threads; i++) {
		struct hyaline_thread *t = &d->threads[i];
		uint64_t freed = 0;
		for (struct smr_node *n = t->open_first; n;) {
			struct smr_node *older = n == t->open_refs ? NULL : n->smr_batch_next;
			smr_node_reclaim(n, n->smr_dtor);
			freed++;
			n = older;
		}
		atomic_fetch_add_explicit(&t->cnt.reclaimed, freed, memory_order_relaxed);
	}
	hyaline_stats(d, out);
	smr_quarantine_drain();
	free(d->threads);
	free(d);
}

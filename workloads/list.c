/* SPDX-License-Identifier: MIT */
/*
 * list.c - Michael's lock-free ordered list (SPAA 2002; Harris's list with
 * hazard-pointer-safe traversal), the list of Hart et al.: keys uniform in
 * [0, 2*elements), prefilled with the even keys; a fraction `update` of the
 * operations are inserts or deletes (coin flip), the rest searches.
 *
 * A node is deleted in two steps: mark its next link (bit 0, within
 * SMR_MARK_MASK), then unlink it from its predecessor with a CAS; whoever
 * unlinks it retires it (the deleter, or a traversal that finds it marked).
 *
 * Reclamation: the traversal holds three nodes, prev, cur and next, each in
 * its own slot; the slot numbers rotate as it walks, so advancing re-protects
 * only the slot of the node left behind.  After protecting next it re-reads
 * prev's link: if that no longer names cur (unmarked), cur may have been
 * unlinked and next may be reclaimed without our having been seen, so it
 * restarts from the head (Michael's validation).  Searches allocate nothing
 * and call nothing per node; the per-node cost is protect, a canary compare,
 * the key, and the re-read of prev's link (already in cache).
 *
 * Checks: every node carries a canary, checked when reached.  verify walks the
 * list: keys strictly increasing and in range, no marked node reachable, and
 * size == prefill + successful inserts - successful deletes.
 *
 * Included by instances/instance.h once per scheme.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/workload.h"
#include "workloads/common.h"

#define LS_CANARY 0x1157ca1eu
#define LS_MARK ((uintptr_t)1)
#define LS_HAZARD_SLOTS 3 /* prev's node, cur, next (ls_find rotates them) */

/*
 * The scheme's header, a 32-bit key (keys < 2 * 1e8) and the link: 32 bytes
 * under the 16-byte header of ebr, qsbr and hp, as Hart et al.'s node (key,
 * next, reclamation link, count).  The test builds' canary takes the key's
 * other half, so their nodes are no bigger.  A traversal is a walk over
 * these bytes: a 1000-element list of 32-byte nodes fits a 48 KiB L1d, of
 * 64-byte ones it does not.
 */
struct ls_node {
	struct smr_node node;
	WL_CANARY_FIELD(uint32_t) /* LS_CANARY while live (test builds) */
	uint32_t key;
	void *_Atomic next;  /* bit 0 set: this node is deleted */
};
_Static_assert(sizeof(struct ls_node) == sizeof(struct smr_node) + 16, "list node: header, key, link");

/* One thread's successful updates; written once, when its loop ends. */
struct ls_rec {
	uint64_t inserted, deleted;
} SMR_ALIGNED;

struct ls_state {
	void *_Atomic head;  /* the first link (never marked) */
	char pad_[SMR_CACHE_LINE - sizeof(void *)];
	smr_domain *dom;
	uint64_t elements;   /* prefill; keys in [0, 2 * elements) */
	uint32_t update_thresh; /* an op is an update if 32 random bits fall below it */
	bool update_all;
	int nrecs;
	struct ls_rec *rec;
};

static inline bool ls_marked(void *p)
{
	return (uintptr_t)p & LS_MARK;
}

static void ls_dtor(struct smr_node *n)
{
	smr_drop_link(&smr_container_of(n, struct ls_node, node)->next);
}

/* Where a search for key ended: cur is the first node with key >= key (or NULL). */
struct ls_pos {
	void *_Atomic *prev; /* the link that names cur: the head or prev->next */
	struct ls_node *cur; /* held in slot sc */
	void *next;          /* cur's next link, unmarked, held in another slot */
};

/*
 * Michael's find: 1 if key is in the list, 0 if not, -1 on a corrupt node
 * (reported).  Unlinks and retires the marked nodes it passes.  Called inside
 * begin/end; leaves prev's node, cur and next protected.
 */
static inline __attribute__((always_inline)) int
ls_find(struct ls_state *st, smr_thread *t, uint64_t key, struct ls_pos *pos,
	struct wl_thread_ctx *ctx)
{
	void *_Atomic *prev;
	struct ls_node *cur;
	void *next;
	int sp, sc, sn, found;
try_again:
	sp = 2, sc = 0, sn = 1;
	prev = &st->head;
	cur = smr_protect(t, sc, prev);
	for (;;) {
		if (!cur) {
			next = NULL;
			found = 0;
			break;
		}
		WL_FAULT_POINT();
		if (wl_unlikely(wl_canary_bad(cur, LS_CANARY))) {
			wl_error(ctx, "list: node canary is %#x: read after reclaim", wl_canary_of(cur));
			return -1;
		}
		next = smr_protect(t, sn, &cur->next);
		uint64_t ckey = cur->key;
		/*
		 * prev must still name cur, unmarked: then cur was in the list when
		 * next was protected, so next was too (Michael's HP validation).
		 * acquire (a plain mov on x86): the check stays after the protect.
		 */
		if (wl_unlikely(atomic_load_explicit(prev, memory_order_acquire) != cur))
			goto try_again;
		if (wl_likely(!ls_marked(next))) {
			if (ckey >= key) {
				found = ckey == key;
				break;
			}
			prev = &cur->next;
			/* cur becomes prev, next becomes cur; prev's old slot is free for the next next. */
			int s = sp;
			sp = sc;
			sc = sn;
			sn = s;
		} else {
			/* cur is deleted: unlink it.  next (unmarked) is held; cur stays held until
			 * its slot is reused, after retire. */
			next = smr_unmark(next);
			if (!smr_cas(t, prev, cur, next))
				goto try_again;
			smr_retire_drop(t, &cur->node, ls_dtor);
			int s = sc;
			sc = sn;
			sn = s;
		}
		/*
		 * next is unmarked on both paths above: no mask on the pointer
		 * chase: an and between two dependent loads adds its cycle to
		 * every node of a search.
		 */
		cur = next;
	}
	pos->prev = prev;
	pos->cur = cur;
	pos->next = next;
	return found;
}

static inline int ls_search(struct ls_state *st, smr_thread *t, uint64_t key, struct wl_thread_ctx *ctx)
{
	struct ls_pos pos;
	smr_begin(t);
	int r = ls_find(st, t, key, &pos, ctx);
	smr_end(t);
	return r;
}

/* 1: inserted; 0: the key was there; -1: a corrupt node (reported). */
static inline int ls_insert(struct ls_state *st, smr_thread *t, uint64_t key, struct wl_thread_ctx *ctx)
{
	struct ls_pos pos;
	struct ls_node *n = NULL;
	int r;
	smr_begin(t);
	for (;;) {
		r = ls_find(st, t, key, &pos, ctx);
		if (r != 0) {
			if (n) {
				/* Never linked in: drop its link's count (RC), free it at once. */
				smr_store(t, &n->next, NULL);
				smr_dealloc(t, &n->node);
			}
			r = r > 0 ? 0 : -1;
			break;
		}
		if (!n) {
			n = smr_alloc(t, sizeof *n);
			wl_canary_set(n, LS_CANARY);
			n->key = (uint32_t)key;
			wl_link_init(&n->next);
		}
		/* cur is held (slot of find), so its count may be taken (RC). */
		smr_store(t, &n->next, pos.cur);
		/* The CAS publishes n's fields (release) to traversals that reach it (acquire). */
		if (smr_cas(t, pos.prev, pos.cur, n)) {
			r = 1;
			break;
		}
	}
	smr_end(t);
	return r;
}

/* 1: deleted; 0: the key was not there; -1: a corrupt node (reported). */
static inline int ls_delete(struct ls_state *st, smr_thread *t, uint64_t key, struct wl_thread_ctx *ctx)
{
	struct ls_pos pos;
	int r;
	smr_begin(t);
	for (;;) {
		r = ls_find(st, t, key, &pos, ctx);
		if (r <= 0)
			break;
		/* Logical deletion: mark cur's next.  Fails if next changed or cur was marked. */
		if (!smr_cas(t, &pos.cur->next, pos.next, (void *)((uintptr_t)pos.next | LS_MARK)))
			continue;
		/* Physical deletion; if it fails, a find unlinks (and retires) cur for us. */
		if (smr_cas(t, pos.prev, pos.cur, pos.next))
			smr_retire_drop(t, &pos.cur->node, ls_dtor);
		else if (ls_find(st, t, key, &pos, ctx) < 0)
			r = -1;
		break;
	}
	smr_end(t);
	return r;
}

static void ls_thread(void *state, struct wl_thread_ctx *ctx)
{
	struct ls_state *st = state;
	smr_thread *t = smr_register(st->dom);
	if (!t) {
		wl_error(ctx, "list: could not register with the scheme");
		wl_ready(ctx);
		wl_done(ctx);
		return;
	}
	struct ls_rec loc = { 0, 0 };
	const uint64_t range = 2 * st->elements;
	const uint32_t thresh = st->update_thresh;
	const bool all = st->update_all;
	uint64_t ops = 0;
	struct wl_rng rng;
	wl_rng_seed(&rng, (uint64_t)ctx->id, 0x6c697374);
	const long batch = smr_quiescent_interval(t);
	wl_ready(ctx);
	while (!wl_should_stop(ctx) && wl_likely(!ctx->errors)) {
		for (long i = 0; i < batch; i++) {
			uint64_t r = wl_rng_next(&rng);
			uint64_t key = wl_range32((uint32_t)(r >> 32), range);
			uint32_t lo = (uint32_t)r;
			int res;
			if (all || lo < thresh) {
				/* Bit 0 is independent of the threshold test on the whole word. */
				if (lo & 1) {
					res = ls_insert(st, t, key, ctx);
					loc.inserted += res > 0;
				} else {
					res = ls_delete(st, t, key, ctx);
					loc.deleted += res > 0;
				}
			} else {
				res = ls_search(st, t, key, ctx);
			}
			if (wl_unlikely(res < 0))
				break;
		}
		smr_quiescent(t);
		ops += (uint64_t)batch;
	}
	ctx->ops = ops;
	wl_done(ctx);
	st->rec[ctx->id] = loc;
	smr_unregister(t);
}

/* ---- params, set-up, verify, teardown ---- */

static const struct wl_param_spec ls_params[] = {
	{ "elements", WL_INT, "1000", "prefill: the even keys of [0, 2*elements); keys drawn from that range",
	  1, 1e8, NULL },
	{ "update", WL_REAL, "0.2", "fraction of operations that insert or delete (coin flip); the rest search",
	  0, 1, NULL },
	{ NULL, 0, NULL, NULL, 0, 0, NULL },
};

static void *ls_create(struct cell *c, char *err, size_t errlen)
{
	struct ls_state *st = smr_aligned_calloc(1, sizeof *st);
	st->elements = (uint64_t)cell_param_long(c, "elements");
	double u = cell_param_real(c, "update");
	st->update_all = u >= 1.0;
	st->update_thresh = st->update_all ? UINT32_MAX : (uint32_t)(u * 4294967296.0);
	st->nrecs = c->threads + 1;
	st->rec = smr_aligned_calloc((size_t)st->nrecs, sizeof *st->rec);
	c->smr.hazard_slots = LS_HAZARD_SLOTS;
	st->dom = smr_domain_create(&c->smr, err, errlen);
	if (!st->dom) {
		free(st->rec);
		free(st);
		return NULL;
	}
	/* Ascending, appended at the end: the nodes lie in memory in list order. */
	smr_thread *t = smr_register(st->dom);
	smr_begin(t);
	void *_Atomic *link = &st->head;
	for (uint64_t k = 0; k < st->elements; k++) {
		struct ls_node *n = smr_alloc(t, sizeof *n);
		wl_canary_set(n, LS_CANARY);
		n->key = (uint32_t)(2 * k);
		wl_link_init(&n->next);
		smr_store(t, link, n);
		link = &n->next;
	}
	smr_end(t);
	smr_quiescent(t);
	smr_unregister(t);
	return st;
}

static bool ls_verify(void *state, char *msg, size_t msglen)
{
	struct ls_state *st = state;
	uint64_t ins = 0, del = 0;
	for (int i = 0; i < st->nrecs; i++) {
		ins += st->rec[i].inserted;
		del += st->rec[i].deleted;
	}
	uint64_t want = st->elements + ins - del, size = 0, range = 2 * st->elements;
	void *link = atomic_load_explicit(&st->head, memory_order_acquire);
	uint64_t prev_key = 0;
	while (link) {
		if (ls_marked(link)) {
			snprintf(msg, msglen, "list: a marked (deleted) node is reachable (after node %llu)",
				 (unsigned long long)size);
			return false;
		}
		struct ls_node *n = link;
		if (wl_canary_bad(n, LS_CANARY)) {
			snprintf(msg, msglen, "list: node %llu has a bad canary", (unsigned long long)size);
			return false;
		}
		if (n->key >= range || (size && n->key <= prev_key)) {
			snprintf(msg, msglen, "list: key %llu at node %llu is out of order or range",
				 (unsigned long long)n->key, (unsigned long long)size);
			return false;
		}
		prev_key = n->key;
		if (++size > range) {
			snprintf(msg, msglen, "list: more nodes than keys (a cycle?)");
			return false;
		}
		link = atomic_load_explicit(&n->next, memory_order_acquire);
	}
	if (size != want) {
		snprintf(msg, msglen, "list: %llu nodes, expected %llu (prefill %llu + %llu inserted - %llu deleted)",
			 (unsigned long long)size, (unsigned long long)want,
			 (unsigned long long)st->elements, (unsigned long long)ins, (unsigned long long)del);
		return false;
	}
	return true;
}

static void *ls_domain(void *state)
{
	return ((struct ls_state *)state)->dom;
}

static void ls_destroy(void *state, struct smr_stats *out)
{
	struct ls_state *st = state;
	/* Take each node out of its link, then retire it: every node still reachable
	 * (marked ones too, if a run was cut short) is retired once. */
	smr_thread *t = smr_register(st->dom);
	smr_begin(t);
	struct ls_node *n = smr_unmark(smr_exchange(t, &st->head, NULL));
	while (n) {
		struct ls_node *next = smr_unmark(smr_exchange(t, &n->next, NULL));
		smr_retire_drop(t, &n->node, ls_dtor);
		n = next;
	}
	smr_end(t);
	smr_unregister(t);
	smr_domain_destroy(st->dom, out);
	free(st->rec);
	free(st);
}

#ifdef SMRB_FAULTS
#include "tests/list_selftest.c"
#define LS_SELFTEST ls_selftest
#else
#define LS_SELFTEST NULL
#endif

static const struct workload_desc wl_list = {
	.name = "list",
	.object_bytes = sizeof(struct ls_node),
	.hazard_slots = LS_HAZARD_SLOTS,
	.summary = "Michael's lock-free ordered list (Hart et al.): searches, inserts and deletes",
	.params = ls_params,
	.create = ls_create,
	.thread = ls_thread,
	.verify = ls_verify,
	.domain = ls_domain,
	.destroy = ls_destroy,
	.selftest = LS_SELFTEST,
};

/* SPDX-License-Identifier: MIT */
/*
 * bwtree.c - a Bw-tree (Levandoski, Lomet, Sengupta, ICDE 2013; OpenBw-Tree,
 * Wang et al., SIGMOD 2018) of unique uint64 keys and values, for inserts
 * mixed with lookups.  Written once against schemes/smr.h; included by
 * instances/instance.h into each scheme's translation unit, so every static
 * name here starts with bw_.
 *
 * Structure (the paper's, trimmed to what inserts need, as OpenBw-Tree's
 * insert path and flode/BwTree keep it):
 *  - A mapping table maps a page id to the head of the page's chain: one big
 *    anonymous MAP_NORESERVE mapping, backed lazily by the kernel.  Every
 *    tree link (parent -> child, left -> right sibling) is a page id; the only
 *    structural writes are CASes on one slot (and on the root id).
 *  - A chain is a prepend-only list of immutable delta records ending in an
 *    immutable base: leaf base = sorted keys, then their values; inner base =
 *    sorted separators (the first is the page's low key), then child page
 *    ids.  One allocation per base, with room beside it for the deltas
 *    that will be posted on it (prealloc, OpenBw-Tree's delta
 *    pre-allocation; see bw_delta_alloc).  Bases carry low key, high key and
 *    right-sibling id.
 *  - Deltas: leaf insert (key, value); split (separator, new sibling id);
 *    index entry (keys in [lo, hi) go to child), posted on the parent.
 *  - Consolidation once a chain holds `consolidate` deltas: replay into a new
 *    base, CAS it in, retire the whole old chain with one smr_retire_chain().
 *  - Split: when a consolidation yields more than `node_size` items, the
 *    upper half goes to a new sibling page (installed in its slot first), and
 *    the page's new state is split delta -> lower-half base, CASed in place of
 *    the old chain in the same CAS (so only a freshly consolidated base is
 *    ever split, as OpenBw-Tree does).  The parent learns of the sibling from
 *    an index-entry delta that any writer passing through the page from its
 *    parent posts (help-along); the root splits by CAS on the root id.
 *  - A page id handed out for a split whose CAS failed goes back to the free
 *    list only through a retired id record whose destructor pushes it (Neely's
 *    rsdb pattern): reused only after every reader moved on.
 *
 * Reclamation per scheme: begin/end around each operation, quiescent after
 * each batch.  A traversal protects the chain head of the page it is on and
 * of its parent (help-along posts on the parent): two hazard slots, used
 * alternately as the walk descends.  Nodes below a protected head are read
 * without protection of their own: under HP that is safe because
 * smr_retire_chain checks every node of a retired chain against the hazards
 * (a head protected once may sit deep inside a longer chain when that chain
 * is retired); under RC because each delta holds a count on the node below
 * (its link is set with smr_store), the mapping slot holds one on the head,
 * and the protect of a slot takes its own count.  Taking that count from a
 * slot whose head is being swapped out is safe because rc's objects live in
 * a type-stable pool: a stale increment lands on a node of the same size
 * class and is undone after the re-validation fails (rc.h).  rc frees an
 * object only once it is retired AND uncounted, so under rc every record of
 * an unlinked chain is retired (bw_retire_chain below); the other schemes
 * get the chain as one unit through one smr_retire_chain() call.
 *
 * Checks: every node carries a canary (not in its first word, which the
 * poison quarantine keeps) checked on every read; lookups of keys a thread
 * inserted must find them; verify proves the tree sorted, complete and its
 * separators consistent.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "harness/workload.h"

/* The tree, in the order each part needs the one before. */
#include "workloads/bwtree/bwtree_records.c"
#include "workloads/bwtree/bwtree_tree.c"
#include "workloads/bwtree/bwtree_check.c"

/* ---- the workload ---- */

enum bw_order { BW_RANDOM, BW_ASCENDING };

struct bw_slice {
	_Atomic uint64_t done SMR_ALIGNED; /* keys of this slice inserted (verify, lookups) */
	uint64_t begin, end;               /* indices [begin, end) of the key sequence */
};

struct bw_state {
	struct bw_tree tr;
	smr_domain *dom;
	uint64_t keys;
	enum bw_order order;
	double lookup;
	int threads;
	struct bw_perm perm;
	struct bw_slice *slices;
	_Atomic int finished SMR_ALIGNED;
};

/* The i-th key of the sequence: a permutation of 1..keys, or 1..keys in order. */
static inline uint64_t bw_key_at(const struct bw_state *st, uint64_t i)
{
	return (st->order == BW_RANDOM ? bw_perm_fwd(&st->perm, i) : i) + 1;
}

static inline uint64_t bw_index_of(const struct bw_state *st, uint64_t key)
{
	return st->order == BW_RANDOM ? bw_perm_inv(&st->perm, key - 1) : key - 1;
}

static inline uint64_t bw_rand(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static void bw_thread(void *state, struct wl_thread_ctx *ctx)
{
	struct bw_state *st = state;
	smr_thread *t = smr_register(st->dom);
	if (!t) {
		wl_error(ctx, "bwtree: could not register with the scheme");
		wl_ready(ctx);
		wl_done(ctx);
		return;
	}
	struct bw_tls x = { .tr = &st->tr, .t = t, .ctx = ctx };
	struct bw_slice *sl = ctx->role == WL_WORKER ? &st->slices[ctx->id] : NULL;
	const long batch = smr_quiescent_interval(t);
	/* Lookup fraction as a threshold on 32 random bits. */
	const uint64_t lookup_thr = (uint64_t)(st->lookup * 4294967296.0);
	uint64_t rng = 0x9E3779B97F4A7C15ull * (uint64_t)(ctx->id + 1) | 1;
	uint64_t ops = 0;
	wl_ready(ctx);
	if (sl) {
		uint64_t next = sl->begin;
		while (next < sl->end && !wl_should_stop(ctx) && !ctx->errors) {
			long i = 0;
			for (; i < batch && next < sl->end; i++) {
				smr_begin(t);
				if (lookup_thr && next > sl->begin &&
				    (bw_rand(&rng) & 0xffffffffu) < lookup_thr) {
					uint64_t k = bw_key_at(st, sl->begin + bw_rand(&rng) % (next - sl->begin));
					uint64_t v = 0;
					bool err;
					bool found = bw_lookup(&x, k, &v, &err);
					if (!err && (!found || v != bw_value_of(k)))
						wl_error(ctx, "bwtree: inserted key %llu %s", (unsigned long long)k,
							 found ? "has a wrong value" : "not found");
				} else {
					uint64_t k = bw_key_at(st, next);
					enum bw_ins_result r = bw_insert(&x, k, bw_value_of(k));
					if (r == BW_INS_EXISTS)
						wl_error(ctx, "bwtree: key %llu already present before its insert",
							 (unsigned long long)k);
					next++;
				}
				smr_end(t);
			}
			ops += (uint64_t)i;
			/* relaxed: read by other threads' lookups only for their own slices; verify
			 * reads it after the join. */
			atomic_store_explicit(&sl->done, next - sl->begin, memory_order_relaxed);
			smr_quiescent(t);
		}
		if (next == sl->end &&
		    atomic_fetch_add_explicit(&st->finished, 1, memory_order_acq_rel) + 1 == st->threads)
			wl_finished_early(ctx);
	}
	ctx->ops = ops;
	wl_done(ctx);
	smr_unregister(t);
	free(x.buf);
	free(x.ins);
}

static const struct wl_param_spec bw_params[] = {
	{ "keys", WL_INT, "1000000", "keys inserted in all (the run ends when they are in)", 1, 4e9, NULL },
	{ "order", WL_ENUM, "random", "insert order: a random permutation, or per-thread ascending ranges",
	  0, 0, "random|ascending" },
	{ "lookup", WL_REAL, "0", "fraction of operations that look up an already inserted key", 0, 0.99, NULL },
	{ "consolidate", WL_INT, "8", "deltas on a chain that trigger its consolidation", 1, 10000, NULL },
	{ "node_size", WL_INT, "128", "items above which a consolidated page splits", 4, 1 << 20, NULL },
	{ "prealloc", WL_INT, "1",
	  "1: deltas are carved from a block beside their base (OpenBw-Tree); 0: each is malloc'd. "
	  "rc always mallocs each (it counts every record)", 0, 1, NULL },
	{ NULL, 0, NULL, NULL, 0, 0, NULL },
};

static void *bw_create(struct cell *c, char *err, size_t errlen)
{
	struct bw_state *st = smr_aligned_calloc(1, sizeof *st);
	st->keys = (uint64_t)cell_param_long(c, "keys");
	st->order = !strcmp(cell_param(c, "order"), "ascending") ? BW_ASCENDING : BW_RANDOM;
	st->lookup = cell_param_real(c, "lookup");
	st->threads = c->threads;
	bw_perm_init(&st->perm, st->keys, 0x5eed0001ull);
	st->slices = smr_aligned_calloc((size_t)c->threads, sizeof *st->slices);
	for (int i = 0; i < c->threads; i++) {
		st->slices[i].begin = st->keys * (uint64_t)i / (uint64_t)c->threads;
		st->slices[i].end = st->keys * (uint64_t)(i + 1) / (uint64_t)c->threads;
	}
	c->smr.hazard_slots = BW_HAZARD_SLOTS;
	st->dom = smr_domain_create(&c->smr, err, errlen);
	if (!st->dom)
		goto fail;
	smr_thread *t = smr_register(st->dom);
	bool ok = bw_tree_init(&st->tr, t, st->keys, (uint32_t)cell_param_long(c, "consolidate"),
			       (uint32_t)cell_param_long(c, "node_size"), cell_param_long(c, "prealloc") != 0,
			       err, errlen);
	smr_unregister(t);
	if (ok)
		return st;
	struct smr_stats s;
	smr_domain_destroy(st->dom, &s);
fail:
	free(st->slices);
	free(st);
	return NULL;
}

/* verify's check of one leaf item: an inserted key holding its value. */
static bool bw_verify_item(void *arg, uint64_t k, uint64_t v)
{
	const struct bw_state *st = arg;
	if (k == 0 || k > st->keys || v != bw_value_of(k))
		return false;
	uint64_t i = bw_index_of(st, k);
	/* The slice holding index i (slices are contiguous and in order). */
	int lo = 0, hi = st->threads - 1;
	while (lo < hi) {
		int mid = (lo + hi + 1) / 2;
		if (st->slices[mid].begin <= i)
			lo = mid;
		else
			hi = mid - 1;
	}
	const struct bw_slice *sl = &st->slices[lo];
	return i >= sl->begin && i - sl->begin < atomic_load_explicit(&sl->done, memory_order_relaxed);
}

static bool bw_verify(void *state, char *msg, size_t msglen)
{
	struct bw_state *st = state;
	struct bw_tls x = { .tr = &st->tr };
	uint64_t inserted = 0;
	for (int i = 0; i < st->threads; i++)
		inserted += atomic_load_explicit(&st->slices[i].done, memory_order_relaxed);
	/* Leaf level: sorted, in range, every key one that was inserted with its
	 * value; with the count equal, every inserted key is there. */
	int64_t n = bw_check_structure(&x, msg, msglen, bw_verify_item, st);
	bool ok = n >= 0;
	if (ok && (uint64_t)n != inserted) {
		snprintf(msg, msglen, "bwtree: %lld keys on the leaf level, %llu inserted", (long long)n,
			 (unsigned long long)inserted);
		ok = false;
	}
	/* And through the index: look inserted keys up from the root (all of
	 * them up to 2M, else an even sample of 2M). */
	if (ok && inserted) {
		smr_thread *t = smr_register(st->dom);
		x.t = t;
		uint64_t step = inserted > 2000000 ? inserted / 2000000 : 1, seen = 0;
		for (int i = 0; ok && i < st->threads; i++) {
			const struct bw_slice *sl = &st->slices[i];
			uint64_t done = atomic_load_explicit(&sl->done, memory_order_relaxed);
			for (uint64_t j = 0; j < done; j++, seen++) {
				if (seen % step)
					continue;
				uint64_t k = bw_key_at(st, sl->begin + j), v = 0;
				bool err;
				smr_begin(t);
				bool found = bw_lookup(&x, k, &v, &err);
				smr_end(t);
				if (!found || v != bw_value_of(k)) {
					snprintf(msg, msglen, "bwtree: lookup of inserted key %llu %s",
						 (unsigned long long)k, found ? "gave a wrong value" : "failed");
					ok = false;
					break;
				}
			}
		}
		smr_unregister(t);
	}
	free(x.buf);
	free(x.ins);
	return ok;
}

static void *bw_domain(void *state)
{
	return ((struct bw_state *)state)->dom;
}

static void bw_destroy(void *state, struct smr_stats *out)
{
	struct bw_state *st = state;
	smr_thread *t = smr_register(st->dom);
	uint64_t mapped = bw_tree_retire_all(&st->tr, t);
	smr_unregister(t);
	smr_domain_destroy(st->dom, out);
	out->payloads_live = bw_ids_unaccounted(&st->tr, mapped);
	bw_tree_free(&st->tr);
	free(st->slices);
	free(st);
}

#ifdef SMRB_FAULTS
#include "tests/bwtree_selftest.c"
#define BW_SELFTEST bw_selftest
#else
#define BW_SELFTEST NULL
#endif

static const struct workload_desc wl_bwtree = {
	.name = "bwtree",
	.object_bytes = sizeof(struct bw_insert),
	.hazard_slots = BW_HAZARD_SLOTS,
	.summary = "Bw-tree inserts (ICDE'13 / OpenBw-Tree): mapping table, delta chains, consolidation, splits",
	.params = bw_params,
	.create = bw_create,
	.thread = bw_thread,
	.verify = bw_verify,
	.domain = bw_domain,
	.destroy = bw_destroy,
	.selftest = BW_SELFTEST,
};

/* SPDX-License-Identifier: MIT */
/*
 * bwtree_check.c - the Bw-tree's structure check, single-threaded after
 * a run (verify, and the selftests).  Part of bwtree.c.
 */
/* ---- structure check (single-threaded, after the run) ---- */

/*
 * Walk every level left to right through the right-sibling ids, from the root
 * down.  Checks: each level covers [0, +inf) with contiguous pages; keys
 * strictly ascending within each page's [low, high); an inner page's first
 * separator is its low key; every separator s -> child c of a level names a
 * page of the level below that starts exactly at s (so separators bound their
 * children: the child ends where the next named page starts, or earlier when
 * a split is not posted yet).  leaf_item sees every leaf item in key order.
 * Returns the number of leaf items, or -1 with msg.
 */
struct bw_check {
	struct bw_tls *x;
	char *msg;
	size_t msglen;
	bool (*leaf_item)(void *arg, uint64_t k, uint64_t v);
	void *arg;
	int level;                        /* the level walked; -1 until the root is read */
	struct bw_kv *named;              /* the level above's entries: { child id, separator } */
	size_t nnamed, ci;                /* ci: the next of them a page start must meet */
	struct bw_kv *below;              /* this level's entries, for the next one */
	size_t nbelow, cap_below;
	uint64_t pages, max_pages;        /* pages seen, and how many ids exist (a loop) */
	uint64_t prev_high, prev_key;     /* where the last page ended, its last key */
	bool any_key;
	uint64_t next_left;               /* the leftmost page of the level below */
	int64_t total;                    /* leaf items */
};

/* The page's level, its range after the previous page's, and the separator naming it. */
static bool bw_check_page_bounds(struct bw_check *ck, uint64_t pid, const struct bw_view *v)
{
	if (ck->level < 0)
		ck->level = (int)v->level;
	if ((int)v->level != ck->level) {
		snprintf(ck->msg, ck->msglen, "bwtree: page %llu at level %u, expected %d", (unsigned long long)pid,
			 v->level, ck->level);
		return false;
	}
	if (v->low != ck->prev_high || v->high <= v->low) {
		snprintf(ck->msg, ck->msglen, "bwtree: page %llu covers [%llu, %llu) after a page ending at %llu",
			 (unsigned long long)pid, (unsigned long long)v->low, (unsigned long long)v->high,
			 (unsigned long long)ck->prev_high);
		return false;
	}
	if (ck->ci < ck->nnamed && ck->named[ck->ci].v == v->low) {
		if (ck->named[ck->ci].k != pid) {
			snprintf(ck->msg, ck->msglen, "bwtree: separator %llu names page %llu, but page %llu starts there",
				 (unsigned long long)ck->named[ck->ci].v, (unsigned long long)ck->named[ck->ci].k,
				 (unsigned long long)pid);
			return false;
		}
		ck->ci++;
	}
	if (ck->ci < ck->nnamed && ck->named[ck->ci].v < v->high) {
		snprintf(ck->msg, ck->msglen, "bwtree: separator %llu falls inside page %llu [%llu, %llu)",
			 (unsigned long long)ck->named[ck->ci].v, (unsigned long long)pid, (unsigned long long)v->low,
			 (unsigned long long)v->high);
		return false;
	}
	return true;
}

/* The page's keys ascending within its range; a leaf's items to leaf_item, an
 * inner page's separators (its first one its low key) kept for the level below. */
static bool bw_check_page_items(struct bw_check *ck, uint64_t pid, const struct bw_view *v)
{
	const struct bw_kv *buf = ck->x->buf;
	for (uint64_t i = 0; i < v->n; i++) {
		uint64_t k = buf[i].k;
		if (k < v->low || k >= v->high || (ck->any_key && k <= ck->prev_key)) {
			snprintf(ck->msg, ck->msglen, "bwtree: page %llu [%llu, %llu): key %llu out of order or range",
				 (unsigned long long)pid, (unsigned long long)v->low, (unsigned long long)v->high,
				 (unsigned long long)k);
			return false;
		}
		ck->prev_key = k;
		ck->any_key = true;
		if (ck->level == 0) {
			if (ck->leaf_item && !ck->leaf_item(ck->arg, k, buf[i].v)) {
				snprintf(ck->msg, ck->msglen, "bwtree: leaf key %llu holds value %#llx, or was never inserted",
					 (unsigned long long)k, (unsigned long long)buf[i].v);
				return false;
			}
			ck->total++;
			continue;
		}
		if (i == 0 && k != v->low) {
			snprintf(ck->msg, ck->msglen, "bwtree: inner page %llu: first separator %llu is not its low key %llu",
				 (unsigned long long)pid, (unsigned long long)k, (unsigned long long)v->low);
			return false;
		}
		bw_grow(&ck->below, &ck->cap_below, ck->nbelow + 1);
		ck->below[ck->nbelow++] = (struct bw_kv){ buf[i].v, k };
	}
	if (ck->level > 0 && v->n == 0) {
		snprintf(ck->msg, ck->msglen, "bwtree: inner page %llu is empty", (unsigned long long)pid);
		return false;
	}
	if (ck->level > 0 && !ck->next_left)
		ck->next_left = buf[0].v;
	return true;
}

/* One level, from its leftmost page through the right siblings: it covers
 * [0, +inf), and every separator of the level above named one of its pages. */
static bool bw_check_level(struct bw_check *ck, uint64_t left)
{
	struct bw_tree *tr = ck->x->tr;
	ck->prev_high = ck->prev_key = ck->next_left = 0;
	ck->any_key = false;
	ck->ci = ck->nbelow = 0;
	for (uint64_t pid = left; pid;) {
		struct bw_node *h = pid < tr->map_cap ? atomic_load_explicit(&tr->map[pid], memory_order_acquire) : NULL;
		struct bw_view v;
		if (!h || ++ck->pages > ck->max_pages) {
			snprintf(ck->msg, ck->msglen, "bwtree: page %llu has no chain, or the sibling links loop",
				 (unsigned long long)pid);
			return false;
		}
		if (!bw_collect(ck->x, h, &v)) {
			snprintf(ck->msg, ck->msglen, "bwtree: page %llu: broken chain", (unsigned long long)pid);
			return false;
		}
		if (!bw_check_page_bounds(ck, pid, &v) || !bw_check_page_items(ck, pid, &v))
			return false;
		ck->prev_high = v.high;
		pid = v.right;
	}
	if (ck->prev_high != BW_INF) {
		snprintf(ck->msg, ck->msglen, "bwtree: level %d ends at %llu", ck->level,
			 (unsigned long long)ck->prev_high);
		return false;
	}
	if (ck->ci != ck->nnamed) {
		snprintf(ck->msg, ck->msglen, "bwtree: separator %llu -> page %llu matches no page start",
			 (unsigned long long)ck->named[ck->ci].v, (unsigned long long)ck->named[ck->ci].k);
		return false;
	}
	return true;
}

static int64_t bw_check_structure(struct bw_tls *x, char *msg, size_t msglen,
				  bool (*leaf_item)(void *arg, uint64_t k, uint64_t v), void *arg)
{
	struct bw_check ck = {
		.x = x, .msg = msg, .msglen = msglen, .leaf_item = leaf_item, .arg = arg, .level = -1,
		.max_pages = atomic_load_explicit(&x->tr->next_id, memory_order_relaxed),
	};
	uint64_t left = atomic_load_explicit(&x->tr->root, memory_order_acquire);
	bool ok;
	while ((ok = bw_check_level(&ck, left)) && ck.level > 0) {
		/* Next level down: its pages must start at this level's separators. */
		free(ck.named);
		ck.named = ck.below;
		ck.nnamed = ck.nbelow;
		ck.below = NULL;
		ck.cap_below = 0;
		left = ck.next_left;
		ck.level--;
	}
	free(ck.named);
	free(ck.below);
	return ok ? ck.total : -1;
}

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
static int64_t bw_check_structure(struct bw_tls *x, char *msg, size_t msglen,
				  bool (*leaf_item)(void *arg, uint64_t k, uint64_t v), void *arg)
{
	struct bw_tree *tr = x->tr;
	uint64_t left = atomic_load_explicit(&tr->root, memory_order_acquire);
	int64_t total = 0;
	int level = -1;                   /* set from the root */
	struct bw_kv *named = NULL;       /* the level above's entries: { child id, separator } */
	size_t nnamed = 0;
	struct bw_kv *below = NULL;       /* this level's entries, for the next one */
	size_t nbelow = 0, cap_below = 0;
	uint64_t pages = 0, max_pages = atomic_load_explicit(&tr->next_id, memory_order_relaxed);
	for (;;) {
		uint64_t pid = left, prev_high = 0, prev_key = 0, ci = 0, next_left = 0;
		bool any_key = false;
		nbelow = 0;
		while (pid) {
			struct bw_node *h = pid < tr->map_cap ? atomic_load_explicit(&tr->map[pid], memory_order_acquire) : NULL;
			struct bw_view v;
			if (!h || ++pages > max_pages) {
				snprintf(msg, msglen, "bwtree: page %llu has no chain, or the sibling links loop",
					 (unsigned long long)pid);
				goto fail;
			}
			if (!bw_collect(x, h, &v)) {
				snprintf(msg, msglen, "bwtree: page %llu: broken chain", (unsigned long long)pid);
				goto fail;
			}
			if (level < 0)
				level = v.level;
			if ((int)v.level != level) {
				snprintf(msg, msglen, "bwtree: page %llu at level %u, expected %d",
					 (unsigned long long)pid, v.level, level);
				goto fail;
			}
			if (v.low != prev_high || v.high <= v.low) {
				snprintf(msg, msglen, "bwtree: page %llu covers [%llu, %llu) after a page ending at %llu",
					 (unsigned long long)pid, (unsigned long long)v.low,
					 (unsigned long long)v.high, (unsigned long long)prev_high);
				goto fail;
			}
			if (ci < nnamed && named[ci].v == v.low) {
				if (named[ci].k != pid) {
					snprintf(msg, msglen, "bwtree: separator %llu names page %llu, but page %llu starts there",
						 (unsigned long long)named[ci].v, (unsigned long long)named[ci].k,
						 (unsigned long long)pid);
					goto fail;
				}
				ci++;
			}
			if (ci < nnamed && named[ci].v < v.high) {
				snprintf(msg, msglen, "bwtree: separator %llu falls inside page %llu [%llu, %llu)",
					 (unsigned long long)named[ci].v, (unsigned long long)pid,
					 (unsigned long long)v.low, (unsigned long long)v.high);
				goto fail;
			}
			for (uint64_t i = 0; i < v.n; i++) {
				uint64_t k = x->buf[i].k;
				if (k < v.low || k >= v.high || (any_key && k <= prev_key)) {
					snprintf(msg, msglen, "bwtree: page %llu [%llu, %llu): key %llu out of order or range",
						 (unsigned long long)pid, (unsigned long long)v.low,
						 (unsigned long long)v.high, (unsigned long long)k);
					goto fail;
				}
				prev_key = k;
				any_key = true;
				if (level == 0) {
					if (leaf_item && !leaf_item(arg, k, x->buf[i].v)) {
						snprintf(msg, msglen, "bwtree: leaf key %llu holds value %#llx, or was never inserted",
							 (unsigned long long)k, (unsigned long long)x->buf[i].v);
						goto fail;
					}
					total++;
					continue;
				}
				if (i == 0 && k != v.low) {
					snprintf(msg, msglen, "bwtree: inner page %llu: first separator %llu is not its low key %llu",
						 (unsigned long long)pid, (unsigned long long)k, (unsigned long long)v.low);
					goto fail;
				}
				bw_grow(&below, &cap_below, nbelow + 1);
				below[nbelow++] = (struct bw_kv){ x->buf[i].v, k };
			}
			if (level > 0 && v.n == 0) {
				snprintf(msg, msglen, "bwtree: inner page %llu is empty", (unsigned long long)pid);
				goto fail;
			}
			if (level > 0 && !next_left)
				next_left = x->buf[0].v;
			prev_high = v.high;
			pid = v.right;
		}
		if (prev_high != BW_INF) {
			snprintf(msg, msglen, "bwtree: level %d ends at %llu", level, (unsigned long long)prev_high);
			goto fail;
		}
		if (ci != nnamed) {
			snprintf(msg, msglen, "bwtree: separator %llu -> page %llu matches no page start",
				 (unsigned long long)named[ci].v, (unsigned long long)named[ci].k);
			goto fail;
		}
		if (level == 0)
			break;
		/* Next level down: its pages must start at this level's separators. */
		free(named);
		named = below;
		nnamed = nbelow;
		below = NULL;
		cap_below = 0;
		left = next_left;
		level--;
	}
	free(named);
	free(below);
	return total;
fail:
	free(named);
	free(below);
	return -1;
}

/* SPDX-License-Identifier: MIT */
/*
 * bwtree_tree.c - the Bw-tree's operations: search in a base, walk a
 * chain, consolidate, split, descend, insert, lookup, and the tree's set-up
 * and teardown.  Part of bwtree.c (included after bwtree_records.c).
 */
/* Largest i with keys[i] <= key, or -1 (a binary search). */
static inline long bw_search(const uint64_t *keys, uint64_t n, uint64_t key)
{
	long lo = 0, hi = (long)n - 1, ans = -1;
	while (lo <= hi) {
		long mid = (lo + hi) >> 1;
		if (keys[mid] <= key) {
			ans = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return ans;
}

/*
 * Largest i with b->keys[i] <= key, or -1.  The run: how many fences are
 * <= key (they are sorted).  The answer lies in that run: its first key is a
 * fence <= key (or it is run 0), and the next run's first key is > key.
 */
static inline long bw_base_search(const struct bw_base *b, uint64_t key)
{
	unsigned r = 0;
	for (unsigned j = 0; j < BW_RUNS - 1; j++)
		r += b->fence[j] <= key;
	uint64_t first = bw_run_start(b->count, r);
	return (long)first + bw_search(b->keys + first, bw_run_start(b->count, r + 1) - first, key);
}

/* Result of walking one page's chain for a key. */
enum bw_walk_kind { BW_W_ERR, BW_W_RIGHT, BW_W_CHILD, BW_W_FOUND, BW_W_ABSENT };

struct bw_walk {
	enum bw_walk_kind kind;
	uint64_t id;                  /* RIGHT: sibling; CHILD: child page */
	uint64_t bound;               /* CHILD: the child's high bound as this page sees it */
	uint64_t value;               /* FOUND */
	bool has_split;               /* the walk passed a split delta */
	uint64_t split_sep, split_sib;
};

/* Fetch ahead what a walk of h's chain will read. */
static inline void bw_walk_prefetch(const struct bw_node *h)
{
	/*
	 * The walk ends in the base: fetch its header and fences while the
	 * deltas above it are still being read (each is a miss of its own).
	 */
	if (h->base != (const void *)h && h->base) {
		const char *b = (const char *)h->base;
		for (int l = 0; l < 4; l++)
			__builtin_prefetch(b + 64 * l);
	}
	/* A carved head: the records below it in its block follow it in memory
	 * (bw_delta_alloc).  Fetch their lines together, not one miss at a time.
	 * Past the block's end (a chain with records of its own) is harmless. */
	if (h->carved) {
		size_t len = (size_t)(h->depth < 16 ? h->depth : 16) * BW_SLOT;
		for (size_t off = 64; off < len; off += 64)
			__builtin_prefetch((const char *)h + off);
	}
}

/* The walk reached the base, every delta above it passed: the base decides;
 * hi is the child's high bound as the deltas above narrowed it. */
static inline void bw_walk_base(struct bw_tls *x, struct bw_base *b, uint64_t key, uint64_t hi, struct bw_walk *w)
{
	if (key >= b->high) {
		/* The page split and was consolidated since our route was read. */
		w->kind = BW_W_RIGHT;
		w->id = b->right;
		return;
	}
	long i = bw_base_search(b, key);
	if (b->h.type == BW_LEAF_BASE) {
		if (i >= 0 && b->keys[i] == key) {
			w->kind = BW_W_FOUND;
			w->value = bw_bval(b, (uint64_t)i);
		} else {
			w->kind = BW_W_ABSENT;
		}
		return;
	}
	if (i < 0) {
		bw_fail(x, "bwtree: key %llu below inner page low key %llu", (unsigned long long)key,
			(unsigned long long)b->low);
		w->kind = BW_W_ERR;
		return;
	}
	uint64_t nb = (uint64_t)i + 1 < b->count ? b->keys[i + 1] : b->high;
	w->kind = BW_W_CHILD;
	w->id = bw_bval(b, (uint64_t)i);
	w->bound = nb < hi ? nb : hi;
}

/*
 * Walk the chain from h (protected by the caller) for key.  The first record
 * that decides wins: deltas are newer than what lies below them.
 */
static inline void bw_walk(struct bw_tls *x, struct bw_node *h, uint64_t key, struct bw_walk *w)
{
	uint64_t hi = BW_INF;
	w->has_split = false;
	bw_walk_prefetch(h);
	for (struct bw_node *n = h; n; n = bw_next(n)) {
		if (__builtin_expect(wl_canary_bad(n, BW_CANARY), 0)) {
			bw_fail(x, "bwtree: record canary is %#llx: read after reclaim",
				(unsigned long long)wl_canary_of(n));
			w->kind = BW_W_ERR;
			return;
		}
		switch (n->type) {
		case BW_INSERT: {
			struct bw_insert *d = (struct bw_insert *)n;
			if (d->key == key) {
				w->kind = BW_W_FOUND;
				w->value = d->value;
				return;
			}
			break;
		}
		case BW_SPLIT: {
			struct bw_split *s = (struct bw_split *)n;
			w->has_split = true;
			w->split_sep = s->sep;
			w->split_sib = s->sib;
			if (key >= s->sep) {
				w->kind = BW_W_RIGHT;
				w->id = s->sib;
				return;
			}
			if (s->sep < hi)
				hi = s->sep;
			break;
		}
		case BW_INDEX: {
			struct bw_index *d = (struct bw_index *)n;
			if (d->lo <= key && key < d->hi) {
				w->kind = BW_W_CHILD;
				w->id = d->child;
				w->bound = d->hi < hi ? d->hi : hi;
				return;
			}
			if (d->lo > key && d->lo < hi)
				hi = d->lo;
			break;
		}
		case BW_LEAF_BASE:
		case BW_INNER_BASE:
			bw_walk_base(x, (struct bw_base *)n, key, hi, w);
			return;
		default:
			bw_fail(x, "bwtree: record of unknown type %u", n->type);
			w->kind = BW_W_ERR;
			return;
		}
	}
	bw_fail(x, "bwtree: chain without a base");
	w->kind = BW_W_ERR;
}

/* A page's logical contents: what a consolidation writes into its new base. */
struct bw_view {
	enum bw_type base_type;
	unsigned level;
	uint64_t low, high, right;
	uint64_t n;                   /* items, in x->buf, sorted */
	bool has_split;
	uint64_t split_sep;
};

/*
 * Replay the chain from h into x->buf: base items and delta entries below the
 * page's high key, sorted.  Returns false on a broken chain (canary).
 */
static bool bw_collect(struct bw_tls *x, struct bw_node *h, struct bw_view *v)
{
	size_t nd = 0;
	struct bw_node *n = h;
	v->has_split = false;
	v->level = h->level;
	for (;; n = bw_next(n)) {
		if (!n || wl_canary_bad(n, BW_CANARY)) {
			bw_fail(x, "bwtree: broken chain while consolidating (canary %#llx)",
				n ? (unsigned long long)wl_canary_of(n) : 0ull);
			return false;
		}
		if (n->type == BW_LEAF_BASE || n->type == BW_INNER_BASE)
			break;
		bw_grow(&x->ins, &x->ins_cap, nd + 1);
		if (n->type == BW_INSERT) {
			struct bw_insert *d = (struct bw_insert *)n;
			x->ins[nd++] = (struct bw_kv){ d->key, d->value };
		} else if (n->type == BW_INDEX) {
			struct bw_index *d = (struct bw_index *)n;
			x->ins[nd++] = (struct bw_kv){ d->lo, d->child };
		} else if (n->type == BW_SPLIT) {
			struct bw_split *s = (struct bw_split *)n;
			/* The topmost split is the newest: it bounds the page. */
			if (!v->has_split) {
				v->has_split = true;
				v->split_sep = s->sep;
				v->right = s->sib;
			}
		} else {
			bw_fail(x, "bwtree: record of unknown type %u in a chain", n->type);
			return false;
		}
	}
	struct bw_base *b = (struct bw_base *)n;
	for (unsigned r = 1; r < BW_RUNS; r++) {
		if (b->fence[r - 1] != bw_fence_of(b->keys, b->count, r)) {
			bw_fail(x, "bwtree: base fence %u is %llu, its run starts with %llu", r - 1,
				(unsigned long long)b->fence[r - 1],
				(unsigned long long)bw_fence_of(b->keys, b->count, r));
			return false;
		}
	}
	v->base_type = (enum bw_type)n->type;
	v->low = b->low;
	v->high = v->has_split ? v->split_sep : b->high;
	if (!v->has_split)
		v->right = b->right;
	/* Insertion sort of the (few) delta entries; the newest first, so a
	 * stable sort keeps the newest of equal keys first. */
	for (size_t i = 1; i < nd; i++) {
		struct bw_kv e = x->ins[i];
		size_t j = i;
		while (j > 0 && x->ins[j - 1].k > e.k) {
			x->ins[j] = x->ins[j - 1];
			j--;
		}
		x->ins[j] = e;
	}
	bw_grow(&x->buf, &x->buf_cap, b->count + nd);
	uint64_t i = 0, j = 0, o = 0;
	while (i < b->count || j < nd) {
		struct bw_kv e;
		if (j >= nd || (i < b->count && b->keys[i] < x->ins[j].k)) {
			e = (struct bw_kv){ b->keys[i], bw_bval(b, i) };
			i++;
		} else {
			e = x->ins[j++];
			/* Equal keys: the delta is newer than the base and than older deltas. */
			while (i < b->count && b->keys[i] == e.k)
				i++;
			while (j < nd && x->ins[j].k == e.k)
				j++;
		}
		if (e.k >= v->high)
			continue;
		x->buf[o++] = e;
	}
	v->n = o;
	return true;
}

/*
 * Consolidate page pid whose head h the caller protects.  known_hi is the
 * page's high bound as its parent routes to it (0: not reached from the
 * parent): a chain holding a split whose index entry the parent may still lack
 * (sep < known_hi, or not known) is left alone, since consolidating would
 * erase the split delta that tells passers-by to help.  Splits when the
 * result exceeds node_size.  Returns true if a new state was installed.
 */
static bool bw_consolidate(struct bw_tls *x, uint64_t pid, struct bw_node *h, uint64_t known_hi)
{
	struct bw_tree *tr = x->tr;
	smr_thread *t = x->t;
	struct bw_view v;
	if (!bw_collect(x, h, &v))
		return false;
	if (v.has_split && (known_hi == 0 || v.split_sep < known_hi))
		return false;
	void *_Atomic *slot = &tr->map[pid];
	if (v.n <= tr->node_size || v.n < 4) {
		struct bw_base *b = bw_base_new(x, v.base_type, v.level, x->buf, v.n, v.low, v.high, v.right);
		if (!smr_cas(t, slot, h, b)) {
			smr_dealloc(t, &b->h.smr); /* never published */
			return false;
		}
		bw_retire_chain(t, h);
		return true;
	}
	/* Split: upper half to a new page q, installed before anyone can learn q. */
	uint64_t mid = v.n / 2, sep = x->buf[mid].k;
	uint64_t q = bw_id_alloc(tr);
	struct bw_base *qb = bw_base_new(x, v.base_type, v.level, x->buf + mid, v.n - mid, sep, v.high, v.right);
	smr_store(t, &tr->map[q], qb);
	struct bw_base *lb = bw_base_new(x, v.base_type, v.level, x->buf, mid, v.low, sep, q);
	struct bw_split *s = bw_delta_alloc(x, &lb->h, sizeof *s);
	bw_init_node(&s->h, BW_SPLIT, v.level, 1);
	s->sep = sep;
	s->sib = q;
	bw_link_below(t, &s->h, &lb->h);
	if (smr_cas(t, slot, h, s)) {
		bw_retire_chain(t, h);
		return true;
	}
	/* Lost the race: s and lb were never published.  q was, into its slot,
	 * though no page links to it: take it out, retire it, and give the id back
	 * through a retire (never directly). */
	smr_exchange(t, (void *_Atomic *)&s->h.next, NULL);
	bw_delta_discard(t, &s->h);   /* before its block, lb */
	smr_dealloc(t, &lb->h.smr);
	struct bw_node *old = smr_exchange(t, &tr->map[q], NULL);
	bw_retire_chain(t, old);
	bw_id_retire(x, q);
	return false;
}

/*
 * Finish a split the parent does not know of yet (help-along).  par/ph: the
 * parent page and its head, protected by the caller (par 0: pid is the root).
 * pid's split moved keys >= sep to sib; hi is pid's bound in the parent.
 */
static void bw_help_split(struct bw_tls *x, uint64_t par, struct bw_node *ph, uint64_t pid,
			  unsigned level, uint64_t sep, uint64_t sib, uint64_t hi)
{
	struct bw_tree *tr = x->tr;
	smr_thread *t = x->t;
	if (par == 0) {
		/* Root split: a new root over the old one and its sibling, by CAS on the root id. */
		uint64_t expect = pid;
		if (atomic_load_explicit(&tr->root, memory_order_acquire) != pid)
			return;
		struct bw_kv e[2] = { { 0, pid }, { sep, sib } };
		uint64_t r = bw_id_alloc(tr);
		struct bw_base *nb = bw_base_new(x, BW_INNER_BASE, level + 1, e, 2, 0, BW_INF, 0);
		smr_store(t, &tr->map[r], nb);
		/* acq_rel: publishes r's slot to whoever reads the new root id. */
		if (atomic_compare_exchange_strong_explicit(&tr->root, &expect, r, memory_order_acq_rel,
							    memory_order_acquire))
			return;
		struct bw_node *old = smr_exchange(t, &tr->map[r], NULL);
		bw_retire_chain(t, old);
		bw_id_retire(x, r);
		return;
	}
	struct bw_index *d = bw_delta_alloc(x, ph, sizeof *d);
	bw_init_node(&d->h, BW_INDEX, ph->level, ph->depth + 1);
	d->lo = sep;
	d->hi = hi;
	d->child = sib;
	bw_link_below(t, &d->h, ph);
	if (!smr_cas(t, &tr->map[par], ph, d)) {
		smr_exchange(t, (void *_Atomic *)&d->h.next, NULL);
		bw_delta_discard(t, &d->h);
	}
}

/* Where a descent stopped: a leaf page, and how it was reached. */
struct bw_pos {
	uint64_t pid;
	struct bw_node *h;            /* protected in slot cs */
	int cs;
	uint64_t par;                 /* the parent page (0: pid is the root or reached sideways) */
	struct bw_node *ph;           /* its head, protected in slot 1 - cs */
	bool from_parent;             /* pid was reached by the parent's routing */
	uint64_t hi;                  /* then: pid's high bound in the parent */
};

static inline struct bw_node *bw_load(struct bw_tls *x, int slot, uint64_t pid)
{
	struct bw_node *h = smr_protect(x->t, slot, &x->tr->map[pid]);
	WL_FAULT_POINT();
	return h;
}

/*
 * Descend from the root to the leaf page for key.  Writers help finish
 * splits and consolidate long inner chains on the way, restarting from the
 * root after helping (as OpenBw-Tree does); readers just follow.
 */
static bool bw_descend(struct bw_tls *x, uint64_t key, bool writer, struct bw_pos *p)
{
	struct bw_tree *tr = x->tr;
restart:
	p->pid = atomic_load_explicit(&tr->root, memory_order_acquire);
	p->cs = 0;
	p->par = 0;
	p->ph = NULL;
	p->from_parent = true; /* the root: no parent, bound +inf */
	p->hi = BW_INF;
	p->h = bw_load(x, p->cs, p->pid);
	for (;;) {
		if (__builtin_expect(!p->h, 0)) {
			bw_fail(x, "bwtree: page %llu has no chain", (unsigned long long)p->pid);
			return false;
		}
		if (p->h->level == 0)
			return true;
		struct bw_walk w;
		bw_walk(x, p->h, key, &w);
		if (w.kind == BW_W_ERR)
			return false;
		if (writer && p->from_parent && w.has_split && w.split_sep < p->hi) {
			bw_help_split(x, p->par, p->ph, p->pid, p->h->level, w.split_sep, w.split_sib, p->hi);
			goto restart;
		}
		if (w.kind == BW_W_RIGHT) {
			p->pid = w.id;
			p->from_parent = false;
			p->h = bw_load(x, p->cs, p->pid);
			continue;
		}
		if (writer && p->h->depth >= tr->consolidate)
			bw_consolidate(x, p->pid, p->h, p->from_parent ? p->hi : 0);
		/* Descend: this page becomes the parent; its slot stays protected, the
		 * grandparent's slot takes the child. */
		p->par = p->pid;
		p->ph = p->h;
		p->cs = 1 - p->cs;
		p->pid = w.id;
		p->hi = w.bound;
		p->from_parent = true;
		p->h = bw_load(x, p->cs, p->pid);
	}
}

enum bw_ins_result { BW_INS_ERR = -1, BW_INS_EXISTS = 0, BW_INS_DONE = 1 };

/* Insert key -> value.  Called between smr_begin and smr_end. */
static enum bw_ins_result bw_insert(struct bw_tls *x, uint64_t key, uint64_t value)
{
	struct bw_tree *tr = x->tr;
	smr_thread *t = x->t;
	struct bw_insert *d = NULL;
	struct bw_pos p;
descend:
	if (!bw_descend(x, key, true, &p))
		goto err;
	for (;;) {
		struct bw_walk w;
		bw_walk(x, p.h, key, &w);
		if (w.kind == BW_W_ERR)
			goto err;
		if (p.from_parent && w.has_split && w.split_sep < p.hi) {
			bw_help_split(x, p.par, p.ph, p.pid, 0, w.split_sep, w.split_sib, p.hi);
			goto descend;
		}
		if (w.kind == BW_W_RIGHT) {
			p.pid = w.id;
			p.from_parent = false;
			p.h = bw_load(x, p.cs, p.pid);
			if (!p.h) {
				bw_fail(x, "bwtree: page %llu has no chain", (unsigned long long)p.pid);
				goto err;
			}
			continue;
		}
		if (w.kind == BW_W_FOUND) {
			if (d)
				bw_delta_discard(t, &d->h);
			return BW_INS_EXISTS;
		}
		/* A chain whose consolidation keeps losing: consolidate before growing it. */
		if (p.h->depth >= 2 * tr->consolidate &&
		    bw_consolidate(x, p.pid, p.h, p.from_parent ? p.hi : 0)) {
			p.h = bw_load(x, p.cs, p.pid);
			continue;
		}
		if (!d) {
			d = bw_delta_alloc(x, p.h, sizeof *d);
			d->key = key;
			d->value = value;
		}
		bw_init_node(&d->h, BW_INSERT, 0, p.h->depth + 1);
		bw_link_below(t, &d->h, p.h);
		/* Decide before publishing: once the CAS succeeds, d belongs to the
		 * page and we hold no protection on it (HP, RC may free it). */
		bool long_chain = d->h.depth >= tr->consolidate;
		if (smr_cas(t, &tr->map[p.pid], p.h, d)) {
			if (long_chain) {
				/* Our delta made the chain long: consolidate it (its head is
				 * not ours to read unprotected, so load it again). */
				struct bw_node *nh = bw_load(x, p.cs, p.pid);
				if (nh && nh->depth >= tr->consolidate)
					bw_consolidate(x, p.pid, nh, p.from_parent ? p.hi : 0);
			}
			return BW_INS_DONE;
		}
		/* Lost to another update of the page: unlink, reload, re-check.  A
		 * carved delta belongs to the old head's block, which may be retired
		 * and freed once we stop protecting it: leave its slot unused. */
		smr_exchange(t, (void *_Atomic *)&d->h.next, NULL);
		if (d->h.carved)
			d = NULL;
		p.h = bw_load(x, p.cs, p.pid);
		if (!p.h) {
			bw_fail(x, "bwtree: page %llu has no chain", (unsigned long long)p.pid);
			goto err;
		}
	}
err:
	if (d)
		bw_delta_discard(t, &d->h);
	return BW_INS_ERR;
}

/* Look key up; true with *value if present.  Called between smr_begin and smr_end. */
static bool bw_lookup(struct bw_tls *x, uint64_t key, uint64_t *value, bool *err)
{
	struct bw_pos p;
	*err = false;
	if (!bw_descend(x, key, false, &p)) {
		*err = true;
		return false;
	}
	for (;;) {
		struct bw_walk w;
		bw_walk(x, p.h, key, &w);
		switch (w.kind) {
		case BW_W_FOUND:
			*value = w.value;
			return true;
		case BW_W_ABSENT:
			return false;
		case BW_W_RIGHT:
			p.h = bw_load(x, p.cs, w.id);
			if (p.h)
				break;
			bw_fail(x, "bwtree: page %llu has no chain", (unsigned long long)w.id);
			*err = true;
			return false;
		default:
			*err = true;
			return false;
		}
	}
}

/* ---- tree set-up and teardown ---- */

static bool bw_tree_init(struct bw_tree *tr, smr_thread *t, uint64_t keys, uint32_t consolidate,
			 uint32_t node_size, bool prealloc, char *err, size_t errlen)
{
	memset(tr, 0, sizeof *tr);
	tr->consolidate = consolidate;
	tr->node_size = node_size;
	/* A slot for each delta up to the consolidation point; more fall back to malloc. */
	if (BW_CAN_CARVE && prealloc)
		tr->carve_cap = consolidate < BW_CARVE_MAX ? consolidate : BW_CARVE_MAX;
	/* Pages hold at least node_size/2 items after a split; room for twice
	 * the pages that needs, plus the inner levels.  Virtual only: the kernel
	 * backs the slots that are touched. */
	uint64_t per = node_size / 2 > 1 ? node_size / 2 : 1;
	tr->map_cap = keys / per * 2 + 65536;
	void *m = mmap(NULL, tr->map_cap * sizeof(void *), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED) {
		snprintf(err, errlen, "bwtree: cannot map a table of %llu pages",
			 (unsigned long long)tr->map_cap);
		return false;
	}
	tr->map = m;
	pthread_mutex_init(&tr->free_lock, NULL);
	atomic_init(&tr->next_id, 1); /* 0 is no page */
	atomic_init(&tr->nfree, 0);
	/* One empty leaf as the root. */
	struct bw_tls x = { .tr = tr, .t = t };
	uint64_t id = bw_id_alloc(tr);
	struct bw_base *b = bw_base_new(&x, BW_LEAF_BASE, 0, NULL, 0, 0, BW_INF, 0);
	smr_store(t, &tr->map[id], b);
	atomic_store_explicit(&tr->root, id, memory_order_release);
	return true;
}

/*
 * Retire every chain still in the table (so the domain's final reclamation
 * frees them like every other).  Before the domain is destroyed.  One short
 * critical section per chain and a quiescent state after every batch, as in
 * the run: otherwise EBR/QSBR could free nothing until the end, and the
 * teardown (one chain per page) would dominate the unreclaimed peak.
 */
static uint64_t bw_tree_retire_all(struct bw_tree *tr, smr_thread *t)
{
	uint64_t top = atomic_load_explicit(&tr->next_id, memory_order_acquire), pages = 0;
	const long batch = smr_quiescent_interval(t);
	for (uint64_t id = 1; id < top; id++) {
		smr_begin(t);
		struct bw_node *h = smr_exchange(t, &tr->map[id], NULL);
		if (h) {
			bw_retire_chain(t, h);
			pages++;
		}
		smr_end(t);
		if (id % (uint64_t)batch == 0)
			smr_quiescent(t);
	}
	return pages; /* the ids that were mapped */
}

/*
 * Page ids are what an id record owns (its destructor, drop, gives the id
 * back): once the domain is destroyed every id ever handed out is either a
 * page that was still mapped or on the free list.  Ids missing (an id
 * record retired with free, its destructor never run) or counted twice
 * (given back twice) are smr_stats.payloads_live: the harness fails the
 * cell.  Counted at teardown only, so in every build.
 */
static int64_t bw_ids_unaccounted(struct bw_tree *tr, uint64_t mapped)
{
	uint64_t handed_out = atomic_load_explicit(&tr->next_id, memory_order_relaxed) - 1;
	return (int64_t)handed_out - (int64_t)mapped - (int64_t)tr->free_n;
}

/* After the domain is destroyed (its id records push onto the free list). */
static void bw_tree_free(struct bw_tree *tr)
{
	munmap((void *)tr->map, tr->map_cap * sizeof(void *));
	pthread_mutex_destroy(&tr->free_lock);
	free(tr->free_ids);
}

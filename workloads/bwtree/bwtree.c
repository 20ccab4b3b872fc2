/*
 * bwtree.c - a Bw-tree (Levandoski, Lomet, Sengupta, ICDE 2013; OpenBw-Tree,
 * Wang et al., SIGMOD 2018) of unique uint64 keys and values, for inserts
 * mixed with lookups.  Written once against schemes/smr.h; included by
 * harness/instance.h into each scheme's translation unit, so every static
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
 *    list only through a retired id record whose destructor pushes it (seed
 *    001's pattern): reused only after every reader moved on.
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

#define BW_CANARY 0xB7EE5EEDC0FFEE01ull
#define BW_INF UINT64_MAX          /* high key of the right-most pages */
#define BW_HAZARD_SLOTS 2          /* current page's head, parent's head */

enum bw_type { BW_LEAF_BASE = 1, BW_INNER_BASE, BW_INSERT, BW_INDEX, BW_SPLIT, BW_IDREC, BW_RETIRED };

/* Common header of every record of a chain: the scheme's header and 24 bytes (32 with the test builds' canary). */
struct bw_node {
	struct smr_node smr;
	WL_CANARY_FIELD(uint64_t)     /* BW_CANARY while live (test builds) */
	struct bw_node *_Atomic next; /* the record below (NULL at the base); written before publication */
	uint8_t type;
	uint8_t level;                /* 0: leaf page */
	uint8_t carved;               /* 1: a slot of its base's delta area (never freed alone) */
	uint8_t pad_;
	uint32_t depth;               /* deltas between this record and the base (base: 0) */
	/* The base at the bottom of this record's chain (itself for a base):
	 * a walk prefetches it; a writer that holds this record as its page's
	 * protected head carves its new delta from it (bw_delta_alloc). */
	const struct bw_base *base;
};

struct bw_kv {
	uint64_t k, v;                /* leaf: key, value; inner: separator, child page id */
};

/*
 * A base's keys fall into BW_RUNS runs of (nearly) equal length; fence[j-1]
 * is the first key of run j (j = 1..BW_RUNS-1), UINT64_MAX if that run is
 * empty.  A search compares the key with the fences (two cache lines next
 * to the header it reads anyway), then binary-searches one run of count/16
 * keys (one line at node_size 128) instead of all of them (16 lines).  The
 * first touches of a base's lines were a third of an insert's time; with 8
 * runs inserts gained about 20%, with 16 a little more (1M keys, 1 thread).
 */
#define BW_RUNS 16

struct bw_base {
	struct bw_node h;
	uint64_t low, high;           /* keys in [low, high) */
	uint64_t right;               /* right sibling page id, 0 if none */
	uint64_t count;
	_Atomic uint32_t carve_next;  /* delta slots handed out (may exceed carve_cap) */
	uint32_t carve_cap;           /* delta slots after the values */
	uint64_t fence[BW_RUNS - 1];
	/* keys[0..count) then the values (leaf) or child ids (inner) in
	 * keys[count..2*count): a binary search touches only the keys' lines. */
	uint64_t keys[];
	/* then, with prealloc, carve_cap delta slots of BW_SLOT bytes */
};

/*
 * Delta pre-allocation (OpenBw-Tree, Wang et al. 2018): a base
 * is allocated with room for the deltas that will be posted on it, and a
 * writer takes the next slot with a fetch-add on carve_next instead of a
 * malloc.  Slots are handed out from the end of the block backwards, so a
 * chain's records lie at rising addresses from its head down to the area's
 * end: a walk can prefetch them all at once from the head instead of missing
 * on each record in turn (on a malloc'd chain each record is a miss that the
 * next one's address depends on; perf put 44% of the walk's samples there).  A slot
 * whose delta lost its CAS is simply left unused; when the area is full,
 * deltas fall back to smr_alloc.  A carved record is freed with its block,
 * so a chain is retired through a record of its own (BW_RETIRED, below).
 *
 * Not under rc: rc counts every record and frees each when its count drops,
 * and a protect may increment a stale record's count (safe only because rc's
 * pool keeps memory type-stable per object); a slot inside a block is neither
 * an object of its own nor type-stable, so rc's deltas stay separate
 * allocations whatever prealloc says (the param's help and the README say so).
 */
#if defined(SMR_OWN_LINKS) && !defined(SMR_OWN_CHAIN)
#define BW_CAN_CARVE 0
#else
#define BW_CAN_CARVE 1
#endif
#define BW_CARVE_MAX 32u           /* slots per base at most, whatever consolidate is */

/* Where run j of a base of n keys starts (j = 0..BW_RUNS). */
static inline uint64_t bw_run_start(uint64_t n, unsigned j)
{
	return n * j / BW_RUNS;
}

/* What fence[j - 1] of a base with these n keys holds (j = 1..BW_RUNS-1). */
static inline uint64_t bw_fence_of(const uint64_t *keys, uint64_t n, unsigned j)
{
	uint64_t at = bw_run_start(n, j);
	return at < n ? keys[at] : UINT64_MAX;
}

static inline uint64_t bw_bval(const struct bw_base *b, uint64_t i)
{
	return b->keys[b->count + i];
}

struct bw_insert {
	struct bw_node h;
	uint64_t key, value;
};

struct bw_split {
	struct bw_node h;
	uint64_t sep;                 /* keys >= sep now live in page sib */
	uint64_t sib;
};

struct bw_index {
	struct bw_node h;
	uint64_t lo, hi;              /* keys in [lo, hi) go to child */
	uint64_t child;
};

/* A delta slot: the largest delta (bw_index; its size depends on the scheme's header), in 16-byte steps. */
#define BW_SLOT ((unsigned)((sizeof(struct bw_index) + 15) / 16 * 16))

_Static_assert(sizeof(struct bw_insert) <= BW_SLOT && sizeof(struct bw_split) <= BW_SLOT &&
		       sizeof(struct bw_index) <= BW_SLOT && BW_SLOT % 8 == 0,
	       "every delta fits a pre-allocated slot");

/* A page id on its way back to the free list (seed 001: reuse after a grace period). */
struct bw_idrec {
	struct bw_node h;
	struct bw_tree *tr;
	uint64_t id;
};

struct bw_tree {
	void *_Atomic *map;           /* page id -> chain head */
	uint64_t map_cap;
	_Atomic uint64_t root SMR_ALIGNED;
	_Atomic uint64_t next_id SMR_ALIGNED;
	_Atomic uint64_t nfree SMR_ALIGNED; /* hint: ids on the free list */
	pthread_mutex_t free_lock;    /* the free list is touched only on rare paths */
	uint64_t *free_ids;
	uint64_t free_n, free_cap;
	uint32_t consolidate, node_size;
	uint32_t carve_cap;           /* delta slots per base (0: no pre-allocation) */
};

/* A random permutation of [0, n): a 4-round Feistel network on 2^bits with cycle walking. */
struct bw_perm {
	uint64_t n;
	unsigned half;
	uint64_t mask;
	uint64_t k[4];
};

static inline uint64_t bw_mix(uint64_t x, uint64_t k)
{
	x ^= k;
	x *= 0x9E3779B97F4A7C15ull;
	x ^= x >> 31;
	x *= 0xBF58476D1CE4E5B9ull;
	return x ^ (x >> 29);
}

static void bw_perm_init(struct bw_perm *p, uint64_t n, uint64_t seed)
{
	unsigned bits = 2;
	while (bits < 64 && (1ull << bits) < n)
		bits++;
	bits += bits & 1;
	p->n = n;
	p->half = bits / 2;
	p->mask = (1ull << p->half) - 1;
	for (int i = 0; i < 4; i++)
		p->k[i] = bw_mix(seed + (uint64_t)i, 0x2545F4914F6CDD1Dull);
}

static inline uint64_t bw_perm_fwd(const struct bw_perm *p, uint64_t x)
{
	do {
		uint64_t l = x >> p->half, r = x & p->mask;
		for (int i = 0; i < 4; i++) {
			uint64_t nl = r;
			r = l ^ (bw_mix(r, p->k[i]) & p->mask);
			l = nl;
		}
		x = (l << p->half) | r;
	} while (x >= p->n);
	return x;
}

static inline uint64_t bw_perm_inv(const struct bw_perm *p, uint64_t x)
{
	do {
		uint64_t l = x >> p->half, r = x & p->mask;
		for (int i = 3; i >= 0; i--) {
			uint64_t pr = l;
			l = r ^ (bw_mix(l, p->k[i]) & p->mask);
			r = pr;
		}
		x = (l << p->half) | r;
	} while (x >= p->n);
	return x;
}

/* The value stored with a key: checked by lookups and verify. */
static inline uint64_t bw_value_of(uint64_t key)
{
	return (key * 0xD6E8FEB86659FD93ull) ^ 0x5A5A0F0FA5A5F0F0ull;
}


/* ---- per-thread context ---- */

struct bw_tls {
	struct bw_tree *tr;
	smr_thread *t;
	struct wl_thread_ctx *ctx;    /* NULL in the self tests */
	unsigned long errors;         /* failed checks when ctx is NULL */
	struct bw_kv *buf;            /* consolidation / verify scratch */
	size_t buf_cap;
	struct bw_kv *ins;            /* deltas of the chain being replayed */
	size_t ins_cap;
};

static void bw_fail(struct bw_tls *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bw_fail(struct bw_tls *x, const char *fmt, ...)
{
	char msg[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (x->ctx)
		wl_error(x->ctx, "%s", msg);
	else if (x->errors++ == 0)
		printf("# bwtree: %s\n", msg);
}

static void bw_grow(struct bw_kv **a, size_t *cap, size_t need)
{
	if (need <= *cap)
		return;
	size_t c = *cap ? *cap : 256;
	while (c < need)
		c *= 2;
	*a = realloc(*a, c * sizeof **a);
	if (!*a) {
		fprintf(stderr, "smrbench: bwtree: out of memory\n");
		abort();
	}
	*cap = c;
}

/* ---- page ids ---- */

static uint64_t bw_id_alloc(struct bw_tree *tr)
{
	/* relaxed hint: the list is re-checked under the lock. */
	if (atomic_load_explicit(&tr->nfree, memory_order_relaxed)) {
		uint64_t id = 0;
		pthread_mutex_lock(&tr->free_lock);
		if (tr->free_n) {
			id = tr->free_ids[--tr->free_n];
			atomic_store_explicit(&tr->nfree, tr->free_n, memory_order_relaxed);
		}
		pthread_mutex_unlock(&tr->free_lock);
		if (id)
			return id;
	}
	uint64_t id = atomic_fetch_add_explicit(&tr->next_id, 1, memory_order_relaxed);
	if (id >= tr->map_cap) {
		fprintf(stderr, "smrbench: bwtree: mapping table full (%llu pages)\n",
			(unsigned long long)tr->map_cap);
		abort();
	}
	return id;
}

/* Destructor of a retired id record: every reader has moved on, the id may be reused. */
static void bw_idrec_dtor(struct smr_node *n)
{
	struct bw_idrec *r = smr_container_of(n, struct bw_idrec, h.smr);
	struct bw_tree *tr = r->tr;
	pthread_mutex_lock(&tr->free_lock);
	if (tr->free_n == tr->free_cap) {
		tr->free_cap = tr->free_cap ? tr->free_cap * 2 : 64;
		tr->free_ids = realloc(tr->free_ids, tr->free_cap * sizeof *tr->free_ids);
		if (!tr->free_ids)
			abort();
	}
	tr->free_ids[tr->free_n++] = r->id;
	atomic_store_explicit(&tr->nfree, tr->free_n, memory_order_relaxed);
	pthread_mutex_unlock(&tr->free_lock);
}

/* Give a page id back, after a grace period (never directly: seed 001). */
static void bw_id_retire(struct bw_tls *x, uint64_t id)
{
	struct bw_idrec *r = smr_alloc(x->t, sizeof *r);
	wl_canary_set(&r->h, BW_CANARY);
	atomic_init(&r->h.next, NULL);
	r->h.type = BW_IDREC;
	r->h.carved = 0;
	r->tr = x->tr;
	r->id = id;
	smr_retire_drop(x->t, &r->h.smr, bw_idrec_dtor);
}

/* ---- chains ---- */

/* Every field but carved, which the allocation sets (bw_delta_alloc, bw_base_new). */
static inline void bw_init_node(struct bw_node *n, enum bw_type type, unsigned level, uint32_t depth)
{
	wl_canary_set(n, BW_CANARY);
	atomic_init(&n->next, NULL);
	n->type = (uint8_t)type;
	n->level = (uint8_t)level;
	n->pad_ = 0;
	n->depth = depth;
	n->base = NULL;
}

/* The record below n.  relaxed: next is written before n is published by a
 * release CAS, and our acquire load of the chain head (or of a record above)
 * orders this read after it. */
static inline struct bw_node *bw_next(const struct bw_node *n)
{
	return atomic_load_explicit(&((struct bw_node *)n)->next, memory_order_relaxed);
}

/*
 * Records below a chain's head are freed by the chain destructor with
 * smr_node_free(): right for every scheme whose objects come from
 * smr_node_alloc(), including those with their own alloc that only stamp an
 * era on it (he, ibr).  rc's pooled objects take the branch below instead.
 */
#if defined(SMR_OWN_LINKS) && !defined(SMR_OWN_CHAIN)
/*
 * Reference counting (rc): an object is freed once it is retired AND no link
 * or protection counts it, so the chain cannot be one unit whose head's
 * destructor frees the rest: a reader may hold a record below the head (it
 * protected it when it was the head), and only that record's count says so.
 * Every record of an unlinked chain is retired, each with a destructor that
 * drops its own link to the record below; a record goes once the record
 * above it is gone and no reader holds it.  retired/reclaimed therefore
 * count records here, chains elsewhere.
 */
static void bw_chain_dtor(struct smr_node *n)
{
	smr_drop_link(bw_next(smr_container_of(n, struct bw_node, smr)));
}

/* Walk first, retire after: retiring a record may free it at once (count 0),
 * while the record below stays valid until it is retired in turn. */
static void bw_retire_chain(smr_thread *t, struct bw_node *h)
{
	while (h) {
		struct bw_node *nx = bw_next(h);
		smr_retire_drop(t, &h->smr, bw_chain_dtor);
		h = nx;
	}
}
#else
/* For smr_retire_chain: the record below (an HP scan checks each against its hazards). */
static struct smr_node *bw_chain_next(struct smr_node *n)
{
	struct bw_node *b = bw_next(smr_container_of(n, struct bw_node, smr));
	return b ? &b->smr : NULL;
}

/*
 * Destructor of a retired chain, run on its head once no reader holds any
 * record of it (HP checks every record: smr_retire_chain); the scheme frees
 * the head itself afterwards, this frees every record below it that is an
 * allocation of its own.  Carved records go with their base's block, which
 * is the chain's last record, so each is read before its memory goes.
 */
static void bw_chain_dtor(struct smr_node *n)
{
	struct bw_node *b = bw_next(smr_container_of(n, struct bw_node, smr));
	while (b) {
		struct bw_node *nx = bw_next(b);
		if (!b->carved)
			smr_node_free(&b->smr);
		b = nx;
	}
}

/*
 * The whole chain as one retired unit.  A carved head is not an allocation
 * the scheme could free, so such a chain is retired through a BW_RETIRED
 * record on top of it (one small allocation per consolidation).
 */
static void bw_retire_chain(smr_thread *t, struct bw_node *h)
{
	if (h->carved) {
		struct bw_node *r = smr_alloc(t, sizeof *r);
		bw_init_node(r, BW_RETIRED, h->level, h->depth + 1);
		r->carved = 0;
		atomic_init(&r->next, h);
		h = r;
	}
	smr_retire_chain(t, &h->smr, bw_chain_dtor, bw_chain_next);
}
#endif

/* Link a new delta d above the record below (before publishing d). */
static inline void bw_link_below(smr_thread *t, struct bw_node *d, struct bw_node *below)
{
	smr_store(t, (void *_Atomic *)&d->next, below);
	d->base = below->base;
}

/*
 * A delta of size bytes to post above below, the head of a chain the caller
 * protects (so its base is live): the next slot of the base's delta area
 * while one is left, else an allocation of its own.
 */
static inline void *bw_delta_alloc(struct bw_tls *x, const struct bw_node *below, size_t size)
{
#if BW_CAN_CARVE
	struct bw_base *b = (struct bw_base *)below->base;
	if (b->carve_cap && atomic_load_explicit(&b->carve_next, memory_order_relaxed) < b->carve_cap) {
		/* relaxed: the slot is ours alone; the CAS that publishes it releases it. */
		uint32_t i = atomic_fetch_add_explicit(&b->carve_next, 1, memory_order_relaxed);
		if (i < b->carve_cap) {
			char *end = (char *)(b->keys + 2 * b->count) + (size_t)b->carve_cap * BW_SLOT;
			struct bw_node *d = (struct bw_node *)(end - (size_t)(i + 1) * BW_SLOT);
			smr_carved(&d->smr, &b->h.smr);
			d->carved = 1;
			return d;
		}
	}
#endif
	struct bw_node *d = smr_alloc(x->t, size);
	d->carved = 0;
	return d;
}

/* A delta that was never published: a carved slot just stays unused. */
static inline void bw_delta_discard(smr_thread *t, struct bw_node *d)
{
	if (!d->carved)
		smr_dealloc(t, &d->smr);
}

static struct bw_base *bw_base_new(struct bw_tls *x, enum bw_type type, unsigned level,
				   const struct bw_kv *items, uint64_t n, uint64_t low, uint64_t high,
				   uint64_t right)
{
	/* One allocation per base: header, item array and delta area together. */
	uint32_t cap = x->tr ? x->tr->carve_cap : 0;
	struct bw_base *b = smr_alloc(x->t, sizeof *b + n * 2 * sizeof(uint64_t) + (size_t)cap * BW_SLOT);
	bw_init_node(&b->h, type, level, 0);
	b->h.carved = 0;
	b->h.base = b;
	atomic_init(&b->carve_next, 0);
	b->carve_cap = cap;
	b->low = low;
	b->high = high;
	b->right = right;
	b->count = n;
	for (uint64_t i = 0; i < n; i++) {
		b->keys[i] = items[i].k;
		b->keys[n + i] = items[i].v;
	}
	for (unsigned j = 1; j < BW_RUNS; j++)
		b->fence[j - 1] = bw_fence_of(b->keys, n, j);
	return b;
}

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

/*
 * Walk the chain from h (protected by the caller) for key.  The first record
 * that decides wins: deltas are newer than what lies below them.
 */
static inline void bw_walk(struct bw_tls *x, struct bw_node *h, uint64_t key, struct bw_walk *w)
{
	uint64_t hi = BW_INF;
	w->has_split = false;
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
		case BW_INNER_BASE: {
			struct bw_base *b = (struct bw_base *)n;
			if (key >= b->high) {
				/* The page split and was consolidated since our route was read. */
				w->kind = BW_W_RIGHT;
				w->id = b->right;
				return;
			}
			long i = bw_base_search(b, key);
			if (n->type == BW_LEAF_BASE) {
				if (i >= 0 && b->keys[i] == key) {
					w->kind = BW_W_FOUND;
					w->value = bw_bval(b, (uint64_t)i);
				} else {
					w->kind = BW_W_ABSENT;
				}
				return;
			}
			if (i < 0) {
				bw_fail(x, "bwtree: key %llu below inner page low key %llu",
					(unsigned long long)key, (unsigned long long)b->low);
				w->kind = BW_W_ERR;
				return;
			}
			uint64_t nb = (uint64_t)i + 1 < b->count ? b->keys[i + 1] : b->high;
			w->kind = BW_W_CHILD;
			w->id = bw_bval(b, (uint64_t)i);
			w->bound = nb < hi ? nb : hi;
			return;
		}
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
/* ---- self tests (smrbench-faults selftest) ---- */

/* The scheme's name as `smrbench list` shows it (instance.h sets its default after us). */
#ifdef SMR_SCHEME_NAME
#define BW_SCHEME_NAME SMR_SCHEME_NAME
#else
#define BW_SCHEME_NAME SMR_STR(SMR_SCHEME)
#endif

/* This scheme's params (instance.h defines its own table after the workloads). */
static const struct smr_param_spec bw_scheme_params[] = {
	SMR_CAT2(SMR_PARAMS, SMR_SCHEME)
	{ NULL, NULL, NULL, 0, 0 },
};

static smr_domain *bw_test_domain(int threads)
{
	struct smr_config cfg = { .max_threads = threads, .hazard_slots = BW_HAZARD_SLOTS };
	char err[128];
	smr_config_defaults(&cfg, bw_scheme_params);
	return smr_domain_create(&cfg, err, sizeof err);
}

static int bw_tap(bool ok, const char *what)
{
	printf("%s - %s: bwtree %s\n", ok ? "ok" : "not ok", BW_SCHEME_NAME, what);
	return !ok;
}

/* Sorted-array model of the tree. */
struct bw_model {
	struct bw_kv *a;
	size_t n;
};

/* Largest i with a[i].k <= k, or -1. */
static long bw_model_search(const struct bw_model *m, uint64_t k)
{
	long lo = 0, hi = (long)m->n - 1, ans = -1;
	while (lo <= hi) {
		long mid = (lo + hi) >> 1;
		if (m->a[mid].k <= k) {
			ans = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return ans;
}

static long bw_model_find(const struct bw_model *m, uint64_t k)
{
	long i = bw_model_search(m, k);
	return i >= 0 && m->a[i].k == k ? i : -1;
}

struct bw_scan_check {
	const struct bw_model *m;
	size_t i;
};

static bool bw_scan_item(void *arg, uint64_t k, uint64_t v)
{
	struct bw_scan_check *c = arg;
	if (c->i >= c->m->n || c->m->a[c->i].k != k || c->m->a[c->i].v != v)
		return false;
	c->i++;
	return true;
}

/* Single-threaded random inserts and lookups against the model. */
static int bw_test_model(uint32_t node_size, uint32_t consolidate, bool prealloc, uint64_t key_space,
			 int ops, uint64_t seed)
{
	char what[160], msg[200] = "";
	int failed = 0;
	smr_domain *d = bw_test_domain(2);
	smr_thread *t = smr_register(d);
	struct bw_tree tr;
	char err[128];
	if (!bw_tree_init(&tr, t, key_space, consolidate, node_size, prealloc, err, sizeof err)) {
		printf("# %s\n", err);
		return bw_tap(false, "tree set-up");
	}
	struct bw_tls x = { .tr = &tr, .t = t };
	struct bw_model m = { malloc((size_t)key_space * sizeof(struct bw_kv)), 0 };
	uint64_t rng = seed | 1;
	int mismatches = 0;
	for (int i = 0; i < ops && !x.errors; i++) {
		uint64_t k = 1 + bw_rand(&rng) % key_space;
		long at = bw_model_find(&m, k);
		smr_begin(t);
		if (bw_rand(&rng) % 4) {
			uint64_t v = bw_rand(&rng);
			enum bw_ins_result r = bw_insert(&x, k, v);
			if (r != (at >= 0 ? BW_INS_EXISTS : BW_INS_DONE)) {
				if (!mismatches++)
					snprintf(msg, sizeof msg, "insert %llu gave %d", (unsigned long long)k, r);
			} else if (at < 0) {
				size_t pos = (size_t)(bw_model_search(&m, k) + 1);
				memmove(m.a + pos + 1, m.a + pos, (m.n - pos) * sizeof *m.a);
				m.a[pos] = (struct bw_kv){ k, v };
				m.n++;
			}
		} else {
			uint64_t v = 0;
			bool e, found = bw_lookup(&x, k, &v, &e);
			if (found != (at >= 0) || (found && v != m.a[at].v)) {
				if (!mismatches++)
					snprintf(msg, sizeof msg, "lookup %llu: tree %s, model %s",
						 (unsigned long long)k, found ? "found" : "absent",
						 at >= 0 ? "present" : "absent");
			}
		}
		smr_end(t);
		smr_quiescent(t);
	}
	if (msg[0])
		printf("# %s\n", msg);
	snprintf(what, sizeof what,
		 "inserts and lookups agree with a sorted array (node_size=%u consolidate=%u prealloc=%d, %llu keys)",
		 node_size, consolidate, prealloc, (unsigned long long)m.n);
	failed += bw_tap(!mismatches && !x.errors, what);
	/* Every model key found; leaf scan equal to the model; separators consistent. */
	int missing = 0;
	for (size_t i = 0; i < m.n; i++) {
		uint64_t v = 0;
		bool e;
		smr_begin(t);
		if (!bw_lookup(&x, m.a[i].k, &v, &e) || v != m.a[i].v)
			missing++;
		smr_end(t);
	}
	struct bw_scan_check sc = { &m, 0 };
	int64_t n = bw_check_structure(&x, msg, sizeof msg, bw_scan_item, &sc);
	if (n < 0)
		printf("# %s\n", msg);
	snprintf(what, sizeof what,
		 "structure: sorted complete leaf level, separators bound children (node_size=%u prealloc=%d)",
		 node_size, prealloc);
	failed += bw_tap(!missing && n == (int64_t)m.n && sc.i == m.n, what);
	bw_tree_retire_all(&tr, t);
	smr_unregister(t);
	struct smr_stats s;
	smr_domain_destroy(d, &s);
	bw_tree_free(&tr);
	snprintf(what, sizeof what, "retired == reclaimed after teardown (%llu, node_size=%u prealloc=%d)",
		 (unsigned long long)s.retired, node_size, prealloc);
	failed += bw_tap(s.retired == s.reclaimed && s.retired > 0, what);
	free(m.a);
	free(x.buf);
	free(x.ins);
	return failed;
}

/*
 * A reader protects a chain's head; two deltas are prepended, so that record
 * sits deep in the chain; the chain is consolidated and retired as one;
 * the writer retires thousands of objects so that any scheme scans and frees
 * what it may.  The deep record must survive (poisoning on: a freed record
 * reads 0xDD..).  A hazard-pointer scheme that checked only the retired
 * chain's head against its hazards fails here.
 */
static int bw_test_deep_node(bool prealloc)
{
	bool poison = smr_poison_enabled;
	smr_poison_enabled = true;
	smr_domain *d = bw_test_domain(3);
	smr_thread *r = smr_register(d), *w = smr_register(d);
	/* With prealloc the held record is a slot inside the first base's block. */
	struct bw_tree tr = { .consolidate = 8, .node_size = 128, .carve_cap = BW_CAN_CARVE && prealloc ? 8 : 0 };
	struct bw_tls x = { .tr = &tr, .t = w };
	void *_Atomic slot = NULL;
	struct bw_kv one = { 1, bw_value_of(1) };
	struct bw_base *b = bw_base_new(&x, BW_LEAF_BASE, 0, &one, 1, 0, BW_INF, 0);
	smr_store(w, &slot, b);
	struct bw_node *head = &b->h;
	/* d[0] is the record the reader will hold. */
	for (int i = 0; i < 3; i++) {
		if (i == 1) {
			smr_begin(r);
			struct bw_insert *held = smr_protect(r, 0, &slot);
			WL_FAULT_POINT();
			(void)held;
		}
		smr_begin(w);
		struct bw_node *h = smr_protect(w, 0, &slot);
		struct bw_insert *dl = bw_delta_alloc(&x, h, sizeof *dl);
		bw_init_node(&dl->h, BW_INSERT, 0, h->depth + 1);
		dl->key = 10 + (uint64_t)i;
		dl->value = bw_value_of(dl->key);
		bw_link_below(w, &dl->h, h);
		if (!smr_cas(w, &slot, h, dl))
			abort(); /* single-threaded */
		head = &dl->h;
		smr_end(w);
	}
	struct bw_insert *held = (struct bw_insert *)bw_next(bw_next(head));
	bool held_carved = held->h.carved;
	/* Consolidate: a new base replaces the chain, which is retired as one. */
	smr_begin(w);
	struct bw_node *h = smr_protect(w, 0, &slot);
	struct bw_kv items[4] = { { 1, bw_value_of(1) }, { 10, bw_value_of(10) }, { 11, bw_value_of(11) },
				  { 12, bw_value_of(12) } };
	struct bw_base *nb = bw_base_new(&x, BW_LEAF_BASE, 0, items, 4, 0, BW_INF, 0);
	bool cas_ok = smr_cas(w, &slot, h, nb);
	bw_retire_chain(w, h);
	smr_end(w);
	smr_quiescent(w);
	/* Give every scheme reason and occasion to scan and free. */
	for (int i = 0; i < 20000; i++) {
		smr_begin(w);
		struct bw_node *junk = smr_alloc(w, sizeof *junk);
		bw_init_node(junk, BW_IDREC, 0, 0);
		smr_retire_free(w, &junk->smr);
		smr_end(w);
		smr_quiescent(w);
	}
	bool intact = !wl_canary_bad(&held->h, BW_CANARY) && held->key == 10 && held->value == bw_value_of(10);
	struct smr_stats mid;
	smr_stats_read(d, &mid);
	printf("# deep-node test: retired %llu reclaimed %llu while the reader held the deep record\n",
	       (unsigned long long)mid.retired, (unsigned long long)mid.reclaimed);
	smr_end(r);
	smr_quiescent(r);
	smr_begin(w);
	struct bw_node *last = smr_exchange(w, &slot, NULL);
	bw_retire_chain(w, last);
	smr_end(w);
	smr_unregister(r);
	smr_unregister(w);
	struct smr_stats s;
	smr_domain_destroy(d, &s);
	smr_poison_enabled = poison;
	char what[120];
	snprintf(what, sizeof what, "a record deep in a retired chain survives while a reader holds it (%s)",
		 held_carved ? "carved from its base's block" : "its own allocation");
	int failed = bw_tap(cas_ok && intact, what);
	failed += bw_tap(s.retired == s.reclaimed, "deep-node test: retired == reclaimed after teardown");
	return failed;
}

/*
 * The fenced search against a linear scan, for bases of every size around
 * the run boundaries, and a corrupt fence caught by bw_collect (verify and
 * consolidation replay every base through it).
 */
static int bw_test_fences(void)
{
	smr_domain *d = bw_test_domain(1);
	smr_thread *t = smr_register(d);
	struct bw_tls x = { .t = t };
	struct bw_kv items[2 * BW_RUNS + 3];
	int wrong = 0;
	char msg[160] = "";
	bool caught = true;
	for (uint64_t n = 0; n <= 2 * BW_RUNS + 2; n++) {
		for (uint64_t i = 0; i < n; i++)
			items[i] = (struct bw_kv){ 10 * (i + 1), i };  /* keys 10, 20, ..: gaps between */
		struct bw_base *b = bw_base_new(&x, BW_LEAF_BASE, 0, items, n, 0, BW_INF, 0);
		for (uint64_t k = 0; k <= 10 * (n + 1) + 1; k++) {
			long want = -1;
			for (uint64_t i = 0; i < n; i++)
				if (items[i].k <= k)
					want = (long)i;
			long got = bw_base_search(b, k);
			if (got != want && !wrong++)
				snprintf(msg, sizeof msg, "n %llu key %llu: search gave %ld, want %ld",
					 (unsigned long long)n, (unsigned long long)k, got, want);
		}
		if (n == 2 * BW_RUNS) {
			struct bw_view v;
			b->fence[3]++;
			unsigned long before = x.errors;
			caught = !bw_collect(&x, &b->h, &v) && x.errors > before;
		}
		smr_dealloc(t, &b->h.smr);
	}
	if (wrong)
		printf("# %s\n", msg);
	free(x.buf);
	free(x.ins);
	smr_unregister(t);
	struct smr_stats s;
	smr_domain_destroy(d, &s);
	int failed = bw_tap(!wrong, "fenced base search agrees with a linear scan (0 to 34 keys)");
	failed += bw_tap(caught, "a base whose fence disagrees with its keys is caught when replayed");
	return failed;
}

static int bw_selftest(void)
{
	int failed = 0;
	/* A scheme this kernel cannot run (hp-asym, ebr-asym without membarrier)
	 * is a skip, not a crash on a NULL domain. */
	smr_domain *probe = bw_test_domain(1);
	if (!probe) {
		printf("ok - %s: bwtree # SKIP the scheme refused to create a domain here\n", BW_SCHEME_NAME);
		return 0;
	}
	struct smr_stats ignored;
	smr_domain_destroy(probe, &ignored);
	failed += bw_test_model(8, 4, true, 6000, 12000, 11);
	failed += bw_test_model(128, 8, true, 20000, 30000, 12);
	failed += bw_test_model(128, 8, false, 20000, 30000, 12);
	failed += bw_test_model(4, 1, true, 3000, 6000, 13);
	failed += bw_test_deep_node(false);
	failed += bw_test_deep_node(true);
	failed += bw_test_fences();
	return failed;
}
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

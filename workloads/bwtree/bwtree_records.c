/* SPDX-License-Identifier: MIT */
/*
 * bwtree_records.c - the Bw-tree's records and what they are made of:
 * constants, node types, key runs, the key permutation, the per-thread
 * context, page ids, chains (retire, destroy) and base allocation.  Part
 * of bwtree.c (which includes it first): see there for the design.
 */

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

/* A page id on its way back to the free list (reuse after a grace period, as
 * Neely's rsdb on coco's epochs, 2017). */
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

/* Give a page id back, after a grace period (never directly, as Neely's rsdb, 2017). */
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

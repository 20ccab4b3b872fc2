/* SPDX-License-Identifier: MIT */
/* smr_pool.c - the pool's slow paths: the range, growth, the depot, thread exit (see smr_pool.h). */
#include "smr_pool.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define RANGE_MIN ((size_t)64 << 20)   /* smallest reservation accepted */
#define MAG_BYTES ((size_t)1 << SMR_POOL_MAG_SHIFT)
#define MAG_TARGET_BYTES ((size_t)256 << 10) /* a magazine holds about this much at most */
#define MAG_MIN_ROUNDS 4

_Static_assert(sizeof(struct smr_pool_mag) <= MAG_BYTES, "a magazine fits its 1 KiB slot");
_Static_assert(SMR_POOL_NTAGS <= 256, "a chunk's tag fits a byte");
_Static_assert(SMR_POOL_MAX_SIZE <= SMR_POOL_CHUNK_BYTES, "an object fits a chunk");
/* magazine index + 1 fits the 32 bits of a depot's top word */
_Static_assert((SMR_POOL_RANGE_MAX >> SMR_POOL_MAG_SHIFT) < UINT32_MAX, "magazine index fits 32 bits");

bool smr_pool_on;

_Atomic uintptr_t smr_pool_base_;
_Atomic uintptr_t smr_pool_span_;
_Atomic uint8_t smr_pool_chunk_tag_[SMR_POOL_MAX_CHUNKS];

/* Read-only (const: a stray write faults): the fast paths see n == cap == 0. */
static const struct smr_pool_mag dummy;
#define DUMMY ((struct smr_pool_mag *)&dummy)

__thread struct smr_pool_cache smr_pool_cache_[SMR_POOL_NTAGS] = {
	[0 ... SMR_POOL_NTAGS - 1] = { DUMMY, DUMMY },
};

/* The depot: Treiber stacks whose top word is (tag << 32) | (index + 1). */
struct stack {
	_Atomic uint64_t top;
} __attribute__((aligned(64)));           /* one line each: classes do not share */

static struct stack depot[SMR_POOL_NCLASSES]; /* full (or, after a thread exit, part full) magazines */
static struct stack empties;                  /* empty magazines, of any class */

/* Growth: per tag, the unused rest of its current chunk.  Under grow_lock. */
static pthread_mutex_t grow_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	uintptr_t next, end;
} frontier[SMR_POOL_NTAGS];
static size_t next_chunk;       /* chunks carved so far */
static size_t nchunks;          /* chunks in the range (set once by init) */
static size_t object_chunks;    /* objects may use chunks below this; magazines all */
static bool warned_full;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static pthread_key_t exit_key;
static __thread bool registered;  /* exit_key is set for this thread */

/*
 * For smr_pool_live_objects(): objects carved (under grow_lock), and the
 * caches of the threads that went through the slow path (a thread's fast
 * path never ran before it did: its magazines are dummies until then),
 * linked at registration and unlinked at exit, under caches_lock.
 */
static uint64_t carved;
struct cache_link {
	struct cache_link *next, **pprev;
	struct smr_pool_cache *cache;
};
static pthread_mutex_t caches_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cache_link *caches;
static __thread struct cache_link my_cache;

static void die(const char *what, size_t bytes, int err) __attribute__((noreturn, cold));
static void die(const char *what, size_t bytes, int err)
{
	if (bytes)
		fprintf(stderr, "smrbench: pool: %s (%zu KiB): %s\n", what, bytes >> 10, strerror(err));
	else
		fprintf(stderr, "smrbench: pool: %s: %s\n", what, strerror(err));
	abort();
}

static unsigned mag_cap(unsigned c)
{
	size_t r = MAG_TARGET_BYTES / smr_pool_class_size(c);
	if (r > SMR_POOL_MAG_ROUNDS)
		r = SMR_POOL_MAG_ROUNDS;
	if (r < MAG_MIN_ROUNDS)
		r = MAG_MIN_ROUNDS;
	return (unsigned)r;
}

/* Magazines are named by their slot in the range (plus one: 0 is "none"). */
static inline uintptr_t base(void)
{
	/* relaxed: set once before any magazine existed; whoever holds a magazine got it later */
	return atomic_load_explicit(&smr_pool_base_, memory_order_relaxed);
}

static inline uint32_t mag_id(struct smr_pool_mag *m)
{
	return (uint32_t)(((uintptr_t)m - base()) >> SMR_POOL_MAG_SHIFT) + 1;
}

static inline struct smr_pool_mag *mag_at(uint32_t id)
{
	return (struct smr_pool_mag *)(base() + ((uintptr_t)(id - 1) << SMR_POOL_MAG_SHIFT));
}

static void stack_push(struct stack *s, struct smr_pool_mag *m)
{
	uint64_t old = atomic_load_explicit(&s->top, memory_order_relaxed), new;
	do {
		/* relaxed: published by the release CAS below */
		atomic_store_explicit(&m->next, (uint32_t)old, memory_order_relaxed);
		new = ((old >> 32) + 1) << 32 | mag_id(m);
		/*
		 * release: the magazine's rounds and count, and this thread's last
		 * uses of the objects in it, happen before the popper reads them.
		 * Every change of top is such an RMW, so a popper that reads a later
		 * top still synchronises with this push (release sequence).
		 */
	} while (!atomic_compare_exchange_weak_explicit(&s->top, &old, new, memory_order_release,
							memory_order_relaxed));
}

static struct smr_pool_mag *stack_pop(struct stack *s)
{
	/* acquire: pairs with the pushes' release, so m->next and m's contents are theirs */
	uint64_t old = atomic_load_explicit(&s->top, memory_order_acquire), new;
	struct smr_pool_mag *m;
	do {
		uint32_t id = (uint32_t)old;
		if (!id)
			return NULL;
		m = mag_at(id);
		/*
		 * m may be popped and reused by another thread while we read its
		 * link: the memory stays a magazine (never unmapped), the link is
		 * atomic, and the tag makes our CAS fail if top moved meanwhile.
		 */
		uint32_t next = atomic_load_explicit(&m->next, memory_order_relaxed);
		new = ((old >> 32) + 1) << 32 | next;
		/* acquire (both ways): we read m's contents next, or retry with a newer top's m->next */
	} while (!atomic_compare_exchange_weak_explicit(&s->top, &old, new, memory_order_acquire,
							memory_order_acquire));
	return m;
}

static void thread_exit(void *arg);

/* Reserve the range; pthread_once. */
static void pool_init(void)
{
	size_t want = SMR_POOL_RANGE_MAX;
	void *r = MAP_FAILED;
	int err = 0;
	for (; want >= RANGE_MIN; want >>= 1) {
		/* one chunk more, to align the range's start to a chunk */
		r = mmap(NULL, want + SMR_POOL_CHUNK_BYTES, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (r != MAP_FAILED)
			break;
		err = errno;
	}
	if (r == MAP_FAILED)
		die("cannot reserve its address range", RANGE_MIN, err);
	uintptr_t lo = (uintptr_t)r, hi = lo + want + SMR_POOL_CHUNK_BYTES;
	uintptr_t b = (lo + SMR_POOL_CHUNK_BYTES - 1) & ~(uintptr_t)(SMR_POOL_CHUNK_BYTES - 1);
	if (b > lo)
		munmap((void *)lo, b - lo);
	if (hi > b + want)
		munmap((void *)(b + want), hi - (b + want));
	nchunks = want >> SMR_POOL_CHUNK_SHIFT;
	object_chunks = nchunks - nchunks / 16;
	int e = pthread_key_create(&exit_key, thread_exit);
	if (e)
		die("pthread_key_create", 0, e);
	atomic_store_explicit(&smr_pool_base_, b, memory_order_relaxed);
	/* release: a free() that reads this span also reads the base above (smr_pool_free) */
	atomic_store_explicit(&smr_pool_span_, want, memory_order_release);
}

void smr_pool_enable(void)
{
	pthread_once(&init_once, pool_init);
	smr_pool_on = true;
}

/* Ask for this thread's magazines back at its exit (once per thread, and again
 * if it allocates after the destructor ran: pthread calls it again then). */
static inline void thread_register(void)
{
	if (__builtin_expect(registered, 1))
		return;
	registered = true;
	pthread_setspecific(exit_key, (void *)1);
	pthread_mutex_lock(&caches_lock);
	my_cache.cache = smr_pool_cache_;
	my_cache.next = caches;
	my_cache.pprev = &caches;
	if (caches)
		caches->pprev = &my_cache.next;
	caches = &my_cache;
	pthread_mutex_unlock(&caches_lock);
}

/* A fresh chunk for tag (grow_lock held), or 0 when the range is full. */
static uintptr_t chunk_new(unsigned tag)
{
	size_t limit = tag == SMR_POOL_TAG_MAG ? nchunks : object_chunks;
	if (next_chunk >= limit)
		return 0;
	uintptr_t a = base() + (next_chunk << SMR_POOL_CHUNK_SHIFT);
	if (mprotect((void *)a, SMR_POOL_CHUNK_BYTES, PROT_READ | PROT_WRITE))
		die("out of memory growing by a chunk", SMR_POOL_CHUNK_BYTES, errno);
	/* relaxed: readers reach the chunk's objects only through grow_lock's
	 * unlock or a depot hand-over, both of which order this store first */
	atomic_store_explicit(&smr_pool_chunk_tag_[next_chunk], (uint8_t)tag, memory_order_relaxed);
	next_chunk++;
	if (tag != SMR_POOL_TAG_MAG)
		SMR_POOL_POISON_((void *)a, SMR_POOL_CHUNK_BYTES); /* free until handed out */
	return a;
}

/* size bytes from tag's current chunk, or a new one; 0 when the range is full.  grow_lock held. */
static uintptr_t frontier_take(unsigned tag, size_t size)
{
	if (frontier[tag].end - frontier[tag].next < size) {
		uintptr_t a = chunk_new(tag);
		if (!a)
			return 0;
		frontier[tag].next = a;
		frontier[tag].end = a + SMR_POOL_CHUNK_BYTES;
	}
	uintptr_t a = frontier[tag].next;
	frontier[tag].next += size;
	return a;
}

/* An empty magazine: from the depot's stack of empties, else a new one. */
static struct smr_pool_mag *mag_empty(unsigned c)
{
	struct smr_pool_mag *m = stack_pop(&empties);
	if (!m) {
		pthread_mutex_lock(&grow_lock);
		uintptr_t a = frontier_take(SMR_POOL_TAG_MAG, MAG_BYTES);
		pthread_mutex_unlock(&grow_lock);
		if (!a)
			die("address range full: no room for magazines", nchunks << SMR_POOL_CHUNK_SHIFT,
			    ENOMEM);
		m = (struct smr_pool_mag *)a;
		/* fresh memory from mprotect is zero: next = n = 0 */
	}
	m->cap = mag_cap(c);
	return m;
}

/* A magazine filled with never-used objects of class c, or NULL when the range is full. */
static struct smr_pool_mag *carve(unsigned c)
{
	size_t size = smr_pool_class_size(c);
	struct smr_pool_mag *m = mag_empty(c);
	unsigned k = 0;
	pthread_mutex_lock(&grow_lock);
	while (k < m->cap) {
		uintptr_t a = frontier_take(c + 1, size);
		if (!a)
			break;
		m->round[k++] = (void *)a;
	}
	carved += k;
	pthread_mutex_unlock(&grow_lock);
	if (!k) {
		stack_push(&empties, m);
		return NULL;
	}
	/* alloc pops from the end: hand out the lowest address first */
	for (unsigned i = 0; i < k / 2; i++) {
		void *t = m->round[i];
		m->round[i] = m->round[k - 1 - i];
		m->round[k - 1 - i] = t;
	}
	m->n = k;
	return m;
}

void *smr_pool_alloc_large(size_t size)
{
	void *p;
	int e = posix_memalign(&p, 16, size);
	if (e)
		die("out of memory allocating a large object", size, e);
	return p;
}

void smr_pool_free_outside(void *p)
{
	free(p);
}

/* Alloc found this thread's loaded magazine of class c empty. */
void *smr_pool_alloc_slow(unsigned c)
{
	pthread_once(&init_once, pool_init);
	thread_register();
	struct smr_pool_cache *cc = &smr_pool_cache_[c + 1];
	struct smr_pool_mag *m = cc->loaded, *pv = cc->prev;
	if (pv->n > 0) {
		/* prev is full: swap */
		cc->loaded = pv;
		cc->prev = m;
	} else {
		/* both empty: trade the empty prev for a full one from the depot */
		struct smr_pool_mag *full = stack_pop(&depot[c]);
		if (!full)
			full = carve(c);
		if (!full) {
			/* the range is full: malloc from now on (type-stable no more) */
			pthread_mutex_lock(&grow_lock);
			bool warn = !warned_full;
			warned_full = true;
			pthread_mutex_unlock(&grow_lock);
			if (warn)
				fprintf(stderr, "smrbench: pool: its %zu MiB range is full; objects come from malloc now\n",
					(nchunks << SMR_POOL_CHUNK_SHIFT) >> 20);
			return smr_pool_alloc_large(smr_pool_class_size(c));
		}
		if (pv != DUMMY)
			stack_push(&empties, pv);
		cc->prev = m;
		cc->loaded = full;
	}
	m = cc->loaded;
	void *p = m->round[--m->n];
	SMR_POOL_UNPOISON_(p, smr_pool_class_size(c));
	return p;
}

static void bad_ptr(const char *op, const void *p, const char *why) __attribute__((noreturn, cold));
static void bad_ptr(const char *op, const void *p, const char *why)
{
	fprintf(stderr, "smrbench: pool: %s %p: %s\n", op, p, why);
	abort();
}

/* Free found this thread's loaded magazine of p's class full (or p in no object chunk). */
void smr_pool_free_slow(void *p, unsigned tag)
{
	if (tag == 0 || tag > SMR_POOL_NCLASSES)
		bad_ptr("free of", p, "not an object of the pool");
	unsigned c = tag - 1;
	thread_register();
	struct smr_pool_cache *cc = &smr_pool_cache_[tag];
	struct smr_pool_mag *m = cc->loaded, *pv = cc->prev;
	if (pv->n < pv->cap) {
		/* prev is empty: swap */
		cc->loaded = pv;
		cc->prev = m;
	} else {
		/* both full (or dummies): the full prev goes to the depot, loaded
		 * becomes prev, and an empty magazine is loaded */
		if (pv != DUMMY)
			stack_push(&depot[c], pv);
		cc->prev = m;
		cc->loaded = mag_empty(c);
	}
	m = cc->loaded;
	SMR_POOL_POISON_(p, smr_pool_class_size(c));
	m->round[m->n++] = p;
}

/* Give a magazine back to the depot: to its class's stack if it holds objects. */
static void give_back(struct smr_pool_mag *m, unsigned c)
{
	if (m == DUMMY)
		return;
	stack_push(m->n ? &depot[c] : &empties, m);
}

static void thread_exit(void *arg)
{
	(void)arg;
	for (unsigned c = 0; c < SMR_POOL_NCLASSES; c++) {
		struct smr_pool_cache *cc = &smr_pool_cache_[c + 1];
		give_back(cc->loaded, c);
		give_back(cc->prev, c);
		cc->loaded = cc->prev = DUMMY;
	}
	pthread_mutex_lock(&caches_lock);
	*my_cache.pprev = my_cache.next;
	if (my_cache.next)
		my_cache.next->pprev = my_cache.pprev;
	pthread_mutex_unlock(&caches_lock);
	registered = false;
}

/* Rounds held by a depot stack's magazines (no push or pop may run). */
static uint64_t stack_rounds(struct stack *s)
{
	uint64_t n = 0;
	for (uint32_t id = (uint32_t)atomic_load_explicit(&s->top, memory_order_acquire); id;
	     id = atomic_load_explicit(&mag_at(id)->next, memory_order_relaxed))
		n += mag_at(id)->n;
	return n;
}

uint64_t smr_pool_live_objects(void)
{
	if (!atomic_load_explicit(&smr_pool_span_, memory_order_acquire))
		return 0;
	uint64_t free_rounds = 0;
	for (unsigned c = 0; c < SMR_POOL_NCLASSES; c++)
		free_rounds += stack_rounds(&depot[c]);
	pthread_mutex_lock(&caches_lock);
	for (struct cache_link *l = caches; l; l = l->next)
		for (unsigned tag = 1; tag <= SMR_POOL_NCLASSES; tag++)
			free_rounds += l->cache[tag].loaded->n + l->cache[tag].prev->n;
	pthread_mutex_unlock(&caches_lock);
	pthread_mutex_lock(&grow_lock);
	uint64_t made = carved;
	pthread_mutex_unlock(&grow_lock);
	return made - free_rounds;
}

size_t smr_pool_usable_size(const void *p)
{
	/* acquire/relaxed: as in smr_pool_free */
	uintptr_t span = atomic_load_explicit(&smr_pool_span_, memory_order_acquire);
	uintptr_t off = (uintptr_t)p - atomic_load_explicit(&smr_pool_base_, memory_order_relaxed);
	if (off >= span)
		return malloc_usable_size((void *)p);
	unsigned tag = atomic_load_explicit(&smr_pool_chunk_tag_[off >> SMR_POOL_CHUNK_SHIFT],
					    memory_order_relaxed);
	if (tag == 0 || tag > SMR_POOL_NCLASSES)
		bad_ptr("usable size of", p, "not an object of the pool");
	return smr_pool_class_size(tag - 1);
}

#ifdef SMR_POOL_ASAN
/* ASan builds: every free is checked (a plain build trusts the caller). */
void smr_pool_check_free_(void *p, uintptr_t off, unsigned tag)
{
	if (tag == 0 || tag > SMR_POOL_NCLASSES)
		bad_ptr("free of", p, "not an object of the pool");
	if ((off & (SMR_POOL_CHUNK_BYTES - 1)) % smr_pool_class_size(tag - 1))
		bad_ptr("free of", p, "not the start of an object");
	if (__asan_address_is_poisoned(p))
		bad_ptr("free of", p, "already free (double free), or never allocated");
}
#endif

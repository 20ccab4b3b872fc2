/* SPDX-License-Identifier: MIT */
/*
 * smr_pool.h - Hart et al.'s node allocator (JPDC 2007, their harness
 * "lfmr"; -P alloc=pool): per-thread magazines over a global depot of full
 * magazines, carved from a preallocated region that grows by large chunks.
 * Type-stable: its memory is never given back to the OS while the process
 * lives, and memory of one size class stays in that class.
 * smr_node_alloc()/smr_node_free() use it once the cell's process has called
 * smr_pool_enable().
 *
 * SIZE CLASSES  16-byte steps up to 256 bytes (16 classes), then four per
 *   power of two (320 384 448 512, 640 ... 1024, ...) up to 256 KiB: 56
 *   classes, every one a multiple of 16.  Larger objects come from malloc
 *   (posix_memalign 16); free() recognises them by their address.
 *
 * THE RANGE  smr_pool_enable() (or the first allocation) reserves one range
 *   of address space, PROT_NONE and MAP_NORESERVE: 256 GiB, halved until the
 *   kernel agrees (ulimit -v), 64 MiB at least.  It is carved into 2 MiB
 *   chunks, each made writable (mprotect) when first needed and dedicated
 *   for good to one size class, or to magazines.  A byte per chunk
 *   (smr_pool_chunk_tag_[]) names its class, so free() finds an object's
 *   class from its address alone: no header, a 32-byte list node takes 32
 *   bytes.  Objects are at class-size steps from the chunk's 2 MiB-aligned
 *   base: 16-byte aligned (64-byte aligned when the class size is a
 *   multiple of 64).
 *
 * MAGAZINES  An array of up to 100 object pointers (Hart's magazine size;
 *   for classes above 2.5 KiB as many as fit 256 KiB, 4 at least), in a
 *   1 KiB slot of a magazine chunk: a free object costs 8 bytes of
 *   magazine, none of its own.  Per thread and class, Bonwick's
 *   pair (USENIX 2001): `loaded`, which alloc pops from and free pushes to
 *   with no atomic and no lock, and `prev`, always full or empty.  alloc on
 *   an empty loaded swaps with a full prev, else trades its empty prev for
 *   a full magazine from the depot; free on a full loaded swaps with an
 *   empty prev, else sends its full prev to the depot and takes an empty
 *   magazine.  So a thread goes to the depot at most once per magazine
 *   size operations, and a thread that only frees (the MS queue's
 *   dequeuer) feeds the one that only allocates.  Unlike Hart's free lists
 *   linked through the nodes, the free path writes nothing into the object:
 *   under ASan every byte of a free object is poisoned, its first word
 *   (smr_next, the retire link) included.
 *
 * THE DEPOT  Per class a stack of full magazines, and one stack of empty
 *   ones: lock-free Treiber stacks, as Hart's, on a 64-bit top word that
 *   holds the top magazine's index (its address in the range / 1 KiB, plus
 *   one) and a tag that every push and pop increments (no ABA).  A pop
 *   reads the next link of a magazine another thread may have popped
 *   meanwhile: magazines are never unmapped and their link is atomic, so
 *   that read is harmless (its CAS fails) and TSan-clean.  Lock-free rather
 *   than a mutex because the suite oversubscribes cores, as Hart et al.
 *   do: a thread preempted inside the depot must not stop the others.
 *
 * GROWTH  When the depot has no full magazine, the thread fills one from
 *   its class's current chunk, taking a new chunk when that is used up,
 *   under one mutex (growth only: once per magazine of never-used objects).
 *   A run never fails for lack of nodes: only the OS refusing memory
 *   (mprotect ENOMEM) aborts, with one line on stderr.  Should the range
 *   ever fill up, further objects come from malloc (one line on stderr);
 *   the last 1/16 of it is kept for magazines.
 *
 * THREAD EXIT  A pthread key destructor gives the thread's magazines back
 *   to the depot, so the short-lived threads of a test lose nothing.
 *
 * HUGE PAGES  Chunks are 2 MiB-aligned but the pool does not madvise: with
 *   transparent huge pages set to "always", each class's first touch of a
 *   chunk may fault in a whole 2 MiB page (rss_peak_kb shows it).
 *
 * SANITIZERS  ASan: free objects are poisoned (all of their class size),
 *   alloc unpoisons the class size (smr_pool_usable_size(), which the
 *   poisoning code memsets); a free of a poisoned object (double free) or
 *   of an address that is no object start is reported and aborts.  Reuse
 *   is LIFO, so a use after free is reported while the object is still
 *   free (SMRBENCH_POISON's quarantine keeps a freed node from reuse until
 *   its domain is destroyed).  LSan does not scan the pool: a malloc'd
 *   block referenced only from a pool object at exit is reported, and a
 *   pool object never freed is not (it is not malloc's).  TSan: every
 *   hand-over of a magazine is a release push and an acquire pop, so a
 *   thread's last use of an object happens before the next owner's first.
 */
#ifndef SMR_POOL_H
#define SMR_POOL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__SANITIZE_ADDRESS__)
#define SMR_POOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SMR_POOL_ASAN 1
#endif
#endif

#ifdef SMR_POOL_ASAN
#include <sanitizer/asan_interface.h>
#define SMR_POOL_POISON_(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define SMR_POOL_UNPOISON_(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define SMR_POOL_POISON_(p, n) ((void)(p), (void)(n))
#define SMR_POOL_UNPOISON_(p, n) ((void)(p), (void)(n))
#endif

#define SMR_POOL_SMALL_MAX 256                         /* 16-byte steps up to here */
#define SMR_POOL_MAX_SIZE ((size_t)256 << 10)          /* largest class; above: malloc */
#define SMR_POOL_NCLASSES (16 + 4 * 10)                /* 16..256, then 4 per power of two to 2^18 */
#define SMR_POOL_CHUNK_SHIFT 21
#define SMR_POOL_CHUNK_BYTES ((size_t)1 << SMR_POOL_CHUNK_SHIFT) /* 2 MiB */
#define SMR_POOL_RANGE_MAX ((size_t)256 << 30)         /* address space asked for first */
#define SMR_POOL_MAX_CHUNKS (SMR_POOL_RANGE_MAX >> SMR_POOL_CHUNK_SHIFT)
#define SMR_POOL_MAG_ROUNDS 100                        /* Hart's magazine size */
#define SMR_POOL_MAG_SHIFT 10                          /* a magazine takes 1 KiB */

/*
 * A chunk's tag: 0 not carved, 1 + class for objects of that class,
 * SMR_POOL_TAG_MAG for magazines.  The per-thread cache is indexed by tag,
 * so a free of a pointer in a chunk that holds no objects lands on the
 * dummy magazine and its slow path reports it: no check on the fast path.
 */
#define SMR_POOL_TAG_MAG (SMR_POOL_NCLASSES + 1)
#define SMR_POOL_NTAGS (SMR_POOL_NCLASSES + 2)

struct smr_pool_mag {
	_Atomic uint32_t next;  /* in a depot stack: index + 1 of the magazine below, 0 at the bottom */
	uint32_t n;             /* rounds held: round[0..n) */
	uint32_t cap;           /* rounds it may hold (its class's magazine size); 0: the dummy */
	uint32_t pad_;
	void *round[SMR_POOL_MAG_ROUNDS];
};

/* A thread's magazines for one class; both point at a read-only empty
 * dummy (n = cap = 0) until the thread first takes the slow path. */
struct smr_pool_cache {
	struct smr_pool_mag *loaded;
	struct smr_pool_mag *prev;
};

/* True once smr_pool_enable() ran: nodes come from the pool. */
extern bool smr_pool_on;

/* Reserve the range and route node allocation through the pool (before any
 * thread allocates a node). */
void smr_pool_enable(void);
/*
 * Objects of the pool handed out and not freed (large ones, from malloc,
 * are not counted: LSan sees them).  Computed, not counted: objects carved
 * so far (a count kept under grow_lock, on the growth path) minus the
 * rounds in every magazine (the depot's and every living thread's), so
 * alloc and free carry no counter.  Exact only while no other thread
 * allocates or frees (a cell's teardown, after its threads joined); the
 * harness fails a cell whose workload left objects behind.
 */
uint64_t smr_pool_live_objects(void);
/* Bytes usable at p (its size class; malloc_usable_size for a large one). */
size_t smr_pool_usable_size(const void *p);

/* Internals of the inline functions below. */
extern __thread struct smr_pool_cache smr_pool_cache_[SMR_POOL_NTAGS];
extern _Atomic uintptr_t smr_pool_base_;          /* the range's first byte */
extern _Atomic uintptr_t smr_pool_span_;          /* its length; 0 until reserved */
extern _Atomic uint8_t smr_pool_chunk_tag_[SMR_POOL_MAX_CHUNKS];
void *smr_pool_alloc_slow(unsigned c);
void *smr_pool_alloc_large(size_t size);
void smr_pool_free_slow(void *p, unsigned tag);
void smr_pool_free_outside(void *p);
#ifdef SMR_POOL_ASAN
void smr_pool_check_free_(void *p, uintptr_t off, unsigned tag);
#endif

/* The class of a size <= SMR_POOL_MAX_SIZE (size 0 takes the smallest). */
static inline unsigned smr_pool_class(size_t size)
{
	if (size <= SMR_POOL_SMALL_MAX)
		return size ? (unsigned)((size - 1) >> 4) : 0;
	/* 2^lg < size <= 2^(lg+1), lg >= 8; sub: which quarter of that octave */
	unsigned lg = 63 - (unsigned)__builtin_clzll((unsigned long long)(size - 1));
	unsigned sub = (unsigned)((size - 1) >> (lg - 2)) & 3;
	return 16 + (lg - 8) * 4 + sub;
}

static inline size_t smr_pool_class_size(unsigned c)
{
	if (c < 16)
		return (size_t)(c + 1) * 16;
	unsigned lg = 8 + (c - 16) / 4, sub = (c - 16) % 4;
	return ((size_t)1 << lg) + (size_t)(sub + 1) * ((size_t)1 << (lg - 2));
}

/* 16-byte aligned, never NULL (aborts with a message when out of memory). */
static inline void *smr_pool_alloc(size_t size)
{
	if (__builtin_expect(size > SMR_POOL_MAX_SIZE, 0))
		return smr_pool_alloc_large(size);
	unsigned c = smr_pool_class(size);
	/* Only this thread touches its magazines: plain loads and stores. */
	struct smr_pool_mag *m = smr_pool_cache_[c + 1].loaded;
	if (__builtin_expect(m->n == 0, 0))
		return smr_pool_alloc_slow(c);
	void *p = m->round[--m->n];
	SMR_POOL_UNPOISON_(p, smr_pool_class_size(c));
	return p;
}

/* p from smr_pool_alloc (or NULL), freed by any thread. */
static inline void smr_pool_free(void *p)
{
	/*
	 * acquire on the span, paired with the release that publishes it after
	 * the base: a span read as nonzero comes with its base.  A free racing
	 * with the reservation can only be of a malloc'd pointer (a pool
	 * pointer reached this thread after the range existed), which lands
	 * outside the range with either value.  On x86 both are plain movs.
	 */
	uintptr_t span = atomic_load_explicit(&smr_pool_span_, memory_order_acquire);
	uintptr_t off = (uintptr_t)p - atomic_load_explicit(&smr_pool_base_, memory_order_relaxed);
	if (__builtin_expect(off >= span, 0)) {
		smr_pool_free_outside(p);
		return;
	}
	/*
	 * relaxed: the tag was stored before the chunk's first object was
	 * handed out, and the object reached this thread after that (through
	 * the workload's own synchronisation), so the value is the final one.
	 */
	unsigned tag = atomic_load_explicit(&smr_pool_chunk_tag_[off >> SMR_POOL_CHUNK_SHIFT],
					    memory_order_relaxed);
#ifdef SMR_POOL_ASAN
	smr_pool_check_free_(p, off, tag);
#endif
	struct smr_pool_mag *m = smr_pool_cache_[tag].loaded;
	if (__builtin_expect(m->n == m->cap, 0)) {
		smr_pool_free_slow(p, tag);
		return;
	}
	SMR_POOL_POISON_(p, smr_pool_class_size(tag - 1));
	m->round[m->n++] = p;
}

#endif

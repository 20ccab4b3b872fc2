/* SPDX-License-Identifier: MIT */
/*
 * pool_test.c - the pool allocator (schemes/smr_pool.h), alone, in TAP:
 * size classes, alignment, usable size, reuse, a producer thread whose
 * objects a consumer frees, magazines given back at thread exit, growth past
 * one chunk, large objects, and (ASan builds) poisoning of free objects.
 *
 * SMRB_TEST_SCALE (the sanitizer trees set 0.3) scales the round counts.
 */
#include "smr_pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tests_run, tests_failed;
static double scale = 1.0;

static void ok(bool cond, const char *fmt, ...)
{
	va_list ap;
	printf("%sok %d - ", cond ? "" : "not ", ++tests_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		tests_failed++;
}

static void diag(const char *fmt, ...)
{
	va_list ap;
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static size_t scaled(size_t n)
{
	size_t s = (size_t)((double)n * scale);
	return s ? s : 1;
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
	return x < y ? -1 : x > y;
}

/* Distinct values in v[0..n) (sorts v). */
static size_t distinct(void **v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_ptr);
	size_t d = 0;
	for (size_t i = 0; i < n; i++)
		if (i == 0 || v[i] != v[i - 1])
			d++;
	return d;
}

static bool in_range(const void *p)
{
	uintptr_t b = atomic_load(&smr_pool_base_), s = atomic_load(&smr_pool_span_);
	return (uintptr_t)p - b < s;
}

/* Patterns: object number i is filled with byte (i * 7 + 1) & 255; ref[b] is a buffer of byte b. */
#define PATTERN_MAX 4096
static unsigned char ref[256][PATTERN_MAX];

static unsigned char pattern_byte(size_t i) { return (unsigned char)(i * 7 + 1); }

static void fill(void *p, size_t size, size_t i)
{
	memset(p, pattern_byte(i), size);
}

static bool intact(const void *p, size_t size, size_t i)
{
	const unsigned char *r = ref[pattern_byte(i)];
	for (size_t off = 0; off < size; off += PATTERN_MAX) {
		size_t n = size - off < PATTERN_MAX ? size - off : PATTERN_MAX;
		if (memcmp((const char *)p + off, r, n))
			return false;
	}
	return true;
}

/* 1. The class function: monotone, multiples of 16, every size in its class. */
static void test_classes(void)
{
	bool good = true;
	for (unsigned c = 0; c < SMR_POOL_NCLASSES; c++) {
		size_t s = smr_pool_class_size(c);
		size_t lo = c ? smr_pool_class_size(c - 1) + 1 : 0;
		if (s % 16 || s <= (c ? smr_pool_class_size(c - 1) : 0) ||
		    smr_pool_class(lo) != c || smr_pool_class(s) != c) {
			diag("class %u: size %zu, smallest size %zu -> class %u", c, s, lo, smr_pool_class(lo));
			good = false;
		}
	}
	good = good && smr_pool_class_size(SMR_POOL_NCLASSES - 1) == SMR_POOL_MAX_SIZE;
	ok(good, "%d size classes, multiples of 16, the last %zu bytes; every size maps into its class",
	   SMR_POOL_NCLASSES, SMR_POOL_MAX_SIZE);
}

/* 2, 3. Alignment and usable size, for every size up to 4 KiB and a spread up to the largest class. */
static void test_align_usable(void)
{
	bool aligned = true, usable = true;
	size_t checked = 0;
	for (size_t size = 0; size <= SMR_POOL_MAX_SIZE + 4096;
	     size += size < 4096 ? 1 : size / 64 + 1) {
		void *p = smr_pool_alloc(size);
		size_t u = smr_pool_usable_size(p);
		if ((uintptr_t)p % 16) {
			if (aligned)
				diag("size %zu: %p", size, p);
			aligned = false;
		}
		if (u < size || (size <= SMR_POOL_MAX_SIZE && u != smr_pool_class_size(smr_pool_class(size)))) {
			if (usable)
				diag("size %zu: usable %zu", size, u);
			usable = false;
		}
		memset(p, 0xab, u); /* all usable bytes (ASan: unpoisoned) */
		smr_pool_free(p);
		checked++;
	}
	ok(aligned, "16-byte aligned, %zu sizes from 0 to %zu", checked, SMR_POOL_MAX_SIZE + 4096);
	ok(usable, "usable size >= requested (the class size in the pool), all bytes writable");
}

/* 4. A freed object comes back. */
static void test_reuse(void)
{
	bool good = true;
	for (size_t size = 16; size <= 8192; size *= 2) {
		void *p = smr_pool_alloc(size);
		smr_pool_free(p);
		void *q = smr_pool_alloc(size);
		good = good && q == p && in_range(p);
		smr_pool_free(q);
	}
	ok(good, "a freed object is the next one allocated of its class (16 B to 8 KiB)");
}

/* 5. Producer/consumer: one thread allocates and fills, the other checks and frees. */
#define RING 256
static void *_Atomic ring[RING];
static const size_t pc_sizes[] = { 32, 64, 48, 200, 1000, 4000, 32, 64 };
#define PC_NSIZES (sizeof pc_sizes / sizeof pc_sizes[0])

struct pc {
	size_t rounds;
	void **addr32;      /* the producer's 32-byte objects, in order */
	size_t n32;
	size_t bad;         /* consumer: objects found damaged */
};

static void *producer(void *arg)
{
	struct pc *pc = arg;
	for (size_t i = 0; i < pc->rounds; i++) {
		size_t size = pc_sizes[i % PC_NSIZES];
		void *p = smr_pool_alloc(size);
		fill(p, size, i);
		if (size == 32)
			pc->addr32[pc->n32++] = p;
		/* release: the fill happens before the consumer's check */
		while (atomic_load_explicit(&ring[i % RING], memory_order_relaxed))
			sched_yield();
		atomic_store_explicit(&ring[i % RING], p, memory_order_release);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	struct pc *pc = arg;
	for (size_t i = 0; i < pc->rounds; i++) {
		void *p;
		/* acquire: pairs with the producer's release */
		while (!(p = atomic_load_explicit(&ring[i % RING], memory_order_acquire)))
			sched_yield();
		atomic_store_explicit(&ring[i % RING], NULL, memory_order_relaxed);
		if (!intact(p, pc_sizes[i % PC_NSIZES], i))
			pc->bad++;
		smr_pool_free(p);
	}
	return NULL;
}

static void test_producer_consumer(void)
{
	struct pc pc = { .rounds = scaled(400000) };
	pc.addr32 = malloc(pc.rounds * sizeof *pc.addr32);
	pthread_t p, c;
	pthread_create(&c, NULL, consumer, &pc);
	pthread_create(&p, NULL, producer, &pc);
	pthread_join(p, NULL);
	pthread_join(c, NULL);
	ok(pc.bad == 0, "producer/consumer, %zu objects of 32 B to 4000 B: contents intact at free (%zu damaged)",
	   pc.rounds, pc.bad);
	/*
	 * The consumer's frees must reach the producer through the depot: at any
	 * carve, the 32-byte objects that exist are those in the ring, in the
	 * consumer's two magazines and the new batch, so a few hundred distinct
	 * addresses serve all of them.
	 */
	size_t d = distinct(pc.addr32, pc.n32);
	ok(d <= RING + 4 * SMR_POOL_MAG_ROUNDS + 100,
	   "the consumer's frees feed the producer: %zu distinct addresses for %zu 32-byte objects", d, pc.n32);
	free(pc.addr32);
}

/* 6. A thread's magazines go back to the depot when it exits. */
#define EXIT_SIZE 176   /* no other thread has freed objects of this class into the depot */
#define EXIT_N 1000

static void *exit_worker(void *arg)
{
	void **v = arg;
	for (size_t i = 0; i < EXIT_N; i++)
		v[i] = smr_pool_alloc(EXIT_SIZE);
	for (size_t i = 0; i < EXIT_N; i++)
		smr_pool_free(v[i]);
	return NULL;
}

/* A new thread: its magazines are empty, so all it gets comes from the depot (or new chunks). */
static void *exit_taker(void *arg)
{
	void **v = arg;
	for (size_t i = 0; i < EXIT_N; i++)
		v[i] = smr_pool_alloc(EXIT_SIZE);
	return NULL;
}

static void test_thread_exit(void)
{
	static void *mine[EXIT_N], *back[EXIT_N];
	pthread_t t;
	pthread_create(&t, NULL, exit_worker, mine);
	pthread_join(t, NULL);
	pthread_create(&t, NULL, exit_taker, back);
	pthread_join(t, NULL);
	qsort(mine, EXIT_N, sizeof *mine, cmp_ptr);
	size_t found = 0;
	for (size_t i = 0; i < EXIT_N; i++)
		found += bsearch(&back[i], mine, EXIT_N, sizeof *mine, cmp_ptr) != NULL;
	ok(found == EXIT_N, "an exited thread's magazines are reused: %zu of %d objects were its own",
	   found, EXIT_N);
	for (size_t i = 0; i < EXIT_N; i++)
		smr_pool_free(back[i]);
}

/* 7. Growth past the first chunk, small and big classes. */
static bool grow(size_t size, size_t n)
{
	void **v = malloc(n * sizeof *v);
	bool good = true;
	for (size_t i = 0; i < n; i++) {
		v[i] = smr_pool_alloc(size);
		good = good && in_range(v[i]);
		fill(v[i], size < PATTERN_MAX ? size : 64, i);
	}
	for (size_t i = 0; i < n; i++)
		good = good && intact(v[i], size < PATTERN_MAX ? size : 64, i);
	for (size_t i = 0; i < n; i++)
		smr_pool_free(v[i]);
	size_t d = distinct(v, n);
	uintptr_t spread = (uintptr_t)v[n - 1] - (uintptr_t)v[0];
	if (d != n || spread < SMR_POOL_CHUNK_BYTES) {
		diag("size %zu: %zu distinct of %zu, spread %zu bytes", size, d, n, (size_t)spread);
		good = false;
	}
	free(v);
	return good;
}

static void test_growth(void)
{
	size_t per_chunk = SMR_POOL_CHUNK_BYTES / 48;
	size_t n = 2 * per_chunk + per_chunk / 2;
	ok(grow(48, n), "growth: %zu live 48-byte objects (%.1f chunks), distinct, intact", n,
	   (double)n / (double)per_chunk);
	ok(grow(65536, 100), "growth: 100 live 64 KiB objects (32 a chunk), distinct, intact");
}

/* 8. Large objects: malloc underneath, freed through the pool. */
static void test_large(void)
{
	static const size_t sizes[] = { SMR_POOL_MAX_SIZE + 1, 300 << 10, 1 << 20, 5 << 20 };
	bool good = true;
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		void *p = smr_pool_alloc(sizes[k]);
		size_t u = smr_pool_usable_size(p);
		good = good && !in_range(p) && (uintptr_t)p % 16 == 0 && u >= sizes[k];
		memset(p, 0x5a, sizes[k]);
		smr_pool_free(p);
	}
	ok(good, "large objects (256 KiB + 1 to 5 MiB): outside the range, aligned, usable, freed");
	void *m = malloc(100);
	smr_pool_free(m);
	smr_pool_free(NULL);
	ok(true, "free of a malloc'd pointer and of NULL");
}

/* 9. Many threads, mixed sizes, each keeping a window of live objects. */
#define MIX_THREADS 4
#define MIX_WINDOW 64

static void *mix_worker(void *arg)
{
	size_t *bad = arg;
	void *live[MIX_WINDOW] = { 0 };
	size_t sz[MIX_WINDOW] = { 0 }, id[MIX_WINDOW] = { 0 };
	uint64_t x = (uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;
	size_t rounds = scaled(100000);
	for (size_t i = 0; i < rounds; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		unsigned w = (unsigned)(x % MIX_WINDOW);
		if (live[w]) {
			*bad += !intact(live[w], sz[w], id[w]);
			smr_pool_free(live[w]);
		}
		sz[w] = (x >> 8) % 3 ? (x >> 16) % 256 : (x >> 16) % 8192;
		id[w] = i;
		live[w] = smr_pool_alloc(sz[w]);
		fill(live[w], sz[w], i);
	}
	for (unsigned w = 0; w < MIX_WINDOW; w++)
		if (live[w]) {
			*bad += !intact(live[w], sz[w], id[w]);
			smr_pool_free(live[w]);
		}
	return NULL;
}

static void test_mixed(void)
{
	pthread_t t[MIX_THREADS];
	size_t bad[MIX_THREADS] = { 0 }, total = 0;
	for (int i = 0; i < MIX_THREADS; i++)
		pthread_create(&t[i], NULL, mix_worker, &bad[i]);
	for (int i = 0; i < MIX_THREADS; i++) {
		pthread_join(t[i], NULL);
		total += bad[i];
	}
	ok(total == 0, "%d threads, random sizes 0 to 8 KiB, a window of %d live objects each: intact",
	   MIX_THREADS, MIX_WINDOW);
}

/* 10. ASan: a free object is poisoned, a live one is not. */
static void test_poison(void)
{
#ifdef SMR_POOL_ASAN
	char *p = smr_pool_alloc(64);
	bool live = !__asan_region_is_poisoned(p, 64);
	smr_pool_free(p);
	bool freed = __asan_address_is_poisoned(p) && __asan_address_is_poisoned(p + 63);
	ok(live && freed, "ASan: a live object is unpoisoned, a free one poisoned (its first word too)");
#else
	printf("ok %d # SKIP poisoning: not an ASan build\n", ++tests_run);
#endif
}

int main(void)
{
	const char *s = getenv("SMRB_TEST_SCALE");
	if (s && atof(s) > 0)
		scale = atof(s);
	for (int b = 0; b < 256; b++)
		memset(ref[b], b, PATTERN_MAX);
	printf("1..14\n");
	smr_pool_enable();
	ok(smr_pool_on && atomic_load(&smr_pool_span_) >= ((size_t)64 << 20),
	   "enable reserves the range (%zu MiB)", (size_t)(atomic_load(&smr_pool_span_) >> 20));
	test_classes();
	test_align_usable();
	test_reuse();
	test_producer_consumer();
	test_thread_exit();
	test_growth();
	test_large();
	test_mixed();
	test_poison();
	return tests_failed ? 1 : 0;
}

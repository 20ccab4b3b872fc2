/* SPDX-License-Identifier: MIT */
/* smr_common.c - shared slow paths of the schemes: allocation, poisoning, lists. */
#include "smr.h"

#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

bool smr_poison_enabled;
_Thread_local void (*smr_test_hook)(int point);

static pthread_mutex_t quarantine_lock = PTHREAD_MUTEX_INITIALIZER;
static void *quarantine;  /* poisoned blocks, linked through their first word */

void smr_debug_init(void)
{
	const char *e = getenv("SMRBENCH_POISON");
	smr_poison_enabled = e && *e && *e != '0';
}

void smr_out_of_memory(size_t size)
{
	fprintf(stderr, "smrbench: out of memory allocating %zu bytes\n", size);
	abort();
}

void smr_node_free_poisoned(void *n)
{
	/*
	 * Poison the whole block, then keep it out of the allocator's hands: a
	 * reader that still holds it sees poison rather than a fresh object.
	 * The first word, the quarantine's link, is the one left unpoisoned.
	 */
	memset(n, SMR_POISON_BYTE, smr_pool_on ? smr_pool_usable_size(n) : malloc_usable_size(n));
	pthread_mutex_lock(&quarantine_lock);
	*(void **)n = quarantine;
	quarantine = n;
	pthread_mutex_unlock(&quarantine_lock);
}

void smr_quarantine_drain(void)
{
	pthread_mutex_lock(&quarantine_lock);
	void *n = quarantine;
	quarantine = NULL;
	pthread_mutex_unlock(&quarantine_lock);
	while (n) {
		void *next = *(void **)n;
		smr_node_release(n);
		n = next;
	}
}

void smr_counters_sum(const struct smr_counters *c, struct smr_stats *out)
{
	out->retired += atomic_load_explicit(&c->retired, memory_order_relaxed);
	out->reclaimed += atomic_load_explicit(&c->reclaimed, memory_order_relaxed);
	out->unreclaimed_peak += atomic_load_explicit(&c->peak, memory_order_relaxed);
}

int smr_slot_claim(void *records, size_t record_size, int n)
{
	for (int i = 0; i < n; i++) {
		struct smr_slot *s = (struct smr_slot *)((char *)records + (size_t)i * record_size);
		bool expect = false;
		if (!atomic_load_explicit(&s->in_use, memory_order_relaxed) &&
		    atomic_compare_exchange_strong_explicit(&s->in_use, &expect, true,
							    memory_order_acq_rel,
							    memory_order_relaxed)) {
			s->ever_used = true;
			return i;
		}
	}
	return -1;
}

void smr_slot_release(struct smr_slot *s)
{
	atomic_store_explicit(&s->in_use, false, memory_order_release);
}

void *smr_aligned_calloc(size_t n, size_t size)
{
	size_t bytes = (n * size + SMR_CACHE_LINE - 1) / SMR_CACHE_LINE * SMR_CACHE_LINE;
	void *p = aligned_alloc(SMR_CACHE_LINE, bytes ? bytes : SMR_CACHE_LINE);
	if (!p) {
		fprintf(stderr, "smrbench: out of memory allocating %zu bytes\n", bytes);
		abort();
	}
	memset(p, 0, bytes);
	return p;
}

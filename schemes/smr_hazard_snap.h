/* SPDX-License-Identifier: MIT */
/*
 * smr_hazard_snap.h - the hazard scan shared by hp, hp-asym, hp-pop and
 * epoch-pop's fallback: copy every published hazard (rows of slots, one row
 * per thread record) into a sorted array, then ask of each retired entry
 * whether some hazard names it.  Include after the scheme's object header
 * (smr_node_link.h): a chain's walk returns that header.
 */
#ifndef SMR_HAZARD_SNAP_H
#define SMR_HAZARD_SNAP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

static inline int smr_hazard_cmp_(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;
	return (x > y) - (x < y);
}

/*
 * Copy the first k slots of each of rows rows (stride slots apart) into
 * out, mark bits stripped and empty slots left out, sorted.  Returns how many.
 */
static inline size_t smr_hazard_snapshot(void *_Atomic *slots, int rows, size_t stride, int k, void **out)
{
	size_t n = 0;
	for (int i = 0; i < rows; i++)
		for (int j = 0; j < k; j++) {
			/* acquire: pairs with the release that empties a slot (end(),
			 * leave), so a reader's last reads of an object happen before
			 * we free it. */
			void *p = smr_unmark(atomic_load_explicit(&slots[(size_t)i * stride + (size_t)j],
								  memory_order_acquire));
			if (p)
				out[n++] = p;
		}
	if (n > 1)
		qsort(out, n, sizeof *out, smr_hazard_cmp_);
	return n;
}

/* Is p in the sorted snapshot s[0..n)? */
static inline bool smr_hazard_in_(void *const *s, size_t n, const void *p)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if ((uintptr_t)s[mid] < (uintptr_t)p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && s[lo] == p;
}

/* Does some hazard of the snapshot hold this retired entry (a chain, next != NULL: any object of it)? */
static inline bool smr_hazard_held(void *const *s, size_t n, struct smr_node *x, smr_chain_next_fn next)
{
	if (n == 0)
		return false;
	if (!next)
		return smr_hazard_in_(s, n, x);
	for (struct smr_node *y = x; y; y = next(y))
		if (smr_hazard_in_(s, n, y))
			return true;
	return false;
}

#endif

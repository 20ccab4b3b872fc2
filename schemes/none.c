/* SPDX-License-Identifier: MIT */
/* none.c - the leak floor's slow paths: registration and the final free. */
#include "smr.h"
#include "none.h"

#include <stdio.h>

struct none_domain *none_domain_create(const struct smr_config *cfg, char *err, size_t errlen)
{
	(void)err; (void)errlen;
	struct none_domain *d = smr_aligned_calloc(1, sizeof *d);
	d->max_threads = cfg->max_threads;
	d->threads = smr_aligned_calloc((size_t)cfg->max_threads, sizeof *d->threads);
	for (int i = 0; i < d->max_threads; i++)
		d->threads[i].d = d;
	return d;
}

struct none_thread *none_register(struct none_domain *d)
{
	int i = smr_slot_claim(d->threads, sizeof *d->threads, d->max_threads);
	return i < 0 ? NULL : &d->threads[i];
}

void none_unregister(struct none_thread *t)
{
	smr_slot_release(&t->slot);
}

void none_stats(struct none_domain *d, struct smr_stats *out)
{
	*out = (struct smr_stats){0};
	for (int i = 0; i < d->max_threads; i++)
		smr_counters_sum(&d->threads[i].cnt, out);
}

void none_domain_destroy(struct none_domain *d, struct smr_stats *out)
{
	for (int i = 0; i < d->max_threads; i++) {
		struct none_thread *t = &d->threads[i];
		smr_count_reclaimed(&t->cnt, smr_list_reclaim(&t->kept));
	}
	none_stats(d, out);
	smr_quarantine_drain();
	free(d->threads);
	free(d);
}

/* SPDX-License-Identifier: MIT */
/* nebr.c - batched EBR (Hart's NEBR): set-up; everything else is ebr.c's. */
#include "smr.h"
#include "nebr.h"

_Static_assert(sizeof(struct nebr_thread) == sizeof(struct ebr_thread), "nebr_thread must wrap ebr_thread");
/* nebr_quiescent_interval() casts the ebr_domain back to the nebr_domain around it. */
_Static_assert(offsetof(struct nebr_domain, e) == 0, "the ebr_domain must come first");

struct nebr_domain *nebr_domain_create(const struct smr_config *cfg, char *err, size_t errlen)
{
	(void)err; (void)errlen;
	struct nebr_domain *d = smr_aligned_calloc(1, sizeof *d);
	ebr_domain_init(&d->e, cfg, (unsigned)SMR_PARAM(cfg, 0), false);
	d->ops_per_cs = SMR_PARAM(cfg, 1);
	return d;
}

void nebr_domain_destroy(struct nebr_domain *d, struct smr_stats *out)
{
	ebr_domain_fini(&d->e, out);
	free(d);
}

struct nebr_thread *nebr_register(struct nebr_domain *d)
{
	return (struct nebr_thread *)ebr_register(&d->e);
}

void nebr_unregister(struct nebr_thread *t)
{
	ebr_unregister(&t->e); /* unpins first */
}

void nebr_stats(struct nebr_domain *d, struct smr_stats *out)
{
	ebr_stats(&d->e, out);
}

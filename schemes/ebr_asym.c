/* SPDX-License-Identifier: MIT */
/* ebr_asym.c - ebr-asym: membarrier registration; everything else is ebr.c's. */
#include "smr.h"
#include "ebr_asym.h"

#include <errno.h>
#include <linux/membarrier.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * Register for MEMBARRIER_CMD_PRIVATE_EXPEDITED, or say why not.
 * SMRBENCH_NO_MEMBARRIER=1 pretends the kernel lacks it, so that the refusal
 * path can be tested on a kernel that has it.
 */
static int membarrier_register(char *err, size_t errlen)
{
	const char *no = getenv("SMRBENCH_NO_MEMBARRIER");
	long cmds = (no && *no && *no != '0') ? 0 : syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
	if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED)) {
		snprintf(err, errlen,
			 "ebr-asym: the kernel lacks membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) "
			 "(needs Linux >= 4.14%s%s)", cmds < 0 ? "; membarrier: " : "",
			 cmds < 0 ? strerror(errno) : "");
		return -1;
	}
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) < 0) {
		snprintf(err, errlen, "ebr-asym: membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED): %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

struct ebr_asym_domain *ebr_asym_domain_create(const struct smr_config *cfg, char *err, size_t errlen)
{
	if (membarrier_register(err, errlen) < 0)
		return NULL;
	struct ebr_asym_domain *d = smr_aligned_calloc(1, sizeof *d);
	ebr_domain_init(&d->e, cfg, (unsigned)SMR_PARAM(cfg, 0), true);
	return d;
}

void ebr_asym_domain_destroy(struct ebr_asym_domain *d, struct smr_stats *out)
{
	ebr_domain_fini(&d->e, out);
	free(d);
}

/* The records are ebr_thread's; ebr_asym_thread only renames one. */
_Static_assert(sizeof(struct ebr_asym_thread) == sizeof(struct ebr_thread), "ebr_asym_thread must wrap ebr_thread");

struct ebr_asym_thread *ebr_asym_register(struct ebr_asym_domain *d)
{
	return (struct ebr_asym_thread *)ebr_register(&d->e);
}

void ebr_asym_unregister(struct ebr_asym_thread *t)
{
	ebr_unregister(&t->e);
}

void ebr_asym_stats(struct ebr_asym_domain *d, struct smr_stats *out)
{
	ebr_stats(&d->e, out);
}

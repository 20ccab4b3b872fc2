/* SPDX-License-Identifier: MIT */
/*
 * instance.h - one scheme's instance of every workload.
 *
 * instances/<scheme>.c defines SMR_SCHEME, SMR_SCHEME_SUMMARY and
 * SMR_SCHEME_FAMILY (optionally SMR_SCHEME_NAME, SMR_SCHEME_REFERENCE for
 * a library's back end, and SMR_SCHEME_LAZY_GET, the cost model of a lazy get:
 * workload.h, struct scheme_desc) and includes this file.  The workloads are included as
 * source, so the scheme's inline fast paths compile into their loops.
 */
#ifndef SMR_SCHEME
#error "define SMR_SCHEME before including instances/instance.h"
#endif

#include "harness/workload.h"

#include "workloads/lazy_transform.c"
#include "workloads/treiber.c"
#include "workloads/msqueue.c"
#include "workloads/list.c"
#include "workloads/bwtree/bwtree.c"

#ifndef SMR_SCHEME_NAME
#define SMR_SCHEME_NAME SMR_STR(SMR_SCHEME)
#endif
#ifndef SMR_SCHEME_FAMILY
#error "define SMR_SCHEME_FAMILY (harness/workload.h: enum smr_family) before including instances/instance.h"
#endif
#ifndef SMR_SCHEME_REFERENCE
#define SMR_SCHEME_REFERENCE NULL /* ours, not a library's */
#endif
#ifndef SMR_SCHEME_LAZY_GET
#define SMR_SCHEME_LAZY_GET { NULL, NULL } /* not predicted */
#endif

static const struct smr_param_spec SMR_SYM(scheme_params)[] = {
	SMR_CAT2(SMR_PARAMS, SMR_SCHEME)
	{ NULL, NULL, NULL, 0, 0 },
};

static const struct workload_desc *const SMR_SYM(workloads)[] = {
	&wl_lazy,
	&wl_treiber,
	&wl_msqueue,
	&wl_list,
	&wl_bwtree,
	NULL,
};

#ifdef SMRB_FAULTS
/* Test builds carry the contract's unit tests, compiled against this scheme. */
#include "tests/scheme_selftest.c"
#define SMR_SCHEME_SELFTEST scheme_selftest
#else
#define SMR_SCHEME_SELFTEST NULL
#endif

/*
 * Stalled-thread mode (the IBR / Hyaline experiment): a harness thread joins
 * the workload's domain and stays inside a critical section for the whole
 * run.  EBR keeps it pinned, QSBR sees it online and never quiescent, HP/HE/
 * IBR see a reader that holds (at most) its reservations: what each scheme
 * then leaves unreclaimed is the measurement.  Written once, compiled per
 * scheme like the workloads.
 */
static void *SMR_SYM(stall_enter)(void *domain)
{
	smr_thread *t = smr_register((smr_domain *)domain);
	if (t)
		smr_begin(t);
	return t;
}

static void SMR_SYM(stall_leave)(void *thread)
{
	smr_thread *t = thread;
	smr_end(t);
	smr_unregister(t);
}

static void SMR_SYM(domain_stats)(void *domain, struct smr_stats *out)
{
	smr_stats_read((smr_domain *)domain, out);
}

const struct scheme_desc SMR_SYM(scheme) = {
	.name = SMR_SCHEME_NAME,
	.summary = SMR_SCHEME_SUMMARY,
	.family = SMR_SCHEME_FAMILY,
	.reference = SMR_SCHEME_REFERENCE,
	.lazy_get = SMR_SCHEME_LAZY_GET,
	.params = SMR_SYM(scheme_params),
	.workloads = SMR_SYM(workloads),
	.domain_stats = SMR_SYM(domain_stats),
	.selftest = SMR_SCHEME_SELFTEST,
	.stall_enter = SMR_SYM(stall_enter),
	.stall_leave = SMR_SYM(stall_leave),
};

/* SPDX-License-Identifier: MIT */
/* ext_urcu_qsbr.c - liburcu's qsbr flavour: the slow paths (template: ext_urcu_impl.h). */
#include "smr.h"
#include "ext_urcu_qsbr.h"
#include "ext_urcu_impl.h"

#ifdef EXT_TSAN
/*
 * ThreadSanitizer: liburcu's own allocations (rcu_barrier's completion,
 * allocated by the caller and freed by the call_rcu thread) synchronize in
 * uninstrumented code; ignore what the libraries themselves do.  Our objects
 * are freed from our own callbacks, so they stay checked.  Defined once,
 * here, for every flavour.
 */
const char *__tsan_default_suppressions(void);
const char *__tsan_default_suppressions(void)
{
	return "called_from_lib:liburcu-qsbr.so\n"
	       "called_from_lib:liburcu-memb.so\n"
	       "called_from_lib:liburcu-mb.so\n"
	       "called_from_lib:liburcu-common.so\n";
}
#endif

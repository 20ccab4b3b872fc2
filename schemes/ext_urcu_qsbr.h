/* SPDX-License-Identifier: MIT */
/*
 * ext_urcu_qsbr.h - liburcu's QSBR flavour: nothing on reads, rcu_quiescent_state() after every batch.
 * The template and its notes: ext_urcu.h.
 */
#ifndef SMR_EXT_URCU_QSBR_H
#define SMR_EXT_URCU_QSBR_H

#include "ext_tsan.h"
/*
 * The inline read side, except under ThreadSanitizer: there the library's
 * out-of-line calls keep liburcu's own benign races (volatile accesses to its
 * futex word) out of the instrumented code.
 */
#if !defined(_LGPL_SOURCE) && !defined(EXT_TSAN)
#define _LGPL_SOURCE
#endif
#include <urcu/urcu-qsbr.h>

#define EXT_URCU ext_urcu_qsbr
#define EXT_URCU_LIB urcu_qsbr
#define EXT_URCU_QSBR 1
#include "ext_urcu.h"

#define SMR_PARAMS_ext_urcu_qsbr /* none: liburcu's own batching (README: "Reference back ends: embedding and counting") */

#endif

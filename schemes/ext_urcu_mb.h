/* SPDX-License-Identifier: MIT */
/*
 * ext_urcu_mb.h - liburcu's mb flavour: read lock/unlock with mfence (one on lock, two on unlock).
 * The template and its notes: ext_urcu.h.
 */
#ifndef SMR_EXT_URCU_MB_H
#define SMR_EXT_URCU_MB_H

#include "ext_tsan.h"
/*
 * The inline read side, except under ThreadSanitizer: there the library's
 * out-of-line calls keep liburcu's own benign races (volatile accesses to its
 * futex word) out of the instrumented code.
 */
#if !defined(_LGPL_SOURCE) && !defined(EXT_TSAN)
#define _LGPL_SOURCE
#endif
#include <urcu/urcu-mb.h>

#define EXT_URCU ext_urcu_mb
#define EXT_URCU_LIB urcu_mb
#define EXT_URCU_QSBR 0
#include "ext_urcu.h"

#define SMR_PARAMS_ext_urcu_mb /* none: liburcu's own batching (README: "Reference back ends: embedding and counting") */

#endif

/* SPDX-License-Identifier: MIT */
/*
 * ext_tsan.h - happens-before edges that ThreadSanitizer cannot see inside
 * the reference libraries (liburcu, Concurrency Kit).
 *
 * Their synchronization runs in uninstrumented shared objects (grace periods,
 * call_rcu's queue, ck_epoch_poll, ck_hp_reclaim) or in inline asm (ck_pr),
 * so TSan sees a reader's last access to an object and the callback's free
 * with no order between them and reports a race on every reclaim.  The
 * back ends state the library's guarantee instead: a reader releases a
 * per-back-end token when its critical section (or hazard) ends, and the
 * reclaim callback acquires it before freeing.  A free that overtakes a
 * reader still inside its section is still reported.  No-ops in other builds.
 */
#ifndef SMR_EXT_TSAN_H
#define SMR_EXT_TSAN_H

#if defined(__SANITIZE_THREAD__)
#define EXT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define EXT_TSAN 1
#endif
#endif

#ifdef EXT_TSAN
#include <sanitizer/tsan_interface.h>
#define EXT_TSAN_RELEASE(p) __tsan_release((void *)(p))
#define EXT_TSAN_ACQUIRE(p) __tsan_acquire((void *)(p))
#else
#define EXT_TSAN_RELEASE(p) ((void)0)
#define EXT_TSAN_ACQUIRE(p) ((void)0)
#endif

#endif

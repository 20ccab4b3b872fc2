/* SPDX-License-Identifier: MIT */
/*
 * alloc.h - the allocator a cell runs with (-P alloc=NAME; issue 13).
 *
 * glibc is the C library's malloc and pool is Hart et al.'s node allocator
 * (schemes/smr_pool.h), switched on in the cell's process; jemalloc,
 * mimalloc and tcmalloc are the Debian libraries, preloaded as their users
 * preload them: the cell's process is re-executed (/proc/self/exe, the
 * hidden `smrbench __cell` command) with the library at the head of
 * LD_PRELOAD, and checks that its malloc really is the library's before it
 * measures anything.
 */
#ifndef SMRB_ALLOC_H
#define SMRB_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The allocator of a run that does not say -P alloc=, chosen by measurement
 * (README, "Allocators"): the one under which allocation takes the smallest
 * share of an msqueue operation: pool, whose fast path inlines (the
 * profiles of each allocator are in the README).  Sanitizer builds default to glibc:
 * they exist to check, and LeakSanitizer sees malloc's blocks, not the
 * pool's.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SMRB_DEFAULT_ALLOC "glibc"
#else
#define SMRB_DEFAULT_ALLOC "pool"
#endif

struct smrb_alloc {
	const char *name;     /* -P alloc=NAME and runs.csv's alloc column */
	const char *library;  /* the file the loader finds ("libjemalloc.so.2"); NULL: built in */
	const char *package;  /* the Debian package that holds it (NULL: built in) */
	bool preload;         /* loaded with LD_PRELOAD into a re-executed cell process */
	const char *summary;  /* one line, for smrbench list */
	const char *symbol;   /* a symbol only this allocator exports: the in-use check */
};

/* Every allocator, in the order smrbench list shows them; NULL-terminated by name. */
extern const struct smrb_alloc smrb_allocs[];

const struct smrb_alloc *alloc_find(const char *name);
/* "glibc, jemalloc, mimalloc, tcmalloc, pool" */
void alloc_known(char *buf, size_t len);
/* Is it loaded with LD_PRELOAD (a re-executed cell process)? */
bool alloc_preloaded(const struct smrb_alloc *a);
/*
 * The library's path on this machine: $SMRBENCH_ALLOC_LIB_<NAME> when set
 * (tests point it at a missing file; it may also name a locally built
 * library), else the first directory of the loader's search path
 * (LD_LIBRARY_PATH, /etc/ld.so.conf and its includes, the default
 * directories) that holds the file.  false when it is nowhere.
 * For the allocators that are not preloaded: the library's name (glibc) or
 * "built in" (pool), true.
 */
bool alloc_library_path(const struct smrb_alloc *a, char *buf, size_t len);
bool alloc_installed(const struct smrb_alloc *a);
/* The package's version (dpkg-query), or "unknown"; pool: this tree's git revision. */
void alloc_version(const struct smrb_alloc *a, char *buf, size_t len);
/* The sanitizer that owns malloc in this build ("AddressSanitizer",
 * "ThreadSanitizer"), or NULL: then the preloaded allocators can run. */
const char *alloc_sanitizer_owner(void);
/* May a run use this value?  0, or -1 with the one-line reason (unknown,
 * not usable in a sanitizer build, not installed). */
int alloc_check(const char *name, char *err, size_t errlen);

/*
 * In the cell's process, before the workload's create(): pool switches the
 * pool on; a preloaded allocator must be the one malloc resolves to here
 * (its marker symbol found, malloc defined in its library); glibc's malloc
 * must be the C library's (not one preloaded by the user).  0, or -1 with
 * the message the cell fails with.
 */
int alloc_cell_setup(const char *name, char *err, size_t errlen);

#endif

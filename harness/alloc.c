/* SPDX-License-Identifier: MIT */
/*
 * alloc.c - the allocator table (-P alloc=NAME), where each library is on
 * this machine, its version, and the check a cell's process makes that the
 * allocator it was started with is the one it runs on.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dlfcn.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "harness/alloc.h"
#include "schemes/smr_pool.h"

const struct smrb_alloc smrb_allocs[] = {
	{ .name = "glibc", .library = "libc.so.6", .package = "libc6",
	  .summary = "the C library's malloc (ptmalloc2: arenas, per-thread tcache)" },
	{ .name = "jemalloc", .library = "libjemalloc.so.2", .package = "libjemalloc2", .preload = true,
	  .summary = "jemalloc: size-class slabs, per-thread caches, several arenas", .symbol = "mallctl" },
	{ .name = "mimalloc", .library = "libmimalloc.so.2", .package = "libmimalloc2.0", .preload = true,
	  .summary = "Microsoft's mimalloc: thread-local heaps, free lists sharded per page",
	  .symbol = "mi_version" },
	{ .name = "tcmalloc", .library = "libtcmalloc_minimal.so.4", .package = "libtcmalloc-minimal4",
	  .preload = true, .summary = "gperftools' TCMalloc (minimal): per-thread caches over central free lists",
	  .symbol = "tc_version" },
	{ .name = "pool",
	  .summary = "Hart et al.'s pool for the workloads' nodes: per-thread magazines, type-stable "
		     "(schemes/smr_pool.c); glibc for the rest" },
	{ .name = NULL },
};

const struct smrb_alloc *alloc_find(const char *name)
{
	for (const struct smrb_alloc *a = smrb_allocs; a->name; a++)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

void alloc_known(char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = 0;
	for (const struct smrb_alloc *a = smrb_allocs; a->name && n < len; a++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", a == smrb_allocs ? "" : ", ", a->name);
}

bool alloc_preloaded(const struct smrb_alloc *a)
{
	return a->preload;
}

/* ---- where the loader would find a library ---- */

/* Try dir/file; true with its path in buf when the file is there. */
static bool try_dir(const char *dir, size_t dirlen, const char *file, char *buf, size_t len)
{
	if (dirlen == 0 || dirlen >= PATH_MAX)
		return false;
	snprintf(buf, len, "%.*s/%s", (int)dirlen, dir, file);
	return access(buf, R_OK) == 0;
}

/* The directories listed in an ld.so.conf file (with its `include`s, as the loader's ldconfig reads them). */
static bool try_conf(const char *conf, const char *file, char *buf, size_t len, int depth)
{
	FILE *f = fopen(conf, "r");
	char line[PATH_MAX];
	bool found = false;
	if (!f)
		return false;
	while (!found && fgets(line, sizeof line, f)) {
		line[strcspn(line, "#\n")] = 0;
		char *s = line + strspn(line, " \t");
		size_t n = strlen(s);
		while (n && isspace((unsigned char)s[n - 1]))
			s[--n] = 0;
		if (!n)
			continue;
		if (!strncmp(s, "include", 7) && isspace((unsigned char)s[7])) {
			char *pat = s + 8 + strspn(s + 8, " \t");
			glob_t g;
			if (depth < 4 && glob(pat, 0, NULL, &g) == 0) {
				for (size_t i = 0; i < g.gl_pathc && !found; i++)
					found = try_conf(g.gl_pathv[i], file, buf, len, depth + 1);
				globfree(&g);
			}
			continue;
		}
		found = try_dir(s, n, file, buf, len);
	}
	fclose(f);
	return found;
}

static bool find_library(const char *file, char *buf, size_t len)
{
	/* The loader's order: LD_LIBRARY_PATH, its cache (built from
	 * /etc/ld.so.conf), then the default directories. */
	const char *lp = getenv("LD_LIBRARY_PATH");
	while (lp && *lp) {
		size_t n = strcspn(lp, ":;");
		if (try_dir(lp, n, file, buf, len))
			return true;
		lp += n + (lp[n] != 0);
	}
	if (try_conf("/etc/ld.so.conf", file, buf, len, 0))
		return true;
	static const char *const defaults[] = { "/lib64", "/usr/lib64", "/lib", "/usr/lib", NULL };
	for (int i = 0; defaults[i]; i++)
		if (try_dir(defaults[i], strlen(defaults[i]), file, buf, len))
			return true;
	return false;
}

/* SMRBENCH_ALLOC_LIB_<NAME>: the library's path, when set. */
static const char *override_path(const struct smrb_alloc *a)
{
	char var[64] = "SMRBENCH_ALLOC_LIB_";
	size_t n = strlen(var);
	for (const char *c = a->name; *c && n < sizeof var - 1; c++)
		var[n++] = (char)toupper((unsigned char)*c);
	var[n] = 0;
	const char *v = getenv(var);
	return v && *v ? v : NULL;
}

bool alloc_library_path(const struct smrb_alloc *a, char *buf, size_t len)
{
	if (!a->preload) {
		snprintf(buf, len, "%s", a->library ? a->library : "built in");
		return true;
	}
	const char *o = override_path(a);
	if (o) {
		snprintf(buf, len, "%s", o);
		return access(o, R_OK) == 0;
	}
	if (find_library(a->library, buf, len))
		return true;
	snprintf(buf, len, "%s", a->library);
	return false;
}

bool alloc_installed(const struct smrb_alloc *a)
{
	char path[PATH_MAX];
	return alloc_library_path(a, path, sizeof path);
}

void alloc_version(const struct smrb_alloc *a, char *buf, size_t len)
{
	snprintf(buf, len, "unknown");
	if (!a->package) {
		/* Built in: it is this tree's code. */
		snprintf(buf, len, "smrbench %s (git %s)", PACKAGE_VERSION, SMRB_GIT_REVISION);
		return;
	}
	if (a->preload && override_path(a))
		return; /* a file of the user's choice: the package says nothing about it */
	char cmd[256];
	snprintf(cmd, sizeof cmd, "dpkg-query -W -f='${Version}' %s 2>/dev/null", a->package);
	fflush(NULL);
	FILE *p = popen(cmd, "r");
	if (!p)
		return;
	char v[128];
	size_t n = fread(v, 1, sizeof v - 1, p);
	v[n] = 0;
	v[strcspn(v, "\n")] = 0;
	if (pclose(p) == 0 && v[0])
		snprintf(buf, len, "%s", v);
}

/* ---- what a run may use ---- */

const char *alloc_sanitizer_owner(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return "AddressSanitizer";
#elif defined(__SANITIZE_THREAD__)
	return "ThreadSanitizer";
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
	return "AddressSanitizer";
#elif __has_feature(thread_sanitizer)
	return "ThreadSanitizer";
#else
	return NULL;
#endif
#else
	return NULL;
#endif
}

int alloc_check(const char *name, char *err, size_t errlen)
{
	const struct smrb_alloc *a = alloc_find(name);
	if (!a) {
		char known[128];
		alloc_known(known, sizeof known);
		snprintf(err, errlen, "unknown allocator '%s' in -P alloc (known: %s)", name, known);
		return -1;
	}
	if (a->preload && alloc_sanitizer_owner()) {
		snprintf(err, errlen,
			 "alloc=%s cannot run in this %s build: the sanitizer owns malloc, so a preloaded "
			 "allocator cannot replace it (alloc=glibc and alloc=pool run here)",
			 name, alloc_sanitizer_owner());
		return -1;
	}
	char path[PATH_MAX];
	if (!alloc_library_path(a, path, sizeof path)) {
		snprintf(err, errlen, "alloc=%s: %s is not installed (Debian package %s; scripts/setup.sh installs it)",
			 name, path, a->package);
		return -1;
	}
	return 0;
}

/* ---- in the cell's process ---- */

/* The file malloc is defined in, as this process resolves it. */
static const char *malloc_file(void)
{
	Dl_info info;
	void *m = dlsym(RTLD_DEFAULT, "malloc");
	if (!m || !dladdr(m, &info) || !info.dli_fname)
		return NULL;
	return info.dli_fname;
}

static bool same_file(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];
	if (!realpath(a, ra) || !realpath(b, rb))
		return !strcmp(a, b);
	return !strcmp(ra, rb);
}

int alloc_cell_setup(const char *name, char *err, size_t errlen)
{
	const struct smrb_alloc *a = alloc_find(name);
	if (!a) {
		snprintf(err, errlen, "unknown allocator '%s'", name);
		return -1;
	}
	if (!strcmp(a->name, "pool")) {
		smr_pool_enable();
		return 0;
	}
	const char *file = malloc_file();
	if (!a->preload) {
		/* glibc: malloc must be the C library's.  (A sanitizer build's
		 * malloc is the sanitizer's, by design: nothing to check.) */
		if (alloc_sanitizer_owner())
			return 0;
		const char *base = file ? strrchr(file, '/') : NULL;
		base = base ? base + 1 : file;
		if (!base || strncmp(base, "libc.so", 7)) {
			snprintf(err, errlen,
				 "alloc=%s: malloc in the cell's process comes from %s, not the C library "
				 "(LD_PRELOAD=%s?)", a->name, file ? file : "an unknown object",
				 getenv("LD_PRELOAD") ? getenv("LD_PRELOAD") : "");
			return -1;
		}
		return 0;
	}
	char want[PATH_MAX];
	if (!alloc_library_path(a, want, sizeof want)) {
		snprintf(err, errlen, "alloc=%s: %s is not installed", a->name, want);
		return -1;
	}
	if (!dlsym(RTLD_DEFAULT, a->symbol)) {
		snprintf(err, errlen, "alloc=%s: %s is not loaded in the cell's process (no %s(); LD_PRELOAD=%s)",
			 a->name, want, a->symbol, getenv("LD_PRELOAD") ? getenv("LD_PRELOAD") : "");
		return -1;
	}
	if (!file || !same_file(file, want)) {
		snprintf(err, errlen, "alloc=%s: malloc in the cell's process comes from %s, not %s (LD_PRELOAD=%s)",
			 a->name, file ? file : "an unknown object", want,
			 getenv("LD_PRELOAD") ? getenv("LD_PRELOAD") : "");
		return -1;
	}
	return 0;
}

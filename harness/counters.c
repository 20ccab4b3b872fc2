/* SPDX-License-Identifier: MIT */
/*
 * counters.c - counters per measured thread: PAPI, and the kernel for the
 * software events PAPI cannot give.
 *
 * Hardware events (cycles, instructions, cache and branch misses) are PAPI
 * presets.  Software events (context switches, page faults, migrations)
 * come from PAPI's perf_event component (perf::CONTEXT-SWITCHES, ...) when
 * it works; that component disables itself on VMs where libpfm4 finds no
 * PMU, and PAPI may be absent altogether.  Then they come from the kernel
 * directly: perf_event_open(PERF_TYPE_SOFTWARE) on the thread, or, where
 * that is refused, getrusage(RUSAGE_THREAD) (no migrations there).  Every
 * source is read only at the measured window's start and end: the hot path
 * never sees it.  A counter nothing gives is reported as -1 and written as
 * an empty CSV cell: never a zero that looks like a measurement.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "harness/harness.h"

const char *const ctr_column[CTR_N] = {
	"cycles_per_op", "instr_per_op", "l1d_miss_per_op", "llc_miss_per_op", "br_miss_per_op",
	"ctx_switches", "page_faults", "migrations",
};
const bool ctr_per_op[CTR_N] = { true, true, true, true, true, false, false, false };

static const char *const event_names[CTR_N] = {
	"PAPI_TOT_CYC", "PAPI_TOT_INS", "PAPI_L1_DCM", "PAPI_L3_TCM", "PAPI_BR_MSP",
	"perf::CONTEXT-SWITCHES", "perf::PAGE-FAULTS", "perf::CPU-MIGRATIONS",
};

/* Where each counter comes from.  The character is how a re-executed cell
 * (smrbench __cell) inherits it: counters_mask_get()/set(). */
enum ctr_src { SRC_NONE, SRC_PAPI, SRC_PERF, SRC_PERF_USER, SRC_RUSAGE };
static const char src_char[] = "01kur";
static enum ctr_src source[CTR_N];
static enum ctr_mode mode = CTR_MODE_AUTO;

/* The software events, by ctr_id - CTR_CTX_SWITCHES. */
#define SOFT_FIRST CTR_CTX_SWITCHES
static const struct {
	uint64_t config;
	const char *perf_name, *rusage_name; /* rusage_name NULL: getrusage has none */
} soft[CTR_N - SOFT_FIRST] = {
	{ PERF_COUNT_SW_CONTEXT_SWITCHES, "PERF_COUNT_SW_CONTEXT_SWITCHES", "ru_nvcsw+ru_nivcsw" },
	{ PERF_COUNT_SW_PAGE_FAULTS, "PERF_COUNT_SW_PAGE_FAULTS", "ru_minflt+ru_majflt" },
	{ PERF_COUNT_SW_CPU_MIGRATIONS, "PERF_COUNT_SW_CPU_MIGRATIONS", NULL },
};

const char *counters_event_name(enum ctr_id id)
{
	return event_names[id];
}

bool counters_available(enum ctr_id id)
{
	return source[id] != SRC_NONE;
}

const char *counters_source(enum ctr_id id)
{
	static char buf[CTR_N][96];
	const char *soft_perf = id >= SOFT_FIRST ? soft[id - SOFT_FIRST].perf_name : "";
	switch (source[id]) {
	case SRC_PAPI:
		snprintf(buf[id], sizeof buf[id], "papi:%s", event_names[id]);
		break;
	case SRC_PERF:
		snprintf(buf[id], sizeof buf[id], "perf_event_open:%s", soft_perf);
		break;
	case SRC_PERF_USER:
		/* perf_event_paranoid allows user-mode counting only: said, because
		 * faults taken in the kernel (copy_to_user) are not in it. */
		snprintf(buf[id], sizeof buf[id], "perf_event_open:%s (exclude_kernel)", soft_perf);
		break;
	case SRC_RUSAGE:
		snprintf(buf[id], sizeof buf[id], "getrusage:RUSAGE_THREAD:%s", soft[id - SOFT_FIRST].rusage_name);
		break;
	default:
		return NULL;
	}
	return buf[id];
}

int counters_mode_parse(const char *s, enum ctr_mode *m)
{
	static const char *const names[] = { "auto", "papi", "kernel" };
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, names[i])) {
			*m = (enum ctr_mode)i;
			return 0;
		}
	return -1;
}

void counters_mode_set(enum ctr_mode m)
{
	mode = m;
}

void counters_mask_get(char out[CTR_N + 1])
{
	for (int i = 0; i < CTR_N; i++)
		out[i] = src_char[source[i]];
	out[CTR_N] = 0;
}

int counters_mask_set(const char *mask)
{
	if (strlen(mask) != CTR_N || strspn(mask, src_char) != CTR_N)
		return -1;
	for (int i = 0; i < CTR_N; i++) {
		enum ctr_src s = (enum ctr_src)(strchr(src_char, mask[i]) - src_char);
		/* Only the software events have a kernel source. */
		if (i < SOFT_FIRST && s != SRC_NONE && s != SRC_PAPI)
			return -1;
		if (s == SRC_RUSAGE && !soft[i - SOFT_FIRST].rusage_name)
			return -1;
		source[i] = s;
	}
	return 0;
}

/* ---- the kernel's software events ---- */

static int perf_open(enum ctr_id id, bool user_only)
{
	/* Tests simulate a kernel that refuses (perf_event_paranoid 3, seccomp). */
	const char *no = getenv("SMRBENCH_NO_PERF_EVENT");
	if (no && *no && strcmp(no, "0")) {
		errno = EACCES;
		return -1;
	}
	struct perf_event_attr a;
	memset(&a, 0, sizeof a);
	a.size = sizeof a;
	a.type = PERF_TYPE_SOFTWARE;
	a.config = soft[id - SOFT_FIRST].config;
	a.exclude_kernel = user_only;
	a.exclude_hv = user_only;
	/* This thread (pid 0) on any CPU (-1), counting from now on. */
	return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

static int64_t perf_read(int fd)
{
	uint64_t v;
	return read(fd, &v, sizeof v) == (ssize_t)sizeof v ? (int64_t)v : -1;
}

static int64_t rusage_value(enum ctr_id id, const struct rusage *ru)
{
	if (id == CTR_CTX_SWITCHES)
		return ru->ru_nvcsw + ru->ru_nivcsw;
	return ru->ru_minflt + ru->ru_majflt;
}

/*
 * Make event id happen on this thread; false if it cannot be made to.
 * Needed because a source can open and read zero without counting: with
 * exclude_kernel, context switches and migrations are never seen (they
 * happen in the scheduler), which would write a zero that is no measurement.
 */
static bool provoke(enum ctr_id id)
{
	if (id == CTR_CTX_SWITCHES) {
		/* Each sleep blocks: a voluntary context switch. */
		for (int i = 0; i < 3; i++)
			nanosleep(&(struct timespec){ .tv_nsec = 200000 }, NULL);
		return true;
	}
	if (id == CTR_PAGE_FAULTS) {
		long pg = sysconf(_SC_PAGESIZE);
		char *p = mmap(NULL, (size_t)pg * 4, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return false;
		for (int i = 0; i < 4; i++)
			((volatile char *)p)[i * pg] = 1; /* first touch: a minor fault each */
		munmap(p, (size_t)pg * 4);
		return true;
	}
	/* A migration: move to another allowed CPU, then restore the mask. */
	cpu_set_t old, to;
	int here = sched_getcpu();
	if (here < 0 || sched_getaffinity(0, sizeof old, &old) || CPU_COUNT(&old) < 2)
		return false;
	CPU_ZERO(&to);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (c != here && CPU_ISSET(c, &old)) {
			CPU_SET(c, &to);
			break;
		}
	bool moved = sched_setaffinity(0, sizeof to, &to) == 0;
	sched_setaffinity(0, sizeof old, &old);
	return moved;
}

/* The kernel source that counts event id here, SRC_NONE if none does. */
static enum ctr_src kernel_probe(enum ctr_id id)
{
	/* All modes first; where perf_event_paranoid refuses, user mode only. */
	for (int user_only = 0; user_only < 2; user_only++) {
		int fd = perf_open(id, user_only);
		if (fd < 0)
			continue;
		int64_t v0 = perf_read(fd);
		bool provoked = provoke(id);
		int64_t v1 = perf_read(fd);
		close(fd);
		if (v0 >= 0 && v1 > v0)
			return user_only ? SRC_PERF_USER : SRC_PERF;
		/* Nothing to provoke (one CPU): trust a source that sees the kernel. */
		if (!provoked && !user_only && v1 >= 0)
			return SRC_PERF;
	}
	if (!soft[id - SOFT_FIRST].rusage_name)
		return SRC_NONE;
	struct rusage r0, r1;
	if (getrusage(RUSAGE_THREAD, &r0))
		return SRC_NONE;
	provoke(id);
	if (getrusage(RUSAGE_THREAD, &r1))
		return SRC_NONE;
	return rusage_value(id, &r1) > rusage_value(id, &r0) ? SRC_RUSAGE : SRC_NONE;
}

/* What the previous probe note said ends here: the software events PAPI left. */
static void kernel_probe_all(void)
{
	if (mode == CTR_MODE_PAPI)
		return;
	for (int i = SOFT_FIRST; i < CTR_N; i++)
		if (source[i] == SRC_NONE)
			source[i] = kernel_probe((enum ctr_id)i);
}

/* Append to note the counters nothing gives. */
static void note_missing(char *note, size_t notelen, const char *what)
{
	size_t len = strlen(note);
	int missing = 0;
	for (int i = 0; i < CTR_N; i++)
		missing += source[i] == SRC_NONE;
	if (!missing || len >= notelen)
		return;
	len += (size_t)snprintf(note + len, notelen - len, "%s%s:", len ? "; " : "", what);
	for (int i = 0; i < CTR_N && len < notelen; i++)
		if (source[i] == SRC_NONE)
			len += (size_t)snprintf(note + len, notelen - len, " %s", ctr_column[i]);
	if (len < notelen)
		snprintf(note + len, notelen - len, "; those columns are left empty");
}

/* Per thread: the kernel sources' fds and their values at the window's start. */
struct kernel_thread {
	int fd[CTR_N];
	int64_t base[CTR_N];
};

static void kernel_thread_prepare(struct kernel_thread *k)
{
	for (int i = 0; i < CTR_N; i++) {
		k->fd[i] = -1;
		if (source[i] == SRC_PERF || source[i] == SRC_PERF_USER)
			k->fd[i] = perf_open((enum ctr_id)i, source[i] == SRC_PERF_USER);
	}
}

static bool kernel_any(void)
{
	for (int i = SOFT_FIRST; i < CTR_N; i++)
		if (source[i] == SRC_PERF || source[i] == SRC_PERF_USER || source[i] == SRC_RUSAGE)
			return true;
	return false;
}

/* The kernel sources' current values: -1 for a counter not from the kernel or unreadable. */
static void kernel_read(const struct kernel_thread *k, int64_t v[CTR_N])
{
	struct rusage ru;
	bool ru_ok = false;
	for (int i = 0; i < CTR_N; i++) {
		v[i] = -1;
		if (k->fd[i] >= 0)
			v[i] = perf_read(k->fd[i]);
		else if (source[i] == SRC_RUSAGE) {
			if (!ru_ok && getrusage(RUSAGE_THREAD, &ru) == 0)
				ru_ok = true;
			if (ru_ok)
				v[i] = rusage_value((enum ctr_id)i, &ru);
		}
	}
}

/* out[i] = the kernel counter's difference over the window, for kernel sources. */
static void kernel_thread_stop(struct kernel_thread *k, int64_t out[CTR_N])
{
	int64_t now[CTR_N];
	kernel_read(k, now);
	for (int i = 0; i < CTR_N; i++) {
		if (source[i] == SRC_PERF || source[i] == SRC_PERF_USER || source[i] == SRC_RUSAGE)
			out[i] = now[i] >= 0 && k->base[i] >= 0 ? now[i] - k->base[i] : -1;
		if (k->fd[i] >= 0)
			close(k->fd[i]);
		k->fd[i] = -1;
	}
}

#ifdef HAVE_PAPI
#include <papi.h>
#include <pthread.h>

struct ctr_thread {
	int eventset; /* PAPI_NULL when no counter is PAPI's */
	int index[CTR_N]; /* position in the event set, -1 if not in it */
	int n;
	bool started;
	struct kernel_thread k;
};

const char *counters_papi_version(void)
{
	static char v[32];
	snprintf(v, sizeof v, "%d.%d.%d", PAPI_VERSION_MAJOR(PAPI_VERSION),
		 PAPI_VERSION_MINOR(PAPI_VERSION), PAPI_VERSION_REVISION(PAPI_VERSION));
	return v;
}

static int library_init(void)
{
	int v = PAPI_library_init(PAPI_VER_CURRENT);
	if (v != PAPI_VER_CURRENT)
		return -1;
	if (PAPI_thread_init(pthread_self) != PAPI_OK)
		return -1;
	/*
	 * Count in kernel mode too: context switches, page faults and migrations
	 * happen there, and the default user-only domain reads them as zero.
	 * If the kernel refuses (perf_event_paranoid), user-only still counts
	 * the hardware events.
	 */
	PAPI_set_domain(PAPI_DOM_ALL);
	return 0;
}

/* Can this event be added to an event set and started here?  (Listed is not enough in VMs.) */
static bool event_works(const char *name)
{
	int es = PAPI_NULL;
	bool ok = false;
	if (PAPI_create_eventset(&es) != PAPI_OK)
		return false;
	if (PAPI_add_named_event(es, name) == PAPI_OK && PAPI_start(es) == PAPI_OK) {
		long long v;
		ok = PAPI_stop(es, &v) == PAPI_OK;
	}
	PAPI_cleanup_eventset(es);
	PAPI_destroy_eventset(&es);
	return ok;
}

static bool papi_any(void)
{
	for (int i = 0; i < CTR_N; i++)
		if (source[i] == SRC_PAPI)
			return true;
	return false;
}

int counters_probe(char *note, size_t notelen)
{
	int n = 0;
	note[0] = 0;
	memset(source, 0, sizeof source);
	if (library_init() < 0) {
		snprintf(note, notelen, "PAPI could not initialise");
	} else {
		/* --counters kernel: the software events skip PAPI. */
		int last = mode == CTR_MODE_KERNEL ? SOFT_FIRST : CTR_N;
		for (int i = 0; i < last; i++)
			if (event_works(event_names[i]))
				source[i] = SRC_PAPI;
		/* The cell processes initialise their own copy after fork. */
		PAPI_shutdown();
	}
	kernel_probe_all();
	note_missing(note, notelen, "not available on this machine");
	for (int i = 0; i < CTR_N; i++)
		n += source[i] != SRC_NONE;
	return n;
}

void counters_process_init(void)
{
	if (papi_any() && library_init() < 0)
		for (int i = 0; i < CTR_N; i++)
			if (source[i] == SRC_PAPI)
				source[i] = SRC_NONE;
}

/*
 * PAPI's own bookkeeping (event-name tables, thread list) is shared between
 * threads behind locks TSan cannot see, and the TSan build reports races in
 * it when threads set up event sets at once.  Thread set-up and tear-down are
 * outside the measured loop, so one mutex around them costs nothing that is
 * measured and makes the calls provably ordered.
 */
static pthread_mutex_t papi_lock = PTHREAD_MUTEX_INITIALIZER;

struct ctr_thread *counters_thread_prepare(void)
{
	bool papi = papi_any();
	if (!papi && !kernel_any())
		return NULL;
	struct ctr_thread *c = calloc(1, sizeof *c);
	c->eventset = PAPI_NULL;
	for (int i = 0; i < CTR_N; i++)
		c->index[i] = -1;
	kernel_thread_prepare(&c->k);
	if (!papi)
		return c;
	pthread_mutex_lock(&papi_lock);
	if (PAPI_register_thread() != PAPI_OK || PAPI_create_eventset(&c->eventset) != PAPI_OK) {
		/* The PAPI columns read -1; the kernel's still count. */
		c->eventset = PAPI_NULL;
		pthread_mutex_unlock(&papi_lock);
		return c;
	}
	for (int i = 0; i < CTR_N; i++)
		if (source[i] == SRC_PAPI && PAPI_add_named_event(c->eventset, event_names[i]) == PAPI_OK)
			c->index[i] = c->n++;
	pthread_mutex_unlock(&papi_lock);
	return c;
}

void counters_thread_start(struct ctr_thread *c)
{
	if (!c)
		return;
	if (c->eventset != PAPI_NULL) {
		pthread_mutex_lock(&papi_lock);
		c->started = c->n > 0 && PAPI_start(c->eventset) == PAPI_OK;
		pthread_mutex_unlock(&papi_lock);
	}
	/* Last, so that the PAPI lock's wait is outside the kernel's window. */
	kernel_read(&c->k, c->k.base);
}

void counters_thread_stop(struct ctr_thread *c, int64_t out[CTR_N])
{
	for (int i = 0; i < CTR_N; i++)
		out[i] = -1;
	if (!c)
		return;
	/* First, for the same reason. */
	kernel_thread_stop(&c->k, out);
	if (c->eventset != PAPI_NULL) {
		long long v[CTR_N] = { 0 };
		pthread_mutex_lock(&papi_lock);
		if (c->started && PAPI_stop(c->eventset, v) == PAPI_OK)
			for (int i = 0; i < CTR_N; i++)
				if (c->index[i] >= 0)
					out[i] = v[c->index[i]];
		PAPI_cleanup_eventset(c->eventset);
		PAPI_destroy_eventset(&c->eventset);
		PAPI_unregister_thread();
		pthread_mutex_unlock(&papi_lock);
	}
	free(c);
}

#else /* !HAVE_PAPI: the kernel's software events only */

struct ctr_thread {
	struct kernel_thread k;
};

const char *counters_papi_version(void)
{
	return "none";
}

int counters_probe(char *note, size_t notelen)
{
	int n = 0;
	note[0] = 0;
	memset(source, 0, sizeof source);
	snprintf(note, notelen, "built without PAPI (--without-papi)");
	kernel_probe_all();
	note_missing(note, notelen, "not available");
	for (int i = 0; i < CTR_N; i++)
		n += source[i] != SRC_NONE;
	return n;
}

void counters_process_init(void) {}

struct ctr_thread *counters_thread_prepare(void)
{
	if (!kernel_any())
		return NULL;
	struct ctr_thread *c = calloc(1, sizeof *c);
	kernel_thread_prepare(&c->k);
	return c;
}

void counters_thread_start(struct ctr_thread *c)
{
	if (c)
		kernel_read(&c->k, c->k.base);
}

void counters_thread_stop(struct ctr_thread *c, int64_t out[CTR_N])
{
	for (int i = 0; i < CTR_N; i++)
		out[i] = -1;
	if (!c)
		return;
	kernel_thread_stop(&c->k, out);
	free(c);
}

#endif

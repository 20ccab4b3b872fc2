/*
 * counters.c - PAPI counters per measured thread.
 *
 * Hardware events (cycles, instructions, cache and branch misses) are PAPI
 * presets; software events come from PAPI's perf_event component
 * (perf::CONTEXT-SWITCHES, ...), which counts even in VMs without a PMU, so
 * this code path is exercised everywhere.  A counter this machine lacks is
 * reported as -1 and written as an empty CSV cell: never a zero that looks
 * like a measurement.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static bool available[CTR_N];

const char *counters_event_name(enum ctr_id id)
{
	return event_names[id];
}

bool counters_available(enum ctr_id id)
{
	return available[id];
}

void counters_mask_get(char out[CTR_N + 1])
{
	for (int i = 0; i < CTR_N; i++)
		out[i] = available[i] ? '1' : '0';
	out[CTR_N] = 0;
}

int counters_mask_set(const char *mask)
{
	if (strlen(mask) != CTR_N || strspn(mask, "01") != CTR_N)
		return -1;
	for (int i = 0; i < CTR_N; i++)
		available[i] = mask[i] == '1';
	return 0;
}

#ifdef HAVE_PAPI
#include <papi.h>
#include <pthread.h>

struct ctr_thread {
	int eventset;
	int index[CTR_N]; /* position in the event set, -1 if not in it */
	int n;
	bool started;
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

int counters_probe(char *note, size_t notelen)
{
	int n = 0;
	note[0] = 0;
	if (library_init() < 0) {
		snprintf(note, notelen, "PAPI could not initialise: every counter column is left empty");
		return 0;
	}
	for (int i = 0; i < CTR_N; i++) {
		available[i] = event_works(event_names[i]);
		n += available[i];
	}
	/* The cell processes initialise their own copy after fork. */
	PAPI_shutdown();
	if (n < CTR_N) {
		size_t len = (size_t)snprintf(note, notelen, "PAPI: not available on this machine:");
		for (int i = 0; i < CTR_N && len < notelen; i++)
			if (!available[i])
				len += (size_t)snprintf(note + len, notelen - len, " %s", event_names[i]);
		if (len < notelen)
			snprintf(note + len, notelen - len, "; those columns are left empty");
	}
	return n;
}

void counters_process_init(void)
{
	bool any = false;
	for (int i = 0; i < CTR_N; i++)
		any |= available[i];
	if (any && library_init() < 0)
		memset(available, 0, sizeof available);
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
	bool any = false;
	for (int i = 0; i < CTR_N; i++)
		any |= available[i];
	if (!any)
		return NULL;
	struct ctr_thread *c = calloc(1, sizeof *c);
	c->eventset = PAPI_NULL;
	for (int i = 0; i < CTR_N; i++)
		c->index[i] = -1;
	pthread_mutex_lock(&papi_lock);
	if (PAPI_register_thread() != PAPI_OK || PAPI_create_eventset(&c->eventset) != PAPI_OK) {
		pthread_mutex_unlock(&papi_lock);
		free(c);
		return NULL;
	}
	for (int i = 0; i < CTR_N; i++)
		if (available[i] && PAPI_add_named_event(c->eventset, event_names[i]) == PAPI_OK)
			c->index[i] = c->n++;
	pthread_mutex_unlock(&papi_lock);
	return c;
}

void counters_thread_start(struct ctr_thread *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&papi_lock);
	c->started = c->n > 0 && PAPI_start(c->eventset) == PAPI_OK;
	pthread_mutex_unlock(&papi_lock);
}

void counters_thread_stop(struct ctr_thread *c, int64_t out[CTR_N])
{
	for (int i = 0; i < CTR_N; i++)
		out[i] = -1;
	if (!c)
		return;
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
	free(c);
}

#else /* !HAVE_PAPI */

const char *counters_papi_version(void)
{
	return "none";
}

int counters_probe(char *note, size_t notelen)
{
	snprintf(note, notelen, "built without PAPI (--without-papi): every counter column is left empty");
	return 0;
}

void counters_process_init(void) {}

struct ctr_thread *counters_thread_prepare(void)
{
	return NULL;
}

void counters_thread_start(struct ctr_thread *c)
{
	(void)c;
}

void counters_thread_stop(struct ctr_thread *c, int64_t out[CTR_N])
{
	(void)c;
	for (int i = 0; i < CTR_N; i++)
		out[i] = -1;
}

#endif

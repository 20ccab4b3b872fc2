/* SPDX-License-Identifier: MIT */
/*
 * scheme_selftest.c - the contract's unit tests (schemes/smr.h), compiled
 * into each scheme's instance in test builds: instances/instance.h includes it
 * when SMRB_FAULTS is defined, after SMR_SYM(scheme_params).  Run with
 * `smrbench-faults selftest [SCHEME]`.
 *
 * TAP lines on stdout, each naming the scheme; no plan line (tests/selftest.sh
 * counts the lines and prints it).  scheme_selftest() returns the number of
 * failed tests.
 *
 *  1. retire_drop vs retire_free, one thread: each dropped object's destructor
 *     runs exactly once, a freed object's never; retired == reclaimed.
 *  2. reclamation while the domain lives: driven as a workload drives it
 *     (begin / protect / end, quiescent after every batch, retires) on two
 *     registered threads, the scheme must reclaim something before destroy
 *     (none: nothing).
 *  3. stress with poisoning: readers protect a shared slot and check a canary
 *     while a writer exchanges new objects in and retires the old ones; a
 *     reclaimed object is poisoned, so a premature free shows up as a bad
 *     canary (or a destructor seeing a dead object: a double reclaim).
 *  Later: deterministic interleavings inside protect (below), the
 *  membarrier accounting, and the contract's assertions (scheme_asserts.c).
 *
 * Every object goes through the ownership rules of smr.h (linked with
 * smr_exchange, taken out with smr_exchange, retired inside begin/end by the
 * thread that took it out), so the same tests hold for reference counting
 * and hazard pointers.
 *
 * Names start with sst_: this file shares a translation unit with every
 * workload.  Durations scale with SMRB_TEST_SCALE (sanitized trees).
 */
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SST_LIVE 0x1ee7c0de5afe0001ull
#define SST_DEAD 0xdeadbeefdeadbeefull

/* A test object.  The canary is not in the first 8 bytes: the poisoning
 * quarantine keeps its list link there (it sits after the smr_node anyway). */
struct sst_obj {
	struct smr_node node;
	uint64_t canary;
	uint64_t id;
	uint64_t check;       /* sst_mix(id): a second field readers compare */
};

static inline uint64_t sst_mix(uint64_t x)
{
	return (x * 0x9E3779B97F4A7C15ull) ^ 0x5555555555555555ull;
}

static double sst_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double sst_scale(void)
{
	const char *e = getenv("SMRB_TEST_SCALE");
	double s = e ? strtod(e, NULL) : 1.0;
	return s > 0 ? s : 1.0;
}

static int sst_failed;

static void sst_report(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sst_report(bool ok, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	printf("%s - %s: %s\n", ok ? "ok" : "not ok", SMR_SCHEME_NAME, msg);
	fflush(stdout);
	if (!ok)
		sst_failed++;
}

/* Config as the harness makes it: the scheme's defaults, two hazard slots. */
static smr_domain *sst_domain(int max_threads, const char *test)
{
	struct smr_config cfg = { .max_threads = max_threads, .hazard_slots = 2 };
	char err[256] = "";
	smr_config_defaults(&cfg, SMR_SYM(scheme_params));
	smr_domain *d = smr_domain_create(&cfg, err, sizeof err);
	if (!d)
		printf("ok - %s: %s # SKIP the domain was refused: %s\n", SMR_SCHEME_NAME, test, err);
	return d;
}

static struct sst_obj *sst_new(smr_thread *t, uint64_t id)
{
	struct sst_obj *o = smr_alloc(t, sizeof *o);
	o->canary = SST_LIVE;
	o->id = id;
	o->check = sst_mix(id);
	return o;
}

/* ---- 1. drop vs free ---- */

#define SST1_N 300          /* dropped */
#define SST1_M 200          /* freed */
static _Atomic uint32_t sst1_runs[SST1_N + SST1_M];
static _Atomic uint64_t sst1_bad;

static void sst1_dtor(struct smr_node *n)
{
	struct sst_obj *o = (struct sst_obj *)n;
	if (o->canary != SST_LIVE || o->id >= SST1_N + SST1_M) {
		atomic_fetch_add(&sst1_bad, 1);
		return;
	}
	atomic_fetch_add(&sst1_runs[o->id], 1);
	o->canary = SST_DEAD;
}

/* Object i is freed (no destructor) when sst1_is_free(i); SST1_M of them. */
static bool sst1_is_free(uint64_t i)
{
	return i % 5 < 2; /* 2 in 5: 200 of 500 */
}

static void sst_test_drop_free(void)
{
	const char *name = "retire_drop / retire_free, one thread";
	smr_domain *d = sst_domain(2, name);
	if (!d)
		return;
	for (int i = 0; i < SST1_N + SST1_M; i++)
		atomic_store(&sst1_runs[i], 0);
	atomic_store(&sst1_bad, 0);

	void *_Atomic slot = NULL;
	smr_thread *t = smr_register(d);
	if (!t) {
		sst_report(false, "%s: register failed", name);
		return;
	}
	/* An object nobody saw is deallocated at once, and is never counted. */
	smr_dealloc(t, &sst_new(t, 0)->node);

	for (uint64_t i = 0; i <= SST1_N + SST1_M; i++) {
		/* Link object i, take the previous one out and retire it. */
		struct sst_obj *n = i < SST1_N + SST1_M ? sst_new(t, i) : NULL;
		smr_begin(t);
		struct sst_obj *old = smr_exchange(t, &slot, n);
		if (old) {
			if (sst1_is_free(old->id))
				smr_retire_free(t, &old->node);
			else
				smr_retire_drop(t, &old->node, sst1_dtor);
		}
		smr_end(t);
		if (i % 100 == 99)
			smr_quiescent(t);
	}
	smr_quiescent(t);
	struct smr_stats live;
	smr_stats_read(d, &live);
	smr_unregister(t);
	struct smr_stats st;
	smr_domain_destroy(d, &st);

	int dropped_once = 0, dropped_wrong = 0, freed_ran = 0;
	for (uint64_t i = 0; i < SST1_N + SST1_M; i++) {
		uint32_t r = atomic_load(&sst1_runs[i]);
		if (sst1_is_free(i))
			freed_ran += r != 0;
		else if (r == 1)
			dropped_once++;
		else
			dropped_wrong++;
	}
	uint64_t total = SST1_N + SST1_M;
	sst_report(live.retired == total, "%s: retired %llu before destroy, want %llu", name,
		   (unsigned long long)live.retired, (unsigned long long)total);
	sst_report(st.retired == total && st.reclaimed == st.retired,
		   "%s: after destroy retired %llu reclaimed %llu, want both %llu", name,
		   (unsigned long long)st.retired, (unsigned long long)st.reclaimed,
		   (unsigned long long)total);
	sst_report(dropped_once == SST1_N && dropped_wrong == 0 && atomic_load(&sst1_bad) == 0,
		   "%s: destructor ran exactly once on %d of %d dropped objects (%d wrong, %llu on a dead object)",
		   name, dropped_once, SST1_N, dropped_wrong, (unsigned long long)atomic_load(&sst1_bad));
	sst_report(freed_ran == 0, "%s: destructor ran on %d of %d freed objects, want 0", name,
		   freed_ran, SST1_M);
}

/* ---- 2 and 3: threads driving a shared slot ---- */

struct sst_run {
	smr_domain *d;
	void *_Atomic slot;
	_Atomic bool stop;
	_Atomic bool hold;            /* writers stop retiring (readers and quiescent states go on) */
	_Atomic uint64_t next_id;
	_Atomic uint64_t dtor_runs;     /* destructors run */
	_Atomic uint64_t dtor_bad;      /* destructor saw a dead or poisoned object */
	_Atomic uint64_t drops;         /* retire_drop calls */
	_Atomic uint64_t reads;         /* canary checks done */
	_Atomic uint64_t bad_reads;     /* canary or check field wrong */
	_Atomic uint64_t first_bad;     /* the first bad canary seen */
	_Atomic int reg_failed;
	_Atomic int ready;              /* threads registered: a start barrier */
	int nthreads;
	int update_every;               /* a thread updates once every this many ops (0: never) */
	long batches;                   /* stop after this many batches (0: until stop) */
};

static struct sst_run *sst_dtor_run; /* the run whose objects sst_dtor counts */

static void sst_dtor(struct smr_node *n)
{
	struct sst_obj *o = (struct sst_obj *)n;
	if (o->canary != SST_LIVE || o->check != sst_mix(o->id)) {
		atomic_fetch_add_explicit(&sst_dtor_run->dtor_bad, 1, memory_order_relaxed);
		return;
	}
	o->canary = SST_DEAD;
	atomic_fetch_add_explicit(&sst_dtor_run->dtor_runs, 1, memory_order_relaxed);
}

/* Replace the slot's object by a new one and retire the old one (drop). */
static void sst_update(struct sst_run *r, smr_thread *t)
{
	uint64_t id = atomic_fetch_add_explicit(&r->next_id, 1, memory_order_relaxed);
	struct sst_obj *n = sst_new(t, id);
	struct sst_obj *old = smr_exchange(t, &r->slot, n);
	if (old) {
		atomic_fetch_add_explicit(&r->drops, 1, memory_order_relaxed);
		smr_retire_drop(t, &old->node, sst_dtor);
	}
}

/* One read: protect the slot (alternating hazard slots 0 and 1), check the object. */
static void sst_read(struct sst_run *r, smr_thread *t, int slot)
{
	struct sst_obj *o = smr_protect(t, slot, &r->slot);
	WL_FAULT_POINT(); /* sometimes yield here, holding o, so a reclaimer runs */
	if (!o)
		return;
	uint64_t c = o->canary, id = o->id, chk = o->check;
	atomic_fetch_add_explicit(&r->reads, 1, memory_order_relaxed);
	if (__builtin_expect(c != SST_LIVE || chk != sst_mix(id), 0)) {
		uint64_t zero = 0;
		atomic_fetch_add_explicit(&r->bad_reads, 1, memory_order_relaxed);
		atomic_compare_exchange_strong(&r->first_bad, &zero, c ? c : 1);
	}
}

struct sst_thread_arg {
	struct sst_run *r;
	bool reader, writer;
};

static void *sst_thread(void *arg)
{
	struct sst_thread_arg *a = arg;
	struct sst_run *r = a->r;
	smr_thread *t = smr_register(r->d);
	if (!t) {
		atomic_store(&r->reg_failed, 1);
		atomic_fetch_add(&r->ready, 1);
		return NULL;
	}
	const long batch = smr_quiescent_interval(t);
	long op = 0;
	/* Start together, so that readers overlap the writer from the first retire. */
	atomic_fetch_add(&r->ready, 1);
	while (atomic_load(&r->ready) < r->nthreads)
		sched_yield();
	for (long b = 0; r->batches ? b < r->batches : !atomic_load_explicit(&r->stop, memory_order_relaxed); b++) {
		for (long i = 0; i < batch; i++, op++) {
			smr_begin(t);
			if (a->reader)
				sst_read(r, t, (int)(op & 1));
			if (a->writer && (r->update_every <= 1 || op % r->update_every == 0) &&
			    !atomic_load_explicit(&r->hold, memory_order_relaxed))
				sst_update(r, t);
			smr_end(t);
		}
		smr_quiescent(t);
	}
	smr_unregister(t);
	return NULL;
}

static void sst_run_init(struct sst_run *r, smr_domain *d)
{
	memset(r, 0, sizeof *r);
	r->d = d;
	atomic_store(&r->next_id, 1);
	sst_dtor_run = r;
}

/* Take the last object out of the slot and retire it, so destroy frees it. */
static void sst_run_finish(struct sst_run *r)
{
	smr_thread *t = smr_register(r->d);
	if (!t) {
		atomic_store(&r->reg_failed, 1);
		return;
	}
	smr_begin(t);
	struct sst_obj *old = smr_exchange(t, &r->slot, NULL);
	if (old) {
		atomic_fetch_add(&r->drops, 1);
		smr_retire_drop(t, &old->node, sst_dtor);
	}
	smr_end(t);
	smr_quiescent(t);
	smr_unregister(t);
}

/* ---- 2. reclamation before destroy ---- */

/*
 * After this many retires the writers hold off (memory stops growing) while
 * the threads go on passing quiescent states: a scheme that reclaims from a
 * thread of its own (urcu's call_rcu) may not have been scheduled yet on a
 * busy 2-core machine.  It fails only if nothing is reclaimed by the deadline.
 */
#define SST2_MAX_RETIRES 50000

static void sst_test_reclaims_early(void)
{
	const bool is_none = !strcmp(SMR_SCHEME_NAME, "none");
	const char *name = "reclaims while the domain lives, two threads";
#ifdef SMR_PLANT_EARLY_FREE
	/* The planted build frees at retire, past the scheme and its counters:
	 * nothing to measure here (and the wait below would run to its deadline). */
	printf("ok - %s: %s # SKIP the planted build's retires bypass the scheme\n", SMR_SCHEME_NAME, name);
	return;
#endif
	smr_domain *d = sst_domain(4, name);
	if (!d)
		return;
	struct sst_run r;
	sst_run_init(&r, d);
	r.update_every = 4;
	r.nthreads = 2;
	/* none: a fixed amount of work, then check that nothing was freed.
	 * Others: run until something is reclaimed, or give up after a timeout. */
	r.batches = is_none ? 200 : 0;
	struct sst_thread_arg args[2] = { { &r, true, true }, { &r, true, true } };
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, sst_thread, &args[i]);
	struct smr_stats live = { 0 };
	if (!is_none) {
		double deadline = sst_now() + 20.0; /* a generous failure timeout, not a duration */
		do {
			struct timespec ms = { 0, 1000000 };
			nanosleep(&ms, NULL);
			smr_stats_read(d, &live);
			if (atomic_load(&r.drops) >= SST2_MAX_RETIRES)
				atomic_store(&r.hold, true);
		} while (live.reclaimed == 0 && sst_now() < deadline);
		atomic_store(&r.stop, true);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	/* Threads are gone, the domain still lives: what it reclaimed so far. */
	smr_stats_read(d, &live);
	sst_run_finish(&r);
	struct smr_stats st;
	smr_domain_destroy(d, &st);

	sst_report(!atomic_load(&r.reg_failed), "%s: threads registered", name);
	if (is_none)
		sst_report(live.reclaimed == 0 && live.retired > 0,
			   "%s: none reclaimed %llu of %llu retired before destroy, want 0", name,
			   (unsigned long long)live.reclaimed, (unsigned long long)live.retired);
	else
		sst_report(live.reclaimed > 0, "%s: reclaimed %llu of %llu retired before destroy, want > 0",
			   name, (unsigned long long)live.reclaimed, (unsigned long long)live.retired);
	uint64_t drops = atomic_load(&r.drops);
	sst_report(st.retired == drops && st.reclaimed == st.retired &&
		   atomic_load(&r.dtor_runs) == drops && atomic_load(&r.dtor_bad) == 0 &&
		   atomic_load(&r.bad_reads) == 0,
		   "%s: after destroy retired %llu reclaimed %llu destructors %llu of %llu drops, "
		   "%llu bad destructor calls, %llu bad reads", name,
		   (unsigned long long)st.retired, (unsigned long long)st.reclaimed,
		   (unsigned long long)atomic_load(&r.dtor_runs), (unsigned long long)drops,
		   (unsigned long long)atomic_load(&r.dtor_bad), (unsigned long long)atomic_load(&r.bad_reads));
}

/* ---- 3. stress with poisoning ---- */

#define SST3_READERS 2
#define SST3_MAX_RETIRES 300000

static void sst_test_stress(void)
{
	const char *name = "stress: 2 readers check canaries, 1 writer exchanges and retires, poisoned";
	smr_domain *d = sst_domain(SST3_READERS + 2, name);
	if (!d)
		return;
	const bool poison_was = smr_poison_enabled;
	/* Set before any thread of the test starts (pthread_create orders it). */
	smr_poison_enabled = true;
	struct sst_run r;
	sst_run_init(&r, d);
	/* The writer reads too, and updates every 4th op: readers get their share of the CPU. */
	r.update_every = 4;
	r.nthreads = SST3_READERS + 1;
	struct sst_thread_arg rd = { &r, true, false }, wr = { &r, true, true };
	pthread_t th[SST3_READERS + 1];
	for (int i = 0; i < SST3_READERS; i++)
		pthread_create(&th[i], NULL, sst_thread, &rd);
	pthread_create(&th[SST3_READERS], NULL, sst_thread, &wr);
	/* Run for 0.3 s (scaled), or until SST3_MAX_RETIRES objects were retired:
	 * `none` keeps every one of them until destroy. */
	while (atomic_load(&r.ready) < r.nthreads)
		sched_yield();
	const double until = sst_now() + 0.3 * sst_scale();
	while (sst_now() < until && atomic_load(&r.drops) < SST3_MAX_RETIRES) {
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
	}
	atomic_store(&r.stop, true);
	for (int i = 0; i <= SST3_READERS; i++)
		pthread_join(th[i], NULL);
	struct smr_stats live;
	smr_stats_read(d, &live);
	sst_run_finish(&r);
	struct smr_stats st;
	smr_domain_destroy(d, &st); /* drains the poison quarantine too */
	smr_poison_enabled = poison_was;

	uint64_t drops = atomic_load(&r.drops), reads = atomic_load(&r.reads);
	sst_report(!atomic_load(&r.reg_failed) && reads > 0 && drops > 0,
		   "%s: %llu reads, %llu retires", name, (unsigned long long)reads, (unsigned long long)drops);
	sst_report(atomic_load(&r.bad_reads) == 0,
		   "%s: %llu reads of a reclaimed object (first canary %#llx)", name,
		   (unsigned long long)atomic_load(&r.bad_reads), (unsigned long long)atomic_load(&r.first_bad));
	sst_report(atomic_load(&r.dtor_bad) == 0 && atomic_load(&r.dtor_runs) == drops,
		   "%s: destructor ran %llu times for %llu drops, %llu times on a dead object", name,
		   (unsigned long long)atomic_load(&r.dtor_runs), (unsigned long long)drops,
		   (unsigned long long)atomic_load(&r.dtor_bad));
	sst_report(st.retired == drops && st.reclaimed == st.retired,
		   "%s: after destroy retired %llu reclaimed %llu, want both %llu (%llu reclaimed during the run)",
		   name, (unsigned long long)st.retired, (unsigned long long)st.reclaimed,
		   (unsigned long long)drops, (unsigned long long)live.reclaimed);
}

/* ---- 4. deterministic interleavings, in a full domain ---- */

/*
 * A reader and a writer, in a domain of exactly two records (the writer
 * registers first, so the reader holds the last record) with two hazard
 * slots (the reader protects with the last one): a scan whose bound over
 * records or slots stops one short misses the reader.  The reader stops at
 * one point, the writer runs alone meanwhile, then the reader goes on:
 *
 *  - "protect and use": the reader protected object P and stops before it
 *    reads it; the writer unlinks P, retires it and forces reclamation (as
 *    many retires as several scan intervals, passing quiescent states).
 *    P must not be reclaimed while the reader is stopped, and the reader
 *    must then find P's canary intact.
 *  - "load and publish" (schemes defining SMR_PROTECT_HOOKED): the reader
 *    stops inside protect, at SMR_TEST_HOOK, having loaded P but not yet
 *    published what keeps it (hp, hp-asym: the hazard; he, ibr: the era;
 *    rc: the count).  The writer does the same; here P may go, and must (it
 *    is the window being tested: nothing holds P yet), but protect must
 *    then see that the source changed and return the new object, canary
 *    intact.  For ibr, P is born after the reader's reservation began (the
 *    writer advanced the clock first), so that only the era it is about
 *    to publish could cover it.
 *  - "deep chain record" (schemes without SMR_OWN_LINKS): as "protect and
 *    use", but P is retired as the deepest record of a chain (smr_retire_
 *    chain) whose head was born later: a scheme must judge the chain by
 *    every record it holds (hp: every address; he, ibr: the oldest birth).
 *
 * Deterministic: no timing, no sleep in the checks; the only waits are for
 * the other thread to reach its next step.  Poisoning is on, so a reclaimed
 * P reads 0xDD.
 */
enum sst4_mode { SST4_USE, SST4_LOAD, SST4_CHAIN };

struct sst4_obj {
	struct sst_obj o;
	struct sst4_obj *below;       /* SST4_CHAIN: the next record of a chain */
};

static struct sst4 {
	smr_domain *d;
	void *_Atomic src;
	enum sst4_mode mode;
	_Atomic int stage;            /* 1 reader begun, 2 go, 3 reader stopped, 4 resume, 5 reader done */
	_Atomic int hooked;           /* the reader stopped inside protect */
	_Atomic uint64_t p_id;        /* P's id */
	_Atomic int p_reclaimed;      /* P's destructor ran (once: more is counted in bad) */
	_Atomic uint64_t reclaimed;   /* destructors run, P's included */
	_Atomic uint64_t bad;         /* a destructor on a dead object, or P's twice */
	uint64_t got_id, got_canary, got_check;
	_Atomic int reg_failed;
} sst4;

static void sst4_wait(int stage)
{
	while (atomic_load(&sst4.stage) < stage)
		sched_yield();
}

static void sst4_dtor(struct smr_node *n)
{
	struct sst_obj *o = (struct sst_obj *)n;
	if (o->canary != SST_LIVE || o->check != sst_mix(o->id)) {
		atomic_fetch_add(&sst4.bad, 1);
		return;
	}
	o->canary = SST_DEAD;
	atomic_fetch_add(&sst4.reclaimed, 1);
	if (o->id == atomic_load(&sst4.p_id) && atomic_exchange(&sst4.p_reclaimed, 1))
		atomic_fetch_add(&sst4.bad, 1);
}

#if !defined(SMR_OWN_LINKS)
static struct smr_node *sst4_chain_next(struct smr_node *n)
{
	struct sst4_obj *b = ((struct sst4_obj *)n)->below;
	return b ? &b->o.node : NULL;
}

/* Run on the chain's head: the records below are allocations of their own. */
static void sst4_chain_dtor(struct smr_node *n)
{
	struct sst4_obj *b = ((struct sst4_obj *)n)->below;
	sst4_dtor(n);
	while (b) {
		struct sst4_obj *nx = b->below;
		sst4_dtor(&b->o.node);
		smr_node_free(&b->o.node);
		b = nx;
	}
}
#endif

/* The reader's hook: stop at the first call (protect loaded P, published nothing yet). */
static void sst4_hook(int point)
{
	if (point != SMR_HOOK_PROTECT_LOADED || atomic_exchange(&sst4.hooked, 1))
		return;
	atomic_store(&sst4.stage, 3);
	sst4_wait(4);
}

static void *sst4_reader(void *arg)
{
	(void)arg;
	smr_thread *t = smr_register(sst4.d);
	if (!t) {
		atomic_store(&sst4.reg_failed, 1);
		atomic_store(&sst4.stage, 5);
		return NULL;
	}
	smr_begin(t);
	atomic_store(&sst4.stage, 1);
	sst4_wait(2);
	if (sst4.mode == SST4_LOAD)
		smr_test_hook = sst4_hook;
	struct sst_obj *o = smr_protect(t, 1, &sst4.src); /* the last slot */
	smr_test_hook = NULL;
	if (atomic_load(&sst4.stage) < 3) { /* not stopped inside protect: stop here */
		atomic_store(&sst4.stage, 3);
		sst4_wait(4);
	}
	if (o) {
		sst4.got_id = o->id;
		sst4.got_canary = o->canary;
		sst4.got_check = o->check;
	}
	smr_end(t);
	smr_quiescent(t);
	smr_unregister(t);
	atomic_store(&sst4.stage, 5);
	return NULL;
}

/* Retires that force reclamation: several scan intervals of this scheme (its largest param). */
static long sst4_force_retires(void)
{
	long m = 0;
	for (const struct smr_param_spec *sp = SMR_SYM(scheme_params); sp->name; sp++) {
		long v = strtol(sp->def, NULL, 10);
		if (v > m)
			m = v;
	}
	return 4 * (m + 2 * 2 * 2) + 256; /* 2H: 2 records x 2 slots */
}

static uint64_t sst4_next_id = 100;

static void sst4_retire_dummies(smr_thread *t, long n)
{
	for (long i = 0; i < n; i++) {
		smr_begin(t);
		struct sst_obj *x = sst_new(t, sst4_next_id++);
		smr_retire_drop(t, &x->node, sst4_dtor);
		smr_end(t);
		if (i % 64 == 63)
			smr_quiescent(t);
	}
	smr_quiescent(t);
}

static struct sst4_obj *sst4_new(smr_thread *t, uint64_t id)
{
	struct sst4_obj *o = smr_alloc(t, sizeof *o);
	o->o.canary = SST_LIVE;
	o->o.id = id;
	o->o.check = sst_mix(id);
	o->below = NULL;
	return o;
}

static void sst_test_interleave(enum sst4_mode mode)
{
	static const char *const names[] = {
		[SST4_USE] = "full domain, reader in the last record and slot, stopped between protect and use",
		[SST4_LOAD] = "full domain, reader stopped inside protect between its load and its publish",
		[SST4_CHAIN] = "full domain, reader holds the deepest record of a chain retired whole",
	};
	const char *name = names[mode], *skip = NULL;
#ifdef SMR_PLANT_EARLY_FREE
	skip = "the planted build's retires bypass the scheme";
#endif
#ifndef SMR_PROTECT_HOOKED
	if (mode == SST4_LOAD)
		skip = "protect has no such window (a plain load inside a grace period, or a library's)";
#endif
#ifdef SMR_OWN_LINKS
	if (mode == SST4_CHAIN)
		skip = "rc counts every record (bwtree's selftest covers its chains)";
#endif
	if (skip) {
		printf("ok - %s: %s # SKIP %s\n", SMR_SCHEME_NAME, name, skip);
		return;
	}
	smr_domain *d = sst_domain(2, name);
	if (!d)
		return;
	const bool poison_was = smr_poison_enabled;
	smr_poison_enabled = true;
	memset(&sst4, 0, sizeof sst4);
	sst4.d = d;
	sst4.mode = mode;
	smr_thread *w = smr_register(d); /* the first record: the reader gets the last */
	pthread_t th;
	pthread_create(&th, NULL, sst4_reader, NULL);
	sst4_wait(1);
	/* The reader is inside begin.  Advance the era clock (ibr: P is born after the reservation). */
	sst4_retire_dummies(w, 32);
	const long force = sst4_force_retires();
	struct sst4_obj *p = sst4_new(w, 1);
	atomic_store(&sst4.p_id, 1);
	smr_begin(w);
	smr_exchange(w, &sst4.src, p);
	smr_end(w);
	atomic_store(&sst4.stage, 2);
	sst4_wait(3);
	/* The reader is stopped.  Unlink P and retire it (in a chain: under a newer head). */
	if (mode == SST4_CHAIN)
		sst4_retire_dummies(w, 32);     /* the head is born in a later era */
	smr_begin(w);
	struct sst4_obj *q = sst4_new(w, 3);
	struct sst4_obj *old = smr_exchange(w, &sst4.src, q); /* P */
	if (mode == SST4_CHAIN) {
#if !defined(SMR_OWN_LINKS)
		struct sst4_obj *h = sst4_new(w, 2);
		h->below = old;
		smr_retire_chain(w, &h->o.node, sst4_chain_dtor, sst4_chain_next);
#endif
	} else {
		smr_retire_drop(w, &old->o.node, sst4_dtor);
	}
	smr_end(w);
	smr_quiescent(w);
	sst4_retire_dummies(w, force);
	const int p_gone_while_stopped = atomic_load(&sst4.p_reclaimed);
	const int hooked = atomic_load(&sst4.hooked);
	atomic_store(&sst4.stage, 4);
	pthread_join(th, NULL);
	/* The reader is gone: take the last object out, let everything go. */
	smr_begin(w);
	struct sst4_obj *last = smr_exchange(w, &sst4.src, NULL);
	if (last)
		smr_retire_drop(w, &last->o.node, sst4_dtor);
	smr_end(w);
	smr_quiescent(w);
	smr_unregister(w);
	struct smr_stats st;
	smr_domain_destroy(d, &st);
	smr_poison_enabled = poison_was;

	const bool intact = sst4.got_canary == SST_LIVE && sst4.got_check == sst_mix(sst4.got_id);
	sst_report(!atomic_load(&sst4.reg_failed), "%s: both threads registered in a domain of 2 records", name);
	if (mode == SST4_LOAD) {
		sst_report(hooked, "%s: the reader stopped inside protect (SMR_TEST_HOOK reached)", name);
		sst_report(p_gone_while_stopped,
			   "%s: the object the reader had loaded was reclaimed while it was stopped (the window was open)", name);
		sst_report(intact && sst4.got_id == 3,
			   "%s: protect returned the new object, intact (got id %llu, canary %#llx; want id 3)", name,
			   (unsigned long long)sst4.got_id, (unsigned long long)sst4.got_canary);
	} else {
		sst_report(!p_gone_while_stopped,
			   "%s: the protected object was not reclaimed while the reader held it", name);
		sst_report(intact && sst4.got_id == 1,
			   "%s: the reader found it intact after the writer's retires (id %llu, canary %#llx)", name,
			   (unsigned long long)sst4.got_id, (unsigned long long)sst4.got_canary);
	}
	sst_report(atomic_load(&sst4.p_reclaimed) && atomic_load(&sst4.bad) == 0 &&
		   st.retired == st.reclaimed,
		   "%s: after destroy the object was reclaimed once, %llu destructors on a dead object, retired %llu reclaimed %llu",
		   name, (unsigned long long)atomic_load(&sst4.bad), (unsigned long long)st.retired,
		   (unsigned long long)st.reclaimed);
}

/* ---- 5. heavy barriers (the asymmetric schemes) ---- */

/*
 * A scheme whose readers publish with plain stores (SMR_OWN_BARRIER_STATS)
 * depends on the membarrier its reclaimer issues before it reads their
 * announcements; no test on a 2-core TSO machine sees the reordering that
 * a missing one allows.  So count: after enough retires to force several
 * scans, every scan must have issued a barrier first.
 */
static void sst_test_barriers(void)
{
	const char *name = "every scan issued a membarrier before reading the readers' announcements";
#ifndef SMR_OWN_BARRIER_STATS
	printf("ok - %s: %s # SKIP no heavy barrier here (symmetric fences, or a library's own)\n",
	       SMR_SCHEME_NAME, name);
	return;
#else
	smr_domain *d = sst_domain(2, name);
	if (!d)
		return;
	smr_thread *t = smr_register(d);
	smr_thread *r = smr_register(d); /* a registered, idle reader: scans read its record */
	sst4_retire_dummies(t, sst4_force_retires());
	struct smr_barrier_stats b;
	smr_barrier_stats_read(d, &b);
	smr_unregister(r);
	smr_unregister(t);
	struct smr_stats st;
	smr_domain_destroy(d, &st);
	sst_report(b.scans > 0 && b.unfenced == 0 && b.barriers >= b.scans,
		   "%s: %llu scans, %llu membarriers, %llu scans without one (want scans > 0, 0 without)",
		   name, (unsigned long long)b.scans, (unsigned long long)b.barriers,
		   (unsigned long long)b.unfenced);
#endif
}

#include "tests/scheme_asserts.c"

static int scheme_selftest(void)
{
	sst_failed = 0;
	sst_test_drop_free();
	sst_test_reclaims_early();
	sst_test_stress();
	sst_test_interleave(SST4_USE);
	sst_test_interleave(SST4_LOAD);
	sst_test_interleave(SST4_CHAIN);
	sst_test_barriers();
	sst_test_assertions();
	return sst_failed;
}

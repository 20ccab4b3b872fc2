/* SPDX-License-Identifier: MIT */
/* smr_ping.c - publish on ping: the handler, joining and leaving, a round of pings (see smr_ping.h). */
#include "smr_ping.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* This thread's joined members, for the handler.  Initial-exec TLS: no allocation on first use in a handler. */
static _Thread_local struct smr_ping_member *mine __attribute__((tls_model("initial-exec")));

/* Copy m's local slots to its published ones and answer every request made before the copy. */
static void publish(struct smr_ping_member *m)
{
	/* acquire: pairs with the reclaimer's release request, so its unlinks
	 * happen before the copy and before what this thread does next. */
	uint64_t req = atomic_load_explicit(&m->requested, memory_order_acquire);
	for (int i = 0; i < m->k; i++)
		atomic_store_explicit(&m->published[i], atomic_load_explicit(&m->local[i], memory_order_relaxed),
				      memory_order_relaxed);
	/* release: the copies (and our reads of what we dropped) before the answer. */
	atomic_store_explicit(&m->acked, req, memory_order_release);
}

static void handler(int sig)
{
	(void)sig;
	int saved = errno;
	for (struct smr_ping_member *m = mine; m; m = m->next)
		publish(m);
	errno = saved;
}

static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static char install_error[160];

static void install(void)
{
	struct sigaction old, sa;
	if (sigaction(SMR_PING_SIGNAL, NULL, &old) < 0) {
		snprintf(install_error, sizeof install_error, "sigaction(SIGUSR2): %s", strerror(errno));
		return;
	}
	if (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN) {
		snprintf(install_error, sizeof install_error,
			 "SIGUSR2 already has a handler in this process: publish-on-ping needs it");
		return;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SMR_PING_SIGNAL, &sa, NULL) < 0)
		snprintf(install_error, sizeof install_error, "sigaction(SIGUSR2): %s", strerror(errno));
}

int smr_ping_install(char *err, size_t errlen)
{
	pthread_once(&install_once, install);
	if (!install_error[0])
		return 0;
	snprintf(err, errlen, "%s", install_error);
	return -1;
}

/* Edit this thread's list with the signal blocked: the handler walks it. */
static void block_ping(sigset_t *old)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SMR_PING_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &s, old);
}

void smr_ping_join(struct smr_ping_member *m, void *_Atomic *local, void *_Atomic *published, int k)
{
	m->local = local;
	m->published = published;
	m->k = k;
	for (int i = 0; i < k; i++) {
		atomic_store_explicit(&local[i], NULL, memory_order_relaxed);
		atomic_store_explicit(&published[i], NULL, memory_order_relaxed);
	}
	m->tid = pthread_self();
	sigset_t old;
	block_ping(&old);
	m->next = mine;
	mine = m;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* On the list before anyone may ping it. */
	atomic_store_explicit(&m->joined, true, memory_order_seq_cst);
	/*
	 * Pairs with the fence a round starts with: a reclaimer that finds us
	 * not joined yet skips us, and then our loads after this fence see
	 * everything it unlinked before its own.
	 */
	atomic_thread_fence(memory_order_seq_cst);
}

void smr_ping_leave(struct smr_ping_member *m)
{
	/*
	 * seq_cst store, then seq_cst loads of pinners; a reclaimer increments
	 * pinners, then loads joined (seq_cst both): one of us sees the other.
	 * Who saw us joined waits for our answer: give it (the handler runs in
	 * this loop when the signal comes) before we leave the list.
	 */
	atomic_store_explicit(&m->joined, false, memory_order_seq_cst);
	while (atomic_load_explicit(&m->pinners, memory_order_seq_cst))
		sched_yield();
	sigset_t old;
	block_ping(&old);
	for (struct smr_ping_member **p = &mine; *p; p = &(*p)->next)
		if (*p == m) {
			*p = m->next;
			break;
		}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* release: our reads of what we held happen before a reclaimer sees the slot empty. */
	for (int i = 0; i < m->k; i++)
		atomic_store_explicit(&m->published[i], NULL, memory_order_release);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

#define MEMBER(first, stride, i) ((struct smr_ping_member *)(void *)((char *)(first) + (size_t)(i) * (stride)))

bool smr_ping_round(struct smr_ping_member *first, size_t stride, int n, uint64_t *want,
		    struct smr_ping_counters *c)
{
	/* Our own members first, with the signal blocked: a ping from another
	 * reclaimer must not interleave its answer with ours. */
	sigset_t old;
	block_ping(&old);
	for (struct smr_ping_member *m = mine; m; m = m->next)
		publish(m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	/* Pairs with join's fence: our unlinks before we read whether a member joined. */
	atomic_thread_fence(memory_order_seq_cst);
	pthread_t self = pthread_self();
	uint64_t sent = 0;
	for (int i = 0; i < n; i++) {
		struct smr_ping_member *m = MEMBER(first, stride, i);
		want[i] = 0;
		atomic_fetch_add_explicit(&m->pinners, 1, memory_order_seq_cst);
		if (!atomic_load_explicit(&m->joined, memory_order_seq_cst) || pthread_equal(m->tid, self)) {
			atomic_fetch_sub_explicit(&m->pinners, 1, memory_order_release);
			continue;
		}
		/* release: our unlinks before the handler's copy (it reads this with acquire). */
		want[i] = atomic_fetch_add_explicit(&m->requested, 1, memory_order_acq_rel) + 1;
		int e = pthread_kill(m->tid, SMR_PING_SIGNAL);
		if (e) {
			fprintf(stderr, "smrbench: pthread_kill(SIGUSR2) to a registered thread: %s\n", strerror(e));
			abort();
		}
		sent++;
	}
	bool answered = true;
	uint64_t start = sent ? now_ns() : 0;
	for (int i = 0; i < n; i++) {
		if (!want[i])
			continue;
		struct smr_ping_member *m = MEMBER(first, stride, i);
		/* acquire: pairs with the handler's release; its copies are visible. */
		bool yield = false;
		for (unsigned spins = 0; answered && atomic_load_explicit(&m->acked, memory_order_acquire) < want[i];
		     spins++) {
			/*
			 * A running thread answers within microseconds (an IPI and a
			 * return to user mode): spin that long, keeping our CPU, since
			 * a yield on a busy machine can cost a whole time slice.  Past
			 * it, the pinged thread may need this CPU: yield.
			 */
			if (yield)
				sched_yield();
			else
				cpu_relax();
			if (spins % 16 == 15) {
				uint64_t waited = now_ns() - start;
				yield = waited > SMR_PING_SPIN_NS;
				answered = waited <= SMR_PING_PATIENCE_NS;
			}
		}
		atomic_fetch_sub_explicit(&m->pinners, 1, memory_order_release);
	}
	atomic_fetch_add_explicit(&c->signals, sent, memory_order_relaxed);
	atomic_fetch_add_explicit(answered ? &c->rounds : &c->unanswered, 1, memory_order_relaxed);
	return answered;
}

void smr_ping_stats(struct smr_ping_counters *c, struct smr_stats *out)
{
	out->ping_rounds += atomic_load_explicit(&c->rounds, memory_order_relaxed);
	out->ping_signals += atomic_load_explicit(&c->signals, memory_order_relaxed);
	out->ping_unanswered += atomic_load_explicit(&c->unanswered, memory_order_relaxed);
}

/* SPDX-License-Identifier: MIT */
/*
 * smr_ping.h - publish on ping: the signal machinery of hp-pop and epoch-pop.
 *
 * Singh, Brown et al., "Publish on Ping: A Better Way to Publish Reservations
 * in Memory Reclamation for Concurrent Data Structures" (PPoPP 2025).  A
 * reader keeps its K reservations (hazard pointers) in slots of its own,
 * written with plain stores: no fence, no locked instruction.  A reclaimer
 * that needs them pings: pthread_kill(SMR_PING_SIGNAL) to every registered
 * thread; each thread's handler copies its local slots to its published ones
 * and acknowledges; once every ping is acknowledged the reclaimer reads the
 * published slots.
 *
 * Why that is enough.  The reclaimer unlinked X, then asks for a ping
 * (a release RMW on the member's request count); the handler reads the
 * request with acquire before it copies, so the unlink happens before the
 * copy and before everything the reader does after the handler returns.  A
 * signal interrupts the reader between two of its instructions, and it sees
 * the reader's own earlier stores (program order holds for its own
 * thread); protect keeps the compiler from moving its store of the slot
 * past its re-load of the source (a signal fence).  So for a reader that
 * holds X:
 *  - it stored X in its slot before the interruption: the handler copies X,
 *    the reclaimer sees it and keeps X;
 *  - it stores X after the interruption: its validating re-load comes after
 *    the handler, so after the unlink, and sees the source changed: protect
 *    retries and never returns X.
 * The ack is a release store after the copy; the reclaimer reads it with
 * acquire, so it reads the copies, and the reader's reads of an object it
 * dropped before the ping happen before the free.
 *
 * Signals in a benchmark harness:
 *  - the handler only loads and stores (atomics, no lock, no allocation,
 *    no call): async-signal-safe, and errno is saved;
 *  - SA_RESTART, so a read or write the ping interrupts restarts; a sleep
 *    returns EINTR with the time left (harness/cell.c's sleep_ns goes on
 *    sleeping for the rest), and the stalled thread's sleep is where its
 *    ping lands;
 *  - SIGUSR2: nothing in the harness, the sanitizers or the libraries we
 *    link uses it (liburcu's signal flavour, which we do not build, would
 *    take SIGUSR1).  Domain creation refuses to start when someone else
 *    already handles it;
 *  - a thread that unregisters while a ping is in flight: a reclaimer
 *    counts itself into the member (pinners) before it checks that the
 *    member is joined, and leaves only after the ack; leave() marks the
 *    member gone, then waits for pinners to drain (the handler answers
 *    meanwhile), then takes it off the thread's list with the signal
 *    blocked.  So a signal is never sent to a thread that may have exited;
 *  - a ping that is not answered within SMR_PING_PATIENCE_NS (a thread that
 *    does not run; under TSan, one that makes no atomic operation and no
 *    intercepted call, where TSan delivers signals) makes the round fail,
 *    and the reclaimer frees nothing that time: late, never early, and
 *    never a deadlock.
 */
#ifndef SMR_PING_H
#define SMR_PING_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smr.h"

#define SMR_PING_SIGNAL SIGUSR2

/*
 * How long a reclaimer waits for an answer before it gives up on the round:
 * well above what a thread that is runnable needs to be scheduled, even on
 * an oversubscribed machine (a few CFS periods of 6-24 ms).
 */
#define SMR_PING_PATIENCE_NS 100000000ull
/*
 * The default r0 of hp-pop (hpp_r0) and epoch-pop (epop_r0): their retire
 * threshold is R = r0 + 2H.  200 keeps R within twice hp's (100 + 2H);
 * hp_pop.h says what a lower or higher one costs.
 */
#define SMR_PING_R0_DEFAULT "200"
/* How long a reclaimer spins for the answers before it yields its CPU: a
 * few times what a running thread takes to take a signal (IPI, handler). */
#define SMR_PING_SPIN_NS 50000ull

/* One registered record's reservations, embedded in the scheme's per-thread record. */
struct smr_ping_member {
	void *_Atomic *local;           /* k slots the owner writes, with plain stores */
	void *_Atomic *published;       /* the handler's copy, which reclaimers read */
	int k;
	pthread_t tid;                  /* the owner, the thread that registered */
	struct smr_ping_member *next;   /* the owner's other members (its thread's list) */
	_Atomic bool joined;            /* may be pinged */
	_Atomic unsigned pinners;       /* reclaimers that may be waiting for this member's ack */
	_Atomic uint64_t requested;     /* pings asked for */
	_Atomic uint64_t acked;         /* the request count the owner's last publication answered */
};

/* Per domain: rounds, signals sent, rounds given up (an answer did not come in time). */
struct smr_ping_counters {
	_Atomic uint64_t rounds, signals, unanswered;
};

/* Add the counters into a stats total (smr.h's ping_* fields). */
void smr_ping_stats(struct smr_ping_counters *c, struct smr_stats *out);

/*
 * Install the handler (once per process).  Returns 0, or -1 with the reason
 * in err when the signal belongs to someone else.
 */
int smr_ping_install(char *err, size_t errlen);

/* On the owning thread, at register: the member joins (slots zeroed) and may be pinged. */
void smr_ping_join(struct smr_ping_member *m, void *_Atomic *local, void *_Atomic *published, int k);

/* On the owning thread, at unregister: no ping reaches the member afterwards; its published slots are cleared. */
void smr_ping_leave(struct smr_ping_member *m);

/*
 * Ping every joined member of n records (stride bytes apart, the first
 * member at first) and wait until each has published; this thread's own
 * members publish at once.  want: scratch for n request counts.  Returns
 * true when every member answered: their published slots are then at least
 * as new as the moment of the call.  false: a member did not answer in
 * time; trust nothing from this round.
 */
bool smr_ping_round(struct smr_ping_member *first, size_t stride, int n, uint64_t *want,
		    struct smr_ping_counters *c);

#endif

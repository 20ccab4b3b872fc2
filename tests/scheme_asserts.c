/* SPDX-License-Identifier: MIT */
/*
 * scheme_asserts.c - the contract's assertions fire (schemes/smr_check.c):
 * each misuse runs in a forked child on a handle registered by the parent,
 * and the child must abort with the rule's line on stderr.  Part of
 * scheme_selftest.c (its sst_report, sst_domain and sst_new).
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void sst_end_without_begin(smr_thread *t)
{
	smr_end(t);
}

static void sst_nested_begin(smr_thread *t)
{
	smr_begin(t);
	smr_begin(t);
}

static void sst_slot_out_of_range(smr_thread *t)
{
	static void *_Atomic src;
	smr_begin(t);
	(void)smr_protect(t, 2, &src); /* sst_domain gives two slots: 0 and 1 */
}

static void sst_retire_unregistered(smr_thread *t)
{
	struct sst_obj *o = sst_new(t, 1);
	smr_unregister(t);
	smr_retire_free(t, &o->node);
}

/* Run misuse(t) in a child: it must die of SIGABRT having said want. */
static void sst_expect_violation(smr_domain *d, const char *what, void (*misuse)(smr_thread *), const char *want)
{
	smr_thread *t = smr_register(d);
	int fds[2];
	if (!t || pipe(fds) < 0) {
		sst_report(false, "assertion on %s: could not register or make a pipe", what);
		return;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		close(fds[1]);
		alarm(10); /* a misuse the checks miss must not hang the suite */
		misuse(t);
		_exit(0);
	}
	close(fds[1]);
	char said[512] = "";
	size_t got = 0;
	ssize_t n;
	while (got < sizeof said - 1 && (n = read(fds[0], said + got, sizeof said - 1 - got)) > 0)
		got += (size_t)n;
	close(fds[0]);
	int st = 0;
	bool waited = pid > 0 && waitpid(pid, &st, 0) == pid;
	said[strcspn(said, "\n")] = 0;
	smr_unregister(t);
	sst_report(waited && WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT && strstr(said, want),
		   "assertion on %s: the process aborted saying '%s' (want '%s')", what, said, want);
}

static void sst_test_assertions(void)
{
	smr_domain *d = sst_domain(2, "the contract's assertions");
	if (!d)
		return;
	sst_expect_violation(d, "end without begin", sst_end_without_begin, "smr_end without smr_begin");
	sst_expect_violation(d, "nested begin", sst_nested_begin, "smr_begin inside a critical section");
	sst_expect_violation(d, "a slot out of range", sst_slot_out_of_range, "smr_protect with slot 2, outside");
	sst_expect_violation(d, "retire after unregister", sst_retire_unregistered,
			     "smr_retire with a handle this thread did not register");
	struct smr_stats st;
	smr_domain_destroy(d, &st);
}

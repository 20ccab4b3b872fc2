/* SPDX-License-Identifier: MIT */
/*
 * msqueue_selftest.c - the msqueue workload's property tests (smrbench-faults
 * selftest): random enqueue/dequeue against an array FIFO.  Included by workloads/msqueue.c in the
 * test builds only, so it sees the workload's static functions; TAP on stdout.
 */
/*
 * Property tests: random enqueue/dequeue sequences on one thread against an
 * array FIFO; verify on the result, verify on planted faults, teardown counts.
 */
static int msq_selftest(void)
{
	enum { SEQS = 4, OPS = 3000, PREFILL = 16 };
	static const char *const names[] = { "prefill" };
	static const char *const values[] = { "16" };
	int failed = 0;
	bool model_ok = true, verify_ok = true, caught_loss = true, caught_order = true,
	     teardown_ok = true;
	char why_model[200] = "", why_verify[200] = "", why_td[200] = "", msg[200];
	uint64_t *model = malloc((PREFILL + OPS) * sizeof *model);
	for (int s = 0; s < SEQS; s++) {
		struct cell c;
		char err[160];
		wl_st_cell(&c, "msqueue", 1, names, values);
		struct msq_state *st = msq_create(&c, err, sizeof err);
		if (!st) {
			failed += wl_tap(false, "msqueue model: set-up failed: %s", err);
			free(model);
			return failed;
		}
		size_t head = 0, tail = 0;
		for (uint64_t i = 1; i <= PREFILL; i++)
			model[tail++] = wl_value((uint64_t)st->nrecs - 1, i);
		struct wl_thread_ctx ctx;
		wl_st_ctx(&ctx);
		smr_thread *t = smr_register(st->dom);
		struct msq_rec *rec = &st->rec[0];
		struct wl_rng rng;
		wl_rng_seed(&rng, (uint64_t)s, 0x6d71);
		uint64_t seq = 0, nodes = PREFILL + 1; /* + the first dummy */
		for (int i = 0; i < OPS && model_ok; i++) {
			/* Enqueue-heavy in the first third, dequeue-heavy after: it grows and runs dry. */
			uint32_t r = (uint32_t)(wl_rng_next(&rng) >> 32);
			if (wl_range32(r, 100) < (i < OPS / 3 ? 70u : 35u)) {
				uint64_t v = wl_value(0, ++seq);
				msq_enqueue(st, t, msq_node_new(t, v), &ctx);
				wl_sum_add(&rec->enq, v);
				model[tail++] = v;
				nodes++;
			} else {
				uint64_t v = 0;
				int got = msq_dequeue(st, t, &v, &ctx);
				if (got > 0) {
					wl_sum_add(&rec->deq, v);
					msq_check_order(st, rec->last, v, &ctx);
				}
				if (got != (head < tail) || (head < tail && v != model[head])) {
					model_ok = false;
					WL_ST_NOTE(why_model, "seq %d op %d: dequeue gave %d/%#llx, model %zu/%#llx",
						 s, i, got, (unsigned long long)v, tail - head,
						 (unsigned long long)(head < tail ? model[head] : 0));
				}
				if (head < tail)
					head++;
			}
			if (i % 50 == 49)
				smr_quiescent(t);
		}
		struct msq_node *dummy = atomic_load(&st->head);
		for (struct msq_node *n = atomic_load(&dummy->next); n && model_ok; n = atomic_load(&n->next))
			if (head == tail || n->value != model[head++]) {
				model_ok = false;
				WL_ST_NOTE(why_model, "seq %d: queue content differs from the model", s);
			}
		if (head != tail && model_ok) {
			model_ok = false;
			WL_ST_NOTE(why_model, "seq %d: queue shorter than the model", s);
		}
		if (ctx.errors) {
			model_ok = false;
			WL_ST_NOTE(why_model, "seq %d: %s", s, ctx.error);
		}
		if (!msq_verify(st, msg, sizeof msg)) {
			verify_ok = false;
			WL_ST_NOTE(why_verify, "seq %d: %s", s, msg);
		}
		if (s == 0) {
			/* A dequeue that nobody records: verify must see the loss. */
			uint64_t v = 0;
			for (int k = 0; k < 3; k++) {
				uint64_t x = wl_value(0, ++seq);
				if (msq_enqueue(st, t, msq_node_new(t, x), &ctx) < 0)
					caught_loss = false;
				wl_sum_add(&rec->enq, x);
				nodes++;
			}
			if (msq_dequeue(st, t, &v, &ctx) <= 0)
				caught_loss = false;
			if (msq_verify(st, msg, sizeof msg))
				caught_loss = false;
			wl_sum_add(&rec->deq, v);
			msq_check_order(st, rec->last, v, &ctx);
			caught_loss = caught_loss && msq_verify(st, msg, sizeof msg);
			/* Two values of one producer swapped in the queue: verify must see the order. */
			struct msq_node *a = NULL, *b = NULL;
			struct msq_node *d = atomic_load(&st->head);
			for (struct msq_node *n = atomic_load(&d->next); n && !b;
			     n = atomic_load(&n->next))
				if (wl_value_producer(n->value) == 0) {
					if (!a)
						a = n;
					else
						b = n;
				}
			if (!b) {
				caught_order = false;
			} else {
				uint64_t x = a->value;
				a->value = b->value;
				b->value = x;
				caught_order = !msq_verify(st, msg, sizeof msg);
				b->value = a->value;
				a->value = x;
				caught_order = caught_order && msq_verify(st, msg, sizeof msg);
			}
		}
		smr_unregister(t);
		struct smr_stats stats;
		msq_destroy(st, &stats);
		/* Every node is retired exactly once: as a dequeued dummy or by teardown. */
		if (stats.retired != nodes || stats.reclaimed != stats.retired) {
			teardown_ok = false;
			WL_ST_NOTE(why_td, "seq %d: %llu nodes, %llu retired, %llu reclaimed",
				 s, (unsigned long long)nodes, (unsigned long long)stats.retired,
				 (unsigned long long)stats.reclaimed);
		}
	}
	free(model);
	failed += wl_tap(model_ok, "msqueue model: %d random sequences of %d enqueue/dequeue match a sequential FIFO%s%s",
			 SEQS, OPS, model_ok ? "" : ": ", model_ok ? "" : why_model);
	failed += wl_tap(verify_ok, "msqueue verify accepts the intact queue%s%s", verify_ok ? "" : ": ",
			 verify_ok ? "" : why_verify);
	failed += wl_tap(caught_loss, "msqueue verify catches an unrecorded dequeue");
	failed += wl_tap(caught_order, "msqueue verify catches two values of one producer out of order");
	failed += wl_tap(teardown_ok, "msqueue teardown retires every node once and reclaims it%s%s",
			 teardown_ok ? "" : ": ", teardown_ok ? "" : why_td);
	return failed;
}

/* SPDX-License-Identifier: MIT */
/*
 * treiber_selftest.c - the treiber workload's property tests (smrbench-faults
 * selftest): random push/pop against an array stack.  Included by workloads/treiber.c in the
 * test builds only, so it sees the workload's static functions; TAP on stdout.
 */
/*
 * Property tests: random push/pop sequences on one thread against an array
 * stack; verify on the result, verify on a planted loss, teardown counts.
 */
static int tr_selftest(void)
{
	enum { SEQS = 4, OPS = 3000, PREFILL = 16 };
	static const char *const names[] = { "prefill" };
	static const char *const values[] = { "16" };
	int failed = 0;
	bool model_ok = true, verify_ok = true, caught = true, teardown_ok = true;
	char why_model[200] = "", why_verify[200] = "", why_td[200] = "", msg[200];
	uint64_t *model = malloc((PREFILL + OPS) * sizeof *model);
	for (int s = 0; s < SEQS; s++) {
		struct cell c;
		char err[160];
		wl_st_cell(&c, "treiber", 1, names, values);
		struct tr_state *st = tr_create(&c, err, sizeof err);
		if (!st) {
			failed += wl_tap(false, "treiber model: set-up failed: %s", err);
			free(model);
			return failed;
		}
		size_t depth = 0;
		for (uint64_t i = 1; i <= PREFILL; i++)
			model[depth++] = wl_value((uint64_t)st->nrecs - 1, i);
		struct wl_thread_ctx ctx;
		wl_st_ctx(&ctx);
		smr_thread *t = smr_register(st->dom);
		struct tr_rec loc;
		memset(&loc, 0, sizeof loc);
		struct wl_rng rng;
		wl_rng_seed(&rng, (uint64_t)s, 0x7472);
		uint64_t seq = 0, nodes = PREFILL;
		for (int i = 0; i < OPS && model_ok; i++) {
			/* Push-heavy in the first third, pop-heavy after: the stack grows and runs dry. */
			uint32_t r = (uint32_t)(wl_rng_next(&rng) >> 32);
			bool push = wl_range32(r, 100) < (i < OPS / 3 ? 70u : 35u);
			if (push) {
				uint64_t v = wl_value(0, ++seq);
				tr_push(st, t, tr_node_new(t, v));
				wl_sum_add(&loc.pushed, v);
				model[depth++] = v;
				nodes++;
			} else {
				uint64_t v = 0;
				int got = tr_pop(st, t, &v, &ctx);
				if (got > 0)
					wl_sum_add(&loc.popped, v);
				if (got != (depth > 0) || (depth && v != model[depth - 1])) {
					model_ok = false;
					WL_ST_NOTE(why_model, "seq %d op %d: pop gave %d/%#llx, model %zu/%#llx",
						 s, i, got, (unsigned long long)v, depth,
						 (unsigned long long)(depth ? model[depth - 1] : 0));
				}
				if (depth)
					depth--;
			}
			if (i % 50 == 49)
				smr_quiescent(t);
		}
		/* The stack must hold the model's values, top first. */
		size_t k = depth;
		for (struct tr_node *n = atomic_load(&st->top); n && model_ok; n = atomic_load(&n->next)) {
			if (k == 0 || n->value != model[--k]) {
				model_ok = false;
				WL_ST_NOTE(why_model, "seq %d: stack content differs from the model", s);
			}
		}
		if (k && model_ok) {
			model_ok = false;
			WL_ST_NOTE(why_model, "seq %d: stack shorter than the model", s);
		}
		st->rec[0] = loc;
		if (!tr_verify(st, msg, sizeof msg)) {
			verify_ok = false;
			WL_ST_NOTE(why_verify, "seq %d: %s", s, msg);
		}
		/* A pop that nobody records: verify must see the loss. */
		if (s == 0) {
			uint64_t v = wl_value(0, ++seq);
			tr_push(st, t, tr_node_new(t, v));
			wl_sum_add(&st->rec[0].pushed, v);
			nodes++;
			if (tr_pop(st, t, &v, &ctx) <= 0 || tr_verify(st, msg, sizeof msg))
				caught = false;
			else
				wl_sum_add(&st->rec[0].popped, v);
			caught = caught && tr_verify(st, msg, sizeof msg);
		}
		smr_unregister(t);
		struct smr_stats stats;
		tr_destroy(st, &stats);
		/* Every node pushed is retired exactly once: by a pop or by teardown. */
		if (stats.retired != nodes || stats.reclaimed != stats.retired || ctx.errors) {
			teardown_ok = false;
			WL_ST_NOTE(why_td, "seq %d: %llu nodes, %llu retired, %llu reclaimed, %llu errors",
				 s, (unsigned long long)nodes, (unsigned long long)stats.retired,
				 (unsigned long long)stats.reclaimed, (unsigned long long)ctx.errors);
		}
	}
	free(model);
	failed += wl_tap(model_ok, "treiber model: %d random sequences of %d push/pop match a sequential stack%s%s",
			 SEQS, OPS, model_ok ? "" : ": ", model_ok ? "" : why_model);
	failed += wl_tap(verify_ok, "treiber verify accepts the intact stack%s%s", verify_ok ? "" : ": ",
			 verify_ok ? "" : why_verify);
	failed += wl_tap(caught, "treiber verify catches an unrecorded pop");
	failed += wl_tap(teardown_ok, "treiber teardown retires every node once and reclaims it%s%s",
			 teardown_ok ? "" : ": ", teardown_ok ? "" : why_td);
	return failed;
}

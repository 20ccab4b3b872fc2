/* SPDX-License-Identifier: MIT */
/*
 * list_selftest.c - the list workload's property tests (smrbench-faults
 * selftest): random insert/delete/search against a bitmap set.  Included by workloads/list.c in the
 * test builds only, so it sees the workload's static functions; TAP on stdout.
 */
/*
 * Property tests: random insert/delete/search sequences on one thread against
 * a bitmap set; verify on the result, verify on planted faults, teardown counts.
 */
static int ls_selftest(void)
{
	enum { SEQS = 4, OPS = 4000, ELEMENTS = 16, RANGE = 2 * ELEMENTS };
	static const char *const names[] = { "elements", "update" };
	static const char *const values[] = { "16", "0.8" };
	int failed = 0;
	bool model_ok = true, verify_ok = true, caught_size = true, caught_order = true,
	     teardown_ok = true;
	char why_model[200] = "", why_verify[200] = "", why_td[200] = "", msg[200];
	for (int s = 0; s < SEQS; s++) {
		struct cell c;
		char err[160];
		wl_st_cell(&c, "list", 2, names, values);
		struct ls_state *st = ls_create(&c, err, sizeof err);
		if (!st) {
			failed += wl_tap(false, "list model: set-up failed: %s", err);
			return failed;
		}
		bool model[RANGE];
		for (int k = 0; k < RANGE; k++)
			model[k] = k % 2 == 0;
		struct wl_thread_ctx ctx;
		wl_st_ctx(&ctx);
		smr_thread *t = smr_register(st->dom);
		struct ls_rec *rec = &st->rec[0];
		struct wl_rng rng;
		wl_rng_seed(&rng, (uint64_t)s, 0x6c73);
		for (int i = 0; i < OPS && model_ok; i++) {
			uint64_t r = wl_rng_next(&rng);
			uint64_t key = wl_range32((uint32_t)(r >> 32), RANGE);
			uint64_t what = wl_range32((uint32_t)r, 10);
			int got, want;
			const char *op;
			if (what < 4) {
				op = "insert";
				got = ls_insert(st, t, key, &ctx);
				want = !model[key];
				model[key] = true;
				rec->inserted += got > 0;
			} else if (what < 8) {
				op = "delete";
				got = ls_delete(st, t, key, &ctx);
				want = model[key];
				model[key] = false;
				rec->deleted += got > 0;
			} else {
				op = "search";
				got = ls_search(st, t, key, &ctx);
				want = model[key];
			}
			if (got != want) {
				model_ok = false;
				WL_ST_NOTE(why_model, "seq %d op %d: %s(%llu) gave %d, model %d", s, i, op,
					 (unsigned long long)key, got, want);
			}
			if (i % 50 == 49)
				smr_quiescent(t);
		}
		/* The list must hold exactly the model's keys, in order. */
		struct ls_node *n = atomic_load(&st->head);
		for (int k = 0; k < RANGE && model_ok; k++) {
			if (!model[k])
				continue;
			if (!n || n->key != (uint64_t)k) {
				model_ok = false;
				WL_ST_NOTE(why_model, "seq %d: list lacks key %d", s, k);
			} else {
				n = smr_unmark(atomic_load(&n->next));
			}
		}
		if (n && model_ok) {
			model_ok = false;
			WL_ST_NOTE(why_model, "seq %d: list holds keys the model lacks", s);
		}
		if (!ls_verify(st, msg, sizeof msg)) {
			verify_ok = false;
			WL_ST_NOTE(why_verify, "seq %d: %s", s, msg);
		}
		if (s == 0) {
			/* A delete that nobody records: verify must see the size. */
			if (ls_insert(st, t, 1, &ctx) > 0)
				rec->inserted++;
			if (ls_delete(st, t, 1, &ctx) <= 0 || ls_verify(st, msg, sizeof msg))
				caught_size = false;
			rec->deleted++;
			caught_size = caught_size && ls_verify(st, msg, sizeof msg);
			/* Two keys swapped: verify must see the order. */
			for (uint64_t k = 3; k <= 5; k += 2)
				if (ls_insert(st, t, k, &ctx) > 0)
					rec->inserted++;
			struct ls_node *a = atomic_load(&st->head);
			struct ls_node *b = a ? smr_unmark(atomic_load(&a->next)) : NULL;
			if (!b) {
				caught_order = false;
			} else {
				uint32_t x = a->key;
				a->key = b->key;
				b->key = x;
				caught_order = !ls_verify(st, msg, sizeof msg);
				b->key = a->key;
				a->key = x;
				caught_order = caught_order && ls_verify(st, msg, sizeof msg);
			}
		}
		smr_unregister(t);
		/* Every node ever linked is retired exactly once: by a delete or by teardown. */
		uint64_t nodes = st->elements + rec->inserted;
		struct smr_stats stats;
		ls_destroy(st, &stats);
		if (stats.retired != nodes || stats.reclaimed != stats.retired || ctx.errors) {
			teardown_ok = false;
			WL_ST_NOTE(why_td, "seq %d: %llu nodes, %llu retired, %llu reclaimed, %llu errors",
				 s, (unsigned long long)nodes, (unsigned long long)stats.retired,
				 (unsigned long long)stats.reclaimed, (unsigned long long)ctx.errors);
		}
	}
	failed += wl_tap(model_ok, "list model: %d random sequences of %d insert/delete/search match a sorted set%s%s",
			 SEQS, OPS, model_ok ? "" : ": ", model_ok ? "" : why_model);
	failed += wl_tap(verify_ok, "list verify accepts the intact list%s%s", verify_ok ? "" : ": ",
			 verify_ok ? "" : why_verify);
	failed += wl_tap(caught_size, "list verify catches an unrecorded delete");
	failed += wl_tap(caught_order, "list verify catches two keys out of order");
	failed += wl_tap(teardown_ok, "list teardown retires every node once and reclaims it%s%s",
			 teardown_ok ? "" : ": ", teardown_ok ? "" : why_td);
	return failed;
}

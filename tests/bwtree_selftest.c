/* SPDX-License-Identifier: MIT */
/*
 * bwtree_selftest.c - the Bw-tree's property tests (smrbench-faults
 * selftest): random inserts against a sequential model, a deep node, the
 * fence keys.  Included by workloads/bwtree/bwtree.c in the test builds
 * only, so it sees the tree's static functions; TAP on stdout.
 */

/* The scheme's name as `smrbench list` shows it (instance.h sets its default after us). */
#ifdef SMR_SCHEME_NAME
#define BW_SCHEME_NAME SMR_SCHEME_NAME
#else
#define BW_SCHEME_NAME SMR_STR(SMR_SCHEME)
#endif

/* This scheme's params (instance.h defines its own table after the workloads). */
static const struct smr_param_spec bw_scheme_params[] = {
	SMR_CAT2(SMR_PARAMS, SMR_SCHEME)
	{ NULL, NULL, NULL, 0, 0 },
};

static smr_domain *bw_test_domain(int threads)
{
	struct smr_config cfg = { .max_threads = threads, .hazard_slots = BW_HAZARD_SLOTS };
	char err[128];
	smr_config_defaults(&cfg, bw_scheme_params);
	return smr_domain_create(&cfg, err, sizeof err);
}

static int bw_tap(bool ok, const char *what)
{
	printf("%s - %s: bwtree %s\n", ok ? "ok" : "not ok", BW_SCHEME_NAME, what);
	return !ok;
}

/* Sorted-array model of the tree. */
struct bw_model {
	struct bw_kv *a;
	size_t n;
};

/* Largest i with a[i].k <= k, or -1. */
static long bw_model_search(const struct bw_model *m, uint64_t k)
{
	long lo = 0, hi = (long)m->n - 1, ans = -1;
	while (lo <= hi) {
		long mid = (lo + hi) >> 1;
		if (m->a[mid].k <= k) {
			ans = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return ans;
}

static long bw_model_find(const struct bw_model *m, uint64_t k)
{
	long i = bw_model_search(m, k);
	return i >= 0 && m->a[i].k == k ? i : -1;
}

struct bw_scan_check {
	const struct bw_model *m;
	size_t i;
};

static bool bw_scan_item(void *arg, uint64_t k, uint64_t v)
{
	struct bw_scan_check *c = arg;
	if (c->i >= c->m->n || c->m->a[c->i].k != k || c->m->a[c->i].v != v)
		return false;
	c->i++;
	return true;
}

/* Single-threaded random inserts and lookups against the model. */
static int bw_test_model(uint32_t node_size, uint32_t consolidate, bool prealloc, uint64_t key_space,
			 int ops, uint64_t seed)
{
	char what[160], msg[200] = "";
	int failed = 0;
	smr_domain *d = bw_test_domain(2);
	smr_thread *t = smr_register(d);
	struct bw_tree tr;
	char err[128];
	if (!bw_tree_init(&tr, t, key_space, consolidate, node_size, prealloc, err, sizeof err)) {
		printf("# %s\n", err);
		return bw_tap(false, "tree set-up");
	}
	struct bw_tls x = { .tr = &tr, .t = t };
	struct bw_model m = { malloc((size_t)key_space * sizeof(struct bw_kv)), 0 };
	uint64_t rng = seed | 1;
	int mismatches = 0;
	for (int i = 0; i < ops && !x.errors; i++) {
		uint64_t k = 1 + bw_rand(&rng) % key_space;
		long at = bw_model_find(&m, k);
		smr_begin(t);
		if (bw_rand(&rng) % 4) {
			uint64_t v = bw_rand(&rng);
			enum bw_ins_result r = bw_insert(&x, k, v);
			if (r != (at >= 0 ? BW_INS_EXISTS : BW_INS_DONE)) {
				if (!mismatches++)
					snprintf(msg, sizeof msg, "insert %llu gave %d", (unsigned long long)k, r);
			} else if (at < 0) {
				size_t pos = (size_t)(bw_model_search(&m, k) + 1);
				memmove(m.a + pos + 1, m.a + pos, (m.n - pos) * sizeof *m.a);
				m.a[pos] = (struct bw_kv){ k, v };
				m.n++;
			}
		} else {
			uint64_t v = 0;
			bool e, found = bw_lookup(&x, k, &v, &e);
			if (found != (at >= 0) || (found && v != m.a[at].v)) {
				if (!mismatches++)
					snprintf(msg, sizeof msg, "lookup %llu: tree %s, model %s",
						 (unsigned long long)k, found ? "found" : "absent",
						 at >= 0 ? "present" : "absent");
			}
		}
		smr_end(t);
		smr_quiescent(t);
	}
	if (msg[0])
		printf("# %s\n", msg);
	snprintf(what, sizeof what,
		 "inserts and lookups agree with a sorted array (node_size=%u consolidate=%u prealloc=%d, %llu keys)",
		 node_size, consolidate, prealloc, (unsigned long long)m.n);
	failed += bw_tap(!mismatches && !x.errors, what);
	/* Every model key found; leaf scan equal to the model; separators consistent. */
	int missing = 0;
	for (size_t i = 0; i < m.n; i++) {
		uint64_t v = 0;
		bool e;
		smr_begin(t);
		if (!bw_lookup(&x, m.a[i].k, &v, &e) || v != m.a[i].v)
			missing++;
		smr_end(t);
	}
	struct bw_scan_check sc = { &m, 0 };
	int64_t n = bw_check_structure(&x, msg, sizeof msg, bw_scan_item, &sc);
	if (n < 0)
		printf("# %s\n", msg);
	snprintf(what, sizeof what,
		 "structure: sorted complete leaf level, separators bound children (node_size=%u prealloc=%d)",
		 node_size, prealloc);
	failed += bw_tap(!missing && n == (int64_t)m.n && sc.i == m.n, what);
	bw_tree_retire_all(&tr, t);
	smr_unregister(t);
	struct smr_stats s;
	smr_domain_destroy(d, &s);
	bw_tree_free(&tr);
	snprintf(what, sizeof what, "retired == reclaimed after teardown (%llu, node_size=%u prealloc=%d)",
		 (unsigned long long)s.retired, node_size, prealloc);
	failed += bw_tap(s.retired == s.reclaimed && s.retired > 0, what);
	free(m.a);
	free(x.buf);
	free(x.ins);
	return failed;
}

/*
 * A reader protects a chain's head; two deltas are prepended, so that record
 * sits deep in the chain; the chain is consolidated and retired as one;
 * the writer retires thousands of objects so that any scheme scans and frees
 * what it may.  The deep record must survive (poisoning on: a freed record
 * reads 0xDD..).  A hazard-pointer scheme that checked only the retired
 * chain's head against its hazards fails here.
 */
static int bw_test_deep_node(bool prealloc)
{
	bool poison = smr_poison_enabled;
	smr_poison_enabled = true;
	smr_domain *d = bw_test_domain(3);
	smr_thread *r = smr_register(d), *w = smr_register(d);
	/* With prealloc the held record is a slot inside the first base's block. */
	struct bw_tree tr = { .consolidate = 8, .node_size = 128, .carve_cap = BW_CAN_CARVE && prealloc ? 8 : 0 };
	struct bw_tls x = { .tr = &tr, .t = w };
	void *_Atomic slot = NULL;
	struct bw_kv one = { 1, bw_value_of(1) };
	struct bw_base *b = bw_base_new(&x, BW_LEAF_BASE, 0, &one, 1, 0, BW_INF, 0);
	smr_store(w, &slot, b);
	struct bw_node *head = &b->h;
	/* d[0] is the record the reader will hold. */
	for (int i = 0; i < 3; i++) {
		if (i == 1) {
			smr_begin(r);
			struct bw_insert *held = smr_protect(r, 0, &slot);
			WL_FAULT_POINT();
			(void)held;
		}
		smr_begin(w);
		struct bw_node *h = smr_protect(w, 0, &slot);
		struct bw_insert *dl = bw_delta_alloc(&x, h, sizeof *dl);
		bw_init_node(&dl->h, BW_INSERT, 0, h->depth + 1);
		dl->key = 10 + (uint64_t)i;
		dl->value = bw_value_of(dl->key);
		bw_link_below(w, &dl->h, h);
		if (!smr_cas(w, &slot, h, dl))
			abort(); /* single-threaded */
		head = &dl->h;
		smr_end(w);
	}
	struct bw_insert *held = (struct bw_insert *)bw_next(bw_next(head));
	bool held_carved = held->h.carved;
	/* Consolidate: a new base replaces the chain, which is retired as one. */
	smr_begin(w);
	struct bw_node *h = smr_protect(w, 0, &slot);
	struct bw_kv items[4] = { { 1, bw_value_of(1) }, { 10, bw_value_of(10) }, { 11, bw_value_of(11) },
				  { 12, bw_value_of(12) } };
	struct bw_base *nb = bw_base_new(&x, BW_LEAF_BASE, 0, items, 4, 0, BW_INF, 0);
	bool cas_ok = smr_cas(w, &slot, h, nb);
	bw_retire_chain(w, h);
	smr_end(w);
	smr_quiescent(w);
	/* Give every scheme reason and occasion to scan and free. */
	for (int i = 0; i < 20000; i++) {
		smr_begin(w);
		struct bw_node *junk = smr_alloc(w, sizeof *junk);
		bw_init_node(junk, BW_IDREC, 0, 0);
		smr_retire_free(w, &junk->smr);
		smr_end(w);
		smr_quiescent(w);
	}
	bool intact = !wl_canary_bad(&held->h, BW_CANARY) && held->key == 10 && held->value == bw_value_of(10);
	struct smr_stats mid;
	smr_stats_read(d, &mid);
	printf("# deep-node test: retired %llu reclaimed %llu while the reader held the deep record\n",
	       (unsigned long long)mid.retired, (unsigned long long)mid.reclaimed);
	smr_end(r);
	smr_quiescent(r);
	smr_begin(w);
	struct bw_node *last = smr_exchange(w, &slot, NULL);
	bw_retire_chain(w, last);
	smr_end(w);
	smr_unregister(r);
	smr_unregister(w);
	struct smr_stats s;
	smr_domain_destroy(d, &s);
	smr_poison_enabled = poison;
	char what[120];
	snprintf(what, sizeof what, "a record deep in a retired chain survives while a reader holds it (%s)",
		 held_carved ? "carved from its base's block" : "its own allocation");
	int failed = bw_tap(cas_ok && intact, what);
	failed += bw_tap(s.retired == s.reclaimed, "deep-node test: retired == reclaimed after teardown");
	return failed;
}

/*
 * The fenced search against a linear scan, for bases of every size around
 * the run boundaries, and a corrupt fence caught by bw_collect (verify and
 * consolidation replay every base through it).
 */
static int bw_test_fences(void)
{
	smr_domain *d = bw_test_domain(1);
	smr_thread *t = smr_register(d);
	struct bw_tls x = { .t = t };
	struct bw_kv items[2 * BW_RUNS + 3];
	int wrong = 0;
	char msg[160] = "";
	bool caught = true;
	for (uint64_t n = 0; n <= 2 * BW_RUNS + 2; n++) {
		for (uint64_t i = 0; i < n; i++)
			items[i] = (struct bw_kv){ 10 * (i + 1), i };  /* keys 10, 20, ..: gaps between */
		struct bw_base *b = bw_base_new(&x, BW_LEAF_BASE, 0, items, n, 0, BW_INF, 0);
		for (uint64_t k = 0; k <= 10 * (n + 1) + 1; k++) {
			long want = -1;
			for (uint64_t i = 0; i < n; i++)
				if (items[i].k <= k)
					want = (long)i;
			long got = bw_base_search(b, k);
			if (got != want && !wrong++)
				snprintf(msg, sizeof msg, "n %llu key %llu: search gave %ld, want %ld",
					 (unsigned long long)n, (unsigned long long)k, got, want);
		}
		if (n == 2 * BW_RUNS) {
			struct bw_view v;
			b->fence[3]++;
			unsigned long before = x.errors;
			caught = !bw_collect(&x, &b->h, &v) && x.errors > before;
		}
		smr_dealloc(t, &b->h.smr);
	}
	if (wrong)
		printf("# %s\n", msg);
	free(x.buf);
	free(x.ins);
	smr_unregister(t);
	struct smr_stats s;
	smr_domain_destroy(d, &s);
	int failed = bw_tap(!wrong, "fenced base search agrees with a linear scan (0 to 34 keys)");
	failed += bw_tap(caught, "a base whose fence disagrees with its keys is caught when replayed");
	return failed;
}

static int bw_selftest(void)
{
	int failed = 0;
	/* A scheme this kernel cannot run (hp-asym, ebr-asym without membarrier)
	 * is a skip, not a crash on a NULL domain. */
	smr_domain *probe = bw_test_domain(1);
	if (!probe) {
		printf("ok - %s: bwtree # SKIP the scheme refused to create a domain here\n", BW_SCHEME_NAME);
		return 0;
	}
	struct smr_stats ignored;
	smr_domain_destroy(probe, &ignored);
	failed += bw_test_model(8, 4, true, 6000, 12000, 11);
	failed += bw_test_model(128, 8, true, 20000, 30000, 12);
	failed += bw_test_model(128, 8, false, 20000, 30000, 12);
	failed += bw_test_model(4, 1, true, 3000, 6000, 13);
	failed += bw_test_deep_node(false);
	failed += bw_test_deep_node(true);
	failed += bw_test_fences();
	return failed;
}

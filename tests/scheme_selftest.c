/*
 * scheme_selftest.c - the contract's unit tests, compiled into each scheme's
 * instance in test builds (smrbench-faults selftest SCHEME).  TAP on stdout.
 * (Placeholder until the test suite lands: one real check.)
 */
#include <stdio.h>

static int scheme_selftest(void)
{
	struct smr_config cfg = { .max_threads = 2, .hazard_slots = 1 };
	char err[128];
	smr_config_defaults(&cfg, SMR_SYM(scheme_params));
	smr_domain *d = smr_domain_create(&cfg, err, sizeof err);
	struct smr_stats st;
	smr_domain_destroy(d, &st);
	int ok = d != NULL && st.retired == 0;
	printf("%s - %s: domain create/destroy\n", ok ? "ok" : "not ok", SMR_SCHEME_NAME);
	return !ok;
}

/* SPDX-License-Identifier: MIT */
/* registry.c - every scheme compiled into this binary, and look-ups. */
#include <string.h>

#include "config.h"
#include "harness/workload.h"

extern const struct scheme_desc scheme_none, scheme_ebr, scheme_qsbr;
extern const struct scheme_desc scheme_hp, scheme_hp_asym, scheme_rc;
extern const struct scheme_desc scheme_ebr_asym, scheme_nebr, scheme_he, scheme_ibr;
extern const struct scheme_desc scheme_hp_pop, scheme_epoch_pop;
extern const struct scheme_desc scheme_hyaline;
#ifdef HAVE_URCU
extern const struct scheme_desc scheme_ext_urcu_qsbr, scheme_ext_urcu_memb, scheme_ext_urcu_mb;
#endif
#ifdef HAVE_CK
extern const struct scheme_desc scheme_ext_ck_epoch, scheme_ext_ck_hp;
#endif

const char *const smr_family_name[] = {
	[SMR_FAMILY_NONE] = "none",
	[SMR_FAMILY_GRACE_PERIOD] = "grace-period",
	[SMR_FAMILY_POINTER] = "pointer",
	[SMR_FAMILY_ERA] = "era",
	[SMR_FAMILY_COUNT] = "count",
};

const struct scheme_desc *const smrb_schemes[] = {
	&scheme_none,
	&scheme_ebr,
	&scheme_qsbr,
	&scheme_hp,
	&scheme_hp_asym,
	&scheme_rc,
	&scheme_ebr_asym,
	&scheme_nebr,
	&scheme_he,
	&scheme_ibr,
	&scheme_hp_pop,
	&scheme_epoch_pop,
	&scheme_hyaline,
#ifdef HAVE_URCU
	&scheme_ext_urcu_qsbr,
	&scheme_ext_urcu_memb,
	&scheme_ext_urcu_mb,
#endif
#ifdef HAVE_CK
	&scheme_ext_ck_epoch,
	&scheme_ext_ck_hp,
#endif
	NULL,
};

const struct scheme_desc *smrb_find_scheme(const char *name)
{
	for (int i = 0; smrb_schemes[i]; i++)
		if (!strcmp(smrb_schemes[i]->name, name))
			return smrb_schemes[i];
	return NULL;
}

const struct workload_desc *smrb_find_workload(const struct scheme_desc *s, const char *name)
{
	for (int i = 0; s->workloads[i]; i++)
		if (!strcmp(s->workloads[i]->name, name))
			return s->workloads[i];
	return NULL;
}

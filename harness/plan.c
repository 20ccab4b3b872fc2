/* SPDX-License-Identifier: MIT */
/*
 * plan.c - a `smrbench run` request expanded into cells (plan.h): the params
 * of a cell, each param's list of values checked against its spec, and the
 * cell of each (scheme, combination).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/alloc.h"
#include "harness/harness.h"
#include "harness/peers.h"
#include "harness/plan.h"

/* ---- params of a cell ---- */

static const struct wl_param_spec *find_wl_param(const struct workload_desc *wl, const char *name)
{
	for (const struct wl_param_spec *p = wl->params; p->name; p++)
		if (!strcmp(p->name, name))
			return p;
	return NULL;
}

int find_scheme_param(const struct scheme_desc *s, const char *name)
{
	for (int i = 0; s->params[i].name; i++)
		if (!strcmp(s->params[i].name, name))
			return i;
	return -1;
}

static int parse_long(const char *s, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (end == s || *end || errno)
		return -1;
	*out = v;
	return 0;
}

/* Check one value of a workload param. */
static int check_wl_value(const struct wl_param_spec *p, const char *v, char *err, size_t errlen)
{
	switch (p->type) {
	case WL_INT: {
		long x;
		if (parse_long(v, &x) < 0 || x < p->min || x > p->max) {
			snprintf(err, errlen, "bad value '%s' for param %s (want an integer in %.0f..%.0f)",
				 v, p->name, p->min, p->max);
			return -1;
		}
		return 0;
	}
	case WL_REAL: {
		char *end;
		double x = strtod(v, &end);
		if (end == v || *end || !(x >= p->min && x <= p->max)) {
			snprintf(err, errlen, "bad value '%s' for param %s (want a number in %g..%g)", v,
				 p->name, p->min, p->max);
			return -1;
		}
		return 0;
	}
	case WL_ENUM: {
		size_t n = strlen(v);
		for (const char *c = p->choices; c && *c;) {
			size_t w = strcspn(c, "|");
			if (w == n && !strncmp(c, v, n))
				return 0;
			c += w + (c[w] == '|');
		}
		snprintf(err, errlen, "bad value '%s' for param %s (want one of %s)", v, p->name, p->choices);
		return -1;
	}
	case WL_CUSTOM:
		return 0; /* the workload's check() decides */
	}
	return -1;
}

/* ---- the plan: every param's list of values ---- */

static const char *given_value(const struct run_options *o, const char *name)
{
	const char *v = NULL;
	for (int i = 0; i < o->nparams; i++)
		if (!strcmp(o->param_name[i], name))
			v = o->param_values[i]; /* the last one given wins */
	return v;
}

static int plan_add(struct plan *pl, const char *name, const char *def, bool scheme_param,
		    char *err, size_t errlen)
{
	for (int i = 0; i < pl->nparams; i++)
		if (!strcmp(pl->param[i].name, name))
			return 0;
	if (pl->nparams == CELL_MAX_PARAMS) {
		snprintf(err, errlen, "too many params");
		return -1;
	}
	struct plan_param *p = &pl->param[pl->nparams++];
	p->name = name;
	p->scheme_param = scheme_param;
	const char *given = given_value(pl->o, name);
	char *list = strdup(given ? given : def);
	for (char *save, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (p->nvalues == 64) {
			snprintf(err, errlen, "param %s: more than 64 values", name);
			return -1;
		}
		p->values[p->nvalues++] = strdup(tok);
	}
	free(list);
	if (p->nvalues == 0) {
		snprintf(err, errlen, "param %s has no value", name);
		return -1;
	}
	return 0;
}

/* Fill a cell's params for combination `combo` and scheme si. */
void plan_cell(const struct plan *pl, int si, int combo, struct cell *c)
{
	c->nparams = 0;
	memset(c->smr.param, 0, sizeof c->smr.param);
	for (int i = 0; i < pl->nparams; i++) {
		const struct plan_param *p = &pl->param[i];
		const char *v = p->values[combo % p->nvalues];
		combo /= p->nvalues;
		if (p->scheme_param) {
			int k = find_scheme_param(pl->scheme[si], p->name);
			if (k < 0)
				continue; /* another scheme's param */
			/* Not given: this scheme's own default (two schemes may share a
			 * param name with different defaults, as he and ibr's era_freq). */
			if (!given_value(pl->o, p->name))
				v = pl->scheme[si]->params[k].def;
			c->smr.param[k] = strtol(v, NULL, 10);
		}
		c->param_name[c->nparams] = p->name;
		c->param_value[c->nparams++] = v;
	}
}

/* Every scheme asked for, ours or a peer, and its instance of the workload. */
static int resolve_schemes(struct plan *pl, char *err, size_t errlen)
{
	const struct run_options *o = pl->o;
	for (int s = 0; s < o->nschemes; s++) {
		pl->scheme[s] = smrb_find_scheme(o->schemes[s]);
		/* A peer (peers.c): another language's LazyTransform, in its own process. */
		if (!pl->scheme[s] && peer_find(o->schemes[s], &pl->scheme[s], err, errlen) < 0)
			return -1;
		pl->has_peer |= pl->scheme[s] && peer_is(pl->scheme[s]->name);
		if (!pl->scheme[s]) {
			snprintf(err, errlen, "unknown scheme '%s' (smrbench list shows them)", o->schemes[s]);
			return -1;
		}
		pl->wl[s] = smrb_find_workload(pl->scheme[s], o->workload);
		if (!pl->wl[s]) {
			/* Every C scheme has every workload; a peer has lazy only. */
			if (!smrb_find_workload(smrb_schemes[0], o->workload))
				snprintf(err, errlen, "unknown workload '%s' (smrbench list shows them)", o->workload);
			else
				snprintf(err, errlen, "scheme %s cannot run workload %s", o->schemes[s], o->workload);
			return -1;
		}
	}
	return 0;
}

/* A param the harness handles itself: stall (harness_param) or alloc (alloc_param). */
static int plan_add_own(struct plan *pl, const char *name, const char *def, bool alloc, char *err, size_t errlen)
{
	int before = pl->nparams;
	if (plan_add(pl, name, def, false, err, errlen) < 0)
		return -1;
	if (pl->nparams > before) {
		pl->param[before].harness_param = !alloc;
		pl->param[before].alloc_param = alloc;
	}
	return 0;
}

/* Every param of the cells, in order: the workload's, every selected
 * scheme's, the harness's; then no param given may be left unknown. */
static int plan_params(struct plan *pl, char *err, size_t errlen)
{
	const struct run_options *o = pl->o;
	for (const struct wl_param_spec *p = pl->wl[0]->params; p->name; p++)
		if (plan_add(pl, p->name, p->def, false, err, errlen) < 0)
			return -1;
	for (int s = 0; s < o->nschemes; s++)
		for (const struct smr_param_spec *p = pl->scheme[s]->params; p->name; p++)
			if (plan_add(pl, p->name, p->def, true, err, errlen) < 0)
				return -1;
	/* The harness's own params, only when given: other runs keep their columns. */
	if (given_value(o, "stall") && plan_add_own(pl, "stall", "0", false, err, errlen) < 0)
		return -1;
	/* The allocator: always planned (every row says which one ran), the
	 * last param, so it varies slowest within a repetition. */
	if (plan_add_own(pl, "alloc", SMRB_DEFAULT_ALLOC, true, err, errlen) < 0)
		return -1;
	for (int i = 0; i < o->nparams; i++) {
		bool known = false;
		for (int k = 0; k < pl->nparams; k++)
			known |= !strcmp(pl->param[k].name, o->param_name[i]);
		if (!known) {
			snprintf(err, errlen, "unknown param '%s' for workload %s and the schemes given",
				 o->param_name[i], o->workload);
			return -1;
		}
	}
	return 0;
}

/* Check one value of a scheme param against every selected scheme that has it. */
static int check_scheme_value(const struct plan *pl, const char *name, const char *v, char *err, size_t errlen)
{
	for (int s = 0; s < pl->o->nschemes; s++) {
		int k = find_scheme_param(pl->scheme[s], name);
		long x;
		if (k < 0)
			continue;
		const struct smr_param_spec *sp = &pl->scheme[s]->params[k];
		if (parse_long(v, &x) < 0 || x < sp->min || x > sp->max) {
			snprintf(err, errlen, "bad value '%s' for param %s (want an integer in %ld..%ld)", v, name,
				 sp->min, sp->max);
			return -1;
		}
	}
	return 0;
}

static int check_value(const struct plan *pl, const struct plan_param *p, const char *v, char *err, size_t errlen)
{
	if (p->scheme_param)
		return check_scheme_value(pl, p->name, v, err, errlen);
	if (p->alloc_param)
		return alloc_check(v, err, errlen);
	if (p->harness_param) {
		if (strcmp(v, "0") && strcmp(v, "1")) {
			snprintf(err, errlen, "bad value '%s' for param %s (want 0 or 1)", v, p->name);
			return -1;
		}
		return 0;
	}
	return check_wl_value(find_wl_param(pl->wl[0], p->name), v, err, errlen);
}

/* Check every value of every param, and count the combinations. */
static int check_values(struct plan *pl, char *err, size_t errlen)
{
	pl->combos = 1;
	for (int i = 0; i < pl->nparams; i++) {
		const struct plan_param *p = &pl->param[i];
		for (int v = 0; v < p->nvalues; v++)
			if (check_value(pl, p, p->values[v], err, errlen) < 0)
				return -1;
		pl->combos *= p->nvalues;
		if (pl->combos > 100000) {
			snprintf(err, errlen, "the param sweep has too many combinations");
			return -1;
		}
	}
	return 0;
}

/* The workload's own checks and the peers', on every combination. */
static int check_cells(const struct plan *pl, char *err, size_t errlen)
{
	const struct run_options *o = pl->o;
	if (pl->wl[0]->check)
		for (int c = 0; c < pl->combos; c++) {
			struct cell cell = { .workload = o->workload, .threads = o->threads[0] };
			plan_cell(pl, 0, c, &cell);
			if (pl->wl[0]->check(&cell, err, errlen) < 0)
				return -1;
		}
	for (int s = 0; s < o->nschemes; s++)
		for (int c = 0; c < pl->combos && peer_is(pl->scheme[s]->name); c++) {
			struct cell cell = { .workload = o->workload, .scheme = pl->scheme[s]->name };
			plan_cell(pl, s, c, &cell);
			if (peer_check(&cell, err, errlen) < 0)
				return -1;
		}
	return 0;
}

int plan_build(struct plan *pl, const struct run_options *o, char *err, size_t errlen)
{
	memset(pl, 0, sizeof *pl);
	pl->o = o;
	if (resolve_schemes(pl, err, errlen) < 0 || plan_params(pl, err, errlen) < 0 ||
	    check_values(pl, err, errlen) < 0 || check_cells(pl, err, errlen) < 0)
		return -1;
	return 0;
}

void plan_job(const struct plan *pl, int si, int combo, int threads, int rep, struct cell_job *job)
{
	*job = (struct cell_job){
		.cell = {
			.workload = pl->o->workload,
			.scheme = pl->scheme[si]->name,
			.threads = threads,
			.duration_s = pl->o->duration_s,
			.rep = rep,
		},
		.scheme = pl->scheme[si],
		.wl = pl->wl[si],
		.pin = pl->o->pin,
	};
	plan_cell(pl, si, combo, &job->cell);
	job->stall = cell_param_long(&job->cell, "stall") != 0;
}

void plan_free(struct plan *pl)
{
	for (int i = 0; i < pl->nparams; i++)
		for (int v = 0; v < pl->param[i].nvalues; v++)
			free(pl->param[i].values[v]);
}

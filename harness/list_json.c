/* SPDX-License-Identifier: MIT */
/*
 * list_json.c - `smrbench list --json`: what this binary has, as one JSON
 * object, for the scripts and tests that must not keep their own copies of
 * these facts (which schemes are grace-period ones, which wrap a library,
 * a workload's hazard slots, runs.csv's columns):
 *
 *   { "schemes":   [ { name, summary, family, robust, reference, [lazy_get,] params } ],
 *     "workloads": [ { name, summary, hazard_slots, params } ],
 *     "columns":   [ runs.csv's columns before the params, in order ],
 *     "counters":  [ { event, column, available } ],
 *     "allocators": [ { name, installed, preload, library, package, summary } ],
 *     "peers":     [ { name, summary, built, why_not, params } ],
 *     "peer_columns": [ the columns a run with a peer adds, just before `ended` ],
 *     "default_allocator": name }
 *
 * robust: a stalled reader holds back a bounded number of objects (every
 * family but none and grace-period).  lazy_get: { path, cost }, the cost
 * model of a lazy get (struct scheme_desc), only in the schemes that have one.
 * Params: { name, default, help, min, max } for schemes; workloads add type
 * and choices.
 */
#include <stdio.h>

#include "config.h"
#include "harness/alloc.h"
#include "harness/harness.h"
#include "harness/peers.h"

static void key(FILE *f, const char *sep, const char *k)
{
	fputs(sep, f);
	json_str(f, k);
	fputc(':', f);
}

static void str_or_null(FILE *f, const char *s)
{
	if (s)
		json_str(f, s);
	else
		fputs("null", f);
}

/* An object's first fields, which schemes, peers and workloads share. */
static void open_entry(FILE *f, const char *open, const char *name, const char *summary)
{
	key(f, open, "name");
	json_str(f, name);
	key(f, ",", "summary");
	json_str(f, summary);
}

/* A scheme's or a peer's last field, its params (each { name, default,
 * help, min, max }), and the object's end. */
static void close_with_params(FILE *f, const struct smr_param_spec *params)
{
	key(f, ",", "params");
	fputc('[', f);
	for (int k = 0; params[k].name; k++) {
		const struct smr_param_spec *p = &params[k];
		key(f, k ? ",{" : "{", "name");
		json_str(f, p->name);
		key(f, ",", "default");
		json_str(f, p->def);
		key(f, ",", "help");
		json_str(f, p->help);
		fprintf(f, ",\"min\":%ld,\"max\":%ld}", p->min, p->max);
	}
	fputs("]}", f);
}

static void scheme_json(FILE *f, const struct scheme_desc *s)
{
	open_entry(f, "{", s->name, s->summary);
	key(f, ",", "family");
	json_str(f, smr_family_name[s->family]);
	key(f, ",", "robust");
	fputs(s->family == SMR_FAMILY_NONE || s->family == SMR_FAMILY_GRACE_PERIOD ? "false" : "true", f);
	key(f, ",", "reference");
	str_or_null(f, s->reference);
	if (s->lazy_get.path) {
		key(f, ",", "lazy_get");
		key(f, "{", "path");
		json_str(f, s->lazy_get.path);
		key(f, ",", "cost");
		json_str(f, s->lazy_get.cost);
		fputc('}', f);
	}
	close_with_params(f, s->params);
}

/* The peers (peers.c): another language's program per lazy cell. */
static void peers_json(FILE *f)
{
	struct peer_info p;
	fputc('[', f);
	for (int i = 0; peer_info(i, &p); i++) {
		open_entry(f, i ? ",\n {" : "\n {", p.name, p.summary);
		fprintf(f, ",\"built\":%s", p.built ? "true" : "false");
		key(f, ",", "why_not");
		str_or_null(f, p.why_not);
		close_with_params(f, p.params);
	}
	fputc(']', f);
}

static void workload_json(FILE *f, const struct workload_desc *w)
{
	static const char *const type[] = { [WL_INT] = "int", [WL_REAL] = "real", [WL_ENUM] = "enum",
					    [WL_CUSTOM] = "custom" };
	open_entry(f, "{", w->name, w->summary);
	fprintf(f, ",\"hazard_slots\":%d", w->hazard_slots);
	key(f, ",", "params");
	fputc('[', f);
	for (const struct wl_param_spec *p = w->params; p->name; p++) {
		key(f, p == w->params ? "{" : ",{", "name");
		json_str(f, p->name);
		key(f, ",", "type");
		json_str(f, type[p->type]);
		key(f, ",", "default");
		json_str(f, p->def);
		key(f, ",", "help");
		json_str(f, p->help);
		if (p->type == WL_INT || p->type == WL_REAL)
			fprintf(f, ",\"min\":%g,\"max\":%g", p->min, p->max);
		key(f, ",", "choices");
		str_or_null(f, p->choices);
		fputc('}', f);
	}
	fputs("]}", f);
}

void list_json(FILE *f)
{
	key(f, "{", "schemes");
	fputc('[', f);
	for (int i = 0; smrb_schemes[i]; i++) {
		fputs(i ? ",\n " : "\n ", f);
		scheme_json(f, smrb_schemes[i]);
	}
	key(f, "],\n", "workloads");
	fputc('[', f);
	const struct scheme_desc *s0 = smrb_schemes[0];
	for (int w = 0; s0->workloads[w]; w++) {
		fputs(w ? ",\n " : "\n ", f);
		workload_json(f, s0->workloads[w]);
	}
	key(f, "],\n", "columns");
	fputc('[', f);
	for (int i = 0; csv_columns_before_counters[i]; i++) {
		fputs(i ? "," : "", f);
		json_str(f, csv_columns_before_counters[i]);
	}
	for (int i = 0; i < CTR_N; i++) {
		fputc(',', f);
		json_str(f, ctr_column[i]);
	}
	for (int i = 0; csv_columns_after_counters[i]; i++) {
		fputc(',', f);
		json_str(f, csv_columns_after_counters[i]);
	}
	key(f, "],\n", "counters");
	fputc('[', f);
	for (int i = 0; i < CTR_N; i++) {
		key(f, i ? ",{" : "{", "event");
		json_str(f, counters_event_name((enum ctr_id)i));
		key(f, ",", "column");
		json_str(f, ctr_column[i]);
		fprintf(f, ",\"available\":%s", counters_available((enum ctr_id)i) ? "true" : "false");
		/* Where it comes from (PAPI, perf_event_open, getrusage), as machine.json's counter_sources. */
		key(f, ",", "source");
		str_or_null(f, counters_source((enum ctr_id)i));
		fputc('}', f);
	}
	key(f, "],\n", "allocators");
	fputc('[', f);
	for (const struct smrb_alloc *a = smrb_allocs; a->name; a++) {
		char lib[4096];
		bool installed = alloc_library_path(a, lib, sizeof lib);
		key(f, a == smrb_allocs ? "{" : ",{", "name");
		json_str(f, a->name);
		fprintf(f, ",\"installed\":%s,\"preload\":%s", installed ? "true" : "false", a->preload ? "true" : "false");
		key(f, ",", "library");
		str_or_null(f, installed ? lib : a->library);
		key(f, ",", "package");
		str_or_null(f, a->package);
		key(f, ",", "summary");
		json_str(f, a->summary);
		fputc('}', f);
	}
	key(f, "],\n", "peers");
	peers_json(f);
	key(f, ",\n", "peer_columns");
	fputc('[', f);
	for (int i = 0; csv_columns_peers[i]; i++) {
		fputs(i ? "," : "", f);
		json_str(f, csv_columns_peers[i]);
	}
	key(f, "],\n", "default_allocator");
	json_str(f, SMRB_DEFAULT_ALLOC);
	fputs("}\n", f);
}

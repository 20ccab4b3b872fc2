/* SPDX-License-Identifier: MIT */
/* sysinfo.c - machine.json: what a reader of the results needs to know of the machine. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "harness/alloc.h"
#include "harness/harness.h"

/* Write s as a JSON string (NULL: an empty one). */
void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/*
 * The value of key ("model name", "cpu family", ..) in /proc/cpuinfo's first
 * processor block, into buf; false if there is none.
 */
static bool cpuinfo_field(const char *key, char *buf, size_t len)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/cpuinfo", "r");
	while (f && !found && fgets(line, sizeof line, f)) {
		if (line[0] == '\n')
			break; /* the end of the first processor's block */
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		char *v = colon + 1 + strspn(colon + 1, " \t");
		v[strcspn(v, "\n")] = 0;
		/* The key: what precedes the colon, without its padding. */
		char *end = colon;
		while (end > line && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		*end = 0;
		if (!strcmp(line, key)) {
			snprintf(buf, len, "%s", v);
			found = true;
		}
	}
	if (f)
		fclose(f);
	return found;
}

/*
 * The CPU's kind, "<vendor>-<family>-<model>" from /proc/cpuinfo (x86:
 * "AuthenticAMD-26-2"), or "<machine>-unknown".  A VM may show only "AMD
 * EPYC" as the model name, while a locked RMW costs 2 ns on one generation
 * and 5-6 ns on the next: ratios to `none` move with it, which is why the
 * regression check runs its baseline revision beside HEAD on the same
 * machine (scripts/duet.py) and cross-machine figures name the kind.
 */
static void cpu_kind(char *buf, size_t len, const char *machine)
{
	char vendor[64], family[32], model[32];
	if (cpuinfo_field("vendor_id", vendor, sizeof vendor) && cpuinfo_field("cpu family", family, sizeof family) &&
	    cpuinfo_field("model", model, sizeof model))
		snprintf(buf, len, "%s-%s-%s", vendor, family, model);
	else
		snprintf(buf, len, "%s-unknown", machine);
	/* A directory name: nothing but [A-Za-z0-9._-]. */
	for (char *c = buf; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		      *c == '.' || *c == '-' || *c == '_'))
			*c = '_';
}

void sysinfo_write(FILE *f)
{
	struct utsname u;
	struct sysinfo si;
	char host[256] = "unknown", model[256], date[64];
	time_t now = time(NULL);
	uname(&u);
	sysinfo(&si);
	gethostname(host, sizeof host);
	if (!cpuinfo_field("model name", model, sizeof model))
		snprintf(model, sizeof model, "unknown");
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));

	fprintf(f, "{\n  \"hostname\": ");
	json_str(f, host);
	fprintf(f, ",\n  \"date_utc\": ");
	json_str(f, date);
	fprintf(f, ",\n  \"cpu_model\": ");
	json_str(f, model);
	char kind[200];
	cpu_kind(kind, sizeof kind, u.machine);
	fprintf(f, ",\n  \"cpu_kind\": ");
	json_str(f, kind);
	fprintf(f, ",\n  \"online_cpus\": %ld", sysconf(_SC_NPROCESSORS_ONLN));
	fprintf(f, ",\n  \"memory_kb\": %llu", (unsigned long long)si.totalram * si.mem_unit / 1024);
	fprintf(f, ",\n  \"topology\": ");
	topology_json(f);
	fprintf(f, ",\n  \"kernel\": ");
	char kernel[600];
	snprintf(kernel, sizeof kernel, "%s %s %s", u.sysname, u.release, u.machine);
	json_str(f, kernel);
	fprintf(f, ",\n  \"compiler\": ");
	json_str(f, "gcc-compatible " __VERSION__);
	fprintf(f, ",\n  \"cflags\": ");
	json_str(f, SMRB_CFLAGS);
	fprintf(f, ",\n  \"sanitizer\": ");
	json_str(f, SMRB_SANITIZER);
	fprintf(f, ",\n  \"git_revision\": ");
	json_str(f, SMRB_GIT_REVISION);
	fprintf(f, ",\n  \"smrbench_version\": ");
	json_str(f, PACKAGE_VERSION);
	fprintf(f, ",\n  \"libraries\": {\"hwloc\": ");
	json_str(f, SMRB_HWLOC_VERSION);
	fprintf(f, ", \"papi\": ");
	json_str(f, counters_papi_version());
	fprintf(f, ", \"liburcu\": ");
	json_str(f, SMRB_URCU_VERSION);
	fprintf(f, ", \"ck\": ");
	json_str(f, SMRB_CK_VERSION);
	fprintf(f, "},\n  \"allocators\": {");
	/* Every allocator -P alloc= can name, where it is and its version. */
	for (const struct smrb_alloc *a = smrb_allocs; a->name; a++) {
		char lib[4096], version[160];
		bool installed = alloc_library_path(a, lib, sizeof lib);
		alloc_version(a, version, sizeof version);
		fprintf(f, "%s\n    ", a == smrb_allocs ? "" : ",");
		json_str(f, a->name);
		fprintf(f, ": {\"library\": ");
		json_str(f, lib);
		fprintf(f, ", \"package\": ");
		json_str(f, a->package ? a->package : "");
		fprintf(f, ", \"version\": ");
		json_str(f, version);
		fprintf(f, ", \"installed\": %s, \"preloaded\": %s}", installed ? "true" : "false",
			a->preload ? "true" : "false");
	}
	fprintf(f, "\n  },\n  \"default_alloc\": ");
	json_str(f, SMRB_DEFAULT_ALLOC);
	fprintf(f, ",\n  \"counters\": {");
	for (int i = 0; i < CTR_N; i++) {
		fprintf(f, "%s", i ? ", " : "");
		json_str(f, counters_event_name((enum ctr_id)i));
		fprintf(f, ": %s", counters_available((enum ctr_id)i) ? "true" : "false");
	}
	/* Which source filled each CSV column (null: the column is empty). */
	fprintf(f, "},\n  \"counter_sources\": {");
	for (int i = 0; i < CTR_N; i++) {
		const char *src = counters_source((enum ctr_id)i);
		fprintf(f, "%s", i ? ", " : "");
		json_str(f, ctr_column[i]);
		fprintf(f, ": ");
		if (src)
			json_str(f, src);
		else
			fprintf(f, "null");
	}
	fprintf(f, "},\n  ");
	calibrate_json(f);
	fprintf(f, "\n}\n");
}

/* sysinfo.c - machine.json: what a reader of the results needs to know of the machine. */
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "harness/harness.h"

/* Write s as a JSON string. */
static void json_str(FILE *f, const char *s)
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

static void cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];
	snprintf(buf, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		char *colon = strchr(line, ':');
		if (!strncmp(line, "model name", 10) && colon) {
			snprintf(buf, len, "%s", colon + 2);
			buf[strcspn(buf, "\n")] = 0;
			break;
		}
	}
	fclose(f);
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
	cpu_model(model, sizeof model);
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));

	fprintf(f, "{\n  \"hostname\": ");
	json_str(f, host);
	fprintf(f, ",\n  \"date_utc\": ");
	json_str(f, date);
	fprintf(f, ",\n  \"cpu_model\": ");
	json_str(f, model);
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
	fprintf(f, "},\n  \"counters\": {");
	for (int i = 0; i < CTR_N; i++) {
		fprintf(f, "%s", i ? ", " : "");
		json_str(f, counters_event_name((enum ctr_id)i));
		fprintf(f, ": %s", counters_available((enum ctr_id)i) ? "true" : "false");
	}
	fprintf(f, "}\n}\n");
}

/* SPDX-License-Identifier: MIT */
/*
 * smr_check.c - the contract's assertions (smr_common.h), called by smr.h's
 * checked calls in the test builds only; the measured binary never links
 * this file.  Each registered handle is followed by the thread that
 * registered it (the contract gives a handle to one thread), each domain's
 * hazard slots in a small shared table.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "smr.h"

/* Live domains a test build holds at once, handles one thread holds at once. */
#define SMR_CHECK_DOMAINS 64
#define SMR_CHECK_HANDLES 8

static struct {
	const void *d;
	int hazard_slots;
} domains[SMR_CHECK_DOMAINS];
static pthread_mutex_t domains_lock = PTHREAD_MUTEX_INITIALIZER;

struct smr_check_handle {
	const void *t;             /* NULL: a free entry */
	int hazard_slots;
	bool in_section;           /* between begin and end */
};
static _Thread_local struct smr_check_handle handles[SMR_CHECK_HANDLES];

__attribute__((noreturn, cold, format(printf, 1, 2))) static void violated(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("smr: contract violated: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

void smr_check_domain_created(const void *d, int hazard_slots)
{
	pthread_mutex_lock(&domains_lock);
	int i = 0;
	while (i < SMR_CHECK_DOMAINS && domains[i].d)
		i++;
	if (i < SMR_CHECK_DOMAINS) {
		domains[i].d = d;
		domains[i].hazard_slots = hazard_slots;
	}
	pthread_mutex_unlock(&domains_lock);
	if (i == SMR_CHECK_DOMAINS)
		violated("more than %d domains live at once: the checks cannot follow them", SMR_CHECK_DOMAINS);
}

void smr_check_domain_destroyed(const void *d)
{
	pthread_mutex_lock(&domains_lock);
	for (int i = 0; i < SMR_CHECK_DOMAINS; i++)
		if (domains[i].d == d)
			domains[i].d = NULL;
	pthread_mutex_unlock(&domains_lock);
}

static struct smr_check_handle *handle_of(const void *t)
{
	for (int i = 0; i < SMR_CHECK_HANDLES; i++)
		if (t && handles[i].t == t)
			return &handles[i];
	return NULL;
}

/* The handle's entry, or abort: call names what it was used for. */
static struct smr_check_handle *registered(const void *t, const char *call)
{
	struct smr_check_handle *h = handle_of(t);
	if (!h)
		violated("%s with a handle this thread did not register (or already unregistered)", call);
	return h;
}

void smr_check_registered(const void *d, const void *t)
{
	int slots = -1;
	pthread_mutex_lock(&domains_lock);
	for (int i = 0; i < SMR_CHECK_DOMAINS; i++)
		if (domains[i].d == d)
			slots = domains[i].hazard_slots;
	pthread_mutex_unlock(&domains_lock);
	if (slots < 0)
		violated("smr_register with a domain that was never created or is destroyed");
	struct smr_check_handle *h = NULL;
	for (int i = 0; i < SMR_CHECK_HANDLES && !h; i++)
		if (!handles[i].t)
			h = &handles[i];
	if (!h)
		violated("more than %d handles registered by one thread: the checks cannot follow them",
			 SMR_CHECK_HANDLES);
	*h = (struct smr_check_handle){ t, slots, false };
}

void smr_check_unregistered(const void *t)
{
	registered(t, "smr_unregister")->t = NULL;
}

void smr_check_begin(const void *t)
{
	struct smr_check_handle *h = registered(t, "smr_begin");
	if (h->in_section)
		violated("smr_begin inside a critical section (begin and end do not nest)");
	h->in_section = true;
}

void smr_check_end(const void *t)
{
	struct smr_check_handle *h = registered(t, "smr_end");
	if (!h->in_section)
		violated("smr_end without smr_begin");
	h->in_section = false;
}

void smr_check_protect(const void *t, int slot)
{
	struct smr_check_handle *h = registered(t, "smr_protect");
	if (slot < 0 || slot >= h->hazard_slots)
		violated("smr_protect with slot %d, outside the domain's %d hazard slots (smr_config.hazard_slots)",
			 slot, h->hazard_slots);
}

void smr_check_retire(const void *t)
{
	registered(t, "smr_retire");
}

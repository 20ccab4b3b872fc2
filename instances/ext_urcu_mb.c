/* SPDX-License-Identifier: MIT */
/* liburcu mb flavour's instance of every workload (reference back end). */
#define SMR_SCHEME ext_urcu_mb
#define SMR_SCHEME_NAME "urcu-mb"
#define SMR_SCHEME_SUMMARY "liburcu 0.13 mb flavour: read lock/unlock with mfence, call_rcu"
#define SMR_SCHEME_FAMILY SMR_FAMILY_GRACE_PERIOD
#define SMR_SCHEME_REFERENCE "liburcu"
#include "instances/instance.h"

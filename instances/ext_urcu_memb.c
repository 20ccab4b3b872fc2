/* SPDX-License-Identifier: MIT */
/* liburcu memb flavour's instance of every workload (reference back end). */
#define SMR_SCHEME ext_urcu_memb
#define SMR_SCHEME_NAME "urcu-memb"
#define SMR_SCHEME_SUMMARY "liburcu 0.13 memb flavour: read lock = TLS counter + compiler barrier (membarrier on writers), call_rcu"
#define SMR_SCHEME_FAMILY SMR_FAMILY_GRACE_PERIOD
#define SMR_SCHEME_REFERENCE "liburcu"
#include "instances/instance.h"

/* SPDX-License-Identifier: MIT */
/* liburcu QSBR flavour's instance of every workload (reference back end). */
#define SMR_SCHEME ext_urcu_qsbr
#define SMR_SCHEME_NAME "urcu-qsbr"
#define SMR_SCHEME_SUMMARY "liburcu 0.13 QSBR flavour: nothing on reads, rcu_quiescent_state() per batch, call_rcu"
#define SMR_SCHEME_FAMILY SMR_FAMILY_GRACE_PERIOD
#define SMR_SCHEME_REFERENCE "liburcu"
#include "instances/instance.h"

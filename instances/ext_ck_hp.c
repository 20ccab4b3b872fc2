/* SPDX-License-Identifier: MIT */
/* Concurrency Kit ck_hp's instance of every workload (reference back end). */
#define SMR_SCHEME ext_ck_hp
#define SMR_SCHEME_NAME "ck-hp"
#define SMR_SCHEME_SUMMARY "Concurrency Kit ck_hp: protect = ck_hp_set_fence (xchg) + validate, ck_hp_free/reclaim"
#define SMR_SCHEME_FAMILY SMR_FAMILY_POINTER
#define SMR_SCHEME_REFERENCE "Concurrency Kit"
#include "instances/instance.h"

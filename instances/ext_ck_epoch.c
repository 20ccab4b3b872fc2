/* SPDX-License-Identifier: MIT */
/* Concurrency Kit ck_epoch's instance of every workload (reference back end). */
#define SMR_SCHEME ext_ck_epoch
#define SMR_SCHEME_NAME "ck-epoch"
#define SMR_SCHEME_SUMMARY "Concurrency Kit ck_epoch: begin = xchg + epoch load/store, ck_epoch_call + ck_epoch_poll"
#define SMR_SCHEME_FAMILY SMR_FAMILY_GRACE_PERIOD
#define SMR_SCHEME_REFERENCE "Concurrency Kit"
#include "instances/instance.h"

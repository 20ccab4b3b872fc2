/* SPDX-License-Identifier: MIT */
/* Quiescent-state-based reclamation's instance of every workload. */
#define SMR_SCHEME qsbr
#define SMR_SCHEME_SUMMARY "quiescent-state-based: nothing on reads, an announcement every qsbr_k ops"
#define SMR_SCHEME_FAMILY SMR_FAMILY_GRACE_PERIOD
/* A lazy get, modelled by scripts/predict.py: schemes/qsbr.h: begin/end empty;
 * quiescent() every qsbr_k gets: acquire load of gp, compare, a store only
 * when a grace period began. */
#define SMR_SCHEME_LAZY_GET { "acquire load; per qsbr_k gets: load gp + compare", "acquire_load_ns/qsbr_k" }
#include "instances/instance.h"

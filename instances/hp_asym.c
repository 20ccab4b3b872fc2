/* SPDX-License-Identifier: MIT */
/* Asymmetric-fence hazard pointers' instance of every workload. */
#define SMR_SCHEME hp_asym
#define SMR_SCHEME_NAME "hp-asym"
#define SMR_SCHEME_SUMMARY "hazard pointers, asymmetric: protect = plain store + re-load, membarrier per scan"
#define SMR_SCHEME_FAMILY SMR_FAMILY_POINTER
/* A lazy get, modelled by scripts/predict.py: schemes/hp_impl.h (HP_ASYM 1):
 * protect = plain store + compiler barrier + reload; slots cleared at
 * quiescent() (one store per batch). */
#define SMR_SCHEME_LAZY_GET { "protect: plain store + reload", "" }
#include "instances/instance.h"

/* SPDX-License-Identifier: MIT */
/* Publish-on-ping hazard pointers' (HazardPtrPOP) instance of every workload. */
#define SMR_SCHEME hp_pop
#define SMR_SCHEME_NAME "hp-pop"
#define SMR_SCHEME_SUMMARY "hazard pointers published on ping: protect = plain local store + re-load, a signal to every thread per scan"
#define SMR_SCHEME_FAMILY SMR_FAMILY_POINTER
/* A lazy get, modelled by scripts/predict.py: schemes/hp_impl.h (HP_POP 1):
 * protect = plain store to the thread's own slot + compiler barrier + reload;
 * no fence (the reclaimer's ping orders it); slots cleared at quiescent(). */
#define SMR_SCHEME_LAZY_GET { "protect: plain local store + reload", "" }
#include "instances/instance.h"

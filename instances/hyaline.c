/* SPDX-License-Identifier: MIT */
/* Hyaline-1S's instance of every workload. */
#define SMR_SCHEME hyaline
#define SMR_SCHEME_SUMMARY "Hyaline-1S (Nikolaev & Ravindran): counted batches handed to the active threads whose era may cover them"
#define SMR_SCHEME_FAMILY SMR_FAMILY_ERA
/* A lazy get, modelled by scripts/predict.py: schemes/hyaline.h: no begin
 * (a thread enters at register); protect = load ptr + load clock + compare
 * with its published era; end = load its own slot's head.  The RMWs (an era
 * xchg when the clock moved, a head xchg and a lock xadd per batch handed to
 * it) come once per era_freq allocations or per batch: left out. */
#define SMR_SCHEME_LAZY_GET { "protect: load clock, compare era; end: load own head", "" }
#include "instances/instance.h"

/* SPDX-License-Identifier: MIT */
/* EpochPOP's instance of every workload: EBR, falling back on hazard pointers published on ping. */
#define SMR_SCHEME epoch_pop
#define SMR_SCHEME_NAME "epoch-pop"
#define SMR_SCHEME_SUMMARY "EBR's pin + plain local hazards; past a backlog, pings every thread and frees what no hazard holds (robust)"
#define SMR_SCHEME_FAMILY SMR_FAMILY_POINTER
/* A lazy get, modelled by scripts/predict.py: schemes/epoch_pop.h: begin =
 * ebr's (load epoch + xchg of the record); protect = plain local store +
 * reload; end = release store. */
#define SMR_SCHEME_LAZY_GET { "begin: load epoch + xchg; protect: plain local store; end: store", "xchg_ns" }
#include "instances/instance.h"

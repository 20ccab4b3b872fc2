/* SPDX-License-Identifier: MIT */
/* EBR with asymmetric fences (membarrier)'s instance of every workload. */
#define SMR_SCHEME ebr_asym
#define SMR_SCHEME_NAME "ebr-asym"
#define SMR_SCHEME_SUMMARY "EBR, pin = plain store + compiler barrier; the reclaimer issues membarrier(2) before each scan"
#define SMR_SCHEME_FAMILY SMR_FAMILY_GRACE_PERIOD
/* A lazy get, modelled by scripts/predict.py: schemes/ebr_asym.h: begin = load
 * epoch + plain store + compiler barrier; the reclaimer pays the membarrier. */
#define SMR_SCHEME_LAZY_GET { "begin: load epoch + plain store; end: store", "" }
#include "instances/instance.h"

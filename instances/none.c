/* SPDX-License-Identifier: MIT */
/* The leak floor's instance of every workload. */
#define SMR_SCHEME none
#define SMR_SCHEME_SUMMARY "no reclamation until the end: the floor every ratio is taken against"
#define SMR_SCHEME_FAMILY SMR_FAMILY_NONE
/* A lazy get, modelled by scripts/predict.py: schemes/none.h: protect is the
 * acquire load; nothing else. */
#define SMR_SCHEME_LAZY_GET { "acquire load", "" }
#include "instances/instance.h"

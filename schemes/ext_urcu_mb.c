/* SPDX-License-Identifier: MIT */
/* ext_urcu_mb.c - liburcu's mb flavour: the slow paths (template: ext_urcu_impl.h). */
#include "smr.h"
#include "ext_urcu_mb.h"
#include "ext_urcu_impl.h"

/* SPDX-License-Identifier: MIT */
/* ext_urcu_memb.c - liburcu's memb flavour: the slow paths (template: ext_urcu_impl.h). */
#include "smr.h"
#include "ext_urcu_memb.h"
#include "ext_urcu_impl.h"

/* SPDX-License-Identifier: MIT */
/* hp_asym.c - hazard pointers with membarrier: the slow paths of hp_impl_slow.h. */
#include "smr.h"
#include "hp_asym.h"
#include "hp_impl_slow.h"

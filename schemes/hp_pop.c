/* SPDX-License-Identifier: MIT */
/* hp_pop.c - hazard pointers published on ping: the slow paths of hp_impl_slow.h. */
#include "smr.h"
#include "hp_pop.h"
#include "hp_impl_slow.h"

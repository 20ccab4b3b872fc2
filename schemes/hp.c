/* SPDX-License-Identifier: MIT */
/* hp.c - hazard pointers, symmetric flavour: the slow paths of hp_impl_slow.h. */
#include "smr.h"
#include "hp.h"
#include "hp_impl_slow.h"

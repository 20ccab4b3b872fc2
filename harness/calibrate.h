/* SPDX-License-Identifier: MIT */
/*
 * calibrate.h - what the primitives cost on this machine (an acquire load, a
 * locked RMW, a fence, membarrier, malloc, a cache or DRAM miss, the clock and
 * the bare LazyTransform get), measured once at the start of a run and written
 * into machine.json as "calibration".
 */
#ifndef SMRB_CALIBRATE_H
#define SMRB_CALIBRATE_H

#include <stdio.h>

/*
 * Do not measure (--no-calibrate): machine.json then says "calibration": null
 * and "calibration_note": why.  Call before calibrate_json().
 */
void calibrate_skip(const char *why);

/*
 * Write machine.json's members "calibration": {...} (or null and a
 * "calibration_note"), without a separator before or after them, at the
 * indentation of machine.json's top level.  The first call measures (about
 * 0.4 s, in a forked child: nothing it does carries over into the cells);
 * later calls write the same numbers.
 */
void calibrate_json(FILE *f);

#endif

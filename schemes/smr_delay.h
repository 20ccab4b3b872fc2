/* SPDX-License-Identifier: MIT */
/*
 * smr_delay.h - a busy delay of a given number of spins, for planted
 * slowdowns only: `make bench-ci-demo` builds ebr with
 * -DSMRB_DEMO_DELAY_SPINS=N, and ebr_begin() then spins N times on every
 * SMR_DEMO_DELAY_EVERY-th pin, to show what the regression check flags
 * (scripts/bench_ci_demo.py).  The harness's calibration times one spin
 * ("delay_spin_ns" in machine.json), so that N can be chosen as a share of a
 * measured get.  A delay in spins, not a fence: what a fence costs varies by
 * CPU, what N spins cost is measured.  Every 1024th pin, not every pin: a
 * spin is about a cycle and an ebr get about 8 cycles on the machines here,
 * so a per-pin delay could not plant 5%; 1024 gets share N spins (one
 * mispredicted branch among them).
 */
#ifndef SMR_DELAY_H
#define SMR_DELAY_H

#define SMR_DEMO_DELAY_EVERY 1024

/*
 * n iterations of a loop-carried dependency (about one cycle each); the asm
 * hides i from the optimiser, so the loop is neither removed nor vectorised.
 * Returns 0, computed from the loop's result: a caller that adds it into a
 * value it stores makes the store wait for the whole delay.
 */
static inline unsigned long smr_delay_spins(unsigned long n)
{
	unsigned long i;
	for (i = 0; i < n; i++)
		__asm__ __volatile__("" : "+r"(i));
	return i - n;
}

#endif

/*
 * smr_delay.h - a busy delay of a given number of spins, for planted
 * slowdowns only: `make bench-ci-demo` builds ebr with
 * -DSMRB_DEMO_DELAY_SPINS=N to show what the regression check flags
 * (scripts/bench_ci_demo.py), and the harness's calibration times one spin
 * ("delay_spin_ns" in machine.json) so that N can be chosen as a share of a
 * measured get.  A delay in spins, not a fence: what a fence costs varies by
 * CPU, what N spins cost is measured.
 */
#ifndef SMR_DELAY_H
#define SMR_DELAY_H

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

/* vexp.h: exp over arrays of floats, eight at a time, and the softmax row
 * pass built on it (the exact softmax's B x N logits are its main user).
 *
 * Accuracy: within 2 ulp of expf over every float input (tests/engine/
 * test-vexp.c sweeps the range), the same special values as expf:
 * exp (-inf) = 0, exp (+inf) = +inf, +inf above 88.72 (overflow), NaN stays
 * NaN, subnormal results between -87.34 and -103.28 and 0 below.
 * The results are deterministic for a given machine (the AVX2 + FMA version
 * is picked at load time when the CPU has it, the baseline otherwise); the
 * two versions may differ in the last bit. */
#pragma once

#include <stddef.h>

/* y (n) = exp (x (n)); y may equal x */
void vexp (float *y, const float *x, size_t n);
/* the same, always the baseline x86-64 version (no FMA), whatever the CPU:
 * for the tests, which otherwise only see the version the CPU picks */
void vexp_baseline (float *y, const float *x, size_t n);

/* One softmax row while it is in cache: *max = max_j z[j] (NaNs ignored),
 * e[j] = exp (z[j] - *max), returns sum_j e[j], summed in float over blocks
 * of 256 entries and the blocks in double, always in the same order.
 * e may equal z; n >= 1. A NaN in z gives a NaN sum. */
double vexp_softmax_row (float *e, const float *z, size_t n, float *max);

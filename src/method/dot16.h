/* dot16.h: the dot product of two D-vectors that the NCE scores and the
 * kNN's streaming search both use. */
#pragma once

/* v . f with sixteen independent partial sums: the compiler vectorises them
 * without reassociating one float sum, in two FMA chains, so the FMA latency
 * does not cap the rate below the memory bandwidth. Always inlined, so that
 * it takes the instruction set of the function (or clone) that calls it. */
static inline __attribute__ ((always_inline)) float
dot16 (const float *v, const float *f, int D)
{
  float acc[16] = { 0 };
  int d = 0;
  for (; d + 16 <= D; d += 16)
    for (int j = 0; j < 16; j++)
      acc[j] += v[d + j] * f[d + j];
  float s = 0.0f;
  for (; d < D; d++)
    s += v[d] * f[d];
  for (int j = 0; j < 8; j++)
    acc[j] += acc[j + 8];
  return s + (((acc[0] + acc[4]) + (acc[1] + acc[5]))
              + ((acc[2] + acc[6]) + (acc[3] + acc[7])));
}

/* fma-peak.h: the processor's peak single-precision FLOP/s, measured.
 *
 * Each engine thread runs independent chains of fused multiply-adds
 * (a = a * m + c on 12 vector registers: more chains than an FMA unit's
 * latency times its count, so the units never wait) for a fixed count;
 * 2 FLOP per lane per FMA. bench-peak prints it as a roof of the
 * roofline; bench-engine sets its %peak against it.
 */
#pragma once

/* 16 where the processor has AVX-512, 8 where it has AVX2 and FMA, 0
 * where it has neither */
int fma_peak_widest (void);

/* GFLOP/s of all engine threads together with vectors of `width` floats
 * (8 or 16, which the processor must have), the median of `rounds`
 * (1 to 64) after one warm-up round of about 0.1 s */
double fma_peak_gflops (int width, int rounds);

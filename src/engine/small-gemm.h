/* small-gemm.h: matrix products too small for OpenBLAS's packing to pay.
 *
 * Winograd's products (winograd.c) at the small ResNet's widths are
 * shallow: 36 products per chunk of tiles, each with a depth of 16 to 128
 * channels. At 16 channels one product of 16 x 224 outputs is 57 k
 * multiply-adds, about 2 microseconds of one core's FMA units, and OpenBLAS
 * spends a good part of that again checking its arguments and copying both
 * operands into its packed layout before it starts. These kernels read the
 * operands where they are, row-major with leading dimensions, and keep a
 * block of the result in registers for the whole depth: 8 rows by 32
 * columns for c = a b, 4 by 4 (each a vector along the depth) for
 * c = a b^T.
 *
 * They use AVX-512 (chosen at run time); small_gemm_available () says
 * whether this processor has it, and the caller keeps OpenBLAS for the
 * other processors and for the deep products, where its cache blocking
 * wins.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Whether the kernels below can run here (AVX-512 F). */
bool small_gemm_available (void);

/* c (m, n) = a (m, k) x b (k, n), written; all row-major, with leading
 * dimensions (floats from one row to the next) ldc, lda, ldb. */
void small_gemm_nn (float *c, size_t ldc, const float *a, size_t lda,
                    const float *b, size_t ldb, int m, int n, int k);

/* c (m, n) = beta c + a (m, k) x b (n, k)^T; beta 0 writes c without
 * reading it. */
void small_gemm_nt (float *c, size_t ldc, const float *a, size_t lda,
                    const float *b, size_t ldb, int m, int n, int k,
                    float beta);

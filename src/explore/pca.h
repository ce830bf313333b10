/* pca.h: the top two principal components of a set of rows, for the 2D map.
 *
 * The covariance (D, D) is accumulated block by block from centred rows, so
 * a 1,000,000 x 128 bank needs no centred copy; its two leading
 * eigenvectors come from a cyclic Jacobi sweep in double, which converges
 * whatever the eigengap (power iteration slows to a crawl when the first
 * two eigenvalues are close, as they are for a young, near-isotropic bank).
 *
 * Sign: an eigenvector's sign is arbitrary, and a map that flips between
 * two live updates is confusing to watch, so each component is oriented so
 * that its coordinate of largest magnitude is positive.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* data (N, D) -> out (N, 2): each row's coordinates along the top two
 * principal components (centred at the mean). components (2, D), the unit
 * components, and variances (2), the eigenvalues (variance along each),
 * may be NULL. Runs on the calling thread alone: its BLAS calls are
 * single-threaded once engine_set_threads has set OpenBLAS to one thread,
 * as every program does before it computes. N >= 1, D >= 1; with D = 1
 * the second component is zero. */
void pca_project2 (float *out, float *components, float *variances,
                   const float *data, int n, int dim);

/* The symmetric matrix a (D, D), row-major double, is overwritten; on
 * return eigenvalues (D) are sorted descending and row r of vectors (D, D)
 * is the unit eigenvector of eigenvalues[r]. Cyclic Jacobi. Exposed for
 * the tests and for any caller that wants more than two components. */
void pca_symmetric_eigen (double *a, double *eigenvalues, double *vectors,
                          int dim);

G_END_DECLS

/* threads.h: how the engine uses the cores.
 *
 * One scheme: OpenBLAS's own threads run every sgemm across all cores, and
 * the engine's elementwise loops (im2col, batch norm, ReLU) run on the calling
 * thread between them. The elementwise work is memory-bound and small next
 * to the products; keeping a single pool avoids two thread pools spinning
 * against each other on two cores (docs/performance.md has the numbers). */
#pragma once

/* Sets the number of BLAS threads; n <= 0 means one per core. Returns the
 * number in effect. */
int engine_set_threads (int n);
int engine_get_threads (void);

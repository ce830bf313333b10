/* blas-kernels.h: making sure OpenBLAS uses this processor's vector units.
 *
 * OpenBLAS picks its kernels once, when the library loads: from the
 * environment variable OPENBLAS_CORETYPE if it is set, else from the
 * processor's identity in its own table. A processor that table does not
 * know gets the generic SSE3 kernels ("Prescott"), whatever it supports.
 * That happened on the AVX-512 Xeon (a KVM guest) this project was built
 * and measured on in December 2026, which OpenBLAS 0.3.21 does not
 * recognise: there those kernels ran the ResNets at 35-64 % of the speed
 * of OpenBLAS's AVX-512 ones (docs/performance.md, "OpenBLAS's
 * kernels").
 *
 * A program calls blas_kernels_choose (argv) first thing in main: when
 * OpenBLAS chose kernels with narrower vectors than the processor has (no
 * AVX2 where it has AVX2 and FMA, or AVX2 where it has AVX-512, as OpenBLAS
 * 0.3.21 does on AMD's Zen 4), it sets OPENBLAS_CORETYPE to the widest
 * kernels the processor can run and executes itself again (the new process
 * finds the variable set and goes on). A variable the user set is never
 * changed, even when it names narrower kernels than the processor runs;
 * blas_kernels_held_back says so, for the programs to tell the user.
 */
#pragma once

#include <stddef.h>

/* The OpenBLAS core name of the best kernels this processor can run:
 * "SkylakeX" with AVX-512 (F, CD, BW, DQ, VL), "Haswell" with AVX2 and FMA,
 * NULL otherwise. */
const char *blas_kernels_preferred (void);

/* How wide the vectors of an OpenBLAS core's kernels are (core a name as
 * openblas_get_corename () gives it, any case): 2 for AVX-512, 1 for AVX2,
 * 0 for anything older or unknown. */
int blas_kernels_level (const char *core);

/* The same as the vectors' name for a person: "AVX-512", "AVX2", or NULL
 * below AVX2. */
const char *blas_kernels_vectors (const char *core);

/* The core OpenBLAS runs (openblas_get_corename ()). */
const char *blas_kernels_current (void);

/* The most multiply-adds (M x N x K) of a product that OpenBLAS's current
 * core multiplies with its "small matrix" kernels, which read the matrices
 * where they are, where a larger product is first packed into panels and
 * its output cleared: 1,000,000 on the AVX-512 cores of OpenBLAS 0.3.21
 * (SkylakeX, Cooperlake, SapphireRapids; the row-major NN and NT shapes,
 * and TN only for a C of at most 1200 values), 0 where there are none.
 * Read once: the core does not change while a process runs. */
double blas_kernels_unpacked_max_macs (void);

/* For tests: blas_kernels_unpacked_max_macs returns max_macs, whatever the
 * core; 0 (the default) goes back to the core's limit. */
void blas_kernels_set_unpacked_max_macs (double max_macs);

/* How many units (a product's columns or tiles) of macs_per_unit
 * multiply-adds each one product may take and stay unpacked, in whole
 * groups of `group`; 0 when that is fewer than `least`, or there is no
 * unpacked kernel. */
size_t blas_kernels_unpacked_units (double macs_per_unit, size_t group,
                                    size_t least);

/* What blas_kernels_choose would do, without doing it: the core name to
 * run again with, or NULL to go on as is. env_coretype is the value of
 * OPENBLAS_CORETYPE (NULL when unset), current the core OpenBLAS runs,
 * preferred blas_kernels_preferred ()'s answer. */
const char *blas_kernels_replacement (const char *env_coretype,
                                      const char *current,
                                      const char *preferred);

/* The kernels a user's OPENBLAS_CORETYPE keeps OpenBLAS from: preferred
 * (blas_kernels_preferred ()'s answer) when env_coretype names kernels with
 * narrower vectors, NULL when it is unset or names kernels as wide (which
 * includes the value a run again set). */
const char *blas_kernels_held_back (const char *env_coretype,
                                    const char *preferred);

/* Runs the program again (its file, argv main's, NULL-terminated) with
 * OPENBLAS_CORETYPE set to core (NULL: unset, for OpenBLAS's own choice);
 * returns only when it cannot, with the variable changed. */
void blas_kernels_run_again_with (const char *core, char **argv);

/* Runs the program again with OPENBLAS_CORETYPE set when OpenBLAS chose
 * kernels narrower than the processor's (see above); returns only when it
 * does not (nothing to change, or the new run could not start, in which
 * case the program goes on with the kernels it has). argv is main's,
 * NULL-terminated. */
void blas_kernels_choose (char **argv);

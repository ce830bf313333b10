/* bench-util.h: what the benchmarks share: clocks, the median, the peak
 * resident memory, the load average and random unit rows. Header only (static inline), so
 * that each benchmark stays one source file in bench/meson.build. */
#pragma once

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "blas-kernels.h"
#include "rng.h"

/* Wall-clock seconds (CLOCK_MONOTONIC). */
static inline double
bench_now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

/* CPU seconds of the whole process, all threads: on a machine shared with
 * other jobs the wall time includes waiting, this much less so. */
static inline double
bench_cpu_now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

static inline int
bench_compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* The median of x[0..n); sorts x. */
static inline double
bench_median (double *x, int n)
{
  qsort (x, n, sizeof *x, bench_compare_doubles);
  return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

/* Peak resident memory of the process so far, in MiB. */
static inline double
bench_peak_memory_mib (void)
{
  struct rusage usage;
  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;   /* Linux reports KiB */
}

/* Prints "load average WHEN: " and /proc/loadavg's line: a figure is
 * only as quiet as the machine it was measured on. */
static inline void
bench_print_loadavg (const char *when)
{
  char line[128] = "";
  FILE *f = fopen ("/proc/loadavg", "r");
  if (!f)
    return;
  if (fgets (line, sizeof line, f))
    {
      line[strcspn (line, "\n")] = '\0';
      printf ("load average %s: %s\n", when, line);
    }
  fclose (f);
}

/* rows x dim standard normal draws from rng, each row scaled to unit
 * length (row by row, in order). */
static inline void
bench_random_unit_rows (float *x, size_t rows, int dim, Rng *rng)
{
  for (size_t r = 0; r < rows; r++)
    {
      double sum = 0.0;
      for (int d = 0; d < dim; d++)
        {
          x[r * dim + d] = rng_normal (rng);
          sum += (double) x[r * dim + d] * x[r * dim + d];
        }
      for (int d = 0; d < dim; d++)
        x[r * dim + d] = (float) (x[r * dim + d] / sqrt (sum));
    }
}

/* OpenBLAS's kernels for a benchmark, read when the library loads (so a
 * change means running again, once: the new process finds the variable
 * as asked). coretype NULL: the programs' own choice (blas-kernels.h), so
 * the benchmark times what they run, a variable already set included;
 * "auto": OpenBLAS's own choice, the variable unset; any other name:
 * OPENBLAS_CORETYPE=name, whatever the variable was. */
static inline void
bench_choose_kernels (char **argv, const char *coretype)
{
  if (!coretype)
    {
      blas_kernels_choose (argv);
      return;
    }
  const char *set = getenv ("OPENBLAS_CORETYPE");
  bool automatic = strcmp (coretype, "auto") == 0;
  if (automatic ? !set : set && strcmp (set, coretype) == 0)
    return;
  blas_kernels_run_again_with (automatic ? NULL : coretype, argv);
  perror ("re-running with OPENBLAS_CORETYPE");
}

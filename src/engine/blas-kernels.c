/* blas-kernels.c: OPENBLAS_CORETYPE for processors OpenBLAS does not know. */
#include "blas-kernels.h"

#include <cblas.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

const char *
blas_kernels_preferred (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init ();
  /* libgcc's answers include the operating system's consent (XCR0), so a
   * kernel that saves no AVX-512 state reports no AVX-512 */
  if (__builtin_cpu_supports ("avx512f") && __builtin_cpu_supports ("avx512cd")
      && __builtin_cpu_supports ("avx512bw")
      && __builtin_cpu_supports ("avx512dq")
      && __builtin_cpu_supports ("avx512vl"))
    return "SkylakeX";
  if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma"))
    return "Haswell";
#endif
  return NULL;
}

int
blas_kernels_level (const char *core)
{
  /* OpenBLAS's x86-64 cores by the widest vectors their single-precision
   * kernels use (Zen's are Haswell's) */
  static const struct { const char *name; int level; } cores[] = {
    { "Haswell", 1 }, { "Zen", 1 },
    { "SkylakeX", 2 }, { "Cooperlake", 2 }, { "SapphireRapids", 2 },
  };
  if (!core)
    return 0;
  for (size_t i = 0; i < sizeof cores / sizeof cores[0]; i++)
    if (strcasecmp (core, cores[i].name) == 0)
      return cores[i].level;
  return 0;
}

const char *
blas_kernels_vectors (const char *core)
{
  static const char *const names[] = { NULL, "AVX2", "AVX-512" };
  return names[blas_kernels_level (core)];
}

const char *
blas_kernels_current (void)
{
  return openblas_get_corename ();
}

static double unpacked_max_macs;
static pthread_once_t unpacked_once = PTHREAD_ONCE_INIT;
static double forced_unpacked_max_macs;   /* for tests, when above 0 */

static void
read_unpacked_max_macs (void)
{
  unpacked_max_macs = blas_kernels_level (blas_kernels_current ()) == 2 ? 1e6
                                                                        : 0.0;
}

double
blas_kernels_unpacked_max_macs (void)
{
  if (forced_unpacked_max_macs > 0)
    return forced_unpacked_max_macs;
  pthread_once (&unpacked_once, read_unpacked_max_macs);
  return unpacked_max_macs;
}

void
blas_kernels_set_unpacked_max_macs (double max_macs)
{
  forced_unpacked_max_macs = max_macs;
}

size_t
blas_kernels_unpacked_units (double macs_per_unit, size_t group,
                             size_t least)
{
  const size_t fit = (size_t) (blas_kernels_unpacked_max_macs ()
                               / macs_per_unit)
                     / group * group;
  return fit >= least ? fit : 0;
}

const char *
blas_kernels_replacement (const char *env_coretype, const char *current,
                          const char *preferred)
{
  if (env_coretype)             /* the user's choice, or our own re-run */
    return NULL;
  if (!preferred
      || blas_kernels_level (current) >= blas_kernels_level (preferred))
    return NULL;
  return preferred;
}

const char *
blas_kernels_held_back (const char *env_coretype, const char *preferred)
{
  if (!env_coretype || !preferred
      || blas_kernels_level (env_coretype) >= blas_kernels_level (preferred))
    return NULL;
  return preferred;
}

void
blas_kernels_run_again_with (const char *core, char **argv)
{
  if (core ? setenv ("OPENBLAS_CORETYPE", core, 1) != 0
           : unsetenv ("OPENBLAS_CORETYPE") != 0)
    return;
  /* the program's file by its own name, not /proc/self/exe's, which would
   * name the new process "exe" in ps and top */
  char path[PATH_MAX];
  ssize_t len = readlink ("/proc/self/exe", path, sizeof path - 1);
  if (len <= 0)
    return;
  path[len] = '\0';
  execv (path, argv);
  /* no new run: go on with the kernels loaded; the variable stays set, so
   * the programs this one starts get the better kernels */
}

void
blas_kernels_choose (char **argv)
{
  const char *core = blas_kernels_replacement (getenv ("OPENBLAS_CORETYPE"),
                                               blas_kernels_current (),
                                               blas_kernels_preferred ());
  if (core)
    blas_kernels_run_again_with (core, argv);
}

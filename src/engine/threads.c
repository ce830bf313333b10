/* threads.c: the engine's thread count, handed to OpenBLAS. */
#include "threads.h"

#include <cblas.h>
#include <unistd.h>

int
engine_set_threads (int n)
{
  if (n <= 0)
    {
      long cores = sysconf (_SC_NPROCESSORS_ONLN);
      n = cores > 0 ? (int) cores : 1;
    }
  openblas_set_num_threads (n);
  return openblas_get_num_threads ();
}

int
engine_get_threads (void)
{
  return openblas_get_num_threads ();
}

/* threads.c: the engine's thread count, handed to OpenBLAS, and the
 * profiling timers. */
#include "threads.h"

#include <cblas.h>
#include <time.h>
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

/* ---- profiling ---- */

bool engine_profiling = false;
static double timer_seconds[ENGINE_N_TIMERS];

void
engine_profile_enable (bool on)
{
  engine_profiling = on;
}

void
engine_profile_reset (void)
{
  for (int i = 0; i < ENGINE_N_TIMERS; i++)
    timer_seconds[i] = 0.0;
}

void
engine_profile_read (double seconds[ENGINE_N_TIMERS])
{
  for (int i = 0; i < ENGINE_N_TIMERS; i++)
    seconds[i] = timer_seconds[i];
}

const char *
engine_timer_name (EngineTimer timer)
{
  static const char *const names[ENGINE_N_TIMERS] = {
    [ENGINE_TIMER_IM2COL] = "im2col/col2im",
    [ENGINE_TIMER_SGEMM] = "sgemm",
    [ENGINE_TIMER_BATCHNORM] = "batchnorm",
    [ENGINE_TIMER_ELEMENTWISE] = "relu/add/copy",
  };
  return names[timer];
}

double
engine_now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

void
engine_timer_add (EngineTimer timer, double seconds)
{
  timer_seconds[timer] += seconds;
}

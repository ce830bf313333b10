/* threads.h: how the engine uses the cores, and where its time goes.
 *
 * One scheme: OpenBLAS's own threads run every sgemm across all cores, and
 * the engine's elementwise loops (im2col, batch norm, ReLU) run on the calling
 * thread between them. The elementwise work is memory-bound and small next
 * to the products; keeping a single pool avoids two thread pools spinning
 * against each other on two cores (docs/performance.md has the numbers). */
#pragma once

#include <stdbool.h>

/* Sets the number of BLAS threads; n <= 0 means one per core. Returns the
 * number in effect. */
int engine_set_threads (int n);
int engine_get_threads (void);

/* ---- optional profiling ----
 *
 * The engine's kernels add their wall time to a few named timers, so that a
 * benchmark can show what limits a training step. Off by default; when off a
 * timer costs one predictable branch, when on two clock reads per kernel call
 * (a few hundred calls per step, far below the noise). Single-threaded
 * callers only: the timers are plain globals. */
typedef enum
{
  ENGINE_TIMER_IM2COL,      /* im2col and col2im */
  ENGINE_TIMER_SGEMM,       /* every cblas_sgemm of the convolutions */
  ENGINE_TIMER_BATCHNORM,   /* batch norm forward and backward */
  ENGINE_TIMER_ELEMENTWISE, /* ReLU, residual add, layout copies */
  ENGINE_N_TIMERS,
} EngineTimer;

extern bool engine_profiling;

void engine_profile_enable (bool on);
void engine_profile_reset (void);
/* seconds accumulated per timer since the last reset */
void engine_profile_read (double seconds[ENGINE_N_TIMERS]);
const char *engine_timer_name (EngineTimer timer);

double engine_now (void);   /* monotonic seconds */
void engine_timer_add (EngineTimer timer, double seconds);

/* Brackets for a timed region: the clock is read only when profiling. */
static inline double
engine_timer_start (void)
{
  return engine_profiling ? engine_now () : 0.0;
}

static inline void
engine_timer_stop (EngineTimer timer, double start)
{
  if (engine_profiling)
    engine_timer_add (timer, engine_now () - start);
}

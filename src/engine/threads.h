/* threads.h: how the engine uses the cores, and where its time goes.
 *
 * One scheme: the engine's own small pool of threads (the caller plus
 * nth - 1 workers) splits every heavy kernel by (ith, nth), as ggml does,
 * and OpenBLAS runs single-threaded inside each of them. A convolution gives
 * each thread its own images: it builds their im2col columns and multiplies
 * them with a one-thread sgemm, with no barrier in between (Winograd's path,
 * winograd.h, likewise gives each thread its own tiles); batch norm splits
 * by channel and ReLU by range. Where the items are independent, a thread
 * that finishes its share helps with the others' (EngineShares below).
 * This parallelises the memory-bound loops too, which with OpenBLAS's own
 * threads ran on one core between sgemms, and it avoids two thread pools
 * spinning against each other on two cores (docs/performance.md has the
 * numbers for both schemes).
 */
#pragma once

#include <cblas.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* The most engine threads there can be. */
#define ENGINE_MAX_THREADS 64

/* Sets the number of engine threads; n <= 0 means one per core, more than
 * ENGINE_MAX_THREADS means that many. OpenBLAS is set to one thread, since
 * the engine calls it from each of its threads. Returns the number in
 * effect. */
int engine_set_threads (int n);
int engine_get_threads (void);

/* A kernel split across threads: thread ith of nth does its share. */
typedef void (*EngineTask) (void *arg, int ith, int nth);

/* Runs task (arg, ith, nth) on every engine thread, the caller being thread
 * 0, and returns when all are done. Must not be nested. Safe to call from
 * several threads: while one caller has the pool, another runs all nth
 * shares of its task itself, in turn. */
void engine_parallel (EngineTask task, void *arg);

/* The share [*lo, *hi) of n items that thread ith of nth takes. */
static inline void
engine_split (size_t n, int ith, int nth, size_t *lo, size_t *hi)
{
  *lo = n * ith / nth;
  *hi = n * (ith + 1) / nth;
}

/* Items [0, n) shared out as the threads come free, for a task whose
 * items cost the same wherever they run. The two cores of the machine the
 * engine is measured on do not keep one speed: for minutes at a time one
 * ran the small ResNet's inference a quarter slower than the other, and
 * with fixed halves the faster one waited for it at the end of every
 * kernel. Thread ith takes runs of items from the front of its own share
 * first (engine_split's, so that it mostly reads what it wrote in the
 * kernel before), then from the others' shares, which their owners are
 * still taking from the front too. Set up by the caller before
 * engine_parallel; every item is taken once, whatever the order in which
 * the threads run (the pool's fallback runs the shares one after another:
 * the first then takes them all). */
typedef struct
{
  struct
  {
    atomic_size_t next;         /* the share's first item not yet taken */
    size_t end;
    char pad[64 - sizeof (atomic_size_t) - sizeof (size_t)];
  } share[ENGINE_MAX_THREADS];
  int nth;
} EngineShares;

void engine_shares_init (EngineShares *shares, size_t n, int nth);

/* The next run of at most `run` items for thread ith: [*lo, *hi), of one
 * share. False when every item has been taken. */
bool engine_shares_take (EngineShares *shares, int ith, size_t run,
                         size_t *lo, size_t *hi);

/* A run for engine_shares_take over n items on nth threads: with one
 * thread its whole share; with more, a parts-th of a share but at least
 * `least` items (and at most the share), so that a thread done first can
 * take over part of another's share: a share taken as one run leaves the
 * faster core waiting at the end of the kernel. */
static inline size_t
engine_shares_run (size_t n, int nth, size_t parts, size_t least)
{
  const size_t share = (n + nth - 1) / nth;
  if (nth == 1)
    return share;
  size_t run = (share + parts - 1) / parts;
  if (run < least)
    run = least;
  return run < share ? run : share;
}

/* engine_parallel (task, arg) where the work is worth a dispatch, else
 * task (arg, 0, 1) on the calling thread alone */
static inline void
engine_parallel_if (bool worth, EngineTask task, void *arg)
{
  if (worth)
    engine_parallel (task, arg);
  else
    task (arg, 0, 1);
}

/* cblas_sgemm (CblasRowMajor, ...) on the engine's threads: C is cut into
 * blocks of columns (or of rows, when it has more rows than columns), one
 * per thread. Code outside the engine that multiplies large matrices (the
 * memory bank of the loss) calls this instead of cblas_sgemm, which after
 * engine_set_threads runs on one core. Small products stay on the caller. */
void engine_sgemm (CBLAS_TRANSPOSE trans_a, CBLAS_TRANSPOSE trans_b, int m,
                   int n, int k, float alpha, const float *a, int lda,
                   const float *b, int ldb, float beta, float *c, int ldc);

/* ---- optional profiling ----
 *
 * The engine's kernels add their wall time to a few named timers, so that a
 * benchmark can show what limits a training step. Off by default; when off a
 * timer costs one predictable branch, when on two clock reads per kernel call
 * (a few hundred calls per step, far below the noise). Timers are read and
 * added on the calling thread only (around whole parallel kernels). */
typedef enum
{
  ENGINE_TIMER_IM2COL,      /* im2col and col2im */
  ENGINE_TIMER_SGEMM,       /* every cblas_sgemm of the convolutions */
  ENGINE_TIMER_WINOGRAD,    /* Winograd's tile and filter transforms */
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

/* threads.c: the engine's thread pool and profiling timers.
 *
 * The pool is nth - 1 worker threads plus the caller. A dispatch bumps a
 * generation counter; workers spin on it for a short while (kernels follow
 * each other within microseconds during a training step, and a futex wake-up
 * costs more than many small kernels) and then sleep on a condition variable
 * so that an idle engine burns no CPU. The caller runs share 0 itself and
 * spins until the workers report done.
 */
#include "threads.h"

#include <cblas.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS ENGINE_MAX_THREADS
/* about 50-100 microseconds of spinning before a worker sleeps */
#define SPIN_LIMIT 20000

typedef struct
{
  int nth;                       /* threads including the caller */
  pthread_t workers[MAX_THREADS];
  pthread_mutex_t mutex;
  pthread_cond_t wake;
  atomic_uint generation;        /* bumped once per dispatch (and to quit) */
  atomic_int done;               /* workers finished with this dispatch */
  unsigned start_generation;     /* set before creating workers */
  EngineTask task;
  void *arg;
  bool quit;
  pthread_mutex_t in_use;        /* held by the one caller using the pool */
} Pool;

static Pool pool = {
  .nth = 1,
  .mutex = PTHREAD_MUTEX_INITIALIZER,
  .wake = PTHREAD_COND_INITIALIZER,
  .in_use = PTHREAD_MUTEX_INITIALIZER,
};

static inline void
cpu_relax (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause ();
#endif
}

static void *
worker_main (void *data)
{
  const int ith = (int) (size_t) data;
  /* the generation when this worker was created: earlier dispatches (such
   * as a previous pool's quit) are not for it */
  unsigned seen = pool.start_generation;
  for (;;)
    {
      unsigned gen;
      int spins = 0;
      while ((gen = atomic_load_explicit (&pool.generation,
                                          memory_order_acquire)) == seen)
        {
          if (++spins < SPIN_LIMIT)
            {
              cpu_relax ();
              continue;
            }
          pthread_mutex_lock (&pool.mutex);
          while ((gen = atomic_load (&pool.generation)) == seen)
            pthread_cond_wait (&pool.wake, &pool.mutex);
          pthread_mutex_unlock (&pool.mutex);
          break;
        }
      seen = gen;
      if (pool.quit)
        return NULL;
      pool.task (pool.arg, ith, pool.nth);
      atomic_fetch_add_explicit (&pool.done, 1, memory_order_release);
    }
}

static void
dispatch (EngineTask task, void *arg)
{
  pool.task = task;
  pool.arg = arg;
  atomic_store_explicit (&pool.done, 0, memory_order_relaxed);
  /* under the mutex, so a worker between its check and its wait cannot miss
   * the bump */
  pthread_mutex_lock (&pool.mutex);
  atomic_fetch_add_explicit (&pool.generation, 1, memory_order_release);
  pthread_cond_broadcast (&pool.wake);
  pthread_mutex_unlock (&pool.mutex);
}

static void
pool_stop (void)
{
  if (pool.nth <= 1)
    return;
  pool.quit = true;
  dispatch (NULL, NULL);
  for (int i = 1; i < pool.nth; i++)
    pthread_join (pool.workers[i], NULL);
  pool.quit = false;
  pool.nth = 1;
}

void
engine_parallel (EngineTask task, void *arg)
{
  if (pool.nth == 1)
    {
      task (arg, 0, 1);
      return;
    }
  /* A second thread using the engine at the same time (the explorer embeds
   * a query while its trainer thread trains) runs every thread's share
   * itself, one after another, rather than wait for the pool or corrupt
   * the dispatch in progress. Shares never wait on each other, and tasks
   * split their work by the pool's size, so the result is the same. */
  if (pthread_mutex_trylock (&pool.in_use) != 0)
    {
      for (int ith = 0; ith < pool.nth; ith++)
        task (arg, ith, pool.nth);
      return;
    }
  dispatch (task, arg);
  task (arg, 0, pool.nth);
  /* spin, then yield: on a machine shared with other work a worker may be
   * waiting for a core, and spinning would only delay it */
  int spins = 0;
  while (atomic_load_explicit (&pool.done, memory_order_acquire)
         < pool.nth - 1)
    if (++spins < SPIN_LIMIT)
      cpu_relax ();
    else
      sched_yield ();
  pthread_mutex_unlock (&pool.in_use);
}

int
engine_set_threads (int n)
{
  if (n <= 0)
    {
      long cores = sysconf (_SC_NPROCESSORS_ONLN);
      n = cores > 0 ? (int) cores : 1;
    }
  if (n > MAX_THREADS)
    n = MAX_THREADS;
  /* every sgemm runs inside one engine thread */
  openblas_set_num_threads (1);
  if (n == pool.nth)
    return n;
  pool_stop ();
  pool.start_generation = atomic_load (&pool.generation);
  int started = 1;
  for (int i = 1; i < n; i++, started++)
    if (pthread_create (&pool.workers[i], NULL, worker_main,
                        (void *) (size_t) i) != 0)
      break;
  /* the workers read nth only inside a dispatch, after this store */
  pool.nth = started;
  return pool.nth;
}

int
engine_get_threads (void)
{
  return pool.nth;
}

/* ---- items shared out as the threads come free ---- */

void
engine_shares_init (EngineShares *shares, size_t n, int nth)
{
  shares->nth = nth;
  for (int i = 0; i < nth; i++)
    {
      size_t lo, hi;
      engine_split (n, i, nth, &lo, &hi);
      atomic_init (&shares->share[i].next, lo);
      shares->share[i].end = hi;
    }
}

bool
engine_shares_take (EngineShares *shares, int ith, size_t run, size_t *lo,
                    size_t *hi)
{
  for (int k = 0; k < shares->nth; k++)
    {
      const int i = (ith + k) % shares->nth;
      const size_t end = shares->share[i].end;
      /* a share once exhausted is not added to again */
      if (atomic_load_explicit (&shares->share[i].next, memory_order_relaxed)
          >= end)
        continue;
      size_t first = atomic_fetch_add_explicit (&shares->share[i].next, run,
                                                memory_order_relaxed);
      if (first < end)
        {
          *lo = first;
          *hi = end - first < run ? end : first + run;
          return true;
        }
    }
  return false;
}

/* ---- sgemm across the pool ---- */

typedef struct
{
  CBLAS_TRANSPOSE trans_a, trans_b;
  int m, n, k;
  float alpha, beta;
  const float *a, *b;
  float *c;
  int lda, ldb, ldc;
} SgemmTask;

static void
sgemm_task (void *arg, int ith, int nth)
{
  const SgemmTask *t = arg;
  size_t lo, hi;
  if (t->n >= t->m)
    {
      /* columns [lo, hi) of C need columns [lo, hi) of op(B) */
      engine_split (t->n, ith, nth, &lo, &hi);
      const float *b = t->trans_b == CblasNoTrans ? t->b + lo
                                                  : t->b + lo * t->ldb;
      cblas_sgemm (CblasRowMajor, t->trans_a, t->trans_b, t->m,
                   (int) (hi - lo), t->k, t->alpha, t->a, t->lda, b, t->ldb,
                   t->beta, t->c + lo, t->ldc);
    }
  else
    {
      /* rows [lo, hi) of C need rows [lo, hi) of op(A) */
      engine_split (t->m, ith, nth, &lo, &hi);
      const float *a = t->trans_a == CblasNoTrans ? t->a + lo * t->lda
                                                  : t->a + lo;
      cblas_sgemm (CblasRowMajor, t->trans_a, t->trans_b, (int) (hi - lo),
                   t->n, t->k, t->alpha, a, t->lda, t->b, t->ldb, t->beta,
                   t->c + lo * t->ldc, t->ldc);
    }
}

void
engine_sgemm (CBLAS_TRANSPOSE trans_a, CBLAS_TRANSPOSE trans_b, int m, int n,
              int k, float alpha, const float *a, int lda, const float *b,
              int ldb, float beta, float *c, int ldc)
{
  SgemmTask task = { trans_a, trans_b, m, n, k, alpha, beta, a, b, c,
                     lda, ldb, ldc };
  /* below about a million multiply-adds a dispatch is not worth it */
  engine_parallel_if ((double) m * n * k >= 1e6, sgemm_task, &task);
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
    [ENGINE_TIMER_WINOGRAD] = "winograd",
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

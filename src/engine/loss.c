/* loss.c: numerically stable softmax cross-entropy (max subtracted), its
 * rows split across the engine's threads. */
#include "loss.h"

#include <math.h>
#include <stddef.h>

#include "check.h"
#include "threads.h"
#include "vexp.h"

typedef struct
{
  float *probs;
  const float *logits;
  const int *targets;
  int batch, n;
  double loss[ENGINE_MAX_THREADS];  /* each thread's rows' sum */
} LossTask;

/* rows [lo, hi): each row's exp and sum in one pass while it is in cache
 * (vexp_softmax_row), then its probabilities */
static void
forward_task (void *arg, int ith, int nth)
{
  LossTask *task = arg;
  const size_t n = (size_t) task->n;
  size_t lo, hi;
  engine_split ((size_t) task->batch, ith, nth, &lo, &hi);
  double total = 0.0;
  for (size_t b = lo; b < hi; b++)
    {
      const float *z = task->logits + b * n;
      float *p = task->probs + b * n;
      const int target = task->targets[b];
      const float z_target = z[target];  /* read before p overwrites z */
      float max;
      const double sum = vexp_softmax_row (p, z, n, &max);
      const float inv = (float) (1.0 / sum);
      for (size_t j = 0; j < n; j++)
        p[j] *= inv;
      total += log (sum) - (z_target - max);
    }
  task->loss[ith] = total;
}

/* Rows below this many logits in all go on one thread: a dispatch costs
 * more than it saves. */
#define LOSS_PARALLEL_MIN 65536

float
softmax_cross_entropy_forward (float *probs, const float *logits,
                               const int *targets, int batch, int n)
{
  for (int b = 0; b < batch; b++)
    ENGINE_CHECK (targets[b] >= 0 && targets[b] < n);
  LossTask task = { probs, logits, targets, batch, n, { 0 } };
  engine_parallel_if ((size_t) batch * n >= LOSS_PARALLEL_MIN, forward_task,
                      &task);
  /* the threads' sums in thread order (the slots of threads that did not
   * run hold 0): the same total on every run */
  double total = 0.0;
  for (int t = 0; t < ENGINE_MAX_THREADS; t++)
    total += task.loss[t];
  return (float) (total / batch);
}

void
softmax_cross_entropy_backward (float *dlogits, const float *probs,
                                const int *targets, int batch, int n)
{
  const float inv_batch = 1.0f / (float) batch;
  for (int b = 0; b < batch; b++)
    {
      const float *p = probs + (size_t) b * n;
      float *d = dlogits + (size_t) b * n;
      for (int j = 0; j < n; j++)
        d[j] = p[j] * inv_batch;
      d[targets[b]] -= inv_batch;
    }
}

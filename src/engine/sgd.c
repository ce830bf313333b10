/* sgd.c: torch.optim.SGD's update on one flat parameter array. */
#include "sgd.h"

#include "check.h"
#include "threads.h"

bool
sgd_init (Sgd *self, size_t n, float lr, float momentum, float weight_decay)
{
  self->lr = lr;
  self->momentum = momentum;
  self->weight_decay = weight_decay;
  self->n = n;
  self->has_buffer = false;
  self->momentum_buffer = engine_alloc (sizeof (float) * n);
  return self->momentum_buffer != NULL;
}

void
sgd_clear (Sgd *self)
{
  engine_free (self->momentum_buffer);
  self->momentum_buffer = NULL;
}

/* [lo, hi) of the update; each case its own loop, so that each
 * vectorises */
typedef struct
{
  const Sgd *sgd;
  float *params;
  const float *grads;
} SgdTask;

static void
sgd_task (void *arg, int ith, int nth)
{
  const SgdTask *task = arg;
  const Sgd *self = task->sgd;
  const float lr = self->lr, mu = self->momentum, wd = self->weight_decay;
  float *restrict p = task->params, *restrict buf = self->momentum_buffer;
  const float *restrict g = task->grads;
  size_t lo, hi;
  engine_split (self->n, ith, nth, &lo, &hi);
  if (mu == 0.0f)
    for (size_t i = lo; i < hi; i++)
      p[i] -= lr * (g[i] + wd * p[i]);
  else if (self->has_buffer)
    for (size_t i = lo; i < hi; i++)
      {
        buf[i] = mu * buf[i] + (g[i] + wd * p[i]);
        p[i] -= lr * buf[i];
      }
  else
    for (size_t i = lo; i < hi; i++)
      {
        buf[i] = g[i] + wd * p[i];
        p[i] -= lr * buf[i];
      }
}

/* Below this many parameters one thread does it all: a dispatch costs
 * more than it saves. */
#define SGD_PARALLEL_MIN 65536

void
sgd_step (Sgd *self, float *params, const float *grads)
{
  SgdTask task = { self, params, grads };
  engine_parallel_if (self->n >= SGD_PARALLEL_MIN, sgd_task, &task);
  self->has_buffer = true;
}

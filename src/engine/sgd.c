/* sgd.c: torch.optim.SGD's update on one flat parameter array. */
#include "sgd.h"

#include "check.h"

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

void
sgd_step (Sgd *self, float *params, const float *grads)
{
  const float lr = self->lr, mu = self->momentum, wd = self->weight_decay;
  float *buf = self->momentum_buffer;
  for (size_t i = 0; i < self->n; i++)
    {
      float d = grads[i] + wd * params[i];
      if (mu != 0.0f)
        {
          buf[i] = self->has_buffer ? mu * buf[i] + d : d;
          d = buf[i];
        }
      params[i] -= lr * d;
    }
  self->has_buffer = true;
}

/* sgd.h: SGD with momentum and weight decay, as torch.optim.SGD
 * (dampening 0, not Nesterov):
 *   d = grad + weight_decay * p
 *   buf = momentum * buf + d        (buf = d on the first step)
 *   p = p - lr * buf
 * Works on flat arrays, so one call updates a whole network. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct
{
  float lr, momentum, weight_decay;
  size_t n;
  float *momentum_buffer;   /* (n) */
  bool has_buffer;          /* false until the first step, as PyTorch */
} Sgd;

/* false on out-of-memory */
bool sgd_init (Sgd *self, size_t n, float lr, float momentum,
               float weight_decay);
void sgd_clear (Sgd *self);
void sgd_step (Sgd *self, float *params, const float *grads);

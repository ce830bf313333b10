/* loss.c: numerically stable softmax cross-entropy (max subtracted). */
#include "loss.h"

#include <math.h>
#include <stddef.h>

#include "check.h"

float
softmax_cross_entropy_forward (float *probs, const float *logits,
                               const int *targets, int batch, int n)
{
  double total = 0.0;
  for (int b = 0; b < batch; b++)
    {
      const float *z = logits + (size_t) b * n;
      float *p = probs + (size_t) b * n;
      ENGINE_CHECK (targets[b] >= 0 && targets[b] < n);
      const float z_target = z[targets[b]];  /* read before p overwrites z */
      float max = z[0];
      for (int j = 1; j < n; j++)
        if (z[j] > max)
          max = z[j];
      double sum = 0.0;
      for (int j = 0; j < n; j++)
        {
          p[j] = expf (z[j] - max);
          sum += p[j];
        }
      float inv = (float) (1.0 / sum);
      for (int j = 0; j < n; j++)
        p[j] *= inv;
      total += log (sum) - (z_target - max);
    }
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

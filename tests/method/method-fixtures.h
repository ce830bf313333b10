/* method-fixtures.h: what the method tests share. */
#pragma once

#include <math.h>

#include "rng.h"

/* rows x dim standard normal draws from rng, each row scaled to unit
 * length (row by row, in order). */
static inline void
random_unit_rows (float *x, int rows, int dim, Rng *rng)
{
  for (int r = 0; r < rows; r++)
    {
      double sum = 0.0;
      for (int d = 0; d < dim; d++)
        {
          x[r * dim + d] = rng_normal (rng);
          sum += (double) x[r * dim + d] * x[r * dim + d];
        }
      for (int d = 0; d < dim; d++)
        x[r * dim + d] = (float) (x[r * dim + d] / sqrt (sum));
    }
}

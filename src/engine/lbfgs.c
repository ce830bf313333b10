/* lbfgs.c: limited-memory BFGS with a backtracking line search. */
#include "lbfgs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

void
lbfgs_options_init_default (LbfgsOptions *options)
{
  *options = (LbfgsOptions) {
    .memory = 10,
    .max_iterations = 500,
    .gradient_tolerance = 1e-5,
    .f_tolerance = 1e-10,
  };
}

static double
dot (const double *a, const double *b, int n)
{
  double sum = 0.0;
  for (int i = 0; i < n; i++)
    sum += a[i] * b[i];
  return sum;
}

static double
max_abs (const double *a, int n)
{
  double m = 0.0;
  for (int i = 0; i < n; i++)
    m = fmax (m, fabs (a[i]));
  return m;
}

bool
lbfgs_minimize (double *x, int n, LbfgsObjective f, void *user,
                const LbfgsOptions *o, LbfgsResult *result)
{
  ENGINE_CHECK (n > 0 && o->memory > 0);
  const int m = o->memory;
  /* s (m, n), y (m, n): the last m steps and gradient changes, a ring */
  double *block = malloc (sizeof (double) * ((size_t) (2 * m + 4) * n + 2 * m));
  if (!block)
    return false;
  double *s = block, *y = s + (size_t) m * n;
  double *grad = y + (size_t) m * n, *direction = grad + n;
  double *x_new = direction + n, *grad_new = x_new + n;
  double *rho = grad_new + n, *alpha = rho + m;

  *result = (LbfgsResult) { .stop = LBFGS_ITERATION_LIMIT };
  double fx = f (user, x, grad);
  result->evaluations = 1;
  int stored = 0, newest = -1;
  while (result->iterations < o->max_iterations)
    {
      if (max_abs (grad, n) < o->gradient_tolerance)
        {
          result->stop = LBFGS_GRADIENT_SMALL;
          break;
        }
      /* two-loop recursion: direction = -H grad */
      for (int i = 0; i < n; i++)
        direction[i] = -grad[i];
      for (int k = 0; k < stored; k++)
        {
          int j = (newest - k + m) % m;
          alpha[j] = rho[j] * dot (s + (size_t) j * n, direction, n);
          for (int i = 0; i < n; i++)
            direction[i] -= alpha[j] * y[(size_t) j * n + i];
        }
      double gamma;   /* the initial Hessian's scale, s.y / y.y */
      if (stored > 0)
        gamma = dot (s + (size_t) newest * n, y + (size_t) newest * n, n)
                / dot (y + (size_t) newest * n, y + (size_t) newest * n, n);
      else
        gamma = 1.0 / fmax (sqrt (dot (grad, grad, n)), 1e-300);
      for (int i = 0; i < n; i++)
        direction[i] *= gamma;
      for (int k = stored - 1; k >= 0; k--)
        {
          int j = (newest - k + m) % m;
          double beta = rho[j] * dot (y + (size_t) j * n, direction, n);
          for (int i = 0; i < n; i++)
            direction[i] += (alpha[j] - beta) * s[(size_t) j * n + i];
        }
      double slope = dot (grad, direction, n);
      if (!(slope < 0.0))
        {
          /* not a descent direction (rounding): restart from -grad */
          stored = 0;
          for (int i = 0; i < n; i++)
            direction[i] = -grad[i] / fmax (sqrt (dot (grad, grad, n)), 1e-300);
          slope = dot (grad, direction, n);
        }

      /* backtracking: the first step that lowers f by 1e-4 of the slope */
      double step = 1.0, f_new = 0.0;
      bool found = false;
      for (int tries = 0; tries < 40; tries++, step *= 0.5)
        {
          for (int i = 0; i < n; i++)
            x_new[i] = x[i] + step * direction[i];
          f_new = f (user, x_new, grad_new);
          result->evaluations++;
          if (isfinite (f_new) && f_new <= fx + 1e-4 * step * slope)
            {
              found = true;
              break;
            }
        }
      if (!found)
        {
          result->stop = LBFGS_STALLED;
          break;
        }
      result->iterations++;

      /* the new pair, kept when the curvature is positive */
      int next = (newest + 1) % m;
      double *s_next = s + (size_t) next * n, *y_next = y + (size_t) next * n;
      for (int i = 0; i < n; i++)
        {
          s_next[i] = x_new[i] - x[i];
          y_next[i] = grad_new[i] - grad[i];
        }
      double sy = dot (s_next, y_next, n);
      if (sy > 1e-12 * sqrt (dot (s_next, s_next, n) * dot (y_next, y_next, n)))
        {
          rho[next] = 1.0 / sy;
          newest = next;
          if (stored < m)
            stored++;
        }
      double decrease = fx - f_new;
      memcpy (x, x_new, sizeof (double) * n);
      memcpy (grad, grad_new, sizeof (double) * n);
      fx = f_new;
      if (decrease <= o->f_tolerance * fmax (fabs (fx), 1.0))
        {
          result->stop = LBFGS_F_FLAT;
          break;
        }
    }
  result->f = fx;
  result->gradient_max = max_abs (grad, n);
  free (block);
  return true;
}

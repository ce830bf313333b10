/* lbfgs.h: limited-memory BFGS for smooth objectives of a few thousand
 * parameters (Nocedal and Wright, "Numerical Optimization", algorithm 7.4:
 * the two-loop recursion over the last m (s, y) pairs, with a backtracking
 * line search under the Armijo condition). It trains the linear classifier
 * of the linear evaluation, a convex problem where this is all it takes.
 *
 * Deterministic: the same objective and start give the same iterates. */
#pragma once

#include <stdbool.h>

/* Returns f(x) and writes its gradient (n) to grad. */
typedef double (*LbfgsObjective) (void *user, const double *x, double *grad);

typedef struct
{
  int memory;               /* m, the (s, y) pairs kept: 10 */
  int max_iterations;       /* 500 */
  double gradient_tolerance;  /* stop when max |grad| falls below: 1e-5 */
  double f_tolerance;       /* or when an iteration lowers f by less than
                             * this times max (|f|, 1): 1e-10 */
} LbfgsOptions;

typedef enum
{
  LBFGS_GRADIENT_SMALL,     /* max |grad| fell below gradient_tolerance */
  LBFGS_F_FLAT,             /* an iteration lowered f by less than
                             * f_tolerance */
  LBFGS_STALLED,            /* no step along the direction lowers f: the
                             * precision of f or of its gradient is reached */
  LBFGS_ITERATION_LIMIT,    /* max_iterations done */
} LbfgsStop;

typedef struct
{
  int iterations, evaluations;
  double f, gradient_max;   /* at the returned x */
  LbfgsStop stop;
} LbfgsResult;

void lbfgs_options_init_default (LbfgsOptions *options);

/* Minimises f from x (n), leaving the minimiser in x. False when memory
 * runs out (x unchanged). */
bool lbfgs_minimize (double *x, int n, LbfgsObjective f, void *user,
                     const LbfgsOptions *options, LbfgsResult *result);

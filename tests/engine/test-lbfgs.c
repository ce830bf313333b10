/* test-lbfgs.c: L-BFGS finds the minimum of functions whose minimum is
 * known. */
#include <glib.h>
#include <math.h>

#include "lbfgs.h"

/* sum over pairs 100 (x_{2i+1} - x_{2i}^2)^2 + (1 - x_{2i})^2, minimum 0 at
 * all ones: the curved valley that defeats plain gradient descent */
static double
rosenbrock (void *user, const double *x, double *grad)
{
  const int n = *(const int *) user;
  double f = 0.0;
  for (int i = 0; i < n; i += 2)
    {
      double a = x[i + 1] - x[i] * x[i], b = 1.0 - x[i];
      f += 100.0 * a * a + b * b;
      grad[i] = -400.0 * a * x[i] - 2.0 * b;
      grad[i + 1] = 200.0 * a;
    }
  return f;
}

static void
test_rosenbrock (void)
{
  for (int n = 2; n <= 20; n += 18)
    {
      double x[20];
      for (int i = 0; i < n; i++)
        x[i] = i % 2 ? 1.0 : -1.2;   /* the classic start */
      LbfgsOptions options;
      lbfgs_options_init_default (&options);
      options.f_tolerance = 0.0;
      options.gradient_tolerance = 1e-9;
      LbfgsResult result;
      g_assert_true (lbfgs_minimize (x, n, rosenbrock, &n, &options, &result));
      g_test_message ("n %d: %d iterations, %d evaluations, f %.3g, "
                      "max |grad| %.3g", n, result.iterations,
                      result.evaluations, result.f, result.gradient_max);
      g_assert_cmpint (result.stop, ==, LBFGS_GRADIENT_SMALL);
      for (int i = 0; i < n; i++)
        g_assert_cmpfloat_with_epsilon (x[i], 1.0, 1e-6);
    }
}

/* 1/2 x^T A x - c^T x with A diagonal and badly scaled: minimum A^-1 c */
static double
quadratic (void *user, const double *x, double *grad)
{
  const double *a = user;
  double f = 0.0;
  for (int i = 0; i < 50; i++)
    {
      double c = i - 20.0;
      f += 0.5 * a[i] * x[i] * x[i] - c * x[i];
      grad[i] = a[i] * x[i] - c;
    }
  return f;
}

static void
test_quadratic (void)
{
  double a[50], x[50] = { 0 };
  for (int i = 0; i < 50; i++)
    a[i] = pow (10.0, (i % 5) - 2.0);   /* condition number 1e4 */
  LbfgsOptions options;
  lbfgs_options_init_default (&options);
  options.f_tolerance = 0.0;
  options.gradient_tolerance = 1e-7;
  options.max_iterations = 2000;
  LbfgsResult result;
  g_assert_true (lbfgs_minimize (x, 50, quadratic, a, &options, &result));
  g_test_message ("%d iterations, max |grad| %.3g", result.iterations,
                  result.gradient_max);
  g_assert_cmpint (result.stop, ==, LBFGS_GRADIENT_SMALL);
  for (int i = 0; i < 50; i++)
    g_assert_cmpfloat_with_epsilon (x[i], (i - 20.0) / a[i],
                                    1e-5 * fmax (1.0, fabs ((i - 20.0) / a[i])));
}

/* max_iterations is honoured and reported as not converged */
static void
test_iteration_limit (void)
{
  int n = 2;
  double x[2] = { -1.2, 1.0 };
  LbfgsOptions options;
  lbfgs_options_init_default (&options);
  options.max_iterations = 3;
  LbfgsResult result;
  g_assert_true (lbfgs_minimize (x, n, rosenbrock, &n, &options, &result));
  g_assert_cmpint (result.iterations, ==, 3);
  g_assert_cmpint (result.stop, ==, LBFGS_ITERATION_LIMIT);
  g_assert_cmpfloat (result.f, <, 24.2);   /* f at the start */
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/lbfgs/rosenbrock", test_rosenbrock);
  g_test_add_func ("/engine/lbfgs/quadratic", test_quadratic);
  g_test_add_func ("/engine/lbfgs/iteration-limit", test_iteration_limit);
  return g_test_run ();
}

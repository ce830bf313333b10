/* test-linear-eval.c: the linear evaluation's classifier against its
 * definition (central differences) and against scikit-learn's
 * LogisticRegression on a committed fixture (tools/make-linear-fixture.py),
 * and the protocol's choices. */
#include <gio/gio.h>
#include <glib.h>
#include <math.h>

#include "linear-eval.h"
#include "rng.h"
#include "safetensors.h"
#include "testutil.h"
#include "threads.h"

static void
test_gradient (void)
{
  enum { N = 30, D = 5, C = 3, P = C * (D + 1) };
  Rng rng;
  rng_seed (&rng, 7);
  float x[N * D];
  int labels[N];
  for (int i = 0; i < N * D; i++)
    x[i] = rng_normal (&rng);
  for (int i = 0; i < N; i++)
    labels[i] = i % C;
  double params[P], grad[P], scratch[P];
  for (int i = 0; i < P; i++)
    params[i] = 0.5 * rng_normal (&rng);
  const double l2 = 0.3;
  linear_classifier_objective (x, labels, N, D, C, l2, params, grad);
  float analytic[P], numeric[P];
  const double h = 1e-3;
  for (int i = 0; i < P; i++)
    {
      double saved = params[i];
      params[i] = saved + h;
      double plus = linear_classifier_objective (x, labels, N, D, C, l2,
                                                 params, scratch);
      params[i] = saved - h;
      double minus = linear_classifier_objective (x, labels, N, D, C, l2,
                                                  params, scratch);
      params[i] = saved;
      numeric[i] = (float) ((plus - minus) / (2 * h));
      analytic[i] = (float) grad[i];
    }
  /* the logits are float32 (sgemm): differences of 1e-3 steps carry ~1e-5 */
  assert_all_close ("d objective / d (W, b)", analytic, numeric, P, 2e-4,
                    1e-3);
}

/* Split over two engine threads (as from 1024 images on), the objective
 * and its gradient are the one-thread sums, up to the order of addition. */
static void
test_threads (void)
{
  enum { N = 3000, D = 7, C = 4, P = C * (D + 1) };
  Rng rng;
  rng_seed (&rng, 9);
  g_autofree float *x = g_new (float, N * D);
  g_autofree int *labels = g_new (int, N);
  for (int i = 0; i < N * D; i++)
    x[i] = rng_normal (&rng);
  for (int i = 0; i < N; i++)
    labels[i] = (int) rng_below (&rng, C);
  double params[P], grad[2][P];
  for (int i = 0; i < P; i++)
    params[i] = 0.5 * rng_normal (&rng);
  double f[2];
  for (int t = 0; t < 2; t++)
    {
      g_assert_cmpint (engine_set_threads (t + 1), ==, t + 1);
      f[t] = linear_classifier_objective (x, labels, N, D, C, 0.01, params,
                                          grad[t]);
    }
  engine_set_threads (1);
  g_assert_cmpfloat_with_epsilon (f[1], f[0], 1e-6 * fabs (f[0]));
  float one[P], two[P];
  for (int i = 0; i < P; i++)
    {
      one[i] = (float) grad[0][i];
      two[i] = (float) grad[1][i];
    }
  assert_all_close ("gradient, 2 threads against 1", two, one, P, 1e-7, 1e-5);
}

static const SafetensorsTensor *
tensor (SafetensorsFile *file, const char *name)
{
  const SafetensorsTensor *t = safetensors_file_lookup (file, name);
  g_assert_nonnull (t);
  return t;
}

static void
test_sklearn (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "fixtures",
                                                 "linear-eval.safetensors",
                                                 NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (SafetensorsFile) file = safetensors_file_load (path, &error);
  g_assert_no_error (error);
  const SafetensorsTensor *features = tensor (file, "features");
  const SafetensorsTensor *labels64 = tensor (file, "labels");
  const SafetensorsTensor *weights = tensor (file, "weights");
  const SafetensorsTensor *bias = tensor (file, "bias");
  const SafetensorsTensor *probabilities = tensor (file, "probabilities");
  const int n = features->shape[0], dim = features->shape[1];
  const int n_classes = weights->shape[0];
  const double l2 = g_ascii_strtod (safetensors_file_get_metadata (file, "l2"),
                                    NULL);
  g_autofree int *labels = g_new (int, n);
  for (int i = 0; i < n; i++)
    labels[i] = (int) ((const gint64 *) labels64->data)[i];

  LinearFitInfo info;
  g_autoptr (LinearClassifier) c = linear_classifier_fit (
      features->data, labels, n, dim, n_classes, l2, &info);
  g_test_message ("%d x %d, %d classes, l2 %g: %d L-BFGS iterations "
                  "(scikit-learn %s), objective %.9g, converged %d",
                  n, dim, n_classes, l2, info.iterations,
                  safetensors_file_get_metadata (file, "sklearn_iterations"),
                  info.loss, info.converged);
  g_assert_true (info.converged);
  assert_all_close ("weights", c->weights, weights->data,
                    (gsize) n_classes * dim, 1e-4, 1e-3);
  assert_all_close ("bias", c->bias, bias->data, n_classes, 1e-4, 1e-3);

  /* the same probabilities for every point */
  g_autofree float *scores = g_new (float, (gsize) n * n_classes);
  linear_classifier_predict (c, features->data, n, scores, NULL);
  for (int i = 0; i < n; i++)
    {
      float *s = scores + (gsize) i * n_classes;
      double max = -INFINITY, sum = 0.0;
      for (int k = 0; k < n_classes; k++)
        max = fmax (max, s[k]);
      for (int k = 0; k < n_classes; k++)
        sum += exp (s[k] - max);
      for (int k = 0; k < n_classes; k++)
        s[k] = (float) (exp (s[k] - max) / sum);
    }
  assert_all_close ("probabilities", scores, probabilities->data,
                    (gsize) n * n_classes, 5e-5, 1e-4);
}

/* Gaussian clusters around the corners of a simplex: train and test from
 * the same clusters */
static void
make_clusters (Rng *rng, float *x, int *labels, int n, int dim, int n_classes,
               float spread)
{
  for (int i = 0; i < n; i++)
    {
      labels[i] = (i * 7) % n_classes;
      for (int d = 0; d < dim; d++)
        x[i * dim + d] = (d == labels[i] ? 3.0f : 0.0f)
                         + spread * rng_normal (rng);
    }
}

static void
test_protocol (void)
{
  enum { N_TRAIN = 600, N_TEST = 200, D = 8, C = 6 };
  Rng rng;
  rng_seed (&rng, 3);
  static float train[N_TRAIN * D], test[N_TEST * D];
  static int train_labels[N_TRAIN], test_labels[N_TEST];
  make_clusters (&rng, train, train_labels, N_TRAIN, D, C, 0.3f);
  make_clusters (&rng, test, test_labels, N_TEST, D, C, 0.3f);
  LinearEvalResult result;
  g_autoptr (GError) error = NULL;
  g_assert_true (linear_eval (&result, train, train_labels, N_TRAIN, test,
                              test_labels, N_TEST, D, C, 0.0, &error));
  g_assert_no_error (error);
  g_test_message ("chosen l2 %g (held-out %.4f): test top-1 %.4f top-5 %.4f, "
                  "%d iterations, %.3f s", result.l2, result.validation_top1,
                  result.top1, result.top5, result.iterations,
                  result.seconds);
  /* separated clusters are separated, with any weight of the grid */
  g_assert_true (result.l2_chosen);
  g_assert_cmpfloat (result.validation_top1, ==, 1.0);
  g_assert_cmpfloat (result.top1, ==, 1.0);
  g_assert_cmpfloat (result.top5, ==, 1.0);
  /* ties go to the strongest weight: the first of the grid */
  const double grid[] = LINEAR_EVAL_L2_GRID;
  g_assert_cmpfloat (result.l2, ==, grid[0]);

  /* overlapping clusters: the reported accuracy is that of the classifier
   * trained with the chosen weight on the whole training set */
  make_clusters (&rng, train, train_labels, N_TRAIN, D, C, 1.5f);
  make_clusters (&rng, test, test_labels, N_TEST, D, C, 1.5f);
  g_assert_true (linear_eval (&result, train, train_labels, N_TRAIN, test,
                              test_labels, N_TEST, D, C, 1e-3, &error));
  g_assert_false (result.l2_chosen);
  g_assert_true (isnan (result.validation_top1));
  g_autoptr (LinearClassifier) c = linear_classifier_fit (
      train, train_labels, N_TRAIN, D, C, 1e-3, NULL);
  int predictions[N_TEST], correct = 0;
  linear_classifier_predict (c, test, N_TEST, NULL, predictions);
  for (int i = 0; i < N_TEST; i++)
    correct += predictions[i] == test_labels[i];
  g_test_message ("overlapping: top-1 %.4f", result.top1);
  g_assert_cmpfloat (result.top1, ==, (double) correct / N_TEST);
  g_assert_cmpfloat (result.top1, <, 1.0);
  g_assert_cmpfloat (result.top5, >=, result.top1);
}

static void
test_bad_labels (void)
{
  float x[40 * 2] = { 0 };
  int labels[40];
  for (int i = 0; i < 40; i++)
    labels[i] = i % 2;
  labels[17] = 5;
  LinearEvalResult result;
  g_autoptr (GError) error = NULL;
  g_assert_false (linear_eval (&result, x, labels, 40, x, labels, 40, 2, 2,
                               0.0, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "17"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/method/linear-eval/gradient", test_gradient);
  g_test_add_func ("/method/linear-eval/threads", test_threads);
  g_test_add_func ("/method/linear-eval/sklearn", test_sklearn);
  g_test_add_func ("/method/linear-eval/protocol", test_protocol);
  g_test_add_func ("/method/linear-eval/bad-labels", test_bad_labels);
  return g_test_run ();
}

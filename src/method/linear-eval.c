/* linear-eval.c: multinomial logistic regression on frozen features, and
 * the linear evaluation protocol around it. */
#define G_LOG_DOMAIN "instdisc-method"

#include "linear-eval.h"

#include <cblas.h>
#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "check.h"
#include "lbfgs.h"
#include "threads.h"

void
linear_classifier_free (LinearClassifier *self)
{
  if (!self)
    return;
  g_free (self->mean);
  g_free (self->inv_std);
  g_free (self->weights);
  g_free (self->bias);
  g_free (self);
}

/* features (N, D) -> out (N, D) standardised with mean and inv_std (D) */
static void
standardise (float *out, const float *features, int n, int dim,
             const float *mean, const float *inv_std)
{
  for (gsize i = 0; i < (gsize) n; i++)
    for (int d = 0; d < dim; d++)
      out[i * dim + d] = (features[i * dim + d] - mean[d]) * inv_std[d];
}

typedef struct
{
  const float *features;  /* (N, D) standardised */
  const int *labels;      /* (N) */
  int n, dim, n_classes;
  double l2;
  const double *bias;     /* (C), the parameters' tail */
  float *weights;         /* (C, D) float copy of the parameters */
  float *logits;          /* (N, C), then (softmax - onehot) / N */
  /* per engine thread: its images' share of the loss (1), of the bias's
   * gradient (C) and of the weights' gradient (C, D) */
  int n_parts;
  double *part_loss;
  double *part_grad_bias;
  float *part_grad_weights;
} Problem;

static void
problem_init (Problem *p, const float *features, const int *labels, int n,
              int dim, int n_classes, double l2)
{
  *p = (Problem) {
    .features = features, .labels = labels, .n = n, .dim = dim,
    .n_classes = n_classes, .l2 = l2,
    .weights = g_new (float, (gsize) n_classes * dim),
    .logits = g_new (float, (gsize) n * n_classes),
    .n_parts = engine_get_threads (),
  };
  p->part_loss = g_new (double, p->n_parts);
  p->part_grad_bias = g_new (double, (gsize) p->n_parts * n_classes);
  p->part_grad_weights = g_new (float, (gsize) p->n_parts * n_classes * dim);
}

static void
problem_clear (Problem *p)
{
  g_free (p->weights);
  g_free (p->logits);
  g_free (p->part_loss);
  g_free (p->part_grad_bias);
  g_free (p->part_grad_weights);
}

/* Thread ith's images [lo, hi): their loss and their share of the
 * gradient, into part ith. */
static void
problem_evaluate_part (void *arg, int ith, int nth)
{
  Problem *p = arg;
  const int D = p->dim, C = p->n_classes;
  size_t lo, hi;
  engine_split (p->n, ith, nth, &lo, &hi);
  const int rows = (int) (hi - lo);
  double *grad_bias = p->part_grad_bias + (gsize) ith * C;
  float *grad_weights = p->part_grad_weights + (gsize) ith * C * D;
  memset (grad_bias, 0, sizeof (double) * C);
  p->part_loss[ith] = 0.0;
  if (rows == 0)
    {
      memset (grad_weights, 0, sizeof (float) * C * D);
      return;
    }
  const float *x = p->features + lo * D;
  float *logits = p->logits + lo * C;
  // logits (rows, C) = x (rows, D) x weights (C, D)^T
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, rows, C, D, 1.0f, x,
               D, p->weights, D, 0.0f, logits, C);
  double loss = 0.0;
  for (int i = 0; i < rows; i++)
    {
      float *row = logits + (gsize) i * C;
      double max = -INFINITY;
      for (int c = 0; c < C; c++)
        {
          row[c] += (float) p->bias[c];
          max = fmax (max, row[c]);
        }
      double sum = 0.0;
      for (int c = 0; c < C; c++)
        {
          row[c] = expf ((float) (row[c] - max));
          sum += row[c];
        }
      const int y = p->labels[lo + i];
      loss += log (sum) - log (row[y]);
      /* row becomes (softmax - onehot) / N, the logits' gradient */
      for (int c = 0; c < C; c++)
        {
          double g = (row[c] / sum - (c == y)) / p->n;
          row[c] = (float) g;
          grad_bias[c] += g;
        }
    }
  p->part_loss[ith] = loss;
  // grad_weights (C, D) = logits' gradient (rows, C)^T x x (rows, D)
  cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, C, D, rows, 1.0f,
               logits, C, x, D, 0.0f, grad_weights, D);
}

static double
problem_evaluate (void *user, const double *params, double *grad)
{
  Problem *p = user;
  const int C = p->n_classes, D = p->dim;
  for (gsize i = 0; i < (gsize) C * D; i++)
    p->weights[i] = (float) params[i];
  p->bias = params + (gsize) C * D;
  if (p->n_parts > 1 && p->n >= 1024)
    engine_parallel (problem_evaluate_part, p);
  else
    for (int ith = 0; ith < p->n_parts; ith++)
      problem_evaluate_part (p, ith, p->n_parts);

  double loss = 0.0, penalty = 0.0;
  double *grad_bias = grad + (gsize) C * D;
  memset (grad_bias, 0, sizeof (double) * C);
  for (gsize i = 0; i < (gsize) C * D; i++)
    {
      double g = 0.0;
      for (int t = 0; t < p->n_parts; t++)
        g += p->part_grad_weights[(gsize) t * C * D + i];
      penalty += params[i] * params[i];
      grad[i] = g + p->l2 * params[i];
    }
  for (int t = 0; t < p->n_parts; t++)
    {
      loss += p->part_loss[t];
      for (int c = 0; c < C; c++)
        grad_bias[c] += p->part_grad_bias[(gsize) t * C + c];
    }
  return loss / p->n + 0.5 * p->l2 * penalty;
}

double
linear_classifier_objective (const float *features, const int *labels, int n,
                             int dim, int n_classes, double l2,
                             const double *params, double *grad)
{
  Problem p;
  problem_init (&p, features, labels, n, dim, n_classes, l2);
  double f = problem_evaluate (&p, params, grad);
  problem_clear (&p);
  return f;
}

/* Minimises the objective from params (C (D + 1)), in place. */
static void
fit_standardised (const float *features, const int *labels, int n, int dim,
                  int n_classes, double l2, double *params,
                  LinearFitInfo *info)
{
  Problem p;
  problem_init (&p, features, labels, n, dim, n_classes, l2);
  LbfgsOptions options;
  lbfgs_options_init_default (&options);
  options.max_iterations = LINEAR_EVAL_MAX_ITERATIONS;
  options.gradient_tolerance = 1e-6;
  options.f_tolerance = 1e-12;
  LbfgsResult result;
  ENGINE_CHECK (lbfgs_minimize (params, n_classes * (dim + 1),
                                problem_evaluate, &p, &options, &result));
  if (info)
    *info = (LinearFitInfo) { .iterations = result.iterations,
                              .loss = result.f,
                              .converged = result.stop
                                           != LBFGS_ITERATION_LIMIT };
  problem_clear (&p);
}

static void
compute_standardisation (const float *features, int n, int dim, float *mean,
                         float *inv_std)
{
  for (int d = 0; d < dim; d++)
    {
      double sum = 0.0, sum_sq = 0.0;
      for (gsize i = 0; i < (gsize) n; i++)
        sum += features[i * dim + d];
      double mu = sum / n;
      for (gsize i = 0; i < (gsize) n; i++)
        {
          double c = features[i * dim + d] - mu;
          sum_sq += c * c;
        }
      double sd = sqrt (sum_sq / n);
      mean[d] = (float) mu;
      /* a constant dimension carries nothing: leave it at zero */
      inv_std[d] = sd > 1e-12 ? (float) (1.0 / sd) : 0.0f;
    }
}

static LinearClassifier *
classifier_from_params (const float *mean, const float *inv_std, int dim,
                        int n_classes, const double *params)
{
  LinearClassifier *self = g_new0 (LinearClassifier, 1);
  self->dim = dim;
  self->n_classes = n_classes;
  self->mean = g_memdup2 (mean, sizeof (float) * dim);
  self->inv_std = g_memdup2 (inv_std, sizeof (float) * dim);
  self->weights = g_new (float, (gsize) n_classes * dim);
  self->bias = g_new (float, n_classes);
  for (gsize i = 0; i < (gsize) n_classes * dim; i++)
    self->weights[i] = (float) params[i];
  for (int c = 0; c < n_classes; c++)
    self->bias[c] = (float) params[(gsize) n_classes * dim + c];
  return self;
}

LinearClassifier *
linear_classifier_fit (const float *features, const int *labels, int n,
                       int dim, int n_classes, double l2, LinearFitInfo *info)
{
  ENGINE_CHECK (n > 0 && dim > 0 && n_classes > 1);
  g_autofree float *mean = g_new (float, dim);
  g_autofree float *inv_std = g_new (float, dim);
  compute_standardisation (features, n, dim, mean, inv_std);
  g_autofree float *x = g_new (float, (gsize) n * dim);
  standardise (x, features, n, dim, mean, inv_std);
  g_autofree double *params = g_new0 (double, (gsize) n_classes * (dim + 1));
  fit_standardised (x, labels, n, dim, n_classes, l2, params, info);
  return classifier_from_params (mean, inv_std, dim, n_classes, params);
}

void
linear_classifier_predict (const LinearClassifier *self, const float *features,
                           int n, float *scores, int *predictions)
{
  const int D = self->dim, C = self->n_classes;
  g_autofree float *x = g_new (float, (gsize) n * D);
  g_autofree float *own_scores = scores ? NULL : g_new (float, (gsize) n * C);
  float *s = scores ? scores : own_scores;
  standardise (x, features, n, D, self->mean, self->inv_std);
  // scores (N, C) = x (N, D) x weights (C, D)^T
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, n, C, D, 1.0f, x, D,
               self->weights, D, 0.0f, s, C);
  for (gsize i = 0; i < (gsize) n; i++)
    {
      int best = 0;
      for (int c = 0; c < C; c++)
        {
          s[i * C + c] += self->bias[c];
          if (s[i * C + c] > s[i * C + best])
            best = c;
        }
      if (predictions)
        predictions[i] = best;
    }
}

static gboolean
check_labels (const int *labels, int n, int n_classes, const char *which,
              GError **error)
{
  for (int i = 0; i < n; i++)
    if (labels[i] < 0 || labels[i] >= n_classes)
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                     _("linear evaluation: %s image %d has label %d, outside "
                       "the training set's %d classes"),
                     which, i, labels[i], n_classes);
        return FALSE;
      }
  return TRUE;
}

/* top-1 and top-5 (fractions) of scores (N, C) against labels */
static void
score_accuracy (const float *scores, const int *labels, int n, int n_classes,
                double *top1, double *top5)
{
  int correct1 = 0, correct5 = 0;
  for (gsize i = 0; i < (gsize) n; i++)
    {
      const float *s = scores + i * n_classes;
      const float own = s[labels[i]];
      /* the rank of the true class: classes scoring higher, and equal ones
       * with a lower index (the tie rule of the prediction) */
      int rank = 0;
      for (int c = 0; c < n_classes; c++)
        if (s[c] > own || (s[c] == own && c < labels[i]))
          rank++;
      correct1 += rank == 0;
      correct5 += rank < 5;
    }
  *top1 = (double) correct1 / n;
  *top5 = (double) correct5 / n;
}

gboolean
linear_eval (LinearEvalResult *result, const float *train,
             const int *train_labels, int n_train, const float *test,
             const int *test_labels, int n_test, int dim, int n_classes,
             double l2, GError **error)
{
  if (n_classes < 2 || n_train < 20 || n_test < 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("linear evaluation needs at least 2 classes, 20 "
                     "training images and one test image (here %d, %d and "
                     "%d)"), n_classes, n_train, n_test);
      return FALSE;
    }
  if (!check_labels (train_labels, n_train, n_classes, _("training"), error)
      || !check_labels (test_labels, n_test, n_classes, _("test"), error))
    return FALSE;
  gint64 start = g_get_monotonic_time ();
  *result = (LinearEvalResult) { .l2 = l2, .validation_top1 = NAN };
  /* params: the current fit; best: the chosen weight's minimum on the
   * split, where the final fit starts */
  const gsize n_params = (gsize) n_classes * (dim + 1);
  g_autofree double *params = g_new0 (double, n_params);
  g_autofree double *best = g_new0 (double, n_params);

  if (l2 <= 0.0)
    {
      /* every 10th image held out; the rest standardised by their own
       * statistics, as the final fit will be by the whole set's */
      const int n_held = n_train / 10, n_fit = n_train - n_held;
      g_autofree float *fit = g_new (float, (gsize) n_fit * dim);
      g_autofree float *held = g_new (float, (gsize) n_held * dim);
      g_autofree int *fit_labels = g_new (int, n_fit);
      g_autofree int *held_labels = g_new (int, n_held);
      for (int i = 0, a = 0, h = 0; i < n_train; i++)
        if (i % 10 == 9 && h < n_held)
          {
            memcpy (held + (gsize) h * dim, train + (gsize) i * dim,
                    sizeof (float) * dim);
            held_labels[h++] = train_labels[i];
          }
        else
          {
            memcpy (fit + (gsize) a * dim, train + (gsize) i * dim,
                    sizeof (float) * dim);
            fit_labels[a++] = train_labels[i];
          }
      g_autofree float *mean = g_new (float, dim);
      g_autofree float *inv_std = g_new (float, dim);
      compute_standardisation (fit, n_fit, dim, mean, inv_std);
      standardise (fit, fit, n_fit, dim, mean, inv_std);
      g_autofree float *scores = g_new (float, (gsize) n_held * n_classes);
      const double grid[] = LINEAR_EVAL_L2_GRID;
      for (gsize g = 0; g < G_N_ELEMENTS (grid); g++)
        {
          /* warm start from the stronger weight's minimum */
          fit_standardised (fit, fit_labels, n_fit, dim, n_classes, grid[g],
                            params, NULL);
          g_autoptr (LinearClassifier) c = classifier_from_params (
              mean, inv_std, dim, n_classes, params);
          linear_classifier_predict (c, held, n_held, scores, NULL);
          double top1, top5;
          score_accuracy (scores, held_labels, n_held, n_classes, &top1,
                          &top5);
          if (g == 0 || top1 > result->validation_top1)
            {
              result->validation_top1 = top1;
              result->l2 = grid[g];
              memcpy (best, params, sizeof (double) * n_params);
            }
        }
      result->l2_chosen = TRUE;
    }

  /* the final fit on the whole training set, standardised by its own
   * statistics, from the chosen weight's minimum on the split */
  g_autofree float *mean = g_new (float, dim);
  g_autofree float *inv_std = g_new (float, dim);
  compute_standardisation (train, n_train, dim, mean, inv_std);
  g_autofree float *x = g_new (float, (gsize) n_train * dim);
  standardise (x, train, n_train, dim, mean, inv_std);
  LinearFitInfo info;
  fit_standardised (x, train_labels, n_train, dim, n_classes, result->l2,
                    best, &info);
  g_autoptr (LinearClassifier) classifier = classifier_from_params (
      mean, inv_std, dim, n_classes, best);
  g_autofree float *scores = g_new (float, (gsize) n_test * n_classes);
  linear_classifier_predict (classifier, test, n_test, scores, NULL);
  score_accuracy (scores, test_labels, n_test, n_classes, &result->top1,
                  &result->top5);
  result->iterations = info.iterations;
  result->seconds = (g_get_monotonic_time () - start) / 1e6;
  return TRUE;
}

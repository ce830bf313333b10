/* evaluate.c: kNN evaluation of a run's embedding. */
#define G_LOG_DOMAIN "instdisc"

#include "evaluate.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <math.h>

/* knn_classify of queries against base, as percentages */
static void
knn_percentages (const float *queries, const Dataset *test, const float *base,
                 const Dataset *train, int dim, int k, float sigma,
                 double *top1, double *top5, double *nn1)
{
  KnnAccuracy accuracy;
  knn_classify (NULL, &accuracy, queries, test->labels, test->n, base,
                train->labels, train->n, dim, MAX (train->n_classes, 1), k,
                sigma);
  *top1 = 100.0 * accuracy.top1;
  *top5 = 100.0 * accuracy.top5;
  if (nn1)
    *nn1 = 100.0 * accuracy.nn1;
}

static float *
try_features (int n, int dim, gboolean test, GError **error)
{
  float *features = g_try_new (float, (gsize) n * dim);
  if (!features)
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOMEM,
                 test ? _("not enough memory for %d test features")
                      : _("not enough memory for %d training features"), n);
  return features;
}

void
evaluate_options_init (EvaluateOptions *options)
{
  *options = (EvaluateOptions) { .k = KNN_DEFAULT_K };
}

gboolean
evaluate_can_score (const Dataset *train, const Dataset *test)
{
  return train && test && train->labels && train->n_classes > 0
         && test->n > 0 && test->labels && test->n_classes > 0
         && test->n_classes <= train->n_classes;
}

gboolean
trainer_evaluate (Trainer *trainer, const Dataset *train, const Dataset *test,
                  const EvaluateOptions *options, MetricsRow *row,
                  LinearEvalResult *linear, GError **error)
{
  return evaluate_run_model (trainer_get_model (trainer), train, test,
                             options, row, linear, error);
}

gboolean
evaluate_run_model (const RunModel *model, const Dataset *train,
                    const Dataset *test, const EvaluateOptions *options,
                    MetricsRow *row, LinearEvalResult *linear, GError **error)
{
  metrics_row_init (row, "eval");
  if (!evaluate_can_score (train, test))
    return TRUE;   /* nothing to measure without labels */
  const TrainerConfig *config = &model->config;
  const int D = config->low_dim;
  g_autofree float *test_features = try_features (test->n, D, TRUE, error);
  if (!test_features || !run_model_embed (model, test, test_features, error))
    return FALSE;
  /* sigma = tau, as the reference's test.py */
  const MemoryBank *bank = model->bank;
  knn_percentages (test_features, test, bank->vectors, train, D, options->k,
                   config->tau, &row->knn_top1, &row->knn_top5,
                   &row->knn_1nn);
  if (!options->recompute && !options->linear)
    return TRUE;
  g_autofree float *train_features = try_features (train->n, D, FALSE, error);
  if (!train_features
      || !run_model_embed (model, train, train_features, error))
    return FALSE;
  if (options->recompute)
    knn_percentages (test_features, test, train_features, train, D,
                     options->k, config->tau, &row->knn_top1_recomputed,
                     &row->knn_top5_recomputed, NULL);
  if (options->linear)
    {
      LinearEvalResult result;
      if (!linear_eval (&result, train_features, train->labels, train->n,
                        test_features, test->labels, test->n, D,
                        train->n_classes, options->linear_l2, error))
        return FALSE;
      row->linear_top1 = 100.0 * result.top1;
      row->linear_top5 = 100.0 * result.top5;
      if (linear)
        *linear = result;
    }
  return TRUE;
}

gboolean
trainer_evaluate_start (Trainer *trainer, const Dataset *train,
                        const Dataset *test, int k, MetricsRow *untrained,
                        MetricsRow *pixels, GError **error)
{
  g_return_val_if_fail (trainer_get_iteration (trainer) == 0, FALSE);
  metrics_row_init (pixels, "pixels");
  if (!trainer_prepare (trainer, error))
    return FALSE;
  const TrainerConfig *config = trainer_get_config (trainer);
  const gboolean bank_is_features = config->bank_init == BANK_INIT_FEATURES;
  EvaluateOptions options;
  evaluate_options_init (&options);
  options.k = k;
  options.recompute = !bank_is_features;
  if (!trainer_evaluate (trainer, train, test, &options, untrained, NULL,
                         error))
    return FALSE;
  if (bank_is_features)
    {
      untrained->knn_top1_recomputed = untrained->knn_top1;
      untrained->knn_top5_recomputed = untrained->knn_top5;
    }
  untrained->iteration = pixels->iteration = 0;
  untrained->epoch = pixels->epoch = 0;
  if (!evaluate_can_score (train, test))
    return TRUE;

  KnnAccuracy raw;
  g_autoptr (GError) too_large = NULL;
  if (evaluate_raw_pixels (&raw, train, test, trainer_get_augment (trainer),
                           k, config->tau, EVALUATE_PIXELS_MAX_BYTES,
                           &too_large))
    {
      pixels->knn_top1 = 100.0 * raw.top1;
      pixels->knn_top5 = 100.0 * raw.top5;
      pixels->knn_1nn = 100.0 * raw.nn1;
    }
  else if (!g_error_matches (too_large, G_IO_ERROR, G_IO_ERROR_NO_SPACE))
    {
      g_propagate_error (error, g_steal_pointer (&too_large));
      return FALSE;
    }
  return TRUE;
}

float *
evaluate_pixel_vectors (const Dataset *data, const AugmentOptions *augment,
                        GError **error)
{
  const gsize dim = (gsize) data->channels * data->height * data->width;
  float *vectors = g_try_new (float, dim * data->n);
  if (!vectors)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOMEM,
                   _("not enough memory for the pixels of %d images"),
                   data->n);
      return NULL;
    }
  AugmentOptions at_own_size = *augment;
  at_own_size.size = data->height;
  g_autofree guint8 *pixels = g_malloc (dim);
  for (int i = 0; i < data->n; i++)
    {
      if (!dataset_get_image (data, i, pixels, error))
        {
          g_free (vectors);
          return NULL;
        }
      augment_test (&at_own_size, pixels, data->channels, data->height,
                    data->width, vectors + dim * i);
    }
  knn_normalise_rows (vectors, data->n, dim);
  return vectors;
}

gboolean
evaluate_raw_pixels (KnnAccuracy *accuracy, const Dataset *train,
                     const Dataset *test, const AugmentOptions *augment,
                     int k, float sigma, gsize max_bytes, GError **error)
{
  if (!evaluate_can_score (train, test))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("raw pixels: the data set has no labelled test "
                             "images"));
      return FALSE;
    }
  const gsize dim = (gsize) train->channels * train->height * train->width;
  const gsize bytes = sizeof (float) * dim * ((gsize) train->n + test->n);
  if (max_bytes > 0 && bytes > max_bytes)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   _("raw pixels: %d + %d images of %zu values would take "
                     "%.0f MB"), train->n, test->n, dim, bytes / 1e6);
      return FALSE;
    }
  g_autofree float *train_pixels = evaluate_pixel_vectors (train, augment,
                                                           error);
  if (!train_pixels)
    return FALSE;
  g_autofree float *test_pixels = evaluate_pixel_vectors (test, augment,
                                                          error);
  if (!test_pixels)
    return FALSE;
  knn_classify (NULL, accuracy, test_pixels, test->labels, test->n,
                train_pixels, train->labels, train->n, (int) dim,
                MAX (train->n_classes, 1), k, sigma);
  return TRUE;
}

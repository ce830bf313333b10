/* knn-baselines.c: the two reference points of the learning-quality study
 * (docs/learning.md): the weighted kNN (K 200) on raw pixels, and on the
 * untrained network's embedding; with --linear also the linear evaluation
 * (linear-eval.h) of both. Not a test.
 *
 *   knn-baselines [--data SPEC] [--tau 0.1] [--seed 1] [--linear]
 *
 * Raw pixels are the test transform's normalised pixels as one vector per
 * image, L2-normalised, so cosine similarity ranks them; sigma = tau as in
 * the method's evaluation. */
#include <gio/gio.h>
#include <math.h>
#include <stdio.h>

#include "augment.h"
#include "evaluate.h"
#include "knn.h"
#include "trainer.h"

int
main (int argc, char **argv)
{
  g_autofree char *spec = NULL;
  double tau = 0.1;
  int k = KNN_DEFAULT_K;
  gint64 seed = 1;
  gboolean linear = FALSE;
  GOptionEntry entries[] = {
    { "linear", 0, 0, G_OPTION_ARG_NONE, &linear, "Also the linear evaluation", NULL },
    { "data", 0, 0, G_OPTION_ARG_FILENAME, &spec, "Data set (fashion-mnist)", "SPEC" },
    { "tau", 0, 0, G_OPTION_ARG_DOUBLE, &tau, "sigma of the kNN weights (0.1)", "T" },
    { "k", 0, 0, G_OPTION_ARG_INT, &k, "Neighbours that vote (200)", "K" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Seed of the untrained network (1)", "N" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_option_context_add_main_entries (context, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  if (k < 1)
    {
      g_printerr ("--k must be at least 1\n");
      return 1;
    }
  DatasetOptions options;
  dataset_options_init_default (&options);
  const char *data_spec = spec ? spec : "fashion-mnist";
  g_autoptr (Dataset) train = dataset_open (data_spec, "train", &options, &error);
  g_autoptr (Dataset) test = train ? dataset_open (data_spec, "test", &options,
                                                   &error)
                                   : NULL;
  if (!test)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }

  AugmentOptions augment;
  augment_options_init_for_dataset (&augment, train);
  KnnAccuracy raw;
  if (!evaluate_raw_pixels (&raw, train, test, &augment, k,
                            (float) tau, 0, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  printf ("raw pixels:        kNN top-1 %.2f  top-5 %.2f  1-NN %.2f\n",
          100 * raw.top1, 100 * raw.top5, 100 * raw.nn1);
  if (linear)
    {
      const int dim = train->channels * train->height * train->width;
      g_autofree float *train_pixels = evaluate_pixel_vectors (train, &augment,
                                                               &error);
      g_autofree float *test_pixels = train_pixels
          ? evaluate_pixel_vectors (test, &augment, &error) : NULL;
      LinearEvalResult result;
      if (!test_pixels
          || !linear_eval (&result, train_pixels, train->labels, train->n,
                           test_pixels, test->labels, test->n, dim,
                           train->n_classes, 0.0, &error))
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
      printf ("raw pixels:        linear top-1 %.2f  top-5 %.2f  (l2 %g, "
              "%.1f s)\n", 100 * result.top1, 100 * result.top5, result.l2,
              result.seconds);
    }

  TrainerConfig config;
  trainer_config_init_default (&config);
  config.tau = (float) tau;
  config.seed = (guint64) seed;
  g_autoptr (Trainer) trainer = trainer_new (&config, train, &error);
  MetricsRow row;
  EvaluateOptions eval_options;
  evaluate_options_init (&eval_options);
  eval_options.recompute = TRUE;
  eval_options.linear = linear;
  eval_options.k = k;
  if (!trainer || !trainer_evaluate (trainer, train, test, &eval_options, &row,
                                     NULL, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  printf ("untrained network: kNN top-1 %.2f  top-5 %.2f (recomputed "
          "features; the random bank gives %.2f)\n",
          row.knn_top1_recomputed, row.knn_top5_recomputed, row.knn_top1);
  if (linear)
    printf ("untrained network: linear top-1 %.2f  top-5 %.2f\n",
            row.linear_top1, row.linear_top5);
  return 0;
}

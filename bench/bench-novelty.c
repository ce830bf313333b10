/* bench-novelty.c: which statistic of a query's neighbours tells an image
 * unlike the training images (a wallpaper against clothing) from a test
 * image of the training distribution. Run by hand; its numbers are in
 * docs/method.md, "How unlike the training images".
 *
 *   bench-novelty RUN_DIR [N_TEST] IMAGE...
 *
 * Embeds N_TEST (default 2000) test images of the run and the IMAGE files
 * as `instdisc query` does, takes each one's K = 10 nearest bank rows, and
 * prints, per statistic, percentiles over three groups (2000 bank rows
 * against the others, the test images, the image files) and the AUROC of
 * test images against the files (1: every file scores below every test
 * image; 0.5: no better than chance). Statistics:
 *   top1      similarity of the nearest row
 *   top10     similarity of the 10th
 *   mean10    mean of the 10
 *   spread    top1 - top10
 *   rel_top1  top1 minus the nearest row's own top1 (its similarity to its
 *             nearest other row): how far the query is from the place it
 *             lands in, in that place's own terms
 *   rel_top10 top10 minus the nearest row's own 10th
 *   coherence the mean similarity of the 10 to one another */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas-kernels.h"
#include "knn.h"
#include "run-folder.h"
#include "run-model.h"
#include "threads.h"

#define K 10
#define N_STATS 7

static const char *const stat_names[N_STATS] = {
  "top1", "top10", "mean10", "spread", "rel_top1", "rel_top10", "coherence",
};

/* own[j * 2]: bank row j's top-1 and top-10 similarity to other rows */
static void
own_stats (const float *bank, int n, int dim, int j, float *top1,
           float *top10)
{
  float s[K + 1];
  int idx[K + 1];
  knn_search (s, idx, bank + (size_t) j * dim, 1, bank, n, dim, K + 1);
  /* the row itself comes first */
  *top1 = s[1];
  *top10 = s[K];
}

/* stats (n, N_STATS) of queries (n, dim); skip_self: the queries are bank
 * rows, whose first neighbour is themselves */
static void
query_stats (const float *queries, int n, const float *bank, int n_bank,
             int dim, gboolean skip_self, double *stats)
{
  int k = K + (skip_self ? 1 : 0);
  g_autofree float *s = g_new (float, (size_t) n * k);
  g_autofree int *idx = g_new (int, (size_t) n * k);
  knn_search (s, idx, queries, n, bank, n_bank, dim, k);
  for (int q = 0; q < n; q++)
    {
      const float *row = s + (size_t) q * k + (skip_self ? 1 : 0);
      const int *nb = idx + (size_t) q * k + (skip_self ? 1 : 0);
      double mean = 0;
      for (int j = 0; j < K; j++)
        mean += row[j];
      float own1, own10;
      own_stats (bank, n_bank, dim, nb[0], &own1, &own10);
      double *o = stats + (size_t) q * N_STATS;
      o[0] = row[0];
      o[1] = row[K - 1];
      o[2] = mean / K;
      o[3] = row[0] - row[K - 1];
      o[4] = row[0] - own1;
      o[5] = row[K - 1] - own10;
      double coh = 0;
      for (int a = 0; a < K; a++)
        for (int b = a + 1; b < K; b++)
          {
            double dot = 0;
            for (int d = 0; d < dim; d++)
              dot += (double) bank[(size_t) nb[a] * dim + d]
                     * bank[(size_t) nb[b] * dim + d];
            coh += dot;
          }
      o[6] = coh / (K * (K - 1) / 2);
    }
}

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
percentile (const double *sorted, int n, double p)
{
  if (n == 0)
    return NAN;
  double at = p / 100.0 * (n - 1);
  int lo = (int) floor (at), hi = MIN (lo + 1, n - 1);
  return sorted[lo] + (at - lo) * (sorted[hi] - sorted[lo]);
}

/* P(in-distribution value > out value), ties half */
static double
auroc (const double *in, int n_in, const double *out, int n_out)
{
  double wins = 0;
  for (int i = 0; i < n_in; i++)
    for (int j = 0; j < n_out; j++)
      wins += in[i] > out[j] ? 1.0 : in[i] == out[j] ? 0.5 : 0.0;
  return wins / ((double) n_in * n_out);
}

static float *
embed (const RunModel *model, const Dataset *set)
{
  g_autoptr (GError) error = NULL;
  float *f = g_new (float, (size_t) set->n * model->bank->dim);
  if (!run_model_embed (model, set, f, &error))
    g_error ("%s", error->message);
  return f;
}

int
main (int argc, char **argv)
{
  /* the kernels the programs run; may run this again */
  blas_kernels_choose (argv);
  if (argc < 3)
    {
      fprintf (stderr, "usage: %s RUN_DIR [N_TEST] IMAGE...\n", argv[0]);
      return 2;
    }
  engine_set_threads (0);
  g_autoptr (GError) error = NULL;
  g_autoptr (RunFolder) folder = run_folder_open (argv[1], &error);
  if (!folder)
    g_error ("%s", error->message);
  g_autoptr (Dataset) train = run_folder_open_data (folder, "train", &error);
  if (!train)
    g_error ("%s", error->message);
  RunModel *model = run_folder_load_model (folder, train, &error);
  if (!model)
    g_error ("%s", error->message);
  g_autoptr (Dataset) test = run_folder_open_data (folder, "test", &error);
  if (!test)
    g_error ("%s", error->message);
  int first = 2, n_test = 2000;
  char *end = NULL;
  long given = strtol (argv[2], &end, 10);
  if (end && *end == '\0' && given > 0)
    {
      n_test = (int) given;
      first = 3;
    }
  n_test = MIN (n_test, test->n);
  const int n_files = argc - first, dim = model->bank->dim;
  const int n_bank = model->bank->n;
  const float *bank = model->bank->vectors;
  const gsize image = (gsize) train->channels * train->height * train->width;

  /* test images spread over the set; files decoded as queries are */
  g_autoptr (Dataset) tests = dataset_new_in_memory ("test-sample", n_test,
                                                     test->channels,
                                                     test->height,
                                                     test->width);
  for (int i = 0; i < n_test; i++)
    if (!dataset_get_image (test, (int) ((gint64) i * test->n / n_test),
                            tests->pixels + i * image, &error))
      g_error ("%s", error->message);
  g_autoptr (Dataset) files = dataset_new_in_memory ("files", n_files,
                                                     train->channels,
                                                     train->height,
                                                     train->width);
  for (int i = 0; i < n_files; i++)
    if (!dataset_decode_file (argv[first + i], train->channels, train->height,
                              train->resize, files->pixels + i * image,
                              &error))
      g_error ("%s", error->message);

  int n_rows = MIN (2000, n_bank);
  g_autofree float *rows = g_new (float, (size_t) n_rows * dim);
  for (int i = 0; i < n_rows; i++)
    memcpy (rows + (size_t) i * dim,
            bank + (size_t) ((gint64) i * n_bank / n_rows) * dim,
            sizeof (float) * dim);
  g_autofree float *test_f = embed (model, tests);
  g_autofree float *file_f = embed (model, files);
  g_autofree double *st_rows = g_new (double, (size_t) n_rows * N_STATS);
  g_autofree double *st_test = g_new (double, (size_t) n_test * N_STATS);
  g_autofree double *st_file = g_new (double, (size_t) n_files * N_STATS);
  query_stats (rows, n_rows, bank, n_bank, dim, TRUE, st_rows);
  query_stats (test_f, n_test, bank, n_bank, dim, FALSE, st_test);
  query_stats (file_f, n_files, bank, n_bank, dim, FALSE, st_file);

  printf ("%s: step %" G_GINT64_FORMAT ", %d bank rows, %d test images, "
          "%d files\n", argv[1], model->iteration, n_bank, n_test, n_files);
  for (int i = 0; i < n_files; i++)
    {
      printf ("  %-40s", argv[first + i]);
      for (int s = 0; s < N_STATS; s++)
        printf (" %s %.4f", stat_names[s], st_file[i * N_STATS + s]);
      printf ("\n");
    }
  printf ("%-10s %-6s %8s %8s %8s %8s %8s   %s\n", "statistic", "group", "p1",
          "p5", "p50", "p95", "p99", "AUROC test>files, bank>files");
  const double *groups[3] = { st_rows, st_test, st_file };
  const int sizes[3] = { n_rows, n_test, n_files };
  const char *names[3] = { "bank", "test", "files" };
  for (int s = 0; s < N_STATS; s++)
    {
      double *col[3];
      for (int g = 0; g < 3; g++)
        {
          col[g] = g_new (double, MAX (sizes[g], 1));
          for (int i = 0; i < sizes[g]; i++)
            col[g][i] = groups[g][i * N_STATS + s];
          qsort (col[g], sizes[g], sizeof (double), compare_doubles);
        }
      for (int g = 0; g < 3; g++)
        {
          printf ("%-10s %-6s", g == 0 ? stat_names[s] : "", names[g]);
          const double ps[5] = { 1, 5, 50, 95, 99 };
          for (int p = 0; p < 5; p++)
            printf (" %8.4f", percentile (col[g], sizes[g], ps[p]));
          if (g == 2)
            printf ("   %.3f, %.3f",
                    auroc (col[1], sizes[1], col[2], sizes[2]),
                    auroc (col[0], sizes[0], col[2], sizes[2]));
          printf ("\n");
        }
      for (int g = 0; g < 3; g++)
        g_free (col[g]);
    }
  run_model_free (model);
  return 0;
}

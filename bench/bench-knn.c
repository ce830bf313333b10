/* bench-knn.c: how fast the kNN search and the weighted kNN classifier run.
 *
 *   classify  10,000 queries, weighted kNN (k 200, sigma 0.1, 10 classes)
 *             against a 60,000 x 128 bank (CIFAR-sized evaluation)
 *   search    1,000 top-10 queries against a 1,000,000 x 128 bank
 *   single    one top-10 query against that bank: median latency of many
 *   imagenet  the evaluation at ImageNet's size: 50,000 queries, weighted
 *             kNN (k 200, sigma 0.1, 1,000 classes) against a
 *             1,281,167 x 128 bank (655 MB), once, with the peak memory;
 *             only when asked (--only imagenet): it takes minutes
 *
 * Every case reports the median of its repeats. Data are random unit rows
 * from a seed, or raw little-endian float32 files written by
 * tools/bench-knn-faiss.py so that FAISS and NumPy see the same numbers:
 *
 *   bench-knn [--threads N] [--repeats N] [--singles N] [--seed S]
 *             [--data DIR] [--json] [--only classify|search|single]
 *
 * DIR holds train.f32 (60000x128), train-labels.i32, test.f32 (10000x128),
 * test-labels.i32, bank.f32 (1000000x128), queries.f32 (1000x128), and
 * gets search-indices.i32 (1000x10) back for the agreement check. */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "knn.h"
#include "rng.h"
#include "threads.h"
#include "bench-util.h"

#define DIM 128
#define TRAIN_ROWS 60000
#define TEST_ROWS 10000
#define N_CLASSES 10
#define BANK_ROWS 1000000
#define SEARCH_QUERIES 1000
#define SEARCH_K 10

static void *
load (const char *dir, const char *name, size_t bytes)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *contents = NULL;
  gsize length;
  g_autoptr (GError) error = NULL;
  if (!g_file_get_contents (path, &contents, &length, &error))
    {
      fprintf (stderr, "bench-knn: %s\n", error->message);
      exit (1);
    }
  if (length != bytes)
    {
      fprintf (stderr, "bench-knn: %s has %zu bytes, expected %zu\n", path,
               (size_t) length, bytes);
      exit (1);
    }
  return g_steal_pointer (&contents);
}

#define IMAGENET_TRAIN 1281167
#define IMAGENET_VAL 50000
#define IMAGENET_CLASSES 1000

/* The weighted kNN evaluation of an ImageNet-sized run on random unit
 * rows: what `instdisc eval` costs once the features exist. */
static void
bench_imagenet_classify (Rng *rng)
{
  float *bank = g_new (float, (size_t) IMAGENET_TRAIN * DIM);
  float *queries = g_new (float, (size_t) IMAGENET_VAL * DIM);
  int *bank_labels = g_new (int, IMAGENET_TRAIN);
  int *query_labels = g_new (int, IMAGENET_VAL);
  bench_random_unit_rows (bank, IMAGENET_TRAIN, DIM, rng);
  bench_random_unit_rows (queries, IMAGENET_VAL, DIM, rng);
  for (int i = 0; i < IMAGENET_TRAIN; i++)
    bank_labels[i] = (int) rng_below (rng, IMAGENET_CLASSES);
  for (int i = 0; i < IMAGENET_VAL; i++)
    query_labels[i] = (int) rng_below (rng, IMAGENET_CLASSES);
  KnnAccuracy acc;
  double t0 = bench_now (), c0 = bench_cpu_now ();
  knn_classify (NULL, &acc, queries, query_labels, IMAGENET_VAL, bank,
                bank_labels, IMAGENET_TRAIN, DIM, IMAGENET_CLASSES,
                KNN_DEFAULT_K, 0.1f);
  double wall = bench_now () - t0, cpu = bench_cpu_now () - c0;
  printf ("weighted kNN, %d queries vs %d x %d, k %d, %d classes: "
          "%.1f s  (%.1f s CPU, top-1 %.4f, chance %.4f), peak memory "
          "%.0f MiB (the bank %.0f MiB)\n", IMAGENET_VAL, IMAGENET_TRAIN,
          DIM, KNN_DEFAULT_K, IMAGENET_CLASSES, wall, cpu, acc.top1,
          1.0 / IMAGENET_CLASSES, bench_peak_memory_mib (),
          (double) IMAGENET_TRAIN * DIM * sizeof (float) / (1 << 20));
  g_free (bank);
  g_free (queries);
  g_free (bank_labels);
  g_free (query_labels);
}

int
main (int argc, char **argv)
{
  /* the kernels the programs run (blas-kernels.h); may run this again */
  bench_choose_kernels (argv, NULL);
  int threads = 0, repeats = 3, singles = 51;
  gint64 seed = 1;
  char *data_dir = NULL, *only = NULL;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "engine threads (0: one per core)", "N" },
    { "repeats", 0, 0, G_OPTION_ARG_INT, &repeats, "repeats of the batch cases", "N" },
    { "singles", 0, 0, G_OPTION_ARG_INT, &singles, "single queries timed", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "seed of the random data", "S" },
    { "data", 0, 0, G_OPTION_ARG_FILENAME, &data_dir, "read the data from DIR", "DIR" },
    { "only", 0, 0, G_OPTION_ARG_STRING, &only, "one case", "CASE" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "one JSON line", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- kNN benchmark");
  g_option_context_add_main_entries (context, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "bench-knn: %s\n", error->message);
      return 2;
    }
  /* the search runs on the engine's pool, OpenBLAS at one thread inside
   * each of its threads */
  engine_set_threads (threads);
  gboolean do_classify = !only || !strcmp (only, "classify");
  gboolean do_search = !only || !strcmp (only, "search");
  gboolean do_single = !only || !strcmp (only, "single");

  Rng rng;
  rng_seed (&rng, (uint64_t) seed);
  if (only && !strcmp (only, "imagenet"))
    {
      bench_print_loadavg ("before");
      bench_imagenet_classify (&rng);
      bench_print_loadavg ("after");
      return 0;
    }
  double t_classify = NAN, t_search = NAN, t_single = NAN, top1 = NAN;
  double c_classify = NAN, c_search = NAN;

  if (do_classify)
    {
      float *train, *test;
      int *train_labels, *test_labels;
      if (data_dir)
        {
          train = load (data_dir, "train.f32", sizeof (float) * TRAIN_ROWS * DIM);
          test = load (data_dir, "test.f32", sizeof (float) * TEST_ROWS * DIM);
          train_labels = load (data_dir, "train-labels.i32", sizeof (int) * TRAIN_ROWS);
          test_labels = load (data_dir, "test-labels.i32", sizeof (int) * TEST_ROWS);
        }
      else
        {
          train = g_new (float, (size_t) TRAIN_ROWS * DIM);
          test = g_new (float, (size_t) TEST_ROWS * DIM);
          train_labels = g_new (int, TRAIN_ROWS);
          test_labels = g_new (int, TEST_ROWS);
          bench_random_unit_rows (train, TRAIN_ROWS, DIM, &rng);
          bench_random_unit_rows (test, TEST_ROWS, DIM, &rng);
          for (int i = 0; i < TRAIN_ROWS; i++)
            train_labels[i] = (int) rng_below (&rng, N_CLASSES);
          for (int i = 0; i < TEST_ROWS; i++)
            test_labels[i] = (int) rng_below (&rng, N_CLASSES);
        }
      double *times = g_new (double, repeats);
      double *cpu = g_new (double, repeats);
      KnnAccuracy acc;
      for (int r = 0; r < repeats; r++)
        {
          double t0 = bench_now (), c0 = bench_cpu_now ();
          knn_classify (NULL, &acc, test, test_labels, TEST_ROWS, train,
                        train_labels, TRAIN_ROWS, DIM, N_CLASSES,
                        KNN_DEFAULT_K, 0.1f);
          times[r] = bench_now () - t0;
          cpu[r] = bench_cpu_now () - c0;
        }
      t_classify = bench_median (times, repeats);
      c_classify = bench_median (cpu, repeats);
      g_free (cpu);
      top1 = acc.top1;
      g_free (times);
      g_free (train);
      g_free (test);
      g_free (train_labels);
      g_free (test_labels);
    }

  if (do_search || do_single)
    {
      float *bank, *queries;
      if (data_dir)
        {
          bank = load (data_dir, "bank.f32", sizeof (float) * (size_t) BANK_ROWS * DIM);
          queries = load (data_dir, "queries.f32", sizeof (float) * SEARCH_QUERIES * DIM);
        }
      else
        {
          bank = g_new (float, (size_t) BANK_ROWS * DIM);
          queries = g_new (float, (size_t) SEARCH_QUERIES * DIM);
          bench_random_unit_rows (bank, BANK_ROWS, DIM, &rng);
          bench_random_unit_rows (queries, SEARCH_QUERIES, DIM, &rng);
        }
      float *sims = g_new (float, SEARCH_QUERIES * SEARCH_K);
      int *idx = g_new (int, SEARCH_QUERIES * SEARCH_K);
      if (do_search)
        {
          double *times = g_new (double, repeats);
          double *cpu = g_new (double, repeats);
          for (int r = 0; r < repeats; r++)
            {
              double t0 = bench_now (), c0 = bench_cpu_now ();
              knn_search (sims, idx, queries, SEARCH_QUERIES, bank, BANK_ROWS,
                          DIM, SEARCH_K);
              times[r] = bench_now () - t0;
              cpu[r] = bench_cpu_now () - c0;
            }
          t_search = bench_median (times, repeats);
          c_search = bench_median (cpu, repeats);
          g_free (cpu);
          g_free (times);
          if (data_dir)
            {
              g_autofree char *path = g_build_filename (data_dir, "search-indices.i32", NULL);
              if (!g_file_set_contents (path, (const char *) idx,
                                        sizeof (int) * SEARCH_QUERIES * SEARCH_K, &error))
                fprintf (stderr, "bench-knn: %s\n", error->message);
            }
        }
      if (do_single)
        {
          double *times = g_new (double, singles);
          /* one warm-up so page faults of the first touch are not timed */
          knn_search (sims, idx, queries, 1, bank, BANK_ROWS, DIM, SEARCH_K);
          for (int r = 0; r < singles; r++)
            {
              double t0 = bench_now ();
              knn_search (sims, idx, queries + (size_t) (r % SEARCH_QUERIES) * DIM,
                          1, bank, BANK_ROWS, DIM, SEARCH_K);
              times[r] = bench_now () - t0;
            }
          t_single = bench_median (times, singles);
          g_free (times);
        }
      g_free (sims);
      g_free (idx);
      g_free (bank);
      g_free (queries);
    }

  if (json)
    printf ("{\"classify_s\": %.6f, \"classify_top1\": %.6f, \"search_s\": %.6f, "
            "\"single_s\": %.6f, \"classify_cpu_s\": %.6f, \"search_cpu_s\": %.6f}\n",
            t_classify, top1, t_search, t_single, c_classify, c_search);
  else
    {
      printf ("weighted kNN, 10000 queries vs 60000 x 128, k 200: %8.3f s  "
              "(%.3f s CPU, top-1 %.4f)\n", t_classify, c_classify, top1);
      printf ("top-10, 1000 queries vs 1000000 x 128:            %8.3f s  "
              "(%.3f s CPU)\n", t_search, c_search);
      printf ("top-10, 1 query vs 1000000 x 128 (median of %d):   %8.2f ms\n",
              singles, 1e3 * t_single);
    }
  return 0;
}

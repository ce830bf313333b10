/* bench-tsne.c: how long the explorer's Barnes-Hut t-SNE (src/explore)
 * takes at 60,000 points, the size of a Fashion-MNIST memory bank.
 *
 * Times the affinities (the kNN search and calibration in tsne_new), then
 * the iterations in blocks, and prints the time per iteration (wall and
 * process CPU) and the time to iterations 250 (the end of early
 * exaggeration) and 1000 (the default run), with the KL divergence and,
 * when labels are known, the share of points whose nearest 2D neighbour
 * has their label (a measure of a usable map: 1.0 is perfectly separated).
 *
 *   bench-tsne [--checkpoint FILE] [--n N] [--iterations N] [--threads N]
 *              [--layout FILE]
 *
 * With --checkpoint, the bank is the memory.bank tensor of a training
 * run's checkpoint and the labels are Fashion-MNIST's training labels
 * when the bank has 60,000 rows; without it, N random unit vectors in
 * 128-d clustered into 10 groups (each a random centre plus noise, labels
 * the group). --layout writes the final layout as raw float32 (N, 2). */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-util.h"
#include "dataset.h"
#include "rng.h"
#include "safetensors.h"
#include "threads.h"
#include "tsne.h"

#define DIM 128
#define GROUPS 10

/* n rows: GROUPS random unit centres, each row its group's centre plus
 * Gaussian noise of about the centre's length, normalised */
static void
clustered_rows (float *x, int *labels, int n, Rng *rng)
{
  float centres[GROUPS * DIM];
  bench_random_unit_rows (centres, GROUPS, DIM, rng);
  for (int i = 0; i < n; i++)
    {
      int g = (int) rng_below (rng, GROUPS);
      labels[i] = g;
      double sum = 0.0;
      for (int d = 0; d < DIM; d++)
        {
          double v = centres[g * DIM + d] + 0.09 * rng_normal (rng);
          x[(size_t) i * DIM + d] = (float) v;
          sum += v * v;
        }
      for (int d = 0; d < DIM; d++)
        x[(size_t) i * DIM + d] /= (float) sqrt (sum);
    }
}

/* the share of points whose nearest other point in the layout has their
 * label, through a uniform grid of about 4 points a cell */
static double
nn_agreement (const float *y, const int *labels, int n)
{
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (int i = 0; i < n; i++)
    {
      x0 = MIN (x0, y[2 * i]);
      x1 = MAX (x1, y[2 * i]);
      y0 = MIN (y0, y[2 * i + 1]);
      y1 = MAX (y1, y[2 * i + 1]);
    }
  int g = MAX (1, (int) sqrt (n / 4.0));
  double cw = MAX (x1 - x0, y1 - y0) / g + 1e-12;
  g_autofree int *start = g_new0 (int, g * g + 1);
  g_autofree int *items = g_new (int, n);
  g_autofree int *cell = g_new (int, n);
  for (int i = 0; i < n; i++)
    {
      int cx = MIN (g - 1, (int) ((y[2 * i] - x0) / cw));
      int cy = MIN (g - 1, (int) ((y[2 * i + 1] - y0) / cw));
      cell[i] = cy * g + cx;
      start[cell[i] + 1]++;
    }
  for (int c = 0; c < g * g; c++)
    start[c + 1] += start[c];
  g_autofree int *fill = g_memdup2 (start, sizeof (int) * g * g);
  for (int i = 0; i < n; i++)
    items[fill[cell[i]]++] = i;
  int agree = 0;
  for (int i = 0; i < n; i++)
    {
      int cx = cell[i] % g, cy = cell[i] / g, best = -1;
      double best_d2 = INFINITY;
      /* rings of cells until the ring's inner edge is beyond the best */
      for (int r = 0; r < g && (r - 1) * cw * (r - 1) * cw < best_d2; r++)
        for (int gy = cy - r; gy <= cy + r; gy++)
          for (int gx = cx - r; gx <= cx + r; gx++)
            {
              if (MAX (abs (gx - cx), abs (gy - cy)) != r || gx < 0
                  || gy < 0 || gx >= g || gy >= g)
                continue;
              for (int a = start[gy * g + gx]; a < start[gy * g + gx + 1];
                   a++)
                {
                  int j = items[a];
                  if (j == i)
                    continue;
                  double dx = y[2 * j] - y[2 * i];
                  double dy = y[2 * j + 1] - y[2 * i + 1];
                  if (dx * dx + dy * dy < best_d2)
                    {
                      best_d2 = dx * dx + dy * dy;
                      best = j;
                    }
                }
            }
      agree += best >= 0 && labels[best] == labels[i];
    }
  return (double) agree / n;
}

int
main (int argc, char **argv)
{
  /* the kernels the programs run (blas-kernels.h); may run this again */
  bench_choose_kernels (argv, NULL);
  int n = 60000, iterations = 1000, threads = 0;
  char *checkpoint = NULL, *layout_path = NULL;
  GOptionEntry entries[] = {
    { "checkpoint", 0, 0, G_OPTION_ARG_FILENAME, &checkpoint,
      "lay out this checkpoint's memory bank", "FILE" },
    { "n", 0, 0, G_OPTION_ARG_INT, &n, "rows of the random bank", "N" },
    { "iterations", 0, 0, G_OPTION_ARG_INT, &iterations, "iterations",
      "N" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads,
      "engine threads (0: one per core)", "N" },
    { "layout", 0, 0, G_OPTION_ARG_FILENAME, &layout_path,
      "write the final layout (float32, N x 2)", "FILE" },
    { NULL },
  };
  g_autoptr (GOptionContext) context
    = g_option_context_new ("- t-SNE benchmark");
  g_option_context_add_main_entries (context, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "bench-tsne: %s\n", error->message);
      return 1;
    }

  g_autofree float *bank = NULL;
  g_autofree int *labels = NULL;
  int dim = DIM;
  if (checkpoint)
    {
      g_autoptr (SafetensorsFile) file = safetensors_file_load (checkpoint,
                                                                &error);
      const SafetensorsTensor *t = file ? safetensors_file_lookup (
                                            file, "memory.bank")
                                        : NULL;
      if (!t || t->dtype != DTYPE_F32 || t->ndim != 2)
        {
          fprintf (stderr, "bench-tsne: %s\n",
                   error ? error->message : "no float32 memory.bank");
          return 1;
        }
      n = (int) t->shape[0];
      dim = (int) t->shape[1];
      bank = g_memdup2 (t->data, t->numel * sizeof (float));
      g_autoptr (Dataset) train = n == 60000
                                    ? dataset_load_fashion_mnist ("train",
                                                                  NULL)
                                    : NULL;
      if (train && train->labels)
        {
          labels = g_new (int, n);
          for (int i = 0; i < n; i++)
            labels[i] = train->labels[i];
        }
      printf ("data: memory.bank of %s, %d x %d%s\n", checkpoint, n, dim,
              labels ? ", Fashion-MNIST training labels" : "");
    }
  else
    {
      Rng rng;
      rng_seed (&rng, 7);
      bank = g_new (float, (size_t) n * dim);
      labels = g_new (int, n);
      clustered_rows (bank, labels, n, &rng);
      printf ("data: %d random unit vectors in %d-d, %d groups\n", n, dim,
              GROUPS);
    }

  TSneOptions options;
  tsne_options_init_default (&options);
  options.n_iterations = iterations;
  threads = engine_set_threads (threads);
  printf ("options: perplexity %.0f, theta %.2f, %d iterations, %d engine "
          "threads (%u cores)\n", options.perplexity, options.theta,
          options.n_iterations, threads, g_get_num_processors ());
  fflush (stdout);

  double w0 = bench_now (), c0 = bench_cpu_now ();
  g_autoptr (TSne) tsne = tsne_new (bank, n, dim, NULL, FALSE, &options,
                                    NULL, NULL, NULL);
  double w_aff = bench_now () - w0, c_aff = bench_cpu_now () - c0;
  printf ("affinities (kNN search + calibration): %.2f s wall, %.2f s CPU\n",
          w_aff, c_aff);
  fflush (stdout);

  /* blocks of 50 iterations; report at 250, 500 and the end */
  const int block = 50;
  int n_blocks = (iterations + block - 1) / block;
  g_autofree double *per_it = g_new (double, n_blocks);
  g_autofree double *per_it_cpu = g_new (double, n_blocks);
  g_autofree float *y = g_new (float, (size_t) n * 2);
  double wall = w_aff, cpu = c_aff;
  for (int b = 0; b < n_blocks; b++)
    {
      double w = bench_now (), c = bench_cpu_now ();
      int ran = tsne_step (tsne, block);
      double dw = bench_now () - w, dc = bench_cpu_now () - c;
      wall += dw;
      cpu += dc;
      per_it[b] = dw / MAX (ran, 1) * 1e3;
      per_it_cpu[b] = dc / MAX (ran, 1) * 1e3;
      int it = tsne_get_iteration (tsne);
      if (it == 250 || it == 500 || it == iterations)
        {
          double kl = tsne_get_kl (tsne);
          tsne_get_layout (tsne, y);
          double agree = labels ? nn_agreement (y, labels, n) : NAN;
          printf ("iteration %4d: %.1f s wall, %.1f s CPU from the start; "
                  "KL %.3f; nearest 2D neighbour shares the label: %.3f\n",
                  it, wall, cpu, kl, agree);
          fflush (stdout);
        }
    }
  g_autofree double *early = g_memdup2 (per_it, sizeof (double)
                                        * MIN (5, n_blocks));
  printf ("per iteration (median of %d blocks of %d): %.1f ms wall, %.1f ms "
          "CPU; during exaggeration (first 250): %.1f ms wall\n", n_blocks,
          block, bench_median (per_it, n_blocks),
          bench_median (per_it_cpu, n_blocks),
          bench_median (early, MIN (5, n_blocks)));
  printf ("peak memory: %.0f MiB\n", bench_peak_memory_mib ());
  if (layout_path)
    {
      tsne_get_layout (tsne, y);
      if (!g_file_set_contents (layout_path, (const char *) y,
                                (gssize) n * 2 * sizeof (float), &error))
        {
          fprintf (stderr, "bench-tsne: %s\n", error->message);
          return 1;
        }
    }
  return 0;
}

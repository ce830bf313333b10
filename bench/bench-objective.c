/* bench-objective.c: the objective alone, per batch of 128 embeddings.
 *
 *   nce      NCE with K 4096 noise rows: noise draw, gather of the B (K+1)
 *            bank rows, loss, d loss / d features, memory-bank update
 *   softmax  the exact non-parametric softmax over all N rows: f V^T,
 *            softmax cross-entropy, d features = dlogits V, bank update
 *
 * N 60,000, D 128 (CIFAR-sized), tau 0.07, bank momentum 0.5; random unit
 * features every iteration. A few warm-up batches, then the median wall
 * time (and CPU time of all threads) of the timed ones.
 *
 *   bench-objective [--iters N] [--warmup N] [--threads N] [--json]
 * --threads sets OpenBLAS's threads (the softmax's products); NCE splits
 * its batch rows over the cores itself. */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "full-softmax.h"
#include "memory-bank.h"
#include "nce.h"
#include "rng.h"
#include "threads.h"
#include "bench-util.h"

#define N_ROWS 60000
#define DIM 128
#define BATCH 128
#define NCE_K 4096
#define TAU 0.07f

typedef struct
{
  double wall, cpu;
  float loss;
} Timing;

int
main (int argc, char **argv)
{
  int iters = 30, warmup = 3, threads = 0;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "iters", 0, 0, G_OPTION_ARG_INT, &iters, "timed batches", "N" },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &warmup, "untimed batches first", "N" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "BLAS threads (0: one per core)", "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "one JSON line", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- objective benchmark");
  g_option_context_add_main_entries (context, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (context, &argc, &argv, &error) || iters < 1)
    {
      fprintf (stderr, "bench-objective: %s\n", error ? error->message : "--iters >= 1");
      return 2;
    }
  engine_set_threads (threads);

  Rng rng;
  rng_seed (&rng, 1);
  MemoryBank *bank = memory_bank_new (N_ROWS, DIM, 0.5f, &rng);
  bench_random_unit_rows (bank->vectors, N_ROWS, DIM, &rng);
  Nce *nce = nce_new (BATCH, N_ROWS, NCE_K, TAU, NCE_Z_FIXED);
  FullSoftmax *softmax = full_softmax_new (BATCH, N_ROWS, TAU);
  float *features = g_new (float, BATCH * DIM);
  float *d_features = g_new (float, BATCH * DIM);
  int *indices = g_new (int, BATCH);
  double *wall = g_new (double, iters), *cpu = g_new (double, iters);
  Timing result[2];

  for (int objective = 0; objective < 2; objective++)
    {
      float loss = 0.0f;
      for (int it = 0; it < warmup + iters; it++)
        {
          bench_random_unit_rows (features, BATCH, DIM, &rng);
          for (int b = 0; b < BATCH; b++)
            indices[b] = (int) rng_below (&rng, N_ROWS);
          double t0 = bench_now ();
          double c0 = bench_cpu_now ();
          if (objective == 0)
            loss = nce_forward_backward (nce, d_features, features, indices,
                                         BATCH, bank, &rng, NULL);
          else
            loss = full_softmax_forward_backward (softmax, d_features, features,
                                                  indices, BATCH, bank);
          memory_bank_update (bank, indices, features, BATCH);
          if (it >= warmup)
            {
              wall[it - warmup] = bench_now () - t0;
              cpu[it - warmup] = bench_cpu_now () - c0;
            }
        }
      result[objective] = (Timing) { bench_median (wall, iters),
                                     bench_median (cpu, iters), loss };
    }

  if (json)
    printf ("{\"nce_s\": %.6f, \"nce_cpu_s\": %.6f, \"softmax_s\": %.6f, "
            "\"softmax_cpu_s\": %.6f, \"blas_threads\": %d}\n",
            result[0].wall, result[0].cpu, result[1].wall, result[1].cpu,
            engine_get_threads ());
  else
    {
      printf ("objective per batch of %d, N %d, D %d, median of %d "
              "(BLAS threads %d)\n", BATCH, N_ROWS, DIM, iters, engine_get_threads ());
      printf ("  NCE K %d (gather, loss, gradient, bank update): %7.2f ms  "
              "(%.2f ms CPU, loss %.3f)\n", NCE_K, 1e3 * result[0].wall,
              1e3 * result[0].cpu, result[0].loss);
      printf ("  exact softmax (f V^T, loss, gradient, update):  %7.2f ms  "
              "(%.2f ms CPU, loss %.3f)\n", 1e3 * result[1].wall,
              1e3 * result[1].cpu, result[1].loss);
    }
  nce_free (nce);
  full_softmax_free (softmax);
  memory_bank_free (bank);
  g_free (features);
  g_free (d_features);
  g_free (indices);
  g_free (wall);
  g_free (cpu);
  return 0;
}

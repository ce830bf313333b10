/* bench-objective.c: the objective alone, per batch of 128 embeddings.
 *
 *   nce      NCE with K 4096 noise rows: noise draw, gather of the B (K+1)
 *            bank rows, loss, d loss / d features, memory-bank update
 *   softmax  the exact non-parametric softmax over all N rows: f V^T,
 *            softmax cross-entropy, d features = dlogits V, bank update
 *            (full-softmax.c: the fused row pass, products split so that
 *            each thread's sgemm has all 128 batch rows)
 *   plain    the same softmax as it was before the fused pass, kept to
 *            measure against under the same load: two products on the
 *            engine's threads (engine_sgemm), the softmax cross-entropy of
 *            loss.c on one thread between them
 *
 * N 60,000, D 128 (CIFAR-sized), tau 0.07, bank momentum 0.5; random unit
 * features every iteration. A few warm-up batches, then the median wall
 * time (and CPU time of all threads) of the timed ones. The three
 * objectives take turns batch by batch, so that a change in the machine's
 * load during the run affects all of them alike.
 *
 *   bench-objective [--iters N] [--warmup N] [--threads N] [--json]
 * --threads sets the engine's threads (0: one per core); OpenBLAS runs on
 * one thread inside each of them. */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "full-softmax.h"
#include "loss.h"
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

enum { OBJ_NCE, OBJ_SOFTMAX, OBJ_PLAIN, N_OBJ };

/* the exact softmax before the fused pass (logits is B x N scratch) */
static float
plain_softmax (float *logits, float *d_features, const float *features,
               const int *indices, int batch, const MemoryBank *bank)
{
  const int N = bank->n, D = bank->dim;
  // logits (B, N) = f (B, D) x V^T (D, N) / tau
  engine_sgemm (CblasNoTrans, CblasTrans, batch, N, D, 1.0f / TAU, features,
                D, bank->vectors, D, 0.0f, logits, N);
  float loss = softmax_cross_entropy_forward (logits, logits, indices, batch, N);
  softmax_cross_entropy_backward (logits, logits, indices, batch, N);
  // d_features (B, D) = dlogits (B, N) x V (N, D) / tau
  engine_sgemm (CblasNoTrans, CblasNoTrans, batch, D, N, 1.0f / TAU, logits,
                N, bank->vectors, D, 0.0f, d_features, D);
  return loss;
}

int
main (int argc, char **argv)
{
  /* the kernels the programs run (blas-kernels.h); may run this again */
  bench_choose_kernels (argv, NULL);
  int iters = 30, warmup = 3, threads = 0;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "iters", 0, 0, G_OPTION_ARG_INT, &iters, "timed batches", "N" },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &warmup, "untimed batches first", "N" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "engine threads (0: one per core)", "N" },
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
  float *plain_logits = g_new (float, (size_t) BATCH * N_ROWS);
  double *wall = g_new (double, N_OBJ * iters), *cpu = g_new (double, N_OBJ * iters);
  Timing result[N_OBJ];
  float loss[N_OBJ] = { 0 };

  for (int it = 0; it < warmup + iters; it++)
    for (int objective = 0; objective < N_OBJ; objective++)
      {
        bench_random_unit_rows (features, BATCH, DIM, &rng);
        for (int b = 0; b < BATCH; b++)
          indices[b] = (int) rng_below (&rng, N_ROWS);
        double t0 = bench_now ();
        double c0 = bench_cpu_now ();
        if (objective == OBJ_NCE)
          loss[objective] = nce_forward_backward (nce, d_features, features,
                                                  indices, BATCH, bank, &rng,
                                                  NULL);
        else if (objective == OBJ_SOFTMAX)
          loss[objective] = full_softmax_forward_backward (softmax, d_features,
                                                           features, indices,
                                                           BATCH, bank);
        else
          loss[objective] = plain_softmax (plain_logits, d_features, features,
                                           indices, BATCH, bank);
        memory_bank_update (bank, indices, features, BATCH);
        if (it >= warmup)
          {
            wall[objective * iters + it - warmup] = bench_now () - t0;
            cpu[objective * iters + it - warmup] = bench_cpu_now () - c0;
          }
      }
  for (int objective = 0; objective < N_OBJ; objective++)
    result[objective] = (Timing) { bench_median (wall + objective * iters, iters),
                                   bench_median (cpu + objective * iters, iters),
                                   loss[objective] };

  if (json)
    printf ("{\"nce_s\": %.6f, \"nce_cpu_s\": %.6f, \"softmax_s\": %.6f, "
            "\"softmax_cpu_s\": %.6f, \"softmax_plain_s\": %.6f, "
            "\"softmax_plain_cpu_s\": %.6f, \"blas_threads\": %d}\n",
            result[0].wall, result[0].cpu, result[1].wall, result[1].cpu,
            result[2].wall, result[2].cpu, engine_get_threads ());
  else
    {
      printf ("objective per batch of %d, N %d, D %d, median of %d "
              "(engine threads %d)\n", BATCH, N_ROWS, DIM, iters, engine_get_threads ());
      printf ("  NCE K %d (gather, loss, gradient, bank update): %7.2f ms  "
              "(%.2f ms CPU, loss %.3f)\n", NCE_K, 1e3 * result[0].wall,
              1e3 * result[0].cpu, result[0].loss);
      printf ("  exact softmax (f V^T, loss, gradient, update):  %7.2f ms  "
              "(%.2f ms CPU, loss %.3f)\n", 1e3 * result[1].wall,
              1e3 * result[1].cpu, result[1].loss);
      printf ("  exact softmax, plain (before the fused pass):   %7.2f ms  "
              "(%.2f ms CPU, loss %.3f)\n", 1e3 * result[2].wall,
              1e3 * result[2].cpu, result[2].loss);
    }
  nce_free (nce);
  full_softmax_free (softmax);
  memory_bank_free (bank);
  g_free (features);
  g_free (d_features);
  g_free (indices);
  g_free (plain_logits);
  g_free (wall);
  g_free (cpu);
  return 0;
}

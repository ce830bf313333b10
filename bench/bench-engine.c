/* bench-engine.c: how fast the engine trains and runs the reference ResNets.
 *
 * For each model, one full training step at batch 128 (forward in training
 * mode, the exact non-parametric softmax loss against a random bank of unit
 * rows, backward, SGD with momentum and weight decay) and one inference
 * forward at batch 256; a few warm-up iterations, then the median of the
 * timed ones. Reports images/s, GFLOP/s against the machine's peak (by
 * default measured at the start with the threads of the run and the widest
 * FMA vectors the processor has: fma-peak.h), peak resident memory, and
 * with --profile where the step's time goes. GFLOP/s counts the direct
 * convolution's FLOPs (resnet_forward_flops), also for the layers Winograd
 * computes with fewer: an effective rate. ENGINE_CONV (conv.h) picks how
 * the convolutions are computed, for A/B runs.
 *
 * The ImageNet ResNets (--model resnet18-imagenet, resnet50-imagenet, or
 * imagenet for both) run at 224x224x3 with batch 32 for both passes.
 *
 *   bench-engine [--model small|resnet18|both|resnet18-imagenet|
 *                 resnet50-imagenet|imagenet|all] [--threads N] [--iters N]
 *                [--warmup N] [--peak GFLOPS] [--profile] [--json]
 *                [--coretype NAME|auto]
 *
 * OpenBLAS picks its kernels when the library loads, from the environment
 * variable OPENBLAS_CORETYPE or else from the CPU. By default the benchmark
 * runs with the kernels the programs choose (blas-kernels.h: OpenBLAS's
 * own, unless it fell back to ones below the processor's), so it times what
 * they run; --coretype NAME runs OpenBLAS's NAME kernels (Haswell, SkylakeX,
 * ...) and --coretype auto OpenBLAS's own choice, for A/B runs.
 */
#include <cblas.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "loss.h"
#include "resnet.h"
#include "rng.h"
#include "sgd.h"
#include "threads.h"
#include "bench-util.h"
#include "fma-peak.h"

/* the CIFAR nets at 28x28 train at batch 128 and infer at 256; the
 * ImageNet nets at 224x224x3 at batch 32 both (main sets these per model) */
static int train_batch = 128, infer_batch = 256;
#define BANK_ROWS 4096
#define TAU 0.1f

typedef struct
{
  const char *model;
  int threads;
  int iters, warmup;
  double peak_gflops;     /* whole machine */
  bool profile, json;
} Options;

typedef struct
{
  const char *name;
  int train_batch, infer_batch;
  double train_seconds, infer_seconds;        /* medians per step */
  double train_cpu_seconds, infer_cpu_seconds; /* CPU time of all threads */
  double train_images_per_s, infer_images_per_s;
  double train_gflops, infer_gflops;
  double forward_gflop_per_image;
  /* per-step seconds by engine timer, plus loss+SGD and the rest */
  double profile[ENGINE_N_TIMERS];
  double loss_sgd_seconds, profiled_step_seconds;
} Result;

static void
usage (void)
{
  fprintf (stderr,
           "usage: bench-engine [--model small|resnet18|both|resnet18-imagenet|\n"
           "                    resnet50-imagenet|imagenet|all] [--threads N]\n"
           "                    [--iters N] [--warmup N] [--peak GFLOPS]\n"
           "                    [--profile] [--json] [--coretype NAME|auto]\n"
           "                    [--imagenet-batch N]\n"
           "  --peak is the machine's peak in GFLOP/s (default: measured)\n"
           "  --profile (or ENGINE_PROFILE=1) adds a per-kernel breakdown\n"
           "  --coretype sets OPENBLAS_CORETYPE (default: the programs' choice)\n"
           "  --imagenet-batch is the ImageNet nets' batch, both passes (32)\n");
  exit (2);
}

/* Everything one training step needs besides the network. */
typedef struct
{
  float *images;     /* (B, 1, H, W) */
  float *bank;       /* (N, D) unit rows: the memory bank */
  float *logits;     /* (B, N), then probabilities, then their gradient */
  float *d_embedding;/* (B, D) */
  int *targets;      /* (B) */
  Sgd sgd;
} StepState;

/* The loss of the reference's exact non-parametric softmax:
 *   logits = f V^T / tau, loss = cross_entropy (logits, own index),
 * then d f = d logits V / tau. Returns the loss. */
static float
nce_loss (StepState *st, const float *embedding, int batch, int dim)
{
  // logits (B, N) = f (B, D) x V^T (D, N) / tau
  engine_sgemm (CblasNoTrans, CblasTrans, batch, BANK_ROWS, dim, 1.0f / TAU,
                embedding, dim, st->bank, dim, 0.0f, st->logits, BANK_ROWS);
  float loss = softmax_cross_entropy_forward (st->logits, st->logits,
                                              st->targets, batch, BANK_ROWS);
  softmax_cross_entropy_backward (st->logits, st->logits, st->targets, batch,
                                  BANK_ROWS);
  // d f (B, D) = d logits (B, N) x V (N, D) / tau
  engine_sgemm (CblasNoTrans, CblasNoTrans, batch, dim, BANK_ROWS, 1.0f / TAU,
                st->logits, BANK_ROWS, st->bank, dim, 0.0f, st->d_embedding,
                dim);
  return loss;
}

static void
train_step (ResNet *net, StepState *st, double *loss_sgd_seconds)
{
  const int D = net->config.low_dim;
  const float *embedding = resnet_forward (net, st->images, train_batch, true);
  double t = engine_now ();
  float loss = nce_loss (st, embedding, train_batch, D);
  double loss_time = engine_now () - t;
  if (!isfinite (loss))
    {
      fprintf (stderr, "bench-engine: the loss is not finite\n");
      exit (1);
    }
  resnet_backward (net, st->d_embedding, train_batch, NULL);
  t = engine_now ();
  sgd_step (&st->sgd, net->params, net->grads);
  *loss_sgd_seconds = loss_time + engine_now () - t;
}

static void
bench_model (const char *name, const ResNetConfig *config, const Options *opt,
             Result *res)
{
  memset (res, 0, sizeof *res);
  res->name = name;
  res->train_batch = train_batch;
  res->infer_batch = infer_batch;
  /* training's activations for its batch, inference's larger batch through
   * the evaluation buffers: as PyTorch keeps the graph only while training */
  ResNet *net = resnet_new_sized (config, infer_batch, train_batch);
  if (!net)
    {
      fprintf (stderr, "bench-engine: out of memory building %s\n", name);
      exit (1);
    }
  Rng rng;
  rng_seed (&rng, 42);
  resnet_init_parameters (net, &rng);

  const int D = config->low_dim;
  const size_t image_floats = (size_t) config->in_channels * config->image_h
                              * config->image_w;
  StepState st = { 0 };
  st.images = malloc (sizeof (float) * image_floats * infer_batch);
  st.bank = malloc (sizeof (float) * BANK_ROWS * D);
  st.logits = malloc (sizeof (float) * train_batch * BANK_ROWS);
  st.d_embedding = malloc (sizeof (float) * train_batch * D);
  st.targets = malloc (sizeof (int) * train_batch);
  if (!st.images || !st.bank || !st.logits || !st.d_embedding || !st.targets
      || !sgd_init (&st.sgd, net->n_params, 0.03f, 0.9f, 5e-4f))
    {
      fprintf (stderr, "bench-engine: out of memory\n");
      exit (1);
    }
  for (size_t i = 0; i < image_floats * infer_batch; i++)
    st.images[i] = rng_normal (&rng);
  for (int r = 0; r < BANK_ROWS; r++)
    {
      float *row = st.bank + (size_t) r * D;
      double sum_sq = 0.0;
      for (int d = 0; d < D; d++)
        {
          row[d] = rng_normal (&rng);
          sum_sq += (double) row[d] * row[d];
        }
      for (int d = 0; d < D; d++)
        row[d] /= (float) sqrt (sum_sq);
    }
  for (int b = 0; b < train_batch; b++)
    st.targets[b] = (int) rng_below (&rng, BANK_ROWS);

  double *times = malloc (sizeof (double) * opt->iters);
  double *cpu_times = malloc (sizeof (double) * opt->iters);
  double loss_sgd;

  /* training */
  for (int i = 0; i < opt->warmup; i++)
    train_step (net, &st, &loss_sgd);
  for (int i = 0; i < opt->iters; i++)
    {
      double t = engine_now (), cpu = bench_cpu_now ();
      train_step (net, &st, &loss_sgd);
      times[i] = engine_now () - t;
      cpu_times[i] = bench_cpu_now () - cpu;
    }
  res->train_seconds = bench_median (times, opt->iters);
  res->train_cpu_seconds = bench_median (cpu_times, opt->iters);

  /* inference */
  for (int i = 0; i < opt->warmup; i++)
    resnet_forward (net, st.images, infer_batch, false);
  for (int i = 0; i < opt->iters; i++)
    {
      double t = engine_now (), cpu = bench_cpu_now ();
      resnet_forward (net, st.images, infer_batch, false);
      times[i] = engine_now () - t;
      cpu_times[i] = bench_cpu_now () - cpu;
    }
  res->infer_seconds = bench_median (times, opt->iters);
  res->infer_cpu_seconds = bench_median (cpu_times, opt->iters);

  /* the breakdown, in separate runs so the timers cannot slow the above */
  if (opt->profile)
    {
      engine_profile_enable (true);
      engine_profile_reset ();
      double total = 0.0, loss_total = 0.0;
      for (int i = 0; i < opt->iters; i++)
        {
          double t = engine_now ();
          train_step (net, &st, &loss_sgd);
          total += engine_now () - t;
          loss_total += loss_sgd;
        }
      engine_profile_read (res->profile);
      engine_profile_enable (false);
      for (int k = 0; k < ENGINE_N_TIMERS; k++)
        res->profile[k] /= opt->iters;
      res->loss_sgd_seconds = loss_total / opt->iters;
      res->profiled_step_seconds = total / opt->iters;
    }

  res->forward_gflop_per_image = resnet_forward_flops (net) * 1e-9;
  res->train_images_per_s = train_batch / res->train_seconds;
  res->infer_images_per_s = infer_batch / res->infer_seconds;
  /* a training step costs about three forwards: forward, input gradient,
   * weight gradient */
  res->train_gflops = 3.0 * res->forward_gflop_per_image
                      * res->train_images_per_s;
  res->infer_gflops = res->forward_gflop_per_image * res->infer_images_per_s;

  free (times);
  free (cpu_times);
  free (st.images);
  free (st.bank);
  free (st.logits);
  free (st.d_embedding);
  free (st.targets);
  sgd_clear (&st.sgd);
  resnet_free (net);
}

/* 0 where the peak is unknown */
static double
percent_of_peak (double gflops, const Options *opt)
{
  return opt->peak_gflops > 0.0 ? 100.0 * gflops / opt->peak_gflops : 0.0;
}

static void
print_table (const Result *res, int n, const Options *opt, int threads)
{
  printf ("engine benchmark: %d thread(s), OpenBLAS core %s, peak %.0f "
          "GFLOP/s%s, median of %d after %d warm-up\n", threads,
          openblas_get_corename (), opt->peak_gflops,
          opt->peak_gflops > 0.0 ? "" : " (unknown)", opt->iters,
          opt->warmup);
  printf ("%-17s %-5s %5s %9s %9s %8s %6s %9s\n", "model", "mode", "batch",
          "ms/step", "img/s", "GFLOP/s", "%peak", "cpu ms");
  for (int i = 0; i < n; i++)
    {
      const Result *r = &res[i];
      printf ("%-17s %-5s %5d %9.1f %9.1f %8.1f %5.1f%% %9.1f\n", r->name,
              "train", r->train_batch, 1e3 * r->train_seconds,
              r->train_images_per_s, r->train_gflops,
              percent_of_peak (r->train_gflops, opt),
              1e3 * r->train_cpu_seconds);
      printf ("%-17s %-5s %5d %9.1f %9.1f %8.1f %5.1f%% %9.1f\n", r->name,
              "infer", r->infer_batch, 1e3 * r->infer_seconds,
              r->infer_images_per_s, r->infer_gflops,
              percent_of_peak (r->infer_gflops, opt),
              1e3 * r->infer_cpu_seconds);
    }
  if (opt->profile)
    for (int i = 0; i < n; i++)
      {
        const Result *r = &res[i];
        double step = r->profiled_step_seconds, rest = step;
        printf ("\n%s training step, %.1f ms with timers on:\n", r->name,
                1e3 * step);
        for (int k = 0; k < ENGINE_N_TIMERS; k++)
          {
            printf ("  %-16s %8.1f ms %5.1f%%\n", engine_timer_name (k),
                    1e3 * r->profile[k], 100.0 * r->profile[k] / step);
            rest -= r->profile[k];
          }
        printf ("  %-16s %8.1f ms %5.1f%%\n", "loss+sgd",
                1e3 * r->loss_sgd_seconds, 100.0 * r->loss_sgd_seconds / step);
        rest -= r->loss_sgd_seconds;
        printf ("  %-16s %8.1f ms %5.1f%%\n", "rest", 1e3 * rest,
                100.0 * rest / step);
      }
  printf ("peak resident memory: %.0f MiB\n", bench_peak_memory_mib ());
}

static void
print_json (const Result *res, int n, const Options *opt, int threads)
{
  printf ("{\"threads\": %d, \"blas_core\": \"%s\", \"peak_gflops\": %.1f, "
          "\"iters\": %d, \"peak_rss_mib\": %.1f, \"models\": [", threads,
          openblas_get_corename (), opt->peak_gflops, opt->iters,
          bench_peak_memory_mib ());
  for (int i = 0; i < n; i++)
    {
      const Result *r = &res[i];
      printf ("%s\n  {\"model\": \"%s\", \"forward_gflop_per_image\": %.4f, "
              "\"train_batch\": %d, \"train_ms\": %.3f, "
              "\"train_images_per_s\": %.2f, \"train_gflops\": %.2f, "
              "\"train_cpu_ms\": %.3f, "
              "\"infer_batch\": %d, \"infer_ms\": %.3f, "
              "\"infer_images_per_s\": %.2f, \"infer_gflops\": %.2f, "
              "\"infer_cpu_ms\": %.3f",
              i ? "," : "", r->name, r->forward_gflop_per_image, r->train_batch,
              1e3 * r->train_seconds, r->train_images_per_s, r->train_gflops,
              1e3 * r->train_cpu_seconds, r->infer_batch, 1e3 * r->infer_seconds,
              r->infer_images_per_s, r->infer_gflops,
              1e3 * r->infer_cpu_seconds);
      if (opt->profile)
        {
          printf (", \"profile_ms\": {\"step\": %.3f, \"loss_sgd\": %.3f",
                  1e3 * r->profiled_step_seconds, 1e3 * r->loss_sgd_seconds);
          for (int k = 0; k < ENGINE_N_TIMERS; k++)
            printf (", \"%s\": %.3f", engine_timer_name (k),
                    1e3 * r->profile[k]);
          printf ("}");
        }
      printf ("}");
    }
  printf ("\n]}\n");
}

int
main (int argc, char **argv)
{
  Options opt = { .model = "both", .threads = 0, .iters = 5, .warmup = 2,
                  .peak_gflops = -1.0 };
  const char *coretype = NULL;   /* the programs' own choice */
  int imagenet_batch = 32;
  const char *env = getenv ("ENGINE_PROFILE");
  opt.profile = env && *env && strcmp (env, "0") != 0;
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      const char *next = i + 1 < argc ? argv[i + 1] : NULL;
      if (strcmp (a, "--model") == 0 && next)
        opt.model = argv[++i];
      else if (strcmp (a, "--threads") == 0 && next)
        opt.threads = atoi (argv[++i]);
      else if (strcmp (a, "--iters") == 0 && next)
        opt.iters = atoi (argv[++i]);
      else if (strcmp (a, "--warmup") == 0 && next)
        opt.warmup = atoi (argv[++i]);
      else if (strcmp (a, "--peak") == 0 && next)
        {
          opt.peak_gflops = atof (argv[++i]);
          if (opt.peak_gflops <= 0.0)
            usage ();
        }
      else if (strcmp (a, "--profile") == 0)
        opt.profile = true;
      else if (strcmp (a, "--coretype") == 0 && next)
        coretype = argv[++i];
      else if (strcmp (a, "--json") == 0)
        opt.json = true;
      else if (strcmp (a, "--imagenet-batch") == 0 && next)
        imagenet_batch = atoi (argv[++i]);
      else
        usage ();
    }
  const bool all = strcmp (opt.model, "all") == 0;
  const bool cifar = all || strcmp (opt.model, "both") == 0;
  const bool imagenet = all || strcmp (opt.model, "imagenet") == 0;
  bool small = cifar || strcmp (opt.model, "small") == 0;
  bool r18 = cifar || strcmp (opt.model, "resnet18") == 0;
  bool r18i = imagenet || strcmp (opt.model, "resnet18-imagenet") == 0;
  bool r50i = imagenet || strcmp (opt.model, "resnet50-imagenet") == 0;
  if ((!small && !r18 && !r18i && !r50i) || opt.iters < 1 || opt.warmup < 0
      || imagenet_batch < 1)
    usage ();

  bench_choose_kernels (argv, coretype);

  int threads = engine_set_threads (opt.threads);
  if (opt.peak_gflops < 0.0)
    {
      /* the FMA units' rate now, with the threads the models get; 0 (no
       * %peak) on a processor without AVX2 and FMA */
      const int width = fma_peak_widest ();
      opt.peak_gflops = width > 0 ? fma_peak_gflops (width, 3) : 0.0;
    }
  Result res[4];
  int n = 0;
  if (r18)
    {
      ResNetConfig c = resnet_config_resnet18 (1, 28, 28, 128);
      bench_model ("resnet18", &c, &opt, &res[n++]);
    }
  if (small)
    {
      ResNetConfig c = resnet_config_small (1, 28, 28, 128);
      bench_model ("small", &c, &opt, &res[n++]);
    }
  /* torchvision's ImageNet nets at their own size, 224x224 colour */
  train_batch = infer_batch = imagenet_batch;
  if (r18i)
    {
      ResNetConfig c = resnet_config_resnet18_imagenet (3, 224, 224, 128);
      bench_model ("resnet18-imagenet", &c, &opt, &res[n++]);
    }
  if (r50i)
    {
      ResNetConfig c = resnet_config_resnet50_imagenet (3, 224, 224, 128);
      bench_model ("resnet50-imagenet", &c, &opt, &res[n++]);
    }
  if (opt.json)
    print_json (res, n, &opt, threads);
  else
    print_table (res, n, &opt, threads);
  return 0;
}

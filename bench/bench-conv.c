/* bench-conv.c: each 3x3 stride-1 convolution of the ResNets, im2col
 * against Winograd, in the same process, and their downsampling layers.
 *
 * For every layer shape of ResNet-18 and the small ResNet on 1x28x28
 * images (the stem, and the 3x3 stride-1 layers of each stage: 28x28,
 * 14x14, 7x7 and 4x4 maps; and the stem on 3x32x32 colour images, which
 * the totals leave out) at batch 128: the forward, the input gradient
 * and the weight gradient, each way. The two ways alternate within each
 * round (which goes first swaps from round to round), so that a change of
 * load on a shared machine hits both alike; each figure is the median over
 * rounds of the median over iterations. Effective GFLOP/s counts the direct
 * convolution's 2 x OC x C x 9 x H x W x B for every pass, so Winograd's
 * gain shows as a higher rate. The downsampling layers (the first 3x3 of
 * stages 2-4, stride 2, and the 1x1 stride-2 shortcut beside it) have no
 * Winograd way: they are timed with im2col alone and totalled apart.
 *
 * The weight gradient is timed alone (conv2d_backward with no input
 * gradient); the input gradient is the rest of a full conv2d_backward.
 * For im2col that is what the input gradient adds to the weight
 * gradient's columns, which it shares.
 *
 *   bench-conv [--model small|resnet18|both] [--batch N] [--threads N]
 *              [--rounds N] [--iters N] [--warmup N] [--cpu]
 *              [--way both|im2col|winograd] [--coretype NAME|auto]
 *
 * --cpu times the process's CPU time instead of the wall clock: on a
 * machine shared with other work it leaves out the time spent waiting for
 * a core, so with --threads 1 it is the steadier yardstick of the work
 * each way does (with more threads it also counts their spinning).
 * --way times one way only (for a profiler, or a roofline: the other way
 * prints "-" and no ratio).
 *
 * Like bench-engine it runs with the kernels the programs choose
 * (blas-kernels.h) unless OPENBLAS_CORETYPE is set or --coretype NAME|auto
 * is given.
 */
#include <cblas.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conv.h"
#include "rng.h"
#include "threads.h"
#include "bench-util.h"

typedef struct
{
  const char *model;
  const char *name;
  int c, oc, hw;    /* hw: the input's */
  int kernel, stride;
  int count;        /* how many such layers the network has on 1x28x28
                       images (0: a shape it has on other images) */
} Layer;

static const Layer layers[] = {
  { "resnet18", "stem", 1, 64, 28, 3, 1, 1 },
  { "resnet18", "stem3", 3, 64, 32, 3, 1, 0 },
  { "resnet18", "layer1", 64, 64, 28, 3, 1, 4 },
  { "resnet18", "layer2", 128, 128, 14, 3, 1, 3 },
  { "resnet18", "layer3", 256, 256, 7, 3, 1, 3 },
  { "resnet18", "layer4", 512, 512, 4, 3, 1, 3 },
  { "resnet18", "down2", 64, 128, 28, 3, 2, 1 },
  { "resnet18", "short2", 64, 128, 28, 1, 2, 1 },
  { "resnet18", "down3", 128, 256, 14, 3, 2, 1 },
  { "resnet18", "short3", 128, 256, 14, 1, 2, 1 },
  { "resnet18", "down4", 256, 512, 7, 3, 2, 1 },
  { "resnet18", "short4", 256, 512, 7, 1, 2, 1 },
  { "small", "stem", 1, 16, 28, 3, 1, 1 },
  { "small", "stem3", 3, 16, 32, 3, 1, 0 },
  { "small", "layer1", 16, 16, 28, 3, 1, 4 },
  { "small", "layer2", 32, 32, 14, 3, 1, 3 },
  { "small", "layer3", 64, 64, 7, 3, 1, 3 },
  { "small", "layer4", 128, 128, 4, 3, 1, 3 },
  { "small", "down2", 16, 32, 28, 3, 2, 1 },
  { "small", "short2", 16, 32, 28, 1, 2, 1 },
  { "small", "down3", 32, 64, 14, 3, 2, 1 },
  { "small", "short3", 32, 64, 14, 1, 2, 1 },
  { "small", "down4", 64, 128, 7, 3, 2, 1 },
  { "small", "short4", 64, 128, 7, 1, 2, 1 },
};

enum { FWD, DATA, WEIGHT, N_PASSES };
static const char *const pass_names[N_PASSES] = { "forward", "input grad",
                                                  "weight grad" };
static const char *const way_names[2] = { "im2col", "winograd" };

/* one line of a network's totals in ms, each way (NaN: not run) and their
 * ratio */
static void
print_totals (const char *what, double im2col_s, double winograd_s)
{
  const double s[2] = { im2col_s, winograd_s };
  printf ("  %-12s", what);
  for (int a = 0; a < 2; a++)
    if (isnan (s[a]))
      printf (" %-8s %8s ms ", way_names[a], "-");
    else
      printf (" %-8s %8.1f ms ", way_names[a], 1e3 * s[a]);
  if (!isnan (s[0] / s[1]))
    printf ("  x%.2f", s[0] / s[1]);
  printf ("\n");
}

typedef struct
{
  const char *model;
  int batch, threads, rounds, iters, warmup;
  bool cpu;
  int ways;         /* bit 0 im2col, bit 1 Winograd */
} Options;

static void
usage (void)
{
  fprintf (stderr,
           "usage: bench-conv [--model small|resnet18|both] [--batch N]\n"
           "                  [--threads N] [--rounds N] [--iters N]\n"
           "                  [--warmup N] [--cpu] [--way both|im2col|winograd]\n"
           "                  [--coretype NAME|auto]\n");
  exit (2);
}

static double
load_average (void)
{
  double load = -1.0;
  FILE *f = fopen ("/proc/loadavg", "r");
  if (f)
    {
      if (fscanf (f, "%lf", &load) != 1)
        load = -1.0;
      fclose (f);
    }
  return load;
}

typedef struct
{
  Conv2d conv;
  Workspace ws;
  float *inp, *out, *dout, *dinp;
  int batch;
} Bench;

/* seconds per call: the median of iters after warmup */
static double
time_pass (Bench *b, int what, const Options *opt)
{
  double *t = malloc (sizeof (double) * opt->iters);
  for (int i = -opt->warmup; i < opt->iters; i++)
    {
      double start = opt->cpu ? bench_cpu_now () : bench_now ();
      if (what == FWD)
        conv2d_forward (&b->conv, b->out, b->inp, b->batch, &b->ws);
      else
        conv2d_backward (&b->conv, what == WEIGHT ? NULL : b->dinp, b->dout,
                         b->batch, &b->ws);
      if (i >= 0)
        t[i] = (opt->cpu ? bench_cpu_now () : bench_now ()) - start;
    }
  double m = bench_median (t, opt->iters);
  free (t);
  return m;
}

static void
bench_layer (const Layer *layer, const Options *opt, double totals[2][N_PASSES])
{
  Bench b = { .batch = opt->batch };
  conv2d_init (&b.conv, layer->c, layer->oc, layer->kernel, layer->stride,
               layer->kernel / 2, layer->hw, layer->hw);
  const int KK = layer->kernel * layer->kernel;
  const size_t B = opt->batch, HW = (size_t) layer->hw * layer->hw;
  const size_t OHW = (size_t) b.conv.out_h * b.conv.out_w;
  const size_t n_inp = layer->c * B * HW, n_out = layer->oc * B * OHW;
  const size_t n_w = (size_t) layer->oc * layer->c * KK;

  /* the workspace a network gives this layer */
  b.ws.n_floats = conv2d_network_workspace_floats (&b.conv, (int) B,
                                                   opt->threads);

  b.conv.weight = malloc (sizeof (float) * n_w);
  b.conv.grad_weight = malloc (sizeof (float) * n_w);
  b.inp = malloc (sizeof (float) * n_inp);
  b.dinp = malloc (sizeof (float) * n_inp);
  b.out = malloc (sizeof (float) * n_out);
  b.dout = malloc (sizeof (float) * n_out);
  b.ws.col = malloc (sizeof (float) * b.ws.n_floats);
  if (!b.conv.weight || !b.conv.grad_weight || !b.inp || !b.dinp || !b.out
      || !b.dout || !b.ws.col)
    {
      fprintf (stderr, "bench-conv: out of memory\n");
      exit (1);
    }
  Rng rng;
  rng_seed (&rng, 7);
  for (size_t i = 0; i < n_w; i++)
    b.conv.weight[i] = rng_normal (&rng) * 0.05f;
  for (size_t i = 0; i < n_inp; i++)
    {
      float v = rng_normal (&rng);
      b.inp[i] = v > 0.0f ? v : 0.0f;      /* as after BN and ReLU */
    }
  for (size_t i = 0; i < n_out; i++)
    b.dout[i] = rng_normal (&rng) * 1e-3f;
  memset (b.ws.col, 0, sizeof (float) * b.ws.n_floats);

  /* per way (0 im2col, 1 Winograd), per pass, per round */
  double *t[2][3];
  for (int a = 0; a < 2; a++)
    for (int p = 0; p < 3; p++)
      t[a][p] = malloc (sizeof (double) * opt->rounds);
  const bool has_winograd = conv2d_winograd_shape (&b.conv);
  bool winograd_ran = false;
  for (int r = 0; r < opt->rounds; r++)
    for (int k = 0; k < 2; k++)
      {
        int a = (k + r) % 2;
        if (!(opt->ways & (1 << a)) || (a == 1 && !has_winograd))
          {
            t[a][FWD][r] = t[a][WEIGHT][r] = t[a][DATA][r] = NAN;
            continue;
          }
        conv2d_set_algo (a ? CONV_ALGO_WINOGRAD : CONV_ALGO_IM2COL);
        if (a)
          winograd_ran = conv2d_uses_winograd (&b.conv, &b.ws, false);
        b.conv.saved_inp = NULL;
        t[a][FWD][r] = time_pass (&b, FWD, opt);
        t[a][WEIGHT][r] = time_pass (&b, WEIGHT, opt);
        /* the input gradient: a full backward less the weight gradient */
        t[a][DATA][r] = time_pass (&b, DATA, opt) - t[a][WEIGHT][r];
      }

  const double flops = 2.0 * layer->oc * layer->c * KK * OHW * B;
  printf ("%-8s %-6s %4d->%-4d %2dx%-2d %dx%d/%d ws %6.1f MiB%s\n",
          layer->model, layer->name, layer->c, layer->oc, layer->hw,
          layer->hw, layer->kernel, layer->kernel, layer->stride,
          b.ws.n_floats * 4.0 / (1 << 20),
          winograd_ran || !has_winograd || !(opt->ways & 2)
            ? "" : "  (Winograd did not run: no room)");
  for (int p = 0; p < N_PASSES; p++)
    {
      double m[2];
      for (int a = 0; a < 2; a++)
        {
          m[a] = bench_median (t[a][p], opt->rounds);
          totals[a][p] += layer->count * m[a];
        }
      printf ("  %-12s", pass_names[p]);
      for (int a = 0; a < 2; a++)
        if (isnan (m[a]))   /* the way --way left out */
          printf (" %-8s %8s ms %6s GFLOP/s  ", way_names[a], "-", "-");
        else
          printf (" %-8s %8.2f ms %6.1f GFLOP/s  ", way_names[a], 1e3 * m[a],
                  flops / m[a] * 1e-9);
      if (!isnan (m[0] / m[1]))
        printf (" x%.2f", m[0] / m[1]);
      printf ("\n");
    }
  for (int a = 0; a < 2; a++)
    for (int p = 0; p < 3; p++)
      free (t[a][p]);
  free (b.conv.weight);
  free (b.conv.grad_weight);
  free (b.inp);
  free (b.dinp);
  free (b.out);
  free (b.dout);
  free (b.ws.col);
}

int
main (int argc, char **argv)
{
  Options opt = { .model = "both", .batch = 128, .threads = 0, .rounds = 5,
                  .iters = 3, .warmup = 1, .ways = 3 };
  const char *coretype = NULL;   /* the programs' own choice */
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      const char *next = i + 1 < argc ? argv[i + 1] : NULL;
      if (strcmp (a, "--model") == 0 && next)
        opt.model = argv[++i];
      else if (strcmp (a, "--batch") == 0 && next)
        opt.batch = atoi (argv[++i]);
      else if (strcmp (a, "--threads") == 0 && next)
        opt.threads = atoi (argv[++i]);
      else if (strcmp (a, "--rounds") == 0 && next)
        opt.rounds = atoi (argv[++i]);
      else if (strcmp (a, "--iters") == 0 && next)
        opt.iters = atoi (argv[++i]);
      else if (strcmp (a, "--warmup") == 0 && next)
        opt.warmup = atoi (argv[++i]);
      else if (strcmp (a, "--cpu") == 0)
        opt.cpu = true;
      else if (strcmp (a, "--way") == 0 && next)
        {
          const char *w = argv[++i];
          opt.ways = strcmp (w, "both") == 0 ? 3
                     : strcmp (w, "im2col") == 0 ? 1
                     : strcmp (w, "winograd") == 0 ? 2 : 0;
        }
      else if (strcmp (a, "--coretype") == 0 && next)
        coretype = argv[++i];
      else
        usage ();
    }
  bool both = strcmp (opt.model, "both") == 0;
  if ((!both && strcmp (opt.model, "small") != 0
       && strcmp (opt.model, "resnet18") != 0)
      || opt.batch < 1 || opt.rounds < 1 || opt.iters < 1 || opt.warmup < 0
      || opt.ways == 0)
    usage ();

  bench_choose_kernels (argv, coretype);

  opt.threads = engine_set_threads (opt.threads);
  const double load_before = load_average ();
  printf ("conv benchmark: batch %d, %d thread(s), OpenBLAS core %s, "
          "%s time, median of %d rounds x %d iterations (after %d "
          "warm-up), load average %.1f at the start\n", opt.batch,
          opt.threads, openblas_get_corename (), opt.cpu ? "CPU" : "wall",
          opt.rounds, opt.iters, opt.warmup, load_before);

  const char *models[] = { "resnet18", "small" };
  for (int m = 0; m < 2; m++)
    {
      if (!both && strcmp (opt.model, models[m]) != 0)
        continue;
      double totals[2][N_PASSES] = { { 0 } };
      double down_totals[2][N_PASSES] = { { 0 } };
      for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++)
        if (strcmp (layers[i].model, models[m]) == 0)
          bench_layer (&layers[i], &opt,
                       layers[i].stride == 1 ? totals : down_totals);
      printf ("%s, all its 3x3 stride-1 layers (each shape times its "
              "count):\n", models[m]);
      double sum[2] = { 0, 0 };
      for (int p = 0; p < N_PASSES; p++)
        {
          print_totals (pass_names[p], totals[0][p], totals[1][p]);
          sum[0] += totals[0][p];
          sum[1] += totals[1][p];
        }
      print_totals ("all three", sum[0], sum[1]);
      if (opt.ways & 1)
        {
          double down = 0.0;
          for (int p = 0; p < N_PASSES; p++)
            down += down_totals[0][p];
          printf ("%s, its downsampling layers, all three passes: im2col "
                  "%.1f ms\n", models[m], 1e3 * down);
        }
    }
  printf ("load average %.1f at the end; peak resident memory %.0f MiB\n",
          load_average (), bench_peak_memory_mib ());
  return 0;
}

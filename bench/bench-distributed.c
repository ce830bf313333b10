/* bench-distributed.c: where a data-parallel training step's time goes
 * (docs/distributed.md, "Measured on this machine").
 *
 * Runs training steps through trainer_step on Fashion-MNIST (the default
 * recipe: small ResNet, exact softmax, batch 128, the bank started at
 * random so that no pass over the training set comes first), in one
 * process or, under mpirun, as one rank of a job:
 *
 *   bench-distributed --threads 2                      one process, 2 threads
 *   mpirun -n 2 bench-distributed --threads 1          2 ranks, 1 thread each
 *
 * Each round takes a few warm-up steps, then times N steps with the
 * collectives profiled (distributed.h: a barrier before each, whose wait
 * is this rank's waiting for the slowest one) and splits the mean step
 * into compute (everything that is not a collective: the batch, forward,
 * objective, backward, SGD, the bank update), the gradient's sum (the part
 * of MPI's time backward did not hide, plus the calls made during it), the
 * bank rows' all-gather, the other small collectives, and waiting. Rank 0
 * prints one line per round; each rank's numbers are its own, rank 0's
 * shown. --buckets off sums the gradient in one call after backward
 * instead of in 1 MB buckets during it, which shows whether the buckets
 * hide anything.
 *
 * --sizes prints what a step sends, per network: the gradient's bytes
 * (ResNet small and 18 on 32 x 32 images, ResNet-50 at 224) and the bank
 * rows' bytes per image.
 *
 *   bench-distributed [--steps N] [--warmup N] [--rounds R] [--threads N]
 *                     [--model NAME] [--batch B] [--buckets on|off]
 *                     [--sizes]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-util.h"
#include "dataset.h"
#include "distributed.h"
#include "threads.h"
#include "trainer.h"
#ifdef INSTDISC_HAVE_MPI
#include "distributed-mpi.h"
#endif

typedef struct
{
  int steps, warmup, rounds, threads, batch;
  const char *model;
  gboolean buckets, sizes;
} Options;

static void
usage (void)
{
  fprintf (stderr,
           "usage: bench-distributed [--steps N] [--warmup N] [--rounds R]\n"
           "                         [--threads N] [--model NAME] "
           "[--batch B]\n"
           "                         [--buckets on|off] [--sizes]\n");
  exit (2);
}

static Options
parse (int argc, char **argv)
{
  Options o = { .steps = 30, .warmup = 3, .rounds = 3, .threads = 1,
                .batch = 128, .model = "small", .buckets = TRUE };
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      const char *v = i + 1 < argc ? argv[i + 1] : NULL;
      if (g_str_equal (a, "--sizes"))
        o.sizes = TRUE;
      else if (!v)
        usage ();
      else if (g_str_equal (a, "--steps"))
        o.steps = atoi (v), i++;
      else if (g_str_equal (a, "--warmup"))
        o.warmup = atoi (v), i++;
      else if (g_str_equal (a, "--rounds"))
        o.rounds = atoi (v), i++;
      else if (g_str_equal (a, "--threads"))
        o.threads = atoi (v), i++;
      else if (g_str_equal (a, "--batch"))
        o.batch = atoi (v), i++;
      else if (g_str_equal (a, "--model"))
        o.model = v, i++;
      else if (g_str_equal (a, "--buckets"))
        o.buckets = g_str_equal (v, "on"), i++;
      else
        usage ();
    }
  if (o.steps < 1 || o.rounds < 1 || o.warmup < 0 || o.batch < 1)
    usage ();
  return o;
}

/* the bytes a step sends for each network the docs model */
static void
print_sizes (void)
{
  const struct
  {
    const char *name;
    ResNetConfig config;
  } nets[] = {
    { "ResNet small, 32 x 32 x 3", resnet_config_small (3, 32, 32, 128) },
    { "ResNet-18 (CIFAR), 32 x 32 x 3",
      resnet_config_resnet18 (3, 32, 32, 128) },
    { "ResNet-18 (ImageNet), 224 x 224 x 3",
      resnet_config_resnet18_imagenet (3, 224, 224, 128) },
    { "ResNet-50 (ImageNet), 224 x 224 x 3",
      resnet_config_resnet50_imagenet (3, 224, 224, 128) },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (nets); i++)
    {
      ResNet *net = resnet_new (&nets[i].config, 1);
      printf ("%-38s %10zu parameters, gradient %7.2f MB, forward %.2f "
              "GFLOP per image\n", nets[i].name, net->n_params,
              net->n_params * 4 / 1e6, resnet_forward_flops (net) / 1e9);
      resnet_free (net);
    }
  printf ("bank rows all-gathered per image: index + 128 floats = %d "
          "bytes\n", 4 * (1 + 128));
}

int
main (int argc, char **argv)
{
  /* the kernels the programs run (blas-kernels.h); may run this again */
  bench_choose_kernels (argv, NULL);
  Options o = parse (argc, argv);
  if (o.sizes)
    {
      print_sizes ();
      return 0;
    }
  Distributed *dist = distributed_single ();
#ifdef INSTDISC_HAVE_MPI
  if (distributed_launched_size () > 1)
    dist = distributed_mpi_start (&argc, &argv);
#endif
  const gboolean speaker = dist->rank == 0;
  engine_set_threads (o.threads);

  DatasetOptions data_options;
  dataset_options_init_default (&data_options);
  g_autoptr (GError) error = NULL;
  g_autoptr (Dataset) train = dataset_open ("fashion-mnist", "train",
                                            &data_options, &error);
  if (!train)
    {
      fprintf (stderr, "bench-distributed: %s\n", error->message);
      return 1;
    }
  TrainerConfig config;
  trainer_config_init_default (&config);
  config.batch_size = o.batch;
  config.bank_init = BANK_INIT_RANDOM;   /* no pass before the first step */
  if (!(config.model = model_registry_lookup (o.model)))
    usage ();
  g_autoptr (Trainer) trainer = trainer_new_distributed (&config, train,
                                                         dist, &error);
  if (!trainer)
    {
      fprintf (stderr, "bench-distributed: rank %d: %s\n", dist->rank,
               error->message);
      return 1;
    }
  dist->bucket_floats = o.buckets ? DISTRIBUTED_BUCKET_FLOATS : 0;
  const size_t n_params = trainer_get_network (trainer)->n_params;
  if (speaker)
    {
      bench_print_loadavg ("before");
      printf ("%d rank(s) x %d thread(s), %s ResNet (%zu parameters, "
              "gradient %.2f MB), batch %d (%d per rank), gradient %s, %d "
              "steps a round after %d warm-up\n",
              dist->size, o.threads, o.model, n_params, n_params * 4 / 1e6,
              o.batch, o.batch / dist->size,
              o.buckets ? "summed in 1 MB buckets during backward"
                        : "summed in one call after backward",
              o.steps, o.warmup);
    }

  for (int round = 0; round < o.rounds; round++)
    {
      TrainerStepInfo info;
      dist->profiling = FALSE;
      for (int s = 0; s < o.warmup; s++)
        if (!trainer_step (trainer, &info, &error))
          {
            fprintf (stderr, "bench-distributed: %s\n", error->message);
            return 1;
          }
      dist->profiling = dist->size > 1;
      distributed_reset_times (dist);
      double start = bench_now ();
      for (int s = 0; s < o.steps; s++)
        if (!trainer_step (trainer, &info, &error))
          {
            fprintf (stderr, "bench-distributed: %s\n", error->message);
            return 1;
          }
      double wall = bench_now () - start;
      const double *t = dist->seconds;
      double communication = t[DISTRIBUTED_TIME_GRADIENT]
                             + t[DISTRIBUTED_TIME_BANK]
                             + t[DISTRIBUTED_TIME_OTHER]
                             + t[DISTRIBUTED_TIME_WAITING];
      const double ms = 1000.0 / o.steps;
      if (speaker)
        printf ("round %d: step %.1f ms = compute %.1f + gradient sum %.2f + "
                "bank all-gather %.3f + other %.2f + waiting %.2f; %.1f "
                "images/s\n",
                round + 1, wall * ms, (wall - communication) * ms,
                t[DISTRIBUTED_TIME_GRADIENT] * ms,
                t[DISTRIBUTED_TIME_BANK] * ms, t[DISTRIBUTED_TIME_OTHER] * ms,
                t[DISTRIBUTED_TIME_WAITING] * ms, o.steps * o.batch / wall);
      fflush (stdout);
    }
  if (speaker)
    bench_print_loadavg ("after");
  g_clear_pointer (&trainer, trainer_free);
  if (dist->size > 1)
    distributed_free (dist);
  return 0;
}

/* write-checkpoint.c: writes a checkpoint of a briefly trained ResNet for
 * tools/check-checkpoint-torch.py (a by-hand check, not a test).
 *
 *   write-checkpoint OUT.safetensors [small|resnet18] [IN_CHANNELS] [SIZE]
 *
 * Besides the model and optimizer it stores, under "check.", a fixed input
 * batch and the network's eval-mode embedding of it, so the checker can
 * compare PyTorch's forward pass with ours. */
#define G_LOG_DOMAIN "instdisc-io"

#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "checkpoint.h"
#include "resnet.h"
#include "rng.h"
#include "sgd.h"

#define BATCH 2

int
main (int argc, char **argv)
{
  if (argc < 2)
    {
      g_printerr ("usage: %s OUT.safetensors [small|resnet18] [IN_CHANNELS] "
                  "[SIZE]\n", argv[0]);
      return 2;
    }
  const char *path = argv[1];
  const char *kind = argc > 2 ? argv[2] : "small";
  int channels = argc > 3 ? atoi (argv[3]) : 1;
  int size = argc > 4 ? atoi (argv[4]) : 28;
  ResNetConfig config = strcmp (kind, "resnet18") == 0
                            ? resnet_config_resnet18 (channels, size, size, 128)
                            : resnet_config_small (channels, size, size, 128);
  char why[256];
  if (!resnet_config_validate (&config, why, sizeof why))
    {
      g_printerr ("%s\n", why);
      return 1;
    }
  ResNet *net = resnet_new (&config, BATCH);
  Sgd sgd;
  if (!net || !sgd_init (&sgd, net->n_params, 0.03f, 0.9f, 5e-4f))
    {
      g_printerr ("out of memory\n");
      return 1;
    }
  Rng rng;
  rng_seed (&rng, 2018);
  resnet_init_parameters (net, &rng);

  gsize n_images = (gsize) BATCH * channels * size * size;
  g_autofree float *images = g_new (float, n_images);   /* (B, C, H, W) */
  g_autofree float *d_emb = g_new (float, BATCH * config.low_dim);  /* (B, D) */
  /* a few steps so BN statistics and momentum are not at their defaults */
  for (int step = 0; step < 3; step++)
    {
      for (gsize i = 0; i < n_images; i++)
        images[i] = rng_normal (&rng);
      for (int i = 0; i < BATCH * config.low_dim; i++)
        d_emb[i] = rng_normal (&rng);
      resnet_forward (net, images, BATCH, true);
      resnet_backward (net, d_emb, BATCH, NULL);
      sgd_step (&sgd, net->params, net->grads);
    }

  for (gsize i = 0; i < n_images; i++)
    images[i] = rng_normal (&rng);
  const float *emb = resnet_forward (net, images, BATCH, false);
  g_autofree float *bank = g_new (float, 10 * config.low_dim);  /* (N, D) */
  for (int i = 0; i < 10 * config.low_dim; i++)
    bank[i] = rng_uniform (&rng);

  SafetensorsTensor extra[3] = {
    { "check.input", DTYPE_F32, 4, { BATCH, channels, size, size }, n_images,
      images },
    { "check.embedding", DTYPE_F32, 2, { BATCH, config.low_dim },
      (gsize) BATCH * config.low_dim, (gpointer) emb },
    { "memory.bank", DTYPE_F32, 2, { 10, config.low_dim },
      (gsize) 10 * config.low_dim, bank },
  };
  g_autoptr (GHashTable) meta = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_insert (meta, "model", (gpointer) kind);
  g_hash_table_insert (meta, "epoch", "0");
  g_hash_table_insert (meta, "iteration", "3");
  g_autoptr (GError) error = NULL;
  if (!checkpoint_save (path, net, &sgd, extra, G_N_ELEMENTS (extra), meta,
                        &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  g_print ("%s: %s, %d tensors of state, %zu parameters\n", path, kind,
           net->n_state, net->n_params);
  sgd_clear (&sgd);
  resnet_free (net);
  return 0;
}

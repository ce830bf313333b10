/* conv-accuracy.c: how far each 3x3 stride-1 convolution of a network is
 * from the exact result, im2col and Winograd, on the network's own weights
 * and activations.
 *
 * The network (a run's trained checkpoint, or PyTorch's initialisation)
 * runs a training-mode forward with im2col on a batch of test images; then
 * every 3x3 stride-1 layer's saved input (the activation after batch norm
 * and ReLU that the layer really sees) and weights are put through both
 * ways: forward, input gradient and weight gradient, the output gradient
 * being standard normal. Each result is compared with a double-precision
 * evaluation of the definition at `samples` random elements; the figure is
 * the largest |difference| over those elements divided by the rms of the
 * exact values there (as tests/engine/test-winograd.c and the parity test
 * measure).
 *
 *   conv-accuracy [--checkpoint FILE] [--model small|resnet18]
 *                 [--image-size N] [--data SPEC] [--batch N] [--samples N]
 *
 * --model and --image-size must be what the checkpoint was trained with
 * (its run's config.ini). --data is a data set spec (dataset.h; default
 * fashion-mnist), whose test split gives the images, with the test
 * transform of its preset at --image-size.
 */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "augment.h"
#include "checkpoint.h"
#include "conv.h"
#include "dataset.h"
#include "model.h"
#include "resnet.h"
#include "rng.h"
#include "threads.h"

typedef struct
{
  int C, OC, B, H, W;
  const float *weight, *inp, *dout;
} Problem;

/* the exact value of element i of the forward (pass 0), the input
 * gradient (1) or the weight gradient (2), in double */
static double
exact (const Problem *p, int pass, size_t i)
{
  const size_t plane = (size_t) p->H * p->W;
  double s = 0.0;
  if (pass == 2)
    {
      int oc = i / (9 * p->C), c = i / 9 % p->C, ky = i % 9 / 3, kx = i % 3;
      for (int n = 0; n < p->B; n++)
        for (int y = 0; y < p->H; y++)
          for (int x = 0; x < p->W; x++)
            {
              int iy = y + ky - 1, ix = x + kx - 1;
              if (iy >= 0 && iy < p->H && ix >= 0 && ix < p->W)
                s += (double) p->dout[((size_t) oc * p->B + n) * plane
                                      + y * p->W + x]
                     * p->inp[((size_t) c * p->B + n) * plane + iy * p->W
                              + ix];
            }
      return s;
    }
  int ch = i / (plane * p->B), n = i / plane % p->B;
  int y = i % plane / p->W, x = i % p->W;
  const int other = pass == 0 ? p->C : p->OC;
  for (int k = 0; k < other; k++)
    for (int ky = 0; ky < 3; ky++)
      for (int kx = 0; kx < 3; kx++)
        {
          /* forward: out[ch] += w[ch][k] inp[k] at (y + ky - 1, x + kx - 1);
           * input gradient: dinp[ch] += w[k][ch] dout[k] at (y - ky + 1, ...) */
          int sy = pass == 0 ? y + ky - 1 : y - ky + 1;
          int sx = pass == 0 ? x + kx - 1 : x - kx + 1;
          if (sy < 0 || sy >= p->H || sx < 0 || sx >= p->W)
            continue;
          size_t w = pass == 0 ? ((size_t) ch * p->C + k) * 9
                               : ((size_t) k * p->C + ch) * 9;
          const float *src = pass == 0 ? p->inp : p->dout;
          s += (double) p->weight[w + ky * 3 + kx]
               * src[((size_t) k * p->B + n) * plane + sy * p->W + sx];
        }
  return s;
}

static double
error_at (const Problem *p, int pass, const float *got, const size_t *idx,
          int m)
{
  double worst = 0.0, sum_sq = 0.0;
  for (int k = 0; k < m; k++)
    {
      double r = exact (p, pass, idx[k]);
      worst = fmax (worst, fabs ((double) got[idx[k]] - r));
      sum_sq += r * r;
    }
  return worst / fmax (sqrt (sum_sq / m), 1e-300);
}

/* Both ways on one layer; prints a row and raises worst[way][pass]. */
static void
measure_layer (const char *name, Conv2d *conv, Workspace *ws, int batch,
               int samples, Rng *rng, double worst[2][3])
{
  const int C = conv->in_channels, OC = conv->out_channels;
  const size_t plane = (size_t) conv->in_h * conv->in_w;
  const size_t n[3] = { OC * batch * plane, C * batch * plane,
                        (size_t) OC * C * 9 };
  float *dout = g_new (float, n[0]);
  float *result[3] = { g_new (float, n[0]), g_new (float, n[1]),
                       g_new (float, n[2]) };
  for (size_t i = 0; i < n[0]; i++)
    dout[i] = rng_normal (rng);
  size_t *idx = g_new (size_t, 3 * samples);
  for (int pass = 0; pass < 3; pass++)
    for (int k = 0; k < samples; k++)
      idx[pass * samples + k] = rng_below (rng, n[pass]);
  Problem p = { C, OC, batch, conv->in_h, conv->in_w, conv->weight,
                conv->saved_inp, dout };
  const float *inp = conv->saved_inp;

  double err[2][3];
  for (int way = 0; way < 2; way++)
    {
      conv2d_set_algo (way ? CONV_ALGO_WINOGRAD : CONV_ALGO_IM2COL);
      conv2d_forward (conv, result[0], inp, batch, ws);
      conv2d_backward (conv, result[1], dout, batch, ws);
      memcpy (result[2], conv->grad_weight, sizeof (float) * n[2]);
      for (int pass = 0; pass < 3; pass++)
        {
          err[way][pass] = error_at (&p, pass, result[pass],
                                     idx + pass * samples, samples);
          worst[way][pass] = fmax (worst[way][pass], err[way][pass]);
        }
    }
  printf ("%-16s %4d->%-4d %3dx%-3d %9.2g %9.2g %9.2g %9.2g %9.2g %9.2g\n",
          name, C, OC, conv->in_h, conv->in_w, err[0][0], err[1][0],
          err[0][1], err[1][1], err[0][2], err[1][2]);
  for (int pass = 0; pass < 3; pass++)
    g_free (result[pass]);
  g_free (dout);
  g_free (idx);
}

static void
usage (void)
{
  fprintf (stderr, "usage: conv-accuracy [--checkpoint FILE] "
           "[--model small|resnet18] [--image-size N]\n"
           "                     [--data SPEC] [--batch N] [--samples N]\n");
  exit (2);
}

int
main (int argc, char **argv)
{
  const char *checkpoint = NULL, *model = "small", *spec = "fashion-mnist";
  int size = 28, batch = 16, samples = 400;
  for (int i = 1; i < argc; i++)
    {
      const char *next = i + 1 < argc ? argv[i + 1] : NULL;
      if (strcmp (argv[i], "--checkpoint") == 0 && next)
        checkpoint = argv[++i];
      else if (strcmp (argv[i], "--model") == 0 && next)
        model = argv[++i];
      else if (strcmp (argv[i], "--image-size") == 0 && next)
        size = atoi (argv[++i]);
      else if (strcmp (argv[i], "--data") == 0 && next)
        spec = argv[++i];
      else if (strcmp (argv[i], "--batch") == 0 && next)
        batch = atoi (argv[++i]);
      else if (strcmp (argv[i], "--samples") == 0 && next)
        samples = atoi (argv[++i]);
      else
        usage ();
    }
  const ModelClass *klass = model_registry_lookup (model);
  if (!klass || size < 25 || batch < 2 || samples < 1)
    usage ();
  engine_set_threads (0);

  g_autoptr (GError) error = NULL;
  g_autoptr (Dataset) data = dataset_open (spec, "test", NULL, &error);
  if (!data)
    {
      fprintf (stderr, "conv-accuracy: %s\n", error->message);
      return 1;
    }
  ResNetConfig config = klass->network_config (data->channels, size, size,
                                               128);
  ResNet *net = resnet_new (&config, batch);
  Rng rng;
  rng_seed (&rng, 5);
  resnet_init_parameters (net, &rng);
  if (checkpoint)
    {
      static const char *const allowed[] = { "trainer.", NULL };
      g_autoptr (SafetensorsFile) file = safetensors_file_load (checkpoint,
                                                                &error);
      if (!file || !checkpoint_restore (file, net, NULL, allowed, &error))
        {
          fprintf (stderr, "conv-accuracy: %s\n", error->message);
          return 1;
        }
    }

  /* the first `batch` test images through the preset's test transform */
  AugmentOptions augment;
  augment_options_init_for_dataset (&augment, data);
  augment.size = size;
  const size_t image_floats = (size_t) data->channels * size * size;
  float *images = g_new (float, image_floats * batch);
  guint8 *pixels = g_new (guint8, (size_t) data->channels * data->height
                                      * data->width);
  for (int i = 0; i < batch && i < data->n; i++)
    {
      if (!dataset_get_image (data, i, pixels, &error))
        {
          fprintf (stderr, "conv-accuracy: %s\n", error->message);
          return 1;
        }
      augment_test (&augment, pixels, data->channels, data->height,
                    data->width, images + i * image_floats);
    }

  conv2d_set_algo (CONV_ALGO_IM2COL);
  resnet_forward (net, images, batch, true);

  printf ("%s, %s, %d test images of %s at %dx%d; max |diff| / rms over "
          "%d sampled elements\n", model,
          checkpoint ? checkpoint : "PyTorch's initial weights", batch,
          data->name, size, size, samples);
  printf ("%-16s %9s %7s %9s %9s %9s %9s %9s %9s\n", "layer", "C->OC", "map",
          "fwd i2c", "fwd wino", "dinp i2c", "dinp wino", "dw i2c",
          "dw wino");
  double worst[2][3] = { { 0 } };
  measure_layer ("conv1", &net->conv1, &net->workspace, batch, samples, &rng,
                 worst);
  int b = 0;
  for (int s = 0; s < 4; s++)
    for (int i = 0; i < config.blocks_per_stage[s]; i++, b++)
      {
        ResidualBlock *block = &net->blocks[b];
        char name[48];
        if (conv2d_winograd_shape (&block->conv1))
          {
            g_snprintf (name, sizeof name, "layer%d.%d.conv1", s + 1, i);
            measure_layer (name, &block->conv1, &net->workspace, batch,
                           samples, &rng, worst);
          }
        g_snprintf (name, sizeof name, "layer%d.%d.conv2", s + 1, i);
        measure_layer (name, &block->conv2, &net->workspace, batch, samples,
                       &rng, worst);
      }
  printf ("%-16s %9s %7s %9.2g %9.2g %9.2g %9.2g %9.2g %9.2g\n", "worst", "",
          "", worst[0][0], worst[1][0], worst[0][1], worst[1][1], worst[0][2],
          worst[1][2]);
  g_free (images);
  g_free (pixels);
  resnet_free (net);
  return 0;
}

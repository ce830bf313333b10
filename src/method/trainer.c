/* trainer.c: the training step of instance discrimination. */
#define G_LOG_DOMAIN "instdisc-method"

#include "trainer.h"

#include <gio/gio.h>
#include <math.h>
#include <string.h>

#include "check.h"

struct _Trainer
{
  TrainerConfig config;
  const Dataset *data;
  ResNet *net;
  Sgd sgd;
  MemoryBank *bank;
  FullSoftmax *objective;
  Rng rng;
  float mean[4], std[4];

  int *order;          /* (N) this epoch's shuffled image order */
  int cursor;          /* next position in order */
  int epoch;
  gint64 iteration;

  float *images;       /* (B, C, H, W) preprocessed batch */
  int *indices;        /* (B) */
  float *d_embedding;  /* (B, D) */
};

void
trainer_config_init_default (TrainerConfig *config)
{
  *config = (TrainerConfig) {
    .model = MODEL_SMALL,
    .low_dim = 128,
    .tau = 0.1f,
    .bank_momentum = 0.5f,
    .lr = 0.03f,
    .momentum = 0.9f,
    .weight_decay = 5e-4f,
    .batch_size = 128,
    .seed = 1,
  };
}

static void
shuffle (int *order, int n, Rng *rng)
{
  for (int i = 0; i < n; i++)
    order[i] = i;
  /* Fisher-Yates */
  for (int i = n - 1; i > 0; i--)
    {
      int j = (int) rng_below (rng, (guint64) i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
}

Trainer *
trainer_new (const TrainerConfig *config, const Dataset *data, GError **error)
{
  g_autoptr (Trainer) self = g_new0 (Trainer, 1);
  self->config = *config;
  self->data = data;
  rng_seed (&self->rng, config->seed);

  ResNetConfig net_config
      = config->model == MODEL_RESNET18
            ? resnet_config_resnet18 (data->channels, data->height, data->width,
                                      config->low_dim)
            : resnet_config_small (data->channels, data->height, data->width,
                                   config->low_dim);
  char why[256];
  if (!resnet_config_validate (&net_config, why, sizeof why))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s: %s",
                   data->name, why);
      return NULL;
    }
  if (config->batch_size < 2 || config->batch_size > data->n)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "batch size %d must be between 2 and the %d images of %s",
                   config->batch_size, data->n, data->name);
      return NULL;
    }

  self->net = resnet_new (&net_config, config->batch_size);
  self->bank = self->net ? memory_bank_new (data->n, config->low_dim,
                                            config->bank_momentum, &self->rng)
                         : NULL;
  self->objective = full_softmax_new (config->batch_size, data->n, config->tau);
  gsize image_floats = (gsize) data->channels * data->height * data->width;
  self->images = engine_alloc (sizeof (float) * image_floats * config->batch_size);
  self->d_embedding = engine_alloc (sizeof (float) * config->low_dim
                                    * config->batch_size);
  if (!self->net || !self->bank || !self->objective || !self->images
      || !self->d_embedding
      || !sgd_init (&self->sgd, self->net->n_params, config->lr,
                    config->momentum, config->weight_decay))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   "not enough memory to train on %s with batch %d", data->name,
                   config->batch_size);
      return NULL;
    }
  resnet_init_parameters (self->net, &self->rng);

  if (data->channels == 1 && g_str_has_prefix (data->name, "fashion-mnist"))
    {
      /* the published Fashion-MNIST statistics (METHOD.md) */
      self->mean[0] = 0.2860f;
      self->std[0] = 0.3530f;
    }
  else
    dataset_channel_stats (data, self->mean, self->std);

  self->order = g_new (int, data->n);
  self->indices = g_new (int, config->batch_size);
  shuffle (self->order, data->n, &self->rng);
  return g_steal_pointer (&self);
}

void
trainer_free (Trainer *self)
{
  if (!self)
    return;
  resnet_free (self->net);
  sgd_clear (&self->sgd);
  memory_bank_free (self->bank);
  full_softmax_free (self->objective);
  engine_free (self->images);
  engine_free (self->d_embedding);
  g_free (self->order);
  g_free (self->indices);
  g_free (self);
}

int
trainer_steps_per_epoch (const Trainer *self)
{
  /* the last partial batch is dropped, so every step has a full batch */
  return self->data->n / self->config.batch_size;
}

ResNet *
trainer_get_network (Trainer *self)
{
  return self->net;
}

MemoryBank *
trainer_get_bank (Trainer *self)
{
  return self->bank;
}

/* pixels of image i -> normalised floats (C, H, W), flipped left-right
 * with probability 1/2 */
static void
preprocess (Trainer *self, float *out, int i)
{
  const Dataset *d = self->data;
  const int H = d->height, W = d->width;
  const guint8 *src = d->pixels + (gsize) i * d->channels * H * W;
  gboolean flip = rng_uniform (&self->rng) < 0.5f;
  for (int c = 0; c < d->channels; c++)
    {
      const float scale = 1.0f / (255.0f * self->std[c]);
      const float shift = self->mean[c] / self->std[c];
      for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
          {
            int sx = flip ? W - 1 - x : x;
            out[(c * H + y) * W + x]
                = src[(c * H + y) * W + sx] * scale - shift;
          }
    }
}

gboolean
trainer_step (Trainer *self, TrainerStepInfo *info, GError **error)
{
  const int B = self->config.batch_size;
  const Dataset *d = self->data;
  const gsize image_floats = (gsize) d->channels * d->height * d->width;

  if (self->cursor + B > d->n)
    {
      self->epoch++;
      self->cursor = 0;
      shuffle (self->order, d->n, &self->rng);
    }
  for (int b = 0; b < B; b++)
    {
      self->indices[b] = self->order[self->cursor + b];
      preprocess (self, self->images + b * image_floats, self->indices[b]);
    }
  self->cursor += B;

  const float *features = resnet_forward (self->net, self->images, B, TRUE);
  float loss = full_softmax_forward_backward (self->objective,
                                              self->d_embedding, features,
                                              self->indices, B, self->bank);
  if (!isfinite (loss))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "the loss became %f at iteration %" G_GINT64_FORMAT
                   " (epoch %d); training stopped", loss, self->iteration + 1,
                   self->epoch + 1);
      return FALSE;
    }
  resnet_backward (self->net, self->d_embedding, B, NULL);
  sgd_step (&self->sgd, self->net->params, self->net->grads);
  memory_bank_update (self->bank, self->indices, features, B);

  self->iteration++;
  info->iteration = self->iteration;
  info->epoch = self->epoch;
  info->epoch_progress = (double) self->cursor / (B * trainer_steps_per_epoch (self));
  info->loss = loss;
  info->lr = self->sgd.lr;
  return TRUE;
}

/* run-model.c: a run's learned embedding, read-only; see run-model.h. */
#define G_LOG_DOMAIN "instdisc-method"

#include "run-model.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "check.h"
#include "checkpoint.h"
#include "rng.h"

int
run_model_inference_batch (const TrainerConfig *config, const Dataset *data)
{
  /* the network only evaluates, holding four maps of its largest
   * activation per image (resnet_new_sized), which grow with the image's
   * area: 0.2 MB for the small ResNet at 28 pixels, about 13 MB for a
   * ResNet-18 at 224. Inference gains little from a large batch (batch
   * 256 instead of the run's 64 measured 1.0 to 1.2 times as fast in
   * `instdisc eval --recompute`, for 40 MB more; docs/performance.md): the
   * run's batch, but no more than as many images as 256 of 32 x 32 pixels */
  const int batch = MAX (config->batch_size, 1);
  const double area = (double) MAX (data->height, 1) * MAX (data->width, 1);
  const int fits = (int) MAX (1.0, floor (256.0 * 32 * 32 / area));
  return MIN (batch, fits);
}

/* every parameter and buffer of src into dst, of the same architecture */
static void
copy_state (ResNet *dst, const ResNet *src)
{
  g_assert (dst->n_state == src->n_state);
  for (int i = 0; i < src->n_state; i++)
    {
      gsize bytes = src->state[i].numel
                    * (src->state[i].dtype == DTYPE_F32 ? sizeof (float)
                                                        : sizeof (gint64));
      memcpy (dst->state[i].data, src->state[i].data, bytes);
    }
}

ResNet *
run_model_new_network (const RunModel *self, int max_batch)
{
  ResNet *net = resnet_new (&self->net->config, max_batch);
  if (!net)
    return NULL;
  copy_state (net, self->net);
  return net;
}

RunModel *
run_model_new (const TrainerConfig *config, const Dataset *data,
               GError **error)
{
  ResNetConfig net_config = trainer_network_config (config, data);
  char why[256];
  if (!resnet_config_validate (&net_config, why, sizeof why))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s: %s",
                   data->name, why);
      return NULL;
    }
  g_autoptr (RunModel) self = g_new0 (RunModel, 1);
  self->config = *config;
  self->data = data;
  self->net = resnet_new_sized (&net_config,
                                run_model_inference_batch (config, data), 0);
  /* the bank's start is overwritten by run_model_load */
  Rng rng;
  rng_seed (&rng, config->seed);
  self->bank = memory_bank_new (data->n, config->low_dim,
                                config->bank_momentum, &rng);
  if (!self->net || !self->bank)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   _("not enough memory for the network and the memory bank "
                     "of %s"), data->name);
      return NULL;
    }
  trainer_augment_options (config, data, &self->augment);
  return g_steal_pointer (&self);
}

void
run_model_free (RunModel *self)
{
  if (!self)
    return;
  if (!self->borrowed)
    {
      resnet_free (self->net);
      memory_bank_free (self->bank);
    }
  g_free (self);
}

gboolean
run_model_load (RunModel *self, const char *path, GError **error)
{
  /* the optimizer's tensors are allowed by checkpoint_restore when no
   * optimizer is asked for; the trainer's and the objectives' are
   * under "trainer." */
  static const char *const allowed[] = { "trainer.", NULL };
  g_autoptr (SafetensorsFile) file = safetensors_file_load (path, error);
  if (!file)
    return FALSE;
  gint64 bank_shape[2] = { self->bank->n, self->bank->dim };
  const SafetensorsTensor *bank
      = checkpoint_expect_tensor (file, "memory.bank", DTYPE_F32, 2,
                                  bank_shape, error);
  if (!bank || !trainer_checkpoint_matches (file, &self->config, error)
      || !checkpoint_restore (file, self->net, NULL, allowed, error))
    return FALSE;
  memcpy (self->bank->vectors, bank->data, sizeof (float) * bank->numel);
  const char *iteration = safetensors_file_get_metadata (file, "iteration");
  self->iteration = iteration ? g_ascii_strtoll (iteration, NULL, 10) : 0;
  return TRUE;
}

void
run_model_copy_network (RunModel *self, const ResNet *net)
{
  copy_state (self->net, net);
}

gboolean
run_model_embed (const RunModel *self, const Dataset *data, float *features,
                 GError **error)
{
  return run_model_embed_with_hook (self, data, features,
                                    self->between_batches,
                                    self->between_batches_data, error);
}

gboolean
run_model_embed_with_hook (const RunModel *self, const Dataset *data,
                           float *features, RunModelBatchHook between_batches,
                           gpointer hook_data, GError **error)
{
  return run_model_embed_rows (self, data, 0, data->n, features,
                               between_batches, hook_data, error);
}

gboolean
run_model_embed_shared (const RunModel *self, const Dataset *data,
                        float *features, GError **error)
{
  Distributed *dist = self->dist;
  if (distributed_is_single (dist))
    return run_model_embed (self, data, features, error);
  const int D = self->config.low_dim;
  g_autofree size_t *counts = g_new (size_t, dist->size);
  size_t first, count;
  for (int r = 0; r < dist->size; r++)
    distributed_share (data->n, r, dist->size, &first, &counts[r]);
  distributed_share (data->n, dist->rank, dist->size, &first, &count);
  float *mine = features + first * D;
  gboolean embedded = run_model_embed_rows (self, data, (int) first,
                                            (int) count, mine,
                                            self->between_batches,
                                            self->between_batches_data,
                                            error);
  if (!distributed_agree (dist, embedded, error))
    return FALSE;
  distributed_gather (dist, mine, features, counts, sizeof (float) * D,
                      DISTRIBUTED_TIME_OTHER);
  /* a row another rank could not read is NaN here too: marked on every
   * rank, so that all leave out the same images */
  for (int i = 0; i < data->n; i++)
    if (isnan (features[(gsize) i * D]) && dataset_row_is_ok (data, i))
      dataset_mark_unreadable (data, i);
  return TRUE;
}

gboolean
run_model_embed_rows (const RunModel *self, const Dataset *data, int first,
                      int n_rows, float *features,
                      RunModelBatchHook between_batches, gpointer hook_data,
                      GError **error)
{
  const Dataset *train = self->data;
  if (data->channels != train->channels || data->height != train->height
      || data->width != train->width)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("%s has %dx%dx%d images, the network was trained on "
                     "%dx%dx%d"),
                   data->name, data->channels, data->height, data->width,
                   train->channels, train->height, train->width);
      return FALSE;
    }
  const int B = self->net->max_batch;
  const int D = self->config.low_dim;
  const gsize image_bytes = (gsize) data->channels * data->height
                            * data->width;
  g_autofree guint8 *pixels = g_malloc (image_bytes);
  float *images = engine_alloc (sizeof (float) * image_bytes * B);
  if (!images)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   _("not enough memory to embed %s"), data->name);
      return FALSE;
    }
  g_autofree gboolean *gap = g_new (gboolean, B);
  gboolean ok = TRUE;
  g_return_val_if_fail (first >= 0 && n_rows >= 0
                        && first + n_rows <= data->n, FALSE);
  /* start counts from the first row asked for; features from 0 */
  for (int start = 0; ok && start < n_rows; start += B)
    {
      if (between_batches && between_batches (hook_data, start, n_rows))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                       _("embedding %s: stopped at image %d of %d"),
                       data->name, start, n_rows);
          ok = FALSE;
          break;
        }
      int count = MIN (B, n_rows - start);
      for (int b = 0; ok && b < count; b++)
        {
          const int i = first + start + b;
          g_autoptr (GError) why = NULL;
          gap[b] = !dataset_row_is_ok (data, i);
          if (!gap[b] && !dataset_get_image (data, i, pixels, &why))
            {
              /* a file: left out from now on; in memory: a real error */
              gap[b] = data->row_status != NULL;
              dataset_mark_unreadable (data, i);
              if (!gap[b])
                {
                  g_propagate_error (error, g_steal_pointer (&why));
                  ok = FALSE;
                  break;
                }
            }
          /* a gap's slot is zeros: the network sees an image, its row is
           * overwritten below */
          if (gap[b])
            memset (images + b * image_bytes, 0, sizeof (float) * image_bytes);
          else
            augment_test (&self->augment, pixels, data->channels,
                          data->height, data->width,
                          images + b * image_bytes);
        }
      if (!ok)
        break;
      const float *out = resnet_forward (self->net, images, count, FALSE);
      memcpy (features + (gsize) start * D, out, sizeof (float) * count * D);
      for (int b = 0; b < count; b++)
        if (gap[b])
          for (int d = 0; d < D; d++)
            features[(gsize) (start + b) * D + d] = NAN;
    }
  engine_free (images);
  return ok;
}

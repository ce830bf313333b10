/* trainer.c: the training step of instance discrimination, its
 * checkpoints and test-transform embedding; the settings it follows and
 * their schedule are trainer-config.c's. */
#define G_LOG_DOMAIN "instdisc-method"

#include "trainer.h"

#include <inttypes.h>
#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "augment.h"
#include "check.h"
#include "checkpoint.h"
#include "loader.h"
#include "run-model.h"
#include "trainer-private.h"

#define GROUP TRAINER_CONFIG_GROUP

/* ---- construction ---- */

ResNetConfig
trainer_network_config (const TrainerConfig *config, const Dataset *data)
{
  return config->model->network_config (data->channels, data->height,
                                        data->width, config->low_dim);
}

void
trainer_augment_options (const TrainerConfig *config, const Dataset *data,
                         AugmentOptions *augment)
{
  augment_options_init_for_dataset (augment, data);
  augment->size = data->height;
  augment->scale_min = config->crop_scale_min;
  augment->scale_max = config->crop_scale_max;
  float *jitter_steps[] = { &augment->brightness, &augment->contrast,
                            &augment->saturation, &augment->hue };
  for (gsize i = 0; i < G_N_ELEMENTS (jitter_steps); i++)
    if (*jitter_steps[i] > 0.0f)   /* the steps the preset uses */
      *jitter_steps[i] = config->jitter;
  /* a hue shift of up to half a turn either way already reaches every
   * hue; beyond it the shifts would wrap and favour some (torchvision's
   * ColorJitter refuses a hue above 0.5) */
  if (augment->hue > 0.5f)
    augment->hue = 0.5f;
}

Trainer *
trainer_new (const TrainerConfig *config, const Dataset *data, GError **error)
{
  return trainer_new_distributed (config, data, distributed_single (), error);
}

Trainer *
trainer_new_distributed (const TrainerConfig *config, const Dataset *data,
                         Distributed *dist, GError **error)
{
  /* the rules are trainer-check.c's */
  if (!trainer_config_check (config, data, error))
    return NULL;
  const int B = config->batch_size, P = dist->size;
  if (B % P != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("a batch of %d images cannot be split evenly over %d "
                     "ranks: the batch size must be a multiple of %d"),
                   B, P, P);
      return NULL;
    }
  /* this rank's share of each batch: b images (distributed.h) */
  const int b = B / P;

  g_autoptr (Trainer) self = g_new0 (Trainer, 1);
  self->config = *config;
  self->data = data;
  self->dist = dist;
  self->share_first = dist->rank * b;
  self->share_size = b;
  Rng init;
  derive_rng (&init, config->seed, STREAM_INIT, 0, 0);

  ResNetConfig net_config = trainer_network_config (config, data);
  const int D = config->low_dim;
  self->net = resnet_new (&net_config, b);
  self->bank = self->net ? memory_bank_new (data->n, D,
                                            config->bank_momentum, &init)
                         : NULL;
  self->objective = objective_new (config->objective, config, b, data->n);
  gsize image_floats = (gsize) data->channels * data->height * data->width;
  self->images = engine_alloc (sizeof (float) * image_floats * b);
  self->d_embedding = engine_alloc (sizeof (float) * D * b);
  self->buffers_before = self->net ? g_try_malloc (resnet_buffers_size (self->net))
                                   : NULL;
  gboolean shared_ok = TRUE;
  if (P > 1)
    {
      self->batch_indices = g_try_new (int, B);
      self->batch_features = engine_alloc (sizeof (float) * D * B);
      self->packed = engine_alloc (sizeof (float) * (1 + D) * B);
      shared_ok = self->batch_indices && self->batch_features && self->packed;
    }
  if (!self->net || !self->bank || !self->objective
      || !self->images || !self->d_embedding || !self->buffers_before
      || !shared_ok
      || !sgd_init (&self->sgd, self->net->n_params, config->lr,
                    config->momentum, config->weight_decay))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   _("not enough memory to train on %s with batch %d"),
                   data->name,
                   B);
      return NULL;
    }
  if (P > 1)
    {
      if (!objective_set_share (self->objective, dist, self->share_first, B))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                       _("the objective %s cannot be split over several "
                         "ranks"), config->objective->name);
          return NULL;
        }
      /* the gradient is summed over the ranks bucket by bucket while
       * backward still runs */
      resnet_set_gradient_hook (self->net, distributed_gradient_hook, dist);
    }
  resnet_init_parameters (self->net, &init);

  trainer_augment_options (config, data, &self->augment);
  self->model = (RunModel) {
    .config = *config,
    .data = data,
    .net = self->net,
    .augment = self->augment,
    .bank = self->bank,
    .dist = dist,
    .borrowed = TRUE,
  };
  self->n_workers = 1;
  self->indices = g_new (int, b);
  return g_steal_pointer (&self);
}

gboolean
trainer_set_batch_norm_groups (Trainer *self, int groups)
{
  g_return_val_if_fail (groups >= 1 && self->share_size % groups == 0,
                        FALSE);
  return resnet_set_batch_norm_groups (self->net, groups);
}

Distributed *
trainer_get_distributed (Trainer *self)
{
  return self->dist;
}

void
trainer_free (Trainer *self)
{
  if (!self)
    return;
  loader_free (self->loader);
  resnet_free (self->net);
  sgd_clear (&self->sgd);
  memory_bank_free (self->bank);
  objective_free (self->objective);
  engine_free (self->images);
  engine_free (self->d_embedding);
  g_free (self->buffers_before);
  g_free (self->load_note);
  g_free (self->indices);
  g_free (self->batch_indices);
  engine_free (self->batch_features);
  engine_free (self->packed);
  g_free (self);
}

int
trainer_steps_per_epoch (const Trainer *self)
{
  return trainer_config_steps_per_epoch (&self->config, self->data->n);
}

int
trainer_config_steps_per_epoch (const TrainerConfig *config, int n_images)
{
  /* the last partial batch is dropped, so every step has a full batch */
  return n_images / MAX (config->batch_size, 1);
}

gint64
trainer_get_iteration (const Trainer *self)
{
  return self->iteration;
}

const TrainerConfig *
trainer_get_config (const Trainer *self)
{
  return &self->config;
}

ResNet *
trainer_get_network (Trainer *self)
{
  return self->net;
}

const AugmentOptions *
trainer_get_augment (const Trainer *self)
{
  return &self->augment;
}

MemoryBank *
trainer_get_bank (Trainer *self)
{
  return self->bank;
}

/* ---- the step ---- */

void
trainer_set_workers (Trainer *self, int n_workers)
{
  self->n_workers = MAX (n_workers, 0);
}

/* One try at this rank's share of the step's batch from the loader,
 * started where the run stands when it is not running yet (a new run, or
 * one just restored from a checkpoint). FALSE with an error when an image
 * could not be read (*unreadable: its row; the loader is dropped, as it
 * has moved past the batch) or the loader could not start (-1). */
static gboolean
take_batch (Trainer *self, int epoch, int step_in_epoch, int *unreadable,
            GError **error)
{
  *unreadable = -1;
  for (;;)
    {
      if (!self->loader)
        {
          LoaderOptions options;
          loader_options_init_default (&options);
          options.batch_size = self->config.batch_size;
          options.n_workers = self->n_workers;
          options.seed = self->config.seed;
          if (!distributed_is_single (self->dist))
            {
              /* the rank's slice of the same global batch */
              options.slice_first = self->share_first;
              options.slice_size = self->share_size;
            }
          self->loader = loader_new (self->data, &self->augment, &options,
                                     epoch, step_in_epoch, error);
          if (!self->loader)
            return FALSE;
        }
      LoaderBatchInfo info;
      if (!loader_next (self->loader, self->images, self->indices, &info,
                        error))
        {
          g_clear_pointer (&self->loader, loader_free);
          *unreadable = info.unreadable;
          return FALSE;
        }
      if (info.epoch != epoch || info.step != step_in_epoch)
        {
          /* the loader ran ahead of the counter (a step that gave up after
           * its batch was taken): start it again where the counter is */
          g_clear_pointer (&self->loader, loader_free);
          continue;
        }
      ENGINE_CHECK (info.n == self->share_size);
      return TRUE;
    }
}

/* The step's batch (this rank's share of it). An image that cannot be read
 * is marked in the data set (so it is not read again, and the run's
 * files.txt can say so) and the loader starts again at this batch without
 * it: the batches are then those a run resumed here with the row already
 * marked makes (loader.h). On several ranks every rank marks every such
 * row and starts again, so that all keep taking slices of one order. */
static gboolean
fill_batch (Trainer *self, int epoch, int step_in_epoch, GError **error)
{
  for (;;)
    {
      int unreadable;
      g_autoptr (GError) read_error = NULL;
      gboolean filled = take_batch (self, epoch, step_in_epoch, &unreadable,
                                    &read_error);
      if (!distributed_is_single (self->dist))
        {
          gboolean retry;
          if (!trainer_share_batch_outcome (self, filled, unreadable, &retry,
                                            &read_error))
            {
              g_propagate_error (error, g_steal_pointer (&read_error));
              return FALSE;
            }
          if (retry)
            continue;
          return TRUE;
        }
      if (filled)
        return TRUE;
      /* without the row when it is a file that can be left out: marked
       * now, or by an evaluation since this loader started (each turn
       * leaves out one more row, so this ends) */
      if (unreadable >= 0
          && (dataset_mark_unreadable (self->data, unreadable)
              || !dataset_row_is_ok (self->data, unreadable)))
        continue;
      g_propagate_error (error, g_steal_pointer (&read_error));
      return FALSE;
    }
}

/* Bank rows whose image could not be embedded (NaN) start from a random
 * vector of the row's own stream instead, as the bank's rows start before
 * the features replace them: finite, and the same whenever it is made. */
static void
fill_bank_gaps (Trainer *self)
{
  MemoryBank *bank = self->bank;
  const float s = 1.0f / sqrtf (bank->dim / 3.0f);
  for (int i = 0; i < bank->n; i++)
    {
      float *row = bank->vectors + (gsize) i * bank->dim;
      if (!isnan (row[0]))
        continue;
      Rng rng;
      derive_rng (&rng, self->config.seed, STREAM_BANK_ROW, (guint64) i, 0);
      for (int d = 0; d < bank->dim; d++)
        row[d] = (2.0f * rng_uniform (&rng) - 1.0f) * s;
    }
}

gboolean
trainer_bank_is_ready (const Trainer *self)
{
  return self->config.bank_init != BANK_INIT_FEATURES
         || self->bank_from_features;
}

gboolean
trainer_prepare (Trainer *self, GError **error)
{
  if (self->iteration == 0 && self->config.bank_init == BANK_INIT_FEATURES
      && !self->bank_from_features)
    {
      /* the untrained network's features are a far better start than noise:
       * the first epoch then discriminates between real embeddings instead
       * of pulling every image towards a random target */
      if (!run_model_embed_shared (trainer_get_model (self), self->data,
                                   self->bank->vectors, error))
        return FALSE;
      fill_bank_gaps (self);
      self->bank_from_features = TRUE;
    }
  return TRUE;
}

static gboolean
floats_finite (const float *values, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!isfinite (values[i]))
      return FALSE;
  return TRUE;
}

gboolean
trainer_step (Trainer *self, TrainerStepInfo *info, GError **error)
{
  const int B = self->config.batch_size;   /* over every rank */
  const int b = self->share_size;          /* this rank's share */
  const int D = self->bank->dim;
  const int steps = trainer_steps_per_epoch (self);
  const int epoch = (int) (self->iteration / steps);
  const int step_in_epoch = (int) (self->iteration % steps);
  const gboolean single = distributed_is_single (self->dist);

  if (!trainer_prepare (self, error))
    return FALSE;
  if (!fill_batch (self, epoch, step_in_epoch, error))
    return FALSE;

  memset (info, 0, sizeof *info);
  /* the training forward moves the BN running statistics; a refused step
   * puts them back, so that it changes nothing at all */
  resnet_save_buffers (self->net, self->buffers_before);
  const float *features = resnet_forward (self->net, self->images, b, TRUE);
  Rng draws;
  derive_rng (&draws, self->config.seed, STREAM_OBJECTIVE, self->iteration, 0);
  /* the whole batch's loss on every rank (the objective sums its share's
   * part over the ranks), this share's rows of the gradient */
  float loss = objective_forward_backward (self->objective, self->d_embedding,
                                           features, self->indices, b,
                                           self->bank, &draws, info->metrics);
  /* the proximal term is a mean over the whole batch too, and whether any
   * rank's embeddings overflowed is known to every rank with it */
  float proximal = 0.0f;
  if (self->config.proximal > 0.0f)
    proximal = memory_bank_proximal (self->bank, self->d_embedding, features,
                                     self->indices, b,
                                     single ? self->config.proximal
                                            : self->config.proximal
                                                  / self->dist->size);
  gboolean features_finite = floats_finite (features, (size_t) b * D);
  if (!single)
    {
      double sums[2] = { proximal, !features_finite };
      distributed_sum_doubles (self->dist, sums, 2);
      proximal = (float) sums[0];
      features_finite = sums[1] == 0.0;
    }
  if (self->config.proximal > 0.0f)
    loss += proximal;
  if (!isfinite (loss))
    {
      /* the batch is taken but the counter stays: fill_batch restarts
       * the loader at this batch on the next step */
      resnet_restore_buffers (self->net, self->buffers_before);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("the loss became %f at iteration %" PRId64
                     " (epoch %d); training stopped before applying that "
                     "step"),
                   loss, self->iteration + 1, epoch + 1);
      return FALSE;
    }
  /* on several ranks the gradient comes out summed over them: their
   * shares' parts of the whole batch's */
  distributed_gradient_begin (self->dist, self->net->grads,
                              self->net->n_params);
  resnet_backward (self->net, self->d_embedding, b, NULL);
  distributed_gradient_end (self->dist);
  /* a finite loss can still come with an overflowed gradient or feature;
   * applying either would put NaN into the weights or the bank, and every
   * later step and checkpoint would carry it */
  const char *bad = !floats_finite (self->net->grads, self->net->n_params)
                        ? _("the gradient")
                    : !features_finite ? _("the embeddings")
                                       : NULL;
  if (bad)
    {
      resnet_restore_buffers (self->net, self->buffers_before);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("%s held a value that is not a finite number at "
                     "iteration %" PRId64 " (epoch %d); training stopped "
                     "before applying that step"),
                   bad, self->iteration + 1, epoch + 1);
      return FALSE;
    }
  self->sgd.lr = trainer_config_lr_at (&self->config, self->iteration, steps);
  sgd_step (&self->sgd, self->net->params, self->net->grads);
  if (single)
    memory_bank_update (self->bank, self->indices, features, B);
  else
    trainer_share_bank_update (self, features);

  self->iteration++;
  info->iteration = self->iteration;
  info->epoch = epoch;
  info->step_in_epoch = step_in_epoch + 1;
  info->loss = loss;
  info->lr = self->sgd.lr;
  return TRUE;
}

/* ---- checkpoints ---- */

gboolean
trainer_save_checkpoint (Trainer *self, const char *path,
                         GHashTable *extra_metadata, GError **error)
{
  /* what the file holds is every rank's state */
  trainer_sync_replicas (self);
  gint64 state[STATE_LENGTH] = {
    [STATE_ITERATION] = self->iteration,
    [STATE_SEED] = (gint64) self->config.seed,
    [STATE_N_IMAGES] = self->data->n,
  };
  g_autoptr (GArray) extra = g_array_new (FALSE, TRUE,
                                          sizeof (SafetensorsTensor));
  SafetensorsTensor ours[] = {
    { .name = "memory.bank", .dtype = DTYPE_F32, .ndim = 2,
      .shape = { self->bank->n, self->bank->dim },
      .numel = (gsize) self->bank->n * self->bank->dim,
      .data = self->bank->vectors },
    { .name = "trainer.state", .dtype = DTYPE_I64, .ndim = 1,
      .shape = { STATE_LENGTH }, .numel = STATE_LENGTH, .data = state },
  };
  g_array_append_vals (extra, ours, G_N_ELEMENTS (ours));

  g_autoptr (GHashTable) metadata = g_hash_table_new_full (g_str_hash,
                                                           g_str_equal, g_free,
                                                           g_free);
  if (extra_metadata)
    {
      GHashTableIter iter;
      gpointer key, value;
      g_hash_table_iter_init (&iter, extra_metadata);
      while (g_hash_table_iter_next (&iter, &key, &value))
        g_hash_table_insert (metadata, g_strdup (key), g_strdup (value));
    }
  g_autoptr (GKeyFile) config = g_key_file_new ();
  trainer_config_to_keyfile (&self->config, config);
  g_hash_table_insert (metadata, g_strdup ("config"),
                       g_key_file_to_data (config, NULL, NULL));
  g_hash_table_insert (metadata, g_strdup ("iteration"),
                       g_strdup_printf ("%" G_GINT64_FORMAT, self->iteration));
  g_hash_table_insert (metadata, g_strdup ("epoch"),
                       g_strdup_printf ("%" G_GINT64_FORMAT,
                                        self->iteration
                                            / trainer_steps_per_epoch (self)));
  /* after the trainer's own: NCE's Z (trainer.nce_z) then comes where it
   * always did */
  objective_save_state (self->objective, extra, metadata);
  /* on several ranks rank 0 writes the one checkpoint, the same file one
   * process writes, and every rank learns whether it could */
  gboolean saved = self->dist->rank != 0
                   || checkpoint_save (path, self->net, &self->sgd,
                                       (const SafetensorsTensor *) extra->data,
                                       extra->len, metadata, error);
  return distributed_agree (self->dist, saved, error);
}

gboolean
trainer_checkpoint_matches (const SafetensorsFile *file,
                            const TrainerConfig *config, GError **error)
{
  const char *text = safetensors_file_get_metadata (file, "config");
  if (!text)
    return TRUE;   /* a plain state_dict, or a file from before the key */
  g_autoptr (GKeyFile) keyfile = g_key_file_new ();
  TrainerConfig saved;
  g_autoptr (GError) unreadable = NULL;
  if (!g_key_file_load_from_data (keyfile, text, -1, G_KEY_FILE_NONE,
                                  &unreadable)
      || !trainer_config_from_keyfile (&saved, keyfile, &unreadable))
    return TRUE;   /* what cannot be read cannot contradict */
  const char *what = NULL;
  g_autofree char *was = NULL, *is = NULL;
  if (saved.model != config->model)
    {
      what = "model";
      was = g_strdup (saved.model->name);
      is = g_strdup (config->model->name);
    }
  else if (saved.objective != config->objective)
    {
      what = "objective";
      was = g_strdup (saved.objective->name);
      is = g_strdup (config->objective->name);
    }
  else if (saved.low_dim != config->low_dim)
    {
      what = "low_dim";
      was = g_strdup_printf ("%d", saved.low_dim);
      is = g_strdup_printf ("%d", config->low_dim);
    }
  if (!what)
    return TRUE;
  g_autofree char *display
      = g_filename_display_name (safetensors_file_get_path (file));
  g_set_error (error, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_MISMATCH,
               _("%s was trained with %s=%s, but the run's config.ini says "
                 "%s=%s"),
               display, what, was, what, is);
  return FALSE;
}

/* A keyfile value as a person reads it: a float setting written as the
 * double nearest its float (0.10000000149011612) shows as 0.1. */
static char *
setting_for_display (const char *value)
{
  if (!value)
    return g_strdup ("");
  char *end;
  double number = g_ascii_strtod (value, &end);
  if (*value && *end == '\0' && strchr (value, '.'))
    {
      char text[G_ASCII_DTOSTR_BUF_SIZE];
      return g_strdup (g_ascii_formatd (text, sizeof text, "%.7g", number));
    }
  return g_strdup (value);
}

char *
trainer_checkpoint_differences (const SafetensorsFile *file,
                                const TrainerConfig *config)
{
  const char *text = safetensors_file_get_metadata (file, "config");
  g_autoptr (GKeyFile) saved_file = g_key_file_new ();
  TrainerConfig saved;
  if (!text
      || !g_key_file_load_from_data (saved_file, text, -1, G_KEY_FILE_NONE,
                                     NULL)
      || !trainer_config_from_keyfile (&saved, saved_file, NULL))
    return NULL;
  /* both written by this version, so a value reads the same in both
   * exactly when it is the same */
  g_autoptr (GKeyFile) was = g_key_file_new ();
  g_autoptr (GKeyFile) is = g_key_file_new ();
  trainer_config_to_keyfile (&saved, was);
  trainer_config_to_keyfile (config, is);
  g_auto (GStrv) keys = g_key_file_get_keys (is, GROUP, NULL, NULL);
  g_autoptr (GString) before = g_string_new (NULL);
  g_autoptr (GString) now = g_string_new (NULL);
  for (int i = 0; keys && keys[i]; i++)
    {
      /* a resumed run may be given more epochs */
      if (g_str_equal (keys[i], "epochs"))
        continue;
      g_autofree char *a = g_key_file_get_value (was, GROUP, keys[i], NULL);
      g_autofree char *b = g_key_file_get_value (is, GROUP, keys[i], NULL);
      if (g_strcmp0 (a, b) == 0)
        continue;
      g_autofree char *a_shown = setting_for_display (a);
      g_autofree char *b_shown = setting_for_display (b);
      g_string_append_printf (before, "%s%s=%s", before->len ? ", " : "",
                              keys[i], a_shown);
      g_string_append_printf (now, "%s%s=%s", now->len ? ", " : "", keys[i],
                              b_shown);
    }
  if (before->len == 0)
    return NULL;
  g_autofree char *display
      = g_filename_display_name (safetensors_file_get_path (file));
  return g_strdup_printf (_("%s was trained with %s; config.ini says %s, "
                            "which the run continues with"),
                          display, before->str, now->str);
}

const char *
trainer_get_load_note (const Trainer *self)
{
  return self->load_note;
}

gboolean
trainer_load_checkpoint (Trainer *self, const char *path, GError **error)
{
  /* A bad file leaves self untouched: the extras are checked first (the
   * objective's by check_state), and checkpoint_restore copies only when
   * everything checks out. The file is read once (the bank of a large
   * data set is hundreds of MB). "trainer." also covers the objectives'
   * tensors (objective.h), and a softmax run's "trainer.nce_z" of [-1, -1]
   * from before the objectives kept their own state. */
  static const char *const allowed[] = { "trainer.", NULL };
  g_autoptr (SafetensorsFile) file = safetensors_file_load (path, error);
  if (!file)
    return FALSE;
  gint64 bank_shape[2] = { self->bank->n, self->bank->dim };
  gint64 state_shape[1] = { STATE_LENGTH };
  const SafetensorsTensor *bank, *state;
  if (!(bank = checkpoint_expect_tensor (file, "memory.bank", DTYPE_F32, 2,
                                         bank_shape, error))
      || !(state = checkpoint_expect_tensor (file, "trainer.state", DTYPE_I64,
                                             1, state_shape, error))
      || !objective_check_state (self->objective, file, error)
      || !trainer_checkpoint_matches (file, &self->config, error))
    return FALSE;
  const gint64 *s = state->data;
  if (s[STATE_N_IMAGES] != self->data->n || s[STATE_ITERATION] < 0)
    {
      g_autofree char *display = g_filename_display_name (path);
      g_set_error (error, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_MISMATCH,
                   _("%s: the checkpoint was trained on %" PRId64
                     " images, this data set has %d"), display,
                   s[STATE_N_IMAGES], self->data->n);
      return FALSE;
    }

  if (!checkpoint_restore (file, self->net, &self->sgd, allowed, error))
    return FALSE;
  memcpy (self->bank->vectors, bank->data, sizeof (float) * bank->numel);
  self->iteration = s[STATE_ITERATION];
  g_free (self->load_note);
  self->load_note = trainer_checkpoint_differences (file, &self->config);
  /* the bank is the saved one, at iteration 0 too (a run saved before its
   * first step): it is not filled again */
  self->bank_from_features = TRUE;
  /* the next step starts a loader at the restored position */
  g_clear_pointer (&self->loader, loader_free);
  objective_load_state (self->objective, file);
  return TRUE;
}

/* ---- embedding with the test transform ---- */

void
trainer_set_batch_hook (Trainer *self,
                        gboolean (*between_batches) (gpointer data, int done,
                                                     int total),
                        gpointer data)
{
  self->model.between_batches = between_batches;
  self->model.between_batches_data = data;
}

RunModel *
trainer_get_model (Trainer *self)
{
  self->model.iteration = self->iteration;
  return &self->model;
}

gboolean
trainer_embed (Trainer *self, const Dataset *data, float *features,
               GError **error)
{
  return run_model_embed (trainer_get_model (self), data, features, error);
}

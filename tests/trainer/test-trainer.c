/* test-trainer.c: the trainer's schedule, configuration, checkpoints and
 * resume equivalence, on a small generated data set. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "evaluate.h"
#include "run-dir.h"
#include "run-model.h"
#include "safetensors.h"
#include "test-data.h"
#include "testutil.h"
#include "trainer.h"
#include "trainer-run.h"
#include "training-estimate.h"
#include "training-pace.h"

/* objective: a name of the registry */
static TrainerConfig
small_config (const char *objective)
{
  TrainerConfig c;
  trainer_config_init_default (&c);
  c.batch_size = 8;
  c.epochs = 3;
  c.objective = objective_registry_lookup (objective);
  g_assert_nonnull (c.objective);
  c.nce_k = 16;
  c.low_dim = 16;
  c.schedule = SCHEDULE_STEP;
  c.lr_drops[0] = 1;   /* a drop inside the tested span */
  c.n_lr_drops = 1;
  c.seed = 7;
  return c;
}

static void
test_lr_schedule (void)
{
  TrainerConfig c;
  trainer_config_init_reference (&c);
  /* the reference: lr * 0.1^((epoch - 80) // 40) from epoch 80 on */
  for (int epoch = 0; epoch < 200; epoch++)
    {
      double expected = c.lr * (epoch >= 80 ? pow (0.1, (epoch - 80) / 40) : 1.0);
      float lr = trainer_config_lr_at (&c, (gint64) epoch * 10 + 3, 10);
      g_assert_cmpfloat_with_epsilon (lr, expected, 1e-7);
    }
  c.schedule = SCHEDULE_COSINE;
  c.epochs = 4;
  g_assert_cmpfloat_with_epsilon (trainer_config_lr_at (&c, 0, 10), c.lr, 1e-9);
  g_assert_cmpfloat_with_epsilon (trainer_config_lr_at (&c, 20, 10),
                                  c.lr * 0.5, 1e-7);
  g_assert_cmpfloat_with_epsilon (trainer_config_lr_at (&c, 40, 10), 0.0, 1e-9);
}

static void
test_config_keyfile (void)
{
  TrainerConfig a = small_config ("nce"), b;
  a.model = model_registry_lookup ("resnet18");
  a.nce_z = NCE_Z_EMA;
  a.schedule = SCHEDULE_COSINE;
  a.tau = 0.07f;
  a.seed = G_GUINT64_CONSTANT (12345678901234);
  a.crop_scale_min = 0.35f;
  a.crop_scale_max = 0.9f;
  a.jitter = 0.25f;
  a.proximal = 30.0f;
  g_autoptr (GKeyFile) file = g_key_file_new ();
  trainer_config_to_keyfile (&a, file);
  trainer_config_init_default (&b);
  g_autoptr (GError) error = NULL;
  g_assert_true (trainer_config_from_keyfile (&b, file, &error));
  g_assert_no_error (error);
  g_assert_true (b.model == a.model);
  g_assert_true (b.objective == a.objective);
  g_assert_cmpint (b.nce_z, ==, a.nce_z);
  g_assert_cmpint (b.schedule, ==, a.schedule);
  g_assert_cmpint (b.nce_k, ==, a.nce_k);
  g_assert_cmpint (b.batch_size, ==, a.batch_size);
  g_assert_cmpint (b.n_lr_drops, ==, a.n_lr_drops);
  g_assert_cmpint (b.lr_drops[0], ==, a.lr_drops[0]);
  g_assert_cmpfloat (b.tau, ==, a.tau);
  g_assert_cmpuint (b.seed, ==, a.seed);
  g_assert_cmpfloat (b.crop_scale_min, ==, a.crop_scale_min);
  g_assert_cmpfloat (b.crop_scale_max, ==, a.crop_scale_max);
  g_assert_cmpfloat (b.jitter, ==, a.jitter);
  g_assert_cmpfloat (b.proximal, ==, a.proximal);

  /* a run written before a key existed used the reference's value,
   * whatever the default recipe is now: the augmentation, and the
   * schedule, length, warm-up and bank start where the default differs */
  TrainerConfig reference, defaults;
  trainer_config_init_reference (&reference);
  trainer_config_init_default (&defaults);
  g_assert_cmpint (defaults.schedule, !=, reference.schedule);
  g_assert_cmpint (defaults.epochs, !=, reference.epochs);
  g_assert_cmpint (defaults.bank_init, !=, reference.bank_init);
  g_assert_cmpfloat (defaults.lr, !=, reference.lr);
  g_assert_cmpint (defaults.warmup_epochs, !=, reference.warmup_epochs);
  g_assert_cmpint (defaults.batch_size, !=, reference.batch_size);
  g_assert_cmpfloat (defaults.jitter, !=, reference.jitter);
  for (const char *const *key = (const char *const[]) {
         "crop_scale_min", "crop_scale_max", "jitter", "proximal",
         "schedule", "epochs", "bank_init", "warmup_epochs", NULL };
       *key; key++)
    g_assert_true (g_key_file_remove_key (file, "training", *key, NULL));
  b = defaults;
  g_assert_true (trainer_config_from_keyfile (&b, file, &error));
  g_assert_cmpfloat (b.crop_scale_min, ==, reference.crop_scale_min);
  g_assert_cmpfloat (b.crop_scale_max, ==, reference.crop_scale_max);
  g_assert_cmpfloat (b.jitter, ==, reference.jitter);
  g_assert_cmpfloat (b.proximal, ==, 0.0f);
  g_assert_cmpint (b.schedule, ==, reference.schedule);
  g_assert_cmpint (b.epochs, ==, reference.epochs);
  g_assert_cmpint (b.bank_init, ==, reference.bank_init);
  g_assert_cmpint (b.warmup_epochs, ==, 0);
  /* the keys that are there win */
  g_assert_cmpint (b.batch_size, ==, a.batch_size);
  g_assert_cmpfloat (b.tau, ==, a.tau);

  /* lr_drops: empty means none; anything else must be whole numbers */
  const char *const drops[][2] = { { "", "0" }, { ";", "0" },
                                   { "3;7;", "2" }, { "x;y;", NULL },
                                   { "1;2;3;4;5;6;7;8;9", NULL } };
  for (gsize i = 0; i < G_N_ELEMENTS (drops); i++)
    {
      g_key_file_set_value (file, "training", "lr_drops", drops[i][0]);
      gboolean read = trainer_config_from_keyfile (&b, file, &error);
      if (drops[i][1])
        {
          g_assert_no_error (error);
          g_assert_cmpint (b.n_lr_drops, ==, atoi (drops[i][1]));
        }
      else
        {
          g_assert_false (read);
          g_assert_nonnull (error);
          g_clear_error (&error);
        }
    }

  /* a name no registry entry has: the message lists the known ones */
  g_key_file_set_string (file, "training", "objective", "contrastive");
  g_assert_false (trainer_config_from_keyfile (&b, file, &error));
  g_assert_nonnull (strstr (error->message, "contrastive"));
  g_assert_nonnull (strstr (error->message, "softmax, nce"));
  g_clear_error (&error);

  /* missing keys are the reference's, a missing group is an error */
  g_autoptr (GKeyFile) no_group = g_key_file_new ();
  g_key_file_set_string (no_group, "data", "spec", "fashion-mnist");
  g_assert_false (trainer_config_from_keyfile (&b, no_group, &error));
  g_assert_nonnull (strstr (error->message, "[training]"));
}

static void
test_rejects_bad_config (void)
{
  g_autoptr (Dataset) data = test_generated_dataset (40, 1);
  TrainerConfig c = small_config ("nce");
  g_autoptr (GError) error = NULL;
  c.nce_k = 40;   /* K must be below N */
  g_assert_null (trainer_new (&c, data, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  c = small_config ("softmax");
  c.batch_size = 41;
  g_assert_null (trainer_new (&c, data, &error));
  g_assert_nonnull (strstr (error->message, "batch size"));
  g_clear_error (&error);
  /* values no run can learn with, NaN and infinities among them */
  float *fields[] = { &c.tau, &c.lr, &c.weight_decay, &c.momentum,
                      &c.lr_drop_factor, &c.bank_momentum };
  const float bad[] = { NAN, INFINITY, 1e38f, -1.0f };
  for (gsize f = 0; f < G_N_ELEMENTS (fields); f++)
    for (gsize v = 0; v < G_N_ELEMENTS (bad); v++)
      {
        c = small_config ("softmax");   /* fields point into c */
        *fields[f] = bad[v];
        g_assert_null (trainer_new (&c, data, &error));
        g_assert_nonnull (error);
        g_clear_error (&error);
      }
}

/* The rules one setting at a time (trainer-check.c), as the New
 * Training dialog asks them: the message gives the bounds and the value,
 * the rule alone has the bounds, a setting that needs the data set's size
 * checks what it can without it, and trainer_new reports the same. */
static void
test_check_setting (void)
{
  g_autoptr (Dataset) data = test_generated_dataset (40, 1);
  const struct { const char *key; float *field; float bad; const char *says; }
      floats[] = {
    { "tau", NULL, 0.0f, "tau must be in (0, 10], not 0" },
    { "lr", NULL, 20.0f, "the learning rate must be in [0, 10], not 20" },
    { "weight_decay", NULL, -1.0f, "[0, 1], not -1" },
    { "momentum", NULL, 1.0f, "[0, 1), not 1" },
    { "bank_momentum", NULL, 1.0f, "[0, 1), not 1" },
    { "jitter", NULL, NAN, "[0, 1], not nan" },
    { "proximal", NULL, 2e6f, "[0, 1e6], not 2e+06" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (floats); i++)
    {
      TrainerConfig c = small_config ("softmax");
      float *fields[] = { &c.tau, &c.lr, &c.weight_decay, &c.momentum,
                          &c.bank_momentum, &c.jitter, &c.proximal };
      g_autoptr (GError) error = NULL;
      g_assert_true (trainer_config_check_setting (&c, floats[i].key, 0, NULL,
                                                   &error));
      *fields[i] = floats[i].bad;
      g_assert_false (trainer_config_check_setting (&c, floats[i].key, 0,
                                                    NULL, &error));
      g_assert_nonnull (strstr (error->message, floats[i].says));
      /* the rule alone is the message's start */
      g_autofree char *rule = trainer_config_describe_rule (&c, floats[i].key,
                                                           0, NULL);
      g_assert_true (g_str_has_prefix (error->message, rule));
      /* and trainer_new refuses the same */
      g_autoptr (GError) new_error = NULL;
      g_assert_null (trainer_new (&c, data, &new_error));
      g_assert_cmpstr (new_error->message, ==, error->message);
    }

  TrainerConfig c = small_config ("softmax");
  g_autoptr (GError) error = NULL;
  c.batch_size = 41;
  /* without the data set's size only the lower bound */
  g_assert_true (trainer_config_check_setting (&c, "batch_size", 0, NULL,
                                               &error));
  g_assert_false (trainer_config_check_setting (&c, "batch_size", 40,
                                                data->name, &error));
  g_assert_nonnull (strstr (error->message, "2 to the 40 images of"));
  g_clear_error (&error);
  c = small_config ("softmax");
  c.warmup_epochs = 4;
  g_assert_false (trainer_config_check_setting (&c, "warmup_epochs", 0, NULL,
                                                &error));
  g_assert_nonnull (strstr (error->message, "0 to 3 epochs, not 4"));
  g_clear_error (&error);
  c = small_config ("softmax");
  c.crop_scale_min = 0.8f;
  c.crop_scale_max = 0.5f;
  g_assert_false (trainer_config_check_setting (&c, "crop_scale_max", 0, NULL,
                                                &error));
  g_assert_nonnull (strstr (error->message, "not 0.8,0.5"));
  g_clear_error (&error);
  c = small_config ("softmax");
  c.lr_drops[0] = 3;
  c.lr_drops[1] = 2;
  c.n_lr_drops = 2;
  g_assert_false (trainer_config_check_setting (&c, "lr_drops", 0, NULL,
                                                &error));
  g_assert_nonnull (strstr (error->message, "not 3,2"));
  g_clear_error (&error);

  /* the objective's settings are its own check's, with or without N */
  c = small_config ("nce");
  c.nce_k = 40;
  g_assert_true (trainer_config_check_setting (&c, "nce_k", 0, NULL, &error));
  g_assert_false (trainer_config_check_setting (&c, "nce_k", 40, data->name,
                                                &error));
  g_clear_error (&error);
  c.nce_k = 0;
  g_assert_false (trainer_config_check_setting (&c, "nce_k", 0, NULL, &error));
  g_assert_null (trainer_config_describe_rule (&c, "nce_k", 0, NULL));
  g_clear_error (&error);
  /* a key without a rule passes */
  g_assert_true (trainer_config_check_setting (&c, "seed", 0, NULL, &error));

  /* the network's input */
  c = small_config ("softmax");
  g_assert_true (trainer_config_check_input (&c, 3, 32, 32, "x", &error));
  g_assert_false (trainer_config_check_input (&c, 3, 16, 16, "x", &error));
  g_assert_true (g_str_has_prefix (error->message, "x: "));
}

/* Train More Epochs and `train --resume --epochs N` write a run's new
 * length the same way: config.ini's epochs, the rest of the file kept; a
 * length the rules refuse changes nothing. */
static void
test_set_epochs (void)
{
  g_autoptr (Dataset) data = test_generated_dataset (40, 1);
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("instdisc-epochs-XXXXXX", &error);
  g_assert_no_error (error);
  TrainerConfig c = small_config ("nce");
  c.warmup_epochs = 2;
  g_autoptr (GKeyFile) keyfile = trainer_run_keyfile_new (&c, "toy", data, 32);
  g_assert_true (run_dir_save_config (dir, keyfile, &error));

  g_assert_true (trainer_run_set_epochs (dir, NULL, &c, 9, &error));
  g_assert_no_error (error);
  g_assert_cmpint (c.epochs, ==, 9);
  TrainerConfig read;
  g_autoptr (GKeyFile) written = trainer_run_load_config (dir, &read, &error);
  g_assert_no_error (error);
  g_assert_cmpint (read.epochs, ==, 9);
  g_assert_cmpint (read.nce_k, ==, c.nce_k);
  g_autofree char *spec = g_key_file_get_string (written, "data", "spec", NULL);
  g_assert_cmpstr (spec, ==, "toy");

  /* fewer epochs than the warm-up: refused, nothing written */
  g_assert_false (trainer_run_set_epochs (dir, NULL, &c, 1, &error));
  g_assert_nonnull (strstr (error->message, "warm-up"));
  g_clear_error (&error);
  g_assert_false (trainer_run_set_epochs (dir, written, &c, 0, &error));
  g_clear_error (&error);
  g_assert_cmpint (c.epochs, ==, 9);
  g_autoptr (GKeyFile) again = trainer_run_load_config (dir, &read, &error);
  g_assert_cmpint (read.epochs, ==, 9);
  g_autofree char *config = g_build_filename (dir, "config.ini", NULL);
  g_assert_cmpint (g_remove (config), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* The estimate grows with the epochs, the network and the images; a
 * resumed run's covers only what is left; people read it in words. */
static void
test_estimate (void)
{
  TrainerConfig c;
  trainer_config_init_default (&c);
  double fifteen = training_estimate_seconds (&c, 60000, 10000, 28, 0);
  g_assert_cmpfloat (fifteen, >, 60.0);
  c.epochs = 30;
  double thirty = training_estimate_seconds (&c, 60000, 10000, 28, 0);
  g_assert_cmpfloat (thirty, >, 1.8 * fifteen);
  g_assert_cmpfloat (thirty, <, 2.0 * fifteen);
  /* half done: about half left, without the bank's pass and the
   * reference points */
  double half = training_estimate_seconds (&c, 60000, 10000, 28,
                                           15 * (60000 / c.batch_size));
  g_assert_cmpfloat (half, <, fifteen);
  g_assert_cmpfloat (half, >, 0.9 * fifteen);
  g_assert_cmpfloat (training_estimate_seconds (&c, 60000, 10000, 28,
                                                30 * (60000 / c.batch_size)), <, 1.0);
  c.epochs = 15;
  g_assert_cmpfloat (training_estimate_seconds (&c, 60000, 10000, 56, 0), >,
                     3.5 * fifteen);
  c.model = model_registry_lookup ("resnet18");
  g_assert_cmpfloat (training_estimate_seconds (&c, 60000, 10000, 28, 0), >,
                     3.0 * fifteen);

  /* the whole is the steps and the evaluations its parts say; an
   * evaluation of recomputed features embeds the training set too */
  c.model = model_registry_lookup ("small");
  gint64 steps = (gint64) c.epochs * (60000 / c.batch_size);
  double step_s = training_estimate_step_seconds (&c, 60000, 28);
  double bank_only = training_estimate_evaluation_seconds (&c, 60000, 10000,
                                                           28, FALSE);
  double recomputed = training_estimate_evaluation_seconds (&c, 60000, 10000,
                                                            28, TRUE);
  g_assert_cmpfloat (recomputed, >, 3.0 * bank_only);
  /* a run cut to one epoch (--steps), evaluated on recomputed features:
   * its steps, one such evaluation, the bank's pass and the reference
   * points */
  double one_epoch = training_estimate_run_seconds (&c, 60000, 10000, 28, 0,
                                                    steps / c.epochs, TRUE);
  double start = training_estimate_seconds (&c, 60000, 10000, 28, 0)
                 - training_estimate_seconds (&c, 60000, 10000, 28, 1)
                 - step_s;
  g_assert_cmpfloat (fabs (one_epoch - (steps / c.epochs * step_s + recomputed
                                        + start)),
                     <, 1e-6 * fifteen);
  g_assert_cmpfloat (fabs (training_estimate_seconds (&c, 60000, 10000, 28, 1)
                           - ((steps - 1) * step_s + c.epochs * bank_only)),
                     <, 1e-6 * fifteen);

  const struct { double seconds; const char *says; } words[] = {
    { 20, "less than a minute" }, { 150, "about 3 minutes" },
    { 47 * 60, "about 45 minutes" }, { 100 * 60, "about 2 hours" },
    { 60 * 3600, "about 3 days" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (words); i++)
    {
      g_autofree char *text = training_estimate_describe (words[i].seconds);
      g_assert_cmpstr (text, ==, words[i].says);
    }
}

/* --jitter sets every jitter step the data's preset uses, the hue's at
 * most 0.5; grey images get no saturation and hue at all */
static void
test_jitter_steps (void)
{
  TrainerConfig c;
  trainer_config_init_default (&c);
  c.jitter = 0.8f;
  g_autoptr (Dataset) colour = dataset_new_in_memory ("colour", 4, 3, 32, 32);
  colour->kind = DATASET_KIND_CIFAR10;
  g_autoptr (Dataset) grey = dataset_new_in_memory ("grey", 4, 1, 28, 28);
  grey->kind = DATASET_KIND_FASHION_MNIST;
  AugmentOptions a;
  trainer_augment_options (&c, colour, &a);
  g_assert_cmpfloat (a.brightness, ==, 0.8f);
  g_assert_cmpfloat (a.contrast, ==, 0.8f);
  g_assert_cmpfloat (a.saturation, ==, 0.8f);
  g_assert_cmpfloat (a.hue, ==, 0.5f);
  c.jitter = 0.3f;
  trainer_augment_options (&c, colour, &a);
  g_assert_cmpfloat (a.hue, ==, 0.3f);
  trainer_augment_options (&c, grey, &a);
  g_assert_cmpfloat (a.brightness, ==, 0.3f);
  g_assert_cmpfloat (a.contrast, ==, 0.3f);
  g_assert_cmpfloat (a.saturation, ==, 0.0f);
  g_assert_cmpfloat (a.hue, ==, 0.0f);
}

/* The pace is the recent steps', not the run's average: after a slow
 * stretch and then a window's worth of fast steps it has forgotten the slow
 * ones; the time left adds the evaluations, guessed in steps until one is
 * timed, then as long as the last. */
static void
test_pace (void)
{
  TrainingPace pace;
  training_pace_init (&pace);
  g_assert_true (isnan (training_pace_images_per_second (&pace, 64)));
  g_assert_true (isnan (training_pace_seconds_left (&pace, 10, 1)));

  /* a busy minute: 0.5 s a step (128 images a second) */
  for (int i = 0; i < 120; i++)
    training_pace_add_step (&pace, 0.5);
  g_assert_cmpfloat_with_epsilon (training_pace_images_per_second (&pace, 64),
                                  128.0, 1e-9);
  /* then quiet: 0.1 s a step, for two minutes (six windows) */
  for (int i = 0; i < 1200; i++)
    training_pace_add_step (&pace, 0.1);
  double rate = training_pace_images_per_second (&pace, 64);
  /* the average since the start would say 64 x 1320 / 180 s = 469 */
  g_assert_cmpfloat (rate, >, 0.97 * 640.0);
  g_assert_cmpfloat (rate, <, 640.0);

  /* no evaluation timed and no guess: the steps alone */
  double steps_only = training_pace_seconds_left (&pace, 1000, 3);
  g_assert_cmpfloat_with_epsilon (steps_only, 1000 * 64 / rate, 1e-6);
  training_pace_guess_evaluation (&pace, 50);
  g_assert_cmpfloat_with_epsilon (training_pace_seconds_left (&pace, 1000, 3),
                                  1150 * 64 / rate, 1e-6);
  training_pace_add_evaluation (&pace, 30);
  g_assert_cmpfloat_with_epsilon (training_pace_seconds_left (&pace, 1000, 3),
                                  steps_only + 90, 1e-6);
  /* past the last step nothing is left */
  g_assert_cmpfloat (training_pace_seconds_left (&pace, 0, 0), ==, 0.0);

  /* long steps (ImageNet's) move it as fast in time: after 20 s of 5 s
   * steps, up from 0.1 s, it has come at least 1 - 1/e of the way */
  for (int i = 0; i < 4; i++)
    training_pace_add_step (&pace, 5.0);
  double step_s = 1.0 / training_pace_images_per_second (&pace, 1);
  g_assert_cmpfloat (step_s, >, 5.0 - 4.9 / G_E);
  g_assert_cmpfloat (step_s, <, 5.0);
}

/* Trains `steps` steps and records each loss. */
static void
run_steps (Trainer *trainer, int steps, float *losses)
{
  for (int i = 0; i < steps; i++)
    {
      TrainerStepInfo info;
      g_autoptr (GError) error = NULL;
      g_assert_true (trainer_step (trainer, &info, &error));
      g_assert_no_error (error);
      losses[i] = info.loss;
    }
}

/* Rewrites the checkpoint at path in place as instdisc wrote checkpoints
 * before objectives kept their own state (up to commit 9a66a94; docs/
 * file-formats.md): every run had the tensor trainer.nce_z, [-1, -1] for
 * the exact softmax. Without z_metadata, NCE's metadata copies of Z go
 * too, as in a file whose only Z is the float32 tensor. */
static void
rewrite_as_old_layout (const char *path, gboolean z_metadata)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SafetensorsFile) file = safetensors_file_load (path, &error);
  g_assert_no_error (error);
  g_autoptr (GArray) tensors = g_array_new (FALSE, TRUE,
                                            sizeof (SafetensorsTensor));
  for (guint i = 0; i < safetensors_file_get_n_tensors (file); i++)
    g_array_append_val (tensors, *safetensors_file_get_tensor (file, i));
  float no_z[2] = { -1.0f, -1.0f };
  if (!safetensors_file_lookup (file, "trainer.nce_z"))
    {
      SafetensorsTensor z = { .name = (char *) "trainer.nce_z",
                              .dtype = DTYPE_F32, .ndim = 1, .shape = { 2 },
                              .numel = 2, .data = no_z };
      g_array_append_val (tensors, z);
    }
  g_autoptr (GHashTable) metadata = g_hash_table_new (g_str_hash,
                                                      g_str_equal);
  GHashTableIter iter;
  gpointer key, value;
  g_hash_table_iter_init (&iter, safetensors_file_get_metadata_table (file));
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (z_metadata || !g_str_has_prefix (key, "nce_z"))
      g_hash_table_insert (metadata, key, value);
  g_assert_true (safetensors_save (path, (SafetensorsTensor *) tensors->data,
                                   tensors->len, metadata, &error));
  g_assert_no_error (error);
}

/* Train 12 steps straight; train 5, checkpoint, restore into a fresh
 * trainer, train 7: every loss, the weights and the bank must agree. The
 * 40 images at batch 8 make 5 steps an epoch, so the resume lands inside
 * the second epoch, after its shuffle and the learning-rate drop. With
 * old_layout, the checkpoint is rewritten as an earlier version wrote it
 * first. */
static void
check_resume_from (const char *objective, gboolean old_layout)
{
  g_autoptr (Dataset) data = test_generated_dataset (40, 2);
  TrainerConfig c = small_config (objective);
  g_autoptr (GError) error = NULL;
  enum { TOTAL = 12, FIRST = 7 };
  float straight[TOTAL], resumed[TOTAL];

  g_autoptr (Trainer) a = trainer_new (&c, data, &error);
  g_assert_no_error (error);
  run_steps (a, TOTAL, straight);

  g_autofree char *dir = g_dir_make_tmp ("instdisc-trainer-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *path = g_build_filename (dir, "checkpoint.safetensors", NULL);
  {
    g_autoptr (Trainer) b = trainer_new (&c, data, &error);
    run_steps (b, FIRST, resumed);
    g_assert_true (trainer_save_checkpoint (b, path, NULL, &error));
    g_assert_no_error (error);
    /* b keeps training past the save: the file must not follow it */
    run_steps (b, 2, resumed + FIRST);
  }
  if (old_layout)
    rewrite_as_old_layout (path, TRUE);
  g_autoptr (Trainer) c2 = trainer_new (&c, data, &error);
  g_assert_true (trainer_load_checkpoint (c2, path, &error));
  g_assert_no_error (error);
  g_assert_cmpint (trainer_get_iteration (c2), ==, FIRST);
  run_steps (c2, TOTAL - FIRST, resumed + FIRST);

  /* same arithmetic in the same order: the same bits */
  for (int i = 0; i < TOTAL; i++)
    g_assert_cmpfloat (resumed[i], ==, straight[i]);
  ResNet *na = trainer_get_network (a), *nc = trainer_get_network (c2);
  g_assert_cmpint (memcmp (na->params, nc->params,
                           sizeof (float) * na->n_params), ==, 0);
  MemoryBank *ba = trainer_get_bank (a), *bc = trainer_get_bank (c2);
  g_assert_cmpint (memcmp (ba->vectors, bc->vectors,
                           sizeof (float) * ba->n * ba->dim), ==, 0);
  g_unlink (path);
  g_rmdir (dir);
}

/* The proximal term adds lambda / B sum ||f - v||^2 to the first step's
 * loss: the same batch, network and bank give the same objective, so the
 * two runs' losses differ by that term alone. With bank momentum 0 the
 * step writes f itself into the batch's bank rows, so the term can be
 * rebuilt from the bank before and after the step. */
static void
test_proximal_step (void)
{
  g_autoptr (Dataset) data = test_generated_dataset (40, 4);
  TrainerConfig c = small_config ("softmax");
  c.bank_momentum = 0.0f;
  const float lambda = 30.0f;
  g_autoptr (GError) error = NULL;
  g_autoptr (Trainer) plain = trainer_new (&c, data, &error);
  c.proximal = lambda;
  g_autoptr (Trainer) proximal = trainer_new (&c, data, &error);
  g_assert_true (trainer_prepare (plain, &error));
  g_assert_true (trainer_prepare (proximal, &error));
  MemoryBank *bank = trainer_get_bank (proximal);
  const int D = bank->dim;
  g_autofree float *before = g_memdup2 (bank->vectors,
                                        sizeof (float) * bank->n * D);
  float loss_plain, loss_proximal;
  run_steps (plain, 1, &loss_plain);
  run_steps (proximal, 1, &loss_proximal);

  double term = 0.0;
  int changed = 0;
  for (int i = 0; i < bank->n; i++)
    {
      double sum = 0.0;
      for (int d = 0; d < D; d++)
        {
          double diff = (double) bank->vectors[i * D + d] - before[i * D + d];
          sum += diff * diff;
        }
      changed += sum > 0.0;
      term += sum;
    }
  term *= lambda / c.batch_size;
  g_test_message ("first step: loss %.6f plain, %.6f with lambda %g; "
                  "the term from the bank %.6f", loss_plain, loss_proximal,
                  lambda, term);
  g_assert_cmpint (changed, ==, c.batch_size);
  g_assert_cmpfloat (term, >, 0.0);
  g_assert_cmpfloat_with_epsilon (loss_proximal - loss_plain, term,
                                  1e-5 * (1.0 + loss_proximal));
  /* and the step moved the network differently */
  ResNet *a = trainer_get_network (plain), *b = trainer_get_network (proximal);
  g_assert_cmpint (memcmp (a->params, b->params, sizeof (float) * a->n_params),
                   !=, 0);
}

static void
test_resume_softmax (void)
{
  check_resume_from ("softmax", FALSE);
}

static void
test_resume_nce (void)
{
  check_resume_from ("nce", FALSE);
}

/* Checkpoints of the version before the objective registry resume the
 * same: a softmax run's has an unused trainer.nce_z of [-1, -1]. */
static void
test_resume_old_softmax (void)
{
  check_resume_from ("softmax", TRUE);
}

static void
test_resume_old_nce (void)
{
  check_resume_from ("nce", TRUE);
}

/* NCE's Z in the checkpoint under the names it always had: the tensor
 * trainer.nce_z (float32 [Z, estimate]) and the metadata nce_z and
 * nce_z_estimate in full precision; the softmax saves neither. A file with
 * only the tensor loads Z from it; an NCE trainer refuses a file without
 * any Z, naming the file and the tensor, and stays as it was. */
static void
test_nce_checkpoint_z (void)
{
  g_autoptr (Dataset) data = test_generated_dataset (40, 5);
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("instdisc-trainer-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "checkpoint.safetensors",
                                            NULL);
  TrainerConfig c = small_config ("nce");
  c.nce_z = NCE_Z_EMA;   /* so the estimate moves away from Z */
  g_autoptr (Trainer) a = trainer_new (&c, data, &error);
  g_assert_no_error (error);
  TrainerStepInfo info;
  for (int i = 0; i < 3; i++)
    g_assert_true (trainer_step (a, &info, &error));
  /* the step's metrics, in the objective's order */
  const char *const *columns = c.objective->metrics;
  g_assert_cmpstr (columns[0], ==, "nce_z");
  g_assert_cmpstr (columns[1], ==, "nce_z_estimate");
  g_assert_cmpstr (columns[2], ==, "p_positive");
  g_assert_null (columns[3]);
  const double z = info.metrics[0], z_estimate = info.metrics[1];
  g_assert_cmpfloat (z, >, 1.0);
  g_assert_cmpfloat (z_estimate, !=, z);
  g_assert_true (info.metrics[2] > 0.0 && info.metrics[2] < 1.0);
  g_assert_true (isnan (info.metrics[3]));
  g_assert_true (trainer_save_checkpoint (a, path, NULL, &error));
  {
    g_autoptr (SafetensorsFile) file = safetensors_file_load (path, &error);
    g_assert_no_error (error);
    const SafetensorsTensor *t = safetensors_file_lookup (file,
                                                          "trainer.nce_z");
    g_assert_nonnull (t);
    g_assert_cmpint (t->dtype, ==, DTYPE_F32);
    g_assert_cmpfloat (((float *) t->data)[0], ==, (float) z);
    g_assert_cmpfloat (((float *) t->data)[1], ==, (float) z_estimate);
    g_assert_cmpfloat (g_ascii_strtod (safetensors_file_get_metadata (
                           file, "nce_z"), NULL), ==, z);
    g_assert_cmpfloat (g_ascii_strtod (safetensors_file_get_metadata (
                           file, "nce_z_estimate"), NULL), ==, z_estimate);
  }

  /* only the float32 tensor: Z comes back rounded to it */
  rewrite_as_old_layout (path, FALSE);
  g_autoptr (Trainer) b = trainer_new (&c, data, &error);
  g_assert_true (trainer_load_checkpoint (b, path, &error));
  g_assert_no_error (error);
  g_assert_true (trainer_step (b, &info, &error));
  g_assert_cmpfloat (info.metrics[0], ==, (double) (float) z);

  /* a softmax run's checkpoint has no Z for NCE */
  TrainerConfig s = small_config ("softmax");
  g_autoptr (Trainer) softmax = trainer_new (&s, data, &error);
  g_assert_true (trainer_step (softmax, &info, &error));
  g_assert_true (isnan (info.metrics[0]));
  g_assert_true (trainer_save_checkpoint (softmax, path, NULL, &error));
  {
    g_autoptr (SafetensorsFile) file = safetensors_file_load (path, &error);
    g_assert_null (safetensors_file_lookup (file, "trainer.nce_z"));
    g_assert_null (safetensors_file_get_metadata (file, "nce_z"));
  }
  g_autoptr (Trainer) fresh = trainer_new (&c, data, &error);
  g_assert_false (trainer_load_checkpoint (fresh, path, &error));
  g_assert_nonnull (strstr (error->message, "trainer.nce_z"));
  g_assert_nonnull (strstr (error->message, "checkpoint.safetensors"));
  g_assert_cmpint (trainer_get_iteration (fresh), ==, 0);
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_resume_rejects_other_data (void)
{
  g_autoptr (Dataset) data = test_generated_dataset (40, 3);
  g_autoptr (Dataset) other = test_generated_dataset (48, 3);
  TrainerConfig c = small_config ("softmax");
  g_autoptr (GError) error = NULL;
  g_autoptr (Trainer) a = trainer_new (&c, data, &error);
  float loss;
  run_steps (a, 1, &loss);
  g_autofree char *dir = g_dir_make_tmp ("instdisc-trainer-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "checkpoint.safetensors", NULL);
  g_assert_true (trainer_save_checkpoint (a, path, NULL, &error));

  g_autoptr (Trainer) b = trainer_new (&c, other, &error);
  g_assert_false (trainer_load_checkpoint (b, path, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "checkpoint.safetensors"));
  g_assert_cmpint (trainer_get_iteration (b), ==, 0);
  g_unlink (path);
  g_rmdir (dir);
}

/* The step's promises: unit bank rows after the update, rows of the
 * batch moved towards their features, the others untouched. */
static void
test_step_updates_bank (void)
{
  g_autoptr (Dataset) data = test_generated_dataset (40, 4);
  TrainerConfig c = small_config ("softmax");
  /* a bank from features is filled by the first step; random is not */
  c.bank_init = BANK_INIT_RANDOM;
  g_autoptr (GError) error = NULL;
  g_autoptr (Trainer) t = trainer_new (&c, data, &error);
  MemoryBank *bank = trainer_get_bank (t);
  g_autofree float *before = g_memdup2 (bank->vectors,
                                        sizeof (float) * bank->n * bank->dim);
  float loss;
  run_steps (t, 1, &loss);
  g_assert_true (isfinite (loss));
  int changed = 0;
  for (int i = 0; i < bank->n; i++)
    {
      const float *v = bank->vectors + (gsize) i * bank->dim;
      if (memcmp (v, before + (gsize) i * bank->dim,
                  sizeof (float) * bank->dim) == 0)
        continue;
      changed++;
      double norm = 0.0;
      for (int d = 0; d < bank->dim; d++)
        norm += (double) v[d] * v[d];
      g_assert_cmpfloat_with_epsilon (norm, 1.0, 1e-5);
    }
  g_assert_cmpint (changed, ==, c.batch_size);
}

/* --bank-init features (the default): the first step fills the bank with
 * the untrained network's test-transform features, then updates the
 * batch's rows as usual; every other row is exactly the initial feature. */
static void
test_bank_from_features (void)
{
  g_autoptr (Dataset) data = test_generated_dataset (40, 4);
  TrainerConfig c = small_config ("softmax");
  g_assert_cmpint (c.bank_init, ==, BANK_INIT_FEATURES);
  g_autoptr (GError) error = NULL;
  /* the same seed gives the same untrained network */
  g_autoptr (Trainer) untrained = trainer_new (&c, data, &error);
  g_assert_no_error (error);
  const int D = c.low_dim;
  g_autofree float *features = g_new (float, (gsize) data->n * D);
  g_assert_true (trainer_embed (untrained, data, features, &error));
  g_assert_no_error (error);

  g_autoptr (Trainer) t = trainer_new (&c, data, &error);
  g_assert_no_error (error);
  float loss;
  run_steps (t, 1, &loss);
  g_assert_true (isfinite (loss));
  const MemoryBank *bank = trainer_get_bank (t);
  int same = 0;
  for (int i = 0; i < data->n; i++)
    {
      const float *v = bank->vectors + (gsize) i * D;
      double norm = 0.0;
      for (int d = 0; d < D; d++)
        norm += (double) v[d] * v[d];
      g_assert_cmpfloat_with_epsilon (norm, 1.0, 1e-5);
      same += memcmp (v, features + (gsize) i * D, sizeof (float) * D) == 0;
    }
  g_assert_cmpint (same, ==, data->n - c.batch_size);
}

/* The weighted kNN top-1 (percent) of test rows among train rows, written
 * out plainly: for each query every similarity, the k largest by
 * selection, weights exp (s / sigma), the heaviest class. */
static double
brute_force_knn_top1 (const float *train, const gint32 *train_labels,
                      int n_train, const float *test, const gint32 *test_labels,
                      int n_test, int dim, int n_classes, int k, float sigma)
{
  g_autofree double *sims = g_new (double, n_train);
  g_autofree gboolean *taken = g_new (gboolean, n_train);
  g_autofree double *votes = g_new (double, n_classes);
  int correct = 0;
  for (int q = 0; q < n_test; q++)
    {
      for (int i = 0; i < n_train; i++)
        {
          double s = 0.0;
          for (int d = 0; d < dim; d++)
            s += (double) test[(gsize) q * dim + d] * train[(gsize) i * dim + d];
          sims[i] = s;
          taken[i] = FALSE;
        }
      memset (votes, 0, sizeof (double) * n_classes);
      for (int j = 0; j < MIN (k, n_train); j++)
        {
          int best = -1;
          for (int i = 0; i < n_train; i++)
            if (!taken[i] && (best < 0 || sims[i] > sims[best]))
              best = i;
          taken[best] = TRUE;
          votes[train_labels[best]] += exp (sims[best] / sigma);
        }
      int predicted = 0;
      for (int c = 1; c < n_classes; c++)
        if (votes[c] > votes[predicted])
          predicted = c;
      correct += predicted == test_labels[q];
    }
  return 100.0 * correct / n_test;
}

/* Raw pixels' vectors: each image's test transform as a unit row */
static float *
unit_pixel_rows (const Dataset *data, const AugmentOptions *augment)
{
  const int dim = data->channels * data->height * data->width;
  float *rows = g_new (float, (gsize) data->n * dim);
  for (int i = 0; i < data->n; i++)
    {
      float *v = rows + (gsize) i * dim;
      augment_test (augment, data->pixels + (gsize) i * dim, data->channels,
                    data->height, data->width, v);
      double norm = 0.0;
      for (int d = 0; d < dim; d++)
        norm += (double) v[d] * v[d];
      for (int d = 0; d < dim; d++)
        v[d] /= sqrt (norm);
    }
  return rows;
}

/* The reference points of a run, before its first step: the untrained
 * network's kNN (with the bank from features, the bank's columns equal the
 * recomputed ones, and both equal a recomputed evaluation's) and raw
 * pixels' kNN, which matches a plain weighted kNN of the unit pixel rows. */
static void
test_evaluate_start (void)
{
  g_autoptr (Dataset) train = test_generated_dataset (40, 11);
  g_autoptr (Dataset) test = test_generated_dataset (24, 12);
  TrainerConfig c = small_config ("softmax");
  g_assert_cmpint (c.bank_init, ==, BANK_INIT_FEATURES);
  g_autoptr (GError) error = NULL;
  g_autoptr (Trainer) t = trainer_new (&c, train, &error);
  g_assert_no_error (error);
  const int k = 5;
  MetricsRow untrained, pixels;
  g_assert_true (trainer_evaluate_start (t, train, test, k, &untrained,
                                         &pixels, &error));
  g_assert_no_error (error);
  g_assert_cmpint (trainer_get_iteration (t), ==, 0);

  g_assert_cmpstr (untrained.kind, ==, "eval");
  g_assert_cmpint (untrained.epoch, ==, 0);
  g_assert_cmpint (untrained.iteration, ==, 0);
  g_assert_cmpfloat (untrained.knn_top1, ==, untrained.knn_top1_recomputed);
  EvaluateOptions options;
  evaluate_options_init (&options);
  options.k = k;
  options.recompute = TRUE;
  MetricsRow recomputed;
  g_assert_true (trainer_evaluate (t, train, test, &options, &recomputed,
                                   NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat_with_epsilon (recomputed.knn_top1_recomputed,
                                  untrained.knn_top1, 1e-9);
  g_assert_cmpfloat_with_epsilon (recomputed.knn_top5_recomputed,
                                  untrained.knn_top5, 1e-9);

  g_assert_cmpstr (pixels.kind, ==, "pixels");
  g_assert_cmpint (pixels.epoch, ==, 0);
  g_assert_true (isnan (pixels.knn_top1_recomputed));
  const AugmentOptions *augment = trainer_get_augment (t);
  const int dim = 28 * 28;
  g_autofree float *train_rows = unit_pixel_rows (train, augment);
  g_autofree float *test_rows = unit_pixel_rows (test, augment);
  double expected = brute_force_knn_top1 (train_rows, train->labels, train->n,
                                          test_rows, test->labels, test->n,
                                          dim, train->n_classes, k, c.tau);
  g_assert_cmpfloat_with_epsilon (pixels.knn_top1, expected, 1e-9);
  /* the generated classes are bright squares in different places: raw
   * pixels separate them */
  g_assert_cmpfloat (pixels.knn_top1, >, 90.0);

  /* too large for the memory given: its own error, which the run takes
   * as "not measured" */
  KnnAccuracy accuracy;
  g_assert_false (evaluate_raw_pixels (&accuracy, train, test, augment, k,
                                       c.tau, 1000, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
  g_clear_error (&error);
  /* no labelled test images: an error, not a score */
  g_autoptr (Dataset) unlabelled = test_generated_dataset (8, 13);
  g_clear_pointer (&unlabelled->labels, g_free);
  g_assert_false (evaluate_raw_pixels (&accuracy, train, unlabelled, augment,
                                       k, c.tau, 0, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
}

/* A run's model read from its checkpoint alone (run-model.h) is the
 * trainer's: the same bank and iteration, and the same features for every
 * image, bit for bit; a checkpoint of another data set's size is refused
 * with an error naming the bank. */
static void
test_run_model_load (void)
{
  g_autoptr (Dataset) data = test_generated_dataset (40, 11);
  TrainerConfig c = small_config ("nce");
  g_autoptr (GError) error = NULL;
  g_autoptr (Trainer) trainer = trainer_new (&c, data, &error);
  g_assert_no_error (error);
  float losses[5];
  run_steps (trainer, 5, losses);
  g_autofree char *dir = g_dir_make_tmp ("instdisc-model-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "checkpoint.safetensors",
                                            NULL);
  g_assert_true (trainer_save_checkpoint (trainer, path, NULL, &error));

  g_autoptr (RunModel) model = run_model_new (&c, data, &error);
  g_assert_no_error (error);
  g_assert_true (run_model_load (model, path, &error));
  g_assert_no_error (error);
  g_assert_cmpint (model->iteration, ==, 5);
  MemoryBank *bank = trainer_get_bank (trainer);
  g_assert_cmpmem (model->bank->vectors, sizeof (float) * bank->n * bank->dim,
                   bank->vectors, sizeof (float) * bank->n * bank->dim);
  g_autofree float *a = g_new (float, (gsize) data->n * c.low_dim);
  g_autofree float *b = g_new (float, (gsize) data->n * c.low_dim);
  g_assert_true (run_model_embed (model, data, a, &error));
  g_assert_true (trainer_embed (trainer, data, b, &error));
  g_assert_cmpmem (a, sizeof (float) * data->n * c.low_dim, b,
                   sizeof (float) * data->n * c.low_dim);

  g_autoptr (Dataset) other = test_generated_dataset (24, 12);
  g_autoptr (RunModel) wrong = run_model_new (&c, other, &error);
  g_assert_no_error (error);
  g_assert_false (run_model_load (wrong, path, &error));
  g_assert_error (error, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_MISMATCH);
  g_assert_nonnull (strstr (error->message, "memory.bank"));
  g_unlink (path);
  g_rmdir (dir);
}

/* A run model embeds large images a few at a time (its network's
 * activations are allocated for its whole batch), with the same features
 * as the trainer's network at the run's batch; a network made from it at
 * a larger batch (for fine-tuning) has its parameters and buffers. */
static void
test_run_model_batch (void)
{
  TrainerConfig c = small_config ("softmax");
  c.batch_size = 64;
  g_autoptr (Dataset) small = test_generated_dataset (8, 3);
  g_assert_cmpint (run_model_inference_batch (&c, small), ==, 64);
  g_autoptr (Dataset) large = dataset_new_in_memory ("large", 70, 1, 96, 96);
  for (gsize i = 0; i < (gsize) 70 * 96 * 96; i++)
    large->pixels[i] = (guint8) (i * 2654435761u >> 24);
  /* 256 images of 32 x 32 are 28 of 96 x 96 */
  g_assert_cmpint (run_model_inference_batch (&c, large), ==, 28);

  g_autoptr (GError) error = NULL;
  g_autoptr (Trainer) trainer = trainer_new (&c, large, &error);
  g_assert_no_error (error);
  g_autoptr (RunModel) model = run_model_new (&c, large, &error);
  g_assert_no_error (error);
  g_assert_cmpint (model->net->max_batch, ==, 28);
  RunModel *lent = trainer_get_model (trainer);
  run_model_copy_network (model, lent->net);
  g_autofree float *a = g_new (float, (gsize) 70 * c.low_dim);
  g_autofree float *b = g_new (float, (gsize) 70 * c.low_dim);
  g_assert_true (run_model_embed (model, large, a, &error));
  g_assert_true (trainer_embed (trainer, large, b, &error));
  for (int i = 0; i < 70 * c.low_dim; i++)
    g_assert_cmpfloat_with_epsilon (a[i], b[i], 1e-5);

  ResNet *wide = run_model_new_network (model, 64);
  g_assert_nonnull (wide);
  g_assert_cmpint (wide->max_batch, ==, 64);
  g_assert_cmpint (wide->n_state, ==, model->net->n_state);
  for (int i = 0; i < wide->n_state; i++)
    g_assert_cmpmem (wide->state[i].data,
                     wide->state[i].numel
                       * (wide->state[i].dtype == DTYPE_F32 ? 4 : 8),
                     model->net->state[i].data,
                     model->net->state[i].numel
                       * (model->net->state[i].dtype == DTYPE_F32 ? 4 : 8));
  resnet_free (wide);
}

/* Writes src's tensors and metadata to dst with element `at` of tensor
 * `name` replaced by `value`, as a damaged file would hold it. */
static void
copy_checkpoint_with_value (const char *src, const char *dst,
                            const char *name, gsize at, float value)
{
  g_autoptr (GError) error = NULL;
  SafetensorsFile *file = safetensors_file_load (src, &error);
  g_assert_no_error (error);
  guint n = safetensors_file_get_n_tensors (file);
  g_autofree SafetensorsTensor *tensors = g_new (SafetensorsTensor, n);
  g_autofree float *edited = NULL;
  for (guint i = 0; i < n; i++)
    {
      tensors[i] = *safetensors_file_get_tensor (file, i);
      if (strcmp (tensors[i].name, name) == 0)
        {
          g_assert_cmpint (tensors[i].dtype, ==, DTYPE_F32);
          g_assert_cmpuint (at, <, tensors[i].numel);
          edited = g_memdup2 (tensors[i].data,
                              tensors[i].numel * sizeof (float));
          edited[at] = value;
          tensors[i].data = edited;
        }
    }
  g_assert_nonnull (edited);
  GHashTable *metadata = safetensors_file_get_metadata_table (file);
  g_assert_true (safetensors_save (dst, tensors, n, metadata, &error));
  safetensors_file_free (file);
}

/* What a checkpoint holds is checked before it is used: a NaN anywhere
 * (here in the bank), an NCE normaliser that is not positive, and settings
 * that contradict the run's config.ini are one error naming the file, for
 * the trainer and for a read-only model, never an abort. */
static void
test_load_rejects_bad_values (void)
{
  g_autoptr (Dataset) data = test_generated_dataset (40, 13);
  TrainerConfig c = small_config ("nce");
  g_autoptr (GError) error = NULL;
  g_autoptr (Trainer) trainer = trainer_new (&c, data, &error);
  float losses[3];
  run_steps (trainer, 3, losses);
  g_autofree char *dir = g_dir_make_tmp ("instdisc-bad-XXXXXX", &error);
  g_autofree char *nan_path = g_build_filename (dir, "nan.safetensors", NULL);
  g_autofree char *z_path = g_build_filename (dir, "z.safetensors", NULL);
  g_assert_true (trainer_save_checkpoint (trainer, z_path, NULL, &error));
  /* the trainer refuses to save a NaN, so the file is edited */
  copy_checkpoint_with_value (z_path, nan_path, "memory.bank", 5, NAN);

  /* Z's metadata made negative, the file otherwise intact */
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (z_path, &bytes, &len, NULL));
  /* past the 8-byte length, whose zero bytes would end a string search */
  char *z = g_strstr_len (bytes + 8, len - 8, "\"nce_z\":\"");
  g_assert_nonnull (z);
  z += strlen ("\"nce_z\":\"");
  g_assert_true (g_ascii_isdigit (*z));
  *z = '-';
  g_assert_true (g_file_set_contents (z_path, bytes, len, NULL));

  g_autoptr (Trainer) fresh = trainer_new (&c, data, &error);
  g_autoptr (RunModel) model = run_model_new (&c, data, &error);
  g_assert_false (trainer_load_checkpoint (fresh, nan_path, &error));
  g_assert_nonnull (strstr (error->message, "memory.bank"));
  g_assert_nonnull (strstr (error->message, "not a finite number"));
  g_clear_error (&error);
  g_assert_false (run_model_load (model, nan_path, &error));
  g_assert_nonnull (strstr (error->message, "memory.bank"));
  g_clear_error (&error);
  g_assert_false (trainer_load_checkpoint (fresh, z_path, &error));
  g_assert_error (error, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, z_path));
  g_assert_nonnull (strstr (error->message, "normaliser"));
  g_assert_cmpint (trainer_get_iteration (fresh), ==, 0);
  g_clear_error (&error);

  /* an NCE checkpoint under a config.ini that says softmax (a hand edit):
   * refused with what differs, by the trainer and by a read-only model */
  g_autofree char *nce_path = g_build_filename (dir, "nce.safetensors", NULL);
  g_assert_true (trainer_save_checkpoint (trainer, nce_path, NULL, &error));
  TrainerConfig softmax = small_config ("softmax");
  g_autoptr (Trainer) other = trainer_new (&softmax, data, &error);
  g_assert_false (trainer_load_checkpoint (other, nce_path, &error));
  g_assert_error (error, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_MISMATCH);
  g_assert_nonnull (strstr (error->message, "objective=nce"));
  g_assert_nonnull (strstr (error->message, "objective=softmax"));
  g_clear_error (&error);
  g_autoptr (RunModel) other_model = run_model_new (&softmax, data, &error);
  g_assert_false (run_model_load (other_model, nce_path, &error));
  g_assert_nonnull (strstr (error->message, "objective=nce"));
  g_unlink (nce_path);
  g_unlink (nan_path);
  g_unlink (z_path);
  g_rmdir (dir);
}

/* A step whose loss is not finite is refused and leaves the trainer as it
 * was; the next step (the explorer's Start after such a stop) meets the
 * same batch and is refused the same way, instead of finding the loader a
 * batch ahead and aborting. */
static void
test_non_finite_step_again (void)
{
  g_autoptr (Dataset) data = test_generated_dataset (40, 14);
  TrainerConfig c = small_config ("softmax");
  g_autoptr (GError) error = NULL;
  g_autoptr (Trainer) trainer = trainer_new (&c, data, &error);
  g_assert_no_error (error);
  TrainerStepInfo info;
  g_assert_true (trainer_step (trainer, &info, &error));
  /* a NaN row of the bank: the exact softmax's loss is NaN */
  trainer_get_bank (trainer)->vectors[0] = NAN;
  for (int attempt = 0; attempt < 2; attempt++)
    {
      g_assert_false (trainer_step (trainer, &info, &error));
      g_assert_nonnull (strstr (error->message, "iteration 2"));
      g_clear_error (&error);
      g_assert_cmpint (trainer_get_iteration (trainer), ==, 1);
    }
}

/* A NaN never reaches a checkpoint: the loader would refuse the file, so a
 * save of a network or bank holding one is refused and the good checkpoint
 * on disk stays as it was. */
static void
test_non_finite_never_saved (void)
{
  g_autoptr (Dataset) data = test_generated_dataset (40, 14);
  TrainerConfig c = small_config ("softmax");
  g_autoptr (GError) error = NULL;
  g_autoptr (Trainer) trainer = trainer_new (&c, data, &error);
  g_assert_no_error (error);
  g_autofree char *dir = g_dir_make_tmp ("instdisc-nan-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *path = g_build_filename (dir, "checkpoint.safetensors",
                                            NULL);
  TrainerStepInfo info;
  g_assert_true (trainer_step (trainer, &info, &error));
  g_assert_true (trainer_save_checkpoint (trainer, path, NULL, &error));
  g_autofree char *saved = NULL;
  gsize saved_length = 0;
  g_assert_true (g_file_get_contents (path, &saved, &saved_length, NULL));

  ResNet *net = trainer_get_model (trainer)->net;
  float *bank = trainer_get_bank (trainer)->vectors;
  float *where[] = { &net->params[net->n_params / 2], &bank[5] };
  /* a tensor of the network (whichever holds the middle parameter), then
   * the bank */
  const char *names[] = { "tensor ", "tensor memory.bank " };
  for (guint i = 0; i < G_N_ELEMENTS (where); i++)
    {
      float kept = *where[i];
      *where[i] = NAN;
      /* the step is refused before anything changes */
      g_assert_false (trainer_step (trainer, &info, &error));
      g_assert_nonnull (strstr (error->message, "iteration 2"));
      g_clear_error (&error);
      g_assert_cmpint (trainer_get_iteration (trainer), ==, 1);
      g_assert_false (trainer_save_checkpoint (trainer, path, NULL, &error));
      g_assert_nonnull (strstr (error->message, "not saved"));
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, names[i]));
      g_clear_error (&error);
      g_autofree char *now = NULL;
      gsize now_length = 0;
      g_assert_true (g_file_get_contents (path, &now, &now_length, NULL));
      g_assert_cmpmem (now, now_length, saved, saved_length);
      /* with the value back, the state is the one saved before: the
       * refused step changed nothing, not even BN's running statistics */
      *where[i] = kept;
      g_assert_true (trainer_save_checkpoint (trainer, path, NULL, &error));
      g_free (now);
      now = NULL;
      g_assert_true (g_file_get_contents (path, &now, &now_length, NULL));
      g_assert_cmpmem (now, now_length, saved, saved_length);
    }
  /* and the run goes on */
  g_assert_true (trainer_step (trainer, &info, &error));
  g_assert_no_error (error);
  g_unlink (path);
  g_rmdir (dir);
}

/* The command line the New Training dialog offers to copy: the default
 * recipe needs no option; each setting changed is its option, with the
 * value as typed; ranks put it under mpirun; odd paths are quoted; and
 * config.ini's ranks key is absent in a one-process run. */
static void
test_command_line (void)
{
  TrainerConfig config;
  trainer_config_init_default (&config);
  g_autofree char *plain = trainer_run_command_line (&config, "fashion-mnist",
                                                     "runs/a", 32, 1);
  g_assert_cmpstr (plain, ==,
                   "instdisc train --data fashion-mnist --run runs/a");
  config.objective = objective_registry_lookup ("nce");
  config.lr = 0.01f;
  config.n_lr_drops = 1;
  config.lr_drops[0] = 7;
  config.crop_scale_min = 0.3f;
  config.batch_size = 256;
  g_autofree char *changed = trainer_run_command_line (
      &config, "/home/me/My Photos", "runs/it's", 224, 4);
  g_assert_cmpstr (changed, ==,
                   "mpirun -n 4 instdisc train --data '/home/me/My Photos' "
                   "--run 'runs/it'\\''s' --image-size 224 --objective nce "
                   "--lr 0.01 --lr-drops 7 --batch-size 256 --crop-scale "
                   "0.3,1");

  g_autoptr (GKeyFile) keyfile = g_key_file_new ();
  g_assert_cmpint (trainer_run_get_ranks (keyfile), ==, 1);
  g_assert_false (trainer_run_set_ranks (keyfile, 1));
  g_assert_false (g_key_file_has_group (keyfile, "distributed"));
  g_assert_true (trainer_run_set_ranks (keyfile, 2));
  g_assert_cmpint (trainer_run_get_ranks (keyfile), ==, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/method/trainer/lr-schedule", test_lr_schedule);
  g_test_add_func ("/method/trainer/config-keyfile", test_config_keyfile);
  g_test_add_func ("/method/trainer/bad-config", test_rejects_bad_config);
  g_test_add_func ("/method/trainer/check-setting", test_check_setting);
  g_test_add_func ("/method/trainer/set-epochs", test_set_epochs);
  g_test_add_func ("/method/trainer/estimate", test_estimate);
  g_test_add_func ("/method/trainer/pace", test_pace);
  g_test_add_func ("/method/trainer/jitter-steps", test_jitter_steps);
  g_test_add_func ("/method/trainer/bank-update", test_step_updates_bank);
  g_test_add_func ("/method/trainer/bank-from-features",
                   test_bank_from_features);
  g_test_add_func ("/method/trainer/proximal-step", test_proximal_step);
  g_test_add_func ("/method/trainer/evaluate-start", test_evaluate_start);
  g_test_add_func ("/method/trainer/resume/softmax", test_resume_softmax);
  g_test_add_func ("/method/trainer/resume/nce", test_resume_nce);
  g_test_add_func ("/method/trainer/resume/old-softmax",
                   test_resume_old_softmax);
  g_test_add_func ("/method/trainer/resume/old-nce", test_resume_old_nce);
  g_test_add_func ("/method/trainer/nce-checkpoint-z", test_nce_checkpoint_z);
  g_test_add_func ("/method/trainer/run-model-load", test_run_model_load);
  g_test_add_func ("/method/trainer/run-model-batch", test_run_model_batch);
  g_test_add_func ("/method/trainer/command-line", test_command_line);
  g_test_add_func ("/method/trainer/non-finite-step-again",
                   test_non_finite_step_again);
  g_test_add_func ("/method/trainer/non-finite-never-saved",
                   test_non_finite_never_saved);
  g_test_add_func ("/method/trainer/load-rejects-bad-values",
                   test_load_rejects_bad_values);
  g_test_add_func ("/method/trainer/resume/other-data",
                   test_resume_rejects_other_data);
  return g_test_run ();
}

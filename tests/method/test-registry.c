/* test-registry.c: the model and objective registries (model.h,
 * objective.h), and what is built from them.
 *   /method/registry/objectives   every entry keeps the table's promises:
 *                           a unique name, a label and a summary, its
 *                           functions, metrics columns that fit a row and
 *                           are not common ones, settings that are
 *                           config.ini keys; lookup and index round trip
 *   /method/registry/models       the same for the networks: each builds a
 *                           valid network for grey and colour images
 *   /method/registry/objective-contract   each objective run alone on a
 *                           small bank: finite loss, a gradient that is the
 *                           loss's derivative, its metrics, and its
 *                           checkpoint state through a file and back
 *   /method/registry/config-round-trip   every model and objective
 *                           through config.ini by name and back
 *   /method/registry/unknown-name   an unknown objective or model in
 *                           config.ini: one error naming the file, the
 *                           value and the known names
 * A new objective or network is tested here as soon as it is in its
 * registry. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "checkpoint.h"
#include "method-fixtures.h"
#include "model.h"
#include "objective.h"
#include "run-dir.h"
#include "trainer.h"
#include "trainer-run.h"

static gboolean
is_plain_name (const char *name)
{
  if (!name || !*name)
    return FALSE;
  for (const char *c = name; *c; c++)
    if (!g_ascii_islower (*c) && !g_ascii_isdigit (*c) && *c != '_')
      return FALSE;
  return TRUE;
}

/* a model's name may also hold hyphens ("resnet18-imagenet", as
 * "fashion-mnist" names a data set); an objective's may not, as its name
 * may prefix metrics columns */
static gboolean
is_model_name (const char *name)
{
  if (!name || !g_ascii_islower (*name))
    return FALSE;
  for (const char *c = name; *c; c++)
    if (!g_ascii_islower (*c) && !g_ascii_isdigit (*c) && *c != '_'
        && *c != '-')
      return FALSE;
  return TRUE;
}

static guint
strv_len (const char *const *strv)
{
  return strv ? g_strv_length ((char **) strv) : 0;
}

static void
test_objectives (void)
{
  g_assert_cmpuint (objective_registry_size (), >=, 2);
  TrainerConfig config;
  trainer_config_init_default (&config);
  g_autoptr (GKeyFile) keyfile = g_key_file_new ();
  trainer_config_to_keyfile (&config, keyfile);
  g_autofree char *names = objective_registry_names ();
  for (guint i = 0; i < objective_registry_size (); i++)
    {
      const ObjectiveClass *klass = objective_registry_get (i);
      g_test_message ("objective %s: %s", klass->name, klass->label);
      g_assert_true (is_plain_name (klass->name));
      g_assert_true (objective_registry_lookup (klass->name) == klass);
      g_assert_cmpuint (objective_registry_index (klass), ==, i);
      for (guint j = 0; j < i; j++)
        g_assert_cmpstr (objective_registry_get (j)->name, !=, klass->name);
      g_assert_nonnull (strstr (names, klass->name));
      g_assert_true (klass->label && *klass->label);
      g_assert_true (klass->summary && *klass->summary);
      g_assert_nonnull (klass->create);
      g_assert_nonnull (klass->free);
      g_assert_nonnull (klass->forward_backward);
      /* the state hooks come together or not at all */
      g_assert_cmpint (!klass->save_state, ==, !klass->check_state);
      g_assert_cmpint (!klass->save_state, ==, !klass->load_state);

      guint n_metrics = strv_len (klass->metrics);
      g_assert_cmpuint (n_metrics, <=, OBJECTIVE_MAX_METRICS);
      for (guint m = 0; m < n_metrics; m++)
        {
          const char *column = klass->metrics[m];
          g_assert_true (is_plain_name (column));
          g_assert_false (metrics_column_is_common (column));
          g_assert_true (objective_class_has_metric (klass, column));
          for (guint o = 0; o < m; o++)
            g_assert_cmpstr (klass->metrics[o], !=, column);
        }
      /* an objective's settings are [training] keys of config.ini */
      for (guint s = 0; s < strv_len (klass->settings); s++)
        {
          g_assert_true (g_key_file_has_key (keyfile, "training",
                                             klass->settings[s], NULL));
          g_assert_true (objective_class_uses_setting (klass,
                                                       klass->settings[s]));
        }
      g_assert_false (objective_class_uses_setting (klass, "no_such_key"));
      g_assert_false (objective_class_has_metric (klass, "loss"));
      g_autofree char *described = objective_class_describe (klass, &config);
      g_assert_true (described && *described);
    }
  g_assert_null (objective_registry_lookup ("contrastive"));
  g_assert_null (objective_registry_lookup (""));
  g_assert_null (objective_registry_lookup (NULL));
  /* the recipes' objective is in it */
  g_assert_cmpuint (objective_registry_index (config.objective), <,
                    objective_registry_size ());
}

static void
test_models (void)
{
  g_assert_cmpuint (model_registry_size (), >=, 2);
  g_autofree char *names = model_registry_names ();
  for (guint i = 0; i < model_registry_size (); i++)
    {
      const ModelClass *klass = model_registry_get (i);
      g_test_message ("model %s: %s", klass->name, klass->label);
      g_assert_true (is_model_name (klass->name));
      g_assert_true (model_registry_lookup (klass->name) == klass);
      g_assert_cmpuint (model_registry_index (klass), ==, i);
      for (guint j = 0; j < i; j++)
        g_assert_cmpstr (model_registry_get (j)->name, !=, klass->name);
      g_assert_nonnull (strstr (names, klass->name));
      g_assert_true (klass->label && *klass->label);
      g_assert_true (klass->summary && *klass->summary);
      /* grey 28 x 28 (Fashion-MNIST) and colour 32 x 32 (CIFAR) */
      const int shapes[2][2] = { { 1, 28 }, { 3, 32 } };
      for (int s = 0; s < 2; s++)
        {
          ResNetConfig net = klass->network_config (shapes[s][0], shapes[s][1],
                                                    shapes[s][1], 128);
          char why[256] = "";
          g_assert_true (resnet_config_validate (&net, why, sizeof why));
          g_assert_cmpint (net.in_channels, ==, shapes[s][0]);
          g_assert_cmpint (net.low_dim, ==, 128);
        }
    }
  g_assert_null (model_registry_lookup ("resnet50"));
  g_assert_null (model_registry_lookup (NULL));

  /* the ImageNet networks: torchvision's layout, and a clear refusal of
   * images too small for their 32x downsampling */
  const struct { const char *name; ResNetBlockKind block; } imagenet[] = {
    { "resnet18-imagenet", RESNET_BLOCK_BASIC },
    { "resnet50-imagenet", RESNET_BLOCK_BOTTLENECK },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (imagenet); i++)
    {
      const ModelClass *klass = model_registry_lookup (imagenet[i].name);
      g_assert_nonnull (klass);
      ResNetConfig net = klass->network_config (3, 224, 224, 128);
      g_assert_cmpint (net.stem, ==, RESNET_STEM_IMAGENET);
      g_assert_cmpint (net.block, ==, imagenet[i].block);
      char why[256] = "";
      g_assert_true (resnet_config_validate (&net, why, sizeof why));
      net = klass->network_config (1, 17, 17, 128);
      g_assert_true (resnet_config_validate (&net, why, sizeof why));
      net = klass->network_config (1, 16, 17, 128);
      g_assert_false (resnet_config_validate (&net, why, sizeof why));
      g_test_message ("%s at 17x16: %s", klass->name, why);
      g_assert_nonnull (strstr (why, "17x16"));
      g_assert_nonnull (strstr (why, "at least 17x17"));
    }
}

/* ---- each objective alone ---- */

enum { B = 8, N = 64, D = 16 };

static TrainerConfig
contract_config (const ObjectiveClass *klass)
{
  TrainerConfig c;
  trainer_config_init_default (&c);
  c.objective = klass;
  c.low_dim = D;
  c.batch_size = B;
  c.nce_k = 16;
  c.tau = 0.1f;
  return c;
}

/* the loss at features, with the draws of the generator seeded seed */
static float
loss_at (Objective *objective, const float *features, const int *indices,
         const MemoryBank *bank, guint64 seed)
{
  Rng rng;
  rng_seed (&rng, seed);
  double metrics[OBJECTIVE_MAX_METRICS];
  float scratch[B * D];
  return objective_forward_backward (objective, scratch, features, indices, B,
                                     bank, &rng, metrics);
}

static void
check_objective_contract (const ObjectiveClass *klass)
{
  g_test_message ("objective %s", klass->name);
  TrainerConfig c = contract_config (klass);
  g_autoptr (GError) error = NULL;
  if (klass->check)
    {
      g_assert_true (klass->check (&c, N, "generated", &error));
      g_assert_no_error (error);
    }
  Rng rng;
  rng_seed (&rng, 11);
  MemoryBank *bank = memory_bank_new (N, D, 0.5f, &rng);
  random_unit_rows (bank->vectors, N, D, &rng);
  float features[B * D], d_features[B * D], moved[B * D], direction[B * D];
  int indices[B];
  random_unit_rows (features, B, D, &rng);
  random_unit_rows (direction, B, D, &rng);
  for (int b = 0; b < B; b++)
    indices[b] = (b * 7) % N;

  g_autoptr (Objective) objective = objective_new (klass, &c, B, N);
  g_assert_nonnull (objective);
  g_assert_true (objective->klass == klass);
  /* a first batch, which may set what later ones use (NCE's fixed Z) */
  loss_at (objective, features, indices, bank, 1);

  Rng draws;
  rng_seed (&draws, 2);
  double metrics[OBJECTIVE_MAX_METRICS];
  float loss = objective_forward_backward (objective, d_features, features,
                                           indices, B, bank, &draws, metrics);
  g_assert_true (isfinite (loss));
  guint n_metrics = strv_len (klass->metrics);
  for (guint m = 0; m < OBJECTIVE_MAX_METRICS; m++)
    g_assert_true (m < n_metrics ? isfinite (metrics[m]) : isnan (metrics[m]));

  /* d_features is the derivative of the loss: along a direction, against
   * central differences with the same draws */
  double analytic = 0.0;
  for (int i = 0; i < B * D; i++)
    {
      g_assert_true (isfinite (d_features[i]));
      analytic += (double) d_features[i] * direction[i];
    }
  const float eps = 1e-3f;
  for (int i = 0; i < B * D; i++)
    moved[i] = features[i] + eps * direction[i];
  double up = loss_at (objective, moved, indices, bank, 2);
  for (int i = 0; i < B * D; i++)
    moved[i] = features[i] - eps * direction[i];
  double down = loss_at (objective, moved, indices, bank, 2);
  double numeric = (up - down) / (2.0 * eps);
  g_test_message ("  loss %.6f; along a direction: d_features %.6g, "
                  "central differences %.6g", loss, analytic, numeric);
  g_assert_cmpfloat (fabs (numeric - analytic), <=,
                     2e-2 * fabs (analytic) + 2e-3);

  /* its state through a checkpoint-like file into a fresh instance */
  if (klass->save_state)
    {
      g_autoptr (GArray) tensors = g_array_new (FALSE, TRUE,
                                                sizeof (SafetensorsTensor));
      g_autoptr (GHashTable) metadata = g_hash_table_new_full (
          g_str_hash, g_str_equal, g_free, g_free);
      objective_save_state (objective, tensors, metadata);
      g_autofree char *prefix = g_strdup_printf ("trainer.%s_", klass->name);
      for (guint t = 0; t < tensors->len; t++)
        g_assert_true (g_str_has_prefix (
            g_array_index (tensors, SafetensorsTensor, t).name, prefix));
      g_autofree char *dir = g_dir_make_tmp ("instdisc-registry-XXXXXX",
                                             &error);
      g_autofree char *path = g_build_filename (dir, "state.safetensors",
                                                NULL);
      g_assert_true (safetensors_save (path,
                                       (SafetensorsTensor *) tensors->data,
                                       tensors->len, metadata, &error));
      g_assert_no_error (error);
      g_autoptr (SafetensorsFile) file = safetensors_file_load (path, &error);
      g_assert_no_error (error);
      g_autoptr (Objective) restored = objective_new (klass, &c, B, N);
      g_assert_true (objective_check_state (restored, file, &error));
      g_assert_no_error (error);
      objective_load_state (restored, file);
      /* the same state: the next batch gives the same loss and metrics */
      double again[OBJECTIVE_MAX_METRICS];
      rng_seed (&draws, 3);
      float a = objective_forward_backward (objective, d_features, features,
                                            indices, B, bank, &draws,
                                            metrics);
      rng_seed (&draws, 3);
      float b = objective_forward_backward (restored, moved, features,
                                            indices, B, bank, &draws, again);
      g_assert_cmpfloat (fabs (a - b), <=, 1e-5 * fabs (a));
      for (guint m = 0; m < n_metrics; m++)
        g_assert_cmpfloat (fabs (metrics[m] - again[m]), <=,
                           1e-5 * fabs (metrics[m]));
      /* a file without it is refused, naming the file */
      g_autofree char *empty_path = g_build_filename (dir, "empty.safetensors",
                                                      NULL);
      float one = 1.0f;
      SafetensorsTensor other = { .name = (char *) "trainer.state",
                                  .dtype = DTYPE_F32, .ndim = 1,
                                  .shape = { 1 }, .numel = 1, .data = &one };
      g_assert_true (safetensors_save (empty_path, &other, 1, NULL, &error));
      g_autoptr (SafetensorsFile) empty = safetensors_file_load (empty_path,
                                                                 &error);
      g_assert_false (objective_check_state (restored, empty, &error));
      g_assert_nonnull (strstr (error->message, "empty.safetensors"));
      g_clear_error (&error);
      g_unlink (path);
      g_unlink (empty_path);
      g_rmdir (dir);
    }
  memory_bank_free (bank);
}

static void
test_objective_contract (void)
{
  for (guint i = 0; i < objective_registry_size (); i++)
    check_objective_contract (objective_registry_get (i));
}

/* ---- config.ini ---- */

static void
test_config_round_trip (void)
{
  for (guint m = 0; m < model_registry_size (); m++)
    for (guint o = 0; o < objective_registry_size (); o++)
      {
        TrainerConfig a, b;
        trainer_config_init_default (&a);
        a.model = model_registry_get (m);
        a.objective = objective_registry_get (o);
        g_autoptr (GKeyFile) file = g_key_file_new ();
        trainer_config_to_keyfile (&a, file);
        g_autofree char *model = g_key_file_get_string (file, "training",
                                                        "model", NULL);
        g_autofree char *objective = g_key_file_get_string (file, "training",
                                                            "objective", NULL);
        g_assert_cmpstr (model, ==, a.model->name);
        g_assert_cmpstr (objective, ==, a.objective->name);
        /* through text, as config.ini is read */
        g_autofree char *text = g_key_file_to_data (file, NULL, NULL);
        g_autoptr (GKeyFile) back = g_key_file_new ();
        g_autoptr (GError) error = NULL;
        g_assert_true (g_key_file_load_from_data (back, text, -1,
                                                  G_KEY_FILE_NONE, &error));
        g_assert_true (trainer_config_from_keyfile (&b, back, &error));
        g_assert_no_error (error);
        g_assert_true (b.model == a.model);
        g_assert_true (b.objective == a.objective);
      }

  /* a config.ini from before either key: the reference's */
  TrainerConfig reference, c;
  trainer_config_init_reference (&reference);
  g_autoptr (GKeyFile) bare = g_key_file_new ();
  g_key_file_set_integer (bare, "training", "batch_size", 64);
  g_assert_true (trainer_config_from_keyfile (&c, bare, NULL));
  g_assert_true (c.model == reference.model);
  g_assert_true (c.objective == reference.objective);
  g_assert_cmpstr (c.model->name, ==, "small");
  g_assert_cmpstr (c.objective->name, ==, "softmax");
}

static void
check_unknown (const char *dir, const char *key, const char *value,
               const char *known)
{
  TrainerConfig c;
  trainer_config_init_default (&c);
  g_autoptr (GKeyFile) file = g_key_file_new ();
  trainer_config_to_keyfile (&c, file);
  g_key_file_set_string (file, "training", key, value);
  g_autoptr (GError) error = NULL;
  g_assert_true (run_dir_save_config (dir, file, &error));
  g_autoptr (GKeyFile) loaded = trainer_run_load_config (dir, &c, &error);
  g_assert_null (loaded);
  g_assert_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE);
  g_test_message ("%s", error->message);
  g_autofree char *path = g_build_filename (dir, RUN_CONFIG_FILE, NULL);
  g_assert_true (g_str_has_prefix (error->message, path));
  g_assert_nonnull (strstr (error->message, key));
  g_assert_nonnull (strstr (error->message, value));
  g_assert_nonnull (strstr (error->message, known));
}

static void
test_unknown_name (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("instdisc-registry-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *objectives = objective_registry_names ();
  g_autofree char *models = model_registry_names ();
  check_unknown (dir, "objective", "contrastive", objectives);
  check_unknown (dir, "model", "resnet50", models);
  /* and a known one loads */
  TrainerConfig c;
  trainer_config_init_default (&c);
  g_autoptr (GKeyFile) file = g_key_file_new ();
  c.objective = objective_registry_lookup ("nce");
  trainer_config_to_keyfile (&c, file);
  g_assert_true (run_dir_save_config (dir, file, &error));
  TrainerConfig back;
  g_autoptr (GKeyFile) loaded = trainer_run_load_config (dir, &back, &error);
  g_assert_no_error (error);
  g_assert_true (back.objective == c.objective);
  g_autofree char *path = g_build_filename (dir, RUN_CONFIG_FILE, NULL);
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/method/registry/objectives", test_objectives);
  g_test_add_func ("/method/registry/models", test_models);
  g_test_add_func ("/method/registry/objective-contract",
                   test_objective_contract);
  g_test_add_func ("/method/registry/config-round-trip",
                   test_config_round_trip);
  g_test_add_func ("/method/registry/unknown-name", test_unknown_name);
  return g_test_run ();
}

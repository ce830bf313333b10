/* test-checkpoint.c: a trained small ResNet and its optimizer survive a save
 * and load bit for bit; files of the wrong network are refused by name and
 * leave the network untouched. */
#define G_LOG_DOMAIN "instdisc-io"

#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "checkpoint.h"
#include "resnet.h"
#include "rng.h"
#include "sgd.h"

#define BATCH 2

typedef struct
{
  char *dir;
  char *path;
  ResNet *net;
  Sgd sgd;
} Fixture;

static ResNet *
make_net (const ResNetConfig *config, guint64 seed)
{
  ResNet *net = resnet_new (config, BATCH);
  g_assert_nonnull (net);
  Rng rng;
  rng_seed (&rng, seed);
  resnet_init_parameters (net, &rng);
  return net;
}

/* One training step, so BN statistics, num_batches_tracked and the momentum
 * buffer all hold something other than their initial values. */
static void
train_step (ResNet *net, Sgd *sgd, guint64 seed)
{
  const ResNetConfig *c = &net->config;
  gsize n_images = (gsize) BATCH * c->in_channels * c->image_h * c->image_w;
  g_autofree float *images = g_new (float, n_images);     /* (B, C, H, W) */
  g_autofree float *d_emb = g_new (float, BATCH * c->low_dim);   /* (B, D) */
  Rng rng;
  rng_seed (&rng, seed);
  for (gsize i = 0; i < n_images; i++)
    images[i] = rng_normal (&rng);
  for (int i = 0; i < BATCH * c->low_dim; i++)
    d_emb[i] = rng_normal (&rng);
  resnet_forward (net, images, BATCH, true);
  resnet_backward (net, d_emb, BATCH, NULL);
  sgd_step (sgd, net->params, net->grads);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  GError *error = NULL;
  f->dir = g_dir_make_tmp ("instdisc-ckpt-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "checkpoint.safetensors", NULL);
  ResNetConfig config = resnet_config_small (1, 28, 28, 128);
  f->net = make_net (&config, 1);
  g_assert_true (sgd_init (&f->sgd, f->net->n_params, 0.03f, 0.9f, 5e-4f));
  train_step (f->net, &f->sgd, 2);
  train_step (f->net, &f->sgd, 3);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  sgd_clear (&f->sgd);
  resnet_free (f->net);
  g_autoptr (GDir) d = g_dir_open (f->dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *p = g_build_filename (f->dir, name, NULL);
      g_unlink (p);
    }
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static gsize
entry_bytes (const StateEntry *e)
{
  return e->numel * (e->dtype == DTYPE_I64 ? 8 : 4);
}

static void
assert_same_state (const ResNet *a, const ResNet *b)
{
  g_assert_cmpint (a->n_state, ==, b->n_state);
  for (int i = 0; i < a->n_state; i++)
    {
      g_assert_cmpstr (a->state[i].name, ==, b->state[i].name);
      g_assert_cmpmem (a->state[i].data, entry_bytes (&a->state[i]),
                       b->state[i].data, entry_bytes (&b->state[i]));
    }
  g_assert_cmpmem (a->params, a->n_params * sizeof (float), b->params,
                   b->n_params * sizeof (float));
}

/* A copy of every state entry's bytes, to see that a failed load wrote
 * nothing. */
static GBytes *
snapshot (const ResNet *net, const Sgd *sgd)
{
  GByteArray *all = g_byte_array_new ();
  for (int i = 0; i < net->n_state; i++)
    g_byte_array_append (all, net->state[i].data,
                         (guint) entry_bytes (&net->state[i]));
  if (sgd)
    {
      g_byte_array_append (all, (const guint8 *) sgd->momentum_buffer,
                           (guint) (sgd->n * sizeof (float)));
      guint8 has = sgd->has_buffer;
      g_byte_array_append (all, &has, 1);
    }
  return g_byte_array_free_to_bytes (all);
}

static void
test_roundtrip (Fixture *f, gconstpointer data)
{
  /* the step really changed what must be saved */
  StateEntry *nbt = resnet_find_state (f->net, "layer1.0.bn1.num_batches_tracked");
  g_assert_nonnull (nbt);
  g_assert_cmpint (*(gint64 *) nbt->data, ==, 2);
  g_assert_true (f->sgd.has_buffer);

  float bank[5 * 3];   /* (N, D) */
  for (int i = 0; i < 15; i++)
    bank[i] = (float) i / 7.0f;
  guint64 rng_state[4] = { 1, G_MAXUINT64, 3, 4 };
  SafetensorsTensor extra[2] = {
    { "memory.bank", DTYPE_F32, 2, { 5, 3 }, 15, bank },
    { "rng.state", DTYPE_I64, 1, { 4 }, 4, rng_state },
  };
  g_autoptr (GHashTable) meta = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_insert (meta, "epoch", "3");
  g_hash_table_insert (meta, "iteration", "1234");
  g_hash_table_insert (meta, "format", "overridden");

  GError *error = NULL;
  g_assert_true (checkpoint_save (f->path, f->net, &f->sgd, extra, 2, meta,
                                  &error));
  g_assert_no_error (error);

  ResNetConfig config = resnet_config_small (1, 28, 28, 128);
  ResNet *other = make_net (&config, 99);
  Sgd sgd;
  g_assert_true (sgd_init (&sgd, other->n_params, 0.03f, 0.9f, 5e-4f));
  const char *allowed[] = { "rng.", NULL };
  g_autoptr (SafetensorsFile) file = checkpoint_load (f->path, other, &sgd,
                                                      allowed, &error);
  g_assert_no_error (error);
  g_assert_nonnull (file);

  assert_same_state (f->net, other);
  g_assert_true (sgd.has_buffer);
  g_assert_cmpmem (sgd.momentum_buffer, sgd.n * sizeof (float),
                   f->sgd.momentum_buffer, f->sgd.n * sizeof (float));

  g_assert_cmpstr (safetensors_file_get_metadata (file, CHECKPOINT_FORMAT_KEY),
                   ==, CHECKPOINT_FORMAT);
  g_assert_cmpstr (safetensors_file_get_metadata (file, "epoch"), ==, "3");
  g_assert_cmpstr (safetensors_file_get_metadata (file, "iteration"), ==,
                   "1234");
  gint64 bank_shape[2] = { 5, 3 };
  const SafetensorsTensor *b = checkpoint_expect_tensor (file, "memory.bank",
                                                         DTYPE_F32, 2,
                                                         bank_shape, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (b->data, sizeof bank, bank, sizeof bank);
  gint64 wrong_shape[2] = { 6, 3 };
  g_assert_null (checkpoint_expect_tensor (file, "memory.bank", DTYPE_F32, 2,
                                           wrong_shape, &error));
  g_assert_error (error, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_MISMATCH);
  g_assert_nonnull (strstr (error->message, "memory.bank has shape [5, 3], "
                                            "expected [6, 3]"));
  g_clear_error (&error);
  const SafetensorsTensor *r = safetensors_file_lookup (file, "rng.state");
  g_assert_cmpmem (r->data, sizeof rng_state, rng_state, sizeof rng_state);

  /* training on from both gives the same numbers: nothing was lost */
  train_step (f->net, &f->sgd, 7);
  train_step (other, &sgd, 7);
  assert_same_state (f->net, other);

  sgd_clear (&sgd);
  resnet_free (other);
}

/* Model only, and an optimizer that has not stepped yet. */
static void
test_without_momentum (Fixture *f, gconstpointer data)
{
  GError *error = NULL;
  g_assert_true (checkpoint_save (f->path, f->net, NULL, NULL, 0, NULL,
                                  &error));
  g_assert_no_error (error);
  ResNetConfig config = resnet_config_small (1, 28, 28, 128);
  ResNet *other = make_net (&config, 5);
  g_autoptr (SafetensorsFile) file = checkpoint_load (f->path, other, NULL,
                                                      NULL, &error);
  g_assert_no_error (error);
  assert_same_state (f->net, other);

  /* a caller that wants optimizer state learns that there is none */
  Sgd sgd;
  g_assert_true (sgd_init (&sgd, other->n_params, 0.03f, 0.9f, 5e-4f));
  g_assert_null (checkpoint_load (f->path, other, &sgd, NULL, &error));
  g_assert_error (error, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_MISMATCH);
  g_assert_nonnull (strstr (error->message, "checkpoint.safetensors"));
  g_clear_error (&error);

  /* an optimizer saved before its first step */
  g_assert_true (checkpoint_save (f->path, f->net, &sgd, NULL, 0, NULL,
                                  &error));
  g_assert_no_error (error);
  g_autoptr (SafetensorsFile) file2 = checkpoint_load (f->path, other,
                                                       &f->sgd, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (f->sgd.has_buffer);
  sgd_clear (&sgd);
  resnet_free (other);
}

/* Writes the fixture network's checkpoint with one tensor changed by
 * edit (which may drop it by returning FALSE), plus an optional extra. */
typedef gboolean (*EditFunc) (SafetensorsTensor *t, gpointer user_data);

static void
save_edited (Fixture *f, EditFunc edit, gpointer user_data,
             const SafetensorsTensor *add, GHashTable *meta)
{
  /* the real file first, then rewritten through the generic writer */
  GError *error = NULL;
  g_assert_true (checkpoint_save (f->path, f->net, &f->sgd, NULL, 0, meta,
                                  &error));
  g_assert_no_error (error);
  g_autoptr (SafetensorsFile) file = safetensors_file_load (f->path, &error);
  g_assert_no_error (error);
  g_autoptr (GArray) tensors = g_array_new (FALSE, TRUE,
                                            sizeof (SafetensorsTensor));
  for (guint i = 0; i < safetensors_file_get_n_tensors (file); i++)
    {
      SafetensorsTensor t = *safetensors_file_get_tensor (file, i);
      if (!edit || edit (&t, user_data))
        g_array_append_val (tensors, t);
    }
  if (add)
    g_array_append_val (tensors, *add);
  g_autoptr (GHashTable) file_meta
      = g_hash_table_ref (safetensors_file_get_metadata_table (file));
  g_assert_true (safetensors_save (f->path,
                                   (SafetensorsTensor *) tensors->data,
                                   tensors->len, file_meta, &error));
  g_assert_no_error (error);
}

static void
expect_load_failure (Fixture *f, const char *const *allowed, int code,
                     const char *needle)
{
  ResNetConfig config = resnet_config_small (1, 28, 28, 128);
  ResNet *other = make_net (&config, 11);
  Sgd sgd;
  g_assert_true (sgd_init (&sgd, other->n_params, 0.03f, 0.9f, 5e-4f));
  train_step (other, &sgd, 12);
  g_autoptr (GBytes) before = snapshot (other, &sgd);

  GError *error = NULL;
  g_autoptr (SafetensorsFile) file = checkpoint_load (f->path, other, &sgd,
                                                      allowed, &error);
  g_assert_null (file);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_error (error, INSTDISC_IO_ERROR, code);
  g_assert_nonnull (strstr (error->message, "checkpoint.safetensors"));
  if (needle)
    g_assert_nonnull (strstr (error->message, needle));
  g_clear_error (&error);

  g_autoptr (GBytes) after = snapshot (other, &sgd);
  g_assert_true (g_bytes_equal (before, after));
  sgd_clear (&sgd);
  resnet_free (other);
}

static gboolean
drop_named (SafetensorsTensor *t, gpointer name)
{
  return strcmp (t->name, name) != 0;
}

static gboolean
float_nbt (SafetensorsTensor *t, gpointer name)
{
  static float zero[2];
  if (strcmp (t->name, name) == 0)
    {
      t->dtype = DTYPE_F32;
      t->data = zero;
    }
  return TRUE;
}

static gboolean
reshape_named (SafetensorsTensor *t, gpointer name)
{
  /* same bytes, the transposed shape */
  if (strcmp (t->name, name) == 0)
    {
      gint64 tmp = t->shape[0];
      t->shape[0] = t->shape[1];
      t->shape[1] = tmp;
    }
  return TRUE;
}

static void
test_missing (Fixture *f, gconstpointer data)
{
  save_edited (f, drop_named, "layer2.0.bn1.running_var", NULL, NULL);
  expect_load_failure (f, NULL, INSTDISC_IO_ERROR_MISMATCH,
                       "tensor layer2.0.bn1.running_var is missing");
  save_edited (f, drop_named, "optimizer.momentum_buffer.linear.bias", NULL,
               NULL);
  expect_load_failure (f, NULL, INSTDISC_IO_ERROR_MISMATCH,
                       "tensor optimizer.momentum_buffer.linear.bias is "
                       "missing");
}

static void
test_wrong_dtype (Fixture *f, gconstpointer data)
{
  save_edited (f, float_nbt, "bn1.num_batches_tracked", NULL, NULL);
  expect_load_failure (f, NULL, INSTDISC_IO_ERROR_MISMATCH,
                       "tensor bn1.num_batches_tracked has dtype F32, the "
                       "network expects I64");
}

static void
test_wrong_shape (Fixture *f, gconstpointer data)
{
  save_edited (f, reshape_named, "layer2.0.shortcut.0.weight", NULL, NULL);
  expect_load_failure (f, NULL, INSTDISC_IO_ERROR_MISMATCH,
                       "tensor layer2.0.shortcut.0.weight has shape "
                       "[16, 32, 1, 1], the network expects [32, 16, 1, 1]");
}

/* Checkpoints of other configurations: the message names the tensor and
 * both shapes. */
static void
test_other_network (Fixture *f, gconstpointer data)
{
  ResNetConfig config = resnet_config_small (1, 28, 28, 64);
  ResNet *narrow = make_net (&config, 3);
  GError *error = NULL;
  g_assert_true (checkpoint_save (f->path, narrow, NULL, NULL, 0, NULL,
                                  &error));
  g_assert_no_error (error);
  resnet_free (narrow);
  expect_load_failure (f, NULL, INSTDISC_IO_ERROR_MISMATCH,
                       "tensor linear.weight has shape [64, 128], the network "
                       "expects [128, 128]");

  config = resnet_config_small (3, 32, 32, 128);
  ResNet *rgb = make_net (&config, 3);
  g_assert_true (checkpoint_save (f->path, rgb, NULL, NULL, 0, NULL, &error));
  g_assert_no_error (error);
  resnet_free (rgb);
  expect_load_failure (f, NULL, INSTDISC_IO_ERROR_MISMATCH,
                       "tensor conv1.weight has shape [16, 3, 3, 3], the "
                       "network expects [16, 1, 3, 3]");
}

static void
test_extra (Fixture *f, gconstpointer data)
{
  float x[2] = { 1, 2 };
  SafetensorsTensor add = { "something.else", DTYPE_F32, 1, { 2 }, 2, x };
  save_edited (f, NULL, NULL, &add, NULL);
  expect_load_failure (f, NULL, INSTDISC_IO_ERROR_MISMATCH,
                       "unexpected tensor something.else");
  /* declared by the caller: accepted, by name or by prefix */
  const char *by_name[] = { "other", "something.else", NULL };
  const char *by_prefix[] = { "something.", NULL };
  const char *const *allowed[] = { by_name, by_prefix };
  for (int i = 0; i < 2; i++)
    {
      ResNetConfig config = resnet_config_small (1, 28, 28, 128);
      ResNet *other = make_net (&config, 4);
      GError *error = NULL;
      g_autoptr (SafetensorsFile) file = checkpoint_load (f->path, other, NULL,
                                                          allowed[i], &error);
      g_assert_no_error (error);
      assert_same_state (f->net, other);
      resnet_free (other);
    }

  /* optimizer names must still be the network's own */
  SafetensorsTensor stray = { "optimizer.momentum_buffer.layer9.weight",
                              DTYPE_F32, 1, { 2 }, 2, x };
  save_edited (f, NULL, NULL, &stray, NULL);
  expect_load_failure (f, NULL, INSTDISC_IO_ERROR_MISMATCH,
                       "unexpected tensor optimizer.momentum_buffer.layer9");
}

static void
test_wrong_format (Fixture *f, gconstpointer data)
{
  GError *error = NULL;
  g_assert_true (checkpoint_save (f->path, f->net, &f->sgd, NULL, 0, NULL,
                                  &error));
  g_autoptr (SafetensorsFile) file = safetensors_file_load (f->path, &error);
  g_assert_no_error (error);
  g_autoptr (GArray) tensors = g_array_new (FALSE, TRUE,
                                            sizeof (SafetensorsTensor));
  for (guint i = 0; i < safetensors_file_get_n_tensors (file); i++)
    g_array_append_val (tensors, *safetensors_file_get_tensor (file, i));
  g_autoptr (GHashTable) meta = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_insert (meta, "format", "instdisc-checkpoint 2");
  g_hash_table_insert (meta, CHECKPOINT_HAS_MOMENTUM_KEY, "true");
  g_assert_true (safetensors_save (f->path,
                                   (SafetensorsTensor *) tensors->data,
                                   tensors->len, meta, &error));
  g_assert_no_error (error);
  expect_load_failure (f, NULL, INSTDISC_IO_ERROR_UNSUPPORTED,
                       "instdisc-checkpoint 2");
}

/* Damaged checkpoints reach the network through the same checks. */
static void
test_truncated (Fixture *f, gconstpointer data)
{
  GError *error = NULL;
  g_assert_true (checkpoint_save (f->path, f->net, &f->sgd, NULL, 0, NULL,
                                  &error));
  g_assert_no_error (error);
  g_autofree char *contents = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (f->path, &contents, &len, NULL));
  g_assert_true (g_file_set_contents (f->path, contents, len - 100, NULL));
  expect_load_failure (f, NULL, INSTDISC_IO_ERROR_TRUNCATED,
                       "truncated: header says");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) \
  g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/io/checkpoint/roundtrip", test_roundtrip);
  ADD ("/io/checkpoint/without-momentum", test_without_momentum);
  ADD ("/io/checkpoint/missing", test_missing);
  ADD ("/io/checkpoint/wrong-dtype", test_wrong_dtype);
  ADD ("/io/checkpoint/wrong-shape", test_wrong_shape);
  ADD ("/io/checkpoint/other-network", test_other_network);
  ADD ("/io/checkpoint/extra", test_extra);
  ADD ("/io/checkpoint/wrong-format", test_wrong_format);
  ADD ("/io/checkpoint/truncated", test_truncated);
#undef ADD
  return g_test_run ();
}

/* command-info-tree.c: what `instdisc info --format tsv|json` prints: the
 * facts of the text, as named values (see command-info-private.h). */
#define G_LOG_DOMAIN "instdisc"

#include "command-info-private.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "checkpoint.h"
#include "npy.h"
#include "run-dir.h"

static void
norms_tree (CliValue *o, const NormStats *s)
{
  cli_set_int (o, "rows", (gint64) s->n_rows);
  cli_set_int (o, "unit_rows", (gint64) s->n_unit);
  cli_set_double (o, "unit_tolerance", INFO_UNIT_NORM_TOLERANCE);
  cli_set_int (o, "nonfinite_rows", (gint64) s->n_nonfinite);
  gboolean any = s->n_nonfinite < s->n_rows;
  cli_set_double (o, "norm_min", any ? s->min : NAN);
  cli_set_double (o, "norm_max", any ? s->max : NAN);
  cli_set_double (o, "norm_mean", any ? s->mean : NAN);
}

static void
shape_tree (CliValue *o, int ndim, const gint64 *shape)
{
  CliValue *a = cli_add_array (o, "shape");
  for (int d = 0; d < ndim; d++)
    cli_set_int (a, NULL, shape[d]);
}

static gboolean
npy_tree (const char *path, CliValue *o, GError **error)
{
  g_autoptr (NpyArray) a = npy_load (path, error);
  if (!a)
    return FALSE;
  g_autofree char *display = g_filename_display_name (path);
  cli_set_string (o, "file", display);
  cli_set_string (o, "kind", "npy");
  cli_set_string (o, "dtype", a->dtype == NPY_FLOAT32 ? "float32" : "int32");
  shape_tree (o, a->ndim, a->shape);
  gsize numel = a->ndim == 1 ? (gsize) a->shape[0]
                             : (gsize) a->shape[0] * a->shape[1];
  cli_set_int (o, "data_bytes", (gint64) numel * 4);
  if (a->dtype == NPY_FLOAT32 && a->ndim == 2)
    {
      NormStats s = info_row_norms (a->data, (gsize) a->shape[0],
                                    (gsize) a->shape[1]);
      norms_tree (cli_add_object (o, "norms"), &s);
    }
  else if (a->dtype == NPY_INT32 && numel > 0)
    {
      const gint32 *v = a->data;
      gint32 lo = v[0], hi = v[0];
      g_autoptr (GHashTable) distinct = g_hash_table_new (NULL, NULL);
      for (gsize i = 0; i < numel; i++)
        {
          lo = MIN (lo, v[i]);
          hi = MAX (hi, v[i]);
          g_hash_table_add (distinct, GINT_TO_POINTER (v[i]));
        }
      cli_set_int (o, "min", lo);
      cli_set_int (o, "max", hi);
      cli_set_int (o, "distinct", g_hash_table_size (distinct));
    }
  return TRUE;
}

static int
compare_keys (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static gint64
metadata_int (const SafetensorsFile *file, const char *key, gboolean *found)
{
  const char *value = safetensors_file_get_metadata (file, key);
  char *end = NULL;
  gint64 n = value ? g_ascii_strtoll (value, &end, 10) : 0;
  *found = value && end != value && *end == '\0';
  return n;
}

static gboolean
checkpoint_tree (const char *path, CliValue *o, GError **error)
{
  g_autoptr (SafetensorsFile) file = safetensors_file_load (path, error);
  if (!file)
    return FALSE;
  g_autofree char *display = g_filename_display_name (path);
  cli_set_string (o, "file", display);
  cli_set_string (o, "kind", "checkpoint");
  cli_set_string (o, "format", safetensors_file_get_metadata (
                                 file, CHECKPOINT_FORMAT_KEY));
  GStatBuf st;
  if (g_stat (path, &st) == 0)
    cli_set_int (o, "bytes", st.st_size);
  cli_set_int (o, "tensors", safetensors_file_get_n_tensors (file));
  gboolean found;
  gint64 epoch = metadata_int (file, "epoch", &found);
  if (found)
    cli_set_int (o, "epoch", epoch);
  gint64 step = metadata_int (file, "iteration", &found);
  if (found)
    cli_set_int (o, "step", step);

  InfoModel m;
  if (info_model (file, &m))
    {
      CliValue *model = cli_add_object (o, "model");
      cli_set_string (model, "name", m.model ? m.model->name : NULL);
      CliValue *widths = cli_add_array (model, "widths");
      CliValue *blocks = cli_add_array (model, "blocks");
      for (int s = 0; s < 4; s++)
        {
          cli_set_int (widths, NULL, m.widths[s]);
          cli_set_int (blocks, NULL, m.blocks[s]);
        }
      cli_set_int (model, "input_channels", m.channels);
      cli_set_int (model, "low_dim", m.low_dim);
      cli_set_int (model, "linear_inputs", m.linear_in);
      cli_set_int (model, "parameters", (gint64) m.n_params);
      cli_set_int (model, "parameter_tensors", (gint64) m.n_param_tensors);
      cli_set_int (model, "batch_norm_layers", (gint64) m.n_bn);
    }
  else
    cli_set_string (o, "model", NULL);

  const SafetensorsTensor *bank = info_lookup (file, "memory.bank");
  if (bank && bank->ndim == 2 && bank->dtype == DTYPE_F32)
    {
      CliValue *b = cli_add_object (o, "memory_bank");
      shape_tree (b, bank->ndim, bank->shape);
      NormStats s = info_row_norms (bank->data, (gsize) bank->shape[0],
                                    (gsize) bank->shape[1]);
      norms_tree (cli_add_object (b, "norms"), &s);
    }
  else
    cli_set_string (o, "memory_bank", NULL);

  guint n_buffers = 0;
  for (guint i = 0; i < safetensors_file_get_n_tensors (file); i++)
    if (g_str_has_prefix (safetensors_file_get_tensor (file, i)->name,
                          CHECKPOINT_MOMENTUM_PREFIX))
      n_buffers++;
  cli_set_int (o, "momentum_buffers", n_buffers);

  GHashTable *table = safetensors_file_get_metadata_table (file);
  CliValue *metadata = cli_add_object (o, "metadata");
  if (table)
    {
      g_autofree gpointer *keys = g_hash_table_get_keys_as_array (table,
                                                                  NULL);
      guint n = g_hash_table_size (table);
      qsort (keys, n, sizeof *keys, compare_keys);
      for (guint k = 0; k < n; k++)
        cli_set_string (metadata, keys[k], g_hash_table_lookup (table,
                                                                keys[k]));
    }

  CliValue *other = cli_add_array (o, "other_tensors");
  for (guint i = 0; i < safetensors_file_get_n_tensors (file); i++)
    {
      const SafetensorsTensor *t = safetensors_file_get_tensor (file, i);
      if (info_is_model_tensor (t->name) || t == bank
          || g_str_has_prefix (t->name, CHECKPOINT_OPTIMIZER_PREFIX))
        continue;
      CliValue *e = cli_add_object (other, NULL);
      cli_set_string (e, "name", t->name);
      cli_set_string (e, "dtype", t->dtype == DTYPE_I64 ? "int64" : "float32");
      shape_tree (e, t->ndim, t->shape);
    }
  return TRUE;
}

static void
metrics_tree (const GArray *rows, guint n, CliValue *o)
{
  guint n_eval = 0;
  for (guint i = 0; i < rows->len; i++)
    if (g_strcmp0 (g_array_index (rows, MetricsRow, i).kind, "eval") == 0)
      n_eval++;
  cli_set_int (o, "rows", rows->len);
  cli_set_int (o, "steps", rows->len - n_eval);
  cli_set_int (o, "evaluations", n_eval);
  CliValue *last = cli_add_array (o, "last");
  for (guint i = rows->len > n ? rows->len - n : 0; i < rows->len; i++)
    {
      const MetricsRow *row = &g_array_index (rows, MetricsRow, i);
      CliValue *r = cli_add_object (last, NULL);
      cli_set_string (r, "kind", row->kind);
      cli_set_int (r, "iteration", row->iteration);
      cli_set_int (r, "epoch", row->epoch);
      for (guint c = 0; info_metrics_columns[c]; c++)
        {
          double v = metrics_row_get (row, info_metrics_columns[c]);
          if (!isnan (v))
            cli_set_double (r, info_metrics_columns[c], v);
        }
      for (guint e = 0; e < row->n_extra; e++)
        if (!isnan (row->extra[e]))
          cli_set_double (r, row->extra_names[e], row->extra[e]);
    }
}

static gboolean
run_dir_tree (const char *dir, guint n_rows, CliValue *o, GError **error)
{
  g_autofree char *display = g_filename_display_name (dir);
  g_autofree char *config_path = run_dir_file (dir, RUN_CONFIG_FILE);
  g_autofree char *metrics_path = run_dir_file (dir, RUN_METRICS_FILE);
  g_autofree char *checkpoint_path = run_dir_file (dir, RUN_CHECKPOINT_FILE);
  gboolean has_config = g_file_test (config_path, G_FILE_TEST_EXISTS);
  gboolean has_metrics = g_file_test (metrics_path, G_FILE_TEST_EXISTS);
  gboolean has_checkpoint = g_file_test (checkpoint_path, G_FILE_TEST_EXISTS);
  if (!has_config && !has_metrics && !has_checkpoint)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                   _("%s: not a run folder (no %s, %s or %s)"), display,
                   RUN_CONFIG_FILE, RUN_METRICS_FILE, RUN_CHECKPOINT_FILE);
      return FALSE;
    }
  cli_set_string (o, "file", display);
  cli_set_string (o, "kind", "run");
  if (has_config)
    {
      g_autoptr (GKeyFile) config = run_dir_load_config (dir, error);
      if (!config)
        return FALSE;
      CliValue *c = cli_add_object (o, "config");
      g_auto (GStrv) groups = g_key_file_get_groups (config, NULL);
      for (int g = 0; groups[g]; g++)
        {
          CliValue *group = cli_add_object (c, groups[g]);
          g_auto (GStrv) keys = g_key_file_get_keys (config, groups[g], NULL,
                                                     NULL);
          for (int k = 0; keys && keys[k]; k++)
            {
              g_autofree char *value = g_key_file_get_value (
                  config, groups[g], keys[k], NULL);
              cli_set_string (group, keys[k], value);
            }
        }
    }
  else
    cli_set_string (o, "config", NULL);
  if (has_metrics)
    {
      g_autoptr (GArray) rows = run_dir_load_metrics (dir, error);
      if (!rows)
        return FALSE;
      metrics_tree (rows, n_rows, cli_add_object (o, "metrics"));
    }
  else
    cli_set_string (o, "metrics", NULL);
  if (has_checkpoint)
    {
      if (!checkpoint_tree (checkpoint_path, cli_add_object (o, "checkpoint"),
                            error))
        return FALSE;
    }
  else
    cli_set_string (o, "checkpoint", NULL);
  CliValue *exports = cli_add_array (o, "exports");
  static const char *const names[] = { "features.npy", "labels.npy", NULL };
  for (int i = 0; names[i]; i++)
    {
      g_autofree char *path = run_dir_file (dir, names[i]);
      if (g_file_test (path, G_FILE_TEST_EXISTS)
          && !npy_tree (path, cli_add_object (exports, NULL), error))
        return FALSE;
    }
  return TRUE;
}

gboolean
info_tree (const char *path, guint n_rows, CliValue *out, GError **error)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    return run_dir_tree (path, n_rows, out, error);
  if (g_str_has_suffix (path, ".npy") || info_starts_with_npy_magic (path))
    return npy_tree (path, out, error);
  return checkpoint_tree (path, out, error);
}

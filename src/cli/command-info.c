/* command-info.c: `instdisc info FILE...`, what a checkpoint, a .npy file
 * or a run folder holds, read from the files alone (no data set needed), so
 * a run copied from another machine can be checked before it is used. */
#define G_LOG_DOMAIN "instdisc"

#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include <glib.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "checkpoint.h"
#include "cli-common.h"
#include "command-info-private.h"
#include "commands.h"
#include "model.h"
#include "npy.h"
#include "run-dir.h"
#include "safetensors.h"


static char *
format_bytes (guint64 bytes)
{
  return g_format_size_full (bytes, G_FORMAT_SIZE_IEC_UNITS);
}

static char *
format_shape (int ndim, const gint64 *shape)
{
  GString *s = g_string_new ("(");
  for (int d = 0; d < ndim; d++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, d ? ", " : "", shape[d]);
  g_string_append (s, ndim == 1 ? ",)" : ")");
  return g_string_free (s, FALSE);
}

static void
print_indented (const char *indent, const char *text)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (int i = 0; lines[i]; i++)
    if (lines[i][0] != '\0')
      g_print ("%s%s\n", indent, lines[i]);
}

/* ---- float rows: norms ---- */

/* L2 norm of each of the n rows of dim values, accumulated in double */
NormStats
info_row_norms (const float *x, gsize n, gsize dim)
{
  NormStats s = { .n_rows = n, .min = INFINITY, .max = -INFINITY };
  double sum = 0.0;
  for (gsize i = 0; i < n; i++)
    {
      double sq = 0.0;
      for (gsize d = 0; d < dim; d++)
        {
          double v = x[i * dim + d];
          sq += v * v;
        }
      double norm = sqrt (sq);
      if (!isfinite (norm))
        {
          s.n_nonfinite++;
          continue;
        }
      s.min = MIN (s.min, norm);
      s.max = MAX (s.max, norm);
      sum += norm;
      if (fabs (norm - 1.0) <= INFO_UNIT_NORM_TOLERANCE)
        s.n_unit++;
    }
  gsize n_finite = n - s.n_nonfinite;
  s.mean = n_finite ? sum / n_finite : NAN;
  return s;
}

static void
print_norms (const char *indent, const NormStats *s)
{
  if (s->n_rows == 0)
    {
      g_print ("%s%s\n", indent, _("rows: none"));
      return;
    }
  g_print ("%s", indent);
  if (s->n_unit == s->n_rows)
    g_print (_("rows: all unit-norm (within %g)"), INFO_UNIT_NORM_TOLERANCE);
  else
    g_print (_("rows: %zu of %zu unit-norm (within %g)"), s->n_unit, s->n_rows,
             INFO_UNIT_NORM_TOLERANCE);
  if (s->n_nonfinite < s->n_rows)
    g_print (_("; norm min %.6f, max %.6f, mean %.6f"), s->min, s->max,
             s->mean);
  g_print ("\n");
  if (s->n_nonfinite > 0)
    {
      g_print ("%s", indent);
      g_print (_("%zu rows hold NaN or infinity"),
               s->n_nonfinite);
      g_print ("\n");
    }
}

/* ---- .npy ---- */

static gboolean
describe_npy (const char *path, const char *indent, GError **error)
{
  g_autoptr (NpyArray) a = npy_load (path, error);
  if (!a)
    return FALSE;
  g_autofree char *display = g_filename_display_name (path);
  g_autofree char *shape = format_shape (a->ndim, a->shape);
  gsize numel = a->ndim == 1 ? (gsize) a->shape[0]
                             : (gsize) a->shape[0] * a->shape[1];
  g_autofree char *size = format_bytes (numel * 4);
  g_print ("%s", indent);
  /* Translators: file, dtype (float32 or int32), shape, size of the data */
  g_print (_("%s: NumPy array, %s, shape %s (%s of data)"), display,
           a->dtype == NPY_FLOAT32 ? "float32" : "int32", shape, size);
  g_print ("\n");
  g_autofree char *more = g_strconcat (indent, "  ", NULL);
  if (a->dtype == NPY_FLOAT32)
    {
      /* a 1-D float array is described as N rows of one value */
      gsize dim = a->ndim == 2 ? (gsize) a->shape[1] : 1;
      NormStats s = info_row_norms (a->data, (gsize) a->shape[0], dim);
      if (a->ndim == 2)
        print_norms (more, &s);
    }
  else if (numel > 0)
    {
      /* labels: their range and how many classes they use */
      const gint32 *v = a->data;
      gint32 lo = v[0], hi = v[0];
      for (gsize i = 1; i < numel; i++)
        {
          lo = MIN (lo, v[i]);
          hi = MAX (hi, v[i]);
        }
      g_autoptr (GHashTable) distinct = g_hash_table_new (NULL, NULL);
      for (gsize i = 0; i < numel; i++)
        g_hash_table_add (distinct, GINT_TO_POINTER (v[i]));
      g_print ("%s", more);
      g_print (_("values %d to %d, %u distinct"), lo, hi,
               g_hash_table_size (distinct));
      g_print ("\n");
    }
  return TRUE;
}

/* ---- checkpoints ---- */

const SafetensorsTensor *
info_lookup (const SafetensorsFile *file, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *name = g_strdup_vprintf (format, args);
  va_end (args);
  return safetensors_file_lookup (file, name);
}

/* The network's names (io/checkpoint.h: the reference's state_dict; "fc."
 * is the ImageNet nets' head, as torchvision names it). */
gboolean
info_is_model_tensor (const char *name)
{
  return g_str_has_prefix (name, "conv1.") || g_str_has_prefix (name, "bn1.")
         || g_str_has_prefix (name, "layer") || g_str_has_prefix (name, "linear.")
         || g_str_has_prefix (name, "fc.");
}

static gboolean
is_bn_statistic (const char *name)
{
  return g_str_has_suffix (name, ".running_mean")
         || g_str_has_suffix (name, ".running_var")
         || g_str_has_suffix (name, ".num_batches_tracked");
}

/* The architecture, from tensor shapes alone: conv1.weight is
 * (w0, C, 3, 3) (CIFAR) or (64, C, 7, 7) (ImageNet), layerS.B.conv1.weight
 * (wS, ., k, k) for each block B (a bottleneck's inner width; it has a
 * layerS.B.conv3), and linear.weight (CIFAR) or fc.weight (ImageNet)
 * (low_dim, features). */
gboolean
info_model (const SafetensorsFile *file, InfoModel *m)
{
  memset (m, 0, sizeof *m);
  const SafetensorsTensor *conv1 = info_lookup (file, "conv1.weight");
  const SafetensorsTensor *linear = info_lookup (file, "linear.weight");
  if (!linear)
    linear = info_lookup (file, "fc.weight");
  if (!conv1 || conv1->ndim != 4 || !linear || linear->ndim != 2)
    return FALSE;
  m->stem = conv1->shape[2] == 7 ? RESNET_STEM_IMAGENET : RESNET_STEM_CIFAR;
  m->block = info_lookup (file, "layer1.0.conv3.weight")
                 ? RESNET_BLOCK_BOTTLENECK : RESNET_BLOCK_BASIC;
  for (int s = 0; s < 4; s++)
    {
      const SafetensorsTensor *t;
      while ((t = info_lookup (file, "layer%d.%d.conv1.weight", s + 1,
                          m->blocks[s])) && t->ndim == 4)
        {
          m->widths[s] = (int) t->shape[0];
          m->blocks[s]++;
        }
    }
  m->channels = (int) conv1->shape[1];
  m->low_dim = linear->shape[0];
  m->linear_in = linear->shape[1];
  /* a network of the model registry when one has these widths and blocks
   * (the image size does not change them) */
  for (guint i = 0; i < model_registry_size (); i++)
    {
      const ModelClass *model = model_registry_get (i);
      ResNetConfig config = model->network_config (m->channels, 32, 32,
                                                   (int) m->low_dim);
      if (memcmp (config.widths, m->widths, sizeof m->widths) == 0
          && memcmp (config.blocks_per_stage, m->blocks, sizeof m->blocks)
               == 0
          && config.stem == m->stem && config.block == m->block)
        {
          m->model = model;
          break;
        }
    }
  for (guint i = 0; i < safetensors_file_get_n_tensors (file); i++)
    {
      const SafetensorsTensor *t = safetensors_file_get_tensor (file, i);
      if (!info_is_model_tensor (t->name))
        continue;
      if (g_str_has_suffix (t->name, ".running_mean"))
        m->n_bn++;
      if (is_bn_statistic (t->name))
        continue;
      m->n_params += t->numel;
      m->n_param_tensors++;
    }
  return TRUE;
}

static void
describe_model (const SafetensorsFile *file, const char *indent)
{
  InfoModel m;
  if (!info_model (file, &m))
    {
      g_print ("%s%s\n", indent,
               _("model: none recognised (no conv1.weight and "
                 "linear.weight or fc.weight of a ResNet)"));
      return;
    }
  /* the label, and the name --model and config.ini take */
  g_autofree char *name
    = m.model ? g_strdup_printf ("%s (%s)", model_class_get_label (m.model),
                                 m.model->name)
              : g_strdup ("ResNet");
  g_print ("%s", indent);
  /* Translators: the model's name, its widths and blocks per stage, the
   * input channels and the embedding dimension (low_dim) */
  g_print (ngettext ("model: %s, widths %d/%d/%d/%d, blocks %d/%d/%d/%d, "
                     "%d input channel, low_dim %" PRId64,
                     "model: %s, widths %d/%d/%d/%d, blocks %d/%d/%d/%d, "
                     "%d input channels, low_dim %" PRId64,
                     m.channels),
           name, m.widths[0], m.widths[1], m.widths[2], m.widths[3],
           m.blocks[0], m.blocks[1], m.blocks[2], m.blocks[3], m.channels,
           m.low_dim);
  g_print ("\n");
  /* the pooled map that feeds the linear layer tells the image size apart:
   * one cell is 32x32 (or 28x28) input, more cells a larger image (the
   * ImageNet nets pool to one cell whatever the size) */
  if (m.stem == RESNET_STEM_CIFAR && m.widths[3] > 0
      && m.linear_in != m.widths[3])
    {
      g_print ("%s  ", indent);
      g_print (_("linear layer reads %" PRId64 " features (%"
                 PRId64 " pooled cells of %d channels)"),
               m.linear_in, m.linear_in / m.widths[3], m.widths[3]);
      g_print ("\n");
    }
  g_autofree char *size = format_bytes ((guint64) m.n_params * 4);
  g_print ("%s", indent);
  g_print (_("parameters: %zu in %zu tensors (%s), batch-norm statistics for "
             "%zu layers"), m.n_params, m.n_param_tensors, size, m.n_bn);
  g_print ("\n");
}

static void
describe_optimizer (const SafetensorsFile *file, const char *indent)
{
  guint n_buffers = 0;
  for (guint i = 0; i < safetensors_file_get_n_tensors (file); i++)
    if (g_str_has_prefix (safetensors_file_get_tensor (file, i)->name,
                          CHECKPOINT_MOMENTUM_PREFIX))
      n_buffers++;
  const char *has = safetensors_file_get_metadata (file,
                                                   CHECKPOINT_HAS_MOMENTUM_KEY);
  g_print ("%s", indent);
  if (n_buffers > 0)
    g_print (_("optimizer: SGD momentum buffers for %u parameter tensors"),
             n_buffers);
  else if (has)
    g_print ("%s", _("optimizer: SGD state, no momentum buffer yet (saved "
                     "before the first step)"));
  else
    g_print ("%s", _("optimizer: none saved (weights only)"));
  g_print ("\n");
}

static int
compare_keys (gconstpointer a, gconstpointer b, gpointer user_data)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The metadata a reader cares about first, then the rest by name. */
static void
describe_metadata (const SafetensorsFile *file, GKeyFile *run_config,
                   const char *indent)
{
  const char *epoch = safetensors_file_get_metadata (file, "epoch");
  const char *iteration = safetensors_file_get_metadata (file, "iteration");
  if (epoch || iteration)
    {
      g_print ("%s", indent);
      g_print (_("trained: epoch %s, iteration %s"), epoch ? epoch : "?",
               iteration ? iteration : "?");
      g_print ("\n");
    }
  GHashTable *table = safetensors_file_get_metadata_table (file);
  if (!table)
    return;
  g_autofree gpointer *keys = g_hash_table_get_keys_as_array (table, NULL);
  guint n = g_hash_table_size (table);
  g_qsort_with_data (keys, n, sizeof *keys, compare_keys, NULL);
  static const char *const shown[] = {
    CHECKPOINT_FORMAT_KEY, CHECKPOINT_HAS_MOMENTUM_KEY, "epoch", "iteration",
    "config", NULL,
  };
  for (guint k = 0; k < n; k++)
    if (!g_strv_contains (shown, keys[k]))
      {
        g_print ("%s", indent);
        /* Translators: a metadata key and its value, both as in the file */
        g_print (_("metadata %s = %s"), (char *) keys[k],
                 (char *) g_hash_table_lookup (table, keys[k]));
        g_print ("\n");
      }
  const char *config = g_hash_table_lookup (table, "config");
  if (!config)
    return;
  g_autofree char *more = g_strconcat (indent, "  ", NULL);
  if (!run_config)
    {
      g_print ("%s%s\n", indent, _("config:"));
      print_indented (more, config);
      return;
    }
  /* inside a run folder: only what differs from config.ini, which is what
   * a resume would trip over */
  g_autoptr (GKeyFile) saved = g_key_file_new ();
  if (!g_key_file_load_from_data (saved, config, -1, G_KEY_FILE_NONE, NULL))
    {
      g_print ("%s%s\n", indent, _("config: not a key file:"));
      print_indented (more, config);
      return;
    }
  guint n_differ = 0;
  g_auto (GStrv) groups = g_key_file_get_groups (saved, NULL);
  for (int g = 0; groups[g]; g++)
    {
      g_auto (GStrv) names = g_key_file_get_keys (saved, groups[g], NULL,
                                                  NULL);
      for (int k = 0; names && names[k]; k++)
        {
          g_autofree char *ours = g_key_file_get_value (saved, groups[g],
                                                        names[k], NULL);
          g_autofree char *theirs = g_key_file_get_value (run_config,
                                                          groups[g], names[k],
                                                          NULL);
          if (g_strcmp0 (ours, theirs) == 0)
            continue;
          if (n_differ++ == 0)
            {
              g_print ("%s", indent);
              g_print (_("config: differs from %s:"), RUN_CONFIG_FILE);
              g_print ("\n");
            }
          g_print ("%s", more);
          /* Translators: [group] key = the checkpoint's value here, the
           * run folder's config.ini value there */
          g_print (_("[%s] %s = %s here, %s there"), groups[g], names[k],
                   ours, theirs ? theirs : _("(none)"));
          g_print ("\n");
        }
    }
  if (n_differ == 0)
    {
      g_print ("%s", indent);
      g_print (_("config: the same as %s"), RUN_CONFIG_FILE);
      g_print ("\n");
    }
}

/* run_config: the run folder's config.ini when the checkpoint is in one,
 * else NULL */
static gboolean
describe_checkpoint (const char *path, GKeyFile *run_config,
                     const char *indent, GError **error)
{
  g_autoptr (SafetensorsFile) file = safetensors_file_load (path, error);
  if (!file)
    return FALSE;
  g_autofree char *display = g_filename_display_name (path);
  const char *format = safetensors_file_get_metadata (file,
                                                      CHECKPOINT_FORMAT_KEY);
  GStatBuf st;
  g_autofree char *size = g_stat (path, &st) == 0 ? format_bytes (st.st_size)
                                                  : g_strdup ("?");
  guint n_tensors = safetensors_file_get_n_tensors (file);
  g_print ("%s", indent);
  if (format)
    g_print (_("%s: checkpoint, format “%s”, %u tensors, %s"), display,
             format, n_tensors, size);
  else
    g_print (_("%s: safetensors without a format key (a plain state_dict?), "
               "%u tensors, %s"), display, n_tensors, size);
  g_print ("\n");

  g_autofree char *more = g_strconcat (indent, "  ", NULL);
  describe_metadata (file, run_config, more);
  describe_model (file, more);

  const SafetensorsTensor *bank = info_lookup (file, "memory.bank");
  if (bank && bank->ndim == 2 && bank->dtype == DTYPE_F32)
    {
      g_print ("%s", more);
      g_print (_("memory bank: %" PRId64 " x %" PRId64
                 " float32"), bank->shape[0], bank->shape[1]);
      g_print ("\n");
      g_autofree char *deeper = g_strconcat (more, "  ", NULL);
      NormStats s = info_row_norms (bank->data, (gsize) bank->shape[0],
                               (gsize) bank->shape[1]);
      print_norms (deeper, &s);
    }
  else
    g_print ("%s%s\n", more, _("memory bank: none"));
  describe_optimizer (file, more);

  /* anything else, so nothing in the file goes unmentioned */
  for (guint i = 0; i < n_tensors; i++)
    {
      const SafetensorsTensor *t = safetensors_file_get_tensor (file, i);
      if (info_is_model_tensor (t->name) || t == bank
          || g_str_has_prefix (t->name, CHECKPOINT_OPTIMIZER_PREFIX))
        continue;
      g_autofree char *shape = format_shape (t->ndim, t->shape);
      g_print ("%s", more);
      /* Translators: a tensor's name, dtype and shape, as in the file */
      g_print (_("other tensor: %s %s %s"), t->name,
               t->dtype == DTYPE_I64 ? "int64" : "float32", shape);
      g_print ("\n");
    }
  return TRUE;
}

/* ---- run folders ---- */

/* the common numeric columns shown, in the file's order; the rows' extra
 * columns (the objective's) follow them */
const char *const info_metrics_columns[] = {
  "loss", "lr", "images_per_s", "knn_top1", "knn_top5", "knn_1nn",
  "knn_top1_recomputed", "knn_top5_recomputed", "linear_top1",
  "linear_top5", "wall_s", NULL,
};

/* The last n rows, with only the columns that have a value in them: an
 * excerpt of the file, so its column names, kinds and numbers are printed
 * as the file has them (untranslated, '.' as the decimal point). */
static void
print_metrics (const GArray *rows, guint n, const char *indent)
{
  guint first = rows->len > n ? rows->len - n : 0;
  guint n_eval = 0;
  for (guint i = 0; i < rows->len; i++)
    if (g_strcmp0 (g_array_index (rows, MetricsRow, i).kind, "eval") == 0)
      n_eval++;
  g_print ("%s", indent);
  g_print (rows->len ? _("metrics.csv: %u rows (%u steps, %u evaluations), "
                         "the last:")
                     : _("metrics.csv: %u rows (%u steps, %u evaluations)"),
           rows->len, rows->len - n_eval, n_eval);
  g_print ("\n");
  if (rows->len == 0)
    return;
  /* every column, by name, that has a value in the rows shown */
  g_autoptr (GPtrArray) used = g_ptr_array_new ();
  for (guint c = 0; info_metrics_columns[c]; c++)
    for (guint i = first; i < rows->len; i++)
      if (!isnan (metrics_row_get (&g_array_index (rows, MetricsRow, i),
                                   info_metrics_columns[c])))
        {
          g_ptr_array_add (used, (gpointer) info_metrics_columns[c]);
          break;
        }
  for (guint i = first; i < rows->len; i++)
    {
      const MetricsRow *row = &g_array_index (rows, MetricsRow, i);
      for (guint e = 0; e < row->n_extra; e++)
        if (!isnan (row->extra[e])
            && !g_ptr_array_find_with_equal_func (used, row->extra_names[e],
                                                  g_str_equal, NULL))
          g_ptr_array_add (used, (gpointer) row->extra_names[e]);
    }
  g_autoptr (GString) line = g_string_new (NULL);
  g_string_append_printf (line, "%s  %-5s %9s %5s", indent, "kind",
                          "iteration", "epoch");
  for (guint c = 0; c < used->len; c++)
    {
      const char *name = used->pdata[c];
      g_string_append_printf (line, " %*s", MAX (10, (int) strlen (name)),
                              name);
    }
  g_print ("%s\n", line->str);
  for (guint i = first; i < rows->len; i++)
    {
      const MetricsRow *row = &g_array_index (rows, MetricsRow, i);
      g_string_printf (line, "%s  %-5s %9" G_GINT64_FORMAT " %5d", indent,
                       row->kind, row->iteration, row->epoch);
      for (guint c = 0; c < used->len; c++)
        {
          const char *name = used->pdata[c];
          int width = MAX (10, (int) strlen (name));
          double v = metrics_row_get (row, name);
          if (isnan (v))
            g_string_append_printf (line, " %*s", width, "");
          else
            {
              char number[G_ASCII_DTOSTR_BUF_SIZE];
              g_ascii_formatd (number, sizeof number, "%.5g", v);
              g_string_append_printf (line, " %*s", width, number);
            }
        }
      g_print ("%s\n", line->str);
    }
}

static gboolean
describe_run_dir (const char *dir, guint n_rows, GError **error)
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
  g_print (_("%s: run folder"), display);
  g_print ("\n");
  g_autoptr (GKeyFile) config = NULL;
  if (has_config)
    {
      config = run_dir_load_config (dir, error);
      if (!config)
        return FALSE;
      g_autofree char *text = g_key_file_to_data (config, NULL, NULL);
      g_print ("  %s:\n", RUN_CONFIG_FILE);
      print_indented ("    ", text);
    }
  else
    {
      g_print ("  ");
      g_print (_("%s: none"), RUN_CONFIG_FILE);
      g_print ("\n");
    }
  if (has_metrics)
    {
      g_autoptr (GArray) rows = run_dir_load_metrics (dir, error);
      if (!rows)
        return FALSE;
      print_metrics (rows, n_rows, "  ");
    }
  else
    {
      g_print ("  ");
      g_print (_("%s: none"), RUN_METRICS_FILE);
      g_print ("\n");
    }
  if (has_checkpoint)
    {
      if (!describe_checkpoint (checkpoint_path, config, "  ", error))
        return FALSE;
    }
  else
    {
      g_print ("  ");
      g_print (_("%s: none"), RUN_CHECKPOINT_FILE);
      g_print ("\n");
    }
  /* the exports, when there */
  static const char *const exports[] = { "features.npy", "labels.npy", NULL };
  for (int i = 0; exports[i]; i++)
    {
      g_autofree char *path = run_dir_file (dir, exports[i]);
      if (g_file_test (path, G_FILE_TEST_EXISTS)
          && !describe_npy (path, "  ", error))
        return FALSE;
    }
  return TRUE;
}

/* ---- the command ---- */

gboolean
info_starts_with_npy_magic (const char *path)
{
  FILE *f = g_fopen (path, "rb");
  if (!f)
    return FALSE;
  char magic[6];
  gboolean yes = fread (magic, 1, 6, f) == 6
                 && memcmp (magic, "\x93NUMPY", 6) == 0;
  fclose (f);
  return yes;
}

static gboolean
describe (const char *path, guint n_rows, GError **error)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    return describe_run_dir (path, n_rows, error);
  /* by content, so a renamed file is still described; a missing or
   * unreadable file falls through to the safetensors reader's message */
  if (g_str_has_suffix (path, ".npy") || info_starts_with_npy_magic (path))
    return describe_npy (path, "", error);
  return describe_checkpoint (path, NULL, "", error);
}

int
command_info (int argc, char **argv)
{
  int n_rows = 5;
  g_autofree char *format_name = NULL;
  GOptionEntry entries[] = {
    { "rows", 'n', 0, G_OPTION_ARG_INT, &n_rows,
      N_("Last rows of metrics.csv to show for a run folder (default 5)"),
      N_("N") },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format_name,
      N_("Output: text (the default), tsv (a row per fact: file, key, "
         "value) or json (one object, its \"files\" one per FILE)"),
      N_("FORMAT") },
    { NULL },
  };
  if (!cli_parse_options (&argc, &argv, entries,
      _("FILE... - describe checkpoints, .npy files and run folders"),
      _("A checkpoint (.safetensors): its metadata, the model inferred from "
        "the tensor shapes, parameter count, memory bank and optimizer "
        "state.\n"
        "A .npy file: dtype and shape; for float32 (N, D) whether the rows "
        "are unit-norm.\n"
        "A run folder: its config.ini, the last metrics rows, its "
        "checkpoint.")))
    return 1;
  g_autoptr (GError) error = NULL;
  if (argc < 2)
    return cli_fail_message (_("info: no file given (see --help)"));
  if (n_rows < 0)
    return cli_fail_message (_("--rows takes a count, not %d"), n_rows);

  CliFormat format;
  if (!cli_format_parse (format_name, &format))
    return 1;

  int status = 0;
  gboolean header_done = FALSE;
  g_autoptr (CliValue) root = cli_object_new ();
  CliValue *files = cli_add_array (root, "files");
  for (int i = 1; i < argc; i++)
    {
      gboolean ok;
      if (format == CLI_FORMAT_TEXT)
        {
          if (i > 1)
            g_print ("\n");
          ok = describe (argv[i], (guint) n_rows, &error);
        }
      else
        {
          CliValue *file = cli_add_object (files, NULL);
          ok = info_tree (argv[i], (guint) n_rows, file, &error);
          /* a row per fact, each with the FILE it is of */
          if (ok && format == CLI_FORMAT_TSV)
            {
              g_autofree char *shown = g_filename_display_name (argv[i]);
              cli_print_tsv_flat (file, "file", shown, !header_done);
              header_done = TRUE;
            }
        }
      if (!ok)
        {
          /* go on with the other files; the status tells one failed */
          cli_fail (error);
          g_clear_error (&error);
          status = 1;
        }
    }
  if (format == CLI_FORMAT_JSON)
    cli_print_json (root);
  return status;
}

/* checkpoint.c: a ResNet, its SGD momentum and the caller's extra tensors
 * in one safetensors file; see checkpoint.h for the names. */
#define G_LOG_DOMAIN "instdisc-io"

#include "checkpoint.h"

#include <inttypes.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

static gsize
dtype_size (DType dtype)
{
  return dtype == DTYPE_I64 ? 8 : 4;
}

static const char *
dtype_label (DType dtype)
{
  return dtype == DTYPE_I64 ? "I64" : dtype == DTYPE_F32 ? "F32" : "?";
}

static char *
shape_to_string (int ndim, const gint64 *shape)
{
  GString *s = g_string_new ("[");
  for (int d = 0; d < ndim; d++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, d ? ", " : "", shape[d]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

/* the position of a parameter's momentum in the flat buffer, which is
 * parallel to net->params */
static gsize
param_offset (const ResNet *net, const StateEntry *e)
{
  const float *p = e->data;
  g_assert (e->trainable && p >= net->params
            && p + e->numel <= net->params + net->n_params);
  return (gsize) (p - net->params);
}

static void
state_shape (const StateEntry *e, gint64 shape[8])
{
  for (int d = 0; d < e->ndim; d++)
    shape[d] = e->shape[d];
}

/* ---- saving ---- */

/* FALSE, with an error naming the file the state was meant for, when a
 * float tensor holds a NaN or an infinity */
static gboolean
tensor_values_finite (const SafetensorsTensor *t, const char *path,
                      GError **error)
{
  if (t->dtype != DTYPE_F32)
    return TRUE;
  for (gsize i = 0; i < t->numel; i++)
    {
      double value = ((const float *) t->data)[i];
      if (!isfinite (value))
        {
          g_set_error (error, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_UNSUPPORTED,
                       _("%s: not saved: tensor %s holds a value that is not "
                         "a finite number (%g at element %zu); the file on "
                         "disk is unchanged"),
                       path, t->name, value, i);
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
checkpoint_save (const char *path, const ResNet *net, const Sgd *sgd,
                 const SafetensorsTensor *extra, guint n_extra,
                 GHashTable *metadata, GError **error)
{
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (net != NULL, FALSE);
  g_return_val_if_fail (sgd == NULL || sgd->n == net->n_params, FALSE);
  g_return_val_if_fail (extra != NULL || n_extra == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  gboolean with_momentum = sgd != NULL && sgd->has_buffer;
  g_autoptr (GArray) tensors = g_array_new (FALSE, TRUE,
                                            sizeof (SafetensorsTensor));
  /* names of the momentum tensors, freed after the save */
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  for (int i = 0; i < net->n_state; i++)
    {
      StateEntry *e = &net->state[i];
      SafetensorsTensor t = { 0 };
      t.name = e->name;
      t.dtype = e->dtype;
      t.ndim = e->ndim;
      state_shape (e, t.shape);
      t.numel = e->numel;
      t.data = e->data;
      g_array_append_val (tensors, t);
    }
  if (with_momentum)
    for (int i = 0; i < net->n_state; i++)
      {
        StateEntry *e = &net->state[i];
        if (!e->trainable)
          continue;
        char *name = g_strconcat (CHECKPOINT_MOMENTUM_PREFIX, e->name, NULL);
        g_ptr_array_add (names, name);
        SafetensorsTensor t = { 0 };
        t.name = name;
        t.dtype = DTYPE_F32;
        t.ndim = e->ndim;
        state_shape (e, t.shape);
        t.numel = e->numel;
        t.data = sgd->momentum_buffer + param_offset (net, e);
        g_array_append_val (tensors, t);
      }
  if (n_extra > 0)
    g_array_append_vals (tensors, extra, n_extra);
  /* the loader refuses a non-finite value, so writing one would replace a
   * good checkpoint by one that no command can open */
  for (guint i = 0; i < tensors->len; i++)
    if (!tensor_values_finite (&g_array_index (tensors, SafetensorsTensor, i),
                               path, error))
      return FALSE;

  g_autoptr (GHashTable) meta = g_hash_table_new (g_str_hash, g_str_equal);
  if (metadata)
    {
      GHashTableIter iter;
      gpointer key, value;
      g_hash_table_iter_init (&iter, metadata);
      while (g_hash_table_iter_next (&iter, &key, &value))
        g_hash_table_insert (meta, key, value);
    }
  g_hash_table_insert (meta, (gpointer) CHECKPOINT_FORMAT_KEY,
                       (gpointer) CHECKPOINT_FORMAT);
  if (sgd)
    g_hash_table_insert (meta, (gpointer) CHECKPOINT_HAS_MOMENTUM_KEY,
                         (gpointer) (with_momentum ? "true" : "false"));

  return safetensors_save (path, (const SafetensorsTensor *) tensors->data,
                           tensors->len, meta, error);
}

/* ---- loading ---- */

static gboolean
mismatch (GError **error, const SafetensorsFile *file, const char *format,
          ...) G_GNUC_PRINTF (3, 4);

static gboolean
mismatch (GError **error, const SafetensorsFile *file, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_MISMATCH, "%s: %s",
               safetensors_file_get_path (file), what);
  return FALSE;
}

/* by_network: the message says "the network expects", else "expected" */
static const SafetensorsTensor *
expect_tensor (const SafetensorsFile *file, const char *name, DType dtype,
               int ndim, const gint64 *shape, gboolean by_network,
               GError **error)
{
  const SafetensorsTensor *t = safetensors_file_lookup (file, name);
  if (!t)
    {
      mismatch (error, file, _("tensor %s is missing"), name);
      return NULL;
    }
  if (t->dtype != dtype)
    {
      mismatch (error, file,
                by_network ? _("tensor %s has dtype %s, the network expects "
                               "%s")
                           : _("tensor %s has dtype %s, expected %s"),
                name, dtype_label (t->dtype), dtype_label (dtype));
      return NULL;
    }
  gboolean same = t->ndim == ndim;
  for (int d = 0; same && d < ndim; d++)
    same = t->shape[d] == shape[d];
  if (!same)
    {
      g_autofree char *has = shape_to_string (t->ndim, t->shape);
      g_autofree char *wants = shape_to_string (ndim, shape);
      mismatch (error, file,
                by_network ? _("tensor %s has shape %s, the network expects "
                               "%s")
                           : _("tensor %s has shape %s, expected %s"),
                name, has, wants);
      return NULL;
    }
  /* a NaN or an infinity would reach every step and every kNN (whose
   * search cannot rank it) from here */
  if (dtype == DTYPE_F32)
    {
      const float *values = t->data;
      for (gsize i = 0; i < t->numel; i++)
        if (!isfinite (values[i]))
          {
            mismatch (error, file,
                      _("tensor %s holds a value that is not a finite "
                        "number (%g at element %zu)"),
                      name, (double) values[i], i);
            return NULL;
          }
    }
  return t;
}

const SafetensorsTensor *
checkpoint_expect_tensor (const SafetensorsFile *file, const char *name,
                          DType dtype, int ndim, const gint64 *shape,
                          GError **error)
{
  g_return_val_if_fail (file != NULL && name != NULL, NULL);
  g_return_val_if_fail (ndim >= 0 && ndim <= 8, NULL);
  g_return_val_if_fail (ndim == 0 || shape != NULL, NULL);
  return expect_tensor (file, name, dtype, ndim, shape, FALSE, error);
}

static gboolean
is_allowed_extra (const char *name, const char *const *allowed)
{
  if (g_str_has_prefix (name, CHECKPOINT_MEMORY_PREFIX))
    return TRUE;
  for (; allowed && *allowed; allowed++)
    {
      const char *a = *allowed;
      gsize len = strlen (a);
      if (len > 0 && a[len - 1] == '.' ? g_str_has_prefix (name, a)
                                       : strcmp (name, a) == 0)
        return TRUE;
    }
  return FALSE;
}

SafetensorsFile *
checkpoint_load (const char *path, ResNet *net, Sgd *sgd,
                 const char *const *allowed_extra, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_autoptr (SafetensorsFile) file = safetensors_file_load (path, error);
  if (!file || !checkpoint_restore (file, net, sgd, allowed_extra, error))
    return NULL;
  return g_steal_pointer (&file);
}

gboolean
checkpoint_restore (const SafetensorsFile *file, ResNet *net, Sgd *sgd,
                    const char *const *allowed_extra, GError **error)
{
  g_return_val_if_fail (file != NULL, FALSE);
  g_return_val_if_fail (net != NULL, FALSE);
  g_return_val_if_fail (sgd == NULL || sgd->n == net->n_params, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  const char *display = safetensors_file_get_path (file);

  const char *format = safetensors_file_get_metadata (file,
                                                      CHECKPOINT_FORMAT_KEY);
  if (format && strcmp (format, CHECKPOINT_FORMAT) != 0)
    {
      g_autofree char *shown = g_strescape (format, NULL);
      g_set_error (error, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_UNSUPPORTED,
                   _("%s: checkpoint format \"%.64s\" is not the supported "
                     "\"%s\""),
                   display, shown, CHECKPOINT_FORMAT);
      return FALSE;
    }

  /* 1. every state entry, exactly */
  g_autoptr (GHashTable) params = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) state = g_hash_table_new (g_str_hash, g_str_equal);
  for (int i = 0; i < net->n_state; i++)
    {
      StateEntry *e = &net->state[i];
      gint64 shape[8];
      state_shape (e, shape);
      if (!expect_tensor (file, e->name, e->dtype, e->ndim, shape, TRUE,
                          error))
        return FALSE;
      g_hash_table_insert (state, e->name, e);
      if (e->trainable)
        g_hash_table_insert (params, e->name, e);
    }

  /* 2. the optimizer's state */
  const char *has = safetensors_file_get_metadata (file,
                                                   CHECKPOINT_HAS_MOMENTUM_KEY);
  if (has && strcmp (has, "true") != 0 && strcmp (has, "false") != 0)
    {
      g_set_error (error, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_CORRUPT,
                   _("%s: metadata %s is neither \"true\" nor \"false\""),
                   display, CHECKPOINT_HAS_MOMENTUM_KEY);
      return FALSE;
    }
  gboolean has_momentum = has && strcmp (has, "true") == 0;
  if (sgd && !has)
    {
      mismatch (error, file, _("the checkpoint holds no optimizer state"));
      return FALSE;
    }
  if (sgd && has_momentum)
    for (int i = 0; i < net->n_state; i++)
      {
        StateEntry *e = &net->state[i];
        if (!e->trainable)
          continue;
        g_autofree char *name = g_strconcat (CHECKPOINT_MOMENTUM_PREFIX,
                                             e->name, NULL);
        gint64 shape[8];
        state_shape (e, shape);
        if (!expect_tensor (file, name, DTYPE_F32, e->ndim, shape, TRUE,
                            error))
          return FALSE;
      }

  /* 3. nothing unexpected, so a file of another model cannot slip through
   * with a few matching names */
  for (guint i = 0; i < safetensors_file_get_n_tensors (file); i++)
    {
      const SafetensorsTensor *t = safetensors_file_get_tensor (file, i);
      if (g_hash_table_contains (state, t->name))
        continue;
      if (g_str_has_prefix (t->name, CHECKPOINT_OPTIMIZER_PREFIX))
        {
          const char *param = NULL;
          StateEntry *e = NULL;
          if (g_str_has_prefix (t->name, CHECKPOINT_MOMENTUM_PREFIX))
            {
              param = t->name + strlen (CHECKPOINT_MOMENTUM_PREFIX);
              e = g_hash_table_lookup (params, param);
            }
          if (!e)
            {
              mismatch (error, file, _("unexpected tensor %s (no such "
                          "optimizer state for this network)"), t->name);
              return FALSE;
            }
          if (!has_momentum)
            {
              mismatch (error, file, _("unexpected tensor %s (metadata %s "
                          "says there is no momentum buffer)"), t->name,
                        CHECKPOINT_HAS_MOMENTUM_KEY);
              return FALSE;
            }
          gint64 shape[8];
          state_shape (e, shape);
          if (!expect_tensor (file, t->name, DTYPE_F32, e->ndim, shape,
                              TRUE, error))
            return FALSE;
          continue;
        }
      if (is_allowed_extra (t->name, allowed_extra))
        continue;
      mismatch (error, file, _("unexpected tensor %s"), t->name);
      return FALSE;
    }

  /* 4. everything checked: copy */
  for (int i = 0; i < net->n_state; i++)
    {
      StateEntry *e = &net->state[i];
      const SafetensorsTensor *t = safetensors_file_lookup (file, e->name);
      if (e->numel > 0)
        memcpy (e->data, t->data, e->numel * dtype_size (e->dtype));
    }
  if (sgd)
    {
      if (has_momentum)
        for (int i = 0; i < net->n_state; i++)
          {
            StateEntry *e = &net->state[i];
            if (!e->trainable || e->numel == 0)
              continue;
            g_autofree char *name = g_strconcat (CHECKPOINT_MOMENTUM_PREFIX,
                                                 e->name, NULL);
            const SafetensorsTensor *t = safetensors_file_lookup (file, name);
            memcpy (sgd->momentum_buffer + param_offset (net, e), t->data,
                    e->numel * sizeof (float));
          }
      else if (sgd->n > 0)
        /* as a fresh optimizer: the first step sets the buffer */
        memset (sgd->momentum_buffer, 0, sgd->n * sizeof (float));
      sgd->has_buffer = has_momentum;
    }
  return TRUE;
}

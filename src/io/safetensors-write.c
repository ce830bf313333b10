/* safetensors-write.c: writing a safetensors file: the tensors and the
 * metadata checked so that we never write what we would refuse to read,
 * then the header and the data streamed to an atomic file. */
#define G_LOG_DOMAIN "instdisc-io"

#include "safetensors-private.h"

#include "atomic-file.h"
#include "json-write.h"

#include <inttypes.h>
#include <glib/gi18n-lib.h>
#include <stdlib.h>
#include <string.h>

/* ---- writing ---- */

/* Writes a tensor's data little-endian; on a big-endian host through a
 * bounce buffer so the caller's data is not touched. */
static gboolean
write_tensor_data (AtomicFile *file, const SafetensorsTensor *t,
                   GError **error)
{
  gsize elem = safetensors_dtype_size (t->dtype);
  if (t->numel == 0)
    return TRUE;
#if G_BYTE_ORDER == G_BIG_ENDIAN
  guint8 bounce[64 * 1024];
  gsize per = sizeof bounce / elem;
  for (gsize i = 0; i < t->numel; i += per)
    {
      gsize count = MIN (per, t->numel - i);
      memcpy (bounce, (const guint8 *) t->data + i * elem, count * elem);
      safetensors_swap_to_from_le (bounce, count, elem);
      if (!atomic_file_write (file, bounce, count * elem, error))
        return FALSE;
    }
  return TRUE;
#else
  return atomic_file_write (file, t->data, t->numel * elem, error);
#endif
}

/* Checks what the caller passes, so we never write a file we would refuse
 * to read. */
static gboolean
check_tensors_to_save (const char *display, const SafetensorsTensor *tensors,
                       guint n, GError **error)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < n; i++)
    {
      const SafetensorsTensor *t = &tensors[i];
      const char *why = NULL;
      gsize numel = 1;
      if (!t->name || !t->name[0] || !g_utf8_validate (t->name, -1, NULL))
        why = _("its name is empty or not UTF-8");
      else if (strcmp (t->name, "__metadata__") == 0)
        why = _("its name is reserved");
      else if (!g_hash_table_add (seen, t->name))
        why = _("its name occurs twice");
      else if (!safetensors_dtype_name (t->dtype))
        why = _("its dtype is unknown");
      else if (t->ndim < 0 || t->ndim > (int) MAX_DIMS)
        why = _("its number of dimensions is out of range");
      else
        {
          for (int d = 0; d < t->ndim && !why; d++)
            if (t->shape[d] < 0
                || !g_size_checked_mul (&numel, numel, (gsize) t->shape[d]))
              why = _("its shape is negative or too large");
          if (!why && numel != t->numel)
            why = _("its numel is not the product of its shape");
          if (!why && numel > 0 && !t->data)
            why = _("it has no data");
        }
      if (why)
        {
          g_set_error (error, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_UNSUPPORTED,
                       _("%s: cannot save tensor %s: %s"), display,
                       t->name ? t->name : "(null)", why);
          return FALSE;
        }
    }
  return TRUE;
}

static int
compare_key_pointers (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The header JSON, padded with spaces to a multiple of 8 so the data that
 * follows starts 8-byte aligned in the file. */
static GString *
build_header (const SafetensorsTensor *tensors, guint n, GHashTable *metadata)
{
  GString *h = g_string_new ("{");
  gboolean first = TRUE;
  if (metadata && g_hash_table_size (metadata) > 0)
    {
      /* sorted keys make the same state give the same bytes */
      g_autofree gpointer *keys = g_hash_table_get_keys_as_array (metadata,
                                                                 NULL);
      guint n_keys = g_hash_table_size (metadata);
      qsort (keys, n_keys, sizeof *keys, compare_key_pointers);
      g_string_append (h, "\"__metadata__\":{");
      for (guint k = 0; k < n_keys; k++)
        {
          if (k > 0)
            g_string_append_c (h, ',');
          json_append_string (h, keys[k]);
          g_string_append_c (h, ':');
          json_append_string (h, g_hash_table_lookup (metadata, keys[k]));
        }
      g_string_append_c (h, '}');
      first = FALSE;
    }
  guint64 offset = 0;
  for (guint i = 0; i < n; i++)
    {
      const SafetensorsTensor *t = &tensors[i];
      guint64 nbytes = (guint64) t->numel * safetensors_dtype_size (t->dtype);
      if (!first)
        g_string_append_c (h, ',');
      first = FALSE;
      json_append_string (h, t->name);
      g_string_append_printf (h, ":{\"dtype\":\"%s\",\"shape\":[",
                              safetensors_dtype_name (t->dtype));
      for (int d = 0; d < t->ndim; d++)
        g_string_append_printf (h, "%s%" G_GINT64_FORMAT, d ? "," : "",
                                t->shape[d]);
      g_string_append_printf (h, "],\"data_offsets\":[%" G_GUINT64_FORMAT
                              ",%" G_GUINT64_FORMAT "]}", offset,
                              offset + nbytes);
      offset += nbytes;
    }
  g_string_append_c (h, '}');
  while (h->len % 8 != 0)
    g_string_append_c (h, ' ');
  return h;
}

static gboolean
check_metadata_to_save (const char *display, GHashTable *metadata,
                        GError **error)
{
  if (!metadata)
    return TRUE;
  GHashTableIter iter;
  gpointer key, value;
  g_hash_table_iter_init (&iter, metadata);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!key || !value || !g_utf8_validate (key, -1, NULL)
        || !g_utf8_validate (value, -1, NULL))
      {
        g_set_error (error, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_UNSUPPORTED,
                     _("%s: cannot save metadata: a key or value is NULL or "
                       "not UTF-8"), display);
        return FALSE;
      }
  return TRUE;
}

gboolean
safetensors_save (const char *path, const SafetensorsTensor *tensors,
                  guint n_tensors, GHashTable *metadata, GError **error)
{
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (tensors != NULL || n_tensors == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_autofree char *display = g_filename_display_name (path);
  if (!check_tensors_to_save (display, tensors, n_tensors, error)
      || !check_metadata_to_save (display, metadata, error))
    return FALSE;

  g_autoptr (GString) header = build_header (tensors, n_tensors, metadata);
  if (header->len > HEADER_MAX_BYTES)
    {
      g_set_error (error, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_UNSUPPORTED,
                   _("%s: cannot save: the header would have %zu bytes, over "
                     "the limit of %" PRIu64), display,
                   header->len, HEADER_MAX_BYTES);
      return FALSE;
    }

  /* streamed, never assembled in memory: a checkpoint holds the memory
   * bank, which can be as large as the rest together */
  g_autoptr (AtomicFile) file = atomic_file_open (path, error);
  if (!file)
    return FALSE;
  guint64 len_le = GUINT64_TO_LE ((guint64) header->len);
  if (!atomic_file_write (file, &len_le, 8, error)
      || !atomic_file_write (file, header->str, header->len, error))
    return FALSE;
  for (guint i = 0; i < n_tensors; i++)
    if (!write_tensor_data (file, &tensors[i], error))
      return FALSE;
  return atomic_file_commit (g_steal_pointer (&file), error);
}

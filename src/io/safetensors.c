/* safetensors.c: the safetensors format, read without a JSON library
 * (safetensors-json.c parses the header, safetensors-write.c writes files):
 * the error domain, dtypes, and reading a file. The header is untrusted
 * input: every length is checked against the bytes that are really there
 * before it is used. */
#define G_LOG_DOMAIN "instdisc-io"

#include "safetensors-private.h"

#include <inttypes.h>
#include <glib/gi18n-lib.h>
#include <stdlib.h>
#include <string.h>

#include "io-file.h"

/* each tensor's data starts on such a boundary in our copy, so float and
 * int64 loads are aligned whatever offsets the file uses */
#define DATA_ALIGN 64

G_DEFINE_QUARK (instdisc-io-error-quark, instdisc_io_error)

struct _SafetensorsFile
{
  char *path;
  SafetensorsTensor *tensors;   /* (n_tensors), in header order */
  guint n_tensors;
  GHashTable *by_name;          /* name -> SafetensorsTensor *, borrowed */
  GHashTable *metadata;         /* char * -> char *, owned */
  gpointer data;                /* one aligned block all tensors point into */
};

/* ---- dtypes ---- */

gsize
safetensors_dtype_size (DType dtype)
{
  switch (dtype)
    {
    case DTYPE_F32:
      return 4;
    case DTYPE_I64:
      return 8;
    default:
      return 0;
    }
}

const char *
safetensors_dtype_name (DType dtype)
{
  switch (dtype)
    {
    case DTYPE_F32:
      return "F32";
    case DTYPE_I64:
      return "I64";
    default:
      return NULL;
    }
}

void
safetensors_swap_to_from_le (gpointer data, gsize numel, gsize elem_size)
{
#if G_BYTE_ORDER == G_BIG_ENDIAN
  guint8 *p = data;
  for (gsize i = 0; i < numel; i++, p += elem_size)
    for (gsize a = 0, b = elem_size - 1; a < b; a++, b--)
      {
        guint8 t = p[a];
        p[a] = p[b];
        p[b] = t;
      }
#else
  (void) data;
  (void) numel;
  (void) elem_size;
#endif
}

/* ---- reading ---- */

static void
tensor_clear (SafetensorsTensor *t)
{
  g_clear_pointer (&t->name, g_free);
}

void
safetensors_file_free (SafetensorsFile *self)
{
  if (!self)
    return;
  for (guint i = 0; i < self->n_tensors; i++)
    tensor_clear (&self->tensors[i]);
  g_free (self->tensors);
  g_clear_pointer (&self->by_name, g_hash_table_unref);
  g_clear_pointer (&self->metadata, g_hash_table_unref);
  g_free (self->data);
  g_free (self->path);
  g_free (self);
}

typedef struct
{
  guint64 begin, end;
  guint index;
} ByteRange;

static int
compare_ranges (gconstpointer a, gconstpointer b)
{
  const ByteRange *ra = a, *rb = b;
  if (ra->begin != rb->begin)
    return ra->begin < rb->begin ? -1 : 1;
  if (ra->end != rb->end)
    return ra->end < rb->end ? -1 : 1;
  return 0;
}

static gboolean
corrupt (GError **error, const char *path, const char *format, ...)
  G_GNUC_PRINTF (3, 4);

static gboolean
corrupt (GError **error, const char *path, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_CORRUPT, "%s: %s",
               path, what);
  return FALSE;
}

/* Fills t (name, dtype, shape, numel) and range from one header entry. */
static gboolean
parse_tensor_info (const char *path, const char *name, const JsonValue *info,
                   SafetensorsTensor *t, ByteRange *range, GError **error)
{
  if (info->kind != JSON_OBJECT)
    return corrupt (error, path,
                    _("tensor %s: its header entry is not an object"), name);
  const JsonValue *dtype = NULL, *shape = NULL, *offsets = NULL;
  for (guint i = 0; i < info->keys->len; i++)
    {
      const char *key = info->keys->pdata[i];
      const JsonValue *value = info->items->pdata[i];
      if (strcmp (key, "dtype") == 0)
        dtype = value;
      else if (strcmp (key, "shape") == 0)
        shape = value;
      else if (strcmp (key, "data_offsets") == 0)
        offsets = value;
      else
        return corrupt (error, path, _("tensor %s: unknown field \"%s\""),
                        name, key);
    }
  if (!dtype || !shape || !offsets)
    return corrupt (error, path, _("tensor %s: missing field \"%s\""), name,
                    !dtype ? "dtype" : !shape ? "shape" : "data_offsets");

  if (dtype->kind != JSON_STRING)
    return corrupt (error, path, _("tensor %s: dtype is not a string"), name);
  if (strcmp (dtype->string, "F32") == 0)
    t->dtype = DTYPE_F32;
  else if (strcmp (dtype->string, "I64") == 0)
    t->dtype = DTYPE_I64;
  else
    {
      g_autofree char *shown = g_strescape (dtype->string, NULL);
      g_set_error (error, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_UNSUPPORTED,
                   _("%s: tensor %s has dtype \"%.32s\", only F32 and I64 are "
                     "supported"), path, name, shown);
      return FALSE;
    }

  if (shape->kind != JSON_ARRAY)
    return corrupt (error, path, _("tensor %s: shape is not an array"), name);
  if (shape->items->len > MAX_DIMS)
    {
      g_set_error (error, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_UNSUPPORTED,
                   _("%s: tensor %s has %u dimensions, at most %u are "
                     "supported"),
                   path, name, shape->items->len, (guint) MAX_DIMS);
      return FALSE;
    }
  t->ndim = (int) shape->items->len;
  gsize numel = 1;
  for (guint d = 0; d < shape->items->len; d++)
    {
      const JsonValue *dim = shape->items->pdata[d];
      if (dim->kind != JSON_INTEGER || dim->integer < 0)
        return corrupt (error, path,
                        _("tensor %s: shape holds something other than "
                          "non-negative integers"), name);
      t->shape[d] = dim->integer;
      if ((guint64) dim->integer > G_MAXSIZE
          || !g_size_checked_mul (&numel, numel, (gsize) dim->integer))
        return corrupt (error, path, _("tensor %s: shape is too large"), name);
    }
  t->numel = numel;
  gsize nbytes;
  if (!g_size_checked_mul (&nbytes, numel, safetensors_dtype_size (t->dtype)))
    return corrupt (error, path, _("tensor %s: shape is too large"), name);

  if (offsets->kind != JSON_ARRAY || offsets->items->len != 2)
    return corrupt (error, path,
                    _("tensor %s: data_offsets is not a pair of integers"),
                    name);
  const JsonValue *b = offsets->items->pdata[0], *e = offsets->items->pdata[1];
  if (b->kind != JSON_INTEGER || e->kind != JSON_INTEGER || b->integer < 0
      || e->integer < b->integer)
    return corrupt (error, path,
                    _("tensor %s: data_offsets is not a pair of non-negative "
                      "integers [begin, end] with begin <= end"), name);
  range->begin = (guint64) b->integer;
  range->end = (guint64) e->integer;
  if (range->end - range->begin != (guint64) nbytes)
    return corrupt (error, path,
                    _("tensor %s: data_offsets [%" PRIu64 ", %"
                      PRIu64 "] span %" PRIu64 " bytes, "
                      "its dtype and shape need %zu"), name,
                    range->begin, range->end, range->end - range->begin,
                    nbytes);
  return TRUE;
}

/* Checks that the ranges tile [0, data_len) exactly. ranges is sorted here. */
static gboolean
check_tiling (const char *path, const SafetensorsFile *file, ByteRange *ranges,
              guint n, guint64 data_len, GError **error)
{
  qsort (ranges, n, sizeof *ranges, compare_ranges);
  guint64 covered = 0;
  for (guint i = 0; i < n; i++)
    {
      const char *name = file->tensors[ranges[i].index].name;
      if (ranges[i].begin < covered)
        return corrupt (error, path,
                        _("tensor %s: data_offsets [%" PRIu64 ", %"
                          PRIu64 "] overlap the tensor before it"),
                        name, ranges[i].begin, ranges[i].end);
      if (ranges[i].begin > covered)
        return corrupt (error, path,
                        _("tensor %s: data_offsets [%" PRIu64 ", %"
                          PRIu64 "] leave a gap after byte %"
                          PRIu64), name, ranges[i].begin,
                        ranges[i].end, covered);
      covered = ranges[i].end;
    }
  if (covered > data_len)
    {
      g_set_error (error, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_TRUNCATED,
                   _("%s: truncated: header says %" PRIu64 " bytes "
                     "of tensor data, file has %" PRIu64), path,
                   covered, data_len);
      return FALSE;
    }
  if (covered < data_len)
    return corrupt (error, path,
                    _("%" PRIu64 " bytes after the last tensor's "
                      "data (header says %" PRIu64 " bytes of "
                      "tensor data, file has %" PRIu64 ")"),
                    data_len - covered,
                    covered, data_len);
  return TRUE;
}

/* Parses the header into self's tensors (without data) and metadata;
 * *ranges_out gets each tensor's byte range, in header order. */
static gboolean
parse_header (SafetensorsFile *self, const char *header, gsize header_len,
              ByteRange **ranges_out, GError **error)
{
  const char *path = self->path;
  g_autoptr (JsonValue) root = safetensors_json_parse (path, header,
                                                       header_len, error);
  if (!root)
    return FALSE;
  if (root->kind != JSON_OBJECT)
    return corrupt (error, path, _("the header is not a JSON object"));

  guint n_entries = root->keys->len;
  self->tensors = g_new0 (SafetensorsTensor, MAX (n_entries, 1));
  g_autofree ByteRange *ranges = g_new0 (ByteRange, MAX (n_entries, 1));
  for (guint i = 0; i < n_entries; i++)
    {
      const char *key = root->keys->pdata[i];
      const JsonValue *value = root->items->pdata[i];
      if (strcmp (key, "__metadata__") == 0)
        {
          if (value->kind != JSON_OBJECT)
            return corrupt (error, path, _("__metadata__ is not an object"));
          for (guint k = 0; k < value->keys->len; k++)
            {
              const JsonValue *s = value->items->pdata[k];
              if (s->kind != JSON_STRING)
                return corrupt (error, path,
                                _("__metadata__ value of \"%s\" is not a "
                                  "string"),
                                (const char *) value->keys->pdata[k]);
              g_hash_table_insert (self->metadata,
                                   g_strdup (value->keys->pdata[k]),
                                   g_strdup (s->string));
            }
          continue;
        }
      if (key[0] == '\0')
        return corrupt (error, path, _("a tensor has an empty name"));
      guint t = self->n_tensors++;
      self->tensors[t].name = g_strdup (key);
      ranges[t].index = t;
      if (!parse_tensor_info (path, key, value, &self->tensors[t], &ranges[t],
                              error))
        return FALSE;
    }
  *ranges_out = g_steal_pointer (&ranges);
  return TRUE;
}

SafetensorsFile *
safetensors_file_load (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_autofree char *display = g_filename_display_name (path);
  if (!io_require_regular_file (path, error))
    return NULL;
  GError *local = NULL;
  /* mapped rather than read: the tensors are copied once into aligned
   * memory, and a large memory bank is not held twice */
  g_autoptr (GMappedFile) mapped = g_mapped_file_new (path, FALSE, &local);
  if (!mapped)
    {
      /* a GFileError (NOENT, ACCES, ...) whose message names the file */
      g_propagate_error (error, local);
      return NULL;
    }
  const guint8 *bytes = (const guint8 *) g_mapped_file_get_contents (mapped);
  guint64 file_len = g_mapped_file_get_length (mapped);

  if (file_len == 0)
    {
      g_set_error (error, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_TRUNCATED,
                   _("%s: truncated: the file is empty"), display);
      return NULL;
    }
  if (file_len < 8)
    {
      g_set_error (error, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_TRUNCATED,
                   _("%s: truncated: the file has %" PRIu64
                     " bytes, fewer than the 8 of the header length"),
                   display, file_len);
      return NULL;
    }
  guint64 header_len;
  memcpy (&header_len, bytes, 8);
  header_len = GUINT64_FROM_LE (header_len);
  if (header_len == 0)
    {
      g_set_error (error, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_CORRUPT,
                   _("%s: the header length is 0, not a safetensors file"),
                   display);
      return NULL;
    }
  if (header_len > HEADER_MAX_BYTES)
    {
      g_set_error (error, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_CORRUPT,
                   _("%s: the header length %" PRIu64 " is over the "
                     "limit of %" PRIu64 " bytes, not a safetensors "
                     "file"), display, header_len, HEADER_MAX_BYTES);
      return NULL;
    }
  if (header_len > file_len - 8)
    {
      g_set_error (error, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_TRUNCATED,
                   _("%s: truncated: the header length says %" PRIu64
                     " bytes, the file has %" PRIu64 " after it"),
                   display, header_len, file_len - 8);
      return NULL;
    }

  g_autoptr (SafetensorsFile) self = g_new0 (SafetensorsFile, 1);
  self->path = g_strdup (display);
  self->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          g_free);
  self->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree ByteRange *ranges = NULL;
  if (!parse_header (self, (const char *) bytes + 8, header_len, &ranges,
                     error))
    return NULL;

  guint n = self->n_tensors;
  guint64 data_len = file_len - 8 - header_len;
  const guint8 *data = bytes + 8 + header_len;
  g_autofree guint64 *begins = g_new (guint64, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    begins[i] = ranges[i].begin;
  if (!check_tiling (display, self, ranges, n, data_len, error))
    return NULL;

  /* One block for all tensors, each on a DATA_ALIGN boundary. The tiling
   * check bounds the total by the file size, so the sum cannot overflow. */
  gsize total = 0;
  g_autofree gsize *placed = g_new (gsize, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    {
      gsize nbytes = self->tensors[i].numel * safetensors_dtype_size (self->tensors[i].dtype);
      placed[i] = total;
      total += (nbytes + DATA_ALIGN - 1) / DATA_ALIGN * DATA_ALIGN;
    }
  if (total > 0)
    {
      self->data = g_try_malloc (total);
      if (!self->data)
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOMEM,
                       _("%s: out of memory for %zu bytes of "
                         "tensor data"), display, total);
          return NULL;
        }
    }
  for (guint i = 0; i < n; i++)
    {
      SafetensorsTensor *t = &self->tensors[i];
      gsize elem = safetensors_dtype_size (t->dtype);
      t->data = (guint8 *) self->data + placed[i];
      if (t->numel > 0)
        {
          memcpy (t->data, data + begins[i], t->numel * elem);
          safetensors_swap_to_from_le (t->data, t->numel, elem);
        }
      else
        t->data = NULL;
      g_hash_table_insert (self->by_name, t->name, t);
    }
  return g_steal_pointer (&self);
}

guint
safetensors_file_get_n_tensors (const SafetensorsFile *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n_tensors;
}

const SafetensorsTensor *
safetensors_file_get_tensor (const SafetensorsFile *self, guint i)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (i < self->n_tensors, NULL);
  return &self->tensors[i];
}

const SafetensorsTensor *
safetensors_file_lookup (const SafetensorsFile *self, const char *name)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  return g_hash_table_lookup (self->by_name, name);
}

const char *
safetensors_file_get_metadata (const SafetensorsFile *self, const char *key)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);
  return g_hash_table_lookup (self->metadata, key);
}

const char *
safetensors_file_get_path (const SafetensorsFile *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->path;
}

GHashTable *
safetensors_file_get_metadata_table (const SafetensorsFile *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->metadata;
}

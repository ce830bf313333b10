/* safetensors.c: the safetensors format, read and written without a JSON
 * library. The header is untrusted input: every length is checked against
 * the bytes that are really there before it is used. */
#define G_LOG_DOMAIN "instdisc-io"

#include "safetensors.h"

#include "atomic-file.h"

#include <inttypes.h>
#include <glib/gi18n-lib.h>
#include <stdlib.h>
#include <string.h>

/* A header larger than this is refused before anything is allocated for it:
 * a real header is a few hundred bytes per tensor. */
#define HEADER_MAX_BYTES ((guint64) 100 * 1024 * 1024)
/* objects and arrays nest at most this deep (a valid header needs 3) */
#define JSON_MAX_DEPTH 16
#define MAX_DIMS G_N_ELEMENTS (((SafetensorsTensor *) NULL)->shape)
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

static gsize
dtype_size (DType dtype)
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

static const char *
dtype_name (DType dtype)
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

/* Swaps every element between little-endian and host order; a no-op on the
 * little-endian machines we build for, kept so a big-endian build is right. */
static void
swap_to_from_le (gpointer data, gsize numel, gsize elem_size)
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

/* ---- a JSON parser for the subset a safetensors header uses ----
 *
 * Values: objects, arrays, strings and integers. true/false/null and
 * fractional numbers do not occur in a valid header and are refused. The
 * parser builds a small tree; every read is bounds-checked against end. */

typedef enum
{
  JSON_OBJECT,
  JSON_ARRAY,
  JSON_STRING,
  JSON_INTEGER,
} JsonKind;

typedef struct _JsonValue JsonValue;
struct _JsonValue
{
  JsonKind kind;
  char *string;            /* JSON_STRING: NUL-free UTF-8 */
  gint64 integer;          /* JSON_INTEGER */
  GPtrArray *items;        /* JSON_ARRAY: JsonValue *; JSON_OBJECT: values */
  GPtrArray *keys;         /* JSON_OBJECT: char *, parallel to items */
};

static void
json_value_free (gpointer p)
{
  JsonValue *v = p;
  if (!v)
    return;
  g_free (v->string);
  if (v->items)
    g_ptr_array_unref (v->items);
  if (v->keys)
    g_ptr_array_unref (v->keys);
  g_free (v);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (JsonValue, json_value_free)

typedef struct
{
  const char *start, *pos, *end;
  const char *path;
} JsonParser;

static gboolean
json_fail (JsonParser *p, GError **error, const char *what)
{
  g_set_error (error, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_CORRUPT,
               _("%s: invalid header JSON at byte %zu: %s"),
               p->path, (gsize) (p->pos - p->start), what);
  return FALSE;
}

static void
json_skip_space (JsonParser *p)
{
  while (p->pos < p->end
         && (*p->pos == ' ' || *p->pos == '\t' || *p->pos == '\n'
             || *p->pos == '\r'))
    p->pos++;
}

static int
hex_digit (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* four hex digits after "\u"; -1 when they are not there */
static gint32
json_read_hex4 (JsonParser *p)
{
  if (p->end - p->pos < 4)
    return -1;
  gint32 value = 0;
  for (int i = 0; i < 4; i++)
    {
      int d = hex_digit (p->pos[i]);
      if (d < 0)
        return -1;
      value = value * 16 + d;
    }
  p->pos += 4;
  return value;
}

/* at the opening quote; returns the decoded string (transfer full) */
static char *
json_parse_string (JsonParser *p, GError **error)
{
  g_assert (p->pos < p->end && *p->pos == '"');
  p->pos++;
  g_autoptr (GString) out = g_string_new (NULL);
  for (;;)
    {
      if (p->pos >= p->end)
        {
          json_fail (p, error, _("unterminated string"));
          return NULL;
        }
      unsigned char c = (unsigned char) *p->pos;
      if (c == '"')
        {
          p->pos++;
          break;
        }
      if (c < 0x20)
        {
          json_fail (p, error, _("control character in a string"));
          return NULL;
        }
      if (c != '\\')
        {
          g_string_append_c (out, (char) c);
          p->pos++;
          continue;
        }
      p->pos++;
      if (p->pos >= p->end)
        {
          json_fail (p, error, _("unterminated escape"));
          return NULL;
        }
      char e = *p->pos++;
      switch (e)
        {
        case '"': g_string_append_c (out, '"'); break;
        case '\\': g_string_append_c (out, '\\'); break;
        case '/': g_string_append_c (out, '/'); break;
        case 'b': g_string_append_c (out, '\b'); break;
        case 'f': g_string_append_c (out, '\f'); break;
        case 'n': g_string_append_c (out, '\n'); break;
        case 'r': g_string_append_c (out, '\r'); break;
        case 't': g_string_append_c (out, '\t'); break;
        case 'u':
          {
            gint32 unit = json_read_hex4 (p);
            if (unit < 0)
              {
                json_fail (p, error, _("bad \\u escape"));
                return NULL;
              }
            gunichar ch = (gunichar) unit;
            if (unit >= 0xD800 && unit <= 0xDBFF)
              {
                /* a UTF-16 surrogate pair spells one code point */
                if (p->end - p->pos < 2 || p->pos[0] != '\\' || p->pos[1] != 'u')
                  {
                    json_fail (p, error,
                               _("unpaired surrogate in \\u escape"));
                    return NULL;
                  }
                p->pos += 2;
                gint32 low = json_read_hex4 (p);
                if (low < 0xDC00 || low > 0xDFFF)
                  {
                    json_fail (p, error,
                               _("unpaired surrogate in \\u escape"));
                    return NULL;
                  }
                ch = 0x10000 + (((gunichar) unit - 0xD800) << 10)
                     + ((gunichar) low - 0xDC00);
              }
            else if (unit >= 0xDC00 && unit <= 0xDFFF)
              {
                json_fail (p, error,
                           _("unpaired surrogate in \\u escape"));
                return NULL;
              }
            if (ch == 0)
              {
                /* names and values become C strings */
                json_fail (p, error, _("NUL character in a string"));
                return NULL;
              }
            g_string_append_unichar (out, ch);
            break;
          }
        default:
          json_fail (p, error, _("unknown escape in a string"));
          return NULL;
        }
    }
  if (!g_utf8_validate_len (out->str, out->len, NULL))
    {
      json_fail (p, error, _("string is not valid UTF-8"));
      return NULL;
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static gboolean
json_parse_integer (JsonParser *p, gint64 *out, GError **error)
{
  gboolean negative = FALSE;
  if (p->pos < p->end && *p->pos == '-')
    {
      negative = TRUE;
      p->pos++;
    }
  if (p->pos >= p->end || !g_ascii_isdigit (*p->pos))
    return json_fail (p, error, _("expected a digit"));
  if (*p->pos == '0' && p->end - p->pos > 1 && g_ascii_isdigit (p->pos[1]))
    return json_fail (p, error, _("number with a leading zero"));
  /* accumulate as a negative number so INT64_MIN fits too */
  gint64 value = 0;
  while (p->pos < p->end && g_ascii_isdigit (*p->pos))
    {
      int d = *p->pos - '0';
      if (value < (G_MININT64 + d) / 10)
        return json_fail (p, error, _("integer out of range"));
      value = value * 10 - d;
      p->pos++;
    }
  if (p->pos < p->end
      && (*p->pos == '.' || *p->pos == 'e' || *p->pos == 'E'))
    return json_fail (p, error, _("expected an integer, found a fraction"));
  if (!negative)
    {
      if (value == G_MININT64)
        return json_fail (p, error, _("integer out of range"));
      value = -value;
    }
  *out = value;
  return TRUE;
}

static JsonValue *json_parse_value (JsonParser *p, int depth, GError **error);

static JsonValue *
json_parse_array (JsonParser *p, int depth, GError **error)
{
  g_autoptr (JsonValue) v = g_new0 (JsonValue, 1);
  v->kind = JSON_ARRAY;
  v->items = g_ptr_array_new_with_free_func (json_value_free);
  p->pos++;   /* '[' */
  json_skip_space (p);
  if (p->pos < p->end && *p->pos == ']')
    {
      p->pos++;
      return g_steal_pointer (&v);
    }
  for (;;)
    {
      JsonValue *item = json_parse_value (p, depth + 1, error);
      if (!item)
        return NULL;
      g_ptr_array_add (v->items, item);
      json_skip_space (p);
      if (p->pos >= p->end)
        {
          json_fail (p, error, _("unterminated array"));
          return NULL;
        }
      if (*p->pos == ']')
        {
          p->pos++;
          return g_steal_pointer (&v);
        }
      if (*p->pos != ',')
        {
          json_fail (p, error, _("expected ',' or ']' in an array"));
          return NULL;
        }
      p->pos++;
    }
}

static JsonValue *
json_parse_object (JsonParser *p, int depth, GError **error)
{
  g_autoptr (JsonValue) v = g_new0 (JsonValue, 1);
  v->kind = JSON_OBJECT;
  v->items = g_ptr_array_new_with_free_func (json_value_free);
  v->keys = g_ptr_array_new_with_free_func (g_free);
  /* duplicate keys would make "which one wins" ambiguous: refuse them */
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  p->pos++;   /* '{' */
  json_skip_space (p);
  if (p->pos < p->end && *p->pos == '}')
    {
      p->pos++;
      return g_steal_pointer (&v);
    }
  for (;;)
    {
      json_skip_space (p);
      if (p->pos >= p->end || *p->pos != '"')
        {
          json_fail (p, error, _("expected a string key in an object"));
          return NULL;
        }
      const char *key_at = p->pos;
      char *key = json_parse_string (p, error);
      if (!key)
        return NULL;
      g_ptr_array_add (v->keys, key);
      if (!g_hash_table_add (seen, key))
        {
          p->pos = key_at;
          json_fail (p, error, _("duplicate key in an object"));
          return NULL;
        }
      json_skip_space (p);
      if (p->pos >= p->end || *p->pos != ':')
        {
          json_fail (p, error, _("expected ':' after a key"));
          return NULL;
        }
      p->pos++;
      JsonValue *item = json_parse_value (p, depth + 1, error);
      if (!item)
        return NULL;
      g_ptr_array_add (v->items, item);
      json_skip_space (p);
      if (p->pos >= p->end)
        {
          json_fail (p, error, _("unterminated object"));
          return NULL;
        }
      if (*p->pos == '}')
        {
          p->pos++;
          return g_steal_pointer (&v);
        }
      if (*p->pos != ',')
        {
          json_fail (p, error, _("expected ',' or '}' in an object"));
          return NULL;
        }
      p->pos++;
    }
}

static JsonValue *
json_parse_value (JsonParser *p, int depth, GError **error)
{
  if (depth > JSON_MAX_DEPTH)
    {
      json_fail (p, error, _("nested too deeply"));
      return NULL;
    }
  json_skip_space (p);
  if (p->pos >= p->end)
    {
      json_fail (p, error, _("unexpected end of header"));
      return NULL;
    }
  switch (*p->pos)
    {
    case '{':
      return json_parse_object (p, depth, error);
    case '[':
      return json_parse_array (p, depth, error);
    case '"':
      {
        char *s = json_parse_string (p, error);
        if (!s)
          return NULL;
        JsonValue *v = g_new0 (JsonValue, 1);
        v->kind = JSON_STRING;
        v->string = s;
        return v;
      }
    default:
      if (*p->pos == '-' || g_ascii_isdigit (*p->pos))
        {
          gint64 n;
          if (!json_parse_integer (p, &n, error))
            return NULL;
          JsonValue *v = g_new0 (JsonValue, 1);
          v->kind = JSON_INTEGER;
          v->integer = n;
          return v;
        }
      json_fail (p, error, _("unexpected character (only objects, arrays, "
                             "strings and integers are allowed)"));
      return NULL;
    }
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
  if (!g_size_checked_mul (&nbytes, numel, dtype_size (t->dtype)))
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
  JsonParser parser = { header, header, header + header_len, path };
  g_autoptr (JsonValue) root = json_parse_value (&parser, 0, error);
  if (!root)
    return FALSE;
  json_skip_space (&parser);
  if (parser.pos != parser.end)
    return json_fail (&parser, error, _("text after the header object"));
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
      gsize nbytes = self->tensors[i].numel * dtype_size (self->tensors[i].dtype);
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
      gsize elem = dtype_size (t->dtype);
      t->data = (guint8 *) self->data + placed[i];
      if (t->numel > 0)
        {
          memcpy (t->data, data + begins[i], t->numel * elem);
          swap_to_from_le (t->data, t->numel, elem);
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

/* ---- writing ---- */

static void
json_append_string (GString *out, const char *s)
{
  g_string_append_c (out, '"');
  for (const unsigned char *c = (const unsigned char *) s; *c; c++)
    {
      switch (*c)
        {
        case '"': g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        default:
          if (*c < 0x20)
            g_string_append_printf (out, "\\u%04x", *c);
          else
            g_string_append_c (out, (char) *c);
        }
    }
  g_string_append_c (out, '"');
}

/* Writes a tensor's data little-endian; on a big-endian host through a
 * bounce buffer so the caller's data is not touched. */
static gboolean
write_tensor_data (AtomicFile *file, const SafetensorsTensor *t,
                   GError **error)
{
  gsize elem = dtype_size (t->dtype);
  if (t->numel == 0)
    return TRUE;
#if G_BYTE_ORDER == G_BIG_ENDIAN
  guint8 bounce[64 * 1024];
  gsize per = sizeof bounce / elem;
  for (gsize i = 0; i < t->numel; i += per)
    {
      gsize count = MIN (per, t->numel - i);
      memcpy (bounce, (const guint8 *) t->data + i * elem, count * elem);
      swap_to_from_le (bounce, count, elem);
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
      else if (!dtype_name (t->dtype))
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
      guint64 nbytes = (guint64) t->numel * dtype_size (t->dtype);
      if (!first)
        g_string_append_c (h, ',');
      first = FALSE;
      json_append_string (h, t->name);
      g_string_append_printf (h, ":{\"dtype\":\"%s\",\"shape\":[",
                              dtype_name (t->dtype));
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

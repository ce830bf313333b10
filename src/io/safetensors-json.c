/* safetensors-json.c: the parser of a safetensors header: JSON without a
 * JSON library, for the subset a header uses. The header is untrusted
 * input: every read is bounds-checked against its end. Also the one
 * string quoting of what instdisc writes as JSON (json-write.h). */
#define G_LOG_DOMAIN "instdisc-io"

#include "safetensors-private.h"
#include "json-write.h"

#include <glib/gi18n-lib.h>
#include <string.h>

/* objects and arrays nest at most this deep (a valid header needs 3) */
#define JSON_MAX_DEPTH 16

/* ---- the parser ----
 *
 * The values it builds are safetensors-private.h's JsonValue tree; every
 * read is bounds-checked against end. */

void
safetensors_json_value_free (gpointer p)
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
  v->items = g_ptr_array_new_with_free_func (safetensors_json_value_free);
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
  v->items = g_ptr_array_new_with_free_func (safetensors_json_value_free);
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

JsonValue *
safetensors_json_parse (const char *path, const char *text, gsize len,
                        GError **error)
{
  JsonParser parser = { text, text, text + len, path };
  g_autoptr (JsonValue) root = json_parse_value (&parser, 0, error);
  if (!root)
    return NULL;
  json_skip_space (&parser);
  if (parser.pos != parser.end)
    {
      json_fail (&parser, error, _("text after the header object"));
      return NULL;
    }
  return g_steal_pointer (&root);
}

/* ---- writing ---- */

void
json_append_string (GString *out, const char *s)
{
  g_string_append_c (out, '"');
  for (const unsigned char *c = (const unsigned char *) s; *c; c++)
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
  g_string_append_c (out, '"');
}

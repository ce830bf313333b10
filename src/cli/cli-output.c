/* cli-output.c: --format tsv|json (see cli-output.h). */
#define G_LOG_DOMAIN "instdisc"

#include "cli-output.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli-common.h"
#include "json-write.h"

typedef enum
{
  VALUE_NULL,
  VALUE_STRING,
  VALUE_INT,
  VALUE_DOUBLE,
  VALUE_BOOL,
  VALUE_OBJECT,
  VALUE_ARRAY,
} ValueType;

struct _CliValue
{
  ValueType type;
  char *key;            /* as a member of an object */
  char *string;
  gint64 integer;
  double number;
  GPtrArray *children;  /* objects and arrays, in the order added */
};

gboolean
cli_format_parse (const char *value, CliFormat *format)
{
  if (!value || g_str_equal (value, "text"))
    *format = CLI_FORMAT_TEXT;
  else if (g_str_equal (value, "tsv"))
    *format = CLI_FORMAT_TSV;
  else if (g_str_equal (value, "json"))
    *format = CLI_FORMAT_JSON;
  else
    {
      cli_fail_message (_("--format takes text, tsv or json, not “%s”"),
                        value);
      return FALSE;
    }
  return TRUE;
}

static CliValue *
value_new (ValueType type)
{
  CliValue *v = g_new0 (CliValue, 1);
  v->type = type;
  if (type == VALUE_OBJECT || type == VALUE_ARRAY)
    v->children = g_ptr_array_new_with_free_func ((GDestroyNotify)
                                                  cli_value_free);
  return v;
}

CliValue *
cli_object_new (void)
{
  return value_new (VALUE_OBJECT);
}

void
cli_value_free (CliValue *self)
{
  if (!self)
    return;
  g_free (self->key);
  g_free (self->string);
  g_clear_pointer (&self->children, g_ptr_array_unref);
  g_free (self);
}

static CliValue *
add (CliValue *self, const char *key, CliValue *child)
{
  g_return_val_if_fail (self->children != NULL, child);
  g_return_val_if_fail ((self->type == VALUE_OBJECT) == (key != NULL),
                        child);
  child->key = g_strdup (key);
  g_ptr_array_add (self->children, child);
  return child;
}

void
cli_set_string (CliValue *self, const char *key, const char *value)
{
  CliValue *v = value_new (value ? VALUE_STRING : VALUE_NULL);
  v->string = g_strdup (value);
  add (self, key, v);
}

void
cli_set_int (CliValue *self, const char *key, gint64 value)
{
  CliValue *v = value_new (VALUE_INT);
  v->integer = value;
  add (self, key, v);
}

void
cli_set_double (CliValue *self, const char *key, double value)
{
  CliValue *v = value_new (isfinite (value) ? VALUE_DOUBLE : VALUE_NULL);
  v->number = value;
  add (self, key, v);
}

void
cli_set_bool (CliValue *self, const char *key, gboolean value)
{
  CliValue *v = value_new (VALUE_BOOL);
  v->integer = value != FALSE;
  add (self, key, v);
}

CliValue *
cli_add_object (CliValue *self, const char *key)
{
  return add (self, key, value_new (VALUE_OBJECT));
}

CliValue *
cli_add_array (CliValue *self, const char *key)
{
  return add (self, key, value_new (VALUE_ARRAY));
}

const CliValue *
cli_get (const CliValue *self, const char *key)
{
  if (!self || self->type != VALUE_OBJECT)
    return NULL;
  for (guint i = 0; i < self->children->len; i++)
    {
      const CliValue *c = self->children->pdata[i];
      if (g_str_equal (c->key, key))
        return c;
    }
  return NULL;
}

/* ---- scalars as text ---- */

/* a number as JSON and TSV write it: integers whole, others to float32's
 * precision and beyond (9 significant digits), '.' as the point */
static void
append_number (GString *out, const CliValue *v)
{
  if (v->type == VALUE_INT)
    g_string_append_printf (out, "%" G_GINT64_FORMAT, v->integer);
  else
    {
      char buffer[G_ASCII_DTOSTR_BUF_SIZE];
      g_string_append (out, g_ascii_formatd (buffer, sizeof buffer, "%.9g",
                                             v->number));
    }
}

static void
append_tsv_field (GString *out, const CliValue *v)
{
  if (!v)
    return;
  switch (v->type)
    {
    case VALUE_NULL:
    case VALUE_OBJECT:
    case VALUE_ARRAY:
      break;
    case VALUE_BOOL:
      g_string_append (out, v->integer ? "true" : "false");
      break;
    case VALUE_INT:
    case VALUE_DOUBLE:
      append_number (out, v);
      break;
    case VALUE_STRING:
      for (const char *p = v->string; *p; p++)
        switch (*p)
          {
          case '\t': g_string_append (out, "\\t"); break;
          case '\n': g_string_append (out, "\\n"); break;
          case '\r': g_string_append (out, "\\r"); break;
          case '\\': g_string_append (out, "\\\\"); break;
          default: g_string_append_c (out, *p);
          }
      break;
    }
}

/* ---- JSON ---- */

static void
append_json (GString *out, const CliValue *v, int depth)
{
  switch (v->type)
    {
    case VALUE_NULL:
      g_string_append (out, "null");
      return;
    case VALUE_BOOL:
      g_string_append (out, v->integer ? "true" : "false");
      return;
    case VALUE_INT:
    case VALUE_DOUBLE:
      append_number (out, v);
      return;
    case VALUE_STRING:
      json_append_string (out, v->string);
      return;
    case VALUE_OBJECT:
    case VALUE_ARRAY:
      break;
    }
  gboolean object = v->type == VALUE_OBJECT;
  if (v->children->len == 0)
    {
      g_string_append (out, object ? "{}" : "[]");
      return;
    }
  g_string_append_c (out, object ? '{' : '[');
  for (guint i = 0; i < v->children->len; i++)
    {
      const CliValue *c = v->children->pdata[i];
      g_string_append (out, i ? ",\n" : "\n");
      g_string_append_printf (out, "%*s", 2 * (depth + 1), "");
      if (object)
        {
          json_append_string (out, c->key);
          g_string_append (out, ": ");
        }
      append_json (out, c, depth + 1);
    }
  g_string_append_printf (out, "\n%*s%c", 2 * depth, "", object ? '}' : ']');
}

void
cli_print_json (const CliValue *self)
{
  g_autoptr (GString) out = g_string_new (NULL);
  append_json (out, self, 0);
  g_string_append_c (out, '\n');
  fwrite (out->str, 1, out->len, stdout);
  fflush (stdout);
}

/* ---- TSV ---- */

static const CliValue *
get_dotted (const CliValue *self, const char *path)
{
  g_auto (GStrv) parts = g_strsplit (path, ".", -1);
  const CliValue *v = self;
  for (int i = 0; v && parts[i]; i++)
    v = cli_get (v, parts[i]);
  return v;
}

void
cli_print_tsv_rows (const CliValue *rows, const char *const *columns)
{
  g_autoptr (GString) out = g_string_new (NULL);
  for (int c = 0; columns[c]; c++)
    g_string_append_printf (out, "%s%s", c ? "\t" : "", columns[c]);
  g_string_append_c (out, '\n');
  for (guint i = 0; rows && rows->children && i < rows->children->len; i++)
    {
      const CliValue *row = rows->children->pdata[i];
      for (int c = 0; columns[c]; c++)
        {
          if (c)
            g_string_append_c (out, '\t');
          append_tsv_field (out, get_dotted (row, columns[c]));
        }
      g_string_append_c (out, '\n');
    }
  fwrite (out->str, 1, out->len, stdout);
  fflush (stdout);
}

static void
append_flat (GString *out, const CliValue *v, const char *path,
             const char *prefix)
{
  if (v->type == VALUE_OBJECT || v->type == VALUE_ARRAY)
    {
      for (guint i = 0; i < v->children->len; i++)
        {
          const CliValue *c = v->children->pdata[i];
          g_autofree char *index = g_strdup_printf ("%u", i);
          const char *name = v->type == VALUE_OBJECT ? c->key : index;
          g_autofree char *sub = path && *path
                                   ? g_strconcat (path, ".", name, NULL)
                                   : g_strdup (name);
          append_flat (out, c, sub, prefix);
        }
      return;
    }
  if (prefix)
    {
      CliValue p = { .type = VALUE_STRING, .string = (char *) prefix };
      append_tsv_field (out, &p);
      g_string_append_c (out, '\t');
    }
  g_string_append_printf (out, "%s\t", path);
  append_tsv_field (out, v);
  g_string_append_c (out, '\n');
}

void
cli_print_tsv_flat (const CliValue *self, const char *prefix_column,
                    const char *prefix, gboolean header)
{
  g_autoptr (GString) out = g_string_new (NULL);
  if (header)
    g_string_append_printf (out, "%s%skey\tvalue\n",
                            prefix_column ? prefix_column : "",
                            prefix_column ? "\t" : "");
  append_flat (out, self, "", prefix_column ? prefix : NULL);
  fwrite (out->str, 1, out->len, stdout);
  fflush (stdout);
}

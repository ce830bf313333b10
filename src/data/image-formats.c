/* image-formats.c: the image formats GdkPixbuf reads here (see
 * image-formats.h). */
#define G_LOG_DOMAIN "instdisc-data"

#include "image-formats.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <string.h>

typedef struct
{
  char **extensions;   /* sorted, unique, lower-case */
  char **mime_types;   /* sorted, unique */
  char **names;        /* GdkPixbuf's format names, sorted */
} Formats;

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* the strings of set, sorted, as a NULL-terminated vector */
static char **
sorted_strv (GHashTable *set)
{
  guint n = 0;
  char **v = (char **) g_hash_table_get_keys_as_array (set, &n);
  g_hash_table_steal_all (set);
  qsort (v, n, sizeof *v, compare_strings);
  return v;
}

static const Formats *
formats (void)
{
  static gsize once = 0;
  static Formats table;
  if (g_once_init_enter (&once))
    {
      g_autoptr (GHashTable) extensions
        = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_autoptr (GHashTable) mime_types
        = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_autoptr (GHashTable) names
        = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      GSList *list = gdk_pixbuf_get_formats ();
      for (GSList *l = list; l; l = l->next)
        {
          GdkPixbufFormat *format = l->data;
          if (gdk_pixbuf_format_is_disabled (format))
            continue;
          g_hash_table_add (names, gdk_pixbuf_format_get_name (format));
          g_auto (GStrv) exts = gdk_pixbuf_format_get_extensions (format);
          for (int i = 0; exts && exts[i]; i++)
            g_hash_table_add (extensions, g_ascii_strdown (exts[i], -1));
          g_auto (GStrv) mimes = gdk_pixbuf_format_get_mime_types (format);
          for (int i = 0; mimes && mimes[i]; i++)
            g_hash_table_add (mime_types, g_strdup (mimes[i]));
        }
      g_slist_free (list);
      table.extensions = sorted_strv (extensions);
      table.mime_types = sorted_strv (mime_types);
      table.names = sorted_strv (names);
      g_once_init_leave (&once, 1);
    }
  return &table;
}

const char *const *
data_image_extensions (void)
{
  return (const char *const *) formats ()->extensions;
}

const char *const *
data_image_mime_types (void)
{
  return (const char *const *) formats ()->mime_types;
}

gboolean
data_is_image_name (const char *name)
{
  g_return_val_if_fail (name != NULL, FALSE);
  g_autofree char *lower = g_ascii_strdown (name, -1);
  gsize length = strlen (lower);
  /* by suffix, so that two-part extensions (svg.gz) count too */
  for (char **e = formats ()->extensions; *e; e++)
    {
      gsize n = strlen (*e);
      if (length > n + 1 && lower[length - n - 1] == '.'
          && strcmp (lower + length - n, *e) == 0)
        return TRUE;
    }
  return FALSE;
}

gboolean
data_image_format_available (const char *name)
{
  g_return_val_if_fail (name != NULL, FALSE);
  return g_strv_contains ((const char *const *) formats ()->names, name);
}

char *
data_image_formats_describe (void)
{
  GString *s = g_string_new (NULL);
  for (char **n = formats ()->names; *n; n++)
    {
      g_autofree char *upper = g_ascii_strup (*n, -1);
      g_string_append_printf (s, "%s%s", s->len ? ", " : "", upper);
    }
  return g_string_free (s, FALSE);
}

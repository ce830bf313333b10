/* file-list-format.c: files.txt as text, read and written; see
 * file-list.h and docs/file-formats.md.
 *
 * The file is text, one record a line, fields separated by tabs:
 *   instdisc-files 1
 *   channels <TAB> train|test <TAB> 1|3          one per split listed
 *   stats <TAB> train|test <TAB> MEAN <TAB> STD   a grey split's pixels, as
 *                                                 its images are normalised
 *   class <TAB> NAME                              in label order
 *   train|test <TAB> ok|skipped|unreadable <TAB> LABEL <TAB> SIZE
 *       <TAB> SECONDS.NANOSECONDS <TAB> PATH     one per file, in scan order
 *   end <TAB> COUNT                               the number of file lines
 * Names and paths are percent-escaped: '%', and the bytes below 0x20 and
 * 0x7F, as %XX; every other byte is itself, so a path stays readable and a
 * tab or a line break in a file name cannot split a record. The end line
 * makes a list cut short at a line break an error, not a shorter run. */
#define G_LOG_DOMAIN "instdisc-data"

#include "file-list-private.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "atomic-file.h"
#include "file-list.h"

#define HEADER_PREFIX "instdisc-files "
/* real lists are tens of bytes a file: a billion bytes is ten million
 * images, and anything larger is not a list */
#define MAX_LIST_BYTES ((gint64) 1 << 30)

static const char *const split_names[N_SPLITS] = { "train", "test" };
static const char *const state_names[N_STATES] = { "ok", "skipped",
                                                   "unreadable" };

static void
entry_clear (gpointer p)
{
  g_free (((Entry *) p)->path);
}

FileList *
file_list_new (void)
{
  FileList *self = g_new0 (FileList, 1);
  self->classes = g_ptr_array_new_with_free_func (g_free);
  self->entries = g_array_new (FALSE, TRUE, sizeof (Entry));
  g_array_set_clear_func (self->entries, entry_clear);
  return self;
}

void
file_list_free (FileList *self)
{
  if (!self)
    return;
  if (self->classes)
    g_ptr_array_unref (self->classes);
  g_array_unref (self->entries);
  g_free (self);
}

/* ---- escaping ---- */

static void
append_escaped (GString *out, const char *s)
{
  for (const guchar *p = (const guchar *) s; *p; p++)
    if (*p < 0x20 || *p == 0x7F || *p == '%')
      g_string_append_printf (out, "%%%02X", *p);
    else
      g_string_append_c (out, (char) *p);
}

/* The field unescaped, or NULL when it holds a control byte or a '%' that
 * is not followed by two hex digits. */
static char *
unescape (const char *field)
{
  GString *out = g_string_sized_new (strlen (field));
  for (const guchar *p = (const guchar *) field; *p; p++)
    {
      if (*p < 0x20 || *p == 0x7F)
        return (g_string_free (out, TRUE), NULL);
      if (*p != '%')
        {
          g_string_append_c (out, (char) *p);
          continue;
        }
      int hi = g_ascii_xdigit_value (p[1]);
      int lo = hi < 0 ? -1 : g_ascii_xdigit_value (p[2]);
      if (lo < 0 || (hi == 0 && lo == 0))
        return (g_string_free (out, TRUE), NULL);
      g_string_append_c (out, (char) (hi * 16 + lo));
      p += 2;
    }
  return g_string_free (out, FALSE);
}

/* ---- names and paths ---- */

int
file_list_split_index (const char *name)
{
  for (int s = 0; s < N_SPLITS; s++)
    if (g_str_equal (name, split_names[s]))
      return s;
  return -1;
}

const char *
file_list_split_name (int split)
{
  return split_names[split];
}

const char *
file_list_relative_to (const char *root, const char *path)
{
  gsize n = strlen (root);
  while (n > 1 && root[n - 1] == G_DIR_SEPARATOR)
    n--;
  if (strncmp (path, root, n) != 0 || path[n] != G_DIR_SEPARATOR)
    return NULL;
  const char *rel = path + n;
  while (*rel == G_DIR_SEPARATOR)
    rel++;
  return *rel ? rel : NULL;
}

/* ---- reading ---- */

static gboolean
fail_line (GError **error, const char *shown, int line, const char *what)
{
  g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_CORRUPT,
               _("%s: line %d: %s"), shown, line, what);
  return FALSE;
}

/* "SECONDS.NANOSECONDS", nine digits after the point */
static gboolean
parse_mtime (const char *text, DatasetFileStamp *stamp)
{
  const char *dot = strchr (text, '.');
  if (!dot || strlen (dot + 1) != 9)
    return FALSE;
  g_autofree char *seconds = g_strndup (text, dot - text);
  gint64 s;
  guint64 ns;
  if (!g_ascii_string_to_signed (seconds, 10, G_MININT64, G_MAXINT64, &s,
                                 NULL)
      || !g_ascii_string_to_unsigned (dot + 1, 10, 0, 999999999, &ns, NULL))
    return FALSE;
  stamp->mtime_s = s;
  stamp->mtime_ns = (gint32) ns;
  return TRUE;
}

/* A number in [0, 1], the whole field */
static gboolean
parse_unit (const char *text, double *value)
{
  char *end = NULL;
  *value = g_ascii_strtod (text, &end);
  return end != text && *end == '\0' && *value >= 0.0 && *value <= 1.0;
}

/* One file line's fields after its split: state, label, size, time, path. */
static gboolean
parse_entry (char **fields, int split, int line, const char *shown,
             FileList *list, GError **error)
{
  if (g_strv_length (fields) != 6)
    return fail_line (error, shown, line,
                      _("a file line has six fields: split, state, label, "
                        "size, time, path"));
  Entry entry = { .split = split, .state = N_STATES, .line = line };
  for (int k = 0; k < N_STATES; k++)
    if (g_str_equal (fields[1], state_names[k]))
      entry.state = k;
  if (entry.state == N_STATES)
    return fail_line (error, shown, line,
                      _("the state is not ok, skipped or unreadable"));
  gint64 label;
  guint64 size;
  if (!g_ascii_string_to_signed (fields[2], 10, -1, G_MAXINT32, &label, NULL))
    return fail_line (error, shown, line, _("the label is not a number"));
  if (!g_ascii_string_to_unsigned (fields[3], 10, 0, G_MAXINT64, &size, NULL))
    return fail_line (error, shown, line, _("the size is not a number"));
  if (!parse_mtime (fields[4], &entry.stamp))
    return fail_line (error, shown, line,
                      _("the time is not SECONDS.NANOSECONDS"));
  entry.label = (gint32) label;
  entry.stamp.size = (gint64) size;
  entry.path = unescape (fields[5]);
  if (!entry.path || !entry.path[0] || g_path_is_absolute (entry.path))
    {
      g_free (entry.path);
      return fail_line (error, shown, line,
                        _("the path is empty, absolute or badly escaped"));
    }
  g_array_append_val (list->entries, entry);
  return TRUE;
}

/* One line after the header; *ended is set by the end line. */
static gboolean
parse_line (char *text, int line, const char *shown, FileList *list,
            gboolean *ended, GError **error)
{
  if (*ended)
    return fail_line (error, shown, line, _("a line after the end line"));
  g_auto (GStrv) fields = g_strsplit (text, "\t", -1);
  const guint n_fields = g_strv_length (fields);
  const char *kind = fields[0] ? fields[0] : "";
  int split = file_list_split_index (kind);
  if (split >= 0)
    return parse_entry (fields, split, line, shown, list, error);
  if (g_str_equal (kind, "channels"))
    {
      gint64 channels;
      split = n_fields == 3 ? file_list_split_index (fields[1]) : -1;
      if (split < 0
          || !g_ascii_string_to_signed (fields[2], 10, 1, 3, &channels, NULL)
          || channels == 2)
        return fail_line (error, shown, line,
                          _("a channels line names train or test and 1 or "
                            "3"));
      if (list->channels[split])
        return fail_line (error, shown, line,
                          _("a split's channels are given twice"));
      list->channels[split] = (int) channels;
      return TRUE;
    }
  if (g_str_equal (kind, "stats"))
    {
      double mean, std;
      split = n_fields == 4 ? file_list_split_index (fields[1]) : -1;
      if (split < 0 || !parse_unit (fields[2], &mean)
          || !parse_unit (fields[3], &std))
        return fail_line (error, shown, line,
                          _("a stats line names train or test and two "
                            "numbers from 0 to 1"));
      if (list->has_stats[split])
        return fail_line (error, shown, line,
                          _("a split's stats are given twice"));
      list->has_stats[split] = TRUE;
      list->mean[split] = (float) mean;
      list->std[split] = (float) std;
      return TRUE;
    }
  if (g_str_equal (kind, "class"))
    {
      char *name = n_fields == 2 ? unescape (fields[1]) : NULL;
      if (!name || !name[0])
        {
          g_free (name);
          return fail_line (error, shown, line,
                            _("a class line holds one escaped name"));
        }
      if (list->entries->len)
        {
          g_free (name);
          return fail_line (error, shown, line,
                            _("a class line after the files"));
        }
      g_ptr_array_add (list->classes, name);
      return TRUE;
    }
  if (g_str_equal (kind, "end"))
    {
      guint64 count;
      if (n_fields != 2
          || !g_ascii_string_to_unsigned (fields[1], 10, 0, G_MAXUINT, &count,
                                          NULL))
        return fail_line (error, shown, line,
                          _("the end line holds the number of files"));
      if (count != list->entries->len)
        {
          g_autofree char *what = g_strdup_printf (
              _("the end line counts %u files, the list holds %u"),
              (guint) count, list->entries->len);
          return fail_line (error, shown, line, what);
        }
      *ended = TRUE;
      return TRUE;
    }
  g_autofree char *what = g_strdup_printf (_("“%s” is not a line of the "
                                             "format"), kind);
  return fail_line (error, shown, line, what);
}

/* What the lines say together: labels within the classes, files of listed
 * splits. */
static gboolean
check_list (const FileList *list, const char *shown, GError **error)
{
  const int n_classes = (int) list->classes->len;
  for (guint i = 0; i < list->entries->len; i++)
    {
      const Entry *e = &g_array_index (list->entries, Entry, i);
      if (!list->channels[e->split])
        return fail_line (error, shown, e->line,
                          _("a file of a split without a channels line"));
      if (list->channels[e->split] == 1 && !list->has_stats[e->split])
        return fail_line (error, shown, e->line,
                          _("a file of a grey split without a stats line"));
      /* a skipped file was never a row: its label does not matter */
      if (e->state != STATE_SKIPPED
          && (n_classes ? e->label < 0 || e->label >= n_classes
                        : e->label != -1))
        return fail_line (error, shown, e->line,
                          _("the label is not one of the listed classes"));
    }
  return TRUE;
}

FileList *
file_list_load (const char *path, GError **error)
{
  g_autofree char *shown = g_filename_display_name (path);
  GStatBuf st;
  if (g_stat (path, &st) != 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "%s: %s", shown, g_strerror (saved));
      return NULL;
    }
  if (!S_ISREG (st.st_mode) || st.st_size > MAX_LIST_BYTES)
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_INVALID,
                   _("%s: not a file list (not a regular file, or larger "
                     "than 1 GiB)"), shown);
      return NULL;
    }
  g_autofree char *text = NULL;
  gsize length = 0;
  if (!g_file_get_contents (path, &text, &length, error))
    return NULL;   /* the message names the file */
  if (memchr (text, '\0', length))
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_CORRUPT,
                   _("%s: holds a zero byte: not a file list"), shown);
      return NULL;
    }
  char *first_end = strchr (text, '\n');
  g_autofree char *first = first_end ? g_strndup (text, first_end - text)
                                     : g_strdup (text);
  if (!g_str_has_prefix (first, HEADER_PREFIX))
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_CORRUPT,
                   _("%s: not a file list (the first line is not “%s%d”)"),
                   shown, HEADER_PREFIX, DATASET_FILE_LIST_VERSION);
      return NULL;
    }
  guint64 version = 0;
  if (!g_ascii_string_to_unsigned (first + strlen (HEADER_PREFIX), 10, 1,
                                   G_MAXINT, &version, NULL)
      || version != DATASET_FILE_LIST_VERSION)
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_INVALID,
                   _("%s: format version “%s”; this instdisc reads version "
                     "%d"), shown, first + strlen (HEADER_PREFIX),
                   DATASET_FILE_LIST_VERSION);
      return NULL;
    }
  if (length == 0 || text[length - 1] != '\n')
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_TRUNCATED,
                   _("%s: cut short (its last line has no line break)"),
                   shown);
      return NULL;
    }

  g_autoptr (FileList) list = file_list_new ();
  gboolean ended = FALSE;
  int line = 2;
  for (char *at = first_end + 1; *at; line++)
    {
      char *end = strchr (at, '\n');   /* there is one: the text ends so */
      *end = '\0';
      if (!parse_line (at, line, shown, list, &ended, error))
        return NULL;
      at = end + 1;
    }
  if (!ended)
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_TRUNCATED,
                   _("%s: cut short (no end line after its %u files)"),
                   shown, list->entries->len);
      return NULL;
    }
  if (!check_list (list, shown, error))
    return NULL;
  return g_steal_pointer (&list);
}

/* ---- writing ---- */

gboolean
file_list_write (const FileList *list, const char *path, GError **error)
{
  GString *text = g_string_new (NULL);
  g_string_append_printf (text, "%s%d\n", HEADER_PREFIX,
                          DATASET_FILE_LIST_VERSION);
  for (int s = 0; s < N_SPLITS; s++)
    if (list->channels[s])
      g_string_append_printf (text, "channels\t%s\t%d\n", split_names[s],
                              list->channels[s]);
  for (int s = 0; s < N_SPLITS; s++)
    if (list->has_stats[s])
      {
        /* nine digits give the float back bit for bit */
        char mean[G_ASCII_DTOSTR_BUF_SIZE], std[G_ASCII_DTOSTR_BUF_SIZE];
        g_ascii_formatd (mean, sizeof mean, "%.9g", list->mean[s]);
        g_ascii_formatd (std, sizeof std, "%.9g", list->std[s]);
        g_string_append_printf (text, "stats\t%s\t%s\t%s\n",
                                split_names[s], mean, std);
      }
  for (guint c = 0; c < list->classes->len; c++)
    {
      g_string_append (text, "class\t");
      append_escaped (text, list->classes->pdata[c]);
      g_string_append_c (text, '\n');
    }
  for (guint i = 0; i < list->entries->len; i++)
    {
      const Entry *e = &g_array_index (list->entries, Entry, i);
      g_string_append_printf (text,
                              "%s\t%s\t%d\t%" G_GINT64_FORMAT "\t%"
                              G_GINT64_FORMAT ".%09d\t",
                              split_names[e->split], state_names[e->state],
                              e->label, e->stamp.size, e->stamp.mtime_s,
                              e->stamp.mtime_ns);
      append_escaped (text, e->path);
      g_string_append_c (text, '\n');
    }
  g_string_append_printf (text, "end\t%u\n", list->entries->len);
  gboolean ok = atomic_file_set_contents (path, text->str, text->len, error);
  g_string_free (text, TRUE);
  return ok;
}

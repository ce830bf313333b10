/* run-dir.c: config.ini and metrics.csv of a run directory. */
#define G_LOG_DOMAIN "instdisc-io"

#include "run-dir.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "atomic-file.h"
#include "io-file.h"

/* metrics.csv's common columns, in order; an objective's come after */
static const char *const COLUMNS[] = {
  "kind", "iteration", "epoch", "loss", "lr", "images_per_s", "knn_top1",
  "knn_top5", "knn_1nn", "knn_top1_recomputed", "knn_top5_recomputed",
  "linear_top1", "linear_top5", "wall_s",
};
#define N_COLUMNS G_N_ELEMENTS (COLUMNS)

/* the numeric columns' places in a MetricsRow, after kind/iteration/epoch */
static double *
row_number (MetricsRow *row, guint column)
{
  double *fields[] = {
    &row->loss, &row->lr, &row->images_per_s, &row->knn_top1, &row->knn_top5,
    &row->knn_1nn, &row->knn_top1_recomputed, &row->knn_top5_recomputed,
    &row->linear_top1, &row->linear_top5, &row->wall_s,
  };
  G_STATIC_ASSERT (G_N_ELEMENTS (fields) == N_COLUMNS - 3);
  return column >= 3 && column < N_COLUMNS ? fields[column - 3] : NULL;
}

/* the common column called name, or -1 */
static int
common_column (const char *name)
{
  for (guint c = 0; c < N_COLUMNS; c++)
    if (g_str_equal (name, COLUMNS[c]))
      return (int) c;
  return -1;
}

gboolean
metrics_column_is_common (const char *name)
{
  return common_column (name) >= 0;
}

void
metrics_row_init (MetricsRow *row, const char *kind)
{
  memset (row, 0, sizeof *row);
  row->kind = kind;
  for (guint c = 3; c < N_COLUMNS; c++)
    *row_number (row, c) = NAN;
  for (guint i = 0; i < METRICS_MAX_EXTRA; i++)
    row->extra[i] = NAN;
}

/* the place of the extra column called name, or -1 */
static int
extra_column (const MetricsRow *row, const char *name)
{
  for (guint i = 0; i < row->n_extra; i++)
    if (g_str_equal (row->extra_names[i], name))
      return (int) i;
  return -1;
}

gboolean
metrics_row_set_extra (MetricsRow *row, const char *name, double value)
{
  int i = extra_column (row, name);
  if (i < 0)
    {
      if (row->n_extra == METRICS_MAX_EXTRA)
        return FALSE;
      i = (int) row->n_extra++;
      row->extra_names[i] = name;
    }
  row->extra[i] = value;
  return TRUE;
}

double
metrics_row_get (const MetricsRow *row, const char *name)
{
  int c = common_column (name);
  if (c >= 3)
    return *row_number ((MetricsRow *) row, (guint) c);
  if (c == 1)
    return (double) row->iteration;
  if (c == 2)
    return row->epoch;
  int i = c < 0 ? extra_column (row, name) : -1;
  return i >= 0 ? row->extra[i] : NAN;
}

char *
metrics_csv_header (const char *const *extra_columns)
{
  /* COLUMNS has no NULL at its end, so not g_strjoinv */
  GString *joined = g_string_new (COLUMNS[0]);
  for (guint c = 1; c < N_COLUMNS; c++)
    g_string_append_printf (joined, ",%s", COLUMNS[c]);
  for (guint i = 0; extra_columns && extra_columns[i]; i++)
    g_string_append_printf (joined, ",%s", extra_columns[i]);
  return g_string_free (joined, FALSE);
}

char *
run_dir_file (const char *dir, const char *name)
{
  return g_build_filename (dir, name, NULL);
}

gboolean
run_dir_ensure (const char *dir, GError **error)
{
  if (g_mkdir_with_parents (dir, 0777) != 0)
    {
      int saved_errno = errno;
      g_autofree char *display = g_filename_display_name (dir);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   _("%s: cannot create the run folder: %s"), display,
                   g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

gboolean
run_dir_save_config (const char *dir, GKeyFile *config, GError **error)
{
  gsize length;
  g_autofree char *text = g_key_file_to_data (config, &length, NULL);
  g_autofree char *path = run_dir_file (dir, RUN_CONFIG_FILE);
  return atomic_file_set_contents (path, text, length, error);
}

GKeyFile *
run_dir_load_config (const char *dir, GError **error)
{
  g_autofree char *path = run_dir_file (dir, RUN_CONFIG_FILE);
  g_autoptr (GKeyFile) config = g_key_file_new ();
  g_autoptr (GError) local_error = NULL;
  if (!io_require_regular_file (path, error))
    return NULL;
  if (!g_key_file_load_from_file (config, path, G_KEY_FILE_NONE, &local_error))
    {
      g_autofree char *display = g_filename_display_name (path);
      g_set_error (error, local_error->domain, local_error->code, "%s: %s",
                   display, local_error->message);
      return NULL;
    }
  return g_steal_pointer (&config);
}

static void
append_number (GString *line, double value, const char *format)
{
  g_string_append_c (line, ',');
  if (isnan (value))
    return;
  char text[G_ASCII_DTOSTR_BUF_SIZE];
  g_string_append (line, g_ascii_formatd (text, sizeof text, format, value));
}

static GString *
format_row (const MetricsRow *row, const char *const *extra_columns)
{
  GString *line = g_string_new (row->kind);
  g_string_append_printf (line, ",%" G_GINT64_FORMAT ",%d", row->iteration,
                          row->epoch);
  for (guint c = 3; c < N_COLUMNS; c++)
    append_number (line, *row_number ((MetricsRow *) row, c),
                   g_str_equal (COLUMNS[c], "wall_s") ? "%.3f" : "%.6g");
  /* by name: an evaluation row has none of the objective's columns */
  for (guint i = 0; extra_columns && extra_columns[i]; i++)
    {
      int e = extra_column (row, extra_columns[i]);
      append_number (line, e >= 0 ? row->extra[e] : NAN, "%.6g");
    }
  g_string_append_c (line, '\n');
  return line;
}

static gboolean
append_line (int fd, const GString *line, const char *display, GError **error)
{
  ssize_t n;
  do
    n = write (fd, line->str, line->len);
  while (n < 0 && errno == EINTR);
  if (n != (ssize_t) line->len)
    {
      int saved_errno = n < 0 ? errno : ENOSPC;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   _("%s: cannot append: %s"), display,
                   g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

gboolean
run_dir_append_metrics (const char *dir, const char *const *extra_columns,
                        const MetricsRow *row, GError **error)
{
  g_autofree char *path = run_dir_file (dir, RUN_METRICS_FILE);
  g_autofree char *display = g_filename_display_name (path);
  /* read too: the last byte tells whether the previous row was finished */
  int fd = g_open (path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0)
    {
      int saved_errno = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   _("%s: cannot open for appending: %s"), display,
                   g_strerror (saved_errno));
      return FALSE;
    }
  g_autoptr (GString) line = format_row (row, extra_columns);
  off_t end = lseek (fd, 0, SEEK_END);
  if (end == 0)
    {
      /* header and first row in one write, so no reader sees a header-only
       * file it might mistake for a finished empty run */
      g_autofree char *header = metrics_csv_header (extra_columns);
      g_string_prepend_c (line, '\n');
      g_string_prepend (line, header);
    }
  else if (end > 0)
    {
      /* a crash mid-row leaves a line without its newline; end it so this
       * row starts a line of its own (the loader drops the broken one) */
      char last = '\n';
      if (pread (fd, &last, 1, end - 1) == 1 && last != '\n')
        g_string_prepend_c (line, '\n');
    }
  gboolean ok = append_line (fd, line, display, error);
  close (fd);
  return ok;
}

/* Splits a CSV line of plain fields (no quoting is ever written). */
static char **
split_fields (const char *line)
{
  return g_strsplit (line, ",", -1);
}

/* Stands for a line that holds a NUL byte: empty, so it is skipped as a
 * damaged row is. */
static char damaged_line[] = "";

/* contents (length bytes, NUL-terminated) cut into its lines in place, a
 * NULL-terminated array whose last element is "" when the text ends with
 * a newline, as g_strsplit's. By length, not by string functions: a NUL
 * byte (a damaged block of the disk) costs its own row, not every row
 * after it. */
static char **
split_lines (char *contents, gsize length)
{
  GPtrArray *lines = g_ptr_array_new ();
  char *line = contents, *end = contents + length;
  for (;;)
    {
      char *newline = memchr (line, '\n', (size_t) (end - line));
      char *stop = newline ? newline : end;
      *stop = '\0';
      g_ptr_array_add (lines, memchr (line, '\0', (size_t) (stop - line))
                                  ? damaged_line : line);
      if (!newline)
        break;
      line = newline + 1;
    }
  g_ptr_array_add (lines, NULL);
  return (char **) g_ptr_array_free (lines, FALSE);
}

GArray *
run_dir_load_metrics (const char *dir, GError **error)
{
  g_autofree char *path = run_dir_file (dir, RUN_METRICS_FILE);
  g_autofree char *contents = NULL;
  gsize length = 0;
  if (!io_require_regular_file (path, error)
      || !g_file_get_contents (path, &contents, &length, error))
    return NULL;
  g_autofree char **lines = split_lines (contents, length);
  if (lines[0] == damaged_line)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                   _("%s: its header line holds a NUL byte; the file is "
                     "damaged"),
                   path);
      return NULL;
    }
  GArray *rows = g_array_new (FALSE, FALSE, sizeof (MetricsRow));
  /* column i of the file -> a common column (>= 0), an extra column
   * (-1 - its place in the row) or neither (G_MININT: past the extras'
   * room); names of the extras interned, so rows can point at them */
  g_auto (GStrv) header = split_fields (g_strchomp (lines[0]));
  guint n_file_columns = g_strv_length (header);
  g_autofree int *map = g_new (int, n_file_columns);
  const char *extra_names[METRICS_MAX_EXTRA];
  guint n_extra = 0;
  for (guint i = 0; i < n_file_columns; i++)
    {
      const char *name = g_strstrip (header[i]);
      map[i] = common_column (name);
      if (map[i] >= 0)
        continue;
      map[i] = G_MININT;
      if (n_extra < METRICS_MAX_EXTRA && *name)
        {
          extra_names[n_extra] = g_intern_string (name);
          map[i] = -1 - (int) n_extra++;
        }
    }
  for (guint l = 1; lines[l]; l++)
    {
      /* the last line may be empty, or half-written by a live writer */
      if (lines[l][0] == '\0' || !lines[l + 1])
        continue;
      /* a file saved by a spreadsheet may end its lines with \r\n */
      g_auto (GStrv) fields = split_fields (g_strchomp (lines[l]));
      /* a row cut short by a crash, with the next row appended after it */
      if (g_strv_length (fields) != n_file_columns)
        continue;
      MetricsRow row;
      metrics_row_init (&row, "step");
      row.n_extra = n_extra;
      memcpy (row.extra_names, extra_names, sizeof (char *) * n_extra);
      gboolean whole = TRUE;
      for (guint i = 0; i < n_file_columns && whole; i++)
        {
          if (map[i] == G_MININT || fields[i][0] == '\0')
            continue;
          if (map[i] < 0)
            {
              /* a column of unknown meaning may hold something else */
              char *end;
              double v = g_ascii_strtod (fields[i], &end);
              row.extra[-1 - map[i]] = *end == '\0' ? v : NAN;
            }
          else if (map[i] == 0)
            row.kind = g_intern_string (fields[i]);
          else
            {
              /* every number this program writes reads back whole; one
               * that does not is a damaged row, not a number to guess */
              char *end;
              double v = g_ascii_strtod (fields[i], &end);
              whole = *end == '\0';
              if (map[i] == 1)
                {
                  whole = whole && v >= 0 && v <= 0x1p53;
                  row.iteration = whole ? (gint64) v : 0;
                }
              else if (map[i] == 2)
                {
                  whole = whole && v >= 0 && v <= G_MAXINT;
                  row.epoch = whole ? (int) v : 0;
                }
              else
                *row_number (&row, map[i]) = v;
            }
        }
      if (whole)
        g_array_append_val (rows, row);
    }
  return rows;
}

gboolean
run_dir_truncate_metrics (const char *dir, const char *const *extra_columns,
                          gint64 keep_through, GError **error)
{
  g_autofree char *path = run_dir_file (dir, RUN_METRICS_FILE);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;
  g_autoptr (GArray) rows = run_dir_load_metrics (dir, error);
  if (!rows)
    return FALSE;
  g_autofree char *header = metrics_csv_header (extra_columns);
  g_autoptr (GString) text = g_string_new (header);
  g_string_append_c (text, '\n');
  for (guint i = 0; i < rows->len; i++)
    {
      const MetricsRow *row = &g_array_index (rows, MetricsRow, i);
      if (row->iteration > keep_through)
        continue;
      g_autoptr (GString) line = format_row (row, extra_columns);
      g_string_append_len (text, line->str, line->len);
    }
  return atomic_file_set_contents (path, text->str, text->len, error);
}

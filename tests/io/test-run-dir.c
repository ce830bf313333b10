/* test-run-dir.c: config.ini and metrics.csv of a run folder (the files
 * of earlier versions too), and the atomic writes under them: what a
 * reader sees after a failure. */
#define G_LOG_DOMAIN "instdisc-io"

#include <math.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "atomic-file.h"
#include "io-fixture.h"
#include "run-dir.h"
#include "run-lock.h"

static char *
read_text (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return text;
}

static void
write_text (const char *dir, const char *name, const char *text)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
}

/* ---- config.ini ---- */

static void
test_config (Fixture *f, gconstpointer data)
{
  g_autofree char *run = g_build_filename (f->dir, "runs", "a", NULL);
  GError *error = NULL;
  g_assert_true (run_dir_ensure (run, &error));
  g_assert_no_error (error);
  g_assert_true (run_dir_ensure (run, &error));   /* already there: fine */
  g_assert_no_error (error);

  g_autoptr (GKeyFile) config = g_key_file_new ();
  g_key_file_set_string (config, "data", "spec", "/data/fashion mnist=x");
  g_key_file_set_string (config, "data", "name", "Fashion-MNIST «train»");
  g_key_file_set_integer (config, "trainer", "batch_size", 256);
  g_key_file_set_double (config, "trainer", "tau", 0.07);
  g_key_file_set_uint64 (config, "trainer", "seed", G_MAXUINT64);
  const int drops[] = { 120, 160 };
  g_key_file_set_integer_list (config, "trainer", "lr_drops", (int *) drops,
                               2);
  g_assert_true (run_dir_save_config (run, config, &error));
  g_assert_no_error (error);

  g_autoptr (GKeyFile) back = run_dir_load_config (run, &error);
  g_assert_no_error (error);
  g_autofree char *a = g_key_file_to_data (config, NULL, NULL);
  g_autofree char *b = g_key_file_to_data (back, NULL, NULL);
  g_assert_cmpstr (a, ==, b);
  g_autofree char *name = g_key_file_get_string (back, "data", "name", NULL);
  g_assert_cmpstr (name, ==, "Fashion-MNIST «train»");
  g_assert_cmpfloat (g_key_file_get_double (back, "trainer", "tau", NULL), ==,
                     0.07);
  g_assert_cmpuint (g_key_file_get_uint64 (back, "trainer", "seed", NULL), ==,
                    G_MAXUINT64);
  g_autofree char *left = list_files (run);
  g_assert_cmpstr (left, ==, RUN_CONFIG_FILE);

  /* a folder without one, and a file that is not a key file */
  GKeyFile *none = run_dir_load_config (f->dir, &error);
  g_assert_null (none);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull (strstr (error->message, RUN_CONFIG_FILE));
  g_clear_error (&error);
  write_text (f->dir, RUN_CONFIG_FILE, "this is not\na key file\n");
  GKeyFile *bad = run_dir_load_config (f->dir, &error);
  g_assert_null (bad);
  g_assert_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, RUN_CONFIG_FILE));
  g_test_message ("%s", error->message);
  g_clear_error (&error);
}

/* ---- metrics.csv ---- */

/* an objective's columns, as run-dir sees them: names it knows nothing
 * about */
static const char *const EXTRA[] = { "z", "p_data", NULL };

static void
append_with (const char *dir, const char *const *extra, const MetricsRow *row)
{
  GError *error = NULL;
  g_assert_true (run_dir_append_metrics (dir, extra, row, &error));
  g_assert_no_error (error);
}

static void
append (const char *dir, const MetricsRow *row)
{
  append_with (dir, NULL, row);
}

static GArray *
load (const char *dir)
{
  GError *error = NULL;
  GArray *rows = run_dir_load_metrics (dir, &error);
  g_assert_no_error (error);
  g_assert_nonnull (rows);
  return rows;
}

#define ROW(rows, i) (&g_array_index ((rows), MetricsRow, (i)))

static void
assert_close (double got, double want)
{
  /* numbers are written with 6 significant digits, wall_s with 3 decimals */
  if (!(fabs (got - want) <= 5e-6 * fabs (want) + 5e-4))
    g_error ("read back %.9g, wrote %.9g", got, want);
}

static void
test_metrics_append (Fixture *f, gconstpointer data)
{
  MetricsRow step;
  metrics_row_init (&step, "step");
  step.iteration = 20;
  step.epoch = 1;
  step.loss = 9.87654321;
  step.lr = 0.03;
  step.images_per_s = 1234.5;
  step.wall_s = 12.3456;
  /* the objective's columns go by name, whatever order the row has them */
  g_assert_true (metrics_row_set_extra (&step, "p_data", 0.5));
  append_with (f->dir, EXTRA, &step);

  step.iteration = 40;
  step.loss = 1.5e-7;
  g_assert_true (metrics_row_set_extra (&step, "z", 2.3456789e7));
  g_assert_true (metrics_row_set_extra (&step, "p_data", 0.25));
  g_assert_cmpuint (step.n_extra, ==, 2);
  append_with (f->dir, EXTRA, &step);

  MetricsRow eval;
  metrics_row_init (&eval, "eval");
  eval.iteration = 40;
  eval.epoch = 1;
  eval.knn_top1 = 81.25;
  eval.knn_top5 = 99.5;
  eval.linear_top1 = 86.5;
  append_with (f->dir, EXTRA, &eval);

  g_autofree char *text = read_text (f->dir, RUN_METRICS_FILE);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 5);   /* 4 lines and "" */
  g_autofree char *header_line = metrics_csv_header (EXTRA);
  g_assert_cmpstr (lines[0], ==, header_line);
  g_assert_cmpstr (lines[4], ==, "");
  /* the header once */
  g_assert_null (strstr (text + 1, "kind,iteration"));
  /* the common columns, then the objective's */
  g_assert_cmpstr (header_line, ==,
                   "kind,iteration,epoch,loss,lr,images_per_s,knn_top1,"
                   "knn_top5,knn_1nn,knn_top1_recomputed,knn_top5_recomputed,"
                   "linear_top1,linear_top5,wall_s,z,p_data");
  g_autofree char *plain = metrics_csv_header (NULL);
  g_assert_true (g_str_has_suffix (plain, ",linear_top5,wall_s"));
  /* NAN fields are empty, and a row without the objective's columns has
   * them empty */
  g_assert_cmpstr (lines[1], ==, "step,20,1,9.87654,0.03,1234.5,,,,,,,,"
                                 "12.346,,0.5");
  g_assert_cmpstr (lines[3], ==, "eval,40,1,,,,81.25,99.5,,,,86.5,,,,");
  g_auto (GStrv) header = g_strsplit (lines[0], ",", -1);
  for (int l = 1; l < 4; l++)
    {
      g_auto (GStrv) fields = g_strsplit (lines[l], ",", -1);
      g_assert_cmpuint (g_strv_length (fields), ==, g_strv_length (header));
    }

  g_autoptr (GArray) rows = load (f->dir);
  g_assert_cmpuint (rows->len, ==, 3);
  g_assert_cmpstr (ROW (rows, 0)->kind, ==, "step");
  g_assert_cmpint (ROW (rows, 0)->iteration, ==, 20);
  g_assert_cmpint (ROW (rows, 0)->epoch, ==, 1);
  assert_close (ROW (rows, 0)->loss, 9.87654321);
  g_assert_cmpfloat (ROW (rows, 0)->lr, ==, 0.03);
  g_assert_cmpfloat (ROW (rows, 0)->images_per_s, ==, 1234.5);
  assert_close (ROW (rows, 0)->wall_s, 12.3456);
  g_assert_true (isnan (ROW (rows, 0)->knn_top1));
  g_assert_true (isnan (metrics_row_get (ROW (rows, 0), "z")));
  g_assert_cmpfloat (metrics_row_get (ROW (rows, 0), "p_data"), ==, 0.5);
  assert_close (ROW (rows, 1)->loss, 1.5e-7);
  assert_close (metrics_row_get (ROW (rows, 1), "z"), 2.3456789e7);
  /* every row read back names the file's extra columns */
  g_assert_cmpuint (ROW (rows, 2)->n_extra, ==, 2);
  g_assert_cmpstr (ROW (rows, 2)->extra_names[0], ==, "z");
  g_assert_cmpstr (ROW (rows, 2)->extra_names[1], ==, "p_data");
  g_assert_true (isnan (metrics_row_get (ROW (rows, 2), "z")));
  /* the common columns by name too; no such column is NAN */
  g_assert_cmpfloat (metrics_row_get (ROW (rows, 2), "knn_top1"), ==, 81.25);
  g_assert_cmpfloat (metrics_row_get (ROW (rows, 2), "iteration"), ==, 40);
  g_assert_true (isnan (metrics_row_get (ROW (rows, 2), "no_such")));
  g_assert_true (metrics_column_is_common ("wall_s"));
  g_assert_false (metrics_column_is_common ("z"));
  g_assert_cmpstr (ROW (rows, 2)->kind, ==, "eval");
  g_assert_cmpfloat (ROW (rows, 2)->knn_top1, ==, 81.25);
  g_assert_cmpfloat (ROW (rows, 2)->knn_top5, ==, 99.5);
  g_assert_cmpfloat (ROW (rows, 2)->linear_top1, ==, 86.5);
  g_assert_true (isnan (ROW (rows, 2)->linear_top5));
  g_assert_true (isnan (ROW (rows, 2)->loss));
  g_assert_true (isnan (ROW (rows, 2)->wall_s));
}

/* Files from other versions (columns reordered, unknown, missing) and a
 * file a writer is still appending to. */
static void
test_metrics_tolerant (Fixture *f, gconstpointer data)
{
  write_text (f->dir, RUN_METRICS_FILE,
              "epoch,iteration,future_column,loss,kind\r\n"
              "1,10,xyz,2.5,step\r\n"
              "2,20,,1.25,eval\n"
              "3,30,abc,0.7");   /* half-written: no newline yet */
  g_autoptr (GArray) rows = load (f->dir);
  g_assert_cmpuint (rows->len, ==, 2);
  g_assert_cmpint (ROW (rows, 0)->iteration, ==, 10);
  g_assert_cmpint (ROW (rows, 0)->epoch, ==, 1);
  g_assert_cmpfloat (ROW (rows, 0)->loss, ==, 2.5);
  g_assert_cmpstr (ROW (rows, 0)->kind, ==, "step");
  g_assert_true (isnan (ROW (rows, 0)->lr));
  g_assert_true (isnan (ROW (rows, 0)->wall_s));
  g_assert_cmpstr (ROW (rows, 1)->kind, ==, "eval");
  g_assert_cmpfloat (ROW (rows, 1)->loss, ==, 1.25);
  /* a column this version does not know is kept, by its name */
  g_assert_cmpuint (ROW (rows, 0)->n_extra, ==, 1);
  g_assert_cmpstr (ROW (rows, 0)->extra_names[0], ==, "future_column");
  g_assert_true (isnan (metrics_row_get (ROW (rows, 0), "future_column")));

  /* more unknown columns than a row has room for: the first ones */
  g_autoptr (GString) wide = g_string_new ("kind,iteration");
  for (int c = 0; c < METRICS_MAX_EXTRA + 2; c++)
    g_string_append_printf (wide, ",x%d", c);
  g_string_append (wide, ",loss\nstep,1");
  for (int c = 0; c < METRICS_MAX_EXTRA + 2; c++)
    g_string_append_printf (wide, ",%d", c);
  g_string_append (wide, ",0.5\n");
  write_text (f->dir, RUN_METRICS_FILE, wide->str);
  g_autoptr (GArray) wide_rows = load (f->dir);
  g_assert_cmpuint (wide_rows->len, ==, 1);
  g_assert_cmpuint (ROW (wide_rows, 0)->n_extra, ==, METRICS_MAX_EXTRA);
  g_assert_cmpfloat (metrics_row_get (ROW (wide_rows, 0), "x1"), ==, 1.0);
  g_assert_true (isnan (metrics_row_get (ROW (wide_rows, 0), "x7")));
  g_assert_cmpfloat (ROW (wide_rows, 0)->loss, ==, 0.5);

  /* empty file, header only */
  write_text (f->dir, RUN_METRICS_FILE, "");
  g_autoptr (GArray) none = load (f->dir);
  g_assert_cmpuint (none->len, ==, 0);
  write_text (f->dir, RUN_METRICS_FILE, "kind,iteration\n");
  g_autoptr (GArray) header_only = load (f->dir);
  g_assert_cmpuint (header_only->len, ==, 0);

  /* missing file: an error naming it */
  g_autofree char *elsewhere = g_build_filename (f->dir, "nothing", NULL);
  GError *error = NULL;
  g_assert_null (run_dir_load_metrics (elsewhere, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull (strstr (error->message, RUN_METRICS_FILE));
  g_clear_error (&error);
}

/* A damaged block (a NUL byte) or a garbled number costs its own row:
 * every row after it still loads, and a resume's rewrite keeps them. A
 * damaged header is an error naming the file, so nothing rewrites it. */
static void
test_metrics_damaged (Fixture *f, gconstpointer data)
{
  static const char text[] = "kind,iteration,epoch,loss\n"
                             "step,1,1,2.5\n"
                             "step,2,1,2\0.4\n"      /* a NUL byte */
                             "step,3,1,2.3x\n"        /* not a number */
                             "step,4,1e999,2.2\n"     /* no epoch */
                             "step,5,1,2.1\n"
                             "eval,5,1,\n";
  g_autofree char *path = g_build_filename (f->dir, RUN_METRICS_FILE, NULL);
  g_assert_true (g_file_set_contents (path, text, sizeof text - 1, NULL));
  g_autoptr (GArray) rows = load (f->dir);
  g_assert_cmpuint (rows->len, ==, 3);
  g_assert_cmpint (ROW (rows, 0)->iteration, ==, 1);
  g_assert_cmpint (ROW (rows, 1)->iteration, ==, 5);
  g_assert_cmpfloat (ROW (rows, 1)->loss, ==, 2.1);
  g_assert_cmpstr (ROW (rows, 2)->kind, ==, "eval");

  GError *error = NULL;
  g_assert_true (run_dir_truncate_metrics (f->dir, NULL, 5, &error));
  g_assert_no_error (error);
  g_autoptr (GArray) kept = load (f->dir);
  g_assert_cmpuint (kept->len, ==, 3);

  static const char bad_header[] = "kind,iter\0ation\nstep,1\n";
  g_assert_true (g_file_set_contents (path, bad_header, sizeof bad_header - 1,
                                      NULL));
  g_assert_null (run_dir_load_metrics (f->dir, &error));
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "NUL"));
  g_clear_error (&error);
  g_assert_false (run_dir_truncate_metrics (f->dir, NULL, 5, &error));
  g_clear_error (&error);
  g_autofree char *after = NULL;
  gsize after_length = 0;
  g_assert_true (g_file_get_contents (path, &after, &after_length, NULL));
  g_assert_cmpmem (after, after_length, bad_header, sizeof bad_header - 1);
}

/* A crash mid-row, then a resumed run appending: the new row starts a line
 * of its own and the broken one is dropped. */
static void
test_metrics_after_crash (Fixture *f, gconstpointer data)
{
  MetricsRow row;
  metrics_row_init (&row, "step");
  row.iteration = 10;
  row.loss = 3.0;
  append (f->dir, &row);
  g_autofree char *path = g_build_filename (f->dir, RUN_METRICS_FILE, NULL);
  g_autofree char *text = read_text (f->dir, RUN_METRICS_FILE);
  g_autofree char *broken = g_strconcat (text, "step,20,1,2.", NULL);
  g_assert_true (g_file_set_contents (path, broken, -1, NULL));
  row.iteration = 30;
  row.loss = 1.0;
  append (f->dir, &row);
  g_autoptr (GArray) rows = load (f->dir);
  g_assert_cmpuint (rows->len, ==, 2);
  g_assert_cmpint (ROW (rows, 0)->iteration, ==, 10);
  g_assert_cmpint (ROW (rows, 1)->iteration, ==, 30);
  g_assert_cmpfloat (ROW (rows, 1)->loss, ==, 1.0);
}

static void
test_metrics_truncate (Fixture *f, gconstpointer data)
{
  GError *error = NULL;
  /* nothing to truncate yet */
  g_assert_true (run_dir_truncate_metrics (f->dir, NULL, 100, &error));
  g_assert_no_error (error);
  g_autofree char *empty = list_files (f->dir);
  g_assert_cmpstr (empty, ==, "");

  for (int it = 10; it <= 40; it += 10)
    {
      MetricsRow row;
      metrics_row_init (&row, "step");
      row.iteration = it;
      row.loss = it / 10.0;
      append (f->dir, &row);
      metrics_row_init (&row, "eval");
      row.iteration = it;
      row.knn_top1 = it;
      append (f->dir, &row);
    }
  g_assert_true (run_dir_truncate_metrics (f->dir, NULL, 25, &error));
  g_assert_no_error (error);
  g_autoptr (GArray) rows = load (f->dir);
  g_assert_cmpuint (rows->len, ==, 4);
  g_assert_cmpint (ROW (rows, 3)->iteration, ==, 20);
  g_assert_cmpstr (ROW (rows, 3)->kind, ==, "eval");
  g_assert_cmpfloat (ROW (rows, 3)->knn_top1, ==, 20.0);
  g_assert_cmpfloat (ROW (rows, 2)->loss, ==, 2.0);

  /* keeping through an exact iteration keeps it; appending goes on after
   * with the header still once */
  g_assert_true (run_dir_truncate_metrics (f->dir, NULL, 10, &error));
  g_assert_no_error (error);
  MetricsRow row;
  metrics_row_init (&row, "step");
  row.iteration = 20;
  append (f->dir, &row);
  g_autoptr (GArray) after = load (f->dir);
  g_assert_cmpuint (after->len, ==, 3);
  g_assert_cmpint (ROW (after, 1)->iteration, ==, 10);
  g_assert_cmpint (ROW (after, 2)->iteration, ==, 20);
  g_autofree char *text = read_text (f->dir, RUN_METRICS_FILE);
  g_autofree char *header = metrics_csv_header (NULL);
  g_assert_true (g_str_has_prefix (text, header));
  g_assert_null (strstr (text + 1, "kind,iteration"));
  g_autofree char *left = list_files (f->dir);
  g_assert_cmpstr (left, ==, RUN_METRICS_FILE);
}

/* metrics.csv as instdisc wrote it before objectives declared their own
 * columns (tests/fixtures/old-metrics-*.csv, from `instdisc train` of
 * commit 9a66a94 on a 48-image toy set, batch 8, 2 epochs): NCE's three
 * columns sat between linear_top5 and wall_s, and a softmax run had them
 * too, empty. They read by name; rewritten for a resumed run (truncate),
 * they take this version's layout with the run's columns after the common
 * ones, and the numbers stay. */
static void
copy_fixture (const char *name, const char *dir)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "fixtures",
                                                 name, NULL);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  write_text (dir, RUN_METRICS_FILE, text);
}

static const char *const NCE_COLUMNS[] = {
  "nce_z", "nce_z_estimate", "p_positive", NULL,
};

static void
test_metrics_old_nce (Fixture *f, gconstpointer data)
{
  copy_fixture ("old-metrics-nce.csv", f->dir);
  g_autoptr (GArray) rows = load (f->dir);
  /* two reference rows, 12 steps, 2 evaluations */
  g_assert_cmpuint (rows->len, ==, 16);
  const MetricsRow *step3 = ROW (rows, 4);
  g_assert_cmpstr (step3->kind, ==, "step");
  g_assert_cmpint (step3->iteration, ==, 3);
  g_assert_cmpfloat (step3->loss, ==, 8.56526);
  g_assert_cmpfloat (metrics_row_get (step3, "nce_z"), ==, 4431.12);
  g_assert_cmpfloat (metrics_row_get (step3, "nce_z_estimate"), ==, 4599.22);
  g_assert_cmpfloat (metrics_row_get (step3, "p_positive"), ==, 0.000344188);
  g_assert_cmpfloat (step3->wall_s, ==, 0.449);
  g_assert_cmpfloat (ROW (rows, 15)->knn_1nn, ==, 39.5833);
  g_assert_true (isnan (metrics_row_get (ROW (rows, 15), "nce_z")));

  GError *error = NULL;
  g_assert_true (run_dir_truncate_metrics (f->dir, NCE_COLUMNS, 9, &error));
  g_assert_no_error (error);
  g_autofree char *text = read_text (f->dir, RUN_METRICS_FILE);
  g_autofree char *header = metrics_csv_header (NCE_COLUMNS);
  g_assert_true (g_str_has_prefix (text, header));
  g_assert_true (g_str_has_suffix (header, "wall_s,nce_z,nce_z_estimate,"
                                           "p_positive"));
  g_assert_nonnull (strstr (text, "\nstep,3,1,8.56526,0.0279904,53.4861,,,,,"
                                  ",,,0.449,4431.12,4599.22,0.000344188\n"));
  g_autoptr (GArray) after = load (f->dir);
  g_assert_cmpuint (after->len, ==, 12);   /* through step 9 */
  for (guint i = 0; i < after->len; i++)
    {
      const MetricsRow *a = ROW (after, i), *b = ROW (rows, i);
      g_assert_cmpstr (a->kind, ==, b->kind);
      g_assert_cmpint (a->iteration, ==, b->iteration);
      for (const char *const *c = (const char *const[]) {
             "loss", "lr", "knn_top1", "wall_s", "nce_z", "nce_z_estimate",
             "p_positive", NULL };
           *c; c++)
        {
          double va = metrics_row_get (a, *c), vb = metrics_row_get (b, *c);
          g_assert_true (isnan (va) ? isnan (vb) : va == vb);
        }
    }
}

static void
test_metrics_old_softmax (Fixture *f, gconstpointer data)
{
  copy_fixture ("old-metrics-softmax.csv", f->dir);
  g_autoptr (GArray) rows = load (f->dir);
  g_assert_cmpuint (rows->len, ==, 16);
  g_assert_cmpfloat (ROW (rows, 2)->loss, ==, 3.86947);
  g_assert_cmpfloat (ROW (rows, 2)->wall_s, ==, 0.138);
  g_assert_true (isnan (metrics_row_get (ROW (rows, 2), "nce_z")));
  /* the softmax adds no column: the empty NCE ones go */
  GError *error = NULL;
  g_assert_true (run_dir_truncate_metrics (f->dir, NULL, 12, &error));
  g_assert_no_error (error);
  g_autofree char *text = read_text (f->dir, RUN_METRICS_FILE);
  g_assert_null (strstr (text, "nce_z"));
  g_assert_nonnull (strstr (text, "\nstep,1,1,3.86947,0.03,57.8453,,,,,,,,"
                                  "0.138\n"));
  g_autoptr (GArray) after = load (f->dir);
  g_assert_cmpuint (after->len, ==, 16);
  g_assert_cmpuint (ROW (after, 0)->n_extra, ==, 0);
}

/* ---- atomic writes under failure ---- */

/* A config too large for the file size limit: the save fails naming the
 * file, the old config.ini stays as it was, no temporary file is left. */
static void
test_config_write_failure (Fixture *f, gconstpointer data)
{
  g_autoptr (GKeyFile) config = g_key_file_new ();
  g_key_file_set_string (config, "data", "spec", "old");
  GError *error = NULL;
  g_assert_true (run_dir_save_config (f->dir, config, &error));
  g_autofree char *old = read_text (f->dir, RUN_CONFIG_FILE);

  g_autofree char *huge = g_strnfill (64 * 1024, 'x');
  g_key_file_set_string (config, "data", "spec", huge);
  FileSizeLimit limit;
  file_size_limit_begin (&limit, 4096);
  gboolean ok = run_dir_save_config (f->dir, config, &error);
  file_size_limit_end (&limit);
  g_assert_false (ok);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, RUN_CONFIG_FILE));
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_autofree char *left = list_files (f->dir);
  g_assert_cmpstr (left, ==, RUN_CONFIG_FILE);
  g_autofree char *now = read_text (f->dir, RUN_CONFIG_FILE);
  g_assert_cmpstr (now, ==, old);
}

/* The same for rewriting metrics.csv. */
static void
test_truncate_write_failure (Fixture *f, gconstpointer data)
{
  for (int it = 1; it <= 200; it++)
    {
      MetricsRow row;
      metrics_row_init (&row, "step");
      row.iteration = it;
      row.loss = 1.0 / it;
      append (f->dir, &row);
    }
  g_autofree char *old = read_text (f->dir, RUN_METRICS_FILE);
  g_assert_cmpuint (strlen (old), >, 4096);
  FileSizeLimit limit;
  file_size_limit_begin (&limit, 4096);
  GError *error = NULL;
  gboolean ok = run_dir_truncate_metrics (f->dir, NULL, 150, &error);
  file_size_limit_end (&limit);
  g_assert_false (ok);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, RUN_METRICS_FILE));
  g_clear_error (&error);
  g_autofree char *left = list_files (f->dir);
  g_assert_cmpstr (left, ==, RUN_METRICS_FILE);
  g_autofree char *now = read_text (f->dir, RUN_METRICS_FILE);
  g_assert_cmpstr (now, ==, old);
}

static void
test_atomic_abort (Fixture *f, gconstpointer data)
{
  g_autofree char *path = fixture_path (f, "out.bin");
  GError *error = NULL;
  g_assert_true (atomic_file_set_contents (path, "old", 3, &error));
  g_assert_no_error (error);
  {
    g_autoptr (AtomicFile) file = atomic_file_open (path, &error);
    g_assert_no_error (error);
    g_assert_true (atomic_file_write (file, "new", 3, &error));
    g_autofree char *during = list_files (f->dir);
    g_assert_cmpuint (strlen (during), >, strlen ("out.bin"));   /* temp */
    /* going out of scope without commit aborts */
  }
  g_autofree char *left = list_files (f->dir);
  g_assert_cmpstr (left, ==, "out.bin");
  g_autofree char *now = read_text (f->dir, "out.bin");
  g_assert_cmpstr (now, ==, "old");
  atomic_file_abort (NULL);
}

/* After a failed write the file cannot be committed: a caller that ignores
 * the error must not put a short file in place. */
static void
test_atomic_commit_after_failure (Fixture *f, gconstpointer data)
{
  g_autofree char *path = fixture_path (f, "out.bin");
  GError *error = NULL;
  g_assert_true (atomic_file_set_contents (path, "old", 3, &error));
  AtomicFile *file = atomic_file_open (path, &error);
  g_assert_no_error (error);
  g_autofree char *big = g_malloc0 (16384);
  FileSizeLimit limit;
  file_size_limit_begin (&limit, 4096);
  gboolean wrote = atomic_file_write (file, big, 16384, &error);
  file_size_limit_end (&limit);
  g_assert_false (wrote);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_assert_false (atomic_file_write (file, "x", 1, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_false (atomic_file_commit (file, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "out.bin"));
  g_clear_error (&error);
  g_autofree char *left = list_files (f->dir);
  g_assert_cmpstr (left, ==, "out.bin");
  g_autofree char *now = read_text (f->dir, "out.bin");
  g_assert_cmpstr (now, ==, "old");
}

/* One writer per folder: a second lock is refused, naming the holder's
 * process; it is free again once released. Taking it removes what
 * interrupted atomic writes left (NAME.XXXXXX of the run's own files) and
 * nothing else. flock's locks belong to an open file, so two in one
 * process conflict as two processes' do. */
static void
test_run_lock (Fixture *f, gconstpointer unused)
{
  g_autoptr (GError) error = NULL;
  const char *leftovers[] = { "metrics.csv.Ab3xZ9", "checkpoint.safetensors.q1W2e3",
                              "config.ini.zzzzzz" };
  const char *kept[] = { "metrics.csv.bak", "notes.txt.abcdef", "metrics.csv" };
  for (guint i = 0; i < G_N_ELEMENTS (leftovers); i++)
    write_text (f->dir, leftovers[i], "half");
  for (guint i = 0; i < G_N_ELEMENTS (kept); i++)
    write_text (f->dir, kept[i], "mine");

  RunLock *first = run_lock_acquire (f->dir, &error);
  g_assert_no_error (error);
  g_assert_nonnull (first);
  g_autofree char *left = list_files (f->dir);
  g_assert_cmpstr (left, ==, "metrics.csv metrics.csv.bak notes.txt.abcdef "
                             "run.lock");

  g_assert_null (run_lock_acquire (f->dir, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BUSY);
  g_autofree char *pid = g_strdup_printf ("process %ld", (long) getpid ());
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, pid));
  g_assert_nonnull (strstr (error->message, f->dir));
  g_clear_error (&error);

  run_lock_release (first);
  RunLock *second = run_lock_acquire (f->dir, &error);
  g_assert_no_error (error);
  g_assert_nonnull (second);
  run_lock_release (second);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) \
  g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/io/run-dir/config", test_config);
  ADD ("/io/run-dir/metrics-append", test_metrics_append);
  ADD ("/io/run-dir/metrics-tolerant", test_metrics_tolerant);
  ADD ("/io/run-dir/metrics-after-crash", test_metrics_after_crash);
  ADD ("/io/run-dir/metrics-damaged", test_metrics_damaged);
  ADD ("/io/run-dir/metrics-truncate", test_metrics_truncate);
  ADD ("/io/run-dir/metrics-old-nce", test_metrics_old_nce);
  ADD ("/io/run-dir/metrics-old-softmax", test_metrics_old_softmax);
  ADD ("/io/run-dir/config-write-failure", test_config_write_failure);
  ADD ("/io/run-dir/truncate-write-failure", test_truncate_write_failure);
  ADD ("/io/run-dir/lock", test_run_lock);
  ADD ("/io/atomic-file/abort", test_atomic_abort);
  ADD ("/io/atomic-file/commit-after-failure",
       test_atomic_commit_after_failure);
#undef ADD
  return g_test_run ();
}

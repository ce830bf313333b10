/* test-locale.c: the programs in other languages and locales.
 *
 * /po/zh-CN/...: `instdisc` run with LANGUAGE=zh_CN and LANG=C.UTF-8 (no
 * zh_CN locale needs to be installed: glibc honours LANGUAGE for messages
 * under any locale but "C") speaks Chinese: --help, a command's options,
 * an error of the command line and one of the libraries, a training's
 * lines. The .mo files are not installed while tests run: INSTDISC_LOCALEDIR
 * binds the domain to the build tree's po folder.
 *
 * /po/comma-locale/...: with a locale whose decimal separator is a comma
 * (de_DE.UTF-8), every file written stays '.'-decimal and every number read
 * from files and the command line is read the C way, while numbers shown
 * to people follow the locale. When de_DE.UTF-8 is not installed, it is
 * compiled with localedef (Debian's "locales" package holds its source)
 * into the test's temporary folder and found through LOCPATH: no root
 * needed. Without the source, these tests are skipped, saying so.
 *
 * Arguments after the GTest ones: the instdisc binary, the build tree's po
 * folder. */
#define G_LOG_DOMAIN "instdisc"

#include <glib.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "npy.h"
#include "run-dir.h"
#include "safetensors.h"
#include "test-data.h"
#include "testutil.h"
#include "trainer.h"

#define COMMA_LOCALE "de_DE.UTF-8"

static const char *instdisc_path;
static const char *po_build_dir;
static char *workdir;
static char *locpath;        /* LOCPATH for COMMA_LOCALE, "" if installed */
static const char *no_comma_locale;   /* why the comma tests skip */

typedef struct
{
  int status;
  char *out, *err;
} Result;

static void
result_clear (Result *r)
{
  g_clear_pointer (&r->out, g_free);
  g_clear_pointer (&r->err, g_free);
}

/* The environment without any locale setting, plus `first` NAME, VALUE
 * pairs (NULL-terminated). */
static char **
child_environ (const char *first, va_list pairs)
{
  char **env = g_get_environ ();
  static const char *const cleared[] = {
    "LANGUAGE", "LANG", "LC_ALL", "LC_MESSAGES", "LC_NUMERIC", "LC_CTYPE",
    "LOCPATH", "INSTDISC_LOCALEDIR", NULL,
  };
  for (int i = 0; cleared[i]; i++)
    env = g_environ_unsetenv (env, cleared[i]);
  for (const char *name = first; name; name = va_arg (pairs, const char *))
    env = g_environ_setenv (env, name, va_arg (pairs, const char *), TRUE);
  return env;
}

/* Runs instdisc with argv (NULL-terminated) in workdir, in the environment
 * of the NAME, VALUE pairs that follow (NULL-terminated). */
static Result
run_instdisc (const char *const *args, const char *first_env, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (char *) instdisc_path);
  for (int i = 0; args[i]; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  va_list pairs;
  va_start (pairs, first_env);
  g_auto (GStrv) env = child_environ (first_env, pairs);
  va_end (pairs);

  Result r = { 0 };
  int wait_status = 0;
  g_autoptr (GError) error = NULL;
  g_spawn_sync (workdir, (char **) argv->pdata, env, G_SPAWN_DEFAULT, NULL,
                NULL, &r.out, &r.err, &wait_status, &error);
  g_assert_no_error (error);
  r.status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1;
  g_test_message ("instdisc %s: exit %d\nstdout:\n%s\nstderr:\n%s", args[0],
                  r.status, r.out, r.err);
  return r;
}

/* Runs instdisc in Chinese. */
static Result
run_zh (const char *const *args)
{
  return run_instdisc (args, "LANGUAGE", "zh_CN", "LANG", "C.UTF-8",
                       "INSTDISC_LOCALEDIR", po_build_dir, NULL);
}

/* Runs instdisc under the comma-decimal locale. */
static Result
run_comma (const char *const *args)
{
  return run_instdisc (args, "LC_ALL", COMMA_LOCALE, "LOCPATH", locpath,
                       NULL);
}

/* How many characters of text are CJK ideographs. */
static int
count_han (const char *text)
{
  int n = 0;
  for (const char *p = text; *p; p = g_utf8_next_char (p))
    if (g_unichar_get_script (g_utf8_get_char (p)) == G_UNICODE_SCRIPT_HAN)
      n++;
  return n;
}

static void
assert_contains (const char *text, const char *part)
{
  if (!strstr (text, part))
    g_error ("“%s” not found in:\n%s", part, text);
}

static void
assert_lacks (const char *text, const char *part)
{
  if (strstr (text, part))
    g_error ("“%s” (untranslated) found in:\n%s", part, text);
}

/* ---- zh_CN ---- */

static void
test_zh_help (void)
{
  const char *const usage[] = { "--help", NULL };
  Result r = run_zh (usage);
  g_assert_cmpint (r.status, ==, 0);
  assert_lacks (r.out, "Unsupervised embeddings");
  assert_lacks (r.out, "Train an embedding on a data set");
  /* command names stay as typed */
  assert_contains (r.out, "train");
  assert_contains (r.out, "export");
  g_assert_cmpint (count_han (r.out), >, 40);
  result_clear (&r);

  /* options through GOption's translation domain, summary through _() */
  const char *const train_help[] = { "train", "--help", NULL };
  r = run_zh (train_help);
  g_assert_cmpint (r.status, ==, 0);
  assert_lacks (r.out, "Temperature");
  assert_lacks (r.out, "Learns D-dimensional unit embeddings");
  assert_contains (r.out, "--tau");
  assert_contains (r.out, "--bank-momentum");
  assert_contains (r.out, "温度");
  assert_contains (r.out, "记忆库");
  g_assert_cmpint (count_han (r.out), >, 200);
  result_clear (&r);
}

static void
test_zh_errors (void)
{
  /* the command line's own message */
  const char *const eval[] = { "eval", NULL };
  Result r = run_zh (eval);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_true (g_str_has_prefix (r.err, "instdisc: "));
  assert_lacks (r.err, "needs");
  assert_contains (r.err, "--run");
  g_assert_cmpint (count_han (r.err), >, 0);
  result_clear (&r);

  /* a library's (io's npy reader) */
  g_autofree char *bad = g_build_filename (workdir, "bad.npy", NULL);
  g_assert_true (g_file_set_contents (bad, "not numpy", -1, NULL));
  const char *const info[] = { "info", "bad.npy", NULL };
  r = run_zh (info);
  g_assert_cmpint (r.status, ==, 1);
  assert_contains (r.err, "bad.npy");
  assert_contains (r.err, ".npy");
  assert_lacks (r.err, "not a usable");
  assert_lacks (r.err, "NUMPY magic at the start");
  g_assert_cmpint (count_han (r.err), >, 4);
  result_clear (&r);
}

/* The lines of a training: a format with PRId64 (a "system-dependent"
 * message in the .mo) and one with %.4f. */
static void
test_zh_train (void)
{
  g_free (test_write_toy_idx (workdir, "toy", 64));
  const char *const train[] = {
    "train", "--data", "toy-images-idx3-ubyte", "--run", "run-zh",
    "--steps", "2", "--batch-size", "16", "--no-eval", "--threads", "1",
    "--log-every", "1", NULL,
  };
  Result r = run_zh (train);
  g_assert_cmpint (r.status, ==, 0);
  assert_lacks (r.out, "training the");
  assert_lacks (r.out, "done: 2 steps");
  assert_lacks (r.out, "epoch 1/");
  assert_lacks (r.out, "this takes");
  /* the numbers are there, in the Chinese sentences */
  assert_contains (r.out, "2");
  g_assert_cmpint (count_han (r.out), >, 10);
  g_auto (GStrv) lines = g_strsplit (g_strstrip (r.out), "\n", -1);
  /* start, how long it takes, the bank from features, 2 steps, done */
  g_assert_cmpuint (g_strv_length (lines), ==, 6);
  for (int i = 0; lines[i]; i++)
    if (count_han (lines[i]) == 0)
      g_error ("an untranslated line: %s", lines[i]);
  result_clear (&r);
}

/* ---- a comma-decimal locale ---- */

/* Makes COMMA_LOCALE usable: installed, or compiled into workdir. */
static void
find_comma_locale (void)
{
  g_autofree char *saved = g_strdup (setlocale (LC_ALL, NULL));
  if (setlocale (LC_ALL, COMMA_LOCALE))
    {
      setlocale (LC_ALL, saved);
      locpath = g_strdup ("");
      return;
    }
  g_autofree char *localedef = g_find_program_in_path ("localedef");
  if (!localedef
      || !g_file_test ("/usr/share/i18n/locales/de_DE", G_FILE_TEST_EXISTS))
    {
      no_comma_locale = COMMA_LOCALE " is not installed and cannot be "
                        "compiled (no localedef or no "
                        "/usr/share/i18n/locales/de_DE: Debian's \"locales\" "
                        "package, which tools/install-deps installs)";
      return;
    }
  locpath = g_build_filename (workdir, "locale", NULL);
  g_mkdir_with_parents (locpath, 0700);
  g_autofree char *out = g_build_filename (locpath, COMMA_LOCALE, NULL);
  const char *argv[] = { localedef, "-i", "de_DE", "-f", "UTF-8", out, NULL };
  g_autofree char *err = NULL;
  int wait_status = 0;
  g_autoptr (GError) error = NULL;
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
                     NULL, NULL, NULL, &err, &wait_status, &error)
      || !g_file_test (out, G_FILE_TEST_IS_DIR))
    {
      g_printerr ("localedef: %s %s\n", error ? error->message : "", err);
      no_comma_locale = "localedef could not compile " COMMA_LOCALE;
      return;
    }
  /* localedef exits 1 for warnings yet writes a usable locale: check it */
  g_setenv ("LOCPATH", locpath, TRUE);
  if (!setlocale (LC_ALL, COMMA_LOCALE))
    no_comma_locale = "the compiled " COMMA_LOCALE " does not load";
  setlocale (LC_ALL, saved);
  g_unsetenv ("LOCPATH");
}

static gboolean
skip_without_comma_locale (void)
{
  if (!no_comma_locale)
    return FALSE;
  g_test_skip (no_comma_locale);
  return TRUE;
}

/* Switches this process to COMMA_LOCALE and checks printf now writes a
 * comma; back to "C" with enter_c_locale. */
static void
enter_comma_locale (void)
{
  if (*locpath)
    g_setenv ("LOCPATH", locpath, TRUE);
  g_assert_nonnull (setlocale (LC_ALL, COMMA_LOCALE));
  char text[16];
  g_snprintf (text, sizeof text, "%.1f", 0.5);
  g_assert_cmpstr (text, ==, "0,5");
}

static void
leave_comma_locale (void)
{
  setlocale (LC_ALL, "C");
  g_unsetenv ("LOCPATH");
}

static char *
read_file (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  char *text = NULL;
  g_autoptr (GError) error = NULL;
  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}

/* A decimal comma sits between two digits (for key files: no list in
 * them holds numbers separated by commas). */
static void
assert_no_decimal_comma (const char *text, const char *what)
{
  for (const char *p = text; *p; p++)
    if (*p == ',' && p > text && g_ascii_isdigit (p[-1])
        && g_ascii_isdigit (p[1]))
      {
        const char *start = p;
        while (start > text && start[-1] != '\n')
          start--;
        g_autofree char *line = g_strndup (start, strcspn (start, "\n"));
        g_error ("%s: a decimal comma in “%s”", what, line);
      }
}

/* The library writes its files in the comma locale: metrics.csv,
 * config.ini, the projector TSV; what it reads back is the same. */
static void
test_comma_library_files (void)
{
  if (skip_without_comma_locale ())
    return;
  g_autofree char *dir = g_build_filename (workdir, "lib-run", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (run_dir_ensure (dir, &error));
  enter_comma_locale ();

  /* metrics.csv: every number with '.', as many fields a row as the
   * header has columns */
  MetricsRow row;
  metrics_row_init (&row, "step");
  row.iteration = 7;
  row.epoch = 1;
  row.loss = 2.25;
  row.lr = 0.03;
  row.images_per_s = 1234.5;
  row.wall_s = 12.5;
  /* an objective's columns (NCE's), after the common ones */
  static const char *const nce_columns[] = { "nce_z", "p_positive", NULL };
  metrics_row_set_extra (&row, "nce_z", 10287.5);
  metrics_row_set_extra (&row, "p_positive", 0.000125);
  g_assert_true (run_dir_append_metrics (dir, nce_columns, &row, &error));
  g_assert_no_error (error);
  g_autofree char *csv = read_file (dir, RUN_METRICS_FILE);
  g_auto (GStrv) lines = g_strsplit (csv, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 3);   /* header, row, "" */
  g_auto (GStrv) header = g_strsplit (lines[0], ",", -1);
  g_auto (GStrv) fields = g_strsplit (lines[1], ",", -1);
  const guint n_columns = g_strv_length (header);
  g_assert_cmpuint (g_strv_length (fields), ==, n_columns);
  g_assert_cmpstr (fields[3], ==, "2.25");
  g_assert_cmpstr (fields[4], ==, "0.03");
  g_assert_cmpstr (fields[5], ==, "1234.5");
  g_assert_cmpstr (header[n_columns - 3], ==, "wall_s");
  g_assert_cmpstr (fields[n_columns - 3], ==, "12.500");
  g_assert_cmpstr (fields[n_columns - 2], ==, "10287.5");
  g_assert_cmpstr (fields[n_columns - 1], ==, "0.000125");
  g_autoptr (GArray) rows = run_dir_load_metrics (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, ==, 1);
  g_assert_cmpfloat (g_array_index (rows, MetricsRow, 0).loss, ==, 2.25);
  g_assert_cmpfloat (metrics_row_get (&g_array_index (rows, MetricsRow, 0),
                                      "nce_z"), ==, 10287.5);

  /* config.ini: GKeyFile's doubles are the C locale's both ways */
  TrainerConfig config;
  trainer_config_init_default (&config);
  config.tau = 0.07f;
  config.lr = 0.125f;
  config.weight_decay = 5e-4f;
  g_autoptr (GKeyFile) keyfile = g_key_file_new ();
  trainer_config_to_keyfile (&config, keyfile);
  g_assert_true (run_dir_save_config (dir, keyfile, &error));
  g_autofree char *ini = read_file (dir, RUN_CONFIG_FILE);
  assert_no_decimal_comma (ini, RUN_CONFIG_FILE);
  assert_contains (ini, "lr=0.125\n");
  g_autoptr (GKeyFile) loaded = run_dir_load_config (dir, &error);
  g_assert_no_error (error);
  TrainerConfig back;
  trainer_config_init_default (&back);
  g_assert_true (trainer_config_from_keyfile (&back, loaded, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (back.tau, ==, 0.07f);
  g_assert_cmpfloat (back.lr, ==, 0.125f);
  g_assert_cmpfloat (back.weight_decay, ==, 5e-4f);

  /* the projector's vectors.tsv */
  const float vectors[4] = { 0.25f, -0.5f, 1.0f / 3.0f, 1e-5f };
  const gint32 labels[2] = { 0, 1 };
  const char *const names[] = { "a[0]", "a[1]", NULL };
  g_autofree char *vpath = g_build_filename (dir, "vectors.tsv", NULL);
  g_autofree char *mpath = g_build_filename (dir, "metadata.tsv", NULL);
  g_assert_true (tsv_save_projector (vpath, mpath, vectors, 2, 2, labels,
                                     NULL, names, NULL, &error));
  g_assert_no_error (error);
  g_autofree char *tsv = read_file (dir, "vectors.tsv");
  g_assert_null (strchr (tsv, ','));
  assert_contains (tsv, "0.25\t-0.5\n");
  g_auto (GStrv) tsv_lines = g_strsplit (tsv, "\n", -1);
  g_auto (GStrv) second = g_strsplit (tsv_lines[1], "\t", -1);
  g_assert_cmpfloat ((float) g_ascii_strtod (second[0], NULL), ==,
                     1.0f / 3.0f);
  leave_comma_locale ();
}

/* The command line in the comma locale: --tau 0.07 is read as 0.07, the
 * run folder's files and the checkpoint's metadata (NCE's Z) use '.', the
 * progress lines show the locale's comma. */
static void
test_comma_cli (void)
{
  if (skip_without_comma_locale ())
    return;
  g_free (test_write_toy_idx (workdir, "toy", 64));
  const char *const train[] = {
    "train", "--data", "toy-images-idx3-ubyte", "--run", "run-comma",
    "--objective", "nce", "--nce-k", "8", "--tau", "0.07", "--lr", "0.125",
    "--schedule", "step", "--warmup", "0", "--steps", "3", "--batch-size", "16",
    "--no-eval", "--threads", "1",
    "--log-every", "1", NULL,
  };
  Result r = run_comma (train);
  g_assert_cmpint (r.status, ==, 0);
  /* "loss 2,0794" and "lr 0,125" (constant: the step schedule without a
   * warm-up): for people, in the locale */
  g_assert_true (g_regex_match_simple ("loss [0-9]+,[0-9]{4}", r.out, 0, 0));
  assert_contains (r.out, "lr 0,125");
  result_clear (&r);

  g_autofree char *run = g_build_filename (workdir, "run-comma", NULL);
  g_autofree char *ini = read_file (run, RUN_CONFIG_FILE);
  assert_no_decimal_comma (ini, RUN_CONFIG_FILE);
  assert_contains (ini, "tau=0.070000000298023224\n");   /* float 0.07 */
  assert_contains (ini, "lr=0.125\n");

  g_autofree char *csv = read_file (run, RUN_METRICS_FILE);
  g_auto (GStrv) lines = g_strsplit (csv, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 5);   /* header, 3 rows, "" */
  g_auto (GStrv) header = g_strsplit (lines[0], ",", -1);
  for (int i = 1; i <= 3; i++)
    {
      g_auto (GStrv) fields = g_strsplit (lines[i], ",", -1);
      g_assert_cmpuint (g_strv_length (fields), ==, g_strv_length (header));
      /* loss, lr and Z parse whole the C way */
      for (int f = 3; f <= 4; f++)
        {
          char *end;
          g_ascii_strtod (fields[f], &end);
          g_assert_true (end > fields[f] && *end == '\0');
        }
      assert_contains (fields[4], "0.125");
    }

  g_autofree char *checkpoint = g_build_filename (run, RUN_CHECKPOINT_FILE,
                                                  NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (SafetensorsFile) file = safetensors_file_load (checkpoint,
                                                            &error);
  g_assert_no_error (error);
  const char *keys[] = { "nce_z", "nce_z_estimate" };
  for (int k = 0; k < 2; k++)
    {
      const char *z = safetensors_file_get_metadata (file, keys[k]);
      g_assert_nonnull (z);
      g_test_message ("%s = %s", keys[k], z);
      g_assert_null (strchr (z, ','));
      char *end;
      double value = g_ascii_strtod (z, &end);
      g_assert_true (*end == '\0' && value > 1.0);
    }
  g_autofree char *config_meta
      = g_strdup (safetensors_file_get_metadata (file, "config"));
  assert_no_decimal_comma (config_meta, "checkpoint config");

  /* resumed in the locale, the run reads its numbers back right */
  const char *const resume[] = {
    "train", "--run", "run-comma", "--resume", "--steps", "4", "--no-eval",
    "--threads", "1", NULL,
  };
  r = run_comma (resume);
  g_assert_cmpint (r.status, ==, 0);
  result_clear (&r);
  g_autofree char *ini_after = read_file (run, RUN_CONFIG_FILE);
  g_assert_cmpstr (ini_after, ==, ini);

  /* info prints the metrics.csv excerpt as the file has it */
  const char *const info[] = { "info", "run-comma", NULL };
  r = run_comma (info);
  g_assert_cmpint (r.status, ==, 0);
  assert_contains (r.out, " 0.125");
  result_clear (&r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (argc < 3)
    g_error ("usage: test-locale [GTEST...] INSTDISC PO_BUILD_DIR");
  /* meson gives them relative to the build folder; the commands run in
   * workdir */
  g_autofree char *instdisc = g_canonicalize_filename (argv[1], NULL);
  g_autofree char *po_dir = g_canonicalize_filename (argv[2], NULL);
  instdisc_path = instdisc;
  po_build_dir = po_dir;
  workdir = g_dir_make_tmp ("test-locale-XXXXXX", NULL);
  g_assert_nonnull (workdir);
  find_comma_locale ();

  g_test_add_func ("/po/zh-CN/help", test_zh_help);
  g_test_add_func ("/po/zh-CN/errors", test_zh_errors);
  g_test_add_func ("/po/zh-CN/train", test_zh_train);
  g_test_add_func ("/po/comma-locale/library-files", test_comma_library_files);
  g_test_add_func ("/po/comma-locale/cli", test_comma_cli);
  int status = g_test_run ();
  test_remove_tree (workdir);
  g_free (workdir);
  g_free (locpath);
  return status;
}

/* test-cli.c: the `instdisc` binary as a person runs it. A tiny IDX data set
 * (96 images of 28 x 28, 4 classes) is written into a temporary folder,
 * trained on for 2 epochs, and every command is run on the result; failures
 * must exit non-zero with one "instdisc: ..." message naming the culprit.
 * The path of the binary is the first argument after the GTest ones. */
#define G_LOG_DOMAIN "instdisc"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blas-kernels.h"
#include "cli-testutil.h"
#include "model.h"
#include "npy.h"
#include "objective.h"
#include "test-data.h"
#include "testutil.h"
#include "run-dir.h"
#include "run-lock.h"

static NpyArray *
load_npy (const char *name)
{
  g_autofree char *path = work_file (name);
  g_autoptr (GError) error = NULL;
  NpyArray *array = npy_load (path, &error);
  g_assert_no_error (error);
  return array;
}

static void
assert_unit_rows (const NpyArray *a)
{
  g_assert_cmpint (a->dtype, ==, NPY_FLOAT32);
  g_assert_cmpint (a->ndim, ==, 2);
  const float *x = a->data;
  for (gint64 i = 0; i < a->shape[0]; i++)
    {
      double norm = 0.0;
      for (gint64 j = 0; j < a->shape[1]; j++)
        norm += (double) x[i * a->shape[1] + j] * x[i * a->shape[1] + j];
      g_assert_cmpfloat_with_epsilon (sqrt (norm), 1.0, 1e-3);
    }
}

/* ---- the tests ---- */

/* The command line runs OpenBLAS's kernels for this processor's vectors,
 * not the generic ones OpenBLAS falls back to for a processor it does not
 * know (blas-kernels.h): OpenBLAS names the kernels it loads on stderr when
 * OPENBLAS_VERBOSE is 2, once per start, so the last name is the one the
 * command ran with. */
static void
test_blas_kernels (void)
{
  g_autofree char *saved = g_strdup (g_getenv ("OPENBLAS_CORETYPE"));
  g_unsetenv ("OPENBLAS_CORETYPE");
  g_setenv ("OPENBLAS_VERBOSE", "2", TRUE);
  Result r = run_instdisc ("--version", NULL);
  g_unsetenv ("OPENBLAS_VERBOSE");
  if (saved)
    g_setenv ("OPENBLAS_CORETYPE", saved, TRUE);
  assert_success (&r);
  g_auto (GStrv) lines = g_strsplit (r.err, "\n", -1);
  const char *last = NULL;
  for (int i = 0; lines[i]; i++)
    if (g_str_has_prefix (lines[i], "Core: "))
      last = lines[i] + strlen ("Core: ");
  g_assert_nonnull (last);
  g_test_message ("instdisc ran with OpenBLAS's %s kernels", last);
  g_assert_cmpint (blas_kernels_level (last), >=,
                   blas_kernels_level (blas_kernels_preferred ()));
  result_clear (&r);
}

static void
test_help (void)
{
  const char *commands[] = { "train", "eval", "export", "query", "embed",
                             "info", "finetune" };
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      Result r = run_instdisc (commands[i], "--help", NULL);
      assert_success (&r);
      g_autofree char *usage = g_strdup_printf ("instdisc %s", commands[i]);
      g_assert_nonnull (strstr (r.out, usage));
      result_clear (&r);
    }
  Result r = run_instdisc ("--help", NULL);
  assert_success (&r);
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    g_assert_nonnull (strstr (r.out, commands[i]));
  result_clear (&r);
}

static void
test_eval (void)
{
  ensure_trained ();
  Result r = run_instdisc ("eval", "--run", "run", "--threads", "1", NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.out, "from the memory bank: top-1"));
  g_assert_null (strstr (r.out, "recomputed"));
  result_clear (&r);

  r = run_instdisc ("eval", "--run", "run", "--recompute", "--k", "5",
                    "--threads", "1", NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.out, "K 5"));
  g_assert_nonnull (strstr (r.out, "from recomputed features"));
  result_clear (&r);
}

/* eval --linear: the classifier's line, with the weight chosen or given */
static void
test_eval_linear (void)
{
  ensure_trained ();
  Result r = run_instdisc ("eval", "--run", "run", "--linear", "--threads",
                           "1", NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.out, "linear classifier on recomputed "
                                   "features: top-1"));
  g_assert_nonnull (strstr (r.out, "chosen on a held-out tenth"));
  result_clear (&r);

  r = run_instdisc ("eval", "--run", "run", "--linear", "--l2", "0.001",
                    "--threads", "1", NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.out, "weight decay 0.001"));
  g_assert_null (strstr (r.out, "chosen"));
  result_clear (&r);

  r = run_instdisc ("eval", "--run", "run", "--linear", "--l2", "-1", NULL);
  assert_one_failure (&r, "--l2");
  result_clear (&r);
}

/* finetune: the run's network and one from scratch on the same half of the
 * labels; the fractions it refuses */
static void
test_finetune (void)
{
  ensure_trained ();
  Result r = run_instdisc ("finetune", "--run", "run", "--labels", "50%",
                           "--steps", "4", "--batch-size", "8", "--threads",
                           "1", NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.out, "48 labelled images"));
  g_assert_nonnull (strstr (r.out, "fine-tuned from the run:  test top-1"));
  g_assert_nonnull (strstr (r.out, "trained from scratch:     test top-1"));
  result_clear (&r);

  r = run_instdisc ("finetune", "--run", "run", "--labels", "0.25",
                    "--steps", "2", "--batch-size", "8", "--no-scratch",
                    "--threads", "1", NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.out, "24 labelled images"));
  g_assert_null (strstr (r.out, "from scratch:"));
  result_clear (&r);

  const char *fractions[] = { "0%", "150%", "ten", "-1" };
  for (gsize i = 0; i < G_N_ELEMENTS (fractions); i++)
    {
      r = run_instdisc ("finetune", "--run", "run", "--labels", fractions[i],
                        NULL);
      assert_one_failure (&r, fractions[i]);
      result_clear (&r);
    }
  r = run_instdisc ("finetune", "--run", "run", "--batch-size", "999", NULL);
  assert_one_failure (&r, "--batch-size");
  result_clear (&r);
  r = run_instdisc ("finetune", "--labels", "10%", NULL);
  assert_one_failure (&r, "--run");
  result_clear (&r);
}

/* A user's OPENBLAS_CORETYPE is kept, but when it names narrower kernels
 * than the processor runs, train says so, once, with the vectors it would
 * use without it; unset (or as wide), it says nothing of it */
static void
test_train_narrow_kernels (void)
{
  const char *preferred = blas_kernels_preferred ();
  if (!preferred)
    {
      g_test_skip ("no kernels wider than OpenBLAS's generic ones here");
      return;
    }
  g_autofree char *saved = g_strdup (g_getenv ("OPENBLAS_CORETYPE"));
  const char *values[] = { "Prescott", NULL };
  for (gsize i = 0; i < G_N_ELEMENTS (values); i++)
    {
      if (values[i])
        g_setenv ("OPENBLAS_CORETYPE", values[i], TRUE);
      else
        g_unsetenv ("OPENBLAS_CORETYPE");
      g_autofree char *run = g_strdup_printf ("kernels-run-%zu", i);
      Result r = run_instdisc ("train", "--data", "toy", "--run", run,
                               "--steps", "1", "--batch-size", "16",
                               "--no-eval", "--threads", "1", NULL);
      assert_success (&r);
      if (values[i])
        {
          g_autofree char *note = g_strdup_printf (
              "instdisc: note: OPENBLAS_CORETYPE=Prescott keeps OpenBLAS on "
              "narrower vectors than this processor has, so training takes "
              "longer than estimated; without the variable, OpenBLAS runs "
              "its %s kernels\n",
              blas_kernels_level (preferred) == 2 ? "AVX-512" : "AVX2");
          const char *at = strstr (r.err, note);
          g_assert_nonnull (at);
          g_assert_null (strstr (at + strlen (note), "OPENBLAS_CORETYPE"));
        }
      else
        g_assert_null (strstr (r.err, "OPENBLAS_CORETYPE"));
      result_clear (&r);
    }
  if (saved)
    g_setenv ("OPENBLAS_CORETYPE", saved, TRUE);
  else
    g_unsetenv ("OPENBLAS_CORETYPE");
}

/* The recipe, the augmentation and the proximal term reach config.ini; an
 * option given overrides the recipe's value */
static void
test_train_recipe (void)
{
  Result r = run_instdisc ("train", "--data", "toy",
                           "--run", "recipe-run", "--recipe", "reference",
                           "--crop-scale", "0.5,0.9", "--jitter", "0",
                           "--proximal", "10", "--steps", "2",
                           "--batch-size", "16", "--no-eval", "--threads",
                           "1", NULL);
  assert_success (&r);
  /* how long it takes, said before the first step: the two steps, not
   * the recipe's 200 epochs */
  g_assert_nonnull (strstr (r.out, "this takes less than a minute on two "
                                   "quiet processor cores"));
  result_clear (&r);
  g_autofree char *ini_path = work_file ("recipe-run/config.ini");
  g_autoptr (GKeyFile) ini = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  g_assert_true (g_key_file_load_from_file (ini, ini_path, 0, &error));
  const struct { const char *key; double value; } expected[] = {
    { "crop_scale_min", 0.5 }, { "crop_scale_max", 0.9 }, { "jitter", 0.0 },
    { "proximal", 10.0 }, { "epochs", 200.0 },   /* the reference's length */
  };
  for (gsize i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_cmpfloat_with_epsilon (
        g_key_file_get_double (ini, "training", expected[i].key, NULL),
        expected[i].value, 1e-6);
  g_autofree char *bank_init = g_key_file_get_string (ini, "training",
                                                      "bank_init", NULL);
  g_assert_cmpstr (bank_init, ==, "random");

  const char *bad[][2] = {
    { "--recipe", "fastest" }, { "--crop-scale", "0" },
    { "--crop-scale", "0.9,0.5" }, { "--crop-scale", "0.5,x" },
    { "--jitter", "-1" }, { "--proximal", "-3" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *run = g_strdup_printf ("recipe-bad-%zu", i);
      r = run_instdisc ("train", "--data", "toy", "--run",
                        run, bad[i][0], bad[i][1], "--steps", "1",
                        "--batch-size", "16", NULL);
      assert_one_failure (&r, bad[i][1]);
      result_clear (&r);
      /* nothing written for a refused start */
      g_autofree char *dir = work_file (run);
      g_autofree char *config = g_build_filename (dir, "config.ini", NULL);
      g_assert_false (g_file_test (config, G_FILE_TEST_EXISTS));
    }
}

static void
test_export (void)
{
  ensure_trained ();
  Result r = run_instdisc ("export", "--run", "run", NULL);
  assert_success (&r);
  result_clear (&r);

  g_autoptr (NpyArray) features = load_npy ("run/features.npy");
  g_assert_cmpint (features->shape[0], ==, N_IMAGES);
  g_assert_cmpint (features->shape[1], ==, DIM);
  assert_unit_rows (features);
  g_autoptr (NpyArray) labels = load_npy ("run/labels.npy");
  g_assert_cmpint (labels->dtype, ==, NPY_INT32);
  g_assert_cmpint (labels->ndim, ==, 1);
  g_assert_cmpint (labels->shape[0], ==, N_IMAGES);
  for (int i = 0; i < N_IMAGES; i++)
    g_assert_cmpint (((gint32 *) labels->data)[i], ==, label_of (i));
  g_assert_cmpuint (count_lines ("run/paths.txt"), ==, N_IMAGES);
  g_assert_cmpuint (count_lines ("run/vectors.tsv"), ==, N_IMAGES);
  g_assert_cmpuint (count_lines ("run/metadata.tsv"), ==, N_IMAGES + 1);
  g_autofree char *paths_file = work_file ("run/paths.txt");
  g_autofree char *paths = NULL;
  g_assert_true (g_file_get_contents (paths_file, &paths, NULL, NULL));
  g_assert_true (g_str_has_prefix (paths, "train-images-idx3-ubyte[0]\n"));

  /* the bank is the memory of training; the test split is recomputed */
  r = run_instdisc ("export", "--run", "run", "--split", "test", "--out",
                    "exported", "--threads", "1", NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.out, "from the network"));
  result_clear (&r);
  g_autoptr (NpyArray) test_features = load_npy ("exported/features.npy");
  g_assert_cmpint (test_features->shape[0], ==, N_IMAGES);
  assert_unit_rows (test_features);

  r = run_instdisc ("export", "--run", "run", "--split", "test", "--source",
                    "bank", NULL);
  assert_one_failure (&r, "--source recomputed");
  result_clear (&r);
}

/* One query's block: a heading, the columns' names, ten lines "RANK INDEX
 * NAME LABEL SIMILARITY", most similar first, then how typical of the
 * training images the query is: the 10th similarity read against the 96
 * test images of the toy set. */
static void
check_query_block (char **lines, int *at)
{
  g_assert_nonnull (strstr (lines[*at], "q.png: the 10 nearest"));
  g_assert_nonnull (strstr (lines[*at], "at step 12"));
  (*at)++;
  /* the columns' names */
  g_assert_true (g_regex_match_simple ("^\\s*rank\\s+index\\s+image\\s+label"
                                       "\\s+similarity$", lines[*at], 0, 0));
  (*at)++;
  double previous = INFINITY;
  for (int r = 1; r <= 10; r++, (*at)++)
    {
      g_auto (GStrv) fields = g_regex_split_simple ("\\s+",
                                                    g_strstrip (lines[*at]),
                                                    0, 0);
      int n = g_strv_length (fields);
      g_assert_cmpint (n, >=, 5);
      g_assert_cmpint (atoi (fields[0]), ==, r);
      int index = atoi (fields[1]);
      g_assert_cmpint (index, >=, 0);
      g_assert_cmpint (index, <, N_IMAGES);
      g_autofree char *name = g_strdup_printf ("train-images-idx3-ubyte[%d]",
                                               index);
      g_assert_cmpstr (fields[2], ==, name);
      double similarity = g_ascii_strtod (fields[n - 1], NULL);
      g_assert_cmpfloat (similarity, <=, previous);
      g_assert_cmpfloat (similarity, <=, 1.0001);
      g_assert_cmpfloat (similarity, >=, -1.0001);
      previous = similarity;
    }
  g_autoptr (GMatchInfo) match = NULL;
  g_autoptr (GRegex) judgement = g_regex_new (
      "^10th nearest (-?[0-9.]+): (typical, above [0-9]+% of|less typical, "
      "lower than for [0-9]+ of|unlike the training images, lower than for "
      "[0-9]+ of) 96 test images$", 0, 0, NULL);
  g_assert_true (g_regex_match (judgement, lines[*at], 0, &match));
  g_autofree char *tenth = g_match_info_fetch (match, 1);
  /* the 10th similarity listed, as printed */
  g_autofree char *listed = g_strdup_printf ("%.4f", previous);
  g_assert_cmpstr (tenth, ==, listed);
  (*at)++;
}

static void
test_query (void)
{
  ensure_trained ();
  write_png ("q.png", 40, 36);
  Result r = run_instdisc ("query", "--run", "run", "--threads", "1", "q.png",
                           "q.png", NULL);
  assert_success (&r);
  g_auto (GStrv) lines = g_strsplit (r.out, "\n", -1);
  int at = 0;
  check_query_block (lines, &at);
  g_assert_cmpstr (lines[at], ==, "");   /* a blank line between queries */
  at++;
  check_query_block (lines, &at);
  result_clear (&r);

  r = run_instdisc ("query", "--run", "run", "q.png", "missing.png", NULL);
  assert_one_failure (&r, "missing.png");
  result_clear (&r);
  g_autofree char *not_image = work_file ("not-an-image.png");
  g_assert_true (g_file_set_contents (not_image, "text", -1, NULL));
  r = run_instdisc ("query", "--run", "run", "not-an-image.png", NULL);
  assert_one_failure (&r, "not-an-image.png");
  result_clear (&r);
}

static void
test_embed (void)
{
  ensure_trained ();
  write_png ("q.png", 40, 36);
  write_png ("small.png", 20, 20);
  Result r = run_instdisc ("embed", "--run", "run", "--out", "e.npy",
                           "q.png", "small.png", "q.png", NULL);
  assert_success (&r);
  result_clear (&r);
  g_autoptr (NpyArray) e = load_npy ("e.npy");
  g_assert_cmpint (e->shape[0], ==, 3);
  g_assert_cmpint (e->shape[1], ==, DIM);
  assert_unit_rows (e);
  /* the same file embeds the same way wherever it is in the batch (up to
   * the rounding of the products, which depends on the position) */
  const float *x = e->data;
  assert_all_close ("the same image at rows 0 and 2", x + 2 * DIM, x, DIM,
                    1e-5, 1e-4);

  r = run_instdisc ("embed", "--run", "run", "q.png", NULL);
  assert_one_failure (&r, "--out");
  result_clear (&r);
}

static void
test_info (void)
{
  ensure_trained ();
  Result r = run_instdisc ("info", "run/checkpoint.safetensors", NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.out, "checkpoint"));
  result_clear (&r);
}

static void
test_bad_input (void)
{
  ensure_trained ();
  Result r = run_instdisc ("eval", "--run", "no-such-run", NULL);
  assert_one_failure (&r, "no-such-run");
  result_clear (&r);

  /* values outside what a run can use: one error each, nothing written */
  const char *const bad_values[][3] = {
    { "--lr", "1e38", "learning rate" },
    { "--lr", "inf", "learning rate" },
    { "--tau", "nan", "tau" },
    { "--weight-decay", "-1", "weight decay" },
    { "--threads", "1000", "--threads" },
    { "--steps", "-5", "--steps" },
    { "--image-size", "4096", "image size" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad_values); i++)
    {
      r = run_instdisc ("train", "--data", "toy", "--run", "never-bad",
                        "--batch-size", "16", bad_values[i][0],
                        bad_values[i][1], NULL);
      assert_one_failure (&r, bad_values[i][2]);
      result_clear (&r);
      g_autofree char *never = work_file ("never-bad/config.ini");
      g_assert_false (g_file_test (never, G_FILE_TEST_EXISTS));
    }

  /* a folder that is not a run */
  g_autofree char *empty = work_file ("empty");
  g_assert_cmpint (g_mkdir_with_parents (empty, 0700), ==, 0);
  r = run_instdisc ("query", "--run", "empty", "q.png", NULL);
  assert_one_failure (&r, "empty");
  result_clear (&r);

  /* a run whose checkpoint was cut short (a full disk, a copy interrupted) */
  g_autofree char *bad = work_file ("bad-run");
  g_assert_cmpint (g_mkdir_with_parents (bad, 0700), ==, 0);
  const char *copied[] = { RUN_CONFIG_FILE, RUN_CHECKPOINT_FILE };
  for (gsize i = 0; i < G_N_ELEMENTS (copied); i++)
    {
      g_autofree char *from = g_build_filename (workdir, "run", copied[i],
                                                NULL);
      g_autofree char *to = g_build_filename (bad, copied[i], NULL);
      g_autofree char *bytes = NULL;
      gsize length;
      g_assert_true (g_file_get_contents (from, &bytes, &length, NULL));
      if (g_str_equal (copied[i], RUN_CHECKPOINT_FILE))
        length /= 2;
      g_assert_true (g_file_set_contents (to, bytes, length, NULL));
    }
  const char *checkpoint = "bad-run/checkpoint.safetensors";
  r = run_instdisc ("eval", "--run", "bad-run", NULL);
  assert_one_failure (&r, checkpoint);
  result_clear (&r);
  r = run_instdisc ("export", "--run", "bad-run", "--out", "bad-export", NULL);
  assert_one_failure (&r, checkpoint);
  result_clear (&r);
  /* nothing written when the run cannot be read */
  g_autofree char *bad_export = work_file ("bad-export");
  g_assert_false (g_file_test (bad_export, G_FILE_TEST_EXISTS));
  r = run_instdisc ("query", "--run", "bad-run", "q.png", NULL);
  assert_one_failure (&r, checkpoint);
  result_clear (&r);
  r = run_instdisc ("embed", "--run", "bad-run", "--out", "x.npy", "q.png",
                    NULL);
  assert_one_failure (&r, checkpoint);
  result_clear (&r);
  r = run_instdisc ("info", "bad-run/checkpoint.safetensors", NULL);
  assert_one_failure (&r, "bad-run/checkpoint.safetensors");
  result_clear (&r);

  r = run_instdisc ("eval", "--run", "run", "--bogus", NULL);
  assert_one_failure (&r, "--bogus");
  result_clear (&r);
  r = run_instdisc ("export", "--run", "run", "--source", "guess", NULL);
  assert_one_failure (&r, "guess");
  result_clear (&r);
  r = run_instdisc ("frobnicate", NULL);
  assert_one_failure (&r, "frobnicate");
  result_clear (&r);
  r = run_instdisc ("eval", NULL);
  assert_one_failure (&r, "--run");
  result_clear (&r);
}

/* --model and --objective are their registries: --help lists every
 * name, an unknown one on the command line or in a run's config.ini is one
 * error that names it and the names there are. An NCE run's metrics.csv
 * has NCE's columns after the common ones, which `info` shows. */
static void
test_registry_names (void)
{
  Result r = run_instdisc ("train", "--help", NULL);
  assert_success (&r);
  for (guint i = 0; i < model_registry_size (); i++)
    {
      g_autofree char *shown = g_strdup_printf (" %s (",
                                                model_registry_get (i)->name);
      g_assert_nonnull (strstr (r.out, shown));
    }
  for (guint i = 0; i < objective_registry_size (); i++)
    {
      g_autofree char *shown = g_strdup_printf (
          " %s (", objective_registry_get (i)->name);
      g_assert_nonnull (strstr (r.out, shown));
    }
  result_clear (&r);

  g_autofree char *objectives = objective_registry_names ();
  g_autofree char *models = model_registry_names ();
  r = run_instdisc ("train", "--data", "toy", "--run",
                    "never", "--objective", "contrastive", NULL);
  g_autofree char *expected = g_strdup_printf ("--objective “contrastive” "
                                               "(one of %s)", objectives);
  assert_one_failure (&r, expected);
  result_clear (&r);
  r = run_instdisc ("train", "--data", "toy", "--run",
                    "never", "--model", "resnet50", NULL);
  assert_one_failure (&r, "resnet50");
  g_assert_nonnull (strstr (r.err, models));
  result_clear (&r);
  g_autofree char *never = work_file ("never");
  g_assert_false (g_file_test (never, G_FILE_TEST_EXISTS));

  /* an NCE run, then its config.ini naming an objective this version
   * does not have */
  r = run_instdisc ("train", "--data", "toy", "--run",
                    "run-nce", "--objective", "nce", "--nce-k", "16",
                    "--batch-size", "16", "--steps", "3", "--threads", "1",
                    "--no-eval", NULL);
  assert_success (&r);
  result_clear (&r);
  g_autofree char *nce_dir = work_file ("run-nce");
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) rows = run_dir_load_metrics (nce_dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, ==, 3);
  const MetricsRow *last = &g_array_index (rows, MetricsRow, 2);
  g_assert_cmpfloat (metrics_row_get (last, "nce_z"), >, 1.0);
  g_assert_true (isfinite (metrics_row_get (last, "p_positive")));
  g_autofree char *csv = NULL;
  g_autofree char *csv_path = g_build_filename (nce_dir, RUN_METRICS_FILE,
                                                NULL);
  g_assert_true (g_file_get_contents (csv_path, &csv, NULL, NULL));
  g_assert_true (g_str_has_prefix (csv, "kind,iteration,epoch,loss,"));
  g_assert_nonnull (strstr (csv, ",wall_s,nce_z,nce_z_estimate,p_positive\n"));
  r = run_instdisc ("info", "run-nce", NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.out, "nce_z_estimate"));
  result_clear (&r);

  g_autofree char *config_path = g_build_filename (nce_dir, RUN_CONFIG_FILE,
                                                   NULL);
  g_autoptr (GKeyFile) config = g_key_file_new ();
  g_assert_true (g_key_file_load_from_file (config, config_path,
                                            G_KEY_FILE_NONE, &error));
  g_key_file_set_string (config, "training", "objective", "contrastive");
  g_assert_true (g_key_file_save_to_file (config, config_path, &error));
  const char *const *commands[] = {
    (const char *const[]) { "eval", "--run", "run-nce", NULL },
    (const char *const[]) { "train", "--run", "run-nce", "--resume", NULL },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      r = run_instdisc (commands[i][0], commands[i][1], commands[i][2],
                        commands[i][3], NULL);
      assert_one_failure (&r, "run-nce/config.ini: [training] objective = "
                              "contrastive is not one of");
      g_assert_nonnull (strstr (r.err, objectives));
      result_clear (&r);
    }
}

/* iteration -> loss of the "step" rows of a run's metrics.csv */
static GArray *
step_losses (const char *run)
{
  g_autofree char *dir = work_file (run);
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) rows = run_dir_load_metrics (dir, &error);
  g_assert_no_error (error);
  GArray *losses = g_array_new (FALSE, TRUE, sizeof (double));
  for (guint i = 0; i < rows->len; i++)
    {
      const MetricsRow *row = &g_array_index (rows, MetricsRow, i);
      if (!g_str_equal (row->kind, "step"))
        continue;
      g_assert_cmpint (row->iteration, ==, losses->len + 1);
      g_array_append_val (losses, row->loss);
    }
  return losses;
}

static void
test_resume (void)
{
  Result r = run_instdisc ("train", "--data", "toy",
                           "--run", "straight", "--epochs", "2",
                           "--batch-size", "16", "--threads", "1",
                           "--no-eval", NULL);
  assert_success (&r);
  result_clear (&r);
  /* stop mid-epoch (6 steps an epoch), then continue to the end */
  r = run_instdisc ("train", "--data", "toy", "--run",
                    "resumed", "--epochs", "2", "--batch-size", "16",
                    "--threads", "1", "--no-eval", "--steps", "8", NULL);
  assert_success (&r);
  result_clear (&r);
  /* one IDX file has no test split: trained, not evaluated, and said */
  g_free (test_write_toy_idx (workdir, "single", 32));
  r = run_instdisc ("train", "--data", "single-images-idx3-ubyte", "--run",
                    "single-run", "--epochs", "1", "--batch-size", "16",
                    "--threads", "1", NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.out, "no evaluation"));
  g_assert_nonnull (strstr (r.out, "no test split"));
  g_assert_null (strstr (r.out, "kNN"));
  result_clear (&r);

  /* a checkpoint past the file-size limit: one error naming the file, an
   * exit rather than death by SIGXFSZ, and no checkpoint half written */
  child_file_limit = 64 * 1024;
  r = run_instdisc ("train", "--data", "toy", "--run", "too-big", "--steps",
                    "2", "--batch-size", "16", "--threads", "1", "--no-eval",
                    NULL);
  child_file_limit = 0;
  assert_one_failure (&r, "checkpoint.safetensors");
  result_clear (&r);
  g_autofree char *too_big = work_file ("too-big/checkpoint.safetensors");
  g_assert_false (g_file_test (too_big, G_FILE_TEST_EXISTS));

  /* another writer holds the folder: refused, naming it, nothing
   * written (the run then resumes as if this had not happened) */
  g_autofree char *resumed_dir = work_file ("resumed");
  g_autoptr (GError) error = NULL;
  RunLock *lock = run_lock_acquire (resumed_dir, &error);
  g_assert_no_error (error);
  g_autofree char *holder = g_strdup_printf ("process %ld", (long) getpid ());
  r = run_instdisc ("train", "--run", "resumed", "--resume", "--epochs", "2",
                    "--threads", "1", "--no-eval", NULL);
  assert_one_failure (&r, holder);
  result_clear (&r);
  run_lock_release (lock);
  r = run_instdisc ("train", "--run", "resumed", "--resume", "--epochs", "2",
                    "--threads", "1", "--no-eval", NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.out, "resuming"));
  result_clear (&r);

  g_autoptr (GArray) a = step_losses ("straight");
  g_autoptr (GArray) b = step_losses ("resumed");
  g_assert_cmpuint (a->len, ==, 12);
  g_assert_cmpuint (b->len, ==, a->len);
  for (guint i = 0; i < a->len; i++)
    {
      double la = g_array_index (a, double, i), lb = g_array_index (b, double, i);
      if (la != lb)
        g_error ("step %u: loss %.9g straight, %.9g resumed", i + 1, la, lb);
    }
}

/* A resumed run keeps its settings: an option that would change one is
 * refused, more epochs are written into config.ini, and a config.ini
 * edited since the checkpoint was saved is said. */
static void
test_resume_settings (void)
{
  Result r = run_instdisc ("train", "--data", "toy", "--run", "settings",
                           "--epochs", "1", "--batch-size", "16",
                           "--threads", "1", "--no-eval", NULL);
  assert_success (&r);
  result_clear (&r);
  const char *refused[][2] = { { "--lr", "0.1" }, { "--seed", "3" },
                               { "--data", "toy" }, { "--model", "small" } };
  for (gsize i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      r = run_instdisc ("train", "--run", "settings", "--resume",
                        refused[i][0], refused[i][1], NULL);
      assert_one_failure (&r, refused[i][0]);
      result_clear (&r);
    }

  g_autofree char *config_path = work_file ("settings/config.ini");
  g_autoptr (GKeyFile) config = g_key_file_new ();
  g_assert_true (g_key_file_load_from_file (config, config_path,
                                            G_KEY_FILE_NONE, NULL));
  g_key_file_set_integer (config, "training", "seed", 7);
  g_assert_true (g_key_file_save_to_file (config, config_path, NULL));
  r = run_instdisc ("train", "--run", "settings", "--resume", "--epochs", "2",
                    "--threads", "1", "--no-eval", NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.err, "note:"));
  g_assert_nonnull (strstr (r.err, "seed=1; config.ini says seed=7"));
  result_clear (&r);
  g_assert_true (g_key_file_load_from_file (config, config_path,
                                            G_KEY_FILE_NONE, NULL));
  g_assert_cmpint (g_key_file_get_integer (config, "training", "epochs",
                                           NULL), ==, 2);
  /* the checkpoint now holds what config.ini says: nothing to say */
  r = run_instdisc ("train", "--run", "settings", "--resume", "--epochs", "3",
                    "--threads", "1", "--no-eval", NULL);
  assert_success (&r);
  g_assert_null (strstr (r.err, "note:"));
  result_clear (&r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (argc < 2)
    {
      g_printerr ("usage: test-cli [GTEST OPTION...] PATH-TO-INSTDISC\n");
      return 2;
    }
  /* meson passes it relative to the build folder; the commands run in
   * another */
  g_autofree char *absolute = g_canonicalize_filename (argv[1], NULL);
  instdisc_path = absolute;
  /* the commands' stderr is asserted on: a user's OPENBLAS_CORETYPE would
   * add its note (tested on its own, with the variable set there) */
  g_unsetenv ("OPENBLAS_CORETYPE");
  g_autoptr (GError) error = NULL;
  workdir = g_dir_make_tmp ("instdisc-cli-XXXXXX", &error);
  g_assert_no_error (error);
  write_idx_pair ();

  g_test_add_func ("/cli/help", test_help);
  g_test_add_func ("/cli/blas-kernels", test_blas_kernels);
  g_test_add_func ("/cli/train-narrow-kernels", test_train_narrow_kernels);
  g_test_add_func ("/cli/eval", test_eval);
  g_test_add_func ("/cli/eval-linear", test_eval_linear);
  g_test_add_func ("/cli/finetune", test_finetune);
  g_test_add_func ("/cli/train-recipe", test_train_recipe);
  g_test_add_func ("/cli/export", test_export);
  g_test_add_func ("/cli/query", test_query);
  g_test_add_func ("/cli/embed", test_embed);
  g_test_add_func ("/cli/info", test_info);
  g_test_add_func ("/cli/bad-input", test_bad_input);
  g_test_add_func ("/cli/resume", test_resume);
  g_test_add_func ("/cli/resume-settings", test_resume_settings);
  g_test_add_func ("/cli/registry-names", test_registry_names);
  int status = g_test_run ();
  test_remove_tree (workdir);
  g_free (workdir);
  return status;
}

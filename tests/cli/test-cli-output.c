/* test-cli-output.c: what `instdisc` prints for scripts: --version, the
 * tsv and json of query, eval and info (each JSON checked by Python's own
 * parser, python3 -m json.tool), and image files of every format GdkPixbuf
 * reads here, WebP included, as query images and as a folder of them;
 * info on an ImageNet ResNet's checkpoint. Trains the toy set of
 * cli-testutil.h once. The path of the binary is the
 * first argument after the GTest ones. */
#define G_LOG_DOMAIN "instdisc"

#include <glib/gstdio.h>
#include <stdlib.h>

#include "cli-testutil.h"
#include "image-formats.h"
#include "testutil.h"

/* JSON text must parse: python3 -m json.tool reads it from a file */
static void
assert_valid_json (const char *text)
{
  g_autofree char *path = work_file ("out.json");
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  const char *argv[] = { "python3", "-m", "json.tool", path, NULL };
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;
  g_autoptr (GError) error = NULL;
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                &out, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("not valid JSON (%s):\n%s", err, text);
}

/* A TSV table: every line has as many fields as the header, which starts
 * with the columns given (NULL-terminated). Returns the lines. */
static char **
check_tsv (const char *text, const char *const *first_columns)
{
  g_assert_true (g_str_has_suffix (text, "\n"));
  char **lines = g_strsplit (text, "\n", -1);
  guint n = g_strv_length (lines);
  g_assert_cmpuint (n, >=, 2);
  g_auto (GStrv) header = g_strsplit (lines[0], "\t", -1);
  for (int c = 0; first_columns[c]; c++)
    g_assert_cmpstr (header[c], ==, first_columns[c]);
  for (guint i = 1; i + 1 < n; i++)
    {
      g_auto (GStrv) fields = g_strsplit (lines[i], "\t", -1);
      g_assert_cmpuint (g_strv_length (fields), ==, g_strv_length (header));
    }
  return lines;
}

static void
test_version (void)
{
  Result r = run_instdisc ("--version", NULL);
  assert_success (&r);
  g_assert_true (g_regex_match_simple ("^instdisc [0-9]+\\.[0-9]+\\.[0-9]+\n$",
                                       r.out, 0, 0));
  result_clear (&r);
  r = run_instdisc ("--help", NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.out, "--version"));
  result_clear (&r);
}

/* WebP comes from its GdkPixbuf loader (Debian: webp-pixbuf-loader, which
 * tools/install-deps installs); the formats list says what there is */
static void
require_webp (void)
{
  if (!data_image_format_available ("webp"))
    g_error ("GdkPixbuf has no WebP loader here: install "
             "webp-pixbuf-loader (tools/install-deps)");
  g_assert_true (data_is_image_name ("wallpaper.WebP"));
  g_assert_true (data_is_image_name ("a.png"));
  g_assert_true (data_is_image_name ("drawing.svg.gz"));
  g_assert_false (data_is_image_name ("notes.txt"));
  g_assert_false (data_is_image_name ("webp"));
  g_autofree char *listed = data_image_formats_describe ();
  g_assert_nonnull (strstr (listed, "WEBP"));
}

static void
test_query_formats (void)
{
  require_webp ();
  ensure_trained ();
  write_image ("w.webp", "webp", 40, 36);
  const char *const columns[] = { "query", "rank", "index", "image", "label",
                                  "class", "similarity",
                                  "tenth_nearest_similarity",
                                  "typicality_rank", "typicality", NULL };
  Result r = run_instdisc ("query", "--run", "run", "--k", "3", "--format",
                           "tsv", "w.webp", NULL);
  assert_success (&r);
  g_auto (GStrv) lines = check_tsv (r.out, columns);
  g_assert_cmpuint (g_strv_length (lines), ==, 1 + 3 + 1);
  for (int i = 1; i <= 3; i++)
    {
      g_auto (GStrv) fields = g_strsplit (lines[i], "\t", -1);
      g_assert_cmpstr (fields[0], ==, "w.webp");
      g_assert_cmpint (atoi (fields[1]), ==, i);
      double s = g_ascii_strtod (fields[6], NULL);
      g_assert_cmpfloat (s, <=, 1.0001);
      g_assert_cmpfloat (s, >=, -1.0001);
      /* the query's typicality on each of its rows: the 10th similarity
       * (below the 3 listed), its rank among the 96 test images', and
       * the judgement that rank gives */
      double tenth = g_ascii_strtod (fields[7], NULL);
      g_assert_cmpfloat (tenth, <=, s);
      double rank = g_ascii_strtod (fields[8], NULL);
      g_assert_cmpfloat (rank, >=, 0.0);
      g_assert_cmpfloat (rank, <=, 1.0);
      g_assert_cmpstr (fields[9], ==, rank < 0.01   ? "unlike"
                                      : rank < 0.05 ? "less-typical"
                                                    : "typical");
    }
  result_clear (&r);

  r = run_instdisc ("query", "--run", "run", "--k", "2", "--format", "json",
                    "w.webp", NULL);
  assert_success (&r);
  assert_valid_json (r.out);
  g_assert_nonnull (strstr (r.out, "\"step\": 12"));
  g_assert_nonnull (strstr (r.out, "\"image\": \"w.webp\""));
  g_assert_nonnull (strstr (r.out, "\"similarity\": "));
  g_assert_nonnull (strstr (r.out, "\"calibration\": \"test\""));
  g_assert_nonnull (strstr (r.out, "\"calibration_images\": 96"));
  g_assert_nonnull (strstr (r.out, "\"judgement\": \""));
  result_clear (&r);

  /* a folder stands for its image files, in name order; other files in
   * it are left out */
  g_autofree char *folder = work_file ("pictures");
  g_assert_cmpint (g_mkdir_with_parents (folder, 0700), ==, 0);
  write_image ("pictures/b.webp", "webp", 30, 30);
  write_image ("pictures/a.png", "png", 30, 30);
  g_autofree char *notes = work_file ("pictures/notes.txt");
  g_assert_true (g_file_set_contents (notes, "not an image", -1, NULL));
  r = run_instdisc ("query", "--run", "run", "--k", "1", "--format", "tsv",
                    "pictures", NULL);
  assert_success (&r);
  g_auto (GStrv) folder_lines = check_tsv (r.out, columns);
  g_assert_cmpuint (g_strv_length (folder_lines), ==, 1 + 2 + 1);
  g_assert_true (g_str_has_prefix (folder_lines[1], "pictures/a.png\t"));
  g_assert_true (g_str_has_prefix (folder_lines[2], "pictures/b.webp\t"));
  result_clear (&r);

  g_autofree char *empty = work_file ("no-pictures");
  g_assert_cmpint (g_mkdir_with_parents (empty, 0700), ==, 0);
  r = run_instdisc ("query", "--run", "run", "no-pictures", NULL);
  assert_one_failure (&r, "no-pictures");
  result_clear (&r);
  r = run_instdisc ("query", "--run", "run", "--format", "xml", "w.webp",
                    NULL);
  assert_one_failure (&r, "xml");
  result_clear (&r);
}

static void
test_eval_formats (void)
{
  ensure_trained ();
  Result r = run_instdisc ("eval", "--run", "run", "--threads", "1",
                           "--format", "json", NULL);
  assert_success (&r);
  assert_valid_json (r.out);
  g_assert_nonnull (strstr (r.out, "\"knn_top1\": "));
  /* not measured: null, not NaN */
  g_assert_nonnull (strstr (r.out, "\"linear_top1\": null"));
  result_clear (&r);

  r = run_instdisc ("eval", "--run", "run", "--threads", "1", "--format",
                    "tsv", NULL);
  assert_success (&r);
  const char *const columns[] = { "run", "model", "step", NULL };
  g_auto (GStrv) lines = check_tsv (r.out, columns);
  g_assert_cmpuint (g_strv_length (lines), ==, 3);
  g_auto (GStrv) header = g_strsplit (lines[0], "\t", -1);
  g_auto (GStrv) values = g_strsplit (lines[1], "\t", -1);
  for (int c = 0; header[c]; c++)
    if (g_str_equal (header[c], "knn_top1"))
      {
        double top1 = g_ascii_strtod (values[c], NULL);
        g_assert_cmpfloat (top1, >=, 0.0);
        g_assert_cmpfloat (top1, <=, 100.0);
      }
    else if (g_str_equal (header[c], "step"))
      g_assert_cmpstr (values[c], ==, "12");
  result_clear (&r);
}

static void
test_info_formats (void)
{
  ensure_trained ();
  Result r = run_instdisc ("info", "--format", "json", "run",
                           "run/checkpoint.safetensors", NULL);
  assert_success (&r);
  assert_valid_json (r.out);
  g_assert_nonnull (strstr (r.out, "\"kind\": \"run\""));
  g_assert_nonnull (strstr (r.out, "\"kind\": \"checkpoint\""));
  g_assert_nonnull (strstr (r.out, "\"low_dim\": 128"));
  result_clear (&r);

  r = run_instdisc ("info", "--format", "tsv", "run", NULL);
  assert_success (&r);
  const char *const columns[] = { "file", "key", "value", NULL };
  g_auto (GStrv) lines = check_tsv (r.out, columns);
  gboolean bank = FALSE;
  for (int i = 1; lines[i]; i++)
    bank |= g_str_has_prefix (lines[i],
                              "run\tcheckpoint.memory_bank.shape.0\t96");
  g_assert_true (bank);
  result_clear (&r);
}

/* A checkpoint of the ImageNet ResNet-18 (one step on the toy set's
 * 28 x 28 grey images): info names the network as the registry does and
 * counts torchvision's parameters for one input channel and 128
 * dimensions (11,242,176 for RGB, less the stem's 2 x 64 x 7 x 7). */
static void
test_info_imagenet (void)
{
  Result r = run_instdisc ("train", "--data", "toy", "--run", "imagenet",
                           "--model", "resnet18-imagenet", "--bank-init",
                           "random", "--no-eval", "--steps", "1",
                           "--batch-size", "16", "--threads", "1", NULL);
  assert_success (&r);
  result_clear (&r);
  r = run_instdisc ("info", "imagenet/checkpoint.safetensors", NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.out, "ResNet-18 (ImageNet) (resnet18-imagenet)"));
  g_assert_nonnull (strstr (r.out, "parameters: 11235904 in"));
  g_assert_null (strstr (r.out, "none recognised"));
  result_clear (&r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (argc < 2)
    {
      g_printerr ("usage: test-cli-output [GTEST OPTION...] "
                  "PATH-TO-INSTDISC\n");
      return 2;
    }
  g_autofree char *absolute = g_canonicalize_filename (argv[1], NULL);
  instdisc_path = absolute;
  g_autoptr (GError) error = NULL;
  workdir = g_dir_make_tmp ("instdisc-cli-output-XXXXXX", &error);
  g_assert_no_error (error);
  write_idx_pair ();

  g_test_add_func ("/cli/version", test_version);
  g_test_add_func ("/cli/query-formats", test_query_formats);
  g_test_add_func ("/cli/eval-formats", test_eval_formats);
  g_test_add_func ("/cli/info-formats", test_info_formats);
  g_test_add_func ("/cli/info-imagenet", test_info_imagenet);
  int status = g_test_run ();
  test_remove_tree (workdir);
  g_free (workdir);
  return status;
}

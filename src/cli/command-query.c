/* command-query.c: `instdisc query`, the training images nearest to image
 * files, and how typical of the training images each file is (novelty.h):
 * the similarity of its 10th nearest bank row read against the same
 * statistic of up to 256 test images embedded as queries are, as the
 * explorer's query rows read it. */
#define G_LOG_DOMAIN "instdisc"

#include <glib/gi18n.h>
#include <stdio.h>

#include "cli-common.h"
#include "cli-output.h"
#include "cli-run.h"
#include "commands.h"
#include "image-formats.h"
#include "knn.h"
#include "novelty.h"
#include "threads.h"

/* The calibration the queries are read against: up to
 * NOVELTY_CALIBRATION_IMAGES test images, or, when the run has no test
 * split of the training images' shape, training images each leaving its
 * own bank row out; embedded by the checkpoint's network as the queries
 * are. NULL when no image could be read: the queries are then listed
 * without a judgement. */
static NoveltyCalibration *
calibrate_typicality (CliRun *run)
{
  const Dataset *train = run->train;
  g_autoptr (Dataset) test = run_folder_open_data (run->folder, "test", NULL);
  gboolean from_test = test && test->n > 0
                       && test->channels == train->channels
                       && test->height == train->height
                       && test->width == train->width;
  const Dataset *set = from_test ? test : train;
  int rows[NOVELTY_CALIBRATION_IMAGES];
  int n = novelty_calibration_rows (set->n, rows);
  g_autoptr (Dataset) images = dataset_new_in_memory (
      "calibration", n, set->channels, set->height, set->width);
  const gsize image_bytes = (gsize) set->channels * set->height * set->width;
  int kept = 0;
  for (int j = 0; j < n; j++)
    /* a file that cannot be read is left out */
    if (dataset_get_image (set, rows[j], images->pixels + image_bytes * kept,
                           NULL))
      rows[kept++] = rows[j];
  if (kept == 0)
    return NULL;
  images->n = kept;
  const int D = run->config.low_dim;
  g_autofree float *features = g_new (float, (gsize) kept * D);
  if (!run_model_embed (run->model, images, features, NULL))
    return NULL;
  return novelty_calibrate (features, kept, from_test ? NULL : rows,
                            run->model->bank->vectors, train->n, D,
                            run->model->iteration);
}

/* The judgement of a query whose 10th nearest similarity is score, for
 * the text output: "typical: above 63% of 256 test images". (transfer
 * full) */
static char *
describe_typicality (const NoveltyCalibration *calibration, double score,
                     double rank)
{
  const char *of = calibration && !calibration->from_test
                     ? _("training images") : _("test images");
  int n = calibration ? calibration->n : 0;
  switch (novelty_judge (rank))
    {
    case NOVELTY_UNLIKE:
      /* Translators: the 10th nearest similarity, then "lower than for 255
       * of 256 test images" */
      return g_strdup_printf (_("10th nearest %.4f: unlike the training "
                                "images, lower than for %d of %d %s"), score,
                              novelty_count_above (calibration, rank), n, of);
    case NOVELTY_LESS_TYPICAL:
      return g_strdup_printf (_("10th nearest %.4f: less typical, lower than "
                                "for %d of %d %s"), score,
                              novelty_count_above (calibration, rank), n, of);
    case NOVELTY_TYPICAL:
      return g_strdup_printf (_("10th nearest %.4f: typical, above %.0f%% of "
                                "%d %s"), score, 100.0 * rank, n, of);
    case NOVELTY_UNKNOWN:
    default:
      return g_strdup_printf (_("10th nearest %.4f: not judged (no test or "
                                "training image could be read)"), score);
    }
}

static const char *
judgement_name (NoveltyJudgement judgement)
{
  switch (judgement)
    {
    case NOVELTY_UNLIKE:
      return "unlike";
    case NOVELTY_LESS_TYPICAL:
      return "less-typical";
    case NOVELTY_TYPICAL:
      return "typical";
    case NOVELTY_UNKNOWN:
    default:
      return NULL;
    }
}

int
command_query (int argc, char **argv)
{
  g_autofree char *run_dir = NULL;
  g_autofree char *format_name = NULL;
  int k = 10, threads = 0;
  GOptionEntry entries[] = {
    { "run", 'r', 0, G_OPTION_ARG_FILENAME, &run_dir,
      N_("Run folder (required)"), N_("DIR") },
    { "k", 0, 0, G_OPTION_ARG_INT, &k, N_("Neighbours to list (10)"),
      N_("K") },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads,
      N_("Threads (0: one per core)"), N_("N") },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format_name,
      N_("Output: text (the default), tsv (a header row, then a row per "
         "neighbour) or json (one object)"), N_("FORMAT") },
    { NULL },
  };
  g_autofree char *formats = data_image_formats_describe ();
  /* Translators: the last %s lists image formats, "BMP, GIF, JPEG, ..." */
  g_autofree char *summary = g_strdup_printf (
      _("Embeds each image file as the network sees a test image (converted\n"
        "to the training images' channels, resized and centre-cropped to\n"
        "their size, normalised) and lists the K training images whose\n"
        "memory-bank vectors are most similar (cosine similarity, most\n"
        "similar first): rank, index, image (its file, or NAME[index]),\n"
        "label, similarity. A folder stands for the image files in it.\n"
        "Formats read here: %s."), formats);
  if (!cli_parse_options (&argc, &argv, entries, _("IMAGE..."), summary))
    return 1;
  g_autoptr (GError) error = NULL;
  if (!run_dir)
    return cli_fail_message (_("query needs --run DIR"));
  if (argc < 2)
    return cli_fail_message (_("query needs at least one IMAGE file"));
  if (k < 1)
    return cli_fail_message (_("--k must be at least 1, not %d"), k);
  if (!cli_set_threads (threads))
    return 1;

  CliFormat format;
  if (!cli_format_parse (format_name, &format))
    return 1;

  g_autoptr (GPtrArray) images = cli_expand_image_args (
      (const char *const *) argv + 1, argc - 1, &error);
  if (!images)
    return cli_fail (error);
  g_autoptr (CliRun) run = cli_run_open (run_dir, &error);
  if (!run)
    return cli_fail (error);
  const int n = (int) images->len, D = run->config.low_dim;
  const char *const *paths = (const char *const *) images->pdata;
  g_autofree float *features = cli_run_embed_images (run, paths, n, &error);
  if (!features)
    return cli_fail (error);

  const Dataset *train = run->train;
  k = MIN (k, train->n);
  /* at least the 10 the judgement reads, however few are listed */
  const int searched = MIN (MAX (k, NOVELTY_K), train->n);
  g_autofree float *similarities = g_new (float, (gsize) n * searched);
  g_autofree int *indices = g_new (int, (gsize) n * searched);
  knn_search (similarities, indices, features, n,
              run->model->bank->vectors, train->n, D, searched);
  g_autoptr (NoveltyCalibration) calibration = calibrate_typicality (run);

  /* what was found, as a tree for tsv and json */
  g_autoptr (CliValue) root = cli_object_new ();
  g_autofree char *run_shown = g_filename_display_name (run_dir);
  cli_set_string (root, "run", run_shown);
  cli_set_int (root, "step", run->model->iteration);
  cli_set_string (root, "training_set", train->name);
  cli_set_int (root, "training_images", train->n);
  cli_set_int (root, "k", k);
  CliValue *queries = cli_add_array (root, "queries");
  g_autoptr (CliValue) table = cli_object_new ();
  CliValue *rows = cli_add_array (table, "rows");
  for (int q = 0; q < n; q++)
    {
      g_autofree char *shown = g_filename_display_name (paths[q]);
      CliValue *query = cli_add_object (queries, NULL);
      cli_set_string (query, "image", shown);
      double score = novelty_score (similarities + (gsize) q * searched,
                                    searched);
      double rank = novelty_rank (calibration, score);
      const char *judgement = judgement_name (novelty_judge (rank));
      CliValue *typicality = cli_add_object (query, "typicality");
      cli_set_double (typicality, "tenth_nearest_similarity", score);
      cli_set_double (typicality, "rank", rank);
      cli_set_string (typicality, "judgement", judgement);
      cli_set_string (typicality, "calibration",
                      !calibration ? NULL
                      : calibration->from_test ? "test" : "training");
      cli_set_int (typicality, "calibration_images",
                   calibration ? calibration->n : 0);
      CliValue *neighbours = cli_add_array (query, "neighbours");
      if (format == CLI_FORMAT_TEXT)
        {
          if (q > 0)
            printf ("\n");
          /* Translators: the image, K, the number of training images and
           * the training step of the checkpoint */
          printf (_("%s: the %d nearest of %d training images, at step "
                    "%lld"), shown, k, train->n,
                  (long long) run->model->iteration);
          printf ("\n");
          /* Translators: the column headings of instdisc query's lines */
          printf ("%4s  %7s  %s  %s  %s\n", _("rank"), _("index"), _("image"),
                  _("label"), _("similarity"));
        }
      for (int r = 0; r < k; r++)
        {
          int i = indices[(gsize) q * searched + r];
          if (i < 0)
            break;   /* fewer rows could be ranked than asked for */
          int label = train->labels[i];
          g_autofree char *name = dataset_get_item_name (train, i);
          g_autofree char *class_name
              = label < 0 ? NULL
                : train->class_names ? g_strdup (train->class_names[label])
                : g_strdup_printf ("%d", label);
          float similarity = similarities[(gsize) q * searched + r];
          if (format == CLI_FORMAT_TEXT)
            printf ("%4d  %7d  %s  %s  %.4f\n", r + 1, i, name,
                    class_name ? class_name : "-", similarity);
          for (int pass = 0; pass < 2; pass++)
            {
              CliValue *row = cli_add_object (pass ? rows : neighbours, NULL);
              if (pass)
                cli_set_string (row, "query", shown);
              cli_set_int (row, "rank", r + 1);
              cli_set_int (row, "index", i);
              cli_set_string (row, "image", name);
              if (label >= 0)
                cli_set_int (row, "label", label);
              else
                cli_set_string (row, "label", NULL);
              cli_set_string (row, "class", class_name);
              cli_set_double (row, "similarity", similarity);
              if (pass)
                {
                  cli_set_double (row, "tenth_nearest_similarity", score);
                  cli_set_double (row, "typicality_rank", rank);
                  cli_set_string (row, "typicality", judgement);
                }
            }
        }
      if (format == CLI_FORMAT_TEXT)
        {
          g_autofree char *said = describe_typicality (calibration, score,
                                                       rank);
          printf ("%s\n", said);
        }
    }
  if (format == CLI_FORMAT_JSON)
    cli_print_json (root);
  else if (format == CLI_FORMAT_TSV)
    {
      static const char *const columns[] = {
        "query", "rank", "index", "image", "label", "class", "similarity",
        "tenth_nearest_similarity", "typicality_rank", "typicality", NULL,
      };
      cli_print_tsv_rows (cli_get (table, "rows"), columns);
    }
  fflush (stdout);
  return 0;
}

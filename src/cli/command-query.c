/* command-query.c: `instdisc query`, the training images nearest to image
 * files. */
#define G_LOG_DOMAIN "instdisc"

#include <glib/gi18n.h>
#include <stdio.h>

#include "cli-common.h"
#include "cli-output.h"
#include "cli-run.h"
#include "commands.h"
#include "image-formats.h"
#include "knn.h"
#include "threads.h"

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
  g_autofree float *similarities = g_new (float, (gsize) n * k);
  g_autofree int *indices = g_new (int, (gsize) n * k);
  knn_search (similarities, indices, features, n,
              run->model->bank->vectors, train->n, D, k);

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
          int i = indices[(gsize) q * k + r];
          if (i < 0)
            break;   /* fewer rows could be ranked than asked for */
          int label = train->labels[i];
          g_autofree char *name = dataset_get_item_name (train, i);
          g_autofree char *class_name
              = label < 0 ? NULL
                : train->class_names ? g_strdup (train->class_names[label])
                : g_strdup_printf ("%d", label);
          float similarity = similarities[(gsize) q * k + r];
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
            }
        }
    }
  if (format == CLI_FORMAT_JSON)
    cli_print_json (root);
  else if (format == CLI_FORMAT_TSV)
    {
      static const char *const columns[] = {
        "query", "rank", "index", "image", "label", "class", "similarity",
        NULL,
      };
      cli_print_tsv_rows (cli_get (table, "rows"), columns);
    }
  fflush (stdout);
  return 0;
}

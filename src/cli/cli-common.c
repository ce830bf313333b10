/* cli-common.c: error reporting and the progress display. */
#define G_LOG_DOMAIN "instdisc"

#include "cli-common.h"

#include <inttypes.h>
#include <glib/gi18n.h>
#include <math.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "evaluate.h"
#include "file-list.h"
#include "image-formats.h"
#include "knn.h"
#include "threads.h"

int
cli_fail (const GError *error)
{
  g_printerr ("instdisc: %s\n", error->message);
  return 1;
}

int
cli_fail_message (const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("instdisc: %s\n", message);
  return 1;
}

static void
print_nothing (const char *text)
{
}

void
cli_silence (void)
{
  fflush (stdout);
  int null = open ("/dev/null", O_WRONLY);
  if (null >= 0)
    {
      dup2 (null, STDOUT_FILENO);
      close (null);
    }
  g_set_print_handler (print_nothing);
  g_set_printerr_handler (print_nothing);
}

gboolean
cli_parse_options (int *argc, char ***argv, const GOptionEntry *entries,
                   const char *parameter_string, const char *summary)
{
  g_autoptr (GOptionContext) context = g_option_context_new (parameter_string);
  g_option_context_set_summary (context, summary);
  /* the entries' descriptions and argument names are N_() strings */
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      cli_fail (error);
      return FALSE;
    }
  if (!parameter_string && *argc > 1)
    {
      cli_fail_message (_("unexpected argument “%s”"), (*argv)[1]);
      return FALSE;
    }
  return TRUE;
}

gboolean
cli_set_threads (int threads)
{
  if (threads < 0 || threads > ENGINE_MAX_THREADS)
    {
      cli_fail_message (_("--threads takes 0 (one per core) to %d, not %d"),
                        ENGINE_MAX_THREADS, threads);
      return FALSE;
    }
  engine_set_threads (threads);
  return TRUE;
}

void
cli_report_skipped (const Dataset *data)
{
  if (data->n_skipped == 0)
    return;
  g_printerr ("instdisc: ");
  g_printerr (ngettext ("%s: skipped %d unreadable file:",
                        "%s: skipped %d unreadable files:", data->n_skipped),
              data->name, data->n_skipped);
  g_printerr ("\n");
  for (int i = 0; data->skipped && data->skipped[i] && i < 10; i++)
    g_printerr ("  %s\n", data->skipped[i]);
  if (data->n_skipped > 10)
    {
      g_printerr ("  ");
      g_printerr (_("… and %d more"), data->n_skipped - 10);
      g_printerr ("\n");
    }
}

void
cli_report_data (const Dataset *data)
{
  g_autofree char *note = data ? dataset_file_list_describe (data) : NULL;
  if (note)
    g_printerr ("instdisc: %s\n", note);
}

void
cli_dataset_progress (const char *path, const char *split, int done,
                      int total, gpointer data)
{
  if (total < DATASET_PROGRESS_EVERY)
    return;
  if (!isatty (STDOUT_FILENO))
    {
      if (done == 0)
        {
          /* Translators: before the files of a large image folder are
           * checked (a minute or more per 100,000 files); the split is
           * "train" or "test" */
          printf (_("checking the %'d image files of %s (%s)…"), total, path,
                  split);
          printf ("\n");
          fflush (stdout);
        }
      return;
    }
  printf ("\r\033[K");
  if (done < total)
    {
      /* Translators: redrawn in place while a large image folder's files
       * are checked */
      printf (_("checking the image files of %s (%s): %'d of %'d"), path,
              split, done, total);
    }
  fflush (stdout);
}

void
cli_progress_init (CliProgress *self, int every)
{
  self->tty = isatty (STDOUT_FILENO);
  self->every = MAX (every, 1);
  self->drawn = FALSE;
}

static void
format_duration (char *out, gsize len, double seconds)
{
  if (!(seconds >= 0.0) || seconds > 1e7)
    {
      g_strlcpy (out, "--:--", len);
      return;
    }
  long s = (long) (seconds + 0.5);
  if (s >= 3600)
    g_snprintf (out, len, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else
    g_snprintf (out, len, "%ld:%02ld", s / 60, s % 60);
}

void
cli_progress_update (CliProgress *self, const TrainerStepInfo *info,
                     int epochs, int steps_per_epoch, double rate,
                     double eta_s)
{
  char eta[32];
  format_duration (eta, sizeof eta, eta_s);
  if (!self->tty)
    {
      if (info->iteration % self->every == 0
          || info->step_in_epoch == steps_per_epoch)
        {
          /* Translators: a progress line of a training piped to a file;
           * img/s is images per second, eta the time left (H:MM:SS) */
          printf (_("step %" PRId64 "  epoch %d/%d  loss %.4f  "
                    "lr %.4g  %.0f img/s  eta %s"), info->iteration,
                  info->epoch + 1, epochs, info->loss, info->lr, rate, eta);
          printf ("\n");
        }
      fflush (stdout);
      return;
    }
  /* redraw at most every step; the bar covers the current epoch */
  const int width = 24;
  int filled = info->step_in_epoch * width / steps_per_epoch;
  char bar[64];
  for (int i = 0; i < width; i++)
    bar[i] = i < filled ? '#' : '-';
  bar[width] = '\0';
  printf ("\r\033[K");
  /* Translators: the progress bar on a terminal: epoch, the bar, steps
   * done in the epoch, loss, images per second, time left */
  printf (_("epoch %d/%d [%s] %d/%d  loss %.4f  %.0f img/s  ETA %s"),
          info->epoch + 1, epochs, bar, info->step_in_epoch, steps_per_epoch,
          info->loss, rate, eta);
  fflush (stdout);
  self->drawn = TRUE;
}

void
cli_progress_end (CliProgress *self)
{
  if (self->drawn)
    {
      printf ("\n");
      fflush (stdout);
      self->drawn = FALSE;
    }
}

gboolean
cli_evaluate (const RunModel *model, const Dataset *train,
              const Dataset *test, const EvaluateOptions *options,
              MetricsRow *row, GError **error)
{
  LinearEvalResult linear;
  if (!evaluate_run_model (model, train, test, options, row, &linear, error))
    return FALSE;
  cli_print_evaluation (train, test, options, row, &linear);
  return TRUE;
}

void
cli_print_evaluation (const Dataset *train, const Dataset *test,
                      const EvaluateOptions *options, const MetricsRow *row,
                      const LinearEvalResult *linear)
{
  if (train->n_classes == 0 || test->n == 0)
    return;
  printf (_("kNN (K %d) from the memory bank: top-1 %.2f%%  top-5 %.2f%%  "
            "1-NN %.2f%%"), options->k, row->knn_top1, row->knn_top5,
          row->knn_1nn);
  printf ("\n");
  if (!isnan (row->knn_top1_recomputed))
    {
      printf (_("kNN from recomputed features:  top-1 %.2f%%  top-5 %.2f%%"),
              row->knn_top1_recomputed, row->knn_top5_recomputed);
      printf ("\n");
    }
  if (options->linear && linear)
    {
      printf (linear->l2_chosen
                  ? _("linear classifier on recomputed features: top-1 "
                      "%.2f%%  top-5 %.2f%%  (weight decay %g chosen on a "
                      "held-out tenth of the training set; %.1f s)")
                  : _("linear classifier on recomputed features: top-1 "
                      "%.2f%%  top-5 %.2f%%  (weight decay %g; %.1f s)"),
              row->linear_top1, row->linear_top5, linear->l2, linear->seconds);
      printf ("\n");
    }
  fflush (stdout);
}

static int
compare_paths (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

GPtrArray *
cli_expand_image_args (const char *const *args, int n, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  for (int i = 0; i < n; i++)
    {
      if (!g_file_test (args[i], G_FILE_TEST_IS_DIR))
        {
          g_ptr_array_add (out, g_strdup (args[i]));
          continue;
        }
      g_autoptr (GDir) dir = g_dir_open (args[i], 0, error);
      if (!dir)
        return NULL;
      g_autoptr (GPtrArray) found = g_ptr_array_new_with_free_func (g_free);
      const char *name;
      while ((name = g_dir_read_name (dir)))
        {
          g_autofree char *path = g_build_filename (args[i], name, NULL);
          if (name[0] != '.' && data_is_image_name (name)
              && g_file_test (path, G_FILE_TEST_IS_REGULAR))
            g_ptr_array_add (found, g_steal_pointer (&path));
        }
      if (found->len == 0)
        {
          g_autofree char *shown = g_filename_display_name (args[i]);
          g_autofree char *formats = data_image_formats_describe ();
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                       _("%s: a folder with no image files in it (formats "
                         "read here: %s)"), shown, formats);
          return NULL;
        }
      g_ptr_array_sort (found, compare_paths);
      for (guint j = 0; j < found->len; j++)
        g_ptr_array_add (out, g_steal_pointer (&found->pdata[j]));
    }
  return g_steal_pointer (&out);
}

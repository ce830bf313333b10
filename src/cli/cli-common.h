/* cli-common.h: what the subcommands share: error reporting, the progress
 * display, evaluation. */
#pragma once

#include <glib.h>

#include "dataset.h"
#include "evaluate.h"
#include "run-dir.h"
#include "trainer.h"

/* Prints "instdisc: MESSAGE" to stderr and returns 1. */
int cli_fail (const GError *error);
int cli_fail_message (const char *format, ...) G_GNUC_PRINTF (1, 2);

/* From now on nothing this process prints reaches the terminal (its
 * standard output goes to /dev/null, g_print and g_printerr print
 * nothing): the ranks other than 0 of an MPI job, where rank 0 alone
 * speaks. What the engine or GLib print on a crash still shows. */
void cli_silence (void);

/* Parses a command's options: entries, the usage line's parameter_string
 * (NULL for a command that takes no arguments: one left over is refused)
 * and the --help summary. On failure, reports it as cli_fail does and
 * returns FALSE (exit status 1). */
gboolean cli_parse_options (int *argc, char ***argv,
                            const GOptionEntry *entries,
                            const char *parameter_string,
                            const char *summary);

/* --threads N: engine_set_threads (N) when 0 <= N <= ENGINE_MAX_THREADS;
 * otherwise reports it (cli_fail_message) and returns FALSE. */
gboolean cli_set_threads (int threads);

/* Tells how many files a folder load skipped, and the first few. */
void cli_report_skipped (const Dataset *data);

/* Tells, once, what differs between a set opened from its run's files.txt
 * and the folder now: rows missing, changed or unreadable, new files
 * (dataset_file_list_describe). Nothing when all is as listed. */
void cli_report_data (const Dataset *data);

/* DatasetOptions.progress for a folder's load: on a terminal, "checking
 * the image files of DIR (train): N of M" redrawn in place and cleared at
 * the end; piped, one line before a load of DATASET_PROGRESS_EVERY files
 * or more. data is unused. */
void cli_dataset_progress (const char *path, const char *split, int done,
                           int total, gpointer data);

/* A progress bar with rate and ETA redrawn in place on a terminal; plain
 * lines every `every` steps when the output is piped. */
typedef struct
{
  gboolean tty;
  int every;
  gboolean drawn;   /* a bar is on the current line */
} CliProgress;

void cli_progress_init (CliProgress *self, int every);
void cli_progress_update (CliProgress *self, const TrainerStepInfo *info,
                          int epochs, int steps_per_epoch, double rate,
                          double eta_s);
/* ends the bar's line, if one is drawn */
void cli_progress_end (CliProgress *self);

/* evaluate_run_model (evaluate.h), then prints what it measured. */
gboolean cli_evaluate (const RunModel *model, const Dataset *train,
                       const Dataset *test, const EvaluateOptions *options,
                       MetricsRow *row, GError **error);
/* Prints an evaluation's accuracies (nothing without labels); linear may
 * be NULL when the linear evaluation did not run. */
void cli_print_evaluation (const Dataset *train, const Dataset *test,
                           const EvaluateOptions *options,
                           const MetricsRow *row,
                           const LinearEvalResult *linear);

/* The image files the command line's IMAGE arguments stand for: a file
 * for itself, a folder for the image files directly in it (by extension,
 * data_is_image_name; sorted by name). FALSE-like NULL with an error
 * naming a folder without any. (transfer full: paths) */
GPtrArray *cli_expand_image_args (const char *const *args, int n,
                                  GError **error);

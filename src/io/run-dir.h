/* run-dir.h: the folder a training run leaves (docs/design.md, "The run
 * folder"; docs/file-formats.md byte by byte):
 *   config.ini               every setting of the run (GKeyFile)
 *   metrics.csv              one row per logged step and per evaluation
 *   checkpoint.safetensors   the whole training state (io/checkpoint.h)
 *   files.txt                an image-folder run's images (data/file-list.h)
 *   features.npy, labels.npy, paths.txt, vectors.tsv, metadata.tsv (exports)
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RUN_CONFIG_FILE "config.ini"
#define RUN_METRICS_FILE "metrics.csv"
#define RUN_CHECKPOINT_FILE "checkpoint.safetensors"

/* metrics.csv's columns: the common ones, which every row has (the fields
 * of MetricsRow below), then the objective's own (method/objective.h),
 * named by the header. This many of those at most. */
#define METRICS_MAX_EXTRA 6

/* One row of metrics.csv. NAN fields are left empty. */
typedef struct
{
  const char *kind;        /* "step", "eval" or "pixels" (raw pixels' kNN,
                            * epoch 0) */
  gint64 iteration;
  int epoch;               /* 1-based: the epoch this row belongs to; eval
                            * rows: the epochs done (0: the untrained
                            * network, before the first step) */
  double loss, lr, images_per_s;
  double knn_top1, knn_top5, knn_1nn;                /* percent, from the bank */
  double knn_top1_recomputed, knn_top5_recomputed;   /* test-transform features */
  double linear_top1, linear_top5; /* percent, linear classifier on those */
  double wall_s;           /* seconds since the run started, across resumes */
  /* The columns after the common ones, by name: a step row carries its
   * objective's (NCE's nce_z, nce_z_estimate, p_positive); a row read back
   * carries every column of the file's header that is not a common one, in
   * the header's order, NAN where empty. This layer knows no objective:
   * the names come from the objective or from the file. Names are static
   * or interned strings, so a row can be copied by value across threads. */
  guint n_extra;
  const char *extra_names[METRICS_MAX_EXTRA];
  double extra[METRICS_MAX_EXTRA];
} MetricsRow;

/* A row with every number NAN and no extra column. */
void metrics_row_init (MetricsRow *row, const char *kind);

/* Sets the extra column name (a static or interned string) to value,
 * adding the column when the row lacks it; FALSE when the row has
 * METRICS_MAX_EXTRA others already. */
gboolean metrics_row_set_extra (MetricsRow *row, const char *name,
                                double value);

/* A number of the row by its column name, common or extra; NAN when the
 * row has no such column or the field is empty. */
double metrics_row_get (const MetricsRow *row, const char *name);

/* TRUE for the common columns, kind to wall_s, which no objective may
 * name. */
gboolean metrics_column_is_common (const char *name);

/* The header line of metrics.csv, without newline: the common columns,
 * then extra_columns (NULL-terminated; NULL for none). Free it. */
char *metrics_csv_header (const char *const *extra_columns);

/* Creates dir (and parents) when missing. */
gboolean run_dir_ensure (const char *dir, GError **error);

/* config.ini, written atomically. */
gboolean run_dir_save_config (const char *dir, GKeyFile *config,
                              GError **error);
GKeyFile *run_dir_load_config (const char *dir, GError **error);

/* Appends a row (writing the header first when the file is new): its
 * common columns, then its values of extra_columns (NULL-terminated, may
 * be NULL: the run's objective's columns; empty where the row has none).
 * A run passes the same extra_columns for every row, so every row matches
 * the header; a resumed run has had its file rewritten with them by
 * run_dir_truncate_metrics first. Each row is written with one write() on
 * an O_APPEND descriptor, so a reader following the file never sees half a
 * row from a crash mid-row. */
gboolean run_dir_append_metrics (const char *dir,
                                 const char *const *extra_columns,
                                 const MetricsRow *row, GError **error);

/* Rows with iteration > keep_through are dropped (a resumed run rewrites
 * what came after its checkpoint), atomically. The file is rewritten with
 * this version's common columns and extra_columns, matched by name: any
 * other column is lost. A missing file is fine. */
gboolean run_dir_truncate_metrics (const char *dir,
                                   const char *const *extra_columns,
                                   gint64 keep_through, GError **error);

/* Parses metrics.csv into an array of MetricsRow (kind strings interned),
 * by the header's column names, in whatever order: the common columns
 * into their fields (missing ones are NAN), the others, up to
 * METRICS_MAX_EXTRA, into each row's extra columns. So files of older and
 * newer versions still read, whichever objective wrote them. A last line
 * without its newline (a writer still at work), rows with the wrong
 * number of fields (cut short by a crash) and damaged rows (a NUL byte, a
 * common column's number that does not read whole) are skipped; a header
 * holding a NUL byte is an error. */
GArray *run_dir_load_metrics (const char *dir, GError **error);

char *run_dir_file (const char *dir, const char *name);

G_END_DECLS

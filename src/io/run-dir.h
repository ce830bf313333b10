/* run-dir.h: the folder a training run leaves (docs/design.md, "The run
 * folder"; docs/file-formats.md byte by byte):
 *   config.ini               every setting of the run (GKeyFile)
 *   metrics.csv              one row per logged step and per evaluation
 *   checkpoint.safetensors   the whole training state (io/checkpoint.h)
 *   features.npy, labels.npy, paths.txt, vectors.tsv, metadata.tsv (exports)
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RUN_CONFIG_FILE "config.ini"
#define RUN_METRICS_FILE "metrics.csv"
#define RUN_CHECKPOINT_FILE "checkpoint.safetensors"

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
  double nce_z, nce_z_estimate, p_positive;
  double wall_s;           /* seconds since the run started, across resumes */
} MetricsRow;

/* A row with every number NAN. */
void metrics_row_init (MetricsRow *row, const char *kind);

/* The header line of metrics.csv, without newline. */
const char *metrics_csv_header (void);

/* Creates dir (and parents) when missing. */
gboolean run_dir_ensure (const char *dir, GError **error);

/* config.ini, written atomically. */
gboolean run_dir_save_config (const char *dir, GKeyFile *config,
                              GError **error);
GKeyFile *run_dir_load_config (const char *dir, GError **error);

/* Appends a row (writing the header first when the file is new). Each row
 * is written with one write() on an O_APPEND descriptor, so a reader
 * following the file never sees half a row from a crash mid-row. */
gboolean run_dir_append_metrics (const char *dir, const MetricsRow *row,
                                 GError **error);

/* Rows with iteration > keep_through are dropped (a resumed run rewrites
 * what came after its checkpoint), atomically. The file is rewritten with
 * this version's columns: unknown columns are lost. A missing file is
 * fine. */
gboolean run_dir_truncate_metrics (const char *dir, gint64 keep_through,
                                   GError **error);

/* Parses metrics.csv into an array of MetricsRow (kind strings interned).
 * Unknown columns are ignored, missing ones are NAN, so files from older
 * or newer versions still read. A last line without its newline (a writer
 * still at work) and rows with the wrong number of fields (cut short by a
 * crash) are skipped. */
GArray *run_dir_load_metrics (const char *dir, GError **error);

char *run_dir_file (const char *dir, const char *name);

G_END_DECLS

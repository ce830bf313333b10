/* fuzz-metrics.c: a run folder's metrics.csv through run_dir_load_metrics,
 * which the explorer calls on a file another process is writing.
 *
 * Every row read is then asked for each of its columns by name, as the
 * explorer's plots and `instdisc info` ask. */
#include "fuzz-common.h"
#include "run-dir.h"

static char *run;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup ();
  run = fuzz_dir ("run");
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const char *const common[] = { "loss", "lr", "knn_top1", "wall_s",
                                        "no such column" };
  g_free (fuzz_write ("run/metrics.csv", data, size));
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) rows = run_dir_load_metrics (run, &error);
  FUZZ_CHECK ((rows == NULL) != (error == NULL));
  if (!rows)
    return 0;
  double sum = 0.0;
  for (guint r = 0; r < rows->len; r++)
    {
      const MetricsRow *row = &g_array_index (rows, MetricsRow, r);
      FUZZ_CHECK (row->kind != NULL && row->n_extra <= METRICS_MAX_EXTRA);
      for (guint c = 0; c < G_N_ELEMENTS (common); c++)
        sum += metrics_row_get (row, common[c]);
      for (guint e = 0; e < row->n_extra; e++)
        {
          FUZZ_CHECK (!metrics_column_is_common (row->extra_names[e]));
          sum += metrics_row_get (row, row->extra_names[e]);
        }
    }
  volatile double sink = sum;
  (void) sink;
  return 0;
}

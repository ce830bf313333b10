/* trainer-run.c: a training run's files, shared by the CLI and the GUI. */
#define G_LOG_DOMAIN "instdisc"

#include "trainer-run.h"

#include <math.h>

GKeyFile *
trainer_run_keyfile_new (const TrainerConfig *config, const char *data_spec,
                         const Dataset *train, int image_size)
{
  GKeyFile *keyfile = g_key_file_new ();
  trainer_config_to_keyfile (config, keyfile);
  g_key_file_set_string (keyfile, "data", "spec", data_spec);
  g_key_file_set_string (keyfile, "data", "name", train->name);
  g_key_file_set_integer (keyfile, "data", "image_size", image_size);
  g_key_file_set_integer (keyfile, "data", "n_train", train->n);
  return keyfile;
}

gboolean
trainer_run_resume (Trainer *trainer, const char *run_dir,
                    double *wall_offset, GError **error)
{
  g_autofree char *checkpoint = run_dir_file (run_dir, RUN_CHECKPOINT_FILE);
  if (!trainer_load_checkpoint (trainer, checkpoint, error))
    return FALSE;
  *wall_offset = 0.0;
  g_autoptr (GArray) rows = run_dir_load_metrics (run_dir, NULL);
  if (rows)
    for (guint i = 0; i < rows->len; i++)
      {
        MetricsRow *row = &g_array_index (rows, MetricsRow, i);
        if (row->iteration <= trainer_get_iteration (trainer)
            && !isnan (row->wall_s))
          *wall_offset = MAX (*wall_offset, row->wall_s);
      }
  return run_dir_truncate_metrics (run_dir, trainer_get_iteration (trainer),
                                   error);
}

void
trainer_run_step_row (MetricsRow *row, const TrainerConfig *config,
                      const TrainerStepInfo *info, double images_per_s,
                      double wall_s)
{
  metrics_row_init (row, "step");
  row->iteration = info->iteration;
  row->epoch = info->epoch + 1;
  row->loss = info->loss;
  row->lr = info->lr;
  row->images_per_s = images_per_s;
  row->wall_s = wall_s;
  if (config->objective == OBJECTIVE_NCE)
    {
      row->nce_z = info->nce.z_fixed;
      row->nce_z_estimate = info->nce.z_estimate;
      row->p_positive = info->nce.positive_prob;
    }
}

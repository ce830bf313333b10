/* trainer-run.h: what a training run writes into its run folder, shared by
 * `instdisc train` and the explorer so that both leave the same folder:
 * config.ini's contents, one metrics.csv row per step, resuming from the
 * folder's checkpoint, and the feature export. */
#pragma once

#include <glib.h>

#include "dataset.h"
#include "run-dir.h"
#include "trainer.h"

G_BEGIN_DECLS

/* config.ini for a new run: the [training] group and a [data] group with
 * the data set's spec, name, image size (folders) and size. */
GKeyFile *trainer_run_keyfile_new (const TrainerConfig *config,
                                   const char *data_spec,
                                   const Dataset *train, int image_size);

/* files.txt for a run on an image folder (file-list.h): the scan of train
 * and of test (NULL when the folder has no test split). Written when the
 * run is made and, for a run made before files.txt existed, when it
 * resumes training (once its checkpoint has accepted the scan's size), so
 * that from then on its rows stay put. Nothing for other data sets, for
 * sets opened from a list, or when run_dir has a files.txt. Atomic. */
gboolean trainer_run_pin_data (const char *run_dir, const Dataset *train,
                               const Dataset *test, GError **error);

/* config.ini of run_dir into config (trainer_config_from_keyfile), and the
 * whole file (free it); errors name the file, as "runs/x/config.ini:
 * [training] objective = foo is not one of softmax, nce". */
GKeyFile *trainer_run_load_config (const char *run_dir, TrainerConfig *config,
                                   GError **error);

/* config.ini's [distributed] ranks: the number of ranks (processes of an
 * MPI job, docs/distributed.md) the run last trained on; 1 when the key
 * is absent, as for every run trained in one process. */
#define TRAINER_RUN_DISTRIBUTED_GROUP "distributed"
int trainer_run_get_ranks (GKeyFile *keyfile);
/* Sets it; FALSE when it already said so (nothing to save). A run that
 * never had more than one rank keeps no key. */
gboolean trainer_run_set_ranks (GKeyFile *keyfile, int ranks);
/* The same in run_dir's config.ini, rewritten (atomically) only when it
 * changes: what the explorer does when it continues a run that an MPI job
 * trained. The caller holds the folder's lock. */
gboolean trainer_run_record_ranks (const char *run_dir, int ranks,
                                   GError **error);

/* The command line that trains config on data_spec into run_dir:
 * `instdisc train --data SPEC --run DIR` and an option for each setting
 * that differs from the default recipe (--image-size when it is not 32),
 * each word quoted for a POSIX shell when it needs to be. With ranks > 1,
 * the same under `mpirun -n RANKS` (docs/distributed.md); the batch size
 * must then be a multiple of ranks. What the New Training dialog offers
 * to copy. (transfer full) */
char *trainer_run_command_line (const TrainerConfig *config,
                                const char *data_spec, const char *run_dir,
                                int image_size, int ranks);

/* A run's new length, as `instdisc train --resume --epochs N` and the
 * explorer's Train More Epochs give it: config's epochs become epochs and
 * config.ini's [training] group is rewritten from config (atomically; the
 * rest of the file stays), so a later resume, eval or explorer reads the
 * new length. keyfile: the file as trainer_run_load_config read it, or
 * NULL to read it here. The caller holds the folder's lock (run-lock.h).
 * FALSE, with config and the file unchanged, when config cannot have that
 * many epochs (the rules of trainer_config_check_setting: at least 1, no
 * fewer than its warm-up). */
gboolean trainer_run_set_epochs (const char *run_dir, GKeyFile *keyfile,
                                 TrainerConfig *config, int epochs,
                                 GError **error);

/* Restores trainer from run_dir's checkpoint, drops the metrics rows
 * written after it (they are about to be redone; the file is rewritten
 * with this run's columns, trainer_run_metrics_columns) and returns in
 * *wall_offset the wall time the run had reached by then, so wall_s keeps
 * counting across resumes. Without a checkpoint (a run stopped before it
 * saved one) the trainer stays new and the rows after iteration 0 go. */
gboolean trainer_run_resume (Trainer *trainer, const char *run_dir,
                             double *wall_offset, GError **error);

/* The columns a run with config adds to metrics.csv's common ones: its
 * objective's (NULL-terminated, may be NULL). Every row of the run is
 * written with them. */
const char *const *trainer_run_metrics_columns (const TrainerConfig *config);

/* The metrics.csv row (kind "step") of a step: epoch 1-based, and the
 * objective's columns with the step's values. */
void trainer_run_step_row (MetricsRow *row, const TrainerConfig *config,
                           const TrainerStepInfo *info, double images_per_s,
                           double wall_s);

/* Writes features (data->n, dim) of data's images into dir (which must
 * exist), each file atomically:
 *   features.npy   float32 (N, D)     labels.npy   int32 (N), -1 unlabelled
 *   paths.txt      line i + 1 names image i: its file, or NAME[i]
 *   vectors.tsv + metadata.tsv        the TensorBoard projector's pair
 * Rows whose image cannot be read now (dataset.h) keep their lines, and
 * metadata.tsv then has a status column: ok, missing, changed or
 * unreadable. */
gboolean trainer_run_export (const char *dir, const Dataset *data,
                             const float *features, int dim, GError **error);

G_END_DECLS

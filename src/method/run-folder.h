/* run-folder.h: a run folder opened to be read, the one way the command
 * line and the explorer open one.
 *
 * A run folder (docs/file-formats.md) holds config.ini, metrics.csv and,
 * once the bank is filled, checkpoint.safetensors; a run on an image
 * folder, files.txt. Reading one is three
 * steps, each with its own way to fail, which the callers treat
 * differently: the settings (no folder, no config.ini, a config.ini this
 * version cannot use: the folder is unusable), the data set config.ini
 * names (perhaps not on this machine: the explorer still shows the curves,
 * the commands need it), and the learned model (no checkpoint yet: the
 * explorer waits for one, the commands refuse). */
#pragma once

#include <glib.h>

#include "dataset.h"
#include "run-model.h"
#include "trainer.h"

G_BEGIN_DECLS

typedef struct
{
  char *dir;
  char *checkpoint;              /* dir/checkpoint.safetensors */
  GKeyFile *keyfile;             /* config.ini */
  TrainerConfig config;          /* its [training] group */
  char *data_spec;               /* its [data] spec, NULL when missing */
  DatasetOptions data_options;   /* with its [data] image size */
} RunFolder;

/* Reads dir/config.ini. NULL with one error naming the folder or the file
 * when dir is no folder, has no config.ini, or its config.ini cannot be
 * used. */
RunFolder *run_folder_open (const char *dir, GError **error);
void run_folder_free (RunFolder *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RunFolder, run_folder_free)

/* A split of the data set the run was trained on ("train", "test"),
 * opened as training opened it. The error names the run folder when
 * config.ini names no data set or it cannot be opened here, and the file
 * and line when the run's files.txt cannot be read. */
Dataset *run_folder_open_data (RunFolder *self, const char *split,
                               GError **error);

/* Split `split` of the data set `spec` of the run in dir: from dir's
 * files.txt when the run pinned its image folder there (file-list.h: row
 * i is the same file however the folder changed), else by dataset_open,
 * a new scan (every data set of files, and an image-folder run made before
 * files.txt existed, which is read as it always was). */
Dataset *run_folder_open_dataset (const char *dir, const char *spec,
                                  const char *split,
                                  const DatasetOptions *options,
                                  GError **error);

/* The model of the folder's checkpoint (run-model.h) for the run's
 * training split train. G_FILE_ERROR_NOENT when there is no checkpoint
 * yet; other errors name what is wrong with it. */
RunModel *run_folder_load_model (RunFolder *self, const Dataset *train,
                                 GError **error);

G_END_DECLS

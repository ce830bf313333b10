/* cli-run.h: a run folder opened for the commands that read one (eval,
 * export, query, embed, finetune): its config.ini, its training data set
 * and the learned model (network and bank, run-model.h) read from its
 * checkpoint. */
#pragma once

#include <glib.h>

#include "dataset.h"
#include "run-folder.h"
#include "run-model.h"
#include "trainer.h"

G_BEGIN_DECLS

typedef struct
{
  RunFolder *folder;          /* config.ini, where the files are */
  TrainerConfig config;       /* the run's settings */
  Dataset *train;             /* the training split the bank indexes */
  RunModel *model;            /* the checkpoint's network and bank */
} CliRun;

/* Opens the run folder (run-folder.h), the training data it names and the
 * model of its checkpoint. Every failure is one error that names the
 * folder or file at fault. */
CliRun *cli_run_open (const char *dir, GError **error);
void cli_run_free (CliRun *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliRun, cli_run_free)

/* A split of the run's data set ("test"), opened with the run's options;
 * the training split is already in self->train. */
Dataset *cli_run_open_split (CliRun *self, const char *split, GError **error);

/* An in-memory data set of image files brought to the training images'
 * channels and size as the data layer brings folder images (grey
 * conversion, resize, centre crop; dataset_decode_file), labels -1. Every
 * file is decoded here, so an unreadable one is reported now, by name, and
 * not halfway through an embedding. */
Dataset *cli_run_open_images (CliRun *self, const char *const *paths, int n,
                              GError **error);

/* features (n, D), unit rows, of the image files (test transform). */
float *cli_run_embed_images (CliRun *self, const char *const *paths, int n,
                             GError **error);

G_END_DECLS

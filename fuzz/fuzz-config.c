/* fuzz-config.c: a run folder's config.ini through run_folder_open, the
 * one way the command line and the explorer open a run folder: GKeyFile's
 * parser, then every setting of [training] and [data] read as a run reads
 * them.
 *
 * What opens is then used as the programs use it: its settings written
 * back to a key file (as a run saves them) and the steps of an epoch
 * counted (as the explorer counts them). */
#include "fuzz-common.h"
#include "run-folder.h"

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
  g_free (fuzz_write ("run/config.ini", data, size));
  g_autoptr (GError) error = NULL;
  g_autoptr (RunFolder) folder = run_folder_open (run, &error);
  FUZZ_CHECK ((folder == NULL) != (error == NULL));
  if (!folder)
    return 0;
  FUZZ_CHECK (folder->config.model && folder->config.objective);
  FUZZ_CHECK (folder->config.n_lr_drops >= 0
              && folder->config.n_lr_drops <= TRAINER_MAX_LR_DROPS);
  g_autoptr (GKeyFile) saved = g_key_file_new ();
  trainer_config_to_keyfile (&folder->config, saved);
  g_autofree char *text = g_key_file_to_data (saved, NULL, NULL);
  FUZZ_CHECK (text != NULL);
  volatile int steps = trainer_config_steps_per_epoch (&folder->config, 1000);
  (void) steps;
  return 0;
}

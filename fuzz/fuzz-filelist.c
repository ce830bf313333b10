/* fuzz-filelist.c: a run's files.txt (the image folder's scan it was made
 * with) through dataset_file_list_open, the way every later open of an
 * image-folder run builds its data sets: the list read and checked line
 * by line, each listed file looked up under the data folder, the
 * training split's folder scanned for files the list lacks.
 *
 * The data folder is made once: two class folders of two files each,
 * named as the seeds name them. Both splits are opened from each input;
 * what opens is then used as the front ends use it: every row's file,
 * label and status, the names of the marked rows, the one-line summary. */
#include <glib/gstdio.h>

#include "dataset.h"
#include "file-list.h"
#include "fuzz-common.h"

static char *root;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup ();
  g_free (fuzz_dir ("run"));
  root = fuzz_dir ("data");
  /* only looked up (stat) and listed, never decoded here */
  const char *files[] = { "cat/001.png", "cat/002.png", "dog/001.png",
                          "dog/notes.png" };
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (root, files[i], NULL);
      g_autofree char *parent = g_path_get_dirname (path);
      g_mkdir_with_parents (parent, 0700);
      g_autofree char *rel = g_build_filename ("data", files[i], NULL);
      g_free (fuzz_write (rel, (const uint8_t *) "not decoded", 11));
    }
  return 0;
}

static void
open_and_use (const char *list, const char *split)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Dataset) set = dataset_file_list_open (list, root, split, NULL,
                                                    &error);
  FUZZ_CHECK ((set == NULL) != (error == NULL));
  if (!set)
    return;
  FUZZ_CHECK (set->n > 0 && set->paths && set->labels);
  FUZZ_CHECK (set->channels == 1 || set->channels == 3);
  for (int i = 0; i < set->n; i++)
    {
      FUZZ_CHECK (set->paths[i] != NULL);
      FUZZ_CHECK (set->labels[i] >= -1 && set->labels[i] < set->n_classes);
      FUZZ_CHECK (set->n_classes == 0 || set->labels[i] >= 0);
      DatasetRowStatus status = dataset_row_status (set, i);
      FUZZ_CHECK (status >= DATASET_ROW_OK
                  && status <= DATASET_ROW_UNREADABLE);
      g_free (dataset_get_item_name (set, i));
    }
  FUZZ_CHECK (set->paths[set->n] == NULL);
  for (int s = DATASET_ROW_MISSING; s <= DATASET_ROW_UNREADABLE; s++)
    {
      int count = 0;
      g_free (dataset_row_names (set, s, 3, &count));
      FUZZ_CHECK (count >= 0 && count <= set->n);
    }
  g_free (dataset_file_list_describe (set));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *list = fuzz_write ("run/files.txt", data, size);
  open_and_use (list, "train");
  open_and_use (list, "test");
  return 0;
}

/* fuzz-cifar.c: CIFAR binary files through dataset_load_cifar.
 *
 * The input is one .bin file under a name that says neither CIFAR-10 nor
 * CIFAR-100, so the reader tells them apart by the record size as it does
 * for any file so named; gzipped (.bin.gz, streamed through the
 * decompressor) when it starts with gzip's magic. A CIFAR-100 file is read
 * again with the coarse labels. What loads is read whole, as training
 * reads it (the channel statistics touch every pixel), and every label
 * must be one of the set's classes. */
#include "dataset.h"
#include "fuzz-common.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup ();
  return 0;
}

static Dataset *
load_and_use (const char *path, gboolean coarse)
{
  DatasetOptions options;
  dataset_options_init_default (&options);
  options.cifar100_coarse = coarse;
  g_autoptr (GError) error = NULL;
  Dataset *set = dataset_load_cifar (path, NULL, &options, &error);
  FUZZ_CHECK ((set == NULL) != (error == NULL));
  if (!set)
    return NULL;
  FUZZ_CHECK (set->n > 0 && set->channels == 3 && set->height == 32
              && set->width == 32);
  FUZZ_CHECK (set->kind != DATASET_KIND_CIFAR10 || set->class_names);
  for (int i = 0; i < set->n; i++)
    FUZZ_CHECK (set->labels[i] >= 0 && set->labels[i] < set->n_classes);
  float mean[4], std[4];
  dataset_channel_stats (set, mean, std);
  return set;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const gboolean gzipped = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
  g_autofree char *path = fuzz_write (gzipped ? "batch.bin.gz" : "batch.bin",
                                      data, size);
  g_autoptr (Dataset) fine = load_and_use (path, FALSE);
  if (fine && fine->kind == DATASET_KIND_CIFAR100)
    {
      g_autoptr (Dataset) coarse = load_and_use (path, TRUE);
      FUZZ_CHECK (coarse && coarse->n == fine->n);
    }
  return 0;
}

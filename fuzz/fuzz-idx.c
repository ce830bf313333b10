/* fuzz-idx.c: IDX files through dataset_load_idx.
 *
 * The input is an images file, gzipped (read through the .gz path) when it
 * starts with gzip's magic. When an IDX labels magic (00 00 08 01) follows
 * the images' header, the input is split there and the rest is the labels
 * file, so the pair's checks are reached too; the seeds are such pairs.
 * What loads is then read whole, as training reads it: the channel
 * statistics touch every pixel, so a set whose dimensions promise more
 * than its pixels hold is an AddressSanitizer report, not a quiet pass. */
#define _GNU_SOURCE   /* memmem */
#include <string.h>

#include "dataset.h"
#include "fuzz-common.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const uint8_t labels_magic[4] = { 0, 0, 0x08, 0x01 };
  const gboolean gzipped = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
  size_t split = size;
  if (!gzipped && size > 4)
    {
      const uint8_t *at = memmem (data + 4, size - 4, labels_magic, 4);
      if (at)
        split = (size_t) (at - data);
    }
  g_autofree char *images
      = fuzz_write (gzipped ? "f-images-idx3-ubyte.gz" : "f-images-idx3-ubyte",
                    data, split);
  g_autofree char *labels
      = split < size ? fuzz_write ("f-labels-idx1-ubyte", data + split,
                                   size - split)
                     : NULL;

  g_autoptr (GError) error = NULL;
  g_autoptr (Dataset) set = dataset_load_idx (images, labels, &error);
  FUZZ_CHECK ((set == NULL) != (error == NULL));
  if (!set)
    return 0;
  FUZZ_CHECK (set->n > 0 && set->channels == 1 && set->height > 0
              && set->width > 0);
  for (int i = 0; i < set->n; i++)
    FUZZ_CHECK (set->labels[i] >= -1 && set->labels[i] < set->n_classes);
  float mean[4], std[4];
  dataset_channel_stats (set, mean, std);
  return 0;
}

/* dataset.h: an image data set held in memory as 8-bit pixels.
 *
 * Images are (N, C, H, W) bytes, labels int32 in [0, n_classes) or -1 when
 * the data set has none. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define INSTDISC_DATA_ERROR (instdisc_data_error_quark ())
GQuark instdisc_data_error_quark (void);

typedef enum
{
  INSTDISC_DATA_ERROR_TRUNCATED,
  INSTDISC_DATA_ERROR_CORRUPT,
  INSTDISC_DATA_ERROR_MISMATCH,
  INSTDISC_DATA_ERROR_NOT_FOUND,
} InstdiscDataError;

typedef struct
{
  char *name;          /* e.g. "fashion-mnist/train" */
  int n, channels, height, width;
  guint8 *pixels;      /* (N, C, H, W) */
  gint32 *labels;      /* (N), -1 for unlabelled */
  int n_classes;       /* 0 when unlabelled */
  char **class_names;  /* n_classes strings, or NULL */
} Dataset;

void dataset_free (Dataset *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Dataset, dataset_free)

/* Reads an IDX image file (magic 0x00000803, u8 N x H x W) and optionally an
 * IDX label file (0x00000801, u8 N), gzipped or not. */
Dataset *dataset_load_idx (const char *images_path, const char *labels_path,
                           GError **error);

/* The built-in default: Debian's dataset-fashion-mnist package. split is
 * "train" or "test". */
Dataset *dataset_load_fashion_mnist (const char *split, GError **error);

/* Mean and standard deviation of each channel over all pixels, in [0, 1]
 * units, for normalisation. */
void dataset_channel_stats (const Dataset *self, float *mean, float *std);

G_END_DECLS

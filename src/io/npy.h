/* npy.h: NumPy .npy files (format version 1.0) of float32 or int32 arrays,
 * the exchange format for features (N x D) and labels (N); and the
 * TensorBoard projector's TSV pair. */
#pragma once

#include <glib.h>

#include "safetensors.h"

G_BEGIN_DECLS

typedef enum
{
  NPY_FLOAT32,
  NPY_INT32,
} NpyDtype;

/* Writes a C-order array of shape (shape[0], ..., shape[ndim-1]) atomically
 * (temporary file, then rename). ndim 1 or 2. */
gboolean npy_save (const char *path, NpyDtype dtype, int ndim,
                   const gint64 *shape, gconstpointer data, GError **error);

typedef struct
{
  NpyDtype dtype;
  int ndim;
  gint64 shape[2];
  gpointer data;   /* owned */
} NpyArray;

void npy_array_free (NpyArray *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NpyArray, npy_array_free)

/* Reads a little-endian float32 ('<f4') or int32 ('<i4') array of one or two
 * dimensions in C order; anything else is a clear error naming the file. */
NpyArray *npy_load (const char *path, GError **error);

/* vectors.tsv (N rows of D tab-separated numbers, each printed with 9
 * significant digits so it parses back to the same float) and metadata.tsv
 * (a header "index\tlabel\tname", then one row per vector), as the
 * TensorBoard projector reads them. labels (one per row) may be NULL; a
 * label is written as its class name when class_names (NULL-terminated)
 * has one, else as its number; a negative label leaves the field empty.
 * names (one per row, e.g. image paths) may be NULL. status (one word per
 * row) may be NULL; when given, metadata.tsv has a fourth column, "status",
 * with it. Tabs and line breaks in names become spaces. Both files are
 * written atomically. */
gboolean tsv_save_projector (const char *vectors_path,
                             const char *metadata_path, const float *vectors,
                             int n, int dim, const gint32 *labels,
                             const char *const *class_names,
                             const char *const *names,
                             const char *const *status, GError **error);


G_END_DECLS

/* command-info-private.h: what the files of `instdisc info` share.
 *   command-info.c       the command, and the sentences of --format text
 *   command-info-tree.c  the same facts as a tree for --format tsv|json
 * Nothing else includes this header. */
#pragma once

#include <glib.h>

#include "cli-output.h"
#include "model.h"
#include "safetensors.h"

G_BEGIN_DECLS

/* rows of unit length within this are "unit-norm" (the memory bank and the
 * features are L2-normalised in float32) */
#define INFO_UNIT_NORM_TOLERANCE 1e-3

typedef struct
{
  gsize n_rows, n_unit, n_nonfinite;
  double min, max, mean;
} NormStats;

/* L2 norm of each of the n rows of dim values, accumulated in double */
NormStats info_row_norms (const float *x, gsize n, gsize dim);

/* The network a checkpoint holds, from its tensor shapes alone. */
typedef struct
{
  const ModelClass *model;   /* of the registry, or NULL: another ResNet */
  ResNetStem stem;           /* IMAGENET when conv1 is 7x7 (head "fc") */
  ResNetBlockKind block;     /* BOTTLENECK when layer1.0 has a conv3 */
  int widths[4], blocks[4];
  int channels;
  gint64 low_dim, linear_in;
  gsize n_params, n_param_tensors, n_bn;
} InfoModel;

/* FALSE when the file holds no ResNet (no conv1.weight and linear.weight
 * or fc.weight) */
gboolean info_model (const SafetensorsFile *file, InfoModel *model);
gboolean info_is_model_tensor (const char *name);
const SafetensorsTensor *info_lookup (const SafetensorsFile *file,
                                      const char *format, ...)
  G_GNUC_PRINTF (2, 3);
gboolean info_starts_with_npy_magic (const char *path);

/* the common metrics.csv columns shown, in the file's order; NULL-ended */
extern const char *const info_metrics_columns[];

/* What `path` holds (a run folder, a .npy file or a checkpoint), as the
 * members of `out`; FALSE with an error as the text describes it. */
gboolean info_tree (const char *path, guint n_rows, CliValue *out,
                    GError **error);

G_END_DECLS

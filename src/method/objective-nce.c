/* objective-nce.c: NCE (nce.h) as an objective of the registry
 * (objective.h). The arithmetic and its threads stay in nce.c; this file
 * only adapts it: the settings it checks, the step's three metrics.csv
 * columns, and Z in the checkpoint. */
#define G_LOG_DOMAIN "instdisc-method"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <math.h>

#include "checkpoint.h"
#include "nce.h"
#include "objective.h"
#include "trainer.h"

/* the names runs have always had: metrics.csv's columns, the checkpoint's
 * tensor and metadata keys (docs/file-formats.md) */
#define Z_TENSOR "trainer.nce_z"
#define Z_FIXED_KEY "nce_z"
#define Z_ESTIMATE_KEY "nce_z_estimate"

typedef struct
{
  Objective parent;
  Nce *nce;
  float z_saved[2];   /* the checkpoint tensor's data while it is saved */
} NceObjective;

/* config.ini's keys of NCE's own */
static const char *const nce_settings[] = { "nce_k", "nce_z", NULL };

/* Z fixed from the first batch, its running estimate after this batch,
 * and the mean probability that the positive is data, not noise (the
 * Training view's NCE panel reads them by these names) */
static const char *const nce_metrics[] = {
  "nce_z", "nce_z_estimate", "p_positive", NULL,
};

static gboolean
nce_check (const TrainerConfig *config, int n, const char *data_name,
           GError **error)
{
  /* n is 0 while the data set is not known yet (the New Training
   * dialog): then only the lower bound */
  if (config->nce_k >= 1 && (n <= 0 || config->nce_k < n))
    return TRUE;
  if (n <= 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("NCE needs K >= 1, not %d"), config->nce_k);
      return FALSE;
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               _("NCE needs 1 <= K < N: K is %d, %s has %d images"),
               config->nce_k, data_name, n);
  return FALSE;
}

static char *
nce_describe (const TrainerConfig *config)
{
  return g_strdup_printf (_("NCE, K = %d"), config->nce_k);
}

static Objective *
nce_create (const TrainerConfig *config, int max_batch, int n)
{
  Nce *nce = nce_new (max_batch, n, config->nce_k, config->tau,
                      config->nce_z);
  if (!nce)
    return NULL;
  NceObjective *self = g_new0 (NceObjective, 1);
  self->nce = nce;
  return &self->parent;
}

static void
nce_objective_free (Objective *objective)
{
  NceObjective *self = (NceObjective *) objective;
  nce_free (self->nce);
  g_free (self);
}

static void
nce_set_share (Objective *objective, const ObjectiveShare *share)
{
  NceObjective *self = (NceObjective *) objective;
  self->nce->dist = share->dist;
  self->nce->first_row = share->first;
  self->nce->total_batch = share->total;
}

static float
nce_step (Objective *objective, float *d_features, const float *features,
          const int *indices, int batch, const MemoryBank *bank, Rng *rng,
          double *metrics)
{
  NceObjective *self = (NceObjective *) objective;
  NceStepInfo info;
  float loss = nce_forward_backward (self->nce, d_features, features, indices,
                                     batch, bank, rng, &info);
  metrics[0] = info.z_fixed;
  metrics[1] = info.z_estimate;
  metrics[2] = info.positive_prob;
  return loss;
}

static void
nce_save_state (Objective *objective, GArray *tensors, GHashTable *metadata)
{
  NceObjective *self = (NceObjective *) objective;
  const double z[2] = { self->nce->z_fixed, self->nce->z_estimate };
  /* the tensor is for NumPy readers, in float32 as it always was; the
   * metadata keeps Z in full precision, with '.' whatever the locale */
  self->z_saved[0] = (float) z[0];
  self->z_saved[1] = (float) z[1];
  SafetensorsTensor tensor = {
    .name = (char *) Z_TENSOR, .dtype = DTYPE_F32, .ndim = 1, .shape = { 2 },
    .numel = 2, .data = self->z_saved,
  };
  g_array_append_val (tensors, tensor);
  char text[G_ASCII_DTOSTR_BUF_SIZE];
  g_hash_table_insert (metadata, g_strdup (Z_FIXED_KEY),
                       g_strdup (g_ascii_dtostr (text, sizeof text, z[0])));
  g_hash_table_insert (metadata, g_strdup (Z_ESTIMATE_KEY),
                       g_strdup (g_ascii_dtostr (text, sizeof text, z[1])));
}

/* Z as the file keeps it: the metadata in double, the tensor as the
 * fallback. Call after the tensor was checked. */
static void
read_z (const SafetensorsFile *file, double z[2])
{
  const char *zf = safetensors_file_get_metadata (file, Z_FIXED_KEY);
  const char *ze = safetensors_file_get_metadata (file, Z_ESTIMATE_KEY);
  const float *zt = safetensors_file_lookup (file, Z_TENSOR)->data;
  z[0] = zf ? g_ascii_strtod (zf, NULL) : zt[0];
  z[1] = ze ? g_ascii_strtod (ze, NULL) : zt[1];
}

/* A normaliser is a positive number, or both are -1: not yet measured (a
 * checkpoint saved before the first step). Anything else would reach the
 * objective's invariants; it is the file's fault, and said so. */
static gboolean
nce_check_state (Objective *objective, const SafetensorsFile *file,
                 GError **error)
{
  const gint64 shape[1] = { 2 };
  if (!checkpoint_expect_tensor (file, Z_TENSOR, DTYPE_F32, 1, shape, error))
    return FALSE;
  double z[2];
  read_z (file, z);
  gboolean unset = z[0] == -1.0 && z[1] == -1.0;
  gboolean set = z[0] > 0.0 && z[1] > 0.0 && isfinite (z[0])
                 && isfinite (z[1]);
  if (!unset && !set)
    {
      g_set_error (error, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_CORRUPT,
                   _("%s: NCE's normaliser Z is %g (fixed) and %g (running "
                     "estimate): each must be a positive number, or both -1 "
                     "before the first step"),
                   safetensors_file_get_path (file), z[0], z[1]);
      return FALSE;
    }
  return TRUE;
}

static void
nce_load_state (Objective *objective, const SafetensorsFile *file)
{
  NceObjective *self = (NceObjective *) objective;
  double z[2];
  read_z (file, z);
  nce_set_z (self->nce, z[0], z[1]);
}

const ObjectiveClass objective_nce = {
  .name = "nce",
  .label = N_("NCE"),
  .summary = N_("noise-contrastive estimation with --nce-k noise samples "
                "per image"),
  .settings = nce_settings,
  .metrics = nce_metrics,
  .check = nce_check,
  .describe = nce_describe,
  .create = nce_create,
  .free = nce_objective_free,
  .set_share = nce_set_share,
  .forward_backward = nce_step,
  .save_state = nce_save_state,
  .check_state = nce_check_state,
  .load_state = nce_load_state,
};

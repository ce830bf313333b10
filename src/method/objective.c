/* objective.c: the registry of training objectives; see objective.h. */
#define G_LOG_DOMAIN "instdisc-method"

#include "objective.h"

#include <glib/gi18n-lib.h>
#include <math.h>

/* Every objective, one line each, in the order --help and the New
 * Training dialog list them. Each X (symbol) names the ObjectiveClass that
 * its own file defines; the recipes (trainer.c) pick theirs by name. */
#define OBJECTIVE_REGISTRY(X) \
  X (objective_softmax)       \
  X (objective_nce)

#define DECLARE(symbol) extern const ObjectiveClass symbol;
OBJECTIVE_REGISTRY (DECLARE)
#undef DECLARE

#define ENTRY(symbol) &symbol,
static const ObjectiveClass *const registry[] = { OBJECTIVE_REGISTRY (ENTRY) };
#undef ENTRY

guint
objective_registry_size (void)
{
  return G_N_ELEMENTS (registry);
}

const ObjectiveClass *
objective_registry_get (guint i)
{
  g_return_val_if_fail (i < G_N_ELEMENTS (registry), NULL);
  return registry[i];
}

const ObjectiveClass *
objective_registry_lookup (const char *name)
{
  for (guint i = 0; name && i < G_N_ELEMENTS (registry); i++)
    if (g_str_equal (registry[i]->name, name))
      return registry[i];
  return NULL;
}

guint
objective_registry_index (const ObjectiveClass *klass)
{
  for (guint i = 0; i < G_N_ELEMENTS (registry); i++)
    if (registry[i] == klass)
      return i;
  g_return_val_if_reached (0);
}

char *
objective_registry_names (void)
{
  GString *names = g_string_new (NULL);
  for (guint i = 0; i < G_N_ELEMENTS (registry); i++)
    g_string_append_printf (names, "%s%s", i ? ", " : "", registry[i]->name);
  return g_string_free (names, FALSE);
}

const char *
objective_class_get_label (const ObjectiveClass *klass)
{
  return g_dgettext (GETTEXT_PACKAGE, klass->label);
}

static gboolean
strv_has (const char *const *strv, const char *s)
{
  return strv && g_strv_contains (strv, s);
}

gboolean
objective_class_uses_setting (const ObjectiveClass *klass,
                              const char *setting)
{
  return strv_has (klass->settings, setting);
}

gboolean
objective_class_has_metric (const ObjectiveClass *klass, const char *name)
{
  return strv_has (klass->metrics, name);
}

char *
objective_class_describe (const ObjectiveClass *klass,
                          const TrainerConfig *config)
{
  return klass->describe ? klass->describe (config)
                         : g_strdup (objective_class_get_label (klass));
}

Objective *
objective_new (const ObjectiveClass *klass, const TrainerConfig *config,
               int max_batch, int n)
{
  Objective *self = klass->create (config, max_batch, n);
  if (self)
    self->klass = klass;
  return self;
}

gboolean
objective_set_share (Objective *self, Distributed *dist, int first,
                     int total)
{
  if (!self->klass->set_share)
    return distributed_is_single (dist);
  self->share = (ObjectiveShare) { dist, first, total };
  self->klass->set_share (self, &self->share);
  return TRUE;
}

void
objective_free (Objective *self)
{
  if (self)
    self->klass->free (self);
}

float
objective_forward_backward (Objective *self, float *d_features,
                            const float *features, const int *indices,
                            int batch, const MemoryBank *bank, Rng *rng,
                            double *metrics)
{
  for (int i = 0; i < OBJECTIVE_MAX_METRICS; i++)
    metrics[i] = NAN;
  return self->klass->forward_backward (self, d_features, features, indices,
                                        batch, bank, rng, metrics);
}

void
objective_save_state (Objective *self, GArray *tensors, GHashTable *metadata)
{
  if (self->klass->save_state)
    self->klass->save_state (self, tensors, metadata);
}

gboolean
objective_check_state (Objective *self, const SafetensorsFile *file,
                       GError **error)
{
  return !self->klass->check_state
         || self->klass->check_state (self, file, error);
}

void
objective_load_state (Objective *self, const SafetensorsFile *file)
{
  if (self->klass->load_state)
    self->klass->load_state (self, file);
}

/* trainer-check.c: the rules a training configuration is held to, one
 * setting at a time. trainer_new refuses a configuration that breaks one;
 * the New Training dialog shows each broken rule under its field, and
 * `instdisc train` prints the first. The rules live here only. */
#define G_LOG_DOMAIN "instdisc-method"

#include "trainer.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>

/* The rule of one of trainer.c's own settings: TRUE when config keeps it;
 * *rule (translated) and *value (as the message shows it) are set either
 * way, for any key this file knows; FALSE with both NULL for another
 * key. n: the training set's size, 0 when not known yet. */
static gboolean
own_rule (const TrainerConfig *c, const char *key, int n,
          const char *data_name, gboolean *holds, char **rule, char **value)
{
  *rule = *value = NULL;
  /* Bounds a run can learn within; they also keep every value finite
   * (a NaN fails each comparison), so inf or 1e38 never reaches a step. */
#define RANGE(field, ok, text)                                                \
  if (g_str_equal (key, #field))                                              \
    {                                                                         \
      *holds = (ok);                                                          \
      *rule = g_strdup (text);                                                \
      *value = g_strdup_printf ("%g", (double) c->field);                     \
      return TRUE;                                                            \
    }
  RANGE (tau, c->tau > 0.0f && c->tau <= 10.0f, _("tau must be in (0, 10]"))
  RANGE (lr, c->lr >= 0.0f && c->lr <= 10.0f,
         _("the learning rate must be in [0, 10]"))
  RANGE (weight_decay, c->weight_decay >= 0.0f && c->weight_decay <= 1.0f,
         _("the weight decay must be in [0, 1]"))
  RANGE (momentum, c->momentum >= 0.0f && c->momentum < 1.0f,
         _("the SGD momentum must be in [0, 1)"))
  RANGE (lr_drop_factor,
         c->lr_drop_factor > 0.0f && c->lr_drop_factor <= 1.0f,
         _("the learning-rate drop factor must be in (0, 1]"))
  RANGE (bank_momentum, c->bank_momentum >= 0.0f && c->bank_momentum < 1.0f,
         _("the memory bank momentum must be in [0, 1)"))
  RANGE (jitter, c->jitter >= 0.0f && c->jitter <= 1.0f,
         _("the colour jitter must be in [0, 1]"))
  RANGE (proximal, c->proximal >= 0.0f && c->proximal <= 1e6f,
         _("the proximal weight must be in [0, 1e6]"))
#undef RANGE
  if (g_str_equal (key, "batch_size"))
    {
      *holds = c->batch_size >= 2 && (n <= 0 || c->batch_size <= n);
      *rule = n > 0 ? g_strdup_printf (_("the batch size must be 2 to the %d "
                                         "images of %s"), n, data_name)
                    : g_strdup (_("the batch size must be at least 2"));
      *value = g_strdup_printf ("%d", c->batch_size);
      return TRUE;
    }
  if (g_str_equal (key, "epochs"))
    {
      *holds = c->epochs >= 1;
      *rule = g_strdup (_("epochs must be at least 1"));
      *value = g_strdup_printf ("%d", c->epochs);
      return TRUE;
    }
  if (g_str_equal (key, "warmup_epochs"))
    {
      *holds = c->warmup_epochs >= 0 && c->warmup_epochs <= c->epochs;
      *rule = g_strdup_printf (_("warm-up must be 0 to %d epochs"),
                               MAX (c->epochs, 0));
      *value = g_strdup_printf ("%d", c->warmup_epochs);
      return TRUE;
    }
  if (g_str_equal (key, "crop_scale_min") || g_str_equal (key, "crop_scale_max"))
    {
      *holds = c->crop_scale_min > 0.0f && c->crop_scale_min <= c->crop_scale_max
               && c->crop_scale_max <= 1.0f;
      *rule = g_strdup (_("the crop scale MIN,MAX must satisfy 0 < MIN <= "
                          "MAX <= 1"));
      *value = g_strdup_printf ("%g,%g", (double) c->crop_scale_min,
                                (double) c->crop_scale_max);
      return TRUE;
    }
  if (g_str_equal (key, "lr_drops"))
    {
      *holds = TRUE;
      g_autoptr (GString) list = g_string_new (NULL);
      for (int i = 0; i < c->n_lr_drops; i++)
        {
          if (c->lr_drops[i] < 0
              || (i > 0 && c->lr_drops[i] <= c->lr_drops[i - 1]))
            *holds = FALSE;
          g_string_append_printf (list, i ? ",%d" : "%d", c->lr_drops[i]);
        }
      *rule = g_strdup (_("the learning-rate drops must be epochs from 0 up, "
                          "in increasing order"));
      *value = g_string_free (g_steal_pointer (&list), FALSE);
      return TRUE;
    }
  return FALSE;
}

static gboolean
is_objective_setting (const TrainerConfig *config, const char *setting)
{
  return config->objective
         && objective_class_uses_setting (config->objective, setting);
}

gboolean
trainer_config_check_setting (const TrainerConfig *config, const char *setting,
                              int n_images, const char *data_name,
                              GError **error)
{
  if (is_objective_setting (config, setting))
    return !config->objective->check
           || config->objective->check (config, MAX (n_images, 0),
                                        data_name ? data_name : "", error);
  gboolean holds;
  g_autofree char *rule = NULL, *value = NULL;
  if (!own_rule (config, setting, n_images, data_name, &holds, &rule, &value)
      || holds)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               /* Translators: a rule a setting breaks, then the value it
                * has: "the learning rate must be in [0, 10], not 20" */
               _("%s, not %s"), rule, value);
  return FALSE;
}

char *
trainer_config_describe_rule (const TrainerConfig *config, const char *setting,
                              int n_images, const char *data_name)
{
  gboolean holds;
  char *rule = NULL;
  g_autofree char *value = NULL;
  if (is_objective_setting (config, setting))
    return NULL;
  own_rule (config, setting, n_images, data_name, &holds, &rule, &value);
  return rule;
}

gboolean
trainer_config_check_input (const TrainerConfig *config, int channels,
                            int height, int width, const char *data_name,
                            GError **error)
{
  ResNetConfig net = config->model->network_config (channels, height, width,
                                                    config->low_dim);
  char why[256];
  if (resnet_config_validate (&net, why, sizeof why))
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s: %s",
               data_name, why);
  return FALSE;
}

/* in the order trainer_new has always reported them */
static const char *const settings_in_order[] = {
  "batch_size", "tau", "lr", "weight_decay", "momentum", "lr_drop_factor",
  "lr_drops", "bank_momentum", NULL /* the objective's */, "epochs",
  "crop_scale_min", "jitter", "proximal", "warmup_epochs",
};

gboolean
trainer_config_check (const TrainerConfig *config, const Dataset *data,
                      GError **error)
{
  if (!trainer_config_check_input (config, data->channels, data->height,
                                   data->width, data->name, error))
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (settings_in_order); i++)
    {
      if (settings_in_order[i])
        {
          if (!trainer_config_check_setting (config, settings_in_order[i],
                                             data->n, data->name, error))
            return FALSE;
        }
      else if (config->objective->check
               && !config->objective->check (config, data->n, data->name,
                                             error))
        return FALSE;
    }
  return TRUE;
}

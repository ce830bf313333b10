/* model.c: the registry of networks; see model.h. */
#define G_LOG_DOMAIN "instdisc-method"

#include "model.h"

#include <glib/gi18n-lib.h>

/* Every network, in the order --help and the New Training dialog list
 * them; the recipes (trainer.c) pick theirs by name. */
static const ModelClass registry[] = {
  {
    .name = "small",
    .label = N_("Small ResNet"),
    .summary = N_("widths 16–128"),
    .network_config = resnet_config_small,
  },
  {
    .name = "resnet18",
    .label = N_("ResNet-18"),
    .summary = N_("widths 64–512"),
    .network_config = resnet_config_resnet18,
  },
  /* The paper's ImageNet networks (torchvision's ResNets, engine/resnet.h):
   * made for 224 x 224 photographs, they take images from 17 x 17 up
   * (Fashion-MNIST's 28 x 28 leaves a 1 x 1 map for the pool) */
  {
    .name = "resnet18-imagenet",
    .label = N_("ResNet-18 (ImageNet)"),
    .summary = N_("torchvision’s, 7×7 stem and max pool, for 224×224 photos"),
    .network_config = resnet_config_resnet18_imagenet,
  },
  {
    .name = "resnet50-imagenet",
    .label = N_("ResNet-50 (ImageNet)"),
    .summary = N_("torchvision’s, bottleneck blocks, for 224×224 photos"),
    .network_config = resnet_config_resnet50_imagenet,
  },
};

guint
model_registry_size (void)
{
  return G_N_ELEMENTS (registry);
}

const ModelClass *
model_registry_get (guint i)
{
  g_return_val_if_fail (i < G_N_ELEMENTS (registry), NULL);
  return &registry[i];
}

const ModelClass *
model_registry_lookup (const char *name)
{
  for (guint i = 0; name && i < G_N_ELEMENTS (registry); i++)
    if (g_str_equal (registry[i].name, name))
      return &registry[i];
  return NULL;
}

guint
model_registry_index (const ModelClass *klass)
{
  for (guint i = 0; i < G_N_ELEMENTS (registry); i++)
    if (&registry[i] == klass)
      return i;
  g_return_val_if_reached (0);
}

char *
model_registry_names (void)
{
  GString *names = g_string_new (NULL);
  for (guint i = 0; i < G_N_ELEMENTS (registry); i++)
    g_string_append_printf (names, "%s%s", i ? ", " : "", registry[i].name);
  return g_string_free (names, FALSE);
}

const char *
model_class_get_label (const ModelClass *klass)
{
  return g_dgettext (GETTEXT_PACKAGE, klass->label);
}

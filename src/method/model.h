/* model.h: the networks a run can train, and the registry that lists them.
 *
 * A model is a name (config.ini's "model" and --model), a label for people
 * and the network configuration it builds for a data set's images; the
 * network itself is the engine's ResNet (engine/resnet.h). The command
 * line's --model and its help, config.ini, the New Training dialog and the
 * Training view all list or look up this registry, so a network is one
 * configuration function in the engine and one line in MODEL_REGISTRY
 * (model.c); docs/design.md, "Adding a network". */
#pragma once

#include <glib.h>

#include "resnet.h"

G_BEGIN_DECLS

typedef struct
{
  const char *name;      /* lower case, [a-z0-9_-], starting with a letter */
  const char *label;     /* for people, N_(): model_class_get_label */
  const char *summary;   /* one line for --help, N_(), without the name */
  /* the network for images of in_channels x height x width and
   * embeddings of low_dim (engine/resnet.h's resnet_config_*) */
  ResNetConfig (*network_config) (int in_channels, int height, int width,
                                  int low_dim);
} ModelClass;

/* The number of models, and the i-th in the order --help and the New
 * Training dialog list them. */
guint model_registry_size (void);
const ModelClass *model_registry_get (guint i);
/* The model called name, NULL when none is. */
const ModelClass *model_registry_lookup (const char *name);
/* klass's place in the registry. */
guint model_registry_index (const ModelClass *klass);
/* Every name, "small, resnet18, ...", for messages (free it). */
char *model_registry_names (void);

/* The label, translated. */
const char *model_class_get_label (const ModelClass *klass);

G_END_DECLS

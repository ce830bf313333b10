/* resnet.h: the reference CIFAR ResNet (models/resnet_cifar.py of the
 * reference code) for any input channels, image size and output dimension:
 *
 *   conv1 3x3 (C -> w0) - bn1 - relu
 *   layer1..layer4: blocks_per_stage BasicBlocks of widths w0..w3, the first
 *                   block of layers 2-4 with stride 2
 *   avg_pool2d(4) - flatten - linear (-> low_dim, with bias) - L2 normalise
 *
 * BasicBlock = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), shortcut
 * identity or conv1x1(stride) - bn when the shape changes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "batchnorm.h"
#include "conv.h"
#include "layers.h"
#include "rng.h"
#include "tensor-layout.h"

typedef struct
{
  int in_channels;
  int image_h, image_w;
  int widths[4];
  int blocks_per_stage[4];
  int low_dim;
} ResNetConfig;

/* ResNet-18 of the reference: widths 64/128/256/512, 2 blocks per stage */
ResNetConfig resnet_config_resnet18 (int in_channels, int image_h, int image_w,
                                     int low_dim);
/* the same shape at widths 16/32/64/128, for a laptop CPU */
ResNetConfig resnet_config_small (int in_channels, int image_h, int image_w,
                                  int low_dim);
/* Checks a configuration a user may have typed; on failure writes a reason
 * into `why` (a sentence) and returns false. */
bool resnet_config_validate (const ResNetConfig *config, char *why,
                             size_t why_len);

typedef struct
{
  Conv2d conv1, conv2, shortcut_conv;
  BatchNorm2d bn1, bn2, shortcut_bn;
  bool has_shortcut;
  int in_channels, out_channels, in_h, in_w, out_h, out_w;
  /* activations, channel-major (C, B, H, W) */
  float *conv1_out, *hidden;     /* conv1 output; relu(bn1(.)) */
  float *conv2_out, *bn2_out;
  float *shortcut_conv_out, *shortcut_out;
  float *out;                    /* relu(bn2_out + shortcut) */
  const float *inp;
} BasicBlock;

typedef struct
{
  ResNetConfig config;
  int max_batch;

  /* Every trainable parameter in one flat block, its gradient in another
   * (so an optimizer or an all-reduce sees one array), and the state_dict
   * view of parameters and buffers in reference order. */
  float *params;
  float *grads;
  size_t n_params;
  StateEntry *state;
  int n_state;

  Conv2d conv1;
  BatchNorm2d bn1;
  BasicBlock *blocks;
  int n_blocks;
  Linear linear;
  int pool_kernel;            /* 4, as avg_pool2d(out, 4) */
  int feature_hw;             /* h*w after pooling */
  int features;               /* linear's input size */

  /* activations */
  float *input;               /* (C, B, H, W) the images, transposed in */
  float *stem_conv_out, *stem_out;
  float *pooled;              /* (C, B, ph, pw) */
  float *flat;                /* (B, F) */
  float *linear_out;          /* (B, D) */
  float *norms;               /* (B) */
  float *embedding;           /* (B, D) unit rows */

  /* backward scratch, each as large as the largest activation */
  float *scratch[4];
  size_t scratch_floats;
  Workspace workspace;
} ResNet;

/* Builds the network for batches of up to max_batch images; parameters are
 * zero until resnet_init_parameters or a checkpoint load. NULL when memory
 * runs out. */
ResNet *resnet_new (const ResNetConfig *config, int max_batch);
void resnet_free (ResNet *self);

/* PyTorch's default initialisation: conv and linear weights
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform with a = sqrt(5)),
 * linear bias the same bound, BN weight 1 and bias 0, running mean 0 and
 * variance 1. */
void resnet_init_parameters (ResNet *self, Rng *rng);

/* images (B, C, H, W) -> returns the embedding (B, D), owned by the network
 * and valid until the next forward. Training mode uses and updates batch
 * statistics. */
const float *resnet_forward (ResNet *self, const float *images, int batch,
                             bool training);

/* d_embedding (B, D) -> self->grads (written) for the last training forward.
 * d_embedding is not modified. */
/* ... and, unless d_images is NULL, the gradient w.r.t. the images
 * (B, C, H, W). */
void resnet_backward (ResNet *self, const float *d_embedding, int batch,
                      float *d_images);

/* The buffers a training forward changes (BN running statistics and
 * num_batches_tracked), as one block of resnet_buffers_size bytes: a step
 * that is refused after its forward puts them back as they were. */
size_t resnet_buffers_size (const ResNet *self);
void resnet_save_buffers (const ResNet *self, void *block);
void resnet_restore_buffers (ResNet *self, const void *block);

/* The state_dict entry with this name, or NULL. */
StateEntry *resnet_find_state (ResNet *self, const char *name);

/* Forward multiply-adds times two for one image (for GFLOP/s reports). */
double resnet_forward_flops (const ResNet *self);

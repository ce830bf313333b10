/* resnet.h: the residual networks of the reference code, for any input
 * channels, image size and output dimension. Two stems and two blocks:
 *
 * The CIFAR ResNet (models/resnet_cifar.py of the reference code):
 *   conv1 3x3 (C -> w0) - bn1 - relu
 *   layer1..layer4: blocks_per_stage BasicBlocks of widths w0..w3, the first
 *                   block of layers 2-4 with stride 2
 *   avg_pool2d(4) - flatten - linear (-> low_dim, with bias) - L2 normalise
 *
 * The ImageNet ResNets (models/resnet.py of the reference code, which is
 * torchvision's ResNet with num_classes = low_dim):
 *   conv1 7x7 stride 2 padding 3 (C -> 64) - bn1 - relu - maxpool 3/2/1
 *   layer1..layer4 as above, BasicBlocks (ResNet-18, 34) or Bottlenecks
 *                   (ResNet-50, 101, 152)
 *   adaptive average pool to 1x1 - flatten - fc (-> low_dim, with bias)
 *   - L2 normalise
 * so an image is downsampled 32 times (224 -> 7) where the CIFAR net's is 8
 * times (32 -> 4).
 *
 * BasicBlock = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), both
 * convolutions 3x3, conv1 with the block's stride; output width w.
 * Bottleneck = relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x))))))))
 * + shortcut(x)): conv1 1x1 (-> w), conv2 3x3 with the block's stride (as
 * torchvision's "ResNet v1.5"), conv3 1x1 (-> 4w); output width 4w.
 * The shortcut is the identity, or conv1x1(stride) - bn when the shape
 * changes.
 *
 * State-dict names are each original's: the CIFAR net's shortcut is
 * "layerS.B.shortcut.0/1" and its head "linear", torchvision's
 * "layerS.B.downsample.0/1" and "fc"; so a checkpoint of an ImageNet net
 * loads into torchvision.models.resnet50(num_classes=128) with strict=True.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "batchnorm.h"
#include "conv.h"
#include "layers.h"
#include "rng.h"
#include "tensor-layout.h"

typedef enum
{
  RESNET_STEM_CIFAR,       /* conv 3x3 stride 1, no pooling; avg_pool2d(4) */
  RESNET_STEM_IMAGENET,    /* conv 7x7 stride 2, max pool 3/2/1; global
                            * average pool */
} ResNetStem;

typedef enum
{
  RESNET_BLOCK_BASIC,      /* two 3x3 convolutions, output width w */
  RESNET_BLOCK_BOTTLENECK, /* 1x1, 3x3, 1x1, output width 4w */
} ResNetBlockKind;

typedef struct
{
  int in_channels;
  int image_h, image_w;
  int widths[4];            /* per stage; a bottleneck's inner width */
  int blocks_per_stage[4];
  int low_dim;
  /* zero (a configuration written before these existed) is the CIFAR net */
  ResNetStem stem;
  ResNetBlockKind block;
} ResNetConfig;

/* ResNet-18 of the reference: widths 64/128/256/512, 2 blocks per stage */
ResNetConfig resnet_config_resnet18 (int in_channels, int image_h, int image_w,
                                     int low_dim);
/* the same shape at widths 16/32/64/128, for a laptop CPU */
ResNetConfig resnet_config_small (int in_channels, int image_h, int image_w,
                                  int low_dim);
/* torchvision's resnet18 and resnet50 (ImageNet stem, BasicBlock [2, 2, 2, 2]
 * and Bottleneck [3, 4, 6, 3], widths 64/128/256/512), fc to low_dim */
ResNetConfig resnet_config_resnet18_imagenet (int in_channels, int image_h,
                                              int image_w, int low_dim);
ResNetConfig resnet_config_resnet50_imagenet (int in_channels, int image_h,
                                              int image_w, int low_dim);
/* channels a block of stage width w puts out: w, or 4w for a bottleneck */
int resnet_block_out_channels (const ResNetConfig *config, int width);
/* Checks a configuration a user may have typed; on failure writes a reason
 * into `why` (a sentence) and returns false. */
bool resnet_config_validate (const ResNetConfig *config, char *why,
                             size_t why_len);

/* One residual block, basic or bottleneck (above). */
typedef struct
{
  ResNetBlockKind kind;
  Conv2d conv1, conv2, conv3, shortcut_conv;    /* conv3: bottleneck only */
  BatchNorm2d bn1, bn2, bn3, shortcut_bn;
  bool has_shortcut;
  int in_channels, mid_channels, out_channels, in_h, in_w, out_h, out_w;
  /* a training forward's activations, channel-major (C, B, H, W), for the
   * network's max_training_batch (NULL in one that only evaluates) */
  float *conv1_out, *hidden;     /* conv1 output; relu(bn1(.)) */
  float *conv2_out;
  float *hidden2;                /* bottleneck: relu(bn2(conv2_out)) */
  float *conv3_out;              /* bottleneck */
  float *shortcut_conv_out;
  /* relu(bn(last conv) + shortcut): the last BN writes here and the sum
   * is taken in place. Neither that BN's output nor the shortcut's BN
   * output is kept, since backward reads neither (the shortcut's goes
   * through the network's scratch) */
  float *out;
  const float *inp;
} ResidualBlock;

/* resnet_set_gradient_hook: grads[first, n_params) hold their final
 * values */
typedef void (*ResNetGradientHook) (void *data, size_t first);

typedef struct
{
  ResNetConfig config;
  int max_batch;              /* the largest batch of any forward */
  int max_training_batch;     /* of a training forward; 0: evaluation only */

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
  ResidualBlock *blocks;
  int n_blocks;
  Linear linear;              /* "linear" (CIFAR) or "fc" (ImageNet) */
  int pool_kernel;            /* 4, as avg_pool2d(out, 4); 0: global average */
  int feature_hw;             /* h*w after pooling */
  int features;               /* linear's input size */
  /* the ImageNet stem's max pool, from the stem's (h, w) to (h, w) */
  int stem_pool_h, stem_pool_w;

  /* activations; the stem's and the blocks' for max_training_batch images
   * (NULL when 0), the rest for max_batch */
  float *input;               /* (C, B, H, W) the images, transposed in */
  float *stem_conv_out, *stem_out;
  float *stem_pool_out;       /* ImageNet: (w0, B, ph, pw) max-pooled stem */
  int32_t *stem_pool_argmax;  /* and the input each output took */
  float *pooled;              /* (C, B, ph, pw) */
  float *flat;                /* (B, F) */
  float *linear_out;          /* (B, D) */
  float *norms;               /* (B) */
  float *embedding;           /* (B, D) unit rows */

  /* backward scratch, and an evaluation forward's maps: each as large as
   * the largest activation of max_batch images */
  float *scratch[4];
  size_t scratch_floats;
  Workspace workspace;

  /* resnet_set_gradient_hook's */
  ResNetGradientHook gradient_hook;
  void *gradient_hook_data;
} ResNet;

/* Builds the network for batches of up to max_batch images; parameters are
 * zero until resnet_init_parameters or a checkpoint load. NULL when memory
 * runs out. */
ResNet *resnet_new (const ResNetConfig *config, int max_batch);
/* The same, with training forwards (and so backwards) limited to
 * max_training_batch <= max_batch images, 0 for a network that only
 * evaluates. A training forward keeps every activation for the backward;
 * an evaluation forward passes its maps through four buffers of the largest
 * map instead. So a network that trains at 128 and evaluates at 256 holds
 * the activations of 128 images, and one that only evaluates holds four
 * maps. */
ResNet *resnet_new_sized (const ResNetConfig *config, int max_batch,
                          int max_training_batch);
void resnet_free (ResNet *self);

/* Each original's initialisation. The CIFAR net has PyTorch's defaults:
 * conv and linear weights U(-1/sqrt(fan_in), 1/sqrt(fan_in))
 * (kaiming_uniform with a = sqrt(5)), linear bias the same bound. The
 * ImageNet nets draw conv weights from N(0, 2 / (k * k * out_channels)), as
 * torchvision (kaiming_normal, fan_out, relu) and the reference's
 * models/resnet.py do, and keep PyTorch's default for fc. Both: BN weight 1
 * and bias 0, running mean 0 and variance 1. */
void resnet_init_parameters (ResNet *self, Rng *rng);

/* images (B, C, H, W) -> returns the embedding (B, D), owned by the network
 * and valid until the next forward. Training mode uses and updates batch
 * statistics. */
const float *resnet_forward (ResNet *self, const float *images, int batch,
                             bool training);

/* d_embedding (B, D) -> self->grads (written) for the last training forward,
 * with no evaluation forward since. d_embedding is not modified. */
/* ... and, unless d_images is NULL, the gradient w.r.t. the images
 * (B, C, H, W). */
void resnet_backward (ResNet *self, const float *d_embedding, int batch,
                      float *d_images);

/* Called by resnet_backward each time a tail of the gradient block,
 * grads[first, n_params), has its final values: after the head, after each
 * residual block from the last one back, and last with first = 0. The
 * parameters lie in state_dict order, so backward finishes them from the
 * end of the block towards its start. A caller that sends the gradient
 * elsewhere (data-parallel training sums it over processes,
 * docs/distributed.md) starts on the finished part while the rest is
 * computed. Called on the thread that called resnet_backward, between
 * kernels. NULL: none. */
void resnet_set_gradient_hook (ResNet *self, ResNetGradientHook hook,
                               void *data);

/* Every batch norm's statistics per group of B / groups images in training
 * mode (batchnorm.h: what `groups` processes that each hold one group
 * compute); training batches must then be multiples of groups. 1 is plain
 * batch norm. Returns false on out-of-memory (the groups are then mixed:
 * set them again). */
bool resnet_set_batch_norm_groups (ResNet *self, int groups);

/* The buffers a training forward changes (BN running statistics and
 * num_batches_tracked), as one block of resnet_buffers_size bytes: a step
 * that is refused after its forward puts them back as they were. */
size_t resnet_buffers_size (const ResNet *self);
void resnet_save_buffers (const ResNet *self, void *block);
void resnet_restore_buffers (ResNet *self, const void *block);

/* The state_dict entry with this name, or NULL. */
StateEntry *resnet_find_state (ResNet *self, const char *name);

/* Forward multiply-adds times two for one image (for GFLOP/s reports):
 * every convolution and the linear layer. Batch norm, ReLU and the pools
 * (comparisons and additions, not multiply-adds) are not counted. */
double resnet_forward_flops (const ResNet *self);

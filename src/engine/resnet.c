/* resnet.c: building, initialising, and running the reference's ResNets,
 * CIFAR and ImageNet (resnet.h). Activations are channel-major
 * (tensor-layout.h). */
#include "resnet.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "threads.h"

ResNetConfig
resnet_config_resnet18 (int in_channels, int image_h, int image_w, int low_dim)
{
  ResNetConfig config = {
    .in_channels = in_channels, .image_h = image_h, .image_w = image_w,
    .widths = { 64, 128, 256, 512 }, .blocks_per_stage = { 2, 2, 2, 2 },
    .low_dim = low_dim,
  };
  return config;
}

ResNetConfig
resnet_config_small (int in_channels, int image_h, int image_w, int low_dim)
{
  ResNetConfig config = resnet_config_resnet18 (in_channels, image_h, image_w,
                                                low_dim);
  for (int s = 0; s < 4; s++)
    config.widths[s] /= 4;
  return config;
}

ResNetConfig
resnet_config_resnet18_imagenet (int in_channels, int image_h, int image_w,
                                 int low_dim)
{
  ResNetConfig config = resnet_config_resnet18 (in_channels, image_h, image_w,
                                                low_dim);
  config.stem = RESNET_STEM_IMAGENET;
  return config;
}

ResNetConfig
resnet_config_resnet50_imagenet (int in_channels, int image_h, int image_w,
                                 int low_dim)
{
  ResNetConfig config = {
    .in_channels = in_channels, .image_h = image_h, .image_w = image_w,
    .widths = { 64, 128, 256, 512 }, .blocks_per_stage = { 3, 4, 6, 3 },
    .low_dim = low_dim, .stem = RESNET_STEM_IMAGENET,
    .block = RESNET_BLOCK_BOTTLENECK,
  };
  return config;
}

int
resnet_block_out_channels (const ResNetConfig *config, int width)
{
  return config->block == RESNET_BLOCK_BOTTLENECK ? 4 * width : width;
}

/* The ImageNet stem's geometry, the same for every ResNet */
enum
{
  STEM_KERNEL = 7, STEM_STRIDE = 2, STEM_PADDING = 3,
  STEM_POOL_KERNEL = 3, STEM_POOL_STRIDE = 2, STEM_POOL_PADDING = 1,
};

/* spatial size after a 3x3 convolution with padding 1 and this stride (and
 * after a 1x1 with padding 0: the same) */
static int
conv3x3_out (int size, int stride)
{
  return (size + 2 - 3) / stride + 1;
}

/* spatial size after the stem: the map layer1 sees */
static int
layer1_input_size (const ResNetConfig *config, int size)
{
  if (config->stem == RESNET_STEM_CIFAR)
    return size;
  size = (size + 2 * STEM_PADDING - STEM_KERNEL) / STEM_STRIDE + 1;
  return maxpool2d_out_size (size, STEM_POOL_KERNEL, STEM_POOL_STRIDE,
                             STEM_POOL_PADDING);
}

/* The smallest ImageNet image: layer4 must start from at least 2x2, so
 * that its stride-2 convolutions still have something to halve (at 16x16
 * it would start from 1x1, a map of padding around one pixel). 28x28
 * (Fashion-MNIST) leaves 1x1 for the pool, 224x224 7x7. */
#define IMAGENET_MIN_LAYER4_IN 2

bool
resnet_config_validate (const ResNetConfig *config, char *why, size_t why_len)
{
  if (config->in_channels < 1 || config->in_channels > 64)
    {
      snprintf (why, why_len, "input channels must be 1 to 64, not %d",
                config->in_channels);
      return false;
    }
  if (config->low_dim < 1 || config->low_dim > 65536)
    {
      snprintf (why, why_len, "output dimension must be 1 to 65536, not %d",
                config->low_dim);
      return false;
    }
  if ((config->stem != RESNET_STEM_CIFAR
       && config->stem != RESNET_STEM_IMAGENET)
      || (config->block != RESNET_BLOCK_BASIC
          && config->block != RESNET_BLOCK_BOTTLENECK))
    {
      snprintf (why, why_len, "unknown stem (%d) or block kind (%d)",
                (int) config->stem, (int) config->block);
      return false;
    }
  for (int s = 0; s < 4; s++)
    if (config->widths[s] < 1 || config->blocks_per_stage[s] < 1
        || config->widths[s] > 4096)
      {
        snprintf (why, why_len, "stage %d needs a positive width (at most "
                  "4096) and block count", s + 1);
        return false;
      }
  if (config->image_h > 4096 || config->image_w > 4096)
    {
      snprintf (why, why_len, "images of %dx%d are too large (4096x4096 at "
                "most)", config->image_w, config->image_h);
      return false;
    }
  if (config->stem == RESNET_STEM_IMAGENET)
    {
      int h = layer1_input_size (config, config->image_h);
      int w = layer1_input_size (config, config->image_w);
      for (int s = 1; s < 3; s++)
        {
          h = conv3x3_out (h, 2);
          w = conv3x3_out (w, 2);
        }
      if (config->image_h < 1 || config->image_w < 1
          || h < IMAGENET_MIN_LAYER4_IN || w < IMAGENET_MIN_LAYER4_IN)
        {
          snprintf (why, why_len,
                    "images of %dx%d are too small for an ImageNet ResNet: "
                    "its 32x downsampling needs at least 17x17 (layer4 must "
                    "start from 2x2 or more; 224x224 is its natural size)",
                    config->image_w, config->image_h);
          return false;
        }
      return true;
    }
  int h = config->image_h, w = config->image_w;
  for (int s = 1; s < 4; s++)
    {
      h = conv3x3_out (h, 2);
      w = conv3x3_out (w, 2);
    }
  if (config->image_h < 1 || config->image_w < 1 || h < 4 || w < 4
      || config->image_h > 4096 || config->image_w > 4096)
    {
      snprintf (why, why_len,
                "images of %dx%d are too small: the last stage must be at "
                "least 4x4 for the reference's avg_pool2d(4) (25x25 or larger)",
                config->image_w, config->image_h);
      return false;
    }
  return true;
}

/* ---- the state_dict table ---- */

/* Where a parameter's value and gradient pointers live inside its layer, so
 * that they can be pointed into the flat blocks once their size is known. */
typedef struct
{
  float **value;
  float **grad;
} ParamSlot;

typedef struct
{
  ResNet *net;
  ParamSlot *slots;     /* one per state entry; NULL value for buffers */
  int capacity;
} StateBuilder;

static StateEntry *
builder_add (StateBuilder *b, const char *prefix, const char *name, DType dtype,
             int ndim, const int64_t *shape)
{
  ResNet *net = b->net;
  ENGINE_CHECK (net->n_state < b->capacity);
  StateEntry *e = &net->state[net->n_state];
  b->slots[net->n_state] = (ParamSlot) { NULL, NULL };
  net->n_state++;
  int len = snprintf (e->name, sizeof e->name, "%s%s", prefix, name);
  ENGINE_CHECK (len > 0 && (size_t) len < sizeof e->name);
  e->dtype = dtype;
  e->ndim = ndim;
  e->numel = 1;
  for (int d = 0; d < ndim; d++)
    {
      e->shape[d] = shape[d];
      e->numel *= (size_t) shape[d];
    }
  return e;
}

static void
add_param (StateBuilder *b, const char *prefix, const char *name, int ndim,
           const int64_t *shape, float **value, float **grad)
{
  StateEntry *e = builder_add (b, prefix, name, DTYPE_F32, ndim, shape);
  e->trainable = 1;
  b->slots[b->net->n_state - 1] = (ParamSlot) { value, grad };
  b->net->n_params += e->numel;
}

static void
add_conv (StateBuilder *b, const char *prefix, Conv2d *conv)
{
  int64_t shape[4] = { conv->out_channels, conv->in_channels, conv->kernel,
                       conv->kernel };
  add_param (b, prefix, "weight", 4, shape, &conv->weight, &conv->grad_weight);
}

static void
add_batchnorm (StateBuilder *b, const char *prefix, BatchNorm2d *bn)
{
  int64_t shape[1] = { bn->channels };
  add_param (b, prefix, "weight", 1, shape, &bn->weight, &bn->grad_weight);
  add_param (b, prefix, "bias", 1, shape, &bn->bias, &bn->grad_bias);
  builder_add (b, prefix, "running_mean", DTYPE_F32, 1, shape)->data
      = bn->running_mean;
  builder_add (b, prefix, "running_var", DTYPE_F32, 1, shape)->data
      = bn->running_var;
  builder_add (b, prefix, "num_batches_tracked", DTYPE_I64, 0, NULL)->data
      = &bn->num_batches_tracked;
}

/* ---- construction ---- */

/* A block of stage width `width` (resnet.h): basic, conv1 3x3 with the
 * stride then conv2 3x3; bottleneck, conv1 1x1, conv2 3x3 with the stride,
 * conv3 1x1 to 4 x width. */
static bool
block_init (ResidualBlock *block, ResNetBlockKind kind, int in_channels,
            int width, int stride, int in_h, int in_w)
{
  memset (block, 0, sizeof *block);
  block->kind = kind;
  block->in_channels = in_channels;
  block->mid_channels = width;
  block->in_h = in_h;
  block->in_w = in_w;
  bool ok;
  if (kind == RESNET_BLOCK_BOTTLENECK)
    {
      block->out_channels = 4 * width;
      conv2d_init (&block->conv1, in_channels, width, 1, 1, 0, in_h, in_w);
      conv2d_init (&block->conv2, width, width, 3, stride, 1, in_h, in_w);
      block->out_h = block->conv2.out_h;
      block->out_w = block->conv2.out_w;
      conv2d_init (&block->conv3, width, block->out_channels, 1, 1, 0,
                   block->out_h, block->out_w);
      int out_spatial = block->out_h * block->out_w;
      ok = batchnorm2d_init (&block->bn1, width, in_h * in_w)
           && batchnorm2d_init (&block->bn2, width, out_spatial)
           && batchnorm2d_init (&block->bn3, block->out_channels, out_spatial);
    }
  else
    {
      block->out_channels = width;
      conv2d_init (&block->conv1, in_channels, width, 3, stride, 1, in_h,
                   in_w);
      block->out_h = block->conv1.out_h;
      block->out_w = block->conv1.out_w;
      conv2d_init (&block->conv2, width, width, 3, 1, 1, block->out_h,
                   block->out_w);
      int out_spatial = block->out_h * block->out_w;
      ok = batchnorm2d_init (&block->bn1, width, out_spatial)
           && batchnorm2d_init (&block->bn2, width, out_spatial);
    }
  block->has_shortcut = stride != 1 || in_channels != block->out_channels;
  if (block->has_shortcut)
    {
      conv2d_init (&block->shortcut_conv, in_channels, block->out_channels, 1,
                   stride, 0, in_h, in_w);
      ok = ok && batchnorm2d_init (&block->shortcut_bn, block->out_channels,
                                   block->out_h * block->out_w);
    }
  return ok;
}

/* floats of one convolution's output for this many images */
static size_t
conv_out_floats (const Conv2d *conv, int images)
{
  return (size_t) conv->out_channels * images * conv->out_h * conv->out_w;
}

static bool
block_alloc_activations (ResidualBlock *block, int max_batch)
{
  struct
  {
    float **buffer;
    const Conv2d *shape;   /* the buffer has this convolution's output shape */
    bool needed;
  } buffers[] = {
    { &block->conv1_out, &block->conv1, true },
    { &block->hidden, &block->conv1, true },
    { &block->conv2_out, &block->conv2, true },
    { &block->hidden2, &block->conv2, block->kind == RESNET_BLOCK_BOTTLENECK },
    { &block->conv3_out, &block->conv3, block->kind == RESNET_BLOCK_BOTTLENECK },
    { &block->shortcut_conv_out, &block->shortcut_conv, block->has_shortcut },
  };
  for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; i++)
    if (buffers[i].needed
        && !(*buffers[i].buffer
             = engine_alloc (sizeof (float)
                             * conv_out_floats (buffers[i].shape, max_batch))))
      return false;
  /* the block's output shape, whatever the kind */
  size_t n = (size_t) block->out_channels * max_batch * block->out_h
             * block->out_w;
  block->out = engine_alloc (sizeof (float) * n);
  return block->out != NULL;
}

static void
block_clear (ResidualBlock *block)
{
  batchnorm2d_clear (&block->bn1);
  batchnorm2d_clear (&block->bn2);
  batchnorm2d_clear (&block->bn3);
  batchnorm2d_clear (&block->shortcut_bn);
  float *buffers[] = { block->conv1_out, block->hidden, block->conv2_out,
                       block->hidden2, block->conv3_out,
                       block->shortcut_conv_out, block->out };
  for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; i++)
    engine_free (buffers[i]);
}

static size_t
max_size (size_t a, size_t b)
{
  return a > b ? a : b;
}

static size_t
conv_workspace (const Conv2d *conv, int max_batch)
{
  /* a chunk for every thread the engine runs when the network is built
   * (with more threads later, each gets a smaller chunk) */
  return conv2d_network_workspace_floats (conv, max_batch,
                                          engine_get_threads ());
}

ResNet *
resnet_new (const ResNetConfig *config, int max_batch)
{
  return resnet_new_sized (config, max_batch, max_batch);
}

ResNet *
resnet_new_sized (const ResNetConfig *config, int max_batch,
                  int max_training_batch)
{
  char why[256];
  ENGINE_CHECK (resnet_config_validate (config, why, sizeof why));
  ENGINE_CHECK (max_batch >= 1);
  ENGINE_CHECK (max_training_batch >= 0 && max_training_batch <= max_batch);

  ResNet *net = engine_alloc (sizeof *net);
  if (!net)
    return NULL;
  const bool imagenet = config->stem == RESNET_STEM_IMAGENET;
  net->config = *config;
  net->max_batch = max_batch;
  net->max_training_batch = max_training_batch;
  net->pool_kernel = imagenet ? 0 : 4;

  int n_blocks = 0;
  for (int s = 0; s < 4; s++)
    n_blocks += config->blocks_per_stage[s];
  net->n_blocks = n_blocks;
  net->blocks = engine_alloc (sizeof (ResidualBlock) * n_blocks);
  /* stem conv + BN (6) and linear (2); per block up to four convs with a
   * BN each, 6 entries apiece (a bottleneck with a shortcut) */
  int capacity = 8 + 24 * n_blocks;
  net->state = engine_alloc (sizeof (StateEntry) * capacity);
  StateBuilder builder = { net, engine_alloc (sizeof (ParamSlot) * capacity),
                           capacity };
  if (!net->blocks || !net->state || !builder.slots)
    goto oom;

  /* layers, registered in the order of the original's state_dict */
  const int H = config->image_h, W = config->image_w;
  if (imagenet)
    conv2d_init (&net->conv1, config->in_channels, config->widths[0],
                 STEM_KERNEL, STEM_STRIDE, STEM_PADDING, H, W);
  else
    conv2d_init (&net->conv1, config->in_channels, config->widths[0], 3, 1, 1,
                 H, W);
  const int stem_h = net->conv1.out_h, stem_w = net->conv1.out_w;
  if (!batchnorm2d_init (&net->bn1, config->widths[0], stem_h * stem_w))
    goto oom;
  add_conv (&builder, "conv1.", &net->conv1);
  add_batchnorm (&builder, "bn1.", &net->bn1);

  int channels = config->widths[0], h = stem_h, w = stem_w, b = 0;
  if (imagenet)
    {
      h = net->stem_pool_h = maxpool2d_out_size (stem_h, STEM_POOL_KERNEL,
                                                 STEM_POOL_STRIDE,
                                                 STEM_POOL_PADDING);
      w = net->stem_pool_w = maxpool2d_out_size (stem_w, STEM_POOL_KERNEL,
                                                 STEM_POOL_STRIDE,
                                                 STEM_POOL_PADDING);
    }
  /* the largest activation of one image, which backward's scratch holds */
  size_t largest = max_size ((size_t) config->in_channels * H * W,
                             (size_t) config->widths[0] * stem_h * stem_w);
  size_t workspace = conv_workspace (&net->conv1, max_batch);
  const char *shortcut_name = imagenet ? "downsample" : "shortcut";
  for (int s = 0; s < 4; s++)
    for (int i = 0; i < config->blocks_per_stage[s]; i++, b++)
      {
        ResidualBlock *block = &net->blocks[b];
        int stride = (s > 0 && i == 0) ? 2 : 1;
        if (!block_init (block, config->block, channels, config->widths[s],
                         stride, h, w))
          goto oom;
        struct
        {
          const char *name;
          Conv2d *conv;
          BatchNorm2d *bn;
        } layers[] = {
          { "1", &block->conv1, &block->bn1 },
          { "2", &block->conv2, &block->bn2 },
          { "3", &block->conv3, &block->bn3 },
        };
        const int n_layers = block->kind == RESNET_BLOCK_BOTTLENECK ? 3 : 2;
        char name[64];
        for (int l = 0; l < n_layers; l++)
          {
            snprintf (name, sizeof name, "layer%d.%d.conv%s.", s + 1, i,
                      layers[l].name);
            add_conv (&builder, name, layers[l].conv);
            snprintf (name, sizeof name, "layer%d.%d.bn%s.", s + 1, i,
                      layers[l].name);
            add_batchnorm (&builder, name, layers[l].bn);
            workspace = max_size (workspace, conv_workspace (layers[l].conv,
                                                             max_batch));
            largest = max_size (largest, conv_out_floats (layers[l].conv, 1));
          }
        if (block->has_shortcut)
          {
            snprintf (name, sizeof name, "layer%d.%d.%s.0.", s + 1, i,
                      shortcut_name);
            add_conv (&builder, name, &block->shortcut_conv);
            snprintf (name, sizeof name, "layer%d.%d.%s.1.", s + 1, i,
                      shortcut_name);
            add_batchnorm (&builder, name, &block->shortcut_bn);
            workspace = max_size (workspace,
                                  conv_workspace (&block->shortcut_conv,
                                                  max_batch));
          }
        channels = block->out_channels;
        h = block->out_h;
        w = block->out_w;
        largest = max_size (largest, (size_t) channels * h * w);
      }

  if (imagenet)
    {
      net->feature_hw = 1;
      net->features = channels;
    }
  else
    {
      int ph = h / net->pool_kernel, pw = w / net->pool_kernel;
      net->feature_hw = ph * pw;
      net->features = channels * ph * pw;
    }
  largest = max_size (largest, (size_t) net->features);
  largest = max_size (largest, (size_t) config->low_dim);
  linear_init (&net->linear, net->features, config->low_dim);
  {
    const char *head = imagenet ? "fc." : "linear.";
    int64_t wshape[2] = { config->low_dim, net->features };
    int64_t bshape[1] = { config->low_dim };
    add_param (&builder, head, "weight", 2, wshape, &net->linear.weight,
               &net->linear.grad_weight);
    add_param (&builder, head, "bias", 1, bshape, &net->linear.bias,
               &net->linear.grad_bias);
  }

  /* the flat parameter and gradient blocks, then every pointer into them */
  net->params = engine_alloc (sizeof (float) * net->n_params);
  net->grads = engine_alloc (sizeof (float) * net->n_params);
  if (!net->params || !net->grads)
    goto oom;
  size_t offset = 0;
  for (int i = 0; i < net->n_state; i++)
    {
      StateEntry *e = &net->state[i];
      if (!e->trainable)
        continue;
      e->data = net->params + offset;
      e->grad = net->grads + offset;
      *builder.slots[i].value = net->params + offset;
      *builder.slots[i].grad = net->grads + offset;
      offset += e->numel;
    }
  ENGINE_CHECK (offset == net->n_params);
  engine_free (builder.slots);
  builder.slots = NULL;

  /* what every forward writes, for max_batch images */
  size_t B = max_batch;
  net->input = engine_alloc (sizeof (float) * config->in_channels * B * H * W);
  net->pooled = engine_alloc (sizeof (float) * net->features * B);
  net->flat = engine_alloc (sizeof (float) * net->features * B);
  net->linear_out = engine_alloc (sizeof (float) * config->low_dim * B);
  net->embedding = engine_alloc (sizeof (float) * config->low_dim * B);
  net->norms = engine_alloc (sizeof (float) * B);
  if (!net->input || !net->pooled || !net->flat || !net->linear_out
      || !net->embedding || !net->norms)
    goto oom;
  /* what a training forward keeps for the backward, for max_training_batch */
  if (max_training_batch > 0)
    {
      size_t stem = conv_out_floats (&net->conv1, max_training_batch);
      net->stem_conv_out = engine_alloc (sizeof (float) * stem);
      net->stem_out = engine_alloc (sizeof (float) * stem);
      if (!net->stem_conv_out || !net->stem_out)
        goto oom;
      if (imagenet)
        {
          size_t pooled = (size_t) config->widths[0] * max_training_batch
                          * net->stem_pool_h * net->stem_pool_w;
          net->stem_pool_out = engine_alloc (sizeof (float) * pooled);
          net->stem_pool_argmax = engine_alloc (sizeof (int32_t) * pooled);
          if (!net->stem_pool_out || !net->stem_pool_argmax)
            goto oom;
        }
      for (int i = 0; i < n_blocks; i++)
        if (!block_alloc_activations (&net->blocks[i], max_training_batch))
          goto oom;
    }
  net->scratch_floats = largest * B;
  for (int i = 0; i < 4; i++)
    if (!(net->scratch[i] = engine_alloc (sizeof (float) * net->scratch_floats)))
      goto oom;
  net->workspace.n_floats = workspace;
  if (workspace > 0 && !(net->workspace.col = engine_alloc (sizeof (float) * workspace)))
    goto oom;
  return net;

oom:
  engine_free (builder.slots);
  resnet_free (net);
  return NULL;
}

void
resnet_free (ResNet *self)
{
  if (!self)
    return;
  batchnorm2d_clear (&self->bn1);
  if (self->blocks)
    for (int i = 0; i < self->n_blocks; i++)
      block_clear (&self->blocks[i]);
  engine_free (self->blocks);
  engine_free (self->state);
  engine_free (self->params);
  engine_free (self->grads);
  engine_free (self->input);
  engine_free (self->stem_conv_out);
  engine_free (self->stem_out);
  engine_free (self->stem_pool_out);
  engine_free (self->stem_pool_argmax);
  engine_free (self->pooled);
  engine_free (self->flat);
  engine_free (self->linear_out);
  engine_free (self->embedding);
  engine_free (self->norms);
  for (int i = 0; i < 4; i++)
    engine_free (self->scratch[i]);
  engine_free (self->workspace.col);
  engine_free (self);
}

StateEntry *
resnet_find_state (ResNet *self, const char *name)
{
  for (int i = 0; i < self->n_state; i++)
    if (strcmp (self->state[i].name, name) == 0)
      return &self->state[i];
  return NULL;
}

static size_t
state_entry_bytes (const StateEntry *e)
{
  return e->numel * (e->dtype == DTYPE_I64 ? sizeof (int64_t)
                                           : sizeof (float));
}

size_t
resnet_buffers_size (const ResNet *self)
{
  size_t bytes = 0;
  for (int i = 0; i < self->n_state; i++)
    if (!self->state[i].trainable)
      bytes += state_entry_bytes (&self->state[i]);
  return bytes;
}

void
resnet_save_buffers (const ResNet *self, void *block)
{
  char *to = block;
  for (int i = 0; i < self->n_state; i++)
    if (!self->state[i].trainable)
      {
        size_t bytes = state_entry_bytes (&self->state[i]);
        memcpy (to, self->state[i].data, bytes);
        to += bytes;
      }
}

void
resnet_restore_buffers (ResNet *self, const void *block)
{
  const char *from = block;
  for (int i = 0; i < self->n_state; i++)
    if (!self->state[i].trainable)
      {
        size_t bytes = state_entry_bytes (&self->state[i]);
        memcpy (self->state[i].data, from, bytes);
        from += bytes;
      }
}

static void
fill_uniform (float *x, size_t n, float bound, Rng *rng)
{
  for (size_t i = 0; i < n; i++)
    x[i] = (2.0f * rng_uniform (rng) - 1.0f) * bound;
}

void
resnet_init_parameters (ResNet *self, Rng *rng)
{
  const bool imagenet = self->config.stem == RESNET_STEM_IMAGENET;
  for (int i = 0; i < self->n_state; i++)
    {
      StateEntry *e = &self->state[i];
      const char *leaf = strrchr (e->name, '.') + 1;
      const bool head = e->data == self->linear.weight
                        || e->data == self->linear.bias;
      if (e->dtype == DTYPE_I64)
        *(int64_t *) e->data = 0;
      else if (strcmp (leaf, "running_mean") == 0)
        memset (e->data, 0, sizeof (float) * e->numel);
      else if (strcmp (leaf, "running_var") == 0)
        for (size_t j = 0; j < e->numel; j++)
          ((float *) e->data)[j] = 1.0f;
      else if (e->ndim == 1 && !head)
        {
          /* batch norm: weight 1, bias 0 */
          float value = strcmp (leaf, "weight") == 0 ? 1.0f : 0.0f;
          for (size_t j = 0; j < e->numel; j++)
            ((float *) e->data)[j] = value;
        }
      else if (imagenet && e->ndim == 4)
        {
          /* kaiming_normal, mode fan_out: std sqrt(2 / (OC * K * K)) */
          float std = sqrtf (2.0f / (float) (e->numel / (size_t) e->shape[1]));
          for (size_t j = 0; j < e->numel; j++)
            ((float *) e->data)[j] = std * rng_normal (rng);
        }
      else
        {
          /* conv / linear weight (fan_in = numel / out), and the linear
           * bias, whose bound uses the weight's fan_in */
          size_t fan_in = e->ndim > 1 ? e->numel / (size_t) e->shape[0]
                                      : (size_t) self->features;
          fill_uniform (e->data, e->numel, 1.0f / sqrtf ((float) fan_in), rng);
        }
    }
}

bool
resnet_set_batch_norm_groups (ResNet *self, int groups)
{
  bool ok = batchnorm2d_set_groups (&self->bn1, groups);
  for (int i = 0; i < self->n_blocks; i++)
    {
      ResidualBlock *block = &self->blocks[i];
      ok = batchnorm2d_set_groups (&block->bn1, groups) && ok;
      ok = batchnorm2d_set_groups (&block->bn2, groups) && ok;
      if (block->kind == RESNET_BLOCK_BOTTLENECK)
        ok = batchnorm2d_set_groups (&block->bn3, groups) && ok;
      if (block->has_shortcut)
        ok = batchnorm2d_set_groups (&block->shortcut_bn, groups) && ok;
    }
  return ok;
}

/* ---- forward ---- */

/* out = bn (conv (inp)), with the ReLU after it where relu; or, where
 * shortcut is not NULL, a residual block's last step, out = relu (bn (conv
 * (inp)) + shortcut) (relu must be true then). conv_out holds the
 * convolution's output for the backward. Training does the batch norm, the
 * sum and the ReLU in one pass over the convolution's output (batchnorm.h).
 * In evaluation mode all of it rides in the convolution's output pass
 * instead and conv_out is not written: one pass over the activations
 * fewer (docs/performance.md, "How it computes", "Evaluation"). */
static void
conv_bn_forward (Conv2d *conv, BatchNorm2d *bn, float *conv_out, float *out,
                 const float *inp, const float *shortcut, int batch,
                 bool training, bool relu, Workspace *ws)
{
  ENGINE_CHECK (!shortcut || relu);
  if (!training)
    {
      const float *scale, *shift;
      batchnorm2d_eval_affine (bn, &scale, &shift);
      conv2d_forward_affine (conv, out, inp, batch, ws, scale, shift,
                             shortcut, relu);
      return;
    }
  conv2d_forward (conv, conv_out, inp, batch, ws);
  if (shortcut)
    batchnorm2d_forward_add_relu (bn, out, conv_out, shortcut, batch,
                                  training);
  else if (relu)
    batchnorm2d_forward_relu (bn, out, conv_out, batch, training);
  else
    batchnorm2d_forward (bn, out, conv_out, batch, training);
}

/* A training forward through one block, keeping its maps for the
 * backward. shortcut_scratch holds the shortcut's BN output until the sum
 * (the block's output size); the shortcut goes first, so that the last
 * batch norm can add it in its own pass */
static void
block_forward_training (ResidualBlock *block, const float *inp, int batch,
                        float *shortcut_scratch, Workspace *ws)
{
  block->inp = inp;
  conv_bn_forward (&block->conv1, &block->bn1, block->conv1_out,
                   block->hidden, inp, NULL, batch, true, true, ws);
  if (block->kind == RESNET_BLOCK_BOTTLENECK)
    conv_bn_forward (&block->conv2, &block->bn2, block->conv2_out,
                     block->hidden2, block->hidden, NULL, batch, true, true,
                     ws);
  const float *shortcut = inp;
  if (block->has_shortcut)
    {
      conv_bn_forward (&block->shortcut_conv, &block->shortcut_bn,
                       block->shortcut_conv_out, shortcut_scratch, inp, NULL,
                       batch, true, false, ws);
      shortcut = shortcut_scratch;
    }
  if (block->kind == RESNET_BLOCK_BOTTLENECK)
    conv_bn_forward (&block->conv3, &block->bn3, block->conv3_out,
                     block->out, block->hidden2, shortcut, batch, true, true,
                     ws);
  else
    conv_bn_forward (&block->conv2, &block->bn2, block->conv2_out,
                     block->out, block->hidden, shortcut, batch, true, true,
                     ws);
}

/* An evaluation forward keeps nothing for a backward, so a block's maps
 * pass through three free buffers of the network's scratch: its hidden map
 * (a bottleneck's two in turn), its shortcut's output, and its output,
 * which goes to spare[2]. */
static void
block_forward_eval (ResidualBlock *block, const float *inp, float *spare[3],
                    int batch, Workspace *ws)
{
  float *hidden = spare[0], *free_map = spare[1], *out = spare[2];
  conv_bn_forward (&block->conv1, &block->bn1, NULL, hidden, inp, NULL, batch,
                   false, true, ws);
  if (block->kind == RESNET_BLOCK_BOTTLENECK)
    {
      conv_bn_forward (&block->conv2, &block->bn2, NULL, free_map, hidden,
                       NULL, batch, false, true, ws);
      float *t = hidden;   /* conv1's map is spent */
      hidden = free_map;
      free_map = t;
    }
  const float *shortcut = inp;
  if (block->has_shortcut)
    {
      conv_bn_forward (&block->shortcut_conv, &block->shortcut_bn, NULL,
                       free_map, inp, NULL, batch, false, false, ws);
      shortcut = free_map;
    }
  Conv2d *last_conv = block->kind == RESNET_BLOCK_BOTTLENECK ? &block->conv3
                                                             : &block->conv2;
  BatchNorm2d *last_bn = block->kind == RESNET_BLOCK_BOTTLENECK ? &block->bn3
                                                                : &block->bn2;
  conv_bn_forward (last_conv, last_bn, NULL, out, hidden, shortcut, batch,
                   false, true, ws);
}

/* input -> the last block's output, keeping every map for the backward */
static const float *
trunk_forward_training (ResNet *self, int batch)
{
  const ResNetConfig *cfg = &self->config;
  conv_bn_forward (&self->conv1, &self->bn1, self->stem_conv_out,
                   self->stem_out, self->input, NULL, batch, true, true,
                   &self->workspace);
  const float *x = self->stem_out;
  if (cfg->stem == RESNET_STEM_IMAGENET)
    {
      maxpool2d_forward (self->stem_pool_out, self->stem_pool_argmax, x,
                         cfg->widths[0] * batch, self->conv1.out_h,
                         self->conv1.out_w, STEM_POOL_KERNEL,
                         STEM_POOL_STRIDE, STEM_POOL_PADDING);
      x = self->stem_pool_out;
    }
  for (int i = 0; i < self->n_blocks; i++)
    {
      block_forward_training (&self->blocks[i], x, batch, self->scratch[0],
                              &self->workspace);
      x = self->blocks[i].out;
    }
  return x;
}

/* input -> the last block's output, each map in one of the four scratch
 * buffers, written over once the next layer has read it */
static const float *
trunk_forward_eval (ResNet *self, int batch)
{
  const ResNetConfig *cfg = &self->config;
  int x = 0;   /* the scratch buffer holding the current map */
  conv_bn_forward (&self->conv1, &self->bn1, NULL, self->scratch[x],
                   self->input, NULL, batch, false, true, &self->workspace);
  if (cfg->stem == RESNET_STEM_IMAGENET)
    {
      maxpool2d_forward (self->scratch[1], NULL, self->scratch[x],
                         cfg->widths[0] * batch, self->conv1.out_h,
                         self->conv1.out_w, STEM_POOL_KERNEL,
                         STEM_POOL_STRIDE, STEM_POOL_PADDING);
      x = 1;
    }
  for (int i = 0; i < self->n_blocks; i++)
    {
      float *spare[3];
      for (int k = 0; k < 3; k++)
        spare[k] = self->scratch[(x + 1 + k) % 4];
      block_forward_eval (&self->blocks[i], self->scratch[x], spare, batch,
                          &self->workspace);
      x = (x + 3) % 4;   /* spare[2] */
    }
  return self->scratch[x];
}

const float *
resnet_forward (ResNet *self, const float *images, int batch, bool training)
{
  const ResNetConfig *cfg = &self->config;
  const int C = cfg->in_channels, HW = cfg->image_h * cfg->image_w;
  const ResidualBlock *last = &self->blocks[self->n_blocks - 1];
  ENGINE_CHECK (batch >= 1
                && batch <= (training ? self->max_training_batch
                                      : self->max_batch));
  /* BN's unbiased variance needs two values per channel, and the last
   * stage's maps are the smallest */
  ENGINE_CHECK (!training || batch >= 2 || last->out_h * last->out_w >= 2);

  /* images (B, C, H, W) -> input (C, B, H, W) */
  for (int n = 0; n < batch; n++)
    for (int c = 0; c < C; c++)
      memcpy (self->input + ((size_t) c * batch + n) * HW,
              images + ((size_t) n * C + c) * HW, sizeof (float) * HW);

  const float *x = training ? trunk_forward_training (self, batch)
                            : trunk_forward_eval (self, batch);

  if (self->pool_kernel == 0)
    global_avgpool_forward (self->pooled, x, last->out_channels * batch,
                            last->out_h * last->out_w);
  else
    avgpool_forward (self->pooled, x, last->out_channels * batch, last->out_h,
                     last->out_w, self->pool_kernel);
  flatten_forward (self->flat, self->pooled, last->out_channels, batch,
                   self->feature_hw);
  linear_forward (&self->linear, self->linear_out, self->flat, batch);
  l2norm_forward (self->embedding, self->norms, self->linear_out, batch,
                  cfg->low_dim);
  return self->embedding;
}

/* ---- backward ---- */

/* acc[i] += x[i] for i < n, split across the engine's threads */
typedef struct
{
  float *acc;
  const float *x;
  size_t n;
} AddTask;

static void
add_task (void *arg, int ith, int nth)
{
  const AddTask *task = arg;
  size_t lo, hi;
  engine_split (task->n, ith, nth, &lo, &hi);
  for (size_t i = lo; i < hi; i++)
    task->acc[i] += task->x[i];
}

static void
add_in_place (float *acc, const float *x, size_t n)
{
  const double t = engine_timer_start ();
  AddTask task = { acc, x, n };
  engine_parallel (add_task, &task);
  engine_timer_stop (ENGINE_TIMER_ELEMENTWISE, t);
}

/* dout (Cout, B, oh, ow) is consumed (overwritten); temp_a and temp_b are
 * scratch; dinp (Cin, B, ih, iw) receives the input gradient. */
static void
block_backward (ResidualBlock *block, float *dinp, float *dout, float *temp_a,
                float *temp_b, int batch, Workspace *ws)
{
  size_t n_out = (size_t) block->out_channels * batch * block->out_h
                 * block->out_w;
  size_t n_in = (size_t) block->in_channels * batch * block->in_h * block->in_w;
  float *g = dout;

  relu_backward (g, dout, block->out, n_out);   /* d(last BN's output + shortcut) */
  if (block->kind == RESNET_BLOCK_BOTTLENECK)
    {
      batchnorm2d_backward (&block->bn3, temp_a, g, batch); /* d conv3_out */
      conv2d_backward (&block->conv3, temp_b, temp_a, batch, ws); /* d hidden2 */
      /* through relu then bn2: d conv2_out */
      batchnorm2d_backward_relu (&block->bn2, temp_b, temp_b, batch);
    }
  else
    batchnorm2d_backward (&block->bn2, temp_b, g, batch); /* d conv2_out */
  conv2d_backward (&block->conv2, temp_a, temp_b, batch, ws); /* d hidden */
  /* through relu then bn1, fused: d conv1_out */
  batchnorm2d_backward_relu (&block->bn1, temp_a, temp_a, batch);
  conv2d_backward (&block->conv1, dinp, temp_a, batch, ws);

  if (block->has_shortcut)
    {
      batchnorm2d_backward (&block->shortcut_bn, temp_a, g, batch);
      conv2d_backward (&block->shortcut_conv, temp_b, temp_a, batch, ws);
      add_in_place (dinp, temp_b, n_in);
    }
  else
    add_in_place (dinp, g, n_in);
}

void
resnet_set_gradient_hook (ResNet *self, ResNetGradientHook hook, void *data)
{
  self->gradient_hook = hook;
  self->gradient_hook_data = data;
}

/* tells the hook that the gradients of the parameters from `first` (a
 * parameter's place in the flat block) to the block's end are final */
static void
gradient_done (ResNet *self, const float *first)
{
  if (self->gradient_hook)
    self->gradient_hook (self->gradient_hook_data,
                         (size_t) (first - self->params));
}

void
resnet_backward (ResNet *self, const float *d_embedding, int batch,
                 float *d_images)
{
  const ResNetConfig *cfg = &self->config;
  const ResidualBlock *last = &self->blocks[self->n_blocks - 1];
  float *s0 = self->scratch[0], *s1 = self->scratch[1];
  ENGINE_CHECK (batch >= 1 && batch <= self->max_training_batch);

  l2norm_backward (s0, d_embedding, self->embedding, self->norms, batch,
                   cfg->low_dim);                        /* d linear_out (B, D) */
  linear_backward (&self->linear, s1, s0, batch);        /* d flat (B, F) */
  flatten_backward (s0, s1, last->out_channels, batch, self->feature_hw);
  if (self->pool_kernel == 0)
    global_avgpool_backward (s1, s0, last->out_channels * batch,
                             last->out_h * last->out_w);
  else
    avgpool_backward (s1, s0, last->out_channels * batch, last->out_h,
                      last->out_w, self->pool_kernel);   /* d last block out */

  gradient_done (self, self->linear.weight);

  float *dout = s1, *dinp = s0;
  for (int i = self->n_blocks - 1; i >= 0; i--)
    {
      block_backward (&self->blocks[i], dinp, dout, self->scratch[2],
                      self->scratch[3], batch, &self->workspace);
      /* a block's parameters are contiguous, its first conv's weight first */
      gradient_done (self, self->blocks[i].conv1.weight);
      float *t = dout;
      dout = dinp;
      dinp = t;
    }

  if (cfg->stem == RESNET_STEM_IMAGENET)
    {
      /* d stem_out: each pooled gradient to the input it took */
      maxpool2d_backward (dinp, dout, self->stem_pool_argmax,
                          cfg->widths[0] * batch, self->conv1.out_h,
                          self->conv1.out_w, self->stem_pool_h,
                          self->stem_pool_w);
      float *t = dout;
      dout = dinp;
      dinp = t;
    }
  batchnorm2d_backward_relu (&self->bn1, dout, dout, batch);
  conv2d_backward (&self->conv1, d_images ? dinp : NULL, dout, batch,
                   &self->workspace);
  gradient_done (self, self->params);
  if (d_images)
    {
      /* (C, B, H, W) -> (B, C, H, W) */
      const int C = cfg->in_channels, HW = cfg->image_h * cfg->image_w;
      for (int n = 0; n < batch; n++)
        for (int c = 0; c < C; c++)
          memcpy (d_images + ((size_t) n * C + c) * HW,
                  dinp + ((size_t) c * batch + n) * HW, sizeof (float) * HW);
    }
}

static double
conv_flops (const Conv2d *conv)
{
  return 2.0 * conv->out_channels * conv->in_channels * conv->kernel
         * conv->kernel * conv->out_h * conv->out_w;
}

double
resnet_forward_flops (const ResNet *self)
{
  double flops = conv_flops (&self->conv1);
  for (int i = 0; i < self->n_blocks; i++)
    {
      const ResidualBlock *block = &self->blocks[i];
      flops += conv_flops (&block->conv1) + conv_flops (&block->conv2);
      if (block->kind == RESNET_BLOCK_BOTTLENECK)
        flops += conv_flops (&block->conv3);
      if (block->has_shortcut)
        flops += conv_flops (&block->shortcut_conv);
    }
  return flops + 2.0 * self->features * self->config.low_dim;
}

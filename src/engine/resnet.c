/* resnet.c: building, initialising, and running the reference CIFAR ResNet.
 * Activations are channel-major (tensor-layout.h). */
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

/* spatial size after a 3x3 convolution with padding 1 and this stride */
static int
conv3x3_out (int size, int stride)
{
  return (size + 2 - 3) / stride + 1;
}

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
  for (int s = 0; s < 4; s++)
    if (config->widths[s] < 1 || config->blocks_per_stage[s] < 1)
      {
        snprintf (why, why_len, "stage %d needs a positive width and block count",
                  s + 1);
        return false;
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

static bool
block_init (BasicBlock *block, int in_channels, int out_channels, int stride,
            int in_h, int in_w)
{
  memset (block, 0, sizeof *block);
  block->in_channels = in_channels;
  block->out_channels = out_channels;
  block->in_h = in_h;
  block->in_w = in_w;
  conv2d_init (&block->conv1, in_channels, out_channels, 3, stride, 1, in_h,
               in_w);
  block->out_h = block->conv1.out_h;
  block->out_w = block->conv1.out_w;
  conv2d_init (&block->conv2, out_channels, out_channels, 3, 1, 1,
               block->out_h, block->out_w);
  int spatial = block->out_h * block->out_w;
  bool ok = batchnorm2d_init (&block->bn1, out_channels, spatial)
            && batchnorm2d_init (&block->bn2, out_channels, spatial);
  block->has_shortcut = stride != 1 || in_channels != out_channels;
  if (block->has_shortcut)
    {
      conv2d_init (&block->shortcut_conv, in_channels, out_channels, 1, stride,
                   0, in_h, in_w);
      ok = ok && batchnorm2d_init (&block->shortcut_bn, out_channels, spatial);
    }
  return ok;
}

static bool
block_alloc_activations (BasicBlock *block, int max_batch)
{
  size_t n = (size_t) block->out_channels * max_batch * block->out_h
             * block->out_w;
  float **buffers[] = { &block->conv1_out, &block->hidden, &block->conv2_out,
                        &block->bn2_out, &block->out };
  for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; i++)
    if (!(*buffers[i] = engine_alloc (sizeof (float) * n)))
      return false;
  if (block->has_shortcut)
    {
      block->shortcut_conv_out = engine_alloc (sizeof (float) * n);
      block->shortcut_out = engine_alloc (sizeof (float) * n);
      if (!block->shortcut_conv_out || !block->shortcut_out)
        return false;
    }
  return true;
}

static void
block_clear (BasicBlock *block)
{
  batchnorm2d_clear (&block->bn1);
  batchnorm2d_clear (&block->bn2);
  batchnorm2d_clear (&block->shortcut_bn);
  engine_free (block->conv1_out);
  engine_free (block->hidden);
  engine_free (block->conv2_out);
  engine_free (block->bn2_out);
  engine_free (block->out);
  engine_free (block->shortcut_conv_out);
  engine_free (block->shortcut_out);
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
  char why[256];
  ENGINE_CHECK (resnet_config_validate (config, why, sizeof why));
  ENGINE_CHECK (max_batch >= 1);

  ResNet *net = engine_alloc (sizeof *net);
  if (!net)
    return NULL;
  net->config = *config;
  net->max_batch = max_batch;
  net->pool_kernel = 4;

  int n_blocks = 0;
  for (int s = 0; s < 4; s++)
    n_blocks += config->blocks_per_stage[s];
  net->n_blocks = n_blocks;
  net->blocks = engine_alloc (sizeof (BasicBlock) * n_blocks);
  /* stem conv + BN (6) and linear (2); per block up to three convs with a
   * BN each, 6 entries apiece, when the block has a shortcut */
  int capacity = 8 + 18 * n_blocks;
  net->state = engine_alloc (sizeof (StateEntry) * capacity);
  StateBuilder builder = { net, engine_alloc (sizeof (ParamSlot) * capacity),
                           capacity };
  if (!net->blocks || !net->state || !builder.slots)
    goto oom;

  /* layers, registered in the order of the reference's state_dict */
  const int H = config->image_h, W = config->image_w;
  conv2d_init (&net->conv1, config->in_channels, config->widths[0], 3, 1, 1, H,
               W);
  if (!batchnorm2d_init (&net->bn1, config->widths[0], H * W))
    goto oom;
  add_conv (&builder, "conv1.", &net->conv1);
  add_batchnorm (&builder, "bn1.", &net->bn1);

  int channels = config->widths[0], h = H, w = W, b = 0;
  size_t largest = (size_t) config->in_channels * H * W;
  size_t workspace = conv_workspace (&net->conv1, max_batch);
  for (int s = 0; s < 4; s++)
    for (int i = 0; i < config->blocks_per_stage[s]; i++, b++)
      {
        BasicBlock *block = &net->blocks[b];
        int stride = (s > 0 && i == 0) ? 2 : 1;
        if (!block_init (block, channels, config->widths[s], stride, h, w))
          goto oom;
        char prefix[48];
        snprintf (prefix, sizeof prefix, "layer%d.%d.", s + 1, i);
        char name[64];
        snprintf (name, sizeof name, "%sconv1.", prefix);
        add_conv (&builder, name, &block->conv1);
        snprintf (name, sizeof name, "%sbn1.", prefix);
        add_batchnorm (&builder, name, &block->bn1);
        snprintf (name, sizeof name, "%sconv2.", prefix);
        add_conv (&builder, name, &block->conv2);
        snprintf (name, sizeof name, "%sbn2.", prefix);
        add_batchnorm (&builder, name, &block->bn2);
        if (block->has_shortcut)
          {
            snprintf (name, sizeof name, "%sshortcut.0.", prefix);
            add_conv (&builder, name, &block->shortcut_conv);
            snprintf (name, sizeof name, "%sshortcut.1.", prefix);
            add_batchnorm (&builder, name, &block->shortcut_bn);
            workspace = max_size (workspace,
                                  conv_workspace (&block->shortcut_conv,
                                                  max_batch));
          }
        workspace = max_size (workspace, conv_workspace (&block->conv1, max_batch));
        workspace = max_size (workspace, conv_workspace (&block->conv2, max_batch));
        channels = block->out_channels;
        h = block->out_h;
        w = block->out_w;
        largest = max_size (largest, (size_t) channels * h * w);
      }
  largest = max_size (largest, (size_t) config->widths[0] * H * W);

  int ph = h / net->pool_kernel, pw = w / net->pool_kernel;
  net->feature_hw = ph * pw;
  net->features = channels * ph * pw;
  largest = max_size (largest, (size_t) net->features);
  largest = max_size (largest, (size_t) config->low_dim);
  linear_init (&net->linear, net->features, config->low_dim);
  {
    int64_t wshape[2] = { config->low_dim, net->features };
    int64_t bshape[1] = { config->low_dim };
    add_param (&builder, "linear.", "weight", 2, wshape, &net->linear.weight,
               &net->linear.grad_weight);
    add_param (&builder, "linear.", "bias", 1, bshape, &net->linear.bias,
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

  /* activations for max_batch images */
  size_t B = max_batch;
  size_t stem = (size_t) config->widths[0] * B * H * W;
  net->input = engine_alloc (sizeof (float) * config->in_channels * B * H * W);
  net->stem_conv_out = engine_alloc (sizeof (float) * stem);
  net->stem_out = engine_alloc (sizeof (float) * stem);
  net->pooled = engine_alloc (sizeof (float) * net->features * B);
  net->flat = engine_alloc (sizeof (float) * net->features * B);
  net->linear_out = engine_alloc (sizeof (float) * config->low_dim * B);
  net->embedding = engine_alloc (sizeof (float) * config->low_dim * B);
  net->norms = engine_alloc (sizeof (float) * B);
  if (!net->input || !net->stem_conv_out || !net->stem_out || !net->pooled
      || !net->flat || !net->linear_out || !net->embedding || !net->norms)
    goto oom;
  for (int i = 0; i < n_blocks; i++)
    if (!block_alloc_activations (&net->blocks[i], max_batch))
      goto oom;
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
  for (int i = 0; i < self->n_state; i++)
    {
      StateEntry *e = &self->state[i];
      const char *leaf = strrchr (e->name, '.') + 1;
      if (e->dtype == DTYPE_I64)
        *(int64_t *) e->data = 0;
      else if (strcmp (leaf, "running_mean") == 0)
        memset (e->data, 0, sizeof (float) * e->numel);
      else if (strcmp (leaf, "running_var") == 0)
        for (size_t j = 0; j < e->numel; j++)
          ((float *) e->data)[j] = 1.0f;
      else if (e->ndim == 1 && strncmp (e->name, "linear.", 7) != 0)
        {
          /* batch norm: weight 1, bias 0 */
          float value = strcmp (leaf, "weight") == 0 ? 1.0f : 0.0f;
          for (size_t j = 0; j < e->numel; j++)
            ((float *) e->data)[j] = value;
        }
      else
        {
          /* conv / linear weight (fan_in = numel / out), and linear.bias,
           * whose bound uses the weight's fan_in */
          size_t fan_in = e->ndim > 1 ? e->numel / (size_t) e->shape[0]
                                      : (size_t) self->features;
          fill_uniform (e->data, e->numel, 1.0f / sqrtf ((float) fan_in), rng);
        }
    }
}

/* ---- forward ---- */

static void
block_forward (BasicBlock *block, const float *inp, int batch, bool training,
               Workspace *ws)
{
  size_t n = (size_t) block->out_channels * batch * block->out_h * block->out_w;
  block->inp = inp;
  conv2d_forward (&block->conv1, block->conv1_out, inp, batch, ws);
  /* bn1 and its ReLU in one pass (batchnorm.h) */
  batchnorm2d_forward_relu (&block->bn1, block->hidden, block->conv1_out,
                            batch, training);
  conv2d_forward (&block->conv2, block->conv2_out, block->hidden, batch, ws);
  batchnorm2d_forward (&block->bn2, block->bn2_out, block->conv2_out, batch,
                       training);
  const float *shortcut = inp;
  if (block->has_shortcut)
    {
      conv2d_forward (&block->shortcut_conv, block->shortcut_conv_out, inp,
                      batch, ws);
      batchnorm2d_forward (&block->shortcut_bn, block->shortcut_out,
                           block->shortcut_conv_out, batch, training);
      shortcut = block->shortcut_out;
    }
  add_relu_forward (block->out, block->bn2_out, shortcut, n);
}

const float *
resnet_forward (ResNet *self, const float *images, int batch, bool training)
{
  const ResNetConfig *cfg = &self->config;
  const int C = cfg->in_channels, HW = cfg->image_h * cfg->image_w;
  ENGINE_CHECK (batch >= 1 && batch <= self->max_batch);
  /* BN's unbiased variance needs two values per channel */
  ENGINE_CHECK (!training || batch >= 2 || HW > 16);

  /* images (B, C, H, W) -> input (C, B, H, W) */
  for (int n = 0; n < batch; n++)
    for (int c = 0; c < C; c++)
      memcpy (self->input + ((size_t) c * batch + n) * HW,
              images + ((size_t) n * C + c) * HW, sizeof (float) * HW);

  conv2d_forward (&self->conv1, self->stem_conv_out, self->input, batch,
                  &self->workspace);
  batchnorm2d_forward_relu (&self->bn1, self->stem_out, self->stem_conv_out,
                            batch, training);

  const float *x = self->stem_out;
  for (int i = 0; i < self->n_blocks; i++)
    {
      block_forward (&self->blocks[i], x, batch, training, &self->workspace);
      x = self->blocks[i].out;
    }

  const BasicBlock *last = &self->blocks[self->n_blocks - 1];
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
block_backward (BasicBlock *block, float *dinp, float *dout, float *temp_a,
                float *temp_b, int batch, Workspace *ws)
{
  size_t n_out = (size_t) block->out_channels * batch * block->out_h
                 * block->out_w;
  size_t n_in = (size_t) block->in_channels * batch * block->in_h * block->in_w;
  float *g = dout;

  relu_backward (g, dout, block->out, n_out);           /* d(bn2_out + shortcut) */
  batchnorm2d_backward (&block->bn2, temp_a, g, batch); /* d conv2_out */
  conv2d_backward (&block->conv2, temp_b, temp_a, batch, ws); /* d hidden */
  /* through relu then bn1, fused: d conv1_out */
  batchnorm2d_backward_relu (&block->bn1, temp_b, temp_b, block->hidden, batch);
  conv2d_backward (&block->conv1, dinp, temp_b, batch, ws);

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
resnet_backward (ResNet *self, const float *d_embedding, int batch,
                 float *d_images)
{
  const ResNetConfig *cfg = &self->config;
  const BasicBlock *last = &self->blocks[self->n_blocks - 1];
  float *s0 = self->scratch[0], *s1 = self->scratch[1];
  ENGINE_CHECK (batch >= 1 && batch <= self->max_batch);

  l2norm_backward (s0, d_embedding, self->embedding, self->norms, batch,
                   cfg->low_dim);                        /* d linear_out (B, D) */
  linear_backward (&self->linear, s1, s0, batch);        /* d flat (B, F) */
  flatten_backward (s0, s1, last->out_channels, batch, self->feature_hw);
  avgpool_backward (s1, s0, last->out_channels * batch, last->out_h,
                    last->out_w, self->pool_kernel);     /* d last block out */

  float *dout = s1, *dinp = s0;
  for (int i = self->n_blocks - 1; i >= 0; i--)
    {
      block_backward (&self->blocks[i], dinp, dout, self->scratch[2],
                      self->scratch[3], batch, &self->workspace);
      float *t = dout;
      dout = dinp;
      dinp = t;
    }

  batchnorm2d_backward_relu (&self->bn1, dout, dout, self->stem_out, batch);
  conv2d_backward (&self->conv1, d_images ? dinp : NULL, dout, batch,
                   &self->workspace);
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
      const BasicBlock *block = &self->blocks[i];
      flops += conv_flops (&block->conv1) + conv_flops (&block->conv2);
      if (block->has_shortcut)
        flops += conv_flops (&block->shortcut_conv);
    }
  return flops + 2.0 * self->features * self->config.low_dim;
}

/* test-parity.c: the C engine against PyTorch, number for number.
 *
 * tools/make-parity-fixture.py runs the reference CIFAR ResNets in PyTorch
 * for two SGD steps of the exact non-parametric softmax on a batch of 4
 * images and a fixed 16-row memory bank, and the ImageNet ResNet-18 and
 * ResNet-50 (torchvision's, restated in tools/reference.py) for one step on
 * 2 images of 3 x 64 x 64, and records the forward values, every gradient,
 * the weights and BN running statistics after each step. This test does the
 * same with resnet_forward / the loss / resnet_backward / sgd_step and
 * compares every recorded tensor.
 *
 * Weights are not in the fixture: both sides generate them from the same
 * integer hash (hash_uniform below), bit for bit. The stored input images,
 * which the script makes with that hash too, check that claim.
 *
 * ReLU and max-pool ties. A ReLU input within float32 rounding of zero can come out with
 * either sign in two correct implementations, and its gradient then jumps
 * between 0 and the full upstream value -- no tolerance absorbs that (the
 * first fixture hit two such ties, 2e-7 and 4e-7 of the layer's rms, and
 * one of them moved layer2.0.conv1's gradient by 24% of its rms). So the
 * script picks images whose ReLU inputs (in float64) all stay 6 standard
 * deviations of float32 error away from zero, and records the 4 nearest per
 * ReLU; check_ties below confirms the engine decided those the same way, so
 * a failure there is reported as what it is. The ImageNet stem's max pool
 * has the same problem where a window's two largest inputs are within
 * rounding of each other (its whole gradient goes to one of them): the
 * script also keeps every window whose maximum is positive 6 standard
 * deviations of float32 error clear of its runner-up, and records the 8
 * closest windows with the input PyTorch took; check_pool_ties holds the
 * engine's choice to it. (A window whose maximum is 0 may pick any zero:
 * the ReLU before the pool drops the gradient there whichever it is.)
 *
 * Tolerances. A comparison passes when, for every element,
 *   |c - torch| <= tol * rms(torch tensor) + tol * |torch|
 * i.e. tol is relative to the tensor's own scale, so a near-zero element of
 * a large tensor is not held to a relative bound it cannot meet. Why these
 * values (the largest measured differences, as fractions of these, are
 * printed by g_test_message for every run):
 *
 * - FORWARD_TOL 1e-4 (embedding, logits, loss, BN running statistics).
 *   Both sides compute in float32 but sum in different orders (OpenBLAS
 *   sgemm over im2col columns here, PyTorch's own convolution there). A dot
 *   product of K terms then differs by about sqrt(K) * 2^-24 relative to its
 *   terms' magnitude, 1e-6..4e-6 for K = 27..4608; batch norm re-scales each
 *   layer, so relative errors add rather than multiply over the 20 layers
 *   between image and embedding: a few 1e-5 at worst. 1e-4 leaves a small
 *   margin on that bound and would still catch any real mistake (a wrong eps,
 *   biased for unbiased variance, a wrong pooling divisor), which changes
 *   values by 1e-3 or more.
 *
 * - GRAD_TOL 2e-3 (d loss / d embedding, every parameter gradient, and the
 *   weight changes of both steps). Backward adds its own reordered sums to
 *   the forward's 1e-5, and batch norm's backward
 *   (dx = (dy - mean(dy) - xhat mean(dy xhat)) / std) subtracts nearly equal
 *   terms over as few as B*H*W = 64 values per channel in the last stage,
 *   which can amplify a relative error 10-100x: 1e-3 at worst, 2e-3 with a
 *   margin. A wrong sign, a missing 1/B, a missing weight-decay or momentum
 *   term is off by 1e-2 to 100%. (ReLU ties, the one effect no tolerance
 *   covers, are kept out of the fixture instead; see above.)
 *
 * Weights after a step are compared through their change from the (exactly
 * known) initial weights, with the GRAD_TOL above plus one float32 rounding
 * of the weight itself: the weight is w0 - lr * (...), so comparing w with a
 * bound relative to |w| would hide an error in the update entirely.
 *
 * Tensors with more than 4096 elements are recorded as a fixed sample of
 * 512 elements plus the sum and L2 norm of the whole tensor (of the change,
 * for weights). The norm is held to GRAD_TOL; the sum, which may cancel, to
 * GRAD_TOL * norm * sqrt(n) (the most that elementwise errors of GRAD_TOL *
 * rms can add up to) -- loose, but it still sees a whole tensor left unset.
 *
 * Measured when this was written (OpenBLAS 0.3.21, 2 threads, PyTorch 1.13
 * CPU), largest |diff| / rms: forward 1.2e-6 (ResNet-18) and 8e-7 (small),
 * gradients 1.5e-5 and 1.8e-5, BN statistics 1.3e-6 and 9e-7 -- 1% of the
 * tolerances or less. Weight changes 1.7e-3 and 5e-4, which is the float32
 * rounding of w near 1 (BN weights) against a change of 1e-4, inside the
 * bound's rounding term (27% and 15% of the tolerance).
 *
 * The ImageNet fixtures, with the same tolerances (ResNet-50 has 53 layers
 * between image and embedding where ResNet-18 has 20, but batch norm keeps
 * errors from compounding: it needed no change). They hold every tensor
 * above 256 elements as a sample of 64 (and the BN running statistics too,
 * as changes from 0 and 1), to stay under half a megabyte. Measured
 * (default way, then im2col alone), largest |diff| / rms: forward 2.2e-6
 * and 1.2e-6 (ResNet-18), 3.3e-6 and 2.0e-6 (ResNet-50); gradients 3.3e-5
 * and 1.1e-5, 7.2e-5 and 3.3e-5 (4% of the tolerance at most); BN
 * statistics 3.8e-6 and 1.9e-6, 1.0e-5 and 1.2e-5 (9%); weight changes
 * 26-37% of the tolerance, the rounding of w again; the closest max-pool
 * windows 1.6e-5 and 4.3e-5 x rms apart, decided as PyTorch did.
 *
 * Each model runs twice: the way the engine runs by default (Winograd for
 * the 3x3 stride-1 layers of 8 channels or more, conv.h) and im2col alone.
 * Winograd's F(4x4, 3x3) rounds 3-15 times more than im2col per layer
 * (tests/engine/test-winograd.c), and the tolerances above did not need to
 * change for it: with it, largest |diff| / rms forward 1.7e-6 and 1.3e-6,
 * gradients 3.5e-5 and 3.0e-5 (2% of the tolerance), BN statistics 3.2e-6
 * and 1.7e-6, weight changes 40% and 24% of the tolerance (the rounding of
 * w again), and no ReLU tie decided differently.
 */
#include <cblas.h>
#include <glib.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conv.h"
#include "loss.h"
#include "resnet.h"
#include "safetensors.h"
#include "sgd.h"

#define FORWARD_TOL 1e-4
#define GRAD_TOL 2e-3

/* the fixture's conventions, repeated from tools/make-parity-fixture.py */
#define MAX_BATCH 4         /* the CIFAR fixtures' batch; the ImageNet ones 2 */
#define LOW_DIM 128
#define GOLDEN 0x9E3779B9u

typedef struct
{
  const char *model;        /* the fixture's "model" metadata */
  const char *file;
  ResNetConfig (*config) (int in_channels, int image_h, int image_w,
                          int low_dim);
  int in_channels, image_size;
  ConvAlgo algo;            /* how the convolutions are computed */
} ParityCase;

#define CASE(name, config, channels, size, algo)                              \
  { name, "parity-" name ".safetensors", config, channels, size, algo }

static const ParityCase parity_cases[] = {
  CASE ("resnet18", resnet_config_resnet18, 3, 32, CONV_ALGO_AUTO),
  CASE ("small", resnet_config_small, 1, 28, CONV_ALGO_AUTO),
  CASE ("resnet18", resnet_config_resnet18, 3, 32, CONV_ALGO_IM2COL),
  CASE ("small", resnet_config_small, 1, 28, CONV_ALGO_IM2COL),
  CASE ("resnet18-imagenet", resnet_config_resnet18_imagenet, 3, 64,
        CONV_ALGO_AUTO),
  CASE ("resnet50-imagenet", resnet_config_resnet50_imagenet, 3, 64,
        CONV_ALGO_AUTO),
  CASE ("resnet18-imagenet", resnet_config_resnet18_imagenet, 3, 64,
        CONV_ALGO_IM2COL),
  CASE ("resnet50-imagenet", resnet_config_resnet50_imagenet, 3, 64,
        CONV_ALGO_IM2COL),
};

/* ---- the deterministic weights (same as hash_uniform in the script) ---- */

/* Chris Wellons' lowbias32: a cheap mixer whose every output bit depends on
 * every input bit, so consecutive indices give unrelated values */
static uint32_t
lowbias32 (uint32_t x)
{
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

/* in [-1, 1); every step is exact in float32, so numpy agrees bit for bit */
static float
hash_uniform (uint32_t stream, uint32_t i)
{
  uint32_t h = lowbias32 (i + stream * GOLDEN);
  float u = (float) (h >> 8) * 0x1p-24f;
  return u * 2.0f - 1.0f;
}

/* Parameter number t (counting trainable parameters in state_dict order):
 * conv and linear weights u / sqrt(fan_in), the linear bias with the
 * weight's fan_in, BN weight 1 + u/4 and bias +-(1.5 + |u|/2), signed as
 * u (keeping ReLU inputs away from zero, see above); buffers at PyTorch's
 * defaults. */
static void
fill_parameters (ResNet *net)
{
  uint32_t t = 0;
  for (int s = 0; s < net->n_state; s++)
    {
      StateEntry *e = &net->state[s];
      const char *leaf = strrchr (e->name, '.') + 1;
      if (!e->trainable)
        {
          if (e->dtype == DTYPE_I64)
            *(int64_t *) e->data = 0;
          else
            for (size_t i = 0; i < e->numel; i++)
              ((float *) e->data)[i]
                  = strcmp (leaf, "running_var") == 0 ? 1.0f : 0.0f;
          continue;
        }
      float *v = e->data;
      float scale = 0.0f;
      if (e->ndim > 1)
        scale = 1.0f / sqrtf ((float) (e->numel / (size_t) e->shape[0]));
      else if (strcmp (e->name, "linear.bias") == 0
               || strcmp (e->name, "fc.bias") == 0)
        scale = 1.0f / sqrtf ((float) net->features);
      for (size_t i = 0; i < e->numel; i++)
        {
          float u = hash_uniform (t, (uint32_t) i);
          if (scale != 0.0f)
            v[i] = u * scale;
          else if (strcmp (leaf, "weight") == 0)
            v[i] = 1.0f + 0.25f * u;
          else
            {
              float b = 1.5f + 0.5f * fabsf (u);
              v[i] = u < 0.0f ? -b : b;
            }
        }
      t++;
    }
}

/* ---- fixture access ---- */

static const SafetensorsTensor *
need (const SafetensorsFile *file, const char *name, DType dtype, gsize numel)
{
  const SafetensorsTensor *t = safetensors_file_lookup (file, name);
  if (!t)
    g_error ("fixture has no tensor %s", name);
  g_assert_cmpint (t->dtype, ==, dtype);
  g_assert_cmpuint (t->numel, ==, numel);
  return t;
}

static const float *
need_f32 (const SafetensorsFile *file, const char *name, gsize numel)
{
  return need (file, name, DTYPE_F32, numel)->data;
}

/* ---- comparisons ---- */

/* The worst comparison of a group of tensors, for one summary line. */
typedef struct
{
  const char *group;
  double tol;
  double worst;            /* largest fraction of tolerance used */
  double worst_rel;        /* its |diff| / rms */
  char worst_name[96];
  int n_tensors;
  size_t n_values;
} Group;

static void
group_init (Group *g, const char *name, double tol)
{
  memset (g, 0, sizeof *g);
  g->group = name;
  g->tol = tol;
}

static double
rms (const float *x, size_t n)
{
  double s = 0.0;
  for (size_t i = 0; i < n; i++)
    s += (double) x[i] * x[i];
  return n ? sqrt (s / n) : 0.0;
}

static void
group_note (Group *g, const char *name, double violation, double rel)
{
  g->n_tensors++;
  if (violation > g->worst || isnan (violation))
    {
      g->worst = isnan (violation) ? INFINITY : violation;
      g->worst_rel = rel;
      g_strlcpy (g->worst_name, name, sizeof g->worst_name);
    }
  if (!(violation <= 1.0))
    {
      g_test_message ("FAIL %s: %s differs by %.3g of tolerance "
                      "(|diff| %.3g of the tensor's rms)", g->group, name,
                      violation, rel);
      g_test_fail ();
    }
}

/* c against ref (n values), |c - ref| <= tol * scale + tol * |ref| + extra;
 * scale defaults (<= 0) to rms(ref). */
static void
check_close (Group *g, const char *name, const float *c, const float *ref,
             size_t n, double scale, double extra)
{
  if (scale <= 0.0)
    scale = rms (ref, n);
  if (scale == 0.0)
    scale = 1.0;
  double worst = 0.0, worst_abs = 0.0;
  for (size_t i = 0; i < n; i++)
    {
      double diff = fabs ((double) c[i] - (double) ref[i]);
      double bound = g->tol * (scale + fabs ((double) ref[i])) + extra;
      double v = isnan (diff) ? INFINITY : diff / bound;
      worst = fmax (worst, v);
      worst_abs = fmax (worst_abs, diff);
    }
  g->n_values += n;
  group_note (g, name, worst, worst_abs / scale);
}

/* sum and L2 norm of a whole tensor (float64) against the fixture's */
static void
check_stats (Group *g, const char *name, const double *values, size_t n,
             const float ref[2])
{
  double sum = 0.0, sq = 0.0;
  for (size_t i = 0; i < n; i++)
    {
      sum += values[i];
      sq += values[i] * values[i];
    }
  double norm = sqrt (sq);
  double ref_norm = fmax (ref[1], 1e-30);
  double v_norm = fabs (norm - ref[1]) / (g->tol * ref_norm);
  double v_sum = fabs (sum - ref[0]) / (g->tol * ref_norm * sqrt ((double) n));
  char what[128];
  g_snprintf (what, sizeof what, "%s (norm)", name);
  group_note (g, what, v_norm, fabs (norm - ref[1]) / ref_norm);
  g_snprintf (what, sizeof what, "%s (sum)", name);
  group_note (g, what, v_sum, fabs (sum - ref[0]) / ref_norm);
}

static void
group_report (const Group *g)
{
  g_test_message ("%-22s tol %.0e: %d checks, %zu values; worst %.3g of "
                  "tolerance (|diff| %.2g x rms) in %s",
                  g->group, g->tol, g->n_tensors, g->n_values, g->worst,
                  g->worst_rel, g->n_tensors ? g->worst_name : "-");
}

/* A parameter-shaped tensor of the fixture, stored whole or sampled.
 * c is the engine's tensor; base (or NULL) is subtracted from both sides
 * before comparing, extra_ulp adds that many float32 roundings of
 * max |base| to the bound. */
static void
check_param_tensor_scaled (Group *g, const SafetensorsFile *file,
                           const char *key, const char *param, const float *c,
                           const float *base, size_t numel, double scale)
{
  const SafetensorsTensor *rt = safetensors_file_lookup (file, key);
  if (!rt)
    g_error ("fixture has no tensor %s", key);
  const float *ref = rt->data;
  double extra = 0.0;
  if (base)
    {
      float m = 0.0f;
      for (size_t i = 0; i < numel; i++)
        m = fmaxf (m, fabsf (base[i]));
      extra = m * 0x1p-23;   /* one rounding of w = w0 - update */
    }

  if (rt->numel == numel)
    {
      g_autofree float *cd = g_new (float, numel);
      g_autofree float *rd = g_new (float, numel);
      for (size_t i = 0; i < numel; i++)
        {
          cd[i] = c[i] - (base ? base[i] : 0.0f);
          rd[i] = ref[i] - (base ? base[i] : 0.0f);
        }
      check_close (g, key, cd, rd, numel, scale, extra);
      return;
    }

  /* sampled: values at the fixture's indices, scaled by the whole tensor's
   * rms, plus the whole tensor's stats */
  g_autofree char *idx_key = g_strdup_printf ("sample.%s", param);
  g_autofree char *stats_key = g_strdup_printf ("%s.stats", key);
  const SafetensorsTensor *it = need (file, idx_key, DTYPE_I64, rt->numel);
  const float *stats = need_f32 (file, stats_key, 2);
  const int64_t *idx = it->data;
  g_autofree float *cd = g_new (float, rt->numel);
  g_autofree float *rd = g_new (float, rt->numel);
  for (size_t k = 0; k < rt->numel; k++)
    {
      g_assert_cmpint (idx[k], >=, 0);
      g_assert_cmpint (idx[k], <, (int64_t) numel);
      float b = base ? base[idx[k]] : 0.0f;
      cd[k] = c[idx[k]] - b;
      rd[k] = ref[k] - b;
    }
  check_close (g, key, cd, rd, rt->numel,
               scale > 0.0 ? scale : stats[1] / sqrt ((double) numel), extra);

  g_autofree double *whole = g_new (double, numel);
  for (size_t i = 0; i < numel; i++)
    whole[i] = (double) c[i] - (base ? (double) base[i] : 0.0);
  check_stats (g, key, whole, numel, stats);
}

static void
check_param_tensor (Group *g, const SafetensorsFile *file, const char *key,
                    const char *param, const float *c, const float *base,
                    size_t numel)
{
  check_param_tensor_scaled (g, file, key, param, c, base, numel, 0.0);
}

/* BN running statistics and counters after step k. The CIFAR fixtures hold
 * them whole; the ImageNet ones sample the larger layers as parameters are
 * (mean and variance of a layer at the same places, under
 * "sample.MODULE.running"), with the stats of their change from the
 * initial 0 and 1. */
static void
check_buffers (Group *g, const SafetensorsFile *file, ResNet *net, int k)
{
  for (int s = 0; s < net->n_state; s++)
    {
      StateEntry *e = &net->state[s];
      if (e->trainable)
        continue;
      g_autofree char *key = g_strdup_printf ("step%d.%s", k, e->name);
      if (e->dtype == DTYPE_I64)
        {
          const int64_t *ref = need (file, key, DTYPE_I64, 1)->data;
          g_assert_cmpint (*(int64_t *) e->data, ==, ref[0]);
          continue;
        }
      const SafetensorsTensor *rt = safetensors_file_lookup (file, key);
      if (!rt)
        g_error ("fixture has no tensor %s", key);
      const bool sampled = rt->numel != e->numel;
      char module[96];
      g_strlcpy (module, e->name, sizeof module);
      *strrchr (module, '.') = '\0';
      double scale = 0.0;
      if (g_str_has_suffix (e->name, "running_mean"))
        {
          /* a mean near zero carries the error of the values it averages:
           * scale by 0.1 x the batch std, which step 1's running_var
           * (0.9 + 0.1 var) gives (at the sampled places when sampled) */
          g_autofree char *var_key
              = g_strdup_printf ("step1.%s.running_var", module);
          const float *rv = need_f32 (file, var_key, rt->numel);
          double s2 = 0.0;
          for (size_t i = 0; i < rt->numel; i++)
            s2 += fmax ((rv[i] - 0.9) / 0.1, 0.0);
          scale = 0.1 * sqrt (s2 / rt->numel);
        }
      if (!sampled)
        {
          check_close (g, key, e->data, rt->data, e->numel, scale, 0.0);
          continue;
        }
      /* the change from the initial value, as for weights */
      const float start = g_str_has_suffix (e->name, "running_var") ? 1.0f
                                                                     : 0.0f;
      g_autofree float *base = g_new (float, e->numel);
      for (size_t i = 0; i < e->numel; i++)
        base[i] = start;
      g_autofree char *sample = g_strdup_printf ("%s.running", module);
      check_param_tensor_scaled (g, file, key, sample, e->data, base,
                                 e->numel, scale);
    }
}

/* The number of ReLUs: the stem's, then per block relu(bn1), in a
 * bottleneck relu(bn2), and relu(sum). */
static int
relu_count (const ResNet *net)
{
  int n = 1;
  for (int b = 0; b < net->n_blocks; b++)
    n += net->blocks[b].kind == RESNET_BLOCK_BOTTLENECK ? 3 : 2;
  return n;
}

/* The engine's ReLU output number l, (C, B, H, W), in the script's order
 * (relu_count). */
static const float *
relu_output (ResNet *net, int l, int *channels, int *hw)
{
  if (l == 0)
    {
      *channels = net->config.widths[0];
      *hw = net->conv1.out_h * net->conv1.out_w;
      return net->stem_out;
    }
  l--;
  for (int b = 0; b < net->n_blocks; b++)
    {
      const ResidualBlock *block = &net->blocks[b];
      const int n = block->kind == RESNET_BLOCK_BOTTLENECK ? 3 : 2;
      if (l >= n)
        {
          l -= n;
          continue;
        }
      if (l == n - 1)
        {
          /* relu(sum), the block's output */
          *channels = block->out_channels;
          *hw = block->out_h * block->out_w;
          return block->out;
        }
      /* relu(bn1) or relu(bn2), at conv1's or conv2's output */
      const Conv2d *conv = l == 0 ? &block->conv1 : &block->conv2;
      *channels = block->mid_channels;
      *hw = conv->out_h * conv->out_w;
      return l == 0 ? block->hidden : block->hidden2;
    }
  g_assert_not_reached ();
}

/* The ReLU inputs nearest zero (NCHW index, value / rms in float64) after
 * step k's forward: the engine's output must be positive exactly where
 * PyTorch's input was. */
static void
check_ties (const SafetensorsFile *file, ResNet *net, int batch, int k)
{
  char key[64];
  g_snprintf (key, sizeof key, "ties.step%d.index", k);
  const SafetensorsTensor *it = safetensors_file_lookup (file, key);
  g_snprintf (key, sizeof key, "ties.step%d.value", k);
  const SafetensorsTensor *vt = safetensors_file_lookup (file, key);
  g_assert_nonnull (it);
  g_assert_nonnull (vt);
  g_assert_cmpint (it->ndim, ==, 2);
  g_assert_cmpint (it->shape[0], ==, relu_count (net));
  const int64_t *index = it->data;
  const float *value = vt->data;
  double nearest = INFINITY;
  for (int l = 0; l < it->shape[0]; l++)
    {
      int channels, hw;
      const float *out = relu_output (net, l, &channels, &hw);
      for (int j = 0; j < it->shape[1]; j++)
        {
          size_t i = l * it->shape[1] + j;
          int64_t n = index[i] / ((int64_t) channels * hw);
          int64_t c = index[i] / hw % channels;
          int64_t p = index[i] % hw;
          float y = out[((size_t) c * batch + n) * hw + p];
          nearest = fmin (nearest, fabs (value[i]));
          if ((y > 0.0f) != (value[i] > 0.0f))
            {
              g_test_message ("FAIL step %d ReLU %d element %" G_GINT64_FORMAT
                              ": PyTorch's input is %.3g x rms, the engine's "
                              "output %.3g -- a ReLU tie decided the other "
                              "way, so gradients below it cannot match",
                              k, l, index[i], value[i], y);
              g_test_fail ();
            }
        }
    }
  g_test_message ("step %d: ReLU inputs nearest zero at %.2g x rms, all "
                  "decided as PyTorch did", k, nearest);
}

/* The ImageNet stem's max-pool windows whose two largest inputs are
 * closest (NCHW output index, PyTorch's choice y * W + x, the gap / rms in
 * float64) after step k's forward: the engine must take the same input,
 * or the whole gradient of that output goes elsewhere. */
static void
check_pool_ties (const SafetensorsFile *file, ResNet *net, int batch, int k)
{
  char key[64];
  g_snprintf (key, sizeof key, "pool.step%d.index", k);
  const SafetensorsTensor *it = safetensors_file_lookup (file, key);
  g_snprintf (key, sizeof key, "pool.step%d.taken", k);
  const SafetensorsTensor *tt = safetensors_file_lookup (file, key);
  g_snprintf (key, sizeof key, "pool.step%d.gap", k);
  const SafetensorsTensor *gt = safetensors_file_lookup (file, key);
  g_assert_nonnull (it);
  g_assert_nonnull (tt);
  g_assert_nonnull (gt);
  g_assert_cmpuint (tt->numel, ==, it->numel);
  g_assert_cmpuint (gt->numel, ==, it->numel);
  const int64_t *index = it->data, *taken = tt->data;
  const float *gap = gt->data;
  const int C = net->config.widths[0];
  const int64_t plane = (int64_t) net->stem_pool_h * net->stem_pool_w;
  for (size_t j = 0; j < it->numel; j++)
    {
      int64_t n = index[j] / (C * plane), c = index[j] / plane % C;
      int64_t p = index[j] % plane;
      int32_t ours = net->stem_pool_argmax[((size_t) c * batch + n) * plane
                                           + p];
      if (ours != taken[j])
        {
          g_test_message ("FAIL step %d max-pool output %" G_GINT64_FORMAT
                          ": PyTorch takes input %" G_GINT64_FORMAT ", the "
                          "engine %d (their gap %.3g x rms) -- a max-pool tie "
                          "decided the other way", k, index[j], taken[j],
                          ours, gap[j]);
          g_test_fail ();
        }
    }
  g_test_message ("step %d: max-pool windows closest to a tie at %.2g x rms, "
                  "all decided as PyTorch did", k, gap[0]);
}

/* ---- one step, as the reference's training loop does it ---- */

typedef struct
{
  ResNet *net;
  Sgd sgd;
  const float *images, *bank;
  int batch;
  int targets[MAX_BATCH];
  int n_bank;
  float tau;
  float *logits, *probs, *d_embedding;   /* (B, N), (B, N), (B, D) */
} Run;

static float
run_step (Run *r)
{
  const int B = r->batch, D = LOW_DIM, N = r->n_bank;
  const float *emb = resnet_forward (r->net, r->images, B, true);
  /* logits (B, N) = emb (B, D) x bank^T (D, N) / tau, as LinearAverage */
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, B, N, D, 1.0f, emb, D,
               r->bank, D, 0.0f, r->logits, N);
  for (int i = 0; i < B * N; i++)
    r->logits[i] /= r->tau;
  float loss = softmax_cross_entropy_forward (r->probs, r->logits, r->targets,
                                              B, N);
  softmax_cross_entropy_backward (r->probs, r->probs, r->targets, B, N);
  /* d_embedding (B, D) = dlogits (B, N) x bank (N, D) / tau */
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, B, D, N,
               1.0f / r->tau, r->probs, N, r->bank, D, 0.0f, r->d_embedding,
               D);
  resnet_backward (r->net, r->d_embedding, B, NULL);
  return loss;
}

static void
test_parity_step (gconstpointer data)
{
  const ParityCase *pc = data;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "fixtures",
                                                 pc->file, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (SafetensorsFile) file = safetensors_file_load (path, &error);
  g_assert_no_error (error);

  const char *model = safetensors_file_get_metadata (file, "model");
  g_assert_cmpstr (model, ==, pc->model);
  const int batch = atoi (safetensors_file_get_metadata (file, "batch"));
  g_assert_cmpint (batch, >=, 2);
  g_assert_cmpint (batch, <=, MAX_BATCH);
  /* the CIFAR fixtures, written before the key existed, hold two steps */
  const char *steps_text = safetensors_file_get_metadata (file, "steps");
  const int steps = steps_text ? atoi (steps_text) : 2;
  g_assert_cmpint (steps, >=, 1);
  g_assert_cmpint (atoi (safetensors_file_get_metadata (file, "low_dim")), ==,
                   LOW_DIM);
  const float tau = g_ascii_strtod (safetensors_file_get_metadata (file, "tau"),
                                    NULL);
  const float lr = g_ascii_strtod (safetensors_file_get_metadata (file, "lr"),
                                   NULL);
  const float momentum
      = g_ascii_strtod (safetensors_file_get_metadata (file, "momentum"), NULL);
  const float weight_decay
      = g_ascii_strtod (safetensors_file_get_metadata (file, "weight_decay"),
                        NULL);
  const int n_bank = atoi (safetensors_file_get_metadata (file, "n_bank"));
  g_test_message ("%s: %s, tau %g, SGD lr %g momentum %g weight decay %g, "
                  "forward tol %.0e, gradient tol %.0e (x the tensor's rms)",
                  pc->model, path, tau, lr, momentum, weight_decay,
                  FORWARD_TOL, GRAD_TOL);

  ResNetConfig config = pc->config (pc->in_channels, pc->image_size,
                                    pc->image_size, LOW_DIM);
  Run r = { 0 };
  r.batch = batch;
  conv2d_set_algo (pc->algo);
  r.net = resnet_new (&config, batch);
  g_assert_nonnull (r.net);
  ResNet *net = r.net;
  int n_winograd = 0, n_convs = 1;
  n_winograd += conv2d_uses_winograd (&net->conv1, &net->workspace, false);
  for (int b = 0; b < net->n_blocks; b++)
    {
      const ResidualBlock *block = &net->blocks[b];
      n_winograd += conv2d_uses_winograd (&block->conv1, &net->workspace, false)
                    + conv2d_uses_winograd (&block->conv2, &net->workspace,
                                            false);
      n_convs += (block->kind == RESNET_BLOCK_BOTTLENECK ? 3 : 2)
                 + block->has_shortcut;
    }
  g_test_message ("%s: %d of %d convolutions by Winograd", pc->model,
                  n_winograd, n_convs);
  /* every 3x3 stride-1 layer but the stem by default, none with im2col:
   * 13 in each of these nets (of the 16 3x3 layers of ResNet-18's blocks,
   * the first of layers 2-4 have stride 2; of ResNet-50's 16 bottlenecks,
   * the conv2 of the same three) */
  g_assert_cmpint (n_winograd, ==, pc->algo == CONV_ALGO_IM2COL ? 0 : 13);
  fill_parameters (net);
  g_autofree float *initial = g_memdup2 (net->params,
                                         sizeof (float) * net->n_params);
  g_assert_true (sgd_init (&r.sgd, net->n_params, lr, momentum,
                           weight_decay));

  /* the images: the hash here must reproduce the script's bit for bit,
   * or the weights would not be the same either */
  const size_t n_images = (size_t) batch * pc->in_channels * pc->image_size
                          * pc->image_size;
  r.images = need_f32 (file, "input", n_images);
  const uint32_t stream
      = atoi (safetensors_file_get_metadata (file, "input_stream"));
  for (size_t i = 0; i < n_images; i++)
    if (hash_uniform (stream, (uint32_t) i) != r.images[i])
      g_error ("input[%zu]: C hash %.9g, fixture %.9g", i,
               hash_uniform (stream, (uint32_t) i), r.images[i]);

  r.n_bank = n_bank;
  r.tau = tau;
  r.bank = need_f32 (file, "bank", (gsize) n_bank * LOW_DIM);
  const int64_t *targets = need (file, "targets", DTYPE_I64, batch)->data;
  for (int b = 0; b < batch; b++)
    r.targets[b] = (int) targets[b];
  r.logits = g_new0 (float, batch * n_bank);
  r.probs = g_new0 (float, batch * n_bank);
  r.d_embedding = g_new0 (float, batch * LOW_DIM);

  Group forward, grads, weights, buffers;
  group_init (&forward, "forward", FORWARD_TOL);
  group_init (&grads, "gradients", GRAD_TOL);
  group_init (&weights, "weight changes", GRAD_TOL);
  group_init (&buffers, "BN running stats", FORWARD_TOL);

  for (int k = 1; k <= steps; k++)
    {
      char key[128];
      float loss = run_step (&r);
      check_ties (file, net, batch, k);
      if (config.stem == RESNET_STEM_IMAGENET)
        check_pool_ties (file, net, batch, k);

      g_snprintf (key, sizeof key, "step%d.embedding", k);
      check_close (&forward, key, net->embedding,
                   need_f32 (file, key, batch * LOW_DIM), batch * LOW_DIM,
                   0.0, 0.0);
      g_snprintf (key, sizeof key, "step%d.logits", k);
      check_close (&forward, key, r.logits,
                   need_f32 (file, key, batch * n_bank), batch * n_bank, 0.0,
                   0.0);
      g_snprintf (key, sizeof key, "step%d.loss", k);
      const float *ref_loss = need_f32 (file, key, 1);
      check_close (&forward, key, &loss, ref_loss, 1, 0.0, 0.0);
      g_test_message ("%s step %d: loss %.7f (PyTorch %.7f)", pc->model, k,
                      loss, ref_loss[0]);
      g_snprintf (key, sizeof key, "step%d.d_embedding", k);
      check_close (&grads, key, r.d_embedding,
                   need_f32 (file, key, batch * LOW_DIM), batch * LOW_DIM,
                   0.0, 0.0);

      if (k == 1)
        for (int s = 0; s < net->n_state; s++)
          {
            StateEntry *e = &net->state[s];
            if (!e->trainable)
              continue;
            g_snprintf (key, sizeof key, "grad.%s", e->name);
            check_param_tensor (&grads, file, key, e->name, e->grad, NULL,
                                e->numel);
          }

      sgd_step (&r.sgd, net->params, net->grads);

      for (int s = 0; s < net->n_state; s++)
        {
          StateEntry *e = &net->state[s];
          if (!e->trainable)
            continue;
          g_snprintf (key, sizeof key, "step%d.%s", k, e->name);
          const float *base = initial + ((float *) e->data - net->params);
          check_param_tensor (&weights, file, key, e->name, e->data, base,
                              e->numel);
        }
      check_buffers (&buffers, file, net, k);
    }

  /* the trained network in evaluation mode: batch norm by the running
   * statistics, folded into the convolutions, every map through the
   * evaluation buffers */
  check_close (&forward, "eval.embedding",
               resnet_forward (net, r.images, batch, false),
               need_f32 (file, "eval.embedding", batch * LOW_DIM),
               batch * LOW_DIM, 0.0, 0.0);

  group_report (&forward);
  group_report (&grads);
  group_report (&weights);
  group_report (&buffers);

  g_free (r.logits);
  g_free (r.probs);
  g_free (r.d_embedding);
  sgd_clear (&r.sgd);
  resnet_free (net);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (size_t i = 0; i < G_N_ELEMENTS (parity_cases); i++)
    {
      const ParityCase *pc = &parity_cases[i];
      g_autofree char *path
          = g_strdup_printf ("/parity/%s/step%s", pc->model,
                             pc->algo == CONV_ALGO_IM2COL ? "-im2col" : "");
      g_test_add_data_func (path, pc, test_parity_step);
    }
  return g_test_run ();
}

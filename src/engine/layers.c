/* layers.c: ReLU, residual addition, average and max pooling, flatten,
 * linear, L2 normalisation. Shapes as in layers.h. */
#include "layers.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "check.h"
#include "threads.h"
#include "vec4.h"

/* The elementwise layers split their range across the engine's threads;
 * below this many values a dispatch costs more than it saves.
 *
 * Their loops run on 4-float vectors (vec4.h) that load every input before
 * storing: the layers are often called in place (out == inp), and a plain
 * loop over possibly overlapping arrays makes the compiler fall back to
 * scalar code at run time, 3-4 times slower here; and a ReLU's choice in a
 * loop of scalars is not vectorised at all. */
#define PARALLEL_MIN ((size_t) 1 << 14)

typedef struct
{
  float *out;
  const float *a, *b;
  size_t n;
} ElementwiseTask;

static void
run_elementwise (EngineTask kernel, ElementwiseTask *task)
{
  const double t = engine_timer_start ();
  if (task->n < PARALLEL_MIN)
    kernel (task, 0, 1);
  else
    engine_parallel (kernel, task);
  engine_timer_stop (ENGINE_TIMER_ELEMENTWISE, t);
}

static void
relu_forward_task (void *arg, int ith, int nth)
{
  const ElementwiseTask *task = arg;
  const float *inp = task->a;
  size_t lo, hi;
  engine_split (task->n, ith, nth, &lo, &hi);
  float *out = task->out;
  size_t i = lo;
  for (; i + 4 <= hi; i += 4)
    store_floats4 (out + i, relu4 (load_floats4 (inp + i)));
  for (; i < hi; i++)
    out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}

void
relu_forward (float *out, const float *inp, size_t n)
{
  ElementwiseTask task = { .out = out, .a = inp, .n = n };
  run_elementwise (relu_forward_task, &task);
}

static void
relu_backward_task (void *arg, int ith, int nth)
{
  const ElementwiseTask *task = arg;
  const float *dout = task->a, *out = task->b;
  size_t lo, hi;
  engine_split (task->n, ith, nth, &lo, &hi);
  float *dinp = task->out;
  size_t i = lo;
  for (; i + 4 <= hi; i += 4)
    store_floats4 (dinp + i, keep_where_positive4 (load_floats4 (dout + i),
                                                   load_floats4 (out + i)));
  for (; i < hi; i++)
    dinp[i] = out[i] > 0.0f ? dout[i] : 0.0f;
}

void
relu_backward (float *dinp, const float *dout, const float *out, size_t n)
{
  ElementwiseTask task = { .out = dinp, .a = dout, .b = out, .n = n };
  run_elementwise (relu_backward_task, &task);
}

static void
add_relu_task (void *arg, int ith, int nth)
{
  const ElementwiseTask *task = arg;
  const float *a = task->a, *b = task->b;
  size_t lo, hi;
  engine_split (task->n, ith, nth, &lo, &hi);
  float *out = task->out;
  size_t i = lo;
  for (; i + 4 <= hi; i += 4)
    store_floats4 (out + i, relu4 (load_floats4 (a + i) + load_floats4 (b + i)));
  for (; i < hi; i++)
    {
      float s = a[i] + b[i];
      out[i] = s > 0.0f ? s : 0.0f;
    }
}

void
add_relu_forward (float *out, const float *a, const float *b, size_t n)
{
  ElementwiseTask task = { .out = out, .a = a, .b = b, .n = n };
  run_elementwise (add_relu_task, &task);
}

void
avgpool_forward (float *out, const float *inp, int planes, int h, int w, int k)
{
  const int oh = h / k, ow = w / k;
  const float inv_area = 1.0f / (float) (k * k);
  ENGINE_CHECK (oh > 0 && ow > 0);
  for (int p = 0; p < planes; p++)
    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++)
        {
          float sum = 0.0f;
          for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++)
              sum += inp[((size_t) p * h + oy * k + ky) * w + ox * k + kx];
          out[((size_t) p * oh + oy) * ow + ox] = sum * inv_area;
        }
}

void
avgpool_backward (float *dinp, const float *dout, int planes, int h, int w,
                  int k)
{
  const int oh = h / k, ow = w / k;
  const float inv_area = 1.0f / (float) (k * k);
  /* rows and columns past oh*k, ow*k (floor mode) get no gradient */
  memset (dinp, 0, sizeof (float) * planes * h * w);
  for (int p = 0; p < planes; p++)
    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++)
        {
          float g = dout[((size_t) p * oh + oy) * ow + ox] * inv_area;
          for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++)
              dinp[((size_t) p * h + oy * k + ky) * w + ox * k + kx] = g;
        }
}

/* ---- global average pooling ---- */

/* The pooling layers split their planes (channel x image) across the
 * engine's threads: every plane is read and written by one thread only. */
typedef struct
{
  float *out;
  int32_t *argmax;
  const float *inp;
  const int32_t *argmax_in;
  int planes, h, w, out_h, out_w, kernel, stride, padding;
  size_t hw;          /* global average pooling: values per plane */
} PoolTask;

static void
run_pool (EngineTask kernel, PoolTask *task, size_t values)
{
  const double t = engine_timer_start ();
  if (values < PARALLEL_MIN)
    kernel (task, 0, 1);
  else
    engine_parallel (kernel, task);
  engine_timer_stop (ENGINE_TIMER_ELEMENTWISE, t);
}

static void
global_avgpool_forward_task (void *arg, int ith, int nth)
{
  const PoolTask *task = arg;
  const size_t hw = task->hw;
  size_t lo, hi;
  engine_split (task->planes, ith, nth, &lo, &hi);
  for (size_t p = lo; p < hi; p++)
    {
      /* summed in float in order and divided once, as PyTorch's CPU
       * kernel does */
      const float *x = task->inp + p * hw;
      float sum = 0.0f;
      for (size_t i = 0; i < hw; i++)
        sum += x[i];
      task->out[p] = sum / (float) hw;
    }
}

void
global_avgpool_forward (float *out, const float *inp, int planes, int hw)
{
  ENGINE_CHECK (planes > 0 && hw > 0);
  PoolTask task = { .out = out, .inp = inp, .planes = planes, .hw = hw };
  run_pool (global_avgpool_forward_task, &task, (size_t) planes * hw);
}

static void
global_avgpool_backward_task (void *arg, int ith, int nth)
{
  const PoolTask *task = arg;
  const size_t hw = task->hw;
  size_t lo, hi;
  engine_split (task->planes, ith, nth, &lo, &hi);
  for (size_t p = lo; p < hi; p++)
    {
      const float g = task->inp[p] / (float) hw;
      float *dx = task->out + p * hw;
      for (size_t i = 0; i < hw; i++)
        dx[i] = g;
    }
}

void
global_avgpool_backward (float *dinp, const float *dout, int planes, int hw)
{
  ENGINE_CHECK (planes > 0 && hw > 0);
  PoolTask task = { .out = dinp, .inp = dout, .planes = planes, .hw = hw };
  run_pool (global_avgpool_backward_task, &task, (size_t) planes * hw);
}

/* ---- max pooling ---- */

int
maxpool2d_out_size (int size, int kernel, int stride, int padding)
{
  return (size + 2 * padding - kernel) / stride + 1;
}

static void
maxpool2d_forward_task (void *arg, int ith, int nth)
{
  const PoolTask *task = arg;
  const int h = task->h, w = task->w, oh = task->out_h, ow = task->out_w;
  const int k = task->kernel, s = task->stride, pad = task->padding;
  size_t lo, hi;
  engine_split (task->planes, ith, nth, &lo, &hi);
  for (size_t p = lo; p < hi; p++)
    {
      const float *x = task->inp + p * h * w;
      float *y = task->out + p * oh * ow;
      int32_t *taken = task->argmax ? task->argmax + p * oh * ow : NULL;
      for (int oy = 0; oy < oh; oy++)
        {
          /* the window's rows and columns inside the image */
          const int y0 = oy * s - pad;
          const int ya = y0 > 0 ? y0 : 0;
          const int yb = y0 + k < h ? y0 + k : h;
          for (int ox = 0; ox < ow; ox++)
            {
              const int x0 = ox * s - pad;
              const int xa = x0 > 0 ? x0 : 0;
              const int xb = x0 + k < w ? x0 + k : w;
              /* PyTorch's rule (layers.h): start from -inf at the first
               * element inside the image; only a strictly larger value or a
               * NaN takes over */
              float best = -INFINITY;
              int32_t where = ya * w + xa;
              for (int iy = ya; iy < yb; iy++)
                for (int ix = xa; ix < xb; ix++)
                  {
                    const float v = x[iy * w + ix];
                    if (v > best || isnan (v))
                      {
                        best = v;
                        where = iy * w + ix;
                      }
                  }
              y[oy * ow + ox] = best;
              if (taken)
                taken[oy * ow + ox] = where;
            }
        }
    }
}

void
maxpool2d_forward (float *out, int32_t *argmax, const float *inp, int planes,
                   int h, int w, int kernel, int stride, int padding)
{
  ENGINE_CHECK (planes > 0 && kernel > 0 && stride > 0);
  ENGINE_CHECK (padding >= 0 && 2 * padding <= kernel);
  const int oh = maxpool2d_out_size (h, kernel, stride, padding);
  const int ow = maxpool2d_out_size (w, kernel, stride, padding);
  ENGINE_CHECK (oh > 0 && ow > 0);
  PoolTask task = { .out = out, .argmax = argmax, .inp = inp,
                    .planes = planes, .h = h, .w = w, .out_h = oh,
                    .out_w = ow, .kernel = kernel, .stride = stride,
                    .padding = padding };
  run_pool (maxpool2d_forward_task, &task, (size_t) planes * oh * ow * kernel
                                               * kernel);
}

static void
maxpool2d_backward_task (void *arg, int ith, int nth)
{
  const PoolTask *task = arg;
  const size_t in_plane = (size_t) task->h * task->w;
  const size_t out_plane = (size_t) task->out_h * task->out_w;
  size_t lo, hi;
  engine_split (task->planes, ith, nth, &lo, &hi);
  for (size_t p = lo; p < hi; p++)
    {
      float *dx = task->out + p * in_plane;
      const float *dy = task->inp + p * out_plane;
      const int32_t *from = task->argmax_in + p * out_plane;
      memset (dx, 0, sizeof (float) * in_plane);
      for (size_t o = 0; o < out_plane; o++)
        dx[from[o]] += dy[o];
    }
}

void
maxpool2d_backward (float *dinp, const float *dout, const int32_t *argmax,
                    int planes, int h, int w, int out_h, int out_w)
{
  ENGINE_CHECK (planes > 0 && out_h > 0 && out_w > 0);
  PoolTask task = { .out = dinp, .inp = dout, .argmax_in = argmax,
                    .planes = planes, .h = h, .w = w, .out_h = out_h,
                    .out_w = out_w };
  run_pool (maxpool2d_backward_task, &task, (size_t) planes * h * w);
}

void
flatten_forward (float *out, const float *inp, int channels, int batch, int hw)
{
  /* out[n][c*hw + s] = inp[c][n][s] */
  for (int c = 0; c < channels; c++)
    for (int n = 0; n < batch; n++)
      memcpy (out + ((size_t) n * channels + c) * hw,
              inp + ((size_t) c * batch + n) * hw, sizeof (float) * hw);
}

void
flatten_backward (float *dinp, const float *dout, int channels, int batch,
                  int hw)
{
  for (int c = 0; c < channels; c++)
    for (int n = 0; n < batch; n++)
      memcpy (dinp + ((size_t) c * batch + n) * hw,
              dout + ((size_t) n * channels + c) * hw, sizeof (float) * hw);
}

void
linear_init (Linear *self, int in_features, int out_features)
{
  memset (self, 0, sizeof *self);
  self->in_features = in_features;
  self->out_features = out_features;
}

void
linear_forward (Linear *self, float *out, const float *inp, int batch)
{
  const int F = self->in_features, D = self->out_features;
  self->saved_inp = inp;
  for (int n = 0; n < batch; n++)
    memcpy (out + (size_t) n * D, self->bias, sizeof (float) * D);
  // out (B, D) += inp (B, F) x W^T (F, D)
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, batch, D, F, 1.0f, inp,
               F, self->weight, F, 1.0f, out, D);
}

void
linear_backward (Linear *self, float *dinp, const float *dout, int batch)
{
  const int F = self->in_features, D = self->out_features;
  ENGINE_CHECK (self->saved_inp != NULL);
  // dW (D, F) = dout^T (D, B) x inp (B, F)
  cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, D, F, batch, 1.0f, dout,
               D, self->saved_inp, F, 0.0f, self->grad_weight, F);
  for (int d = 0; d < D; d++)
    {
      double sum = 0.0;
      for (int n = 0; n < batch; n++)
        sum += dout[(size_t) n * D + d];
      self->grad_bias[d] = (float) sum;
    }
  if (dinp)
    // dinp (B, F) = dout (B, D) x W (D, F)
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, F, D, 1.0f,
                 dout, D, self->weight, F, 0.0f, dinp, F);
}

void
l2norm_forward (float *out, float *norms, const float *inp, int batch, int dim)
{
  for (int n = 0; n < batch; n++)
    {
      const float *x = inp + (size_t) n * dim;
      float *v = out + (size_t) n * dim;
      double sum_sq = 0.0;
      for (int d = 0; d < dim; d++)
        sum_sq += (double) x[d] * x[d];
      /* as the reference: no epsilon; a zero vector is a bug upstream */
      float norm = (float) sqrt (sum_sq);
      norms[n] = norm;
      for (int d = 0; d < dim; d++)
        v[d] = x[d] / norm;
    }
}

void
l2norm_backward (float *dinp, const float *dout, const float *out,
                 const float *norms, int batch, int dim)
{
  for (int n = 0; n < batch; n++)
    {
      const float *v = out + (size_t) n * dim;
      const float *g = dout + (size_t) n * dim;
      float *dx = dinp + (size_t) n * dim;
      double dot = 0.0;
      for (int d = 0; d < dim; d++)
        dot += (double) v[d] * g[d];
      float inv_norm = 1.0f / norms[n];
      for (int d = 0; d < dim; d++)
        dx[d] = (g[d] - v[d] * (float) dot) * inv_norm;
    }
}

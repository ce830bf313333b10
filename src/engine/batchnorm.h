/* batchnorm.h: torch.nn.BatchNorm2d with PyTorch's exact conventions.
 *
 * Groups ("ghost" batch norm, Hoffer, Hubara and Soudry 2017): with G > 1
 * groups, a training forward normalises each group of B / G consecutive
 * images with that group's own statistics, as G processes that each hold
 * one group compute them (data-parallel training without synchronised
 * batch norm, docs/distributed.md); the running statistics move by the mean
 * of the groups' statistics, as the mean of those G processes' running
 * statistics does. One group (the default) is plain batch norm. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct
{
  int channels;
  int spatial;              /* H*W per image */
  float eps;                /* 1e-5 */
  float momentum;           /* 0.1: running = (1 - m) * running + m * batch */
  float *weight, *bias;     /* (C) inside the parameter block */
  float *grad_weight, *grad_bias;
  float *running_mean;      /* (C) */
  float *running_var;       /* (C), updated with the unbiased batch variance */
  int64_t num_batches_tracked;
  int groups;               /* G: statistics per B / G images, 1 */
  float *saved_mean;        /* (C, G) of the last training forward */
  float *saved_invstd;      /* (C, G) 1 / sqrt(biased var + eps) */
  const float *saved_inp;   /* (C, B, H, W) */
  bool saved_relu;          /* the last forward was batchnorm2d_forward_relu */
  float *eval_scale, *eval_shift;  /* (C) batchnorm2d_eval_affine's */
} BatchNorm2d;

/* Allocates the running statistics and saved-statistics vectors; weight and
 * bias are bound later into the network's parameter block. Returns false on
 * out-of-memory. */
bool batchnorm2d_init (BatchNorm2d *self, int channels, int spatial);
void batchnorm2d_clear (BatchNorm2d *self);

/* Statistics per group of B / groups images from the next training forward
 * on (above); the batch must then be a multiple of groups. Returns false on
 * out-of-memory, leaving the groups as they were. */
bool batchnorm2d_set_groups (BatchNorm2d *self, int groups);

/* inp (C, B, H, W) -> out (C, B, H, W). Training mode normalises with the
 * batch's biased variance and updates the running statistics; evaluation mode
 * uses the running statistics. out may equal inp only in evaluation mode. */
void batchnorm2d_forward (BatchNorm2d *self, float *out, const float *inp,
                          int batch, bool training);

/* dout (C, B, H, W) -> dinp (C, B, H, W), grad_weight, grad_bias (written).
 * Training mode only; dinp may equal dout. */
void batchnorm2d_backward (BatchNorm2d *self, float *dinp, const float *dout,
                           int batch);

/* The same followed by a ReLU, fused into one pass over the activations:
 *   forward:  out = relu (bn (inp)), as batchnorm2d_forward then relu_forward;
 *   backward: after that forward, the gradient dout of the ReLU is masked
 *             by the ReLU's output > 0 and then goes through the batch norm
 *             (dinp may equal dout), as relu_backward then
 *             batchnorm2d_backward. The mask is recomputed from the saved
 *             input with the forward's scale and shift, so the weight and
 *             bias must not change in between (an optimiser's step comes
 *             after the backward). */
void batchnorm2d_forward_relu (BatchNorm2d *self, float *out, const float *inp,
                               int batch, bool training);

/* out = relu (bn (inp) + residual), as batchnorm2d_forward then
 * add_relu_forward (layers.h), in one pass: a residual block's last batch
 * norm, its shortcut and its ReLU. out may alias neither input. Its
 * backward is relu_backward then batchnorm2d_backward. */
void batchnorm2d_forward_add_relu (BatchNorm2d *self, float *out,
                                   const float *inp, const float *residual,
                                   int batch, bool training);

/* Evaluation mode's map as a per-channel affine one, y = scale * x + shift
 * (the running statistics folded with the weight and bias the same way
 * batchnorm2d_forward's evaluation mode folds them), into
 * self->eval_scale and self->eval_shift, which it returns through scale
 * and shift: for a convolution to apply in its own output pass
 * (conv2d_forward_affine). */
void batchnorm2d_eval_affine (BatchNorm2d *self, const float **scale,
                              const float **shift);

/* y[0..n) = x * scale + shift, plus r[0..n) where r is not NULL (a residual
 * comes with its ReLU: relu is taken as true then), then max (0, .) where
 * relu (0 for NaN too); y may equal x. The map every batch norm pass
 * applies to a channel, for a convolution to apply in its own output pass
 * (conv.c's im2col path). */
void batchnorm_affine_run (float *y, const float *x, const float *r,
                           size_t n, float scale, float shift, bool relu);

void batchnorm2d_backward_relu (BatchNorm2d *self, float *dinp,
                                const float *dout, int batch);

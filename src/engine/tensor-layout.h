/* tensor-layout.h: how the engine lays out activations, in one place.
 *
 * Images enter the network as PyTorch does, (B, C, H, W) row-major ("NCHW").
 * Inside the network every activation is stored channel-major, (C, B, H, W)
 * ("CNHW"): a convolution over the whole batch is then one matrix product
 *   out (OC, B*OH*OW) = W (OC, C*KH*KW) x col (C*KH*KW, B*OH*OW)
 * whose result is already in CNHW, and batch normalisation reads each channel
 * as one contiguous run of B*H*W numbers. The embedding leaves as (B, D).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef enum
{
  DTYPE_F32,
  DTYPE_I64,
} DType;

/* A named tensor of the model's state, in the order and under the names of
 * the reference's PyTorch state_dict. Trainable parameters point into the
 * network's flat parameter block; buffers (BN running statistics and
 * num_batches_tracked) point into the layers. */
typedef struct
{
  char name[64];
  DType dtype;
  int ndim;
  int64_t shape[4];
  size_t numel;
  void *data;        /* float * or int64_t * */
  float *grad;       /* NULL for buffers */
  int trainable;     /* 1 for parameters, 0 for buffers */
} StateEntry;

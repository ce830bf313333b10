/* checkpoint.h: a training run's state in one safetensors file.
 *
 * Tensor names:
 *   <state_dict name>                       every ResNet StateEntry, in the
 *                                           reference's PyTorch names (F32
 *                                           parameters and BN statistics,
 *                                           I64 num_batches_tracked, shape [])
 *   optimizer.momentum_buffer.<param name>  SGD momentum of each trainable
 *                                           parameter, its shape, F32 (only
 *                                           when the optimizer has a buffer)
 *   memory.*, and any names the caller adds  extra tensors of the caller
 * Metadata (strings):
 *   format                                  "instdisc-checkpoint 1"
 *   optimizer.has_momentum_buffer           "true" / "false", only when an
 *                                           optimizer was saved
 *   anything else the caller passes (epoch, iteration, config, ...)
 *
 * Dropping the optimizer. and memory. keys leaves a state_dict that the
 * reference PyTorch model takes with load_state_dict (strict=True).
 */
#pragma once

#include <glib.h>

#include "resnet.h"
#include "safetensors.h"
#include "sgd.h"

G_BEGIN_DECLS

#define CHECKPOINT_FORMAT_KEY "format"
#define CHECKPOINT_FORMAT "instdisc-checkpoint 1"
#define CHECKPOINT_HAS_MOMENTUM_KEY "optimizer.has_momentum_buffer"
#define CHECKPOINT_MOMENTUM_PREFIX "optimizer.momentum_buffer."
/* names under these prefixes never count as unexpected on load */
#define CHECKPOINT_OPTIMIZER_PREFIX "optimizer."
#define CHECKPOINT_MEMORY_PREFIX "memory."

/* Saves net's state, sgd's momentum (sgd may be NULL), n_extra caller
 * tensors (their names must not collide with the model's or the
 * optimizer's) and metadata (char * -> char *, may be NULL; the keys
 * "format" and "optimizer.has_momentum_buffer" are set here and override
 * the caller's) to path, atomically as safetensors_save. The data is
 * written straight from the network, nothing is copied. */
gboolean checkpoint_save (const char *path, const ResNet *net, const Sgd *sgd,
                          const SafetensorsTensor *extra, guint n_extra,
                          GHashTable *metadata, GError **error);

/* Reads path and, only when everything checks out, copies it into net and
 * (unless NULL) sgd; on failure neither is touched. Checks: a "format"
 * metadata, if present, is CHECKPOINT_FORMAT (so a plain PyTorch state_dict
 * saved as safetensors loads too); every state entry present with its exact
 * dtype and shape; every optimizer.* tensor a momentum buffer of a trainable
 * parameter with its shape; when sgd is given, the file has optimizer state
 * and, if it says it has a buffer, one per parameter; any other name must be
 * under memory. or listed in allowed_extra (a NULL-terminated array, may be
 * NULL; entries ending in '.' allow a whole prefix). Errors are
 * INSTDISC_IO_ERROR_MISMATCH naming the tensor, or those of
 * safetensors_file_load.
 *
 * Returns the opened file (transfer full) so the caller can read its extra
 * tensors (safetensors_file_lookup) and metadata
 * (safetensors_file_get_metadata); NULL on failure. */
SafetensorsFile *checkpoint_load (const char *path, ResNet *net, Sgd *sgd,
                                  const char *const *allowed_extra,
                                  GError **error);

/* checkpoint_load's checks and copy on a file the caller has loaded
 * already (for instance to check its own extra tensors first, without
 * reading a large file twice). FALSE with the same errors; on failure net
 * and sgd are untouched. */
gboolean checkpoint_restore (const SafetensorsFile *file, ResNet *net,
                             Sgd *sgd, const char *const *allowed_extra,
                             GError **error);

/* Checks the tensor called name in file against a dtype and shape the
 * caller expects, with the same messages as checkpoint_load ("file: tensor
 * memory.bank has shape [10, 128], expected [50000, 128]"); a missing
 * tensor is an error too. Returns the tensor, or NULL with error set. For
 * the caller's extra tensors. */
const SafetensorsTensor *checkpoint_expect_tensor (const SafetensorsFile *file,
                                                   const char *name,
                                                   DType dtype, int ndim,
                                                   const gint64 *shape,
                                                   GError **error);

G_END_DECLS

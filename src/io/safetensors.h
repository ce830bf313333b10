/* safetensors.h: reading and writing safetensors files
 * (8-byte little-endian header length, a JSON header naming each tensor's
 * dtype, shape and byte range, then the raw little-endian data). */
#pragma once

#include <glib.h>

#include "tensor-layout.h"

G_BEGIN_DECLS

#define INSTDISC_IO_ERROR (instdisc_io_error_quark ())
GQuark instdisc_io_error_quark (void);

typedef enum
{
  INSTDISC_IO_ERROR_TRUNCATED,   /* the file ends before its header says */
  INSTDISC_IO_ERROR_CORRUPT,     /* a header or field that cannot be parsed */
  INSTDISC_IO_ERROR_UNSUPPORTED, /* a valid file this program cannot use */
  INSTDISC_IO_ERROR_MISMATCH,    /* a tensor missing, extra, or of the wrong shape or dtype */
} InstdiscIoError;

typedef struct
{
  char *name;
  DType dtype;
  int ndim;
  gint64 shape[8];
  gsize numel;
  gpointer data;        /* numel values of dtype, host order */
} SafetensorsTensor;

typedef struct _SafetensorsFile SafetensorsFile;

/* Reads and validates the whole file: header JSON, dtypes, shapes, byte
 * ranges that tile the data exactly. Every error names the file. Problems
 * of the content are INSTDISC_IO_ERROR; those of the operating system (no
 * such file, permission denied, out of memory) are G_FILE_ERROR, the same
 * for safetensors_save. Tensor data is copied out of the file, each tensor
 * 64-byte aligned, and lives as long as the SafetensorsFile. */
SafetensorsFile *safetensors_file_load (const char *path, GError **error);
void safetensors_file_free (SafetensorsFile *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SafetensorsFile, safetensors_file_free)

guint safetensors_file_get_n_tensors (const SafetensorsFile *self);
const SafetensorsTensor *safetensors_file_get_tensor (const SafetensorsFile *self,
                                                      guint i);
const SafetensorsTensor *safetensors_file_lookup (const SafetensorsFile *self,
                                                  const char *name);
/* a string of the header's __metadata__ object, or NULL */
const char *safetensors_file_get_metadata (const SafetensorsFile *self,
                                           const char *key);
/* the whole __metadata__ object (char * -> char *), owned by self */
GHashTable *safetensors_file_get_metadata_table (const SafetensorsFile *self);
/* the path as given to safetensors_file_load, for messages (UTF-8) */
const char *safetensors_file_get_path (const SafetensorsFile *self);

/* Writes tensors (in the given order) and optional string metadata
 * (char * -> char *) to path atomically: a temporary file in the same folder,
 * flushed, then renamed over path. */
gboolean safetensors_save (const char *path, const SafetensorsTensor *tensors,
                           guint n_tensors, GHashTable *metadata,
                           GError **error);

G_END_DECLS

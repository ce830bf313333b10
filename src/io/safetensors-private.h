/* safetensors-private.h: what the files of the safetensors format share.
 *
 * safetensors.h's functions in three files:
 *   safetensors.c          the error domain, dtypes, and reading a file
 *   safetensors-json.c     the parser of the header's JSON
 *   safetensors-write.c    writing a file
 * Nothing outside these files includes this header. */
#pragma once

#include "safetensors.h"

G_BEGIN_DECLS

/* A header larger than this is refused before anything is allocated for it:
 * a real header is a few hundred bytes per tensor (ResNet-50's 320 tensors
 * take about 40 KB), and parsing the JSON costs some 25 times its size in
 * memory, so 16 MiB bounds that at about 400 MB. */
#define HEADER_MAX_BYTES ((guint64) 16 * 1024 * 1024)
#define MAX_DIMS G_N_ELEMENTS (((SafetensorsTensor *) NULL)->shape)

/* ---- safetensors.c ---- */

/* bytes an element of dtype takes, or 0 for an unknown dtype */
gsize safetensors_dtype_size (DType dtype);
/* the dtype as the header names it, or NULL for an unknown dtype */
const char *safetensors_dtype_name (DType dtype);
/* Swaps every element between little-endian and host order; a no-op on the
 * little-endian machines we build for, kept so a big-endian build is right. */
void safetensors_swap_to_from_le (gpointer data, gsize numel,
                                  gsize elem_size);

/* ---- safetensors-json.c ----
 *
 * Values: objects, arrays, strings and integers. true/false/null and
 * fractional numbers do not occur in a valid header and are refused. The
 * parser builds a small tree. */

typedef enum
{
  JSON_OBJECT,
  JSON_ARRAY,
  JSON_STRING,
  JSON_INTEGER,
} JsonKind;

typedef struct _JsonValue JsonValue;
struct _JsonValue
{
  JsonKind kind;
  char *string;            /* JSON_STRING: NUL-free UTF-8 */
  gint64 integer;          /* JSON_INTEGER */
  GPtrArray *items;        /* JSON_ARRAY: JsonValue *; JSON_OBJECT: values */
  GPtrArray *keys;         /* JSON_OBJECT: char *, parallel to items */
};

void safetensors_json_value_free (gpointer p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (JsonValue, safetensors_json_value_free)

/* Parses the len bytes at text as one JSON value with nothing but white
 * space after it; errors are INSTDISC_IO_ERROR_CORRUPT naming path and the
 * byte at fault. */
JsonValue *safetensors_json_parse (const char *path, const char *text,
                                   gsize len, GError **error);

G_END_DECLS

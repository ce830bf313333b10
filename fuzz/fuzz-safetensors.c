/* fuzz-safetensors.c: safetensors files through safetensors_file_load,
 * the reader of checkpoints and of weights from elsewhere.
 *
 * What loads is used as the checkpoint reader uses it: every tensor found
 * by its name, its numel matching its shape, its data read whole (a tensor
 * whose data is shorter than its shape says is an AddressSanitizer
 * report), and the metadata read. */
#include "fuzz-common.h"
#include "safetensors.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *path = fuzz_write ("f.safetensors", data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (SafetensorsFile) file = safetensors_file_load (path, &error);
  FUZZ_CHECK ((file == NULL) != (error == NULL));
  if (!file)
    return 0;
  guint8 sum = 0;
  for (guint i = 0; i < safetensors_file_get_n_tensors (file); i++)
    {
      const SafetensorsTensor *t = safetensors_file_get_tensor (file, i);
      FUZZ_CHECK (safetensors_file_lookup (file, t->name) == t);
      FUZZ_CHECK (t->ndim >= 0 && t->ndim <= 8);
      gsize numel = 1;
      for (int d = 0; d < t->ndim; d++)
        numel *= (gsize) t->shape[d];
      FUZZ_CHECK (numel == t->numel);
      gsize bytes = t->numel * (t->dtype == DTYPE_F32 ? 4 : 8);
      const guint8 *p = t->data;
      for (gsize b = 0; b < bytes; b++)
        sum += p[b];
    }
  GHashTableIter iter;
  gpointer key, value;
  g_hash_table_iter_init (&iter, safetensors_file_get_metadata_table (file));
  while (g_hash_table_iter_next (&iter, &key, &value))
    FUZZ_CHECK (g_utf8_validate (key, -1, NULL)
                && g_utf8_validate (value, -1, NULL)
                && safetensors_file_get_metadata (file, key) == value);
  /* keep the reads from being optimised away */
  volatile guint8 sink = sum;
  (void) sink;
  return 0;
}

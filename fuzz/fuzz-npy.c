/* fuzz-npy.c: .npy files through npy_load, the reader of exported
 * features and labels.
 *
 * What loads is read whole: its shape's product of 4-byte values (an
 * array shorter than its shape is an AddressSanitizer report). */
#include "fuzz-common.h"
#include "npy.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *path = fuzz_write ("f.npy", data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (NpyArray) array = npy_load (path, &error);
  FUZZ_CHECK ((array == NULL) != (error == NULL));
  if (!array)
    return 0;
  FUZZ_CHECK ((array->ndim == 1 || array->ndim == 2) && array->data);
  FUZZ_CHECK (array->dtype == NPY_FLOAT32 || array->dtype == NPY_INT32);
  gsize numel = 1;
  for (int d = 0; d < array->ndim; d++)
    {
      FUZZ_CHECK (array->shape[d] >= 0);
      numel *= (gsize) array->shape[d];
    }
  /* the data of a valid file is at most the file */
  FUZZ_CHECK (numel <= size / 4);
  const guint8 *p = array->data;
  guint8 sum = 0;
  for (gsize b = 0; b < numel * 4; b++)
    sum += p[b];
  volatile guint8 sink = sum;
  (void) sink;
  return 0;
}

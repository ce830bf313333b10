/* check.c: the engine's aligned allocation. */
#include "check.h"

#include <string.h>

void *
engine_alloc (size_t n_bytes)
{
  /* 64-byte alignment for AVX-512 loads; aligned_alloc wants a multiple */
  size_t rounded = (n_bytes + 63) & ~(size_t) 63;
  void *ptr = aligned_alloc (64, rounded ? rounded : 64);
  if (ptr)
    memset (ptr, 0, rounded ? rounded : 64);
  return ptr;
}

void
engine_free (void *ptr)
{
  free (ptr);
}

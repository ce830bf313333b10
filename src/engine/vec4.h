/* vec4.h: 4-float vectors (GCC vector extensions) for the engine's
 * passes over activations that are built for the baseline x86-64.
 *
 * GCC vectorises neither a choice such as a ReLU's in a loop of scalars
 * (`v > 0 ? v : 0` becomes one compare and conditional move a value) nor
 * a comparison of vectors wider than the target's 4 floats (lowered the
 * same way, lane by lane). Written with these vectors, a ReLU or its mask
 * is one compare and one AND for four values. */
#pragma once

#include <string.h>

typedef float Floats4 __attribute__ ((vector_size (16)));
typedef int Ints4 __attribute__ ((vector_size (16)));

static inline Floats4
load_floats4 (const float *p)
{
  Floats4 v;
  memcpy (&v, p, sizeof v);
  return v;
}

static inline void
store_floats4 (float *p, Floats4 v)
{
  memcpy (p, &v, sizeof v);
}

/* v where mask_source > 0, else +0: lane by lane, as `s > 0 ? v : 0`
 * (0 for a NaN source too) */
static inline Floats4
keep_where_positive4 (Floats4 v, Floats4 mask_source)
{
  return (Floats4) ((Ints4) v & (mask_source > 0.0f));
}

/* max (v, 0) as `v > 0 ? v : 0`: +0 for -0 and for NaN */
static inline Floats4
relu4 (Floats4 v)
{
  return keep_where_positive4 (v, v);
}

/* rng.h: the one random number generator of the engine.
 *
 * A counter-free 64-bit generator (xoshiro256**) seeded with splitmix64, so a
 * seed fully determines every stream; its whole state is four integers that a
 * checkpoint can store and restore.
 */
#pragma once

#include <stdint.h>

typedef struct
{
  uint64_t s[4];
} Rng;

void rng_seed (Rng *self, uint64_t seed);
uint64_t rng_next_u64 (Rng *self);
/* uniform in [0, 1) with 24 random bits, exactly representable as a float */
float rng_uniform (Rng *self);
/* uniform integer in [0, n) without modulo bias */
uint64_t rng_below (Rng *self, uint64_t n);
/* standard normal (Box-Muller) */
float rng_normal (Rng *self);

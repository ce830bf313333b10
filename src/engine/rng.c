/* rng.c: xoshiro256** (Blackman & Vigna), seeded through splitmix64. */
#include "rng.h"

#include <math.h>

static uint64_t
splitmix64 (uint64_t *x)
{
  uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void
rng_seed (Rng *self, uint64_t seed)
{
  for (int i = 0; i < 4; i++)
    self->s[i] = splitmix64 (&seed);
}

static uint64_t
rotl (uint64_t x, int k)
{
  return (x << k) | (x >> (64 - k));
}

uint64_t
rng_next_u64 (Rng *self)
{
  uint64_t *s = self->s;
  uint64_t result = rotl (s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl (s[3], 45);
  return result;
}

float
rng_uniform (Rng *self)
{
  return (float) (rng_next_u64 (self) >> 40) * (1.0f / 16777216.0f);
}

uint64_t
rng_below (Rng *self, uint64_t n)
{
  /* rejection: drop the top partial copy of [0, n) */
  uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do
    x = rng_next_u64 (self);
  while (x >= limit);
  return x % n;
}

float
rng_normal (Rng *self)
{
  float u1 = rng_uniform (self), u2 = rng_uniform (self);
  if (u1 < 1e-30f)
    u1 = 1e-30f;
  return sqrtf (-2.0f * logf (u1)) * cosf (6.28318530718f * u2);
}

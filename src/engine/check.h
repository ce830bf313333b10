/* check.h: always-on invariant checks for the engine.
 *
 * An ENGINE_CHECK guards a programming invariant (a shape, an index): when it
 * fails the program is wrong, so it prints file:line and aborts, in release
 * builds too. Anything a user can cause (a bad file, an impossible size) is
 * reported by the caller through a status value instead, never through this.
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>

#define ENGINE_CHECK(cond)                                                    \
  do {                                                                        \
    if (__builtin_expect (!(cond), 0))                                        \
      {                                                                       \
        fprintf (stderr, "%s:%d: engine invariant failed: %s\n", __FILE__,    \
                 __LINE__, #cond);                                            \
        abort ();                                                             \
      }                                                                       \
  } while (0)

/* Allocation that cannot fail quietly: 64-byte aligned, zero-filled.
 * Returns NULL only when the system is out of memory; callers that size
 * buffers from user input check it. */
void *engine_alloc (size_t n_bytes);
void engine_free (void *ptr);

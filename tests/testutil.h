/* testutil.h: comparisons that report the largest difference and fail;
 * removing a temporary folder. */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stddef.h>

/* Largest |a - b| / (atol + rtol * |b|) over n values; > 1 fails. Prints the
 * largest absolute difference and where, so a failing run says by how much. */
static inline double
test_max_violation (const char *what, const float *a, const float *b, size_t n,
                    double atol, double rtol)
{
  double worst = 0.0, worst_abs = 0.0;
  size_t where = 0;
  for (size_t i = 0; i < n; i++)
    {
      double diff = fabs ((double) a[i] - (double) b[i]);
      double v = diff / (atol + rtol * fabs ((double) b[i]));
      if (isnan (diff))
        v = INFINITY;
      if (v > worst)
        {
          worst = v;
          where = i;
        }
      if (diff > worst_abs)
        worst_abs = diff;
    }
  g_test_message ("%s: %zu values, max |diff| %.3g, worst at %zu "
                  "(%.7g vs %.7g), %.3g of tolerance",
                  what, n, worst_abs, where, n ? a[where] : 0.0,
                  n ? b[where] : 0.0, worst);
  return worst;
}

#define assert_all_close(what, a, b, n, atol, rtol)                           \
  do {                                                                        \
    double violation_ = test_max_violation ((what), (a), (b), (n), (atol),    \
                                            (rtol));                          \
    if (!(violation_ <= 1.0))                                                 \
      g_error ("%s: differs beyond atol %g rtol %g (%.3g of tolerance)",     \
               (what), (double) (atol), (double) (rtol), violation_);         \
  } while (0)

/* Removes dir and everything below it, as far as it can (folders made
 * read-only by a test are made writable first); a missing dir is fine. */
static inline void
test_remove_tree (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  if (!d)
    {
      g_remove (dir);
      return;
    }
  g_chmod (dir, 0700);
  const char *name;
  while ((name = g_dir_read_name (d)))
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_DIR))
        test_remove_tree (p);
      else
        g_unlink (p);
    }
  g_rmdir (dir);
}

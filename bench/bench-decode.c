/* bench-decode.c: how long one image file takes to become a network
 * input in a full-resolution folder set (docs/data.md, "Photo collections
 * at full resolution"), on one core: the training view (decode, the
 * ImageNet preset's random resized crop, grey, jitter, flip, normalise:
 * augment_train_full_resolution) and the test view (decode straight to
 * the shorter side of size * 256 / 224, centre crop, normalise:
 * dataset_decode_file + augment_test).
 *
 *   bench-decode [--size N] [--reps N] FILE...
 *
 * Prints one tab-separated line per file: name, width x height, the
 * median milliseconds of a training view and of a test view over --reps
 * calls (each training call a new sample position, so a new crop), and
 * the peak resident memory so far. tools/bench-decode-vs-pil runs it
 * beside the same work in PIL and torchvision. */
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "augment.h"
#include "bench-util.h"
#include "dataset.h"

/* the median milliseconds of reps training views of path */
static double
train_view_ms (const AugmentOptions *options, const char *path, int size,
               int reps)
{
  g_autofree float *out = g_new (float, 3 * size * size);
  g_autofree double *ms = g_new (double, reps);
  for (int r = 0; r < reps; r++)
    {
      g_autoptr (GError) error = NULL;
      double t0 = bench_now ();
      if (!augment_train_full_resolution (out, options, path, 3, 1, 0, r,
                                          &error))
        {
          fprintf (stderr, "bench-decode: %s\n", error->message);
          exit (1);
        }
      ms[r] = 1e3 * (bench_now () - t0);
    }
  return bench_median (ms, reps);
}

/* the median milliseconds of reps test views of path */
static double
test_view_ms (const AugmentOptions *options, const char *path, int size,
              int reps)
{
  g_autofree guint8 *image = g_new (guint8, 3 * size * size);
  g_autofree float *out = g_new (float, 3 * size * size);
  g_autofree double *ms = g_new (double, reps);
  for (int r = 0; r < reps; r++)
    {
      g_autoptr (GError) error = NULL;
      double t0 = bench_now ();
      if (!dataset_decode_file (path, 3, size, DATASET_RESIZE_TEST_VIEW,
                                image, &error))
        {
          fprintf (stderr, "bench-decode: %s\n", error->message);
          exit (1);
        }
      augment_test (options, image, 3, size, size, out);
      ms[r] = 1e3 * (bench_now () - t0);
    }
  return bench_median (ms, reps);
}

int
main (int argc, char **argv)
{
  int size = 224, reps = 5;
  int first = 1;
  for (; first < argc && argv[first][0] == '-'; first++)
    {
      if (!strcmp (argv[first], "--size") && first + 1 < argc)
        size = atoi (argv[++first]);
      else if (!strcmp (argv[first], "--reps") && first + 1 < argc)
        reps = atoi (argv[++first]);
      else
        {
          fprintf (stderr, "usage: bench-decode [--size N] [--reps N] FILE...\n");
          return 2;
        }
    }
  if (first == argc || size < 8 || reps < 1)
    {
      fprintf (stderr, "usage: bench-decode [--size N] [--reps N] FILE...\n");
      return 2;
    }

  AugmentOptions options;
  augment_options_init_imagenet (&options, size);
  bench_print_loadavg ("before");
  printf ("file\tpixels\ttrain_ms\ttest_ms\tpeak_mib\n");
  for (int i = first; i < argc; i++)
    {
      int width = 0, height = 0;
      if (!gdk_pixbuf_get_file_info (argv[i], &width, &height))
        {
          fprintf (stderr, "bench-decode: %s: not an image GdkPixbuf reads\n",
                   argv[i]);
          return 1;
        }
      double train = train_view_ms (&options, argv[i], size, reps);
      double test = test_view_ms (&options, argv[i], size, reps);
      g_autofree char *name = g_path_get_basename (argv[i]);
      printf ("%s\t%dx%d\t%.1f\t%.1f\t%.0f\n", name, width, height, train,
              test, bench_peak_memory_mib ());
      fflush (stdout);
    }
  bench_print_loadavg ("after");
  return 0;
}

/* test-data.h: tiny data sets the tests write for themselves. */
#pragma once

#include <fcntl.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <utime.h>

#include "dataset.h"

#define TEST_TOY_SIDE 28
#define TEST_TOY_CLASSES 4

/* Writes a toy IDX data set into dir as STEM-images-idx3-ubyte and
 * STEM-labels-idx1-ubyte: n_images of TEST_TOY_SIDE x TEST_TOY_SIDE, image
 * i of class i % TEST_TOY_CLASSES, each class a bright half (left, top,
 * right, bottom) with noise (GRand seed `seed`), so a couple of epochs
 * separate them. Returns the images' path (free it). */
static inline char *
test_write_toy_idx_seeded (const char *dir, const char *stem, int n_images,
                           guint32 seed)
{
  const int side = TEST_TOY_SIDE;
  const gsize header = 16, pixels = (gsize) n_images * side * side;
  g_autofree guint8 *images = g_new (guint8, header + pixels);
  g_autofree guint8 *labels = g_new (guint8, 8 + n_images);
  const guint32 image_header[4] = { GUINT32_TO_BE (0x803),
                                    GUINT32_TO_BE (n_images),
                                    GUINT32_TO_BE (side), GUINT32_TO_BE (side) };
  const guint32 label_header[2] = { GUINT32_TO_BE (0x801),
                                    GUINT32_TO_BE (n_images) };
  memcpy (images, image_header, header);
  memcpy (labels, label_header, 8);
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  for (int i = 0; i < n_images; i++)
    {
      int c = i % TEST_TOY_CLASSES;
      labels[8 + i] = (guint8) c;
      for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++)
          {
            gboolean bright = (c == 0 && x < side / 2) || (c == 1 && y < side / 2)
                              || (c == 2 && x >= side / 2)
                              || (c == 3 && y >= side / 2);
            int v = (bright ? 200 : 30) + g_rand_int_range (rand, -25, 26);
            images[header + ((gsize) i * side + y) * side + x] = (guint8) v;
          }
    }
  g_autofree char *images_name = g_strconcat (stem, "-images-idx3-ubyte", NULL);
  g_autofree char *labels_name = g_strconcat (stem, "-labels-idx1-ubyte", NULL);
  char *images_path = g_build_filename (dir, images_name, NULL);
  g_autofree char *labels_path = g_build_filename (dir, labels_name, NULL);
  g_autoptr (GError) error = NULL;
  g_file_set_contents (images_path, (char *) images, header + pixels, &error);
  g_assert_no_error (error);
  g_file_set_contents (labels_path, (char *) labels, 8 + n_images, &error);
  g_assert_no_error (error);
  return images_path;
}

/* The same with seed 3. */
static inline char *
test_write_toy_idx (const char *dir, const char *stem, int n_images)
{
  return test_write_toy_idx_seeded (dir, stem, n_images, 3);
}

/* A toy data set with both splits, as Fashion-MNIST's files are laid out:
 * the folder dir/NAME holding train-{images,labels}-... (n_train images,
 * seed 3) and t10k-{images,labels}-... (n_test images of their own noise,
 * seed 4). Returns the folder, which is the data set's spec (free it). */
static inline char *
test_write_toy_splits (const char *dir, const char *name, int n_train,
                       int n_test)
{
  char *folder = g_build_filename (dir, name, NULL);
  g_assert_cmpint (g_mkdir_with_parents (folder, 0755), ==, 0);
  g_free (test_write_toy_idx_seeded (folder, "train", n_train, 3));
  g_free (test_write_toy_idx_seeded (folder, "t10k", n_test, 4));
  return folder;
}

/* N random 28x28 grey images in memory, image i of class i % 4 (a bright
 * square at a class-dependent height, plus noise from seed): enough to
 * train a few steps. */
static inline Dataset *
test_generated_dataset (int n, guint32 seed)
{
  Dataset *d = dataset_new_in_memory ("generated", n, 1, 28, 28);
  d->n_classes = 4;
  GRand *rand = g_rand_new_with_seed (seed);
  for (int i = 0; i < n; i++)
    {
      d->labels[i] = i % 4;
      /* a class-dependent bright square plus noise */
      for (int p = 0; p < 28 * 28; p++)
        {
          int y = p / 28, x = p % 28;
          gboolean in_square = (y / 7 == d->labels[i]) && x >= 7 && x < 21;
          d->pixels[(gsize) i * 784 + p]
              = (guint8) MIN (255, (in_square ? 160 : 20)
                                       + g_rand_int_range (rand, 0, 60));
        }
    }
  g_rand_free (rand);
  return d;
}

/* An image folder dir/NAME with class sub-folders c0, c1, ... each holding
 * per_class PNGs img00.png, img01.png, ... of side x side pixels: class c's
 * bright half as in test_write_toy_idx, with noise from seed (image k of
 * class c has its own), so every file differs; grey, or with colour a
 * colour image (V, V / 2, 255 - V). Returns the folder, the data set's
 * spec (free it). */
static inline char *
test_write_image_folder (const char *dir, const char *name, int n_classes,
                         int per_class, int side, gboolean colour,
                         guint32 seed)
{
  char *folder = g_build_filename (dir, name, NULL);
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  for (int c = 0; c < n_classes; c++)
    for (int k = 0; k < per_class; k++)
      {
        g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB,
                                                       FALSE, 8, side, side);
        guint8 *p = gdk_pixbuf_get_pixels (pixbuf);
        const int stride = gdk_pixbuf_get_rowstride (pixbuf);
        for (int y = 0; y < side; y++)
          for (int x = 0; x < side; x++)
            {
              int q = c % 4;
              gboolean bright = (q == 0 && x < side / 2)
                                || (q == 1 && y < side / 2)
                                || (q == 2 && x >= side / 2)
                                || (q == 3 && y >= side / 2);
              guint8 v = (guint8) ((bright ? 200 : 30)
                                   + g_rand_int_range (rand, -25, 26));
              guint8 *rgb = p + y * stride + 3 * x;
              rgb[0] = v;
              rgb[1] = colour ? v / 2 : v;
              rgb[2] = colour ? 255 - v : v;
            }
        g_autofree char *file = g_strdup_printf ("c%d/img%02d.png", c, k);
        g_autofree char *path = g_build_filename (folder, file, NULL);
        g_autofree char *parent = g_path_get_dirname (path);
        g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
        g_autoptr (GError) error = NULL;
        gdk_pixbuf_save (pixbuf, path, "png", &error, NULL);
        g_assert_no_error (error);
      }
  return folder;
}

/* Gives path another modification time, a second later, keeping its
 * bytes: what a copy or an edit that restores the content leaves. */
static inline void
test_touch_later (const char *path)
{
  GStatBuf st;
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  struct utimbuf times = { st.st_atime, st.st_mtime + 1 };
  g_assert_cmpint (g_utime (path, &times), ==, 0);
}

/* Damages the middle of the file at path (an image's pixel data) and puts
 * back its modification time to the nanosecond: the same size and time,
 * so only reading it finds out. */
static inline void
test_corrupt_keeping_stamp (const char *path)
{
  struct stat st;
  g_assert_cmpint (stat (path, &st), ==, 0);
  g_autofree char *bytes = NULL;
  gsize length = 0;
  g_assert_true (g_file_get_contents (path, &bytes, &length, NULL));
  g_assert_cmpuint (length, >, 64);
  for (gsize i = length / 2; i < length / 2 + 16; i++)
    bytes[i] ^= 0x5A;
  g_assert_true (g_file_set_contents (path, bytes, (gssize) length, NULL));
  const struct timespec times[2] = { st.st_atim, st.st_mtim };
  g_assert_cmpint (utimensat (AT_FDCWD, path, times, 0), ==, 0);
}

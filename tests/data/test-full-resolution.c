/* test-full-resolution.c: a folder of large photographs read at full
 * resolution (dataset.h, DATASET_DECODE_FULL): the set holds its file list
 * and no pixels, the test view is torchvision's Resize + CenterCrop at
 * 256/224 of the size, training crops come from the picture at its own size
 * and are deterministic per (seed, epoch, position), and unreadable files
 * are skipped or reported, not fatal. Every image is written here. */
#include <math.h>
#include <string.h>

#include "data-fixtures.h"
#include "loader.h"

enum { PHOTO_W = 640, PHOTO_H = 480, SIZE = 64, N_PHOTOS = 5 };

/* The top 60 rows red, below them the left half white, the right black:
 * edges that land in different places under different resizes. */
static void
banded_pixel (int x, int y, guint8 rgb[3], gpointer user)
{
  if (y < 60)
    {
      rgb[0] = 255;
      rgb[1] = rgb[2] = 0;
      return;
    }
  guint8 v = x < PHOTO_W / 2 ? 255 : 0;
  rgb[0] = rgb[1] = rgb[2] = v;
}

/* A smooth colour gradient: every crop of it is different. */
static void
gradient_pixel (int x, int y, guint8 rgb[3], gpointer user)
{
  rgb[0] = (guint8) (x * 255 / (PHOTO_W - 1));
  rgb[1] = (guint8) (y * 255 / (PHOTO_H - 1));
  rgb[2] = (guint8) (((x + y) * GPOINTER_TO_INT (user)) & 0xff);
}

static char *
save_pixbuf (const char *dir, const char *name, GdkPixbuf *pixbuf,
             const char *type)
{
  char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;
  gdk_pixbuf_save (pixbuf, path, type, &error, NULL);
  g_assert_no_error (error);
  return path;
}

/* dir/photo0.png (banded), photo1..4 (gradients, JPEG and PNG) and
 * dir/broken.jpg, which is not a JPEG. */
static char *
write_photo_folder (void)
{
  char *dir = fixture_tmpdir ();
  g_autoptr (GdkPixbuf) banded
      = fixture_pixbuf (PHOTO_W, PHOTO_H, banded_pixel, NULL);
  g_free (save_pixbuf (dir, "photo0.png", banded, "png"));
  for (int i = 1; i < N_PHOTOS; i++)
    {
      g_autoptr (GdkPixbuf) gradient
          = fixture_pixbuf (PHOTO_W, PHOTO_H, gradient_pixel,
                            GINT_TO_POINTER (i));
      g_autofree char *name = g_strdup_printf ("photo%d.%s", i,
                                               i % 2 ? "jpg" : "png");
      g_free (save_pixbuf (dir, name, gradient, i % 2 ? "jpeg" : "png"));
    }
  g_free (fixture_write (dir, "broken.jpg", "not a JPEG at all\n", 18));
  return dir;
}

static Dataset *
open_photos (const char *dir, int size, DatasetDecode decode)
{
  DatasetOptions options;
  dataset_options_init_default (&options);
  options.image_size = size;
  options.decode = decode;
  options.holdout_every = 0;
  options.channels = 3;
  g_autoptr (GError) error = NULL;
  Dataset *data = dataset_open (dir, "train", &options, &error);
  g_assert_no_error (error);
  return data;
}

static void
test_view_side (void)
{
  g_assert_cmpint (dataset_test_view_side (224), ==, 256);
  g_assert_cmpint (dataset_test_view_side (64), ==, 73);
  g_assert_cmpint (dataset_test_view_side (96), ==, 109);
  g_assert_cmpint (dataset_test_view_side (128), ==, 146);
  g_assert_cmpint (dataset_test_view_side (160), ==, 182);
}

/* (a) and (d): the set is its file list, the broken file skipped and
 * named; AUTO chooses full resolution from 64 pixels up only. */
static void
test_file_list_only (void)
{
  g_autofree char *dir = write_photo_folder ();
  g_autoptr (Dataset) data = open_photos (dir, SIZE, DATASET_DECODE_AUTO);
  g_assert_true (data->full_resolution);
  g_assert_cmpint (data->resize, ==, DATASET_RESIZE_TEST_VIEW);
  g_assert_null (data->pixels);
  g_assert_cmpint (data->n, ==, N_PHOTOS);
  g_assert_cmpint (data->height, ==, SIZE);
  g_assert_cmpint (data->n_skipped, ==, 1);
  g_assert_nonnull (strstr (data->skipped[0], "broken.jpg"));

  g_autoptr (Dataset) small = open_photos (dir, 32, DATASET_DECODE_AUTO);
  g_assert_false (small->full_resolution);
  g_autoptr (Dataset) forced = open_photos (dir, 32, DATASET_DECODE_FULL);
  g_assert_true (forced->full_resolution);
  g_autoptr (Dataset) square = open_photos (dir, SIZE, DATASET_DECODE_SQUARE);
  g_assert_false (square->full_resolution);
  fixture_rmtree (dir);
}

static guint8
pixel_at (const guint8 *image, int c, int x, int y)
{
  return image[(gsize) c * SIZE * SIZE + (gsize) y * SIZE + x];
}

/* (b): the banded photo's test view. 640 x 480 -> shorter side 73 ->
 * 97 x 73, centre crop 64 from (16, 4): the red band (60 of 480 rows,
 * 9.1 of 73) ends at crop row 5; the white-black edge at column 32.5. The
 * square read (shorter side 64, crop from row 0) keeps the band to row 8. */
static void
test_test_view (void)
{
  g_autofree char *dir = write_photo_folder ();
  g_autoptr (Dataset) data = open_photos (dir, SIZE, DATASET_DECODE_FULL);
  g_assert_true (g_str_has_suffix (data->paths[0], "photo0.png"));
  g_autofree guint8 *image = g_malloc (3 * SIZE * SIZE);
  g_autoptr (GError) error = NULL;
  g_assert_true (dataset_get_image (data, 0, image, &error));
  g_assert_no_error (error);
  for (int x = 0; x < SIZE; x += 7)
    for (int y = 0; y <= 3; y++)
      {
        g_assert_cmpint (pixel_at (image, 0, x, y), ==, 255);
        g_assert_cmpint (pixel_at (image, 1, x, y), ==, 0);
      }
  for (int y = 7; y < SIZE; y++)
    {
      for (int x = 0; x <= 30; x++)
        for (int c = 0; c < 3; c++)
          g_assert_cmpint (pixel_at (image, c, x, y), ==, 255);
      for (int x = 35; x < SIZE; x++)
        for (int c = 0; c < 3; c++)
          g_assert_cmpint (pixel_at (image, c, x, y), ==, 0);
    }

  /* the square read differs exactly where the band does */
  g_autoptr (Dataset) square = open_photos (dir, SIZE, DATASET_DECODE_SQUARE);
  g_assert_true (dataset_get_image (square, 0, image, &error));
  g_assert_cmpint (pixel_at (image, 1, 5, 7), ==, 0);
  g_assert_cmpint (pixel_at (image, 0, 5, 7), ==, 255);

  /* a query image is read the same way as the set's own */
  g_autofree guint8 *query = g_malloc (3 * SIZE * SIZE);
  g_assert_true (dataset_get_image (data, 0, image, &error));
  g_assert_true (dataset_decode_file (data->paths[0], 3, SIZE, data->resize,
                                      query, &error));
  g_assert_cmpmem (query, 3 * SIZE * SIZE, image, 3 * SIZE * SIZE);
  fixture_rmtree (dir);
}

static void
augment_for (AugmentOptions *options, const Dataset *data)
{
  augment_options_init_for_dataset (options, data);
  g_assert_cmpint (options->size, ==, SIZE);
}

/* (c): a training crop is augment_train's transform of the decoded
 * picture at its own size (not of the small square), the same for the
 * same (seed, epoch, position) and different for another epoch or seed. */
static void
test_training_crops (void)
{
  g_autofree char *dir = write_photo_folder ();
  g_autoptr (Dataset) data = open_photos (dir, SIZE, DATASET_DECODE_FULL);
  AugmentOptions options;
  augment_for (&options, data);
  const gsize floats = 3 * SIZE * SIZE;
  g_autofree float *a = g_new (float, floats);
  g_autofree float *again = g_new (float, floats);
  g_autofree float *other_epoch = g_new (float, floats);
  g_autofree float *other_seed = g_new (float, floats);
  g_autofree float *expected = g_new (float, floats);
  const char *path = data->paths[2];
  g_autoptr (GError) error = NULL;
  g_assert_true (augment_train_full_resolution (a, &options, path, 3, 7, 0, 3,
                                                &error));
  g_assert_true (augment_train_full_resolution (again, &options, path, 3, 7,
                                                0, 3, &error));
  g_assert_true (augment_train_full_resolution (other_epoch, &options, path,
                                                3, 7, 1, 3, &error));
  g_assert_true (augment_train_full_resolution (other_seed, &options, path,
                                                3, 8, 0, 3, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (a, floats * sizeof (float), again, floats * sizeof (float));
  g_assert_true (memcmp (a, other_epoch, floats * sizeof (float)) != 0);
  g_assert_true (memcmp (a, other_seed, floats * sizeof (float)) != 0);

  /* the same transform on the whole decoded picture as (C, H, W) planes */
  g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_new_from_file (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_pixbuf_get_width (pixbuf), ==, PHOTO_W);
  const int stride = gdk_pixbuf_get_rowstride (pixbuf);
  const int n_ch = gdk_pixbuf_get_n_channels (pixbuf);
  const guint8 *src = gdk_pixbuf_read_pixels (pixbuf);
  g_autofree guint8 *planes = g_malloc (3 * PHOTO_W * PHOTO_H);
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < PHOTO_H; y++)
      for (int x = 0; x < PHOTO_W; x++)
        planes[(gsize) c * PHOTO_W * PHOTO_H + (gsize) y * PHOTO_W + x]
            = src[(gsize) y * stride + (gsize) x * n_ch + c];
  augment_train (&options, planes, 3, PHOTO_H, PHOTO_W, 7, 0, 3, expected);
  g_assert_cmpmem (a, floats * sizeof (float), expected,
                   floats * sizeof (float));

  /* the loader makes the same batches with and without workers, and each
   * image is the full-resolution crop of its position */
  LoaderOptions loader_options;
  loader_options_init_default (&loader_options);
  loader_options.batch_size = 2;
  loader_options.seed = 7;
  g_autofree float *inline_batch = g_new (float, 2 * floats);
  g_autofree float *worker_batch = g_new (float, 2 * floats);
  int inline_rows[2], worker_rows[2];
  LoaderBatchInfo info;
  loader_options.n_workers = 0;
  g_autoptr (Loader) inline_loader
      = loader_new (data, &options, &loader_options, 1, 1, &error);
  g_assert_no_error (error);
  g_assert_true (loader_next (inline_loader, inline_batch, inline_rows,
                              &info, &error));
  loader_options.n_workers = 2;
  g_autoptr (Loader) worker_loader
      = loader_new (data, &options, &loader_options, 1, 1, &error);
  g_assert_true (loader_next (worker_loader, worker_batch, worker_rows,
                              &info, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (inline_rows, sizeof inline_rows, worker_rows,
                   sizeof worker_rows);
  g_assert_cmpmem (inline_batch, 2 * floats * sizeof (float), worker_batch,
                   2 * floats * sizeof (float));
  for (int b = 0; b < 2; b++)
    {
      g_assert_true (augment_train_full_resolution (
          expected, &options, data->paths[inline_rows[b]], 3, 7, 1, 2 + b,
          &error));
      g_assert_cmpmem (inline_batch + b * floats, floats * sizeof (float),
                       expected, floats * sizeof (float));
    }
  fixture_rmtree (dir);
}

/* The decoded picture at path as (3, H, W) planes. */
static guint8 *
decode_planes (const char *path, int *width, int *height)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_new_from_file (path, &error);
  g_assert_no_error (error);
  const int w = gdk_pixbuf_get_width (pixbuf);
  const int h = gdk_pixbuf_get_height (pixbuf);
  const int stride = gdk_pixbuf_get_rowstride (pixbuf);
  const int n_ch = gdk_pixbuf_get_n_channels (pixbuf);
  const guint8 *src = gdk_pixbuf_read_pixels (pixbuf);
  guint8 *planes = g_malloc ((gsize) 3 * w * h);
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        planes[(gsize) c * w * h + (gsize) y * w + x]
            = src[(gsize) y * stride + (gsize) x * n_ch + c];
  *width = w;
  *height = h;
  return planes;
}

/* A JPEG whose crop is far larger than the output is decoded at a reduced
 * scale: the divisor leaves the crop at least twice the output, and the
 * result stays close to the crop of the full decode (not equal: the
 * scaled IDCT and the smaller resize round differently). */
static void
test_jpeg_reduced_scale (void)
{
  g_assert_cmpint (augment_jpeg_scale_divisor (400, 300, 64), ==, 2);
  g_assert_cmpint (augment_jpeg_scale_divisor (255, 255, 64), ==, 1);
  g_assert_cmpint (augment_jpeg_scale_divisor (2000, 1500, 224), ==, 2);
  g_assert_cmpint (augment_jpeg_scale_divisor (4000, 3000, 224), ==, 4);
  g_assert_cmpint (augment_jpeg_scale_divisor (8000, 8000, 64), ==, 8);

  g_autofree char *dir = write_photo_folder ();
  g_autoptr (Dataset) data = open_photos (dir, SIZE, DATASET_DECODE_FULL);
  g_assert_true (g_str_has_suffix (data->paths[1], "photo1.jpg"));
  AugmentOptions options;
  augment_for (&options, data);
  options.brightness = options.contrast = options.saturation = options.hue
      = 0;
  options.grayscale_p = 0;
  int w, h;
  g_autofree guint8 *planes = decode_planes (data->paths[1], &w, &h);
  const gsize floats = 3 * SIZE * SIZE;
  g_autofree float *reduced = g_new (float, floats);
  g_autofree float *full = g_new (float, floats);
  int n_reduced = 0;
  for (int position = 0; position < 8; position++)
    {
      Rng rng;
      rng_seed (&rng, augment_sample_seed (5, 0, position));
      AugmentParams params;
      augment_sample (&options, 3, h, w, &rng, &params);
      const gboolean is_reduced
          = augment_jpeg_scale_divisor (params.crop_w, params.crop_h, SIZE)
            > 1;
      n_reduced += is_reduced;
      g_autoptr (GError) error = NULL;
      g_assert_true (augment_train_full_resolution (
          reduced, &options, data->paths[1], 3, 5, 0, position, &error));
      g_assert_no_error (error);
      augment_train (&options, planes, 3, h, w, 5, 0, position, full);
      double mean_difference = 0;
      for (gsize k = 0; k < floats; k++)
        mean_difference += fabs (reduced[k] - full[k]) / floats;
      /* normalised units: 0.1 is about 6 levels of 255 */
      g_assert_cmpfloat (mean_difference, <, 0.1);
      /* a reduced decode is really another decode; a full one is exact */
      g_assert_cmpint (memcmp (reduced, full, floats * sizeof (float)) != 0,
                       ==, is_reduced);
    }
  g_assert_cmpint (n_reduced, >, 0);
  fixture_rmtree (dir);
}

/* (d): a file broken after the load fails its batch with the file's name
 * and row, as a square set's does, instead of ending the process. */
static void
test_broken_after_load (void)
{
  g_autofree char *dir = write_photo_folder ();
  g_autoptr (Dataset) data = open_photos (dir, SIZE, DATASET_DECODE_FULL);
  AugmentOptions options;
  augment_for (&options, data);
  for (int i = 0; i < data->n; i++)
    g_assert_true (g_file_set_contents (data->paths[i], "garbage", -1, NULL));
  LoaderOptions loader_options;
  loader_options_init_default (&loader_options);
  loader_options.batch_size = 2;
  loader_options.n_workers = 1;
  g_autoptr (GError) error = NULL;
  g_autoptr (Loader) loader
      = loader_new (data, &options, &loader_options, 0, 0, &error);
  g_assert_no_error (error);
  g_autofree float *batch = g_new (float, 2 * 3 * SIZE * SIZE);
  int rows[2];
  LoaderBatchInfo info;
  g_assert_false (loader_next (loader, batch, rows, &info, &error));
  g_assert_cmpint (info.unreadable, >=, 0);
  assert_error_names (error, data->paths[info.unreadable]);

  /* a row marked unreadable is refused with the reason, not decoded */
  g_clear_error (&error);
  g_assert_true (dataset_mark_unreadable (data, 0));
  loader_options.n_workers = 0;
  loader_options.train = FALSE;
  g_autoptr (Loader) evaluation
      = loader_new (data, &options, &loader_options, 0, 0, &error);
  g_assert_false (loader_next (evaluation, batch, rows, &info, &error));
  g_assert_cmpint (info.unreadable, ==, 0);
  g_assert_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_UNAVAILABLE);
  fixture_rmtree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/data/full-resolution/test-view-side", test_view_side);
  g_test_add_func ("/data/full-resolution/file-list-only",
                   test_file_list_only);
  g_test_add_func ("/data/full-resolution/test-view", test_test_view);
  g_test_add_func ("/data/full-resolution/training-crops",
                   test_training_crops);
  g_test_add_func ("/data/full-resolution/jpeg-reduced-scale",
                   test_jpeg_reduced_scale);
  g_test_add_func ("/data/full-resolution/broken-after-load",
                   test_broken_after_load);
  return g_test_run ();
}

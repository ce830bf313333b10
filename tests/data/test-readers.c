/* test-readers.c: IDX, CIFAR and image-folder readers, good and bad input.
 * Every input is written here, in a temporary folder. */
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data-fixtures.h"
#include "dataset.h"

/* ---- IDX ---------------------------------------------------------------- */

static GByteArray *
idx_bytes (int ndim, const guint32 *dims, const guint8 *data, gsize n)
{
  GByteArray *b = g_byte_array_new ();
  guint8 head[4] = { 0, 0, 0x08, (guint8) ndim };
  g_byte_array_append (b, head, 4);
  for (int d = 0; d < ndim; d++)
    {
      guint8 be[4] = { dims[d] >> 24, dims[d] >> 16, dims[d] >> 8, dims[d] };
      g_byte_array_append (b, be, 4);
    }
  g_byte_array_append (b, data, n);
  return b;
}

static void
test_idx_valid (void)
{
  g_autofree char *dir = fixture_tmpdir ();
  guint8 pixels[3 * 4 * 5], labels[3] = { 2, 0, 1 };
  for (gsize i = 0; i < sizeof pixels; i++)
    pixels[i] = (guint8) (i * 7);
  guint32 idims[3] = { 3, 4, 5 }, ldims[1] = { 3 };
  g_autoptr (GByteArray) ib = idx_bytes (3, idims, pixels, sizeof pixels);
  g_autoptr (GByteArray) lb = idx_bytes (1, ldims, labels, sizeof labels);
  g_autofree char *ip = fixture_write_gz (dir, "train-images-idx3-ubyte.gz",
                                          ib->data, ib->len);
  g_autofree char *lp = fixture_write (dir, "train-labels-idx1-ubyte",
                                       lb->data, lb->len);
  g_autoptr (GError) error = NULL;
  /* dataset_open finds the labels next to the images */
  g_autoptr (Dataset) d = dataset_open (ip, "train", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (d->n, ==, 3);
  g_assert_cmpint (d->channels, ==, 1);
  g_assert_cmpint (d->height, ==, 4);
  g_assert_cmpint (d->width, ==, 5);
  g_assert_cmpint (d->n_classes, ==, 3);
  g_assert_cmpint (d->labels[0], ==, 2);
  g_assert_cmpmem (d->pixels, sizeof pixels, pixels, sizeof pixels);
  guint8 one[20];
  g_assert_true (dataset_get_image (d, 2, one, &error));
  g_assert_cmpmem (one, 20, pixels + 40, 20);
  g_assert_null (dataset_get_path (d, 1));
  g_autofree char *name = dataset_get_item_name (d, 1);
  g_assert_true (g_str_has_suffix (name, "[1]"));

  /* the folder form picks the split's file */
  g_autoptr (Dataset) f = dataset_open (dir, "train", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (f->n, ==, 3);
  fixture_rmtree (dir);
}

static void
test_idx_truncated (void)
{
  g_autofree char *dir = fixture_tmpdir ();
  guint8 pixels[2 * 4 * 4] = { 0 };
  guint32 dims[3] = { 3, 4, 4 };  /* promises 3 images, holds 2 */
  g_autoptr (GByteArray) b = idx_bytes (3, dims, pixels, sizeof pixels);
  g_autofree char *p = fixture_write (dir, "short-idx3", b->data, b->len);
  g_autoptr (GError) error = NULL;
  g_autoptr (Dataset) d = dataset_load_idx (p, NULL, &error);
  g_assert_null (d);
  g_assert_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_TRUNCATED);
  assert_error_names (error, "short-idx3");

  /* trailing bytes, a bad magic, a header cut short, an empty file */
  guint8 extra[3 * 16 + 1] = { 0 };
  g_autoptr (GByteArray) t = idx_bytes (3, dims, extra, sizeof extra);
  g_autofree char *tp = fixture_write (dir, "long-idx3", t->data, t->len);
  g_clear_error (&error);
  g_assert_null (dataset_load_idx (tp, NULL, &error));
  assert_error_names (error, "long-idx3");

  guint8 magic[16] = { 0, 0, 0x09, 3 };
  g_autofree char *mp = fixture_write (dir, "magic-idx3", magic, sizeof magic);
  g_clear_error (&error);
  g_assert_null (dataset_load_idx (mp, NULL, &error));
  g_assert_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_CORRUPT);
  assert_error_names (error, "magic-idx3");

  g_autofree char *hp = fixture_write (dir, "head-idx3", b->data, 7);
  g_clear_error (&error);
  g_assert_null (dataset_load_idx (hp, NULL, &error));
  assert_error_names (error, "head-idx3");

  g_autofree char *ep = fixture_write (dir, "empty-idx3", "", 0);
  g_clear_error (&error);
  g_assert_null (dataset_load_idx (ep, NULL, &error));
  assert_error_names (error, "empty-idx3");

  /* a corrupt gzip stream */
  g_autofree char *gp = fixture_write (dir, "bad-idx3.gz", "\x1f\x8bnot gzip",
                                       10);
  g_clear_error (&error);
  g_assert_null (dataset_load_idx (gp, NULL, &error));
  assert_error_names (error, "bad-idx3.gz");

  g_clear_error (&error);
  g_assert_null (dataset_open ("/nonexistent/instdisc", "train", NULL, &error));
  assert_error_names (error, "/nonexistent/instdisc");
  fixture_rmtree (dir);
}

/* Reads that stay bounded: a header's promise is checked against the
 * file's size before memory is taken (a 2^30-image header on a small
 * file, plain and gzipped, a header whose dimensions multiply past 2^64,
 * and a sparse file of 6 GB apparent size whose header promises as
 * much); only regular files are read (a FIFO would block, /dev/zero never
 * end). */
static void
test_idx_bounded (void)
{
  g_autofree char *dir = fixture_tmpdir ();
  guint8 pixels[16] = { 0 };
  guint32 huge[3] = { 1u << 30, 28, 28 };
  g_autoptr (GByteArray) b = idx_bytes (3, huge, pixels, sizeof pixels);
  g_autofree char *p = fixture_write (dir, "huge-idx3", b->data, b->len);
  g_autofree char *gp = fixture_write_gz (dir, "huge-idx3.gz", b->data,
                                          b->len);
  const char *small[] = { p, gp };
  for (guint i = 0; i < G_N_ELEMENTS (small); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_null (dataset_load_idx (small[i], NULL, &error));
      g_assert_error (error, INSTDISC_DATA_ERROR,
                      INSTDISC_DATA_ERROR_TRUNCATED);
      assert_error_names (error, small[i]);
      assert_error_names (error, "841813590016");   /* 2^30 x 28 x 28 */
    }

  /* dimensions whose product wraps past 2^64 to 0 (2^22 x 2^21 x 2^21):
   * a promise of no data, which a header-only file would seem to keep */
  guint32 wrap[3] = { 1u << 22, 1u << 21, 1u << 21 };
  g_autoptr (GByteArray) w = idx_bytes (3, wrap, NULL, 0);
  g_autofree char *wp = fixture_write (dir, "wrap-idx3", w->data, w->len);
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (Dataset) d = dataset_load_idx (wp, NULL, &error);
    g_assert_null (d);
    g_assert_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_CORRUPT);
    assert_error_names (error, "wrap-idx3");
  }

  /* 6 GB apparent, 4 KB on disk, a byte short of its promise: refused
   * from its size alone */
  guint32 big[3] = { 7653061, 28, 28 };   /* 5,999,999,824 bytes */
  g_autoptr (GByteArray) s = idx_bytes (3, big, pixels, sizeof pixels);
  g_autofree char *sp = fixture_write (dir, "sparse-idx3", s->data, s->len);
  g_assert_cmpint (truncate (sp, 16 + 5999999824 - 1), ==, 0);
  g_autoptr (GError) error = NULL;
  gint64 start = g_get_monotonic_time ();
  g_assert_null (dataset_load_idx (sp, NULL, &error));
  g_assert_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_TRUNCATED);
  /* not read: well under the seconds reading 6 GB takes */
  g_test_message ("refused in %.3f s",
                  (g_get_monotonic_time () - start) / 1e6);
  g_clear_error (&error);

  g_autofree char *fifo = g_build_filename (dir, "fifo-idx3", NULL);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  const char *special[] = { fifo, "/dev/zero" };
  for (guint i = 0; i < G_N_ELEMENTS (special); i++)
    {
      g_assert_null (dataset_open (special[i], "train", NULL, &error));
      g_assert_error (error, INSTDISC_DATA_ERROR,
                      INSTDISC_DATA_ERROR_UNREADABLE);
      assert_error_names (error, special[i]);
      assert_error_names (error, "not a regular file");
      g_clear_error (&error);
    }
  fixture_rmtree (dir);
}

/* One IDX file is a training split with no test split (scoring its images
 * against themselves would be a perfect 1-NN); a folder of train- and
 * t10k- files has both. */
static void
test_idx_splits (void)
{
  g_autofree char *dir = fixture_tmpdir ();
  guint8 pixels[6 * 4] = { 0 }, labels[6] = { 0, 1, 0, 1, 0, 1 };
  guint32 idims[3] = { 6, 2, 2 }, ldims[1] = { 6 };
  g_autoptr (GByteArray) ib = idx_bytes (3, idims, pixels, sizeof pixels);
  g_autoptr (GByteArray) lb = idx_bytes (1, ldims, labels, sizeof labels);
  g_autofree char *one = fixture_write (dir, "one-images-idx3-ubyte",
                                        ib->data, ib->len);
  g_autoptr (GError) error = NULL;
  g_autoptr (Dataset) train = dataset_open (one, "train", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (train->n, ==, 6);
  g_assert_null (dataset_open (one, "test", NULL, &error));
  g_assert_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_NOT_FOUND);
  assert_error_names (error, "one-images-idx3-ubyte");
  assert_error_names (error, "no test split");
  g_clear_error (&error);

  guint32 tdims[3] = { 2, 2, 2 }, tldims[1] = { 2 };
  g_autoptr (GByteArray) tb = idx_bytes (3, tdims, pixels, 8);
  g_autoptr (GByteArray) tlb = idx_bytes (1, tldims, labels, 2);
  g_free (fixture_write (dir, "both/train-images-idx3-ubyte", ib->data,
                         ib->len));
  g_free (fixture_write (dir, "both/train-labels-idx1-ubyte", lb->data,
                         lb->len));
  g_free (fixture_write (dir, "both/t10k-images-idx3-ubyte", tb->data,
                         tb->len));
  g_free (fixture_write (dir, "both/t10k-labels-idx1-ubyte", tlb->data,
                         tlb->len));
  g_autofree char *both = g_build_filename (dir, "both", NULL);
  g_autoptr (Dataset) a = dataset_open (both, "train", NULL, &error);
  g_assert_no_error (error);
  g_autoptr (Dataset) b = dataset_open (both, "test", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (a->n, ==, 6);
  g_assert_cmpint (b->n, ==, 2);
  g_assert_cmpint (b->n_classes, ==, 2);
  fixture_rmtree (dir);
}

static void
test_idx_label_mismatch (void)
{
  g_autofree char *dir = fixture_tmpdir ();
  guint8 pixels[3 * 4] = { 0 }, labels[2] = { 0, 1 };
  guint32 idims[3] = { 3, 2, 2 }, ldims[1] = { 2 };
  g_autoptr (GByteArray) ib = idx_bytes (3, idims, pixels, sizeof pixels);
  g_autoptr (GByteArray) lb = idx_bytes (1, ldims, labels, sizeof labels);
  g_autofree char *ip = fixture_write (dir, "x-images-idx3-ubyte", ib->data,
                                       ib->len);
  g_autofree char *lp = fixture_write (dir, "x-labels-idx1-ubyte", lb->data,
                                       lb->len);
  g_autoptr (GError) error = NULL;
  g_assert_null (dataset_load_idx (ip, lp, &error));
  g_assert_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_MISMATCH);
  assert_error_names (error, "x-labels-idx1-ubyte");
  fixture_rmtree (dir);
}

static void
test_fashion_mnist (void)
{
  if (!g_file_test ("/usr/share/datasets/fashion-mnist", G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("dataset-fashion-mnist is not installed");
      return;
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (Dataset) d = dataset_open ("fashion-mnist", "test", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (d->n, ==, 10000);
  g_assert_cmpint (d->kind, ==, DATASET_KIND_FASHION_MNIST);
  g_assert_cmpstr (d->name, ==, "fashion-mnist/test");
  g_assert_cmpint (d->n_classes, ==, 10);
  g_autofree char *name = dataset_get_item_name (d, 123);
  g_assert_cmpstr (name, ==, "fashion-mnist/test[123]");
  g_assert_null (dataset_open ("fashion-mnist", "validation", NULL, &error));
  assert_error_names (error, "validation");
}

/* ---- CIFAR -------------------------------------------------------------- */

/* n records of CIFAR-10 (label_bytes 1) or CIFAR-100 (2); pixel j of record
 * r is (r * 31 + j) mod 251, labels r mod 10 (fine r mod 100, coarse r mod
 * 20), starting at record first. */
static GByteArray *
cifar_bytes (int n, int label_bytes, int first)
{
  GByteArray *b = g_byte_array_new ();
  for (int r = first; r < first + n; r++)
    {
      guint8 rec[3074];
      if (label_bytes == 1)
        rec[0] = r % 10;
      else
        {
          rec[0] = r % 20;
          rec[1] = r % 100;
        }
      for (int j = 0; j < 3072; j++)
        rec[label_bytes + j] = (guint8) ((r * 31 + j) % 251);
      g_byte_array_append (b, rec, label_bytes + 3072);
    }
  return b;
}

static void
write_cifar10 (const char *dir)
{
  for (int k = 1; k <= 5; k++)
    {
      g_autofree char *name = g_strdup_printf ("data_batch_%d.bin", k);
      g_autoptr (GByteArray) b = cifar_bytes (3, 1, (k - 1) * 3);
      g_free (fixture_write (dir, name, b->data, b->len));
    }
  g_autoptr (GByteArray) t = cifar_bytes (2, 1, 100);
  g_free (fixture_write (dir, "test_batch.bin", t->data, t->len));
  const char *names = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\n"
                      "horse\nship\nTRUCK\n\n";
  g_free (fixture_write (dir, "batches.meta.txt", names, strlen (names)));
}

static void
test_cifar10_folder (void)
{
  g_autofree char *root = fixture_tmpdir ();
  g_autofree char *dir = g_build_filename (root, "cifar-10-batches-bin", NULL);
  write_cifar10 (dir);
  g_autoptr (GError) error = NULL;
  /* the parent of the unpacked folder works too */
  g_autoptr (Dataset) d = dataset_open (root, "train", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (d->kind, ==, DATASET_KIND_CIFAR10);
  g_assert_cmpint (d->n, ==, 15);
  g_assert_cmpint (d->channels, ==, 3);
  g_assert_cmpint (d->n_classes, ==, 10);
  g_assert_cmpstr (d->class_names[9], ==, "TRUCK");
  for (int r = 0; r < 15; r++)
    {
      g_assert_cmpint (d->labels[r], ==, r % 10);
      guint8 img[3072];
      g_assert_true (dataset_get_image (d, r, img, &error));
      for (int j = 0; j < 3072; j += 97)
        g_assert_cmpint (img[j], ==, (r * 31 + j) % 251);
    }
  g_autoptr (Dataset) t = dataset_open (dir, "test", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (t->n, ==, 2);
  g_assert_cmpint (t->labels[1], ==, 101 % 10);
  g_assert_cmpstr (t->name, ==, "cifar-10/test");

  /* one file alone */
  g_autofree char *file = g_build_filename (dir, "data_batch_2.bin", NULL);
  g_autoptr (Dataset) one = dataset_open (file, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (one->n, ==, 3);
  g_assert_cmpint (one->labels[0], ==, 3);
  fixture_rmtree (root);
}

static void
test_cifar100 (void)
{
  g_autofree char *dir = fixture_tmpdir ();
  g_autoptr (GByteArray) b = cifar_bytes (25, 2, 0);
  g_autofree char *train = fixture_write (dir, "train.bin", b->data, b->len);
  g_autoptr (GByteArray) t = cifar_bytes (4, 2, 50);
  g_free (fixture_write (dir, "test.bin", t->data, t->len));
  g_autoptr (GString) names = g_string_new (NULL);
  for (int c = 0; c < 100; c++)
    g_string_append_printf (names, "fine%d\n", c);
  g_free (fixture_write (dir, "fine_label_names.txt", names->str, names->len));

  g_autoptr (GError) error = NULL;
  g_autoptr (Dataset) d = dataset_open (dir, "train", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (d->kind, ==, DATASET_KIND_CIFAR100);
  g_assert_cmpint (d->n, ==, 25);
  g_assert_cmpint (d->n_classes, ==, 100);
  g_assert_cmpint (d->labels[24], ==, 24);
  g_assert_cmpstr (d->class_names[42], ==, "fine42");
  g_assert_cmpint (d->pixels[3072 * 2 + 5], ==, (2 * 31 + 5) % 251);

  DatasetOptions options;
  dataset_options_init_default (&options);
  options.cifar100_coarse = TRUE;
  g_autoptr (Dataset) c = dataset_load_cifar (train, NULL, &options, &error);
  g_assert_no_error (error);
  g_assert_cmpint (c->n_classes, ==, 20);
  g_assert_cmpint (c->labels[24], ==, 4);
  g_assert_null (c->class_names);  /* no coarse_label_names.txt */

  g_autoptr (Dataset) test = dataset_open (dir, "test", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (test->n, ==, 4);
  fixture_rmtree (dir);
}

static void
test_cifar_truncated (void)
{
  g_autofree char *dir = fixture_tmpdir ();
  write_cifar10 (dir);
  g_autoptr (GByteArray) b = cifar_bytes (3, 1, 0);
  g_free (fixture_write (dir, "data_batch_3.bin", b->data, b->len - 100));
  g_autoptr (GError) error = NULL;
  g_assert_null (dataset_open (dir, "train", NULL, &error));
  g_assert_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_TRUNCATED);
  assert_error_names (error, "data_batch_3.bin");

  /* a label out of range */
  b->data[3073] = 17;
  g_free (fixture_write (dir, "data_batch_3.bin", b->data, b->len));
  g_clear_error (&error);
  g_assert_null (dataset_open (dir, "train", NULL, &error));
  g_assert_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_CORRUPT);
  assert_error_names (error, "data_batch_3.bin");

  /* an empty batch, a missing batch, an unknown split */
  g_free (fixture_write (dir, "data_batch_3.bin", "", 0));
  g_clear_error (&error);
  g_assert_null (dataset_open (dir, "train", NULL, &error));
  assert_error_names (error, "data_batch_3.bin");

  g_autofree char *four = g_build_filename (dir, "data_batch_4.bin", NULL);
  g_unlink (four);
  g_clear_error (&error);
  g_assert_null (dataset_load_cifar (dir, "train", NULL, &error));
  g_assert_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_NOT_FOUND);
  assert_error_names (error, "data_batch_4.bin");

  g_clear_error (&error);
  g_assert_null (dataset_load_cifar (dir, "val", NULL, &error));
  assert_error_names (error, "val");

  /* a gzipped batch streams as a plain one does */
  g_autoptr (GByteArray) plain = cifar_bytes (4, 1, 0);
  g_autoptr (GZlibCompressor) gzip
      = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, -1);
  g_autoptr (GOutputStream) sink = g_memory_output_stream_new_resizable ();
  g_autoptr (GOutputStream) packer
      = g_converter_output_stream_new (sink, G_CONVERTER (gzip));
  g_assert_true (g_output_stream_write_all (packer, plain->data, plain->len,
                                            NULL, NULL, NULL));
  g_assert_true (g_output_stream_close (packer, NULL, NULL));
  g_autoptr (GBytes) packed = g_memory_output_stream_steal_as_bytes (
      G_MEMORY_OUTPUT_STREAM (sink));
  g_free (fixture_write (dir, "batch.bin.gz", g_bytes_get_data (packed, NULL),
                         g_bytes_get_size (packed)));
  g_autofree char *gz = g_build_filename (dir, "batch.bin.gz", NULL);
  g_clear_error (&error);
  g_autoptr (Dataset) unpacked = dataset_load_cifar (gz, "train", NULL,
                                                     &error);
  g_assert_no_error (error);
  g_assert_cmpint (unpacked->n, ==, 4);
  g_assert_cmpmem (unpacked->pixels, 3072, plain->data + 1, 3072);

  /* a (sparse) file of more records than memory can hold: refused by its
   * size, before a byte is read */
  g_autofree char *huge = g_build_filename (dir, "data_batch_1.bin", NULL);
  int fd = g_open (huge, O_WRONLY | O_TRUNC, 0644);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, (off_t) 3073 * 2000000), ==, 0);
  close (fd);
  g_clear_error (&error);
  gint64 start = g_get_monotonic_time ();
  g_assert_null (dataset_load_cifar (huge, "train", NULL, &error));
  g_assert_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_INVALID);
  assert_error_names (error, "data_batch_1.bin");
  g_test_message ("refused in %.3f s",
                  (g_get_monotonic_time () - start) / 1e6);
  fixture_rmtree (dir);
}

/* ---- image folders ------------------------------------------------------ */

static void
test_folder_classes (void)
{
  g_autofree char *dir = fixture_tmpdir ();
  /* class "cat": 12 PNGs in red; class "dog": 11 JPEGs in blue, some in a
   * nested folder; a README that is not an image */
  for (int i = 0; i < 12; i++)
    {
      g_autofree char *name = g_strdup_printf ("cat/c%02d.png", i);
      g_free (fixture_save_solid (dir, name, 40 + i, 30, 200, 10, 20, "png"));
    }
  for (int i = 0; i < 11; i++)
    {
      g_autofree char *name = g_strdup_printf (i < 5 ? "dog/d%02d.jpg"
                                                     : "dog/more/d%02d.jpeg", i);
      g_free (fixture_save_solid (dir, name, 24, 50, 20, 40, 220, "jpeg"));
    }
  g_free (fixture_write (dir, "dog/README.txt", "hi", 2));

  g_autoptr (GError) error = NULL;
  g_autoptr (Dataset) train = dataset_open (dir, "train", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (train->kind, ==, DATASET_KIND_FOLDER);
  g_assert_null (train->pixels);
  /* hold-out: the 10th file of each class is a test image */
  g_assert_cmpint (train->n, ==, 11 + 10);
  g_assert_cmpint (train->n_skipped, ==, 0);
  g_assert_cmpint (train->channels, ==, 3);
  g_assert_cmpint (train->height, ==, 32);
  g_assert_cmpint (train->n_classes, ==, 2);
  g_assert_cmpstr (train->class_names[0], ==, "cat");
  g_assert_cmpstr (train->class_names[1], ==, "dog");
  g_assert_cmpint (train->labels[0], ==, 0);
  g_assert_cmpint (train->labels[20], ==, 1);
  g_assert_true (g_str_has_suffix (dataset_get_path (train, 0), "cat/c00.png"));
  g_autofree char *item = dataset_get_item_name (train, 0);
  g_assert_cmpstr (item, ==, dataset_get_path (train, 0));

  g_autoptr (Dataset) test = dataset_open (dir, "test", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (test->n, ==, 2);
  g_assert_true (g_str_has_suffix (test->paths[0], "cat/c09.png"));
  g_assert_true (g_str_has_suffix (test->paths[1], "dog/more/d09.jpeg"));
  g_assert_cmpint (test->labels[1], ==, 1);

  /* a solid PNG decodes to exactly its colour; a JPEG to about it */
  guint8 img[3 * 32 * 32];
  g_assert_true (dataset_get_image (train, 3, img, &error));
  for (int j = 0; j < 32 * 32; j++)
    {
      g_assert_cmpint (img[j], ==, 200);
      g_assert_cmpint (img[1024 + j], ==, 10);
      g_assert_cmpint (img[2048 + j], ==, 20);
    }
  g_assert_true (dataset_get_image (train, 15, img, &error));
  g_assert_cmpint (abs (img[500] - 20), <=, 4);
  g_assert_cmpint (abs (img[2048 + 500] - 220), <=, 4);

  float mean[3], std[3];
  dataset_channel_stats (train, mean, std);
  g_assert_cmpfloat_with_epsilon (mean[0], (11 * 200 + 10 * 20) / 21.0 / 255,
                                  0.01);

  g_autoptr (Dataset) all = dataset_open (dir, "all", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (all->n, ==, 23);
  fixture_rmtree (dir);
}

/* A left half in one grey and a right half in another. */
static void
halves (int x, int y, guint8 rgb[3], gpointer user)
{
  int w = GPOINTER_TO_INT (user);
  memset (rgb, x < w / 2 ? 30 : 220, 3);
}

static void
test_folder_grey_and_crop (void)
{
  g_autofree char *dir = fixture_tmpdir ();
  /* a 64 x 16 grey image: centre-cropped to 16 x 16 it is the middle, where
   * the halves meet; stretched it is both halves */
  g_autoptr (GdkPixbuf) pixbuf = fixture_pixbuf (64, 16, halves,
                                                 GINT_TO_POINTER (64));
  g_autofree char *path = g_build_filename (dir, "a.png", NULL);
  g_assert_true (gdk_pixbuf_save (pixbuf, path, "png", NULL, NULL));
  g_free (fixture_save_solid (dir, "b.png", 8, 8, 77, 77, 77, "png"));

  DatasetOptions options;
  dataset_options_init_default (&options);
  options.image_size = 16;
  options.holdout_every = 0;
  g_autoptr (GError) error = NULL;
  g_autoptr (Dataset) d = dataset_open (dir, "train", &options, &error);
  g_assert_no_error (error);
  g_assert_cmpint (d->n, ==, 2);
  g_assert_cmpint (d->channels, ==, 1);  /* every image is grey */
  g_assert_cmpint (d->n_classes, ==, 0);
  g_assert_cmpint (d->labels[0], ==, -1);
  guint8 img[16 * 16], rgb_scratch[3 * 16 * 16];
  g_assert_true (dataset_get_image (d, 0, img, &error));
  g_assert_cmpint (img[5 * 16 + 0], ==, 30);
  g_assert_cmpint (img[5 * 16 + 15], ==, 220);
  g_assert_true (dataset_get_image (d, 1, img, &error));
  g_assert_cmpint (img[0], ==, 77);
  g_assert_cmpint (img[255], ==, 77);

  /* the same decode for a single file */
  guint8 direct[16 * 16];
  g_assert_true (dataset_decode_file (path, 1, 16, DATASET_RESIZE_CENTER_CROP,
                                      direct, &error));
  g_assert_true (dataset_get_image (d, 0, img, &error));
  g_assert_cmpmem (direct, sizeof direct, img, sizeof img);
  g_autofree char *missing = g_build_filename (dir, "missing.png", NULL);
  g_assert_false (dataset_decode_file (missing, 3, 16, DATASET_RESIZE_STRETCH,
                                       rgb_scratch, &error));
  assert_error_names (error, "missing.png");
  g_clear_error (&error);

  options.resize = DATASET_RESIZE_STRETCH;
  options.channels = 3;
  g_autoptr (Dataset) s = dataset_open (dir, "train", &options, &error);
  g_assert_no_error (error);
  g_assert_cmpint (s->channels, ==, 3);
  guint8 rgb[3 * 16 * 16];
  g_assert_true (dataset_get_image (s, 0, rgb, &error));
  g_assert_cmpint (rgb[5 * 16 + 0], ==, 30);
  g_assert_cmpint (rgb[5 * 16 + 15], ==, 220);
  fixture_rmtree (dir);
}

static void
test_folder_bad_files (void)
{
  g_autofree char *dir = fixture_tmpdir ();
  g_free (fixture_save_solid (dir, "a/good1.png", 10, 10, 1, 2, 3, "png"));
  g_free (fixture_save_solid (dir, "a/good2.jpg", 10, 10, 1, 2, 3, "jpeg"));
  g_free (fixture_write (dir, "a/zero.png", "", 0));
  g_free (fixture_write (dir, "b/x.png", "this is text, not a PNG\n", 24));
  g_free (fixture_save_solid (dir, "b/good3.png", 10, 10, 9, 9, 90, "png"));

  DatasetOptions options;
  dataset_options_init_default (&options);
  options.holdout_every = 0;
  options.channels = 3;  /* no decode for the grey check: headers only */
  g_autoptr (GError) error = NULL;
  g_autoptr (Dataset) d = dataset_open (dir, "train", &options, &error);
  g_assert_no_error (error);
  g_assert_cmpint (d->n, ==, 3);
  g_assert_cmpint (d->n_skipped, ==, 2);
  g_assert_cmpint (g_strv_length (d->skipped), ==, 2);
  g_assert_nonnull (strstr (d->skipped[0], "zero.png"));
  g_assert_nonnull (strstr (d->skipped[0], "empty"));
  g_assert_nonnull (strstr (d->skipped[1], "x.png"));
  g_assert_cmpint (d->labels[2], ==, 1);

  /* the same with every image decoded at load */
  options.verify_images = TRUE;
  g_autoptr (Dataset) v = dataset_open (dir, "train", &options, &error);
  g_assert_no_error (error);
  g_assert_cmpint (v->n_skipped, ==, 2);

  /* an image that breaks after loading: an error naming it, no crash */
  guint8 img[3 * 32 * 32];
  g_autofree char *good3 = g_build_filename (dir, "b/good3.png", NULL);
  g_autofree char *content = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (good3, &content, &len, NULL));
  g_free (fixture_write (dir, "b/good3.png", content, 40));
  g_assert_false (dataset_get_image (d, 2, img, &error));
  assert_error_names (error, "good3.png");
  g_clear_error (&error);
  g_unlink (good3);
  g_assert_false (dataset_get_image (d, 2, img, &error));
  assert_error_names (error, "good3.png");
  fixture_rmtree (dir);
}

/* PNG's CRC-32 (ISO 3309), bit by bit: the test's few chunks need no table */
static guint32
png_crc (const guint8 *bytes, gsize n)
{
  guint32 crc = 0xFFFFFFFFu;
  for (gsize i = 0; i < n; i++)
    {
      crc ^= bytes[i];
      for (int k = 0; k < 8; k++)
        crc = (crc >> 1) ^ (0xEDB88320u & -(crc & 1));
    }
  return crc ^ 0xFFFFFFFFu;
}

static void
png_chunk (GByteArray *png, const char *type, const guint8 *data, guint32 n)
{
  guint8 be[4] = { n >> 24, n >> 16, n >> 8, n };
  g_byte_array_append (png, be, 4);
  gsize typed = png->len;
  g_byte_array_append (png, (const guint8 *) type, 4);
  if (n)
    g_byte_array_append (png, data, n);
  guint32 crc = png_crc (png->data + typed, 4 + n);
  guint8 crc_be[4] = { crc >> 24, crc >> 16, crc >> 8, crc };
  g_byte_array_append (png, crc_be, 4);
}

/* A decompression bomb: a valid PNG header declaring 65535 x 65535 RGB
 * pixels (12.9 GB decoded) with a few bytes of data. */
static char *
write_png_bomb (const char *dir, const char *name)
{
  g_autoptr (GByteArray) png = g_byte_array_new ();
  g_byte_array_append (png, (const guint8 *) "\x89PNG\r\n\x1a\n", 8);
  const guint8 ihdr[13] = { 0, 0, 0xFF, 0xFF, 0, 0, 0xFF, 0xFF, 8, 2, 0, 0, 0 };
  png_chunk (png, "IHDR", ihdr, sizeof ihdr);
  /* zlib stream of a stored empty block: inflates to nothing */
  const guint8 idat[] = { 0x78, 0x01, 0x01, 0x00, 0x00, 0xFF, 0xFF,
                          0x00, 0x00, 0x00, 0x01 };
  png_chunk (png, "IDAT", idat, sizeof idat);
  png_chunk (png, "IEND", NULL, 0);
  return fixture_write (dir, name, png->data, png->len);
}

/* A copy of a file without its last 16 bytes, named name: the header is
 * whole, the end of the image data is not. */
static char *
write_cut_short (const char *dir, const char *from, const char *name)
{
  g_autofree char *content = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (from, &content, &len, NULL));
  g_assert_cmpuint (len, >, 16);
  return fixture_write (dir, name, content, len - 16);
}

/* Every image is probed before it is decoded: a header declaring more
 * pixels than the limit, and PNG, JPEG and BMP files cut short, are
 * refused with an error naming the file (a query image) or skipped and
 * listed (a folder), while the whole files decode. */
static void
test_folder_bomb_and_truncated (void)
{
  g_autofree char *dir = fixture_tmpdir ();
  g_autofree char *bomb = write_png_bomb (dir, "a/bomb.png");
  g_autofree char *png = fixture_save_solid (dir, "a/whole.png", 64, 48, 200,
                                             10, 10, "png");
  g_autofree char *jpeg = fixture_save_solid (dir, "a/whole.jpg", 64, 48, 10,
                                              200, 10, "jpeg");
  g_autofree char *bmp = fixture_save_solid (dir, "a/whole.bmp", 64, 48, 10,
                                             10, 200, "bmp");
  g_autofree char *png_cut = write_cut_short (dir, png, "a/cut.png");
  g_autofree char *jpeg_cut = write_cut_short (dir, jpeg, "a/cut.jpg");
  g_autofree char *bmp_cut = write_cut_short (dir, bmp, "a/cut.bmp");

  guint8 img[3 * 16 * 16];
  g_autoptr (GError) error = NULL;
  g_assert_false (dataset_decode_file (bomb, 3, 16, DATASET_RESIZE_CENTER_CROP,
                                       img, &error));
  g_assert_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_INVALID);
  assert_error_names (error, "bomb.png");
  assert_error_names (error, "65535 x 65535");
  g_clear_error (&error);
  const char *cut[] = { png_cut, jpeg_cut, bmp_cut };
  for (guint i = 0; i < G_N_ELEMENTS (cut); i++)
    {
      g_assert_false (dataset_decode_file (cut[i], 3, 16,
                                           DATASET_RESIZE_CENTER_CROP, img,
                                           &error));
      g_assert_error (error, INSTDISC_DATA_ERROR,
                      INSTDISC_DATA_ERROR_TRUNCATED);
      assert_error_names (error, cut[i]);
      g_clear_error (&error);
    }
  const char *whole[] = { png, jpeg, bmp };
  for (guint i = 0; i < G_N_ELEMENTS (whole); i++)
    {
      g_assert_true (dataset_decode_file (whole[i], 3, 16,
                                          DATASET_RESIZE_CENTER_CROP, img,
                                          &error));
      g_assert_no_error (error);
    }

  /* a folder: the four bad files are skipped and listed, at the header
   * check and with every image decoded */
  DatasetOptions options;
  dataset_options_init_default (&options);
  options.holdout_every = 0;
  options.channels = 3;
  for (int verify = 0; verify <= 1; verify++)
    {
      options.verify_images = verify;
      g_autoptr (Dataset) d = dataset_open (dir, "train", &options, &error);
      g_assert_no_error (error);
      g_assert_cmpint (d->n, ==, 3);
      g_assert_cmpint (d->n_skipped, ==, 4);
      g_autofree char *skipped = g_strjoinv ("\n", d->skipped);
      g_assert_nonnull (strstr (skipped, "bomb.png"));
      g_assert_nonnull (strstr (skipped, "cut.png"));
      g_assert_nonnull (strstr (skipped, "cut.jpg"));
      g_assert_nonnull (strstr (skipped, "cut.bmp"));
    }

  /* the limit comes from the environment when it is set there */
  g_setenv ("INSTDISC_MAX_IMAGE_PIXELS", "3000", TRUE);
  g_assert_false (dataset_decode_file (png, 3, 16, DATASET_RESIZE_CENTER_CROP,
                                       img, &error));
  g_assert_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_INVALID);
  assert_error_names (error, "64 x 48");
  g_clear_error (&error);
  g_unsetenv ("INSTDISC_MAX_IMAGE_PIXELS");
  g_assert_true (dataset_decode_file (png, 3, 16, DATASET_RESIZE_CENTER_CROP,
                                      img, &error));
  fixture_rmtree (dir);
}

/* GIF: a 2 x 2 screen whose one frame declares w x h pixels, with a few
 * bytes of data and the trailer */
static char *
write_gif_big_frame (const char *dir, const char *name, int w, int h)
{
  const guint8 gif[] = {
    'G', 'I', 'F', '8', '9', 'a', 2, 0, 2, 0, 0x80, 0, 0,
    0, 0, 0, 255, 255, 255,                       /* two colours */
    0x2C, 0, 0, 0, 0, w & 0xFF, w >> 8, h & 0xFF, h >> 8, 0,
    2, 2, 0x44, 0x01, 0,                          /* code size, data */
    0x3B,
  };
  return fixture_write (dir, name, gif, sizeof gif);
}

/* The pixel limit holds for what is decoded, not only for what a header
 * declares: a GIF frame larger than its screen is refused before
 * GdkPixbuf takes the frame's memory, and a long thin image is refused
 * when centre-cropping would first scale it past the limit (stretching it
 * to the square does not, and is decoded). */
static void
test_folder_decode_bounds (void)
{
  g_autofree char *dir = fixture_tmpdir ();
  g_autofree char *gif = write_gif_big_frame (dir, "frame.gif", 20000, 20000);
  g_autofree char *small = write_gif_big_frame (dir, "small.gif", 2, 2);
  guint8 img[3 * 32 * 32];
  g_autoptr (GError) error = NULL;
  g_assert_false (dataset_decode_file (gif, 3, 32, DATASET_RESIZE_CENTER_CROP,
                                       img, &error));
  g_assert_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_INVALID);
  assert_error_names (error, "frame.gif");
  assert_error_names (error, "20000 x 20000");
  g_clear_error (&error);
  g_assert_true (dataset_decode_file (small, 3, 32, DATASET_RESIZE_CENTER_CROP,
                                      img, &error));
  g_assert_no_error (error);

  /* 4000 x 1 declares 4000 pixels; its shorter side scaled to 32 it is
   * 128000 x 32, 4.1 megapixels, over a limit of 1 */
  g_autofree char *thin = fixture_save_solid (dir, "thin.png", 4000, 1, 10,
                                              20, 30, "png");
  g_setenv ("INSTDISC_MAX_IMAGE_PIXELS", "1000000", TRUE);
  g_assert_false (dataset_decode_file (thin, 3, 32, DATASET_RESIZE_CENTER_CROP,
                                       img, &error));
  g_assert_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_INVALID);
  assert_error_names (error, "thin.png");
  assert_error_names (error, "4000 x 1");
  g_clear_error (&error);
  g_assert_true (dataset_decode_file (thin, 3, 32, DATASET_RESIZE_STRETCH,
                                      img, &error));
  g_assert_no_error (error);
  g_assert_cmpint (img[0], ==, 10);
  g_unsetenv ("INSTDISC_MAX_IMAGE_PIXELS");
  fixture_rmtree (dir);
}

static void
test_folder_empty (void)
{
  g_autofree char *dir = fixture_tmpdir ();
  g_autoptr (GError) error = NULL;
  g_assert_null (dataset_open (dir, "train", NULL, &error));
  g_assert_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_EMPTY);
  assert_error_names (error, dir);

  /* only unreadable files: empty too, and the reason shows */
  g_free (fixture_write (dir, "cls/x.png", "text", 4));
  g_clear_error (&error);
  g_assert_null (dataset_open (dir, "train", NULL, &error));
  assert_error_names (error, "x.png");

  /* a test split that a hold-out leaves empty */
  g_free (fixture_save_solid (dir, "cls/y.png", 10, 10, 1, 2, 3, "png"));
  g_clear_error (&error);
  g_assert_null (dataset_open (dir, "test", NULL, &error));
  assert_error_names (error, dir);

  g_clear_error (&error);
  g_assert_null (dataset_open (dir, "everything", NULL, &error));
  assert_error_names (error, "everything");
  fixture_rmtree (dir);
}

/* what a folder load tells its progress callback */
typedef struct
{
  int calls, last_done, total;
  gboolean in_order;
  char *split;
} ProgressSeen;

static void
record_progress (const char *path, const char *split, int done, int total,
                 gpointer data)
{
  ProgressSeen *seen = data;
  if (seen->calls > 0 && (done < seen->last_done || total != seen->total))
    seen->in_order = FALSE;
  seen->calls++;
  seen->last_done = done;
  seen->total = total;
  g_free (seen->split);
  seen->split = g_strdup (split);
}

/* A load counts its files for the callback: from 0 of N every
 * DATASET_PROGRESS_EVERY files, in order, to N of N, the files of the
 * split it loads only (a broken file counts as checked: it was) */
static void
test_folder_progress (void)
{
  g_autofree char *dir = fixture_tmpdir ();
  g_autofree char *first = fixture_save_solid (dir, "a/0.png", 4, 4, 1, 2, 3,
                                               "png");
  const int n = DATASET_PROGRESS_EVERY + 100;
  g_autofree char *b = g_build_filename (dir, "b", NULL);
  g_assert_cmpint (g_mkdir_with_parents (b, 0755), ==, 0);
  for (int i = 1; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s/%c/%d.png", dir,
                                               i % 2 ? 'b' : 'a', i);
      g_assert_cmpint (link (first, name), ==, 0);
    }
  g_free (fixture_write (dir, "b/broken.png", "text", 4));

  DatasetOptions options;
  dataset_options_init_default (&options);
  options.holdout_every = 0;   /* every file in the training split */
  ProgressSeen seen = { .in_order = TRUE };
  options.progress = record_progress;
  options.progress_data = &seen;
  g_autoptr (GError) error = NULL;
  g_autoptr (Dataset) data = dataset_open (dir, "train", &options, &error);
  g_assert_no_error (error);
  g_assert_cmpint (data->n, ==, n);
  g_assert_cmpint (data->n_skipped, ==, 1);
  g_assert_true (seen.in_order);
  g_assert_cmpint (seen.total, ==, n + 1);
  g_assert_cmpint (seen.last_done, ==, n + 1);
  /* 0, EVERY, and the end */
  g_assert_cmpint (seen.calls, ==, 3);
  g_assert_cmpstr (seen.split, ==, "train");
  g_free (seen.split);
  fixture_rmtree (dir);
}

static void
test_folder_split_dirs (void)
{
  g_autofree char *dir = fixture_tmpdir ();
  g_free (fixture_save_solid (dir, "train/b/1.png", 8, 8, 1, 2, 3, "png"));
  g_free (fixture_save_solid (dir, "train/c/1.png", 8, 8, 1, 2, 3, "png"));
  g_free (fixture_save_solid (dir, "train/c/2.png", 8, 8, 1, 2, 3, "png"));
  /* a class only the test split has still gets the same numbering */
  g_free (fixture_save_solid (dir, "val/a/1.png", 8, 8, 1, 2, 3, "png"));
  g_free (fixture_save_solid (dir, "val/c/9.png", 8, 8, 1, 2, 3, "png"));

  g_autoptr (GError) error = NULL;
  g_autoptr (Dataset) train = dataset_open (dir, "train", NULL, &error);
  g_assert_no_error (error);
  g_autoptr (Dataset) test = dataset_open (dir, "test", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (train->n, ==, 3);
  g_assert_cmpint (test->n, ==, 2);
  g_assert_cmpint (train->n_classes, ==, 3);
  g_assert_cmpstr (test->class_names[0], ==, "a");
  g_assert_cmpint (train->labels[0], ==, 1);
  g_assert_cmpint (train->labels[2], ==, 2);
  g_assert_cmpint (test->labels[0], ==, 0);
  g_assert_cmpint (test->labels[1], ==, 2);
  fixture_rmtree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/data/idx/valid", test_idx_valid);
  g_test_add_func ("/data/idx/truncated", test_idx_truncated);
  g_test_add_func ("/data/idx/bounded", test_idx_bounded);
  g_test_add_func ("/data/idx/splits", test_idx_splits);
  g_test_add_func ("/data/idx/label-mismatch", test_idx_label_mismatch);
  g_test_add_func ("/data/idx/fashion-mnist", test_fashion_mnist);
  g_test_add_func ("/data/cifar/10-folder", test_cifar10_folder);
  g_test_add_func ("/data/cifar/100", test_cifar100);
  g_test_add_func ("/data/cifar/truncated", test_cifar_truncated);
  g_test_add_func ("/data/folder/classes", test_folder_classes);
  g_test_add_func ("/data/folder/grey-and-crop", test_folder_grey_and_crop);
  g_test_add_func ("/data/folder/bad-files", test_folder_bad_files);
  g_test_add_func ("/data/folder/bomb-and-truncated",
                   test_folder_bomb_and_truncated);
  g_test_add_func ("/data/folder/decode-bounds", test_folder_decode_bounds);
  g_test_add_func ("/data/folder/empty", test_folder_empty);
  g_test_add_func ("/data/folder/progress", test_folder_progress);
  g_test_add_func ("/data/folder/split-dirs", test_folder_split_dirs);
  return g_test_run ();
}

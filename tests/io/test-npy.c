/* test-npy.c: .npy round trips, the header NumPy writes, files that NumPy
 * itself wrote (tests/fixtures, from tools/make-npy-fixture.py), every
 * damaged or foreign file refused naming the file; the projector TSVs. */
#define G_LOG_DOMAIN "instdisc-io"

#include <math.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "io-fixture.h"
#include "npy.h"

/* the arrays of tools/make-npy-fixture.py */
static const float FIXTURE_F32[3][4] = {
  { 0.0f, 1.0f, -2.5f, 0.1f },
  { 3.4028235e38f, -1e-45f, 1.17549435e-38f, 65504.0f },
  { -0.0f, 123456.789f, 1e-7f, -7.0f },
};
static const gint32 FIXTURE_I32[5] = { G_MININT32, -1, 0, 7, G_MAXINT32 };

static char *
fixture_file (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "fixtures", name, NULL);
}

/* a float32 (n, d) array with values whose bits matter: signed zero,
 * subnormals, infinities, a NaN with a payload */
static float *
awkward_floats (gsize count)
{
  float *x = g_new (float, count);
  GRand *rand = g_rand_new_with_seed (7);
  for (gsize i = 0; i < count; i++)
    x[i] = (float) g_rand_double_range (rand, -1e3, 1e3);
  g_rand_free (rand);
  guint32 nan_bits = 0x7fc01234;
  float nan_payload;
  memcpy (&nan_payload, &nan_bits, 4);
  float specials[] = { -0.0f, 1e-45f, -1e-40f, INFINITY, -INFINITY,
                       nan_payload, 3.4028235e38f };
  for (gsize i = 0; i < G_N_ELEMENTS (specials) && i < count; i++)
    x[i * 3 % count] = specials[i];
  return x;
}

static void
test_roundtrip_f32 (Fixture *f, gconstpointer data)
{
  const gint64 shape[2] = { 37, 5 };
  g_autofree float *x = awkward_floats (37 * 5);
  g_autofree char *path = fixture_path (f, "features.npy");
  GError *error = NULL;
  g_assert_true (npy_save (path, NPY_FLOAT32, 2, shape, x, &error));
  g_assert_no_error (error);
  g_autoptr (NpyArray) a = npy_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (a->dtype, ==, NPY_FLOAT32);
  g_assert_cmpint (a->ndim, ==, 2);
  g_assert_cmpint (a->shape[0], ==, 37);
  g_assert_cmpint (a->shape[1], ==, 5);
  g_assert_cmpmem (a->data, 37 * 5 * 4, x, 37 * 5 * 4);
  g_autofree char *names = list_files (f->dir);
  g_assert_cmpstr (names, ==, "features.npy");
}

static void
test_roundtrip_i32 (Fixture *f, gconstpointer data)
{
  const gint64 shape[1] = { 5 };
  g_autofree char *path = fixture_path (f, "labels.npy");
  GError *error = NULL;
  g_assert_true (npy_save (path, NPY_INT32, 1, shape, FIXTURE_I32, &error));
  g_assert_no_error (error);
  g_autoptr (NpyArray) a = npy_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (a->dtype, ==, NPY_INT32);
  g_assert_cmpint (a->ndim, ==, 1);
  g_assert_cmpint (a->shape[0], ==, 5);
  g_assert_cmpmem (a->data, sizeof FIXTURE_I32, FIXTURE_I32,
                   sizeof FIXTURE_I32);
}

/* An empty (0, 4) array: a header and no data. */
static void
test_roundtrip_empty (Fixture *f, gconstpointer data)
{
  const gint64 shape[2] = { 0, 4 };
  g_autofree char *path = fixture_path (f, "none.npy");
  GError *error = NULL;
  g_assert_true (npy_save (path, NPY_FLOAT32, 2, shape, NULL, &error));
  g_assert_no_error (error);
  g_autoptr (NpyArray) a = npy_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (a->ndim, ==, 2);
  g_assert_cmpint (a->shape[0], ==, 0);
  g_assert_cmpint (a->shape[1], ==, 4);
}

/* The header as format 1.0 says and NumPy writes: magic, version 1.0, the
 * dict text, space padding and a newline ending where the data starts, on
 * a multiple of 64 bytes. */
static void
check_header (const char *path, const char *dict, gsize data_bytes)
{
  g_autofree char *bytes = NULL;
  gsize size;
  g_assert_true (g_file_get_contents (path, &bytes, &size, NULL));
  g_assert_cmpmem (bytes, 8, "\x93NUMPY\x01\x00", 8);
  gsize header_len = (guint8) bytes[8] | ((gsize) (guint8) bytes[9] << 8);
  gsize data_start = 10 + header_len;
  g_assert_cmpuint (data_start % 64, ==, 0);
  g_assert_cmpuint (size, ==, data_start + data_bytes);
  g_assert_cmpmem (bytes + 10, strlen (dict), dict, strlen (dict));
  for (gsize i = 10 + strlen (dict); i + 1 < data_start; i++)
    g_assert_cmpint (bytes[i], ==, ' ');
  g_assert_cmpint (bytes[data_start - 1], ==, '\n');
}

static void
test_header (Fixture *f, gconstpointer data)
{
  g_autofree char *p2 = fixture_path (f, "a.npy");
  g_autofree char *p1 = fixture_path (f, "b.npy");
  const gint64 s2[2] = { 3, 4 }, s1[1] = { 5 };
  g_assert_true (npy_save (p2, NPY_FLOAT32, 2, s2, FIXTURE_F32, NULL));
  g_assert_true (npy_save (p1, NPY_INT32, 1, s1, FIXTURE_I32, NULL));
  check_header (p2, "{'descr': '<f4', 'fortran_order': False, "
                    "'shape': (3, 4), }", 48);
  check_header (p1, "{'descr': '<i4', 'fortran_order': False, "
                    "'shape': (5,), }", 20);

  /* and byte for byte what numpy.save wrote for the same arrays (NumPy
   * 1.24; older versions pad less, which readers ignore) */
  const char *names[] = { "npy-f32-3x4.npy", "npy-i32-5.npy" };
  const char *ours[] = { p2, p1 };
  for (int i = 0; i < 2; i++)
    {
      g_autofree char *theirs_path = fixture_file (names[i]);
      g_autofree char *theirs = NULL, *mine = NULL;
      gsize theirs_len, mine_len;
      g_assert_true (g_file_get_contents (theirs_path, &theirs, &theirs_len,
                                          NULL));
      g_assert_true (g_file_get_contents (ours[i], &mine, &mine_len, NULL));
      g_assert_cmpmem (mine, mine_len, theirs, theirs_len);
    }
}

/* Files numpy.save wrote are read exactly. */
static void
test_numpy_fixture (Fixture *f, gconstpointer data)
{
  GError *error = NULL;
  g_autofree char *p2 = fixture_file ("npy-f32-3x4.npy");
  g_autoptr (NpyArray) a = npy_load (p2, &error);
  g_assert_no_error (error);
  g_assert_cmpint (a->dtype, ==, NPY_FLOAT32);
  g_assert_cmpint (a->ndim, ==, 2);
  g_assert_cmpint (a->shape[0], ==, 3);
  g_assert_cmpint (a->shape[1], ==, 4);
  g_assert_cmpmem (a->data, sizeof FIXTURE_F32, FIXTURE_F32,
                   sizeof FIXTURE_F32);

  g_autofree char *p1 = fixture_file ("npy-i32-5.npy");
  g_autoptr (NpyArray) b = npy_load (p1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (b->dtype, ==, NPY_INT32);
  g_assert_cmpint (b->ndim, ==, 1);
  g_assert_cmpint (b->shape[0], ==, 5);
  g_assert_cmpmem (b->data, sizeof FIXTURE_I32, FIXTURE_I32,
                   sizeof FIXTURE_I32);
}

/* A .npy file from a dict text (padded as NumPy does) and data_len zero
 * bytes of data. */
static char *
write_npy_raw (Fixture *f, const char *name, const char *dict,
               gsize data_len)
{
  g_autoptr (GString) text = g_string_new (dict);
  while ((10 + text->len + 1) % 64 != 0)
    g_string_append_c (text, ' ');
  g_string_append_c (text, '\n');
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  guint8 prefix[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                        text->len & 0xff, text->len >> 8 };
  g_byte_array_append (bytes, prefix, 10);
  g_byte_array_append (bytes, (const guint8 *) text->str, text->len);
  g_autofree guint8 *zeros = g_malloc0 (data_len + 1);
  g_byte_array_append (bytes, zeros, data_len);
  char *path = fixture_path (f, name);
  g_assert_true (g_file_set_contents (path, (const char *) bytes->data,
                                      bytes->len, NULL));
  return path;
}

static void
expect_refused (const char *path, GQuark domain, int code,
                const char *fragment)
{
  GError *error = NULL;
  NpyArray *a = npy_load (path, &error);
  g_assert_null (a);
  g_assert_error (error, domain, code);
  g_autofree char *base = g_path_get_basename (path);
  g_test_message ("%s", error->message);
  if (!strstr (error->message, base))
    g_error ("the message does not name %s: %s", base, error->message);
  if (fragment && !strstr (error->message, fragment))
    g_error ("the message does not say “%s”: %s", fragment, error->message);
  g_clear_error (&error);
}

static void
test_bad_inputs (Fixture *f, gconstpointer data)
{
  const char *f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }";

  g_autofree char *missing = fixture_path (f, "missing.npy");
  expect_refused (missing, G_FILE_ERROR, G_FILE_ERROR_NOENT, NULL);

  g_autofree char *empty = fixture_path (f, "empty.npy");
  g_assert_true (g_file_set_contents (empty, "", 0, NULL));
  expect_refused (empty, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_TRUNCATED,
                  "empty");

  g_autofree char *magic = fixture_path (f, "magic.npy");
  g_assert_true (g_file_set_contents (magic, "PK\x03\x04 a zip file", -1,
                                      NULL));
  expect_refused (magic, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_CORRUPT,
                  "magic");

  /* a good file cut inside its header, and inside its prefix */
  g_autofree char *good = write_npy_raw (f, "good.npy", f4, 48);
  g_autofree char *bytes = NULL;
  gsize size;
  g_assert_true (g_file_get_contents (good, &bytes, &size, NULL));
  g_autofree char *cut = fixture_path (f, "cut-header.npy");
  g_assert_true (g_file_set_contents (cut, bytes, 40, NULL));
  expect_refused (cut, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_TRUNCATED,
                  "header");
  g_autofree char *cut8 = fixture_path (f, "cut-prefix.npy");
  g_assert_true (g_file_set_contents (cut8, bytes, 8, NULL));
  expect_refused (cut8, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_TRUNCATED,
                  "header");

  g_autofree char *short_data = write_npy_raw (f, "short.npy", f4, 47);
  expect_refused (short_data, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_TRUNCATED,
                  "48 bytes");
  g_autofree char *long_data = write_npy_raw (f, "long.npy", f4, 52);
  expect_refused (long_data, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_CORRUPT,
                  "48 bytes");

  struct
  {
    const char *name, *dict, *fragment;
    int code;
  } cases[] = {
    { "big-endian.npy",
      "{'descr': '>f4', 'fortran_order': False, 'shape': (3, 4), }", "'>f4'",
      INSTDISC_IO_ERROR_UNSUPPORTED },
    { "float64.npy",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }", "'<f8'",
      INSTDISC_IO_ERROR_UNSUPPORTED },
    { "fortran.npy",
      "{'descr': '<f4', 'fortran_order': True, 'shape': (3, 4), }", "Fortran",
      INSTDISC_IO_ERROR_UNSUPPORTED },
    { "3d.npy",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 2), }",
      "2-dimensional", INSTDISC_IO_ERROR_UNSUPPORTED },
    { "scalar.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (), }",
      "scalar", INSTDISC_IO_ERROR_UNSUPPORTED },
    { "no-shape.npy", "{'descr': '<f4', 'fortran_order': False, }", "shape",
      INSTDISC_IO_ERROR_CORRUPT },
    { "open-shape.npy",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4", "parenthesis",
      INSTDISC_IO_ERROR_CORRUPT },
    { "not-a-dict.npy", "['descr', '<f4']", "dict",
      INSTDISC_IO_ERROR_CORRUPT },
    { "negative.npy",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (-3, 4), }", "shape",
      INSTDISC_IO_ERROR_CORRUPT },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = write_npy_raw (f, cases[i].name, cases[i].dict,
                                             48);
      expect_refused (path, INSTDISC_IO_ERROR, cases[i].code,
                      cases[i].fragment);
    }
}

/* A save that fails halfway keeps the old file and leaves no temporary
 * file. */
static void
test_save_failure (Fixture *f, gconstpointer data)
{
  g_autofree char *path = fixture_path (f, "features.npy");
  const gint64 small[2] = { 3, 4 };
  g_assert_true (npy_save (path, NPY_FLOAT32, 2, small, FIXTURE_F32, NULL));
  const gint64 shape[2] = { 1024, 64 };
  g_autofree float *big = g_new0 (float, 1024 * 64);
  FileSizeLimit limit;
  file_size_limit_begin (&limit, 4096);
  GError *error = NULL;
  gboolean ok = npy_save (path, NPY_FLOAT32, 2, shape, big, &error);
  file_size_limit_end (&limit);
  g_assert_false (ok);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "features.npy"));
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_autofree char *names = list_files (f->dir);
  g_assert_cmpstr (names, ==, "features.npy");
  g_autoptr (NpyArray) a = npy_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (a->data, sizeof FIXTURE_F32, FIXTURE_F32,
                   sizeof FIXTURE_F32);
}

/* ---- projector TSV ---- */

static char **
read_lines (const char *path)
{
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_true (g_str_has_suffix (text, "\n"));
  text[strlen (text) - 1] = '\0';
  return g_strsplit (text, "\n", -1);
}

static void
test_projector (Fixture *f, gconstpointer data)
{
  enum { N = 6, D = 5 };
  /* values %.7g would not give back: 1/3, 0.1 + an ulp, large, tiny */
  float v[N * D];
  for (int i = 0; i < N * D; i++)
    v[i] = (float) (i - 13) / 3.0f;
  v[0] = nextafterf (0.1f, 1.0f);
  v[1] = 16777215.0f;
  v[2] = 1.17549435e-38f;
  v[3] = -0.0f;
  v[4] = 3.4028235e38f;
  const gint32 labels[N] = { 0, 1, 2, -1, 7, 1 };
  const char *const class_names[] = { "T-shirt/top", "Trouser", "with\ttab",
                                      NULL };
  const char *const names[N] = { "a.png", "b\tc.png", "line\nbreak.png",
                                 "d\r\n.png", "", "f.png" };
  g_autofree char *vpath = fixture_path (f, "vectors.tsv");
  g_autofree char *mpath = fixture_path (f, "metadata.tsv");
  GError *error = NULL;
  g_assert_true (tsv_save_projector (vpath, mpath, v, N, D, labels,
                                     class_names, names, NULL, &error));
  g_assert_no_error (error);

  g_auto (GStrv) vlines = read_lines (vpath);
  g_assert_cmpuint (g_strv_length (vlines), ==, N);
  for (int i = 0; i < N; i++)
    {
      g_auto (GStrv) fields = g_strsplit (vlines[i], "\t", -1);
      g_assert_cmpuint (g_strv_length (fields), ==, D);
      for (int d = 0; d < D; d++)
        {
          char *end;
          float back = (float) g_ascii_strtod (fields[d], &end);
          g_assert_cmpint (*end, ==, '\0');
          /* exact, sign of zero included */
          if (memcmp (&back, &v[i * D + d], 4) != 0)
            g_error ("vectors.tsv row %d column %d: “%s” reads as %.9g, "
                     "written %.9g", i, d, fields[d], back, v[i * D + d]);
        }
    }

  g_auto (GStrv) mlines = read_lines (mpath);
  g_assert_cmpuint (g_strv_length (mlines), ==, N + 1);
  g_assert_cmpstr (mlines[0], ==, "index\tlabel\tname");
  const char *expected[N] = {
    "0\tT-shirt/top\ta.png",
    "1\tTrouser\tb c.png",
    "2\twith tab\tline break.png",
    "3\t\td  .png",
    "4\t7\t",           /* no class name for 7: the number */
    "5\tTrouser\tf.png",
  };
  for (int i = 0; i < N; i++)
    g_assert_cmpstr (mlines[i + 1], ==, expected[i]);

  /* without labels or names: empty fields, same shape */
  g_assert_true (tsv_save_projector (vpath, mpath, v, 2, D, NULL, NULL, NULL,
                                     NULL, &error));
  g_assert_no_error (error);
  g_auto (GStrv) plain = read_lines (mpath);
  g_assert_cmpuint (g_strv_length (plain), ==, 3);
  g_assert_cmpstr (plain[1], ==, "0\t\t");

  /* a status for each row: a fourth column, named */
  const char *const status[2] = { "ok", "missing" };
  g_assert_true (tsv_save_projector (vpath, mpath, v, 2, D, NULL, NULL, names,
                                     status, &error));
  g_assert_no_error (error);
  g_auto (GStrv) marked = read_lines (mpath);
  g_assert_cmpstr (marked[0], ==, "index\tlabel\tname\tstatus");
  g_assert_cmpstr (marked[1], ==, "0\t\ta.png\tok");
  g_assert_cmpstr (marked[2], ==, "1\t\tb c.png\tmissing");
  g_autofree char *left = list_files (f->dir);
  g_assert_cmpstr (left, ==, "metadata.tsv vectors.tsv");
}

/* A failed export leaves neither half in place of the old pair, and no
 * temporary file. */
static void
test_projector_failure (Fixture *f, gconstpointer data)
{
  g_autofree char *vpath = fixture_path (f, "vectors.tsv");
  g_autofree char *mpath = fixture_path (f, "metadata.tsv");
  enum { N = 2000, D = 16 };
  g_autofree float *v = awkward_floats (N * D);
  FileSizeLimit limit;
  file_size_limit_begin (&limit, 4096);
  GError *error = NULL;
  gboolean ok = tsv_save_projector (vpath, mpath, v, N, D, NULL, NULL, NULL,
                                    NULL, &error);
  file_size_limit_end (&limit);
  g_assert_false (ok);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, ".tsv"));
  g_clear_error (&error);
  g_autofree char *left = list_files (f->dir);
  g_assert_cmpstr (left, ==, "");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) \
  g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/io/npy/roundtrip-f32", test_roundtrip_f32);
  ADD ("/io/npy/roundtrip-i32", test_roundtrip_i32);
  ADD ("/io/npy/roundtrip-empty", test_roundtrip_empty);
  ADD ("/io/npy/header", test_header);
  ADD ("/io/npy/numpy-fixture", test_numpy_fixture);
  ADD ("/io/npy/bad-inputs", test_bad_inputs);
  ADD ("/io/npy/save-failure", test_save_failure);
  ADD ("/io/tsv/projector", test_projector);
  ADD ("/io/tsv/projector-failure", test_projector_failure);
#undef ADD
  return g_test_run ();
}

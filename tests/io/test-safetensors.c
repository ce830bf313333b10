/* test-safetensors.c: round trips, and every way a hostile or damaged file
 * must be refused with the right error and a message naming the file. */
#define G_LOG_DOMAIN "instdisc-io"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "io-fixture.h"
#include "safetensors.h"

/* Writes raw bytes: 8-byte length (header_len, or the real length when
 * header_len is -1), the header text, then data_len bytes of data. */
static char *
write_raw (Fixture *f, const char *name, gint64 header_len, const char *header,
           gsize data_len)
{
  char *path = g_build_filename (f->dir, name, NULL);
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  guint64 len = GUINT64_TO_LE (header_len == -1 ? (guint64) strlen (header)
                                               : (guint64) header_len);
  g_byte_array_append (bytes, (const guint8 *) &len, 8);
  g_byte_array_append (bytes, (const guint8 *) header, strlen (header));
  for (gsize i = 0; i < data_len; i++)
    {
      guint8 b = (guint8) i;
      g_byte_array_append (bytes, &b, 1);
    }
  GError *error = NULL;
  g_file_set_contents (path, (const char *) bytes->data, bytes->len, &error);
  g_assert_no_error (error);
  return path;
}

/* Loads path expecting failure with domain/code and path's base name in the
 * message. */
static void
expect_failure (const char *path, GQuark domain, int code)
{
  GError *error = NULL;
  g_autoptr (SafetensorsFile) file = safetensors_file_load (path, &error);
  g_assert_null (file);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_autofree char *base = g_path_get_basename (path);
  g_assert_nonnull (strstr (error->message, base));
  g_assert_error (error, domain, code);
  g_error_free (error);
}

static void
expect_header_failure (Fixture *f, const char *header, gsize data_len,
                       int code)
{
  g_autofree char *path = write_raw (f, "bad.safetensors", -1, header,
                                     data_len);
  expect_failure (path, INSTDISC_IO_ERROR, code);
}

static void
test_roundtrip (Fixture *f, gconstpointer data)
{
  float a[6] = { 1.5f, -2.0f, 3.25f, 0.0f, -0.0f, 1e-30f };
  gint64 b = -1234567890123;
  gint64 c[3] = { 7, G_MAXINT64, G_MININT64 };
  SafetensorsTensor tensors[4] = {
    { "weight", DTYPE_F32, 2, { 2, 3 }, 6, a },
    { "scalar \"odd\\name\"\n\xc3\xa9", DTYPE_I64, 0, { 0 }, 1, &b },
    { "empty", DTYPE_F32, 2, { 0, 5 }, 0, NULL },
    { "ints", DTYPE_I64, 1, { 3 }, 3, c },
  };
  g_autoptr (GHashTable) meta = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_insert (meta, "epoch", "12");
  g_hash_table_insert (meta, "config", "[model]\nname=\"x\"\t\\ \x01");
  g_autofree char *path = g_build_filename (f->dir, "t.safetensors", NULL);
  GError *error = NULL;
  g_assert_true (safetensors_save (path, tensors, 4, meta, &error));
  g_assert_no_error (error);

  /* header length a multiple of 8, data starting right after it */
  g_autofree char *contents = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  guint64 header_len;
  memcpy (&header_len, contents, 8);
  header_len = GUINT64_FROM_LE (header_len);
  g_assert_cmpuint (header_len % 8, ==, 0);
  g_assert_cmpuint (len, ==, 8 + header_len + sizeof a + 8 + sizeof c);

  g_autoptr (SafetensorsFile) file = safetensors_file_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (safetensors_file_get_n_tensors (file), ==, 4);
  for (guint i = 0; i < 4; i++)
    {
      const SafetensorsTensor *t = safetensors_file_get_tensor (file, i);
      g_assert_cmpstr (t->name, ==, tensors[i].name);
      g_assert_cmpint (t->dtype, ==, tensors[i].dtype);
      g_assert_cmpint (t->ndim, ==, tensors[i].ndim);
      for (int d = 0; d < t->ndim; d++)
        g_assert_cmpint (t->shape[d], ==, tensors[i].shape[d]);
      g_assert_cmpuint (t->numel, ==, tensors[i].numel);
      if (t->numel)
        {
          g_assert_cmpuint ((guintptr) t->data % 8, ==, 0);
          g_assert_cmpmem (t->data, t->numel * (t->dtype == DTYPE_F32 ? 4 : 8),
                           tensors[i].data,
                           t->numel * (t->dtype == DTYPE_F32 ? 4 : 8));
        }
      g_assert_true (safetensors_file_lookup (file, tensors[i].name) == t);
    }
  g_assert_null (safetensors_file_lookup (file, "nope"));
  g_assert_cmpstr (safetensors_file_get_metadata (file, "epoch"), ==, "12");
  g_assert_cmpstr (safetensors_file_get_metadata (file, "config"), ==,
                   "[model]\nname=\"x\"\t\\ \x01");
  g_assert_null (safetensors_file_get_metadata (file, "nope"));
  g_assert_cmpuint (g_hash_table_size (safetensors_file_get_metadata_table (file)),
                    ==, 2);
}

/* Files written by other tools: unaligned offsets, header order that is not
 * data order, escapes, no padding, no metadata. */
static void
test_foreign (Fixture *f, gconstpointer data)
{
  const char *header
      = " {\"b\" : {\"shape\":[1],\"dtype\":\"F32\",\"data_offsets\":[8,12]},"
        "\"\\u0061\\ud83d\\ude00\":{\"dtype\":\"I64\",\"shape\":[],"
        "\"data_offsets\":[0,8]}} \n";
  g_autofree char *path = write_raw (f, "foreign.safetensors", -1, header, 12);
  GError *error = NULL;
  g_autoptr (SafetensorsFile) file = safetensors_file_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (safetensors_file_get_n_tensors (file), ==, 2);
  const SafetensorsTensor *b = safetensors_file_lookup (file, "b");
  const SafetensorsTensor *a = safetensors_file_lookup (file, "a\xf0\x9f\x98\x80");
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_true (safetensors_file_get_tensor (file, 0) == b);
  g_assert_cmpint (a->ndim, ==, 0);
  g_assert_cmpuint (a->numel, ==, 1);
  guint8 expect_b[4] = { 8, 9, 10, 11 };
  g_assert_cmpmem (b->data, 4, expect_b, 4);
  gint64 expect_a = 0x0706050403020100;
  g_assert_cmpint (*(gint64 *) a->data, ==, expect_a);
}

static void
test_empty_header_object (Fixture *f, gconstpointer data)
{
  g_autofree char *path = write_raw (f, "none.safetensors", -1, "{}      ", 0);
  GError *error = NULL;
  g_autoptr (SafetensorsFile) file = safetensors_file_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (safetensors_file_get_n_tensors (file), ==, 0);
}

static void
test_nonexistent (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->dir, "missing.safetensors",
                                            NULL);
  expect_failure (path, G_FILE_ERROR, G_FILE_ERROR_NOENT);
}

static void
test_empty_file (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->dir, "empty.safetensors", NULL);
  g_assert_true (g_file_set_contents (path, "", 0, NULL));
  expect_failure (path, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_TRUNCATED);
}

static char *
save_valid (Fixture *f, gsize *len_out, gchar **contents_out)
{
  float a[16];
  for (int i = 0; i < 16; i++)
    a[i] = (float) i;
  gint64 n = 3;
  SafetensorsTensor tensors[2] = {
    { "a", DTYPE_F32, 2, { 4, 4 }, 16, a },
    { "n", DTYPE_I64, 0, { 0 }, 1, &n },
  };
  char *path = g_build_filename (f->dir, "valid.safetensors", NULL);
  GError *error = NULL;
  g_assert_true (safetensors_save (path, tensors, 2, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, contents_out, len_out, NULL));
  return path;
}

/* A valid file cut at every interesting place: inside the length, inside
 * the header, inside the data, one byte short. */
static void
test_truncated (Fixture *f, gconstpointer data)
{
  gsize len;
  g_autofree char *contents = NULL;
  g_autofree char *path = save_valid (f, &len, &contents);
  guint64 header_len;
  memcpy (&header_len, contents, 8);
  header_len = GUINT64_FROM_LE (header_len);
  gsize cuts[] = { 1, 4, 7, 8, 9, 8 + header_len / 2, 8 + header_len - 1,
                   8 + header_len, 8 + header_len + 1, 8 + header_len + 40,
                   len - 1 };
  g_autofree char *cut_path = g_build_filename (f->dir, "cut.safetensors",
                                                NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (cuts); i++)
    {
      g_test_message ("cut at %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT,
                      cuts[i], len);
      g_assert_true (g_file_set_contents (cut_path, contents, cuts[i], NULL));
      expect_failure (cut_path, INSTDISC_IO_ERROR,
                      INSTDISC_IO_ERROR_TRUNCATED);
    }
  /* and one byte too many is not silently ignored */
  g_autofree char *longer = g_malloc (len + 1);
  memcpy (longer, contents, len);
  longer[len] = 0;
  g_assert_true (g_file_set_contents (cut_path, longer, len + 1, NULL));
  expect_failure (cut_path, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_CORRUPT);
}

static void
test_bad_header_length (Fixture *f, gconstpointer data)
{
  const char *header = "{}      ";
  g_autofree char *zero = write_raw (f, "zero.safetensors", 0, header, 0);
  expect_failure (zero, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_CORRUPT);
  g_autofree char *huge = write_raw (f, "huge.safetensors", G_MAXINT64,
                                     header, 0);
  expect_failure (huge, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_CORRUPT);
  g_autofree char *all_ones = write_raw (f, "ones.safetensors", -2, header, 0);
  /* (-2 is written as 0xfffffffffffffffe) */
  expect_failure (all_ones, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_CORRUPT);
  /* under the cap but longer than the file */
  g_autofree char *longer = write_raw (f, "longer.safetensors", 1000, header,
                                       0);
  expect_failure (longer, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_TRUNCATED);
}

static void
test_invalid_json (Fixture *f, gconstpointer data)
{
  const char *bad[] = {
    "",
    "   ",
    "[]",
    "\"x\"",
    "12",
    "{",
    "{\"a\"",
    "{\"a\":",
    "{\"a\":{}",
    "{\"a\" {}}",
    "{a:{}}",
    "{\"a\":{},}",
    "{,}",
    "{}}",
    "{} x",
    "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,],\"data_offsets\":[0,4]}}",
    "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}",
    "{\"a\":{\"dtype\":\"F32\",\"shape\":[1e3],\"data_offsets\":[0,4]}}",
    "{\"a\":{\"dtype\":\"F32\",\"shape\":[01],\"data_offsets\":[0,4]}}",
    "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}",
    "{\"a\":{\"dtype\":\"F32\",\"shape\":[-],\"data_offsets\":[0,4]}}",
    "{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],"
    "\"data_offsets\":[0,4]}}",
    "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],"
    "\"data_offsets\":[0,4]}}",
    "{\"a\":{\"dtype\":\"F32\",\"shape\":[true],\"data_offsets\":[0,4]}}",
    "{\"a\":{\"dtype\":\"F32\",\"shape\":null,\"data_offsets\":[0,4]}}",
    "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}",
    "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}",
    "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\"0\",\"4\"]}}",
    "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}",
    "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}",
    "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}",
    "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}",
    "{\"a\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}",
    "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],"
    "\"data_offsets\":[0,4]}}",
    "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
    "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
    "{\"a\":[1]}",
    "{\"\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
    "{\"__metadata__\":[]}",
    "{\"__metadata__\":{\"k\":1}}",
    "{\"__metadata__\":{\"k\":\"unterminated}}",
    "{\"__metadata__\":{\"k\":\"bad \\x escape\"}}",
    "{\"__metadata__\":{\"k\":\"bad \\u12 escape\"}}",
    "{\"__metadata__\":{\"k\":\"lone \\ud800 surrogate\"}}",
    "{\"__metadata__\":{\"k\":\"lone \\udc00 surrogate\"}}",
    "{\"__metadata__\":{\"k\":\"nul \\u0000\"}}",
    "{\"__metadata__\":{\"k\":\"raw\nnewline\"}}",
    "{\"__metadata__\":{\"k\":\"bad utf8 \xff\xfe\"}}",
    "{\"__metadata__\":{\"k\":\"trailing backslash\\",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *shown = g_strescape (bad[i], NULL);
      g_test_message ("header %s", shown);
      /* data for one 4-byte tensor, so only the header is wrong */
      expect_header_failure (f, bad[i], strstr (bad[i], "\"a\"") ? 4 : 0,
                             INSTDISC_IO_ERROR_CORRUPT);
    }

  /* nesting far deeper than any header: refused, not a stack overflow */
  GString *deep = g_string_new ("{\"__metadata__\":");
  for (int i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  expect_header_failure (f, deep->str, 0, INSTDISC_IO_ERROR_CORRUPT);
  g_string_free (deep, TRUE);
}

static void
test_wrong_dtype (Fixture *f, gconstpointer data)
{
  expect_header_failure (f, "{\"a\":{\"dtype\":\"BF16\",\"shape\":[2],"
                            "\"data_offsets\":[0,4]}}", 4,
                         INSTDISC_IO_ERROR_UNSUPPORTED);
  expect_header_failure (f, "{\"a\":{\"dtype\":\"\",\"shape\":[1],"
                            "\"data_offsets\":[0,4]}}", 4,
                         INSTDISC_IO_ERROR_UNSUPPORTED);
  expect_header_failure (f, "{\"a\":{\"dtype\":\"F32\",\"shape\":"
                            "[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4,
                         INSTDISC_IO_ERROR_UNSUPPORTED);
}

static void
test_bad_offsets (Fixture *f, gconstpointer data)
{
  struct { const char *header; gsize data_len; int code; } cases[] = {
    /* overlapping */
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
      12, INSTDISC_IO_ERROR_CORRUPT },
    /* the same range twice */
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
      8, INSTDISC_IO_ERROR_CORRUPT },
    /* a gap */
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}",
      20, INSTDISC_IO_ERROR_CORRUPT },
    /* not starting at 0 */
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
      8, INSTDISC_IO_ERROR_CORRUPT },
    /* size does not match the shape */
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}",
      8, INSTDISC_IO_ERROR_CORRUPT },
    /* end before begin */
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}",
      8, INSTDISC_IO_ERROR_CORRUPT },
    /* negative */
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}",
      8, INSTDISC_IO_ERROR_CORRUPT },
    /* far past the end of the file */
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":"
      "[9223372036854775800,9223372036854775804]}}",
      4, INSTDISC_IO_ERROR_CORRUPT },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1073741824,16],\"data_offsets\":"
      "[0,68719476736]}}",
      4, INSTDISC_IO_ERROR_TRUNCATED },
    /* a consistent header with data missing */
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}",
      12, INSTDISC_IO_ERROR_TRUNCATED },
    /* data left over */
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
      12, INSTDISC_IO_ERROR_CORRUPT },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, cases[i].header);
      expect_header_failure (f, cases[i].header, cases[i].data_len,
                             cases[i].code);
    }
}

/* Garbage in every byte of a valid header must never crash. */
static void
test_fuzz_header (Fixture *f, gconstpointer data)
{
  gsize len;
  g_autofree char *contents = NULL;
  g_autofree char *path = save_valid (f, &len, &contents);
  g_autofree char *fuzz_path = g_build_filename (f->dir, "fuzz.safetensors",
                                                 NULL);
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);
  g_autofree char *copy = g_malloc (len);
  for (int iter = 0; iter < 400; iter++)
    {
      memcpy (copy, contents, len);
      int flips = g_rand_int_range (rand, 1, 4);
      for (int k = 0; k < flips; k++)
        {
          gsize at = (gsize) g_rand_int_range (rand, 0, MIN ((gint32) len, 120));
          copy[at] = (char) g_rand_int_range (rand, 0, 256);
        }
      g_assert_true (g_file_set_contents (fuzz_path, copy, len, NULL));
      GError *error = NULL;
      g_autoptr (SafetensorsFile) file = safetensors_file_load (fuzz_path,
                                                               &error);
      g_assert_true ((file == NULL) == (error != NULL));
      if (error)
        {
          g_autofree char *base = g_path_get_basename (fuzz_path);
          g_assert_nonnull (strstr (error->message, base));
          g_error_free (error);
        }
    }
}

static void
test_save_invalid (Fixture *f, gconstpointer data)
{
  float a[2] = { 1, 2 };
  SafetensorsTensor twice[2] = {
    { "a", DTYPE_F32, 1, { 2 }, 2, a },
    { "a", DTYPE_F32, 1, { 2 }, 2, a },
  };
  SafetensorsTensor wrong_numel[1] = { { "a", DTYPE_F32, 1, { 3 }, 2, a } };
  SafetensorsTensor reserved[1] = {
    { "__metadata__", DTYPE_F32, 1, { 2 }, 2, a } };
  g_autofree char *path = g_build_filename (f->dir, "x.safetensors", NULL);
  const SafetensorsTensor *cases[] = { twice, wrong_numel, reserved };
  guint counts[] = { 2, 1, 1 };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      GError *error = NULL;
      g_assert_false (safetensors_save (path, cases[i], counts[i], NULL,
                                        &error));
      g_assert_error (error, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_UNSUPPORTED);
      g_assert_nonnull (strstr (error->message, "x.safetensors"));
      g_error_free (error);
      g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
    }
}

static guint
count_files (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  guint n = 0;
  while (g_dir_read_name (d))
    n++;
  return n;
}

/* A save whose temporary file cannot be created (here: the folder does not
 * exist; a read-only folder would not stop root) fails naming the file and
 * creates nothing. That a failed save keeps the old file is
 * save-write-failure's promise. */
static void
test_save_no_folder (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->dir, "missing",
                                            "x.safetensors", NULL);
  float b[1] = { 99 };
  SafetensorsTensor t = { "b", DTYPE_F32, 1, { 1 }, 1, b };
  GError *error = NULL;
  g_assert_false (safetensors_save (path, &t, 1, NULL, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull (strstr (error->message, "x.safetensors"));
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_assert_cmpuint (count_files (f->dir), ==, 0);
}

/* A write that fails halfway (the file size limit, which binds root too)
 * removes the temporary file and leaves the old file as it was. */
static void
test_save_write_failure (Fixture *f, gconstpointer data)
{
  gsize len;
  g_autofree char *old = NULL;
  g_autofree char *path = save_valid (f, &len, &old);

  gsize n = 64 * 1024;
  g_autofree float *big = g_new0 (float, n);
  SafetensorsTensor t = { "big", DTYPE_F32, 1, { (gint64) n }, n, big };
  FileSizeLimit limit;
  file_size_limit_begin (&limit, 4096);
  GError *error = NULL;
  gboolean ok = safetensors_save (path, &t, 1, NULL, &error);
  file_size_limit_end (&limit);

  g_assert_false (ok);
  /* EFBIG has no GFileError of its own */
  g_assert_nonnull (error);
  g_assert_true (error->domain == G_FILE_ERROR);
  g_assert_nonnull (strstr (error->message, "valid.safetensors"));
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_assert_cmpuint (count_files (f->dir), ==, 1);
  g_autofree char *now = NULL;
  gsize now_len;
  g_assert_true (g_file_get_contents (path, &now, &now_len, NULL));
  g_assert_cmpmem (now, now_len, old, len);
}

/* A failure after the temporary file exists (the target is a folder, so
 * the rename fails) removes the temporary file too. */
static void
test_save_rename_failure (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->dir, "a-folder", NULL);
  g_assert_cmpint (g_mkdir (path, 0700), ==, 0);
  g_autofree char *inside = g_build_filename (path, "keep", NULL);
  g_assert_true (g_file_set_contents (inside, "x", 1, NULL));
  float b[1] = { 99 };
  SafetensorsTensor t = { "b", DTYPE_F32, 1, { 1 }, 1, b };
  GError *error = NULL;
  g_assert_false (safetensors_save (path, &t, 1, NULL, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_ISDIR);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_assert_cmpuint (count_files (f->dir), ==, 1);
  g_assert_true (g_file_test (inside, G_FILE_TEST_IS_REGULAR));
}

static void
test_save_overwrites (Fixture *f, gconstpointer data)
{
  gsize len;
  g_autofree char *old = NULL;
  g_autofree char *path = save_valid (f, &len, &old);
  float b[1] = { 99 };
  SafetensorsTensor t = { "b", DTYPE_F32, 1, { 1 }, 1, b };
  GError *error = NULL;
  g_assert_true (safetensors_save (path, &t, 1, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_files (f->dir), ==, 1);
  g_autoptr (SafetensorsFile) file = safetensors_file_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (safetensors_file_get_n_tensors (file), ==, 1);
  g_assert_cmpfloat (*(float *) safetensors_file_lookup (file, "b")->data, ==,
                     99.0f);
}

/* Only regular files are read: opening a FIFO would wait for a writer
 * forever, a folder is not a checkpoint; both are one clear error. And a
 * header past the 16 MiB limit is refused from its length alone. */
static void
test_open_not_regular (Fixture *f, gconstpointer unused)
{
  g_autofree char *fifo = g_build_filename (f->dir, "fifo.safetensors", NULL);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  const char *paths[] = { fifo, f->dir };
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_null (safetensors_file_load (paths[i], &error));
      g_assert_nonnull (error);
      g_assert_true (error->domain == G_FILE_ERROR);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, paths[i]));
    }
  /* 17 MiB declared (the bytes need not be there: the length is refused
   * before anything is read or allocated for it) */
  g_autofree char *big = write_raw (f, "big-header.safetensors",
                                    (gint64) 17 * 1024 * 1024, "{}", 0);
  g_autoptr (GError) error = NULL;
  g_assert_null (safetensors_file_load (big, &error));
  g_assert_error (error, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_CORRUPT);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) \
  g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/io/safetensors/roundtrip", test_roundtrip);
  ADD ("/io/safetensors/foreign", test_foreign);
  ADD ("/io/safetensors/no-tensors", test_empty_header_object);
  ADD ("/io/safetensors/nonexistent", test_nonexistent);
  ADD ("/io/safetensors/empty-file", test_empty_file);
  ADD ("/io/safetensors/truncated", test_truncated);
  ADD ("/io/safetensors/bad-header-length", test_bad_header_length);
  ADD ("/io/safetensors/invalid-json", test_invalid_json);
  ADD ("/io/safetensors/wrong-dtype", test_wrong_dtype);
  ADD ("/io/safetensors/bad-offsets", test_bad_offsets);
  ADD ("/io/safetensors/fuzz-header", test_fuzz_header);
  ADD ("/io/safetensors/save-invalid", test_save_invalid);
  ADD ("/io/safetensors/save-no-folder", test_save_no_folder);
  ADD ("/io/safetensors/save-write-failure", test_save_write_failure);
  ADD ("/io/safetensors/save-rename-failure", test_save_rename_failure);
  ADD ("/io/safetensors/save-overwrites", test_save_overwrites);
  ADD ("/io/safetensors/open-not-regular", test_open_not_regular);
#undef ADD
  return g_test_run ();
}

/* cli-testutil.h: running the `instdisc` binary as a person does, for the
 * tests of tests/cli: every command runs in `workdir`, and a failure must
 * exit non-zero with one "instdisc: ..." line naming the culprit. Also the
 * toy run most commands are tried on (96 images of 28 x 28, 4 classes,
 * trained 2 epochs into workdir/run) and image files to query. */
#pragma once

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "test-data.h"

static const char *instdisc_path;
static char *workdir;        /* the temporary folder every command runs in */

typedef struct
{
  int status;   /* exit status, or -1 when killed by a signal */
  char *out, *err;
} Result;

static inline void
result_clear (Result *r)
{
  g_clear_pointer (&r->out, g_free);
  g_clear_pointer (&r->err, g_free);
}

/* the file-size limit (ulimit -f) of the next run_instdisc's child, 0 for
 * none */
static rlim_t child_file_limit;

static inline void
limit_child (gpointer unused)
{
  if (child_file_limit)
    {
      struct rlimit limit = { child_file_limit, child_file_limit };
      setrlimit (RLIMIT_FSIZE, &limit);
    }
}

/* Runs `instdisc ARG...` (NULL-terminated) in workdir. */
static inline Result
run_instdisc (const char *first, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (char *) instdisc_path);
  va_list args;
  va_start (args, first);
  for (const char *a = first; a; a = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) a);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  Result r = { 0 };
  int wait_status = 0;
  g_autoptr (GError) error = NULL;
  gboolean spawned = g_spawn_sync (workdir, (char **) argv->pdata, NULL,
                                   G_SPAWN_DEFAULT, limit_child, NULL, &r.out,
                                   &r.err, &wait_status, &error);
  g_assert_no_error (error);
  g_assert_true (spawned);
  r.status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1;
  if (r.status != 0)
    g_test_message ("instdisc %s: exit %d, stderr: %s", first, r.status,
                    r.err);
  return r;
}

static inline void
assert_success (const Result *r)
{
  if (r->status != 0)
    g_error ("expected success, got exit %d: %s", r->status, r->err);
}

/* Non-zero exit and exactly one "instdisc: " line on stderr, which
 * mentions `culprit`. */
static inline void
assert_one_failure (const Result *r, const char *culprit)
{
  g_assert_cmpint (r->status, !=, 0);
  g_assert_cmpint (r->status, !=, -1);   /* an exit, not a crash */
  g_auto (GStrv) lines = g_strsplit (r->err, "\n", -1);
  int messages = 0;
  const char *message = NULL;
  for (int i = 0; lines[i]; i++)
    if (g_str_has_prefix (lines[i], "instdisc: "))
      {
        messages++;
        message = lines[i];
      }
  g_assert_cmpint (messages, ==, 1);
  if (!strstr (message, culprit))
    g_error ("the message “%s” does not name “%s”", message, culprit);
}

static inline char *
work_file (const char *name)
{
  return g_build_filename (workdir, name, NULL);
}

static inline gsize
count_lines (const char *name)
{
  g_autofree char *path = work_file (name);
  g_autofree char *text = NULL;
  gsize length = 0;
  g_autoptr (GError) error = NULL;
  g_file_get_contents (path, &text, &length, &error);
  g_assert_no_error (error);
  gsize lines = 0;
  for (gsize i = 0; i < length; i++)
    lines += text[i] == '\n';
  return lines;
}

/* ---- the toy run the commands are tried on ---- */

#define N_IMAGES 96
#define N_CLASSES 4
#define DIM 128

G_GNUC_UNUSED static gboolean trained;     /* workdir/run holds a finished run */

static inline int
label_of (int i)
{
  return i % N_CLASSES;
}

/* The toy data set: workdir/toy, its train- and t10k- files (test-data.h). */
static inline void
write_idx_pair (void)
{
  G_STATIC_ASSERT (N_CLASSES == TEST_TOY_CLASSES);
  g_free (test_write_toy_splits (workdir, "toy", N_IMAGES, N_IMAGES));
}

/* An RGB image (type: a GdkPixbuf saver, "png", "webp") larger than the
 * training images, bright on the left (class 0's look), so query and
 * embed go through grey conversion and resizing. */
static inline void
write_image (const char *name, const char *type, int width, int height)
{
  g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8,
                                                 width, height);
  guint8 *p = gdk_pixbuf_get_pixels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint8 v = x < width / 2 ? 210 : 25;
        p[y * stride + 3 * x] = v;
        p[y * stride + 3 * x + 1] = v;
        p[y * stride + 3 * x + 2] = (guint8) (v / 2);
      }
  g_autofree char *path = work_file (name);
  g_autoptr (GError) error = NULL;
  gdk_pixbuf_save (pixbuf, path, type, &error, NULL);
  g_assert_no_error (error);
}

static inline void
write_png (const char *name, int width, int height)
{
  write_image (name, "png", width, height);
}

static inline void
ensure_trained (void)
{
  if (trained)
    return;
  Result r = run_instdisc ("train", "--data", "toy",
                           "--run", "run", "--epochs", "2", "--batch-size",
                           "16", "--threads", "1", NULL);
  assert_success (&r);
  /* piped: plain lines, no carriage returns of a bar */
  g_assert_null (strchr (r.out, '\r'));
  g_assert_nonnull (strstr (r.out, "done: 12 steps"));
  result_clear (&r);
  trained = TRUE;
}

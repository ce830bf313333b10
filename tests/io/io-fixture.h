/* io-fixture.h: a temporary folder per test, and a way to make writes fail
 * halfway that binds root too (unlike a read-only folder): the file size
 * limit, with SIGXFSZ ignored so write() returns EFBIG instead. */
#pragma once

#include <signal.h>
#include <sys/resource.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "testutil.h"

typedef struct
{
  char *dir;
} Fixture;

static inline void
fixture_set_up (Fixture *f, gconstpointer data)
{
  GError *error = NULL;
  f->dir = g_dir_make_tmp ("instdisc-io-XXXXXX", &error);
  g_assert_no_error (error);
}

static inline void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  test_remove_tree (f->dir);
  g_free (f->dir);
}

static inline char *
fixture_path (Fixture *f, const char *name)
{
  return g_build_filename (f->dir, name, NULL);
}

static inline int
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

/* the names in dir, sorted, as one string "a b c" (for messages that show
 * a leftover temporary file by name) */
static inline char *
list_files (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (d)))
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

typedef struct
{
  struct rlimit saved;
  void (*old_handler) (int);
} FileSizeLimit;

/* Until file_size_limit_end, no file can grow past bytes. */
static inline void
file_size_limit_begin (FileSizeLimit *l, rlim_t bytes)
{
  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &l->saved), ==, 0);
  struct rlimit small = { bytes, l->saved.rlim_max };
  l->old_handler = signal (SIGXFSZ, SIG_IGN);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &small), ==, 0);
}

static inline void
file_size_limit_end (FileSizeLimit *l)
{
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &l->saved), ==, 0);
  signal (SIGXFSZ, l->old_handler);
}

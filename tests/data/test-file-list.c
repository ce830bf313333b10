/* test-file-list.c: an image folder's scan pinned in files.txt, reopened
 * exactly whatever happens to the folder; and a folder whose symbolic
 * links make cycles, scanned once. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "data-fixtures.h"
#include "file-list.h"
#include "test-data.h"

/* 3 classes of 10 images: the 10th of each is the test split (hold-out) */
enum { CLASSES = 3, PER_CLASS = 10, N_TRAIN = 27, N_TEST = 3 };

typedef struct
{
  char *dir;       /* the temporary folder */
  char *root;      /* dir/pets, the image folder */
  char *list;      /* dir/files.txt */
  Dataset *train, *test;   /* the scan the list was written from */
} Fixture;

static void
options_for (DatasetOptions *options)
{
  dataset_options_init_default (options);
  options->image_size = 8;
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->dir = fixture_tmpdir ();
  f->root = test_write_image_folder (f->dir, "pets", CLASSES, PER_CLASS, 12,
                                     FALSE, 7);
  f->list = g_build_filename (f->dir, DATASET_FILE_LIST_NAME, NULL);
  DatasetOptions options;
  options_for (&options);
  g_autoptr (GError) error = NULL;
  f->train = dataset_open (f->root, "train", &options, &error);
  g_assert_no_error (error);
  f->test = dataset_open (f->root, "test", &options, &error);
  g_assert_no_error (error);
  g_assert_cmpint (f->train->n, ==, N_TRAIN);
  g_assert_cmpint (f->test->n, ==, N_TEST);
  g_assert_true (dataset_file_list_save (f->list, f->train, f->test, &error));
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  dataset_unref (f->train);
  dataset_unref (f->test);
  fixture_rmtree (f->dir);
  g_free (f->dir);
  g_free (f->root);
  g_free (f->list);
}

static Dataset *
reopen (Fixture *f, const char *split)
{
  DatasetOptions options;
  options_for (&options);
  g_autoptr (GError) error = NULL;
  Dataset *d = dataset_file_list_open (f->list, f->root, split, &options,
                                       &error);
  g_assert_no_error (error);
  return d;
}

/* the row of class c's k-th training image */
static int
train_row (int c, int k)
{
  return c * (PER_CLASS - 1) + k;
}

static char *
image_path (Fixture *f, int c, int k)
{
  g_autofree char *name = g_strdup_printf ("c%d/img%02d.png", c, k);
  return g_build_filename (f->root, name, NULL);
}

/* every row names the file it named in the scan, with its label */
static void
assert_same_rows (const Dataset *a, const Dataset *b)
{
  g_assert_cmpint (a->n, ==, b->n);
  g_assert_cmpint (a->channels, ==, b->channels);
  g_assert_cmpint (a->n_classes, ==, b->n_classes);
  for (int c = 0; c < a->n_classes; c++)
    g_assert_cmpstr (a->class_names[c], ==, b->class_names[c]);
  for (int i = 0; i < a->n; i++)
    {
      g_assert_cmpstr (a->paths[i], ==, b->paths[i]);
      g_assert_cmpint (a->labels[i], ==, b->labels[i]);
    }
}

static char *
read_text (const char *path)
{
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&text);
}

static void
assert_contains (const char *text, const char *part)
{
  if (!strstr (text, part))
    g_error ("“%s” does not hold “%s”", text, part);
}

/* Reopened unchanged: the same rows, nothing marked, nothing to say. */
static void
test_reopen (Fixture *f, gconstpointer data)
{
  g_autofree char *text = read_text (f->list);
  g_assert_true (g_str_has_prefix (text, "instdisc-files 1\n"));
  assert_contains (text, "\nchannels\ttrain\t1\n");
  assert_contains (text, "\nstats\ttrain\t0.");
  assert_contains (text, "\nclass\tc0\n");
  assert_contains (text, "\ntrain\tok\t0\t");
  assert_contains (text, "\tc0/img00.png\n");
  g_autofree char *end = g_strdup_printf ("\nend\t%d\n", N_TRAIN + N_TEST);
  g_assert_true (g_str_has_suffix (text, end));

  g_autoptr (Dataset) train = reopen (f, "train");
  g_autoptr (Dataset) test = reopen (f, "test");
  assert_same_rows (f->train, train);
  assert_same_rows (f->test, test);
  g_assert_cmpstr (train->file_list, ==, f->list);
  g_assert_cmpint (dataset_count_unavailable (train), ==, 0);
  g_assert_cmpint (train->n_new, ==, 0);
  g_assert_null (dataset_file_list_describe (train));
  g_assert_null (dataset_file_list_describe (test));
  guint8 a[8 * 8], b[8 * 8];
  g_autoptr (GError) error = NULL;
  g_assert_true (dataset_get_image (f->train, 5, a, &error));
  g_assert_true (dataset_get_image (train, 5, b, &error));
  g_assert_cmpmem (a, sizeof a, b, sizeof b);
}

/* A deleted image keeps its row, marked missing and said once; a scan
 * made again would have moved every row after it. */
static void
test_deleted (Fixture *f, gconstpointer data)
{
  float mean[3], std[3], mean_now[3], std_now[3];
  dataset_channel_stats (f->train, mean, std);
  g_autofree char *victim = image_path (f, 1, 3);
  g_assert_cmpint (g_unlink (victim), ==, 0);
  g_autoptr (Dataset) train = reopen (f, "train");
  assert_same_rows (f->train, train);
  /* a grey set's normalisation is the listed one, not the folder's now */
  g_assert_cmpint (train->channels, ==, 1);
  g_assert_true (train->has_channel_stats);
  dataset_channel_stats (train, mean_now, std_now);
  g_assert_cmpfloat (mean_now[0], ==, mean[0]);
  g_assert_cmpfloat (std_now[0], ==, std[0]);
  dataset_channel_stats (f->train, mean_now, std_now);
  g_assert_cmpfloat (mean_now[0], !=, mean[0]);
  const int row = train_row (1, 3);
  g_assert_cmpint (dataset_row_status (train, row), ==, DATASET_ROW_MISSING);
  g_assert_cmpint (dataset_count_unavailable (train), ==, 1);
  guint8 image[8 * 8];
  g_autoptr (GError) error = NULL;
  g_assert_false (dataset_get_image (train, row, image, &error));
  g_assert_error (error, INSTDISC_DATA_ERROR,
                  INSTDISC_DATA_ERROR_UNAVAILABLE);
  assert_error_names (error, "img03.png");
  g_clear_error (&error);
  g_assert_true (dataset_get_image (train, row + 1, image, &error));
  g_autofree char *note = dataset_file_list_describe (train);
  g_assert_nonnull (note);
  g_test_message ("%s", note);
  assert_contains (note, "1 image is missing (c1/img03.png)");
  g_assert_null (strchr (note, '\n'));

  DatasetOptions options;
  options_for (&options);
  g_autoptr (Dataset) rescanned = dataset_open (f->root, "train", &options,
                                                &error);
  g_assert_no_error (error);
  /* a new scan numbers the rows after it differently */
  g_assert_cmpstr (rescanned->paths[row], !=, train->paths[row]);
}

/* A renamed image: its row is missing, the new name is a new file, and
 * every other row names what it named. */
static void
test_renamed (Fixture *f, gconstpointer data)
{
  g_autofree char *from = image_path (f, 0, 2);
  g_autofree char *to = g_build_filename (f->root, "c0", "img02-renamed.png",
                                          NULL);
  g_assert_cmpint (g_rename (from, to), ==, 0);
  g_autoptr (Dataset) train = reopen (f, "train");
  assert_same_rows (f->train, train);
  g_assert_cmpint (dataset_row_status (train, train_row (0, 2)), ==,
                   DATASET_ROW_MISSING);
  g_assert_cmpint (dataset_count_unavailable (train), ==, 1);
  g_assert_cmpint (train->n_new, ==, 1);
  g_autofree char *note = dataset_file_list_describe (train);
  g_test_message ("%s", note);
  assert_contains (note, "c0/img02.png");
  assert_contains (note, "1 new image in");
}

/* New images, in a class and in a new class folder, change no row. */
static void
test_added (Fixture *f, gconstpointer data)
{
  g_free (fixture_save_solid (f->root, "c2/img10.png", 12, 12, 90, 90, 90,
                              "png"));
  g_free (fixture_save_solid (f->root, "c9/new.png", 12, 12, 90, 90, 90,
                              "png"));
  g_autoptr (Dataset) train = reopen (f, "train");
  g_autoptr (Dataset) test = reopen (f, "test");
  assert_same_rows (f->train, train);
  assert_same_rows (f->test, test);
  g_assert_cmpint (dataset_count_unavailable (train), ==, 0);
  g_assert_cmpint (train->n_new, ==, 2);
  g_assert_cmpint (test->n_new, ==, 0);   /* said once, by the training split */
  g_autofree char *note = dataset_file_list_describe (train);
  g_test_message ("%s", note);
  assert_contains (note, "2 new images in");
  assert_contains (note, "are not part of this run");
  g_assert_null (dataset_file_list_describe (test));
}

/* A file rewritten (another size) or touched (another time) is changed. */
static void
test_changed (Fixture *f, gconstpointer data)
{
  g_autofree char *rewritten = fixture_save_solid (f->root, "c0/img05.png",
                                                   20, 20, 1, 2, 3, "png");
  g_autofree char *touched = image_path (f, 2, 1);
  test_touch_later (touched);
  g_autoptr (Dataset) train = reopen (f, "train");
  assert_same_rows (f->train, train);
  g_assert_cmpint (dataset_row_status (train, train_row (0, 5)), ==,
                   DATASET_ROW_CHANGED);
  g_assert_cmpint (dataset_row_status (train, train_row (2, 1)), ==,
                   DATASET_ROW_CHANGED);
  g_assert_cmpint (dataset_count_unavailable (train), ==, 2);
  g_autofree char *note = dataset_file_list_describe (train);
  g_test_message ("%s", note);
  assert_contains (note, "2 images changed since the run listed them");
  assert_contains (note, "c0/img05.png, c2/img01.png");
}

/* Files the scan skipped are listed, reported again when reopened, and
 * are not new files. */
static void
test_skipped (void)
{
  g_autofree char *dir = fixture_tmpdir ();
  g_autofree char *root = test_write_image_folder (dir, "pets", 2, 4, 12, FALSE,
                                                 3);
  g_free (fixture_write (root, "c1/broken.png", "not a PNG\n", 10));
  DatasetOptions options;
  options_for (&options);
  options.holdout_every = 0;
  g_autoptr (GError) error = NULL;
  g_autoptr (Dataset) train = dataset_open (root, "train", &options, &error);
  g_assert_no_error (error);
  g_assert_cmpint (train->n, ==, 8);
  g_assert_cmpint (train->n_skipped, ==, 1);
  g_autofree char *list = g_build_filename (dir, DATASET_FILE_LIST_NAME, NULL);
  g_assert_true (dataset_file_list_save (list, train, NULL, &error));
  g_assert_no_error (error);
  g_autofree char *text = read_text (list);
  assert_contains (text, "\ntrain\tskipped\t-1\t10\t");
  assert_contains (text, "\tc1/broken.png\n");

  g_autoptr (Dataset) again = dataset_file_list_open (list, root, "train",
                                                      &options, &error);
  g_assert_no_error (error);
  assert_same_rows (train, again);
  g_assert_cmpint (again->n_skipped, ==, 1);
  assert_contains (again->skipped[0], "broken.png");
  g_assert_true (g_str_has_suffix (again->skipped_paths[0], "broken.png"));
  g_assert_cmpint (again->n_new, ==, 0);
  /* no test split was listed: a clear "not found" */
  g_assert_null (dataset_file_list_open (list, root, "test", &options,
                                         &error));
  g_assert_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_NOT_FOUND);
  assert_error_names (error, DATASET_FILE_LIST_NAME);
  fixture_rmtree (dir);
}

/* Tabs, line breaks and percent signs in names survive the list. */
static void
test_escaping (void)
{
  g_autofree char *dir = fixture_tmpdir ();
  const char *names[] = { "c0/tab\there.png", "c0/new\nline.png",
                          "c0/100%.png", "c1\t%/plain.png" };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    g_free (fixture_save_solid (dir, names[i], 10, 10, 40 * i, 50, 60,
                                "png"));
  DatasetOptions options;
  options_for (&options);
  options.holdout_every = 0;
  g_autoptr (GError) error = NULL;
  g_autoptr (Dataset) train = dataset_open (dir, "train", &options, &error);
  g_assert_no_error (error);
  g_assert_cmpint (train->n, ==, 4);
  g_autofree char *list = g_build_filename (dir, "list.txt", NULL);
  g_assert_true (dataset_file_list_save (list, train, NULL, &error));
  g_assert_no_error (error);
  g_autofree char *text = read_text (list);
  assert_contains (text, "\tc0/tab%09here.png\n");
  assert_contains (text, "\tc0/new%0Aline.png\n");
  assert_contains (text, "\tc0/100%25.png\n");
  assert_contains (text, "\nclass\tc1%09%25\n");
  g_autoptr (Dataset) again = dataset_file_list_open (list, dir, "train",
                                                      &options, &error);
  g_assert_no_error (error);
  assert_same_rows (train, again);
  g_assert_cmpint (dataset_count_unavailable (again), ==, 0);
  fixture_rmtree (dir);
}

/* A list that was cut short, has a line of another format or version, or
 * says contradictory things: one error, one line, naming the file. */
static void
test_corrupt (Fixture *f, gconstpointer data)
{
  g_autofree char *good = read_text (f->list);
  const gsize length = strlen (good);
  g_autofree char *no_end = g_strndup (good, strstr (good, "\nend\t")
                                                 - good + 1);
  g_autofree char *bad_size = g_strdup (good);
  char *field = strstr (bad_size, "\ntrain\tok\t0\t") + strlen ("\ntrain\tok\t0\t");
  field[0] = 'x';
  g_autofree char *unknown = g_strconcat (no_end, "frame\t3\nend\t30\n", NULL);
  g_autofree char *version = g_strdup (good);
  version[strlen ("instdisc-files ")] = '2';
  g_autofree char *bad_count = g_strconcat (no_end, "end\t31\n", NULL);
  g_autofree char *bad_label = g_strdup (good);
  strstr (bad_label, "\ntrain\tok\t0\t")[strlen ("\ntrain\tok\t")] = '7';
  g_autofree char *bad_escape = g_strdup (good);
  memcpy (strstr (bad_escape, "c0/img00.png"), "c0/img%0g", 9);
  const struct
  {
    const char *what, *text;
    gsize length;
    const char *says;
  } cases[] = {
    { "cut in a line", good, length / 2, "cut short" },
    { "no end line", no_end, strlen (no_end), "cut short" },
    { "a bad size", bad_size, strlen (bad_size), "line 9" },
    { "an unknown line", unknown, strlen (unknown), "“frame”" },
    { "another version", version, length, "version" },
    { "not a list", "hello\n", 6, "not a file list" },
    { "a wrong count", bad_count, strlen (bad_count), "counts 31" },
    { "a label out of range", bad_label, strlen (bad_label), "label" },
    { "a bad escape", bad_escape, strlen (bad_escape), "escaped" },
    { "empty", "", 0, "not a file list" },
  };
  DatasetOptions options;
  options_for (&options);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("%s", cases[i].what);
      g_autoptr (GError) error = NULL;
      g_assert_true (g_file_set_contents (f->list, cases[i].text,
                                          cases[i].length, NULL));
      g_assert_null (dataset_file_list_open (f->list, f->root, "train",
                                             &options, &error));
      g_assert_nonnull (error);
      assert_error_names (error, f->list);
      assert_error_names (error, cases[i].says);
      g_assert_null (strchr (error->message, '\n'));
    }
  /* the data folder gone: said, rather than every row missing */
  g_assert_true (g_file_set_contents (f->list, good, length, NULL));
  g_autofree char *elsewhere = g_build_filename (f->dir, "moved", NULL);
  g_assert_cmpint (g_rename (f->root, elsewhere), ==, 0);
  g_autoptr (GError) error = NULL;
  g_assert_null (dataset_file_list_open (f->list, f->root, "train", &options,
                                         &error));
  g_assert_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_NOT_FOUND);
  assert_error_names (error, f->root);
  g_assert_cmpint (g_rename (elsewhere, f->root), ==, 0);
}

/* A row the run could not read is written down, and stays out when the
 * list is reopened. */
static void
test_record_unreadable (Fixture *f, gconstpointer data)
{
  g_autoptr (Dataset) train = reopen (f, "train");
  g_autoptr (Dataset) test = reopen (f, "test");
  g_assert_true (dataset_mark_unreadable (train, 4));
  g_assert_true (dataset_mark_unreadable (test, 1));
  g_autoptr (GError) error = NULL;
  g_assert_true (dataset_file_list_record_unreadable (f->list, train, test,
                                                      &error));
  g_assert_no_error (error);
  g_autofree char *text = read_text (f->list);
  assert_contains (text, "\ntrain\tunreadable\t0\t");
  assert_contains (text, "\ntest\tunreadable\t1\t");

  g_autoptr (Dataset) again = reopen (f, "train");
  assert_same_rows (f->train, again);
  g_assert_cmpint (dataset_row_status (again, 4), ==,
                   DATASET_ROW_UNREADABLE);
  g_assert_cmpint (dataset_count_unavailable (again), ==, 1);
  g_autofree char *note = dataset_file_list_describe (again);
  g_test_message ("%s", note);
  assert_contains (note, "could not be read when the run met it");

  /* a set of another size is not this list's */
  g_autoptr (Dataset) other = test_generated_dataset (5, 1);
  g_assert_false (dataset_file_list_record_unreadable (f->list, other, NULL,
                                                       &error));
  assert_error_names (error, f->list);
}

static void
make_link (const char *target, const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *parent = g_path_get_dirname (path);
  g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  if (symlink (target, path) != 0)
    g_error ("symlink %s -> %s: %s", path, target, g_strerror (errno));
}

/* Symbolic links that make cycles: a link back to the folder itself, two
 * folders linking to each other, two links to each other. The scan ends at
 * once, each folder's images counted once. */
static void
test_symlink_cycle (void)
{
  g_autofree char *dir = fixture_tmpdir ();
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *a = g_strdup_printf ("a/img%d.png", i);
      g_autofree char *b = g_strdup_printf ("b/img%d.png", i);
      g_free (fixture_save_solid (dir, a, 10, 10, 200, 10, 10, "png"));
      g_free (fixture_save_solid (dir, b, 10, 10, 10, 10, 200, "png"));
    }
  g_free (fixture_save_solid (dir, "a/d1/one.png", 10, 10, 1, 1, 1, "png"));
  g_free (fixture_save_solid (dir, "a/d2/two.png", 10, 10, 2, 2, 2, "png"));
  make_link ("..", dir, "a/up");
  make_link ("../..", dir, "a/d1/top");
  make_link ("../d2", dir, "a/d1/to2");
  make_link ("../d1", dir, "a/d2/to1");
  make_link ("../a", dir, "b/to-a");
  make_link ("q", dir, "b/p");
  make_link ("p", dir, "b/q");
  make_link ("p", dir, "b/q.png");   /* a loop with an image's name */

  DatasetOptions options;
  options_for (&options);
  options.holdout_every = 0;
  options.channels = 3;
  g_autoptr (GError) error = NULL;
  gint64 start = g_get_monotonic_time ();
  g_autoptr (Dataset) d = dataset_open (dir, "train", &options, &error);
  gint64 took = g_get_monotonic_time () - start;
  g_assert_no_error (error);
  g_test_message ("scanned in %.3f s", took / 1e6);
  g_assert_cmpint (took, <, 5 * G_USEC_PER_SEC);
  /* a: its 3, d1's one and d2's two (reached once, through d1/to2); b: 3 */
  g_assert_cmpint (d->n_classes, ==, 2);
  g_assert_cmpint (d->n, ==, 8);
  int per_class[2] = { 0 };
  for (int i = 0; i < d->n; i++)
    per_class[d->labels[i]]++;
  g_assert_cmpint (per_class[0], ==, 5);
  g_assert_cmpint (per_class[1], ==, 3);
  g_assert_cmpint (d->n_skipped, ==, 1);   /* q.png: cannot be read */
  fixture_rmtree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn)                                                         \
  g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/data/file-list/reopen", test_reopen);
  ADD ("/data/file-list/deleted", test_deleted);
  ADD ("/data/file-list/renamed", test_renamed);
  ADD ("/data/file-list/added", test_added);
  ADD ("/data/file-list/changed", test_changed);
  ADD ("/data/file-list/corrupt", test_corrupt);
  ADD ("/data/file-list/record-unreadable", test_record_unreadable);
#undef ADD
  g_test_add_func ("/data/file-list/skipped", test_skipped);
  g_test_add_func ("/data/file-list/escaping", test_escaping);
  g_test_add_func ("/data/folder/symlink-cycle", test_symlink_cycle);
  return g_test_run ();
}

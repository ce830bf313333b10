/* test-cli-folder.c: `instdisc` on an image folder that changes under its
 * run. A run lists its images in files.txt; afterwards images are deleted,
 * renamed, added and touched, and every command still sees the run's rows
 * where they were, says once what differs, and marks what cannot be read.
 * The path of the binary is the first argument after the GTest ones. */
#define G_LOG_DOMAIN "instdisc"

#include <fcntl.h>
#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli-testutil.h"
#include "test-data.h"
#include "testutil.h"

/* 3 classes of 12 images and one broken file: the 10th image of each class
 * is a test image, so 33 training images, 4 steps an epoch at batch 8 */
#define N_TRAIN 33

static char *first_paths;    /* run/paths.txt of the export before any
                                change */

static char *
read_work_file (const char *name)
{
  g_autofree char *path = work_file (name);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&text);
}

static void
assert_says (const char *text, const char *part)
{
  if (!strstr (text, part))
    g_error ("“%s” does not say “%s”", text, part);
}

/* A file's bytes and times, to put it back exactly as the run listed it. */
typedef struct
{
  char *path;
  char *bytes;
  gsize length;
  struct timespec times[2];
} Stash;

static Stash
stash (const char *name)
{
  Stash s = { .path = work_file (name) };
  struct stat st;
  g_assert_cmpint (stat (s.path, &st), ==, 0);
  s.times[0] = st.st_atim;
  s.times[1] = st.st_mtim;
  g_assert_true (g_file_get_contents (s.path, &s.bytes, &s.length, NULL));
  return s;
}

static void
unstash (Stash *s)
{
  g_assert_true (g_file_set_contents (s->path, s->bytes, (gssize) s->length,
                                      NULL));
  g_assert_cmpint (utimensat (AT_FDCWD, s->path, s->times, 0), ==, 0);
  g_free (s->path);
  g_free (s->bytes);
}

static Result
export_to (const char *out)
{
  return run_instdisc ("export", "--run", "run", "--out", out, "--threads",
                       "1", NULL);
}

/* Training lists the folder's images, skipped file included, in
 * run/files.txt, and says how many it skipped. */
static void
test_pinned (void)
{
  Result r = run_instdisc ("train", "--data", "pets", "--run", "run",
                           "--epochs", "1", "--batch-size", "8",
                           "--image-size", "28", "--threads", "1", NULL);
  assert_success (&r);
  assert_says (r.err, "skipped 1 unreadable file");
  assert_says (r.err, "broken.png");
  assert_says (r.out, "1 file was skipped; run/files.txt lists it");
  result_clear (&r);
  g_autofree char *list = read_work_file ("run/files.txt");
  g_assert_true (g_str_has_prefix (list, "instdisc-files 1\n"));
  assert_says (list, "\ntrain\tskipped\t");
  assert_says (list, "\tc0/broken.png\n");

  r = export_to ("run");
  assert_success (&r);
  g_assert_null (strstr (r.err, "instdisc: "));   /* nothing to say */
  result_clear (&r);
  first_paths = read_work_file ("run/paths.txt");
  g_assert_cmpuint (count_lines ("run/paths.txt"), ==, N_TRAIN);
  g_autofree char *metadata = read_work_file ("run/metadata.tsv");
  g_assert_true (g_str_has_prefix (metadata, "index\tlabel\tname\n"));
}

/* A deleted image: evaluation, export and resuming work on the same rows,
 * say which image is missing, and the export marks its row. */
static void
test_deleted (void)
{
  Stash kept = stash ("pets/c1/img03.png");
  g_assert_cmpint (g_unlink (kept.path), ==, 0);
  Result r = run_instdisc ("eval", "--run", "run", "--threads", "1", NULL);
  assert_success (&r);
  assert_says (r.err, "pets/train: 1 image is missing (c1/img03.png)");
  assert_says (r.out, "kNN");
  result_clear (&r);

  r = export_to ("exported-deleted");
  assert_success (&r);
  assert_says (r.out, "1 row whose image cannot be read keeps its place");
  result_clear (&r);
  g_autofree char *paths = read_work_file ("exported-deleted/paths.txt");
  g_assert_cmpstr (paths, ==, first_paths);
  g_autofree char *metadata = read_work_file ("exported-deleted/metadata.tsv");
  g_auto (GStrv) lines = g_strsplit (metadata, "\n", -1);
  g_assert_cmpstr (lines[0], ==, "index\tlabel\tname\tstatus");
  /* row 14: c0's 11 training images come first, then c1's img00..img03 */
  g_assert_true (g_str_has_prefix (lines[15], "14\tc1\t"));
  g_assert_true (g_str_has_suffix (lines[15], "c1/img03.png\tmissing"));
  g_assert_true (g_str_has_suffix (lines[16], "\tok"));

  /* resuming: the bank keeps its 33 rows */
  r = run_instdisc ("train", "--resume", "--run", "run", "--epochs", "2",
                    "--threads", "1", NULL);
  assert_success (&r);
  assert_says (r.err, "1 image is missing (c1/img03.png)");
  assert_says (r.out, "done: 8 steps");
  result_clear (&r);
  unstash (&kept);
}

/* A renamed image is missing under its old name and new under its new
 * one; no other row moves. */
static void
test_renamed (void)
{
  g_autofree char *from = work_file ("pets/c0/img02.png");
  g_autofree char *to = work_file ("pets/c0/img02-renamed.png");
  g_assert_cmpint (g_rename (from, to), ==, 0);
  Result r = export_to ("exported-renamed");
  assert_success (&r);
  assert_says (r.err, "1 image is missing (c0/img02.png)");
  assert_says (r.err, "1 new image in");
  assert_says (r.err, "is not part of this run");
  result_clear (&r);
  g_autofree char *paths = read_work_file ("exported-renamed/paths.txt");
  g_assert_cmpstr (paths, ==, first_paths);
  g_assert_cmpint (g_rename (to, from), ==, 0);   /* the time moves along */
}

/* An added image changes no row, and is said once. */
static void
test_added (void)
{
  g_autofree char *extra = work_file ("pets/c2/img12.png");
  g_autofree char *source = work_file ("pets/c2/img00.png");
  g_autofree char *bytes = NULL;
  gsize length;
  g_assert_true (g_file_get_contents (source, &bytes, &length, NULL));
  g_assert_true (g_file_set_contents (extra, bytes, (gssize) length, NULL));
  Result r = export_to ("exported-added");
  assert_success (&r);
  g_auto (GStrv) err_lines = g_strsplit (r.err, "\n", -1);
  g_assert_cmpuint (g_strv_length (err_lines), ==, 2);   /* one line */
  assert_says (r.err, "1 new image in");
  g_assert_null (strstr (r.err, "missing"));
  result_clear (&r);
  g_autofree char *paths = read_work_file ("exported-added/paths.txt");
  g_assert_cmpstr (paths, ==, first_paths);
  g_autofree char *metadata = read_work_file ("exported-added/metadata.tsv");
  g_assert_true (g_str_has_prefix (metadata, "index\tlabel\tname\n"));
  g_assert_cmpint (g_unlink (extra), ==, 0);
}

/* An image with another time, or another size, is changed. */
static void
test_changed (void)
{
  Stash touched = stash ("pets/c2/img05.png");
  test_touch_later (touched.path);
  Stash rewritten = stash ("pets/c0/img07.png");
  g_assert_true (g_file_set_contents (rewritten.path, rewritten.bytes,
                                      (gssize) rewritten.length - 1, NULL));
  Result r = run_instdisc ("eval", "--run", "run", "--threads", "1", NULL);
  assert_success (&r);
  assert_says (r.err, "2 images changed since the run listed them "
                      "(c0/img07.png, c2/img05.png)");
  result_clear (&r);
  unstash (&touched);
  unstash (&rewritten);
  r = run_instdisc ("eval", "--run", "run", "--threads", "1", NULL);
  assert_success (&r);
  g_assert_null (strstr (r.err, "instdisc: "));
  result_clear (&r);
}

/* A files.txt cut short, of another version or with a bad line: one error
 * naming it, for every command that opens the run. */
static void
test_corrupt_list (void)
{
  g_autofree char *good = read_work_file ("run/files.txt");
  g_autofree char *path = work_file ("run/files.txt");
  g_autofree char *version = g_strdup (good);
  version[strlen ("instdisc-files ")] = '9';
  g_autofree char *bad_line = g_strconcat ("instdisc-files 1\nchannels\ttrain"
                                           "\tmany\n", NULL);
  const char *cases[][2] = {
    { "cut short", NULL },
    { "version", version },
    { "line 2", bad_line },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      if (cases[i][1])
        g_assert_true (g_file_set_contents (path, cases[i][1], -1, NULL));
      else
        g_assert_true (g_file_set_contents (path, good, strlen (good) - 3,
                                            NULL));
      Result r = run_instdisc ("eval", "--run", "run", NULL);
      assert_one_failure (&r, "run/files.txt");
      assert_one_failure (&r, cases[i][0]);
      result_clear (&r);
      r = run_instdisc ("train", "--resume", "--run", "run", "--epochs", "3",
                        NULL);
      assert_one_failure (&r, "run/files.txt");
      result_clear (&r);
    }
  g_assert_true (g_file_set_contents (path, good, -1, NULL));
}

/* A run made before files.txt existed reads its folder as it always did;
 * reading writes nothing, resuming lists its images from then on. */
static void
test_legacy (void)
{
  g_autofree char *old = work_file ("old-run");
  g_assert_cmpint (g_mkdir (old, 0755), ==, 0);
  const char *copied[] = { "config.ini", "metrics.csv",
                           "checkpoint.safetensors" };
  for (gsize i = 0; i < G_N_ELEMENTS (copied); i++)
    {
      g_autofree char *from = g_build_filename (workdir, "run", copied[i],
                                                NULL);
      g_autofree char *to = g_build_filename (old, copied[i], NULL);
      g_autofree char *bytes = NULL;
      gsize length;
      g_assert_true (g_file_get_contents (from, &bytes, &length, NULL));
      g_assert_true (g_file_set_contents (to, bytes, (gssize) length, NULL));
    }
  g_autofree char *list = g_build_filename (old, "files.txt", NULL);
  Result r = run_instdisc ("eval", "--run", "old-run", "--threads", "1",
                           NULL);
  assert_success (&r);
  result_clear (&r);
  r = run_instdisc ("export", "--run", "old-run", "--threads", "1", NULL);
  assert_success (&r);
  result_clear (&r);
  g_assert_false (g_file_test (list, G_FILE_TEST_EXISTS));
  g_autofree char *paths = read_work_file ("old-run/paths.txt");
  g_assert_cmpstr (paths, ==, first_paths);

  r = run_instdisc ("train", "--resume", "--run", "old-run", "--epochs", "3",
                    "--threads", "1", NULL);
  assert_success (&r);
  assert_says (r.out, "the run's 33 images are listed in old-run/files.txt");
  result_clear (&r);
  g_assert_true (g_file_test (list, G_FILE_TEST_EXISTS));
}

/* --recipe imagenet through the command line on a folder of photographs
 * larger than its crops: ResNet-18 with the ImageNet stem, NCE at tau
 * 0.07, the images at 224 taken from the full pictures; options given
 * beside the recipe override it. */
static void
test_imagenet_recipe (void)
{
  g_autofree char *photos = work_file ("photos");
  g_assert_cmpint (g_mkdir_with_parents (photos, 0755), ==, 0);
  for (int i = 0; i < 6; i++)
    {
      g_autofree char *name = g_strdup_printf ("photos/p%d.%s", i,
                                               i % 2 ? "jpeg" : "png");
      write_image (name, i % 2 ? "jpeg" : "png", 320 + 16 * i, 240);
    }
  Result r = run_instdisc ("train", "--recipe", "imagenet", "--data",
                           "photos", "--run", "imagenet-run", "--steps", "1",
                           "--batch-size", "4", "--nce-k", "2", "--no-eval",
                           "--threads", "2", NULL);
  assert_success (&r);
  assert_says (r.out, "resnet18-imagenet");
  assert_says (r.out, "done: 1 steps");
  result_clear (&r);
  g_autofree char *config = read_work_file ("imagenet-run/config.ini");
  assert_says (config, "model=resnet18-imagenet");
  assert_says (config, "objective=nce");
  assert_says (config, "tau=0.07");
  assert_says (config, "nce_k=2");
  assert_says (config, "batch_size=4");
  assert_says (config, "lr_drops=120;160;");
  assert_says (config, "image_size=224");
}

/* Real pictures nobody here made, as a user's photo folder: GNOME's
 * wallpapers (4096 x 4096 WebP, and two of 256 x 256) in two class
 * folders, dark and light, trained with ResNet-18 at 224 from the full
 * pictures, then Debian's PNG artwork (1920 x 1080, 1689 x 1800) and a
 * wallpaper asked as queries: every query gets its ten neighbours in
 * order and a typicality judgement. Debian's gnome-backgrounds and desktop-base
 * (tools/install-deps) hold them; without them the test fails saying so. */
#define WALLPAPERS "/usr/share/backgrounds/gnome"
#define DEBIAN_PNG_1 "/usr/share/desktop-base/softwaves-theme/grub/grub-16x9.png"
#define DEBIAN_PNG_2 "/usr/share/plymouth/themes/emerald/logo+emerald.png"

static void
test_wallpapers (void)
{
  g_autoptr (GDir) dir = g_dir_open (WALLPAPERS, 0, NULL);
  if (!dir || !g_file_test (DEBIAN_PNG_1, G_FILE_TEST_EXISTS)
      || !g_file_test (DEBIAN_PNG_2, G_FILE_TEST_EXISTS))
    {
      g_test_fail_printf ("the test pictures are missing: install Debian's "
                          "gnome-backgrounds and desktop-base "
                          "(tools/install-deps)");
      return;
    }
  g_autofree char *dark = work_file ("walls/dark");
  g_autofree char *light = work_file ("walls/light");
  g_assert_cmpint (g_mkdir_with_parents (dark, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (light, 0755), ==, 0);
  int n = 0;
  for (const char *name; (name = g_dir_read_name (dir));)
    {
      if (!g_str_has_suffix (name, ".webp"))
        continue;
      g_autofree char *target = g_build_filename (WALLPAPERS, name, NULL);
      g_autofree char *link = g_build_filename (
        g_str_has_suffix (name, "-d.webp") ? dark : light, name, NULL);
      g_assert_cmpint (symlink (target, link), ==, 0);
      n++;
    }
  g_assert_cmpint (n, >=, 8);

  Result r = run_instdisc ("train", "--recipe", "imagenet", "--data", "walls",
                           "--run", "walls-run", "--steps", "2",
                           "--batch-size", "4", "--nce-k", "4", "--no-eval",
                           "--threads", "2", NULL);
  assert_success (&r);
  assert_says (r.out, "resnet18-imagenet");
  assert_says (r.out, "done: 2 steps");
  g_assert_null (strstr (r.err, "could not be read"));
  result_clear (&r);
  g_autofree char *config = read_work_file ("walls-run/config.ini");
  assert_says (config, "image_size=224");

  /* queries: a 4K wallpaper, and the two PNGs at their odd sizes; each
   * gets its ten nearest training pictures and a typicality judgement */
  g_autofree char *wallpaper = g_build_filename (WALLPAPERS, "adwaita-l.webp",
                                                 NULL);
  r = run_instdisc ("query", "--run", "walls-run", "--threads", "2",
                    "--format", "tsv", wallpaper, DEBIAN_PNG_1, DEBIAN_PNG_2,
                    NULL);
  assert_success (&r);
  g_auto (GStrv) lines = g_strsplit (r.out, "\n", -1);
  int neighbour_lines[3] = { 0 };
  const char *queries[3] = { "adwaita-l.webp", "grub-16x9.png",
                             "logo+emerald.png" };
  for (int i = 1; lines[i]; i++)
    for (int q = 0; q < 3; q++)
      if (strstr (lines[i], queries[q]))
        neighbour_lines[q]++;
  for (int q = 0; q < 3; q++)
    g_assert_cmpint (neighbour_lines[q], ==, MIN (10, n));
  /* each line: query, rank, index, image, label, class, similarity,
   * tenth_nearest_similarity, typicality_rank, typicality; ranks in
   * order, similarities falling, a typicality word */
  double previous = 2.0;
  for (int i = 1; lines[i] && lines[i][0]; i++)
    {
      g_auto (GStrv) cols = g_strsplit (lines[i], "\t", -1);
      g_assert_cmpuint (g_strv_length (cols), ==, 10);
      double similarity = g_ascii_strtod (cols[6], NULL);
      if (!strcmp (cols[1], "1"))
        previous = 2.0;
      g_assert_cmpfloat (similarity, <=, previous);
      g_assert_cmpfloat (similarity, >=, -1.0);
      previous = similarity;
      g_assert_cmpuint (strlen (cols[9]), >, 0);
    }
  result_clear (&r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (argc < 2)
    {
      g_printerr ("usage: test-cli-folder [GTEST OPTION...] "
                  "PATH-TO-INSTDISC\n");
      return 2;
    }
  g_autofree char *absolute = g_canonicalize_filename (argv[1], NULL);
  instdisc_path = absolute;
  g_autoptr (GError) error = NULL;
  workdir = g_dir_make_tmp ("instdisc-cli-folder-XXXXXX", &error);
  g_assert_no_error (error);
  g_free (test_write_image_folder (workdir, "pets", 3, 12, 16, FALSE, 21));
  g_autofree char *broken = work_file ("pets/c0/broken.png");
  g_assert_true (g_file_set_contents (broken, "not a PNG\n", -1, NULL));

  /* in order: each starts from the run the one before left */
  g_test_add_func ("/cli/folder/pinned", test_pinned);
  g_test_add_func ("/cli/folder/deleted", test_deleted);
  g_test_add_func ("/cli/folder/renamed", test_renamed);
  g_test_add_func ("/cli/folder/added", test_added);
  g_test_add_func ("/cli/folder/changed", test_changed);
  g_test_add_func ("/cli/folder/corrupt-list", test_corrupt_list);
  g_test_add_func ("/cli/folder/legacy", test_legacy);
  g_test_add_func ("/cli/folder/imagenet-recipe", test_imagenet_recipe);
  g_test_add_func ("/cli/folder/wallpapers", test_wallpapers);
  int status = g_test_run ();
  test_remove_tree (workdir);
  g_free (workdir);
  g_free (first_paths);
  return status;
}

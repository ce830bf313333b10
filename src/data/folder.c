/* folder.c: a folder of image files, decoded on demand with GdkPixbuf.
 *
 * The layout, the split and the resizing are described in dataset.h. Only
 * the list of files is held in memory; a million-image folder costs its
 * paths, not its pixels. A full-resolution set (DATASET_DECODE_FULL) is
 * the same list: its training crops are decoded by augment-file.c, its
 * other reads here as the test view. */
#define G_LOG_DOMAIN "instdisc-data"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "dataset-private.h"
#include "image-formats.h"

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The visible entries of a folder, sorted by byte order so that the order
 * (and so labels and the hold-out) is the same under every locale. */
static GPtrArray *
list_sorted (const char *folder, GError **error)
{
  g_autoptr (GDir) dir = g_dir_open (folder, 0, error);
  if (!dir)
    return NULL;
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (dir)))
    if (name[0] != '.')
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_strings);
  return names;
}

gboolean
data_file_stamp (const char *path, DatasetFileStamp *stamp)
{
  struct stat st;
  if (stat (path, &st) != 0 || !S_ISREG (st.st_mode))
    return FALSE;
  stamp->size = st.st_size;
  stamp->mtime_s = st.st_mtim.tv_sec;
  stamp->mtime_ns = (gint32) st.st_mtim.tv_nsec;
  return TRUE;
}

/* The folders a load has walked, by "device:inode" (a set of strings). A
 * folder reached again (through a symbolic link, or a link back up) is not
 * walked again, so a cycle of links ends and each folder counts once. */
static GHashTable *
visited_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

/* Adds folder to visited; FALSE when it was there already, or is not a
 * folder (stat follows links). */
static gboolean
visit (GHashTable *visited, const char *folder)
{
  struct stat st;
  if (stat (folder, &st) != 0 || !S_ISDIR (st.st_mode))
    return FALSE;
  char *key = g_strdup_printf ("%ju:%ju", (uintmax_t) st.st_dev,
                               (uintmax_t) st.st_ino);
  return g_hash_table_add (visited, key);
}

/* Appends the image files under folder, depth first in sorted order,
 * entering only sub-folders not visited yet. */
static void
collect_images (const char *folder, GHashTable *visited, GPtrArray *out)
{
  g_autoptr (GPtrArray) names = list_sorted (folder, NULL);
  if (!names)
    return;
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (folder, names->pdata[i], NULL);
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          if (visit (visited, path))
            collect_images (path, visited, out);
        }
      else if (data_is_image_name (names->pdata[i]))
        g_ptr_array_add (out, g_steal_pointer (&path));
    }
}

/* The sub-folders of folder, sorted; empty when it has none. */
static GPtrArray *
list_subfolders (const char *folder)
{
  GPtrArray *subs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) names = list_sorted (folder, NULL);
  for (guint i = 0; names && i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (folder, names->pdata[i], NULL);
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        g_ptr_array_add (subs, g_strdup (names->pdata[i]));
    }
  return subs;
}

static gboolean
strv_contains_ptr (GPtrArray *array, const char *s)
{
  for (guint i = 0; i < array->len; i++)
    if (g_str_equal (array->pdata[i], s))
      return TRUE;
  return FALSE;
}

gboolean
folder_decode_image (const char *path, int channels, int size,
                     DatasetResize resize, guint8 *out, gboolean *is_grey,
                     GError **error)
{
  int w = 0, h = 0;
  const gint64 max_pixels = data_max_image_pixels ();
  if (!data_image_probe (path, max_pixels, &w, &h, error))
    return FALSE;

  /* the size to decode at: shorter side = size (centre crop) or
   * dataset_test_view_side (size) (test view), or exactly size x size
   * (stretch); decoding straight to it lets JPEG skip work */
  int tw = size, th = size;
  if (resize == DATASET_RESIZE_CENTER_CROP || resize == DATASET_RESIZE_TEST_VIEW)
    {
      double sw, sh;
      if (resize == DATASET_RESIZE_CENTER_CROP)
        {
          double scale = (double) size / MIN (w, h);
          sw = MAX (size, round (w * scale));
          sh = MAX (size, round (h * scale));
        }
      else
        {
          /* torchvision's Resize (short): the longer side is
           * int (short * long / shorter), truncated */
          const gint64 side = dataset_test_view_side (size);
          sw = w <= h ? side : (double) (side * w / h);
          sh = w <= h ? (double) (side * h / w) : side;
        }
      /* the whole image is scaled before the crop: a long thin one is
       * scaled up to far more pixels than it declares (1,000,000 x 1 at
       * 32 is 32,000,000 x 32, 3 GB), so the same limit holds here */
      if (sw * sh > (double) max_pixels || sw > G_MAXINT || sh > G_MAXINT)
        {
          g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_INVALID,
                       _("%s: an image of %d x %d pixels, scaled to %d on its "
                         "shorter side, takes %.0f megapixels, more than the "
                         "limit of %.0f megapixels (INSTDISC_MAX_IMAGE_PIXELS "
                         "sets another)"),
                       path, w, h, (int) MIN (sw, sh), sw * sh / 1e6,
                       max_pixels / 1e6);
          return FALSE;
        }
      tw = (int) sw;
      th = (int) sh;
    }
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GdkPixbuf) pixbuf
      = gdk_pixbuf_new_from_file_at_scale (path, tw, th, FALSE, &local_error);
  if (!pixbuf)
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_UNREADABLE,
                   _("%s: cannot be decoded: %s"), path, local_error->message);
      return FALSE;
    }
  const int pw = gdk_pixbuf_get_width (pixbuf);
  const int ph = gdk_pixbuf_get_height (pixbuf);
  const int n_ch = gdk_pixbuf_get_n_channels (pixbuf);
  if (pw < size || ph < size || n_ch < 3
      || gdk_pixbuf_get_bits_per_sample (pixbuf) != 8)
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_UNREADABLE,
                   _("%s: decoded to an unexpected %dx%d image of %d "
                     "channels"),
                   path, pw, ph, n_ch);
      return FALSE;
    }
  /* centre crop offsets as torchvision's CenterCrop: round ((H - h) / 2) */
  const int x0 = (int) nearbyint ((pw - size) / 2.0);
  const int y0 = (int) nearbyint ((ph - size) / 2.0);
  const int stride = gdk_pixbuf_get_rowstride (pixbuf);
  const guint8 *src = gdk_pixbuf_read_pixels (pixbuf);
  const gsize plane = (gsize) size * size;

  gboolean grey = TRUE;
  for (int y = 0; y < size; y++)
    {
      const guint8 *row = src + (gsize) (y0 + y) * stride + (gsize) x0 * n_ch;
      for (int x = 0; x < size; x++)
        {
          const guint8 *p = row + x * n_ch;
          grey = grey && p[0] == p[1] && p[1] == p[2];
          if (!out)
            continue;
          if (channels == 1)
            /* PIL's convert ("L"): ITU-R 601-2 luma in 16-bit fixed point */
            out[y * size + x] = (guint8) ((p[0] * 19595 + p[1] * 38470
                                           + p[2] * 7471 + 0x8000) >> 16);
          else
            for (int c = 0; c < 3; c++)
              out[c * plane + y * size + x] = p[c];
        }
    }
  if (is_grey)
    *is_grey = grey;
  return TRUE;
}

typedef struct
{
  char *path;
  int label;
} Candidate;

static void
candidate_clear (gpointer p)
{
  g_free (((Candidate *) p)->path);
}

/* Marks root and its class folders visited before any walk, so that no
 * link below them leads back into them. */
static void
visit_roots (GHashTable *visited, const char *root, GPtrArray *classes)
{
  visit (visited, root);
  for (guint c = 0; classes && c < classes->len; c++)
    {
      g_autofree char *sub = g_build_filename (root, classes->pdata[c], NULL);
      visit (visited, sub);
    }
}

/* Collects the images of one split root: class sub-folders in `classes`
 * (NULL for a flat folder). With a hold-out, the k-th file of a class is a
 * test image when (k + 1) is a multiple of holdout_every. */
static void
collect_split (const char *root, GPtrArray *classes, int holdout_every,
               int want /* 0 train, 1 test, -1 all */, GHashTable *visited,
               GArray *out)
{
  int n_groups = classes ? (int) classes->len : 1;
  for (int c = 0; c < n_groups; c++)
    {
      g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
      if (classes)
        {
          g_autofree char *sub = g_build_filename (root, classes->pdata[c],
                                                   NULL);
          collect_images (sub, visited, files);
        }
      else
        {
          /* a flat folder: its own files only */
          g_autoptr (GPtrArray) names = list_sorted (root, NULL);
          for (guint i = 0; names && i < names->len; i++)
            {
              g_autofree char *path = g_build_filename (root, names->pdata[i],
                                                        NULL);
              if (data_is_image_name (names->pdata[i])
                  && !g_file_test (path, G_FILE_TEST_IS_DIR))
                g_ptr_array_add (files, g_steal_pointer (&path));
            }
        }
      for (guint k = 0; k < files->len; k++)
        {
          int is_test = holdout_every > 0
                        && (int) (k % holdout_every) == holdout_every - 1;
          if (want >= 0 && is_test != want)
            continue;
          Candidate cand = { g_strdup (files->pdata[k]), classes ? c : -1 };
          g_array_append_val (out, cand);
        }
    }
}

/* The image files of the folder at path that a load of split `want` (0
 * train, 1 test, -1 both) considers, in its order, with their labels, into
 * cands; and the class names, sorted (empty when unlabelled). */
static GPtrArray *
collect_candidates (const char *path, int want, int holdout_every,
                    GArray *cands)
{
  /* train/ + test/ (or val/) sub-folders, or one folder and a hold-out */
  g_autofree char *train_dir = g_build_filename (path, "train", NULL);
  g_autofree char *test_dir = g_build_filename (path, "test", NULL);
  if (!g_file_test (test_dir, G_FILE_TEST_IS_DIR))
    {
      g_free (test_dir);
      test_dir = g_build_filename (path, "val", NULL);
    }
  gboolean has_split_dirs = g_file_test (train_dir, G_FILE_TEST_IS_DIR)
                            && g_file_test (test_dir, G_FILE_TEST_IS_DIR);

  g_autoptr (GHashTable) visited = visited_new ();
  GPtrArray *classes;
  if (has_split_dirs)
    {
      classes = list_subfolders (train_dir);
      g_autoptr (GPtrArray) test_classes = list_subfolders (test_dir);
      for (guint i = 0; i < test_classes->len; i++)
        if (!strv_contains_ptr (classes, test_classes->pdata[i]))
          g_ptr_array_add (classes, g_strdup (test_classes->pdata[i]));
      g_ptr_array_sort (classes, compare_strings);
      GPtrArray *groups = classes->len ? classes : NULL;
      visit_roots (visited, path, NULL);
      visit_roots (visited, train_dir, groups);
      visit_roots (visited, test_dir, groups);
      if (want != 1)
        collect_split (train_dir, groups, 0, -1, visited, cands);
      if (want != 0)
        collect_split (test_dir, groups, 0, -1, visited, cands);
    }
  else
    {
      classes = list_subfolders (path);
      GPtrArray *groups = classes->len ? classes : NULL;
      visit_roots (visited, path, groups);
      collect_split (path, groups, holdout_every, want, visited, cands);
    }
  return classes;
}

GPtrArray *
folder_list_images (const char *path)
{
  g_autoptr (GArray) cands = g_array_new (FALSE, FALSE, sizeof (Candidate));
  g_array_set_clear_func (cands, candidate_clear);
  g_autoptr (GPtrArray) classes = collect_candidates (path, -1, 0, cands);
  GPtrArray *paths = g_ptr_array_new_full (cands->len, g_free);
  for (guint i = 0; i < cands->len; i++)
    g_ptr_array_add (paths,
                     g_steal_pointer (&g_array_index (cands, Candidate,
                                                      i).path));
  return paths;
}

/* The strings of *array, NULL-terminated, taking the array; NULL (the
 * array left for its owner to free) when it is empty. */
static char **
steal_strv_or_null (GPtrArray **array)
{
  if (!(*array)->len)
    return NULL;
  g_ptr_array_add (*array, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (array), FALSE);
}

Dataset *
dataset_load_folder (const char *path, const char *split,
                     const DatasetOptions *options, GError **error)
{
  DatasetOptions defaults;
  if (!options)
    {
      dataset_options_init_default (&defaults);
      options = &defaults;
    }
  if (!split)
    split = "train";
  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_NOT_FOUND,
                   _("%s: not a folder"), path);
      return NULL;
    }
  if (options->image_size < 1 || options->image_size > 4096
      || !(options->channels == 0 || options->channels == 1
           || options->channels == 3))
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_INVALID,
                   _("%s: image size %d (1..4096) or channels %d (0, 1 or 3) "
                     "out of range"), path, options->image_size,
                   options->channels);
      return NULL;
    }
  int want;
  if (g_str_equal (split, "train"))
    want = 0;
  else if (g_str_equal (split, "test"))
    want = 1;
  else if (g_str_equal (split, "all"))
    want = -1;
  else
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_INVALID,
                   _("%s: no split “%s” (train, test or all)"), path, split);
      return NULL;
    }

  g_autoptr (GArray) cands = g_array_new (FALSE, FALSE, sizeof (Candidate));
  g_array_set_clear_func (cands, candidate_clear);
  g_autoptr (GPtrArray) classes = collect_candidates (
      path, want, options->holdout_every, cands);
  const gboolean labelled = classes->len > 0;

  /* the header check, and full decodes when asked or needed for the
   * grey-or-colour decision; each file's size and time are taken before
   * it is read, so a file that changes during the load differs from them */
  const int size = options->image_size;
  const gboolean full_resolution = dataset_options_full_resolution (options);
  const DatasetResize resize = full_resolution ? DATASET_RESIZE_TEST_VIEW
                                               : options->resize;
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) labels = g_array_new (FALSE, FALSE, sizeof (gint32));
  g_autoptr (GArray) stamps = g_array_new (FALSE, FALSE,
                                           sizeof (DatasetFileStamp));
  g_autoptr (GPtrArray) skipped = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) skipped_paths
      = g_ptr_array_new_with_free_func (g_free);
  gboolean all_grey = TRUE;
  const gint64 max_pixels = data_max_image_pixels ();
  for (guint i = 0; i < cands->len; i++)
    {
      if (options->progress && i % DATASET_PROGRESS_EVERY == 0)
        options->progress (path, split, i, cands->len,
                           options->progress_data);
      Candidate *cand = &g_array_index (cands, Candidate, i);
      g_autoptr (GError) why = NULL;
      DatasetFileStamp stamp = { 0 };
      data_file_stamp (cand->path, &stamp);
      gboolean ok;
      if (options->verify_images || (options->channels == 0 && all_grey))
        {
          gboolean grey = FALSE;
          ok = folder_decode_image (cand->path, 3, size, resize, NULL, &grey,
                                    &why);
          all_grey = all_grey && (!ok || grey);
        }
      else
        ok = data_image_probe (cand->path, max_pixels, NULL, NULL, &why);
      if (!ok)
        {
          g_ptr_array_add (skipped, g_strdup (why->message));
          g_ptr_array_add (skipped_paths, g_steal_pointer (&cand->path));
          continue;
        }
      g_ptr_array_add (paths, g_steal_pointer (&cand->path));
      gint32 label = cand->label;
      g_array_append_val (labels, label);
      g_array_append_val (stamps, stamp);
    }
  if (options->progress)
    options->progress (path, split, cands->len, cands->len,
                       options->progress_data);

  if (paths->len == 0)
    {
      if (skipped->len)
        g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_EMPTY,
                     g_dngettext (GETTEXT_PACKAGE,
                                  "%s: no readable images in the %s split; "
                                  "%u file skipped, the first: %s",
                                  "%s: no readable images in the %s split; "
                                  "%u files skipped, the first: %s",
                                  skipped->len),
                     path, split, skipped->len, (char *) skipped->pdata[0]);
      else
        g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_EMPTY,
                     _("%s: no images in the %s split (files with an image "
                       "extension, directly in the folder or in class "
                       "sub-folders)"), path, split);
      return NULL;
    }
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *name = g_strdup_printf ("%s/%s", base, split);
  g_autoptr (Dataset) data = dataset_new (name, DATASET_KIND_FOLDER);
  data->source = g_strdup (path);
  data->n = paths->len;
  data->channels = options->channels ? options->channels
                   : all_grey        ? 1
                                     : 3;
  data->height = data->width = size;
  data->resize = resize;
  data->full_resolution = full_resolution;
  data->labels = (gint32 *) g_array_free (g_steal_pointer (&labels), FALSE);
  data->stamps = (DatasetFileStamp *) g_array_free (g_steal_pointer (&stamps),
                                                    FALSE);
  data->row_status = g_new0 (gint, data->n);
  g_ptr_array_add (paths, NULL);
  data->paths = (char **) g_ptr_array_free (g_steal_pointer (&paths), FALSE);
  data->n_skipped = skipped->len;
  data->skipped = steal_strv_or_null (&skipped);
  data->skipped_paths = steal_strv_or_null (&skipped_paths);
  if (labelled)
    {
      data->n_classes = classes->len;
      g_ptr_array_add (classes, NULL);
      data->class_names = (char **) g_ptr_array_free (g_steal_pointer (&classes),
                                                      FALSE);
    }
  return g_steal_pointer (&data);
}

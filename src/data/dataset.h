/* dataset.h: image data sets, in memory or decoded from disk on demand.
 *
 * Every data set has N images of C x H x W 8-bit pixels and int32 labels in
 * [0, n_classes), or -1 when it has none. Small sets (IDX, CIFAR) are held in
 * memory as one (N, C, H, W) block in `pixels`; folders of image files are
 * not: `pixels` is NULL, `paths` names each image's file and
 * dataset_get_image() decodes it (GdkPixbuf), converts it to the set's
 * channels and resizes it to the set's fixed H x W. Code that must work on
 * both uses dataset_get_image().
 *
 * Kinds and splits (dataset_open):
 *   "fashion-mnist"      Debian's dataset-fashion-mnist; its train/test files.
 *   an IDX file          FILE-images-idx3-ubyte[.gz]; labels are read from the
 *                        matching "-labels-idx1-ubyte" file when it exists.
 *                        The file is the training split; it has no test
 *                        split (asking for one is an error that says so).
 *   a folder of IDX      train-images-idx3-ubyte[.gz] and t10k-images-...
 *                        (or train- and test-), with their labels: the
 *                        two splits, as Fashion-MNIST's own files.
 *   a CIFAR folder       data_batch_1..5.bin + test_batch.bin (CIFAR-10) or
 *                        train.bin + test.bin (CIFAR-100), or a folder holding
 *                        cifar-10-batches-bin/ or cifar-100-binary/; the
 *                        files' own split. Class names from batches.meta.txt,
 *                        fine_label_names.txt / coarse_label_names.txt.
 *   a CIFAR .bin file    that file alone, as the training split; like an
 *                        IDX file it has no test split.
 *   an image folder      sub-folders are classes (sorted by name, byte order,
 *                        files found recursively inside them, as torchvision's
 *                        ImageFolder); a folder with no sub-folders is one
 *                        unlabelled set. Only files whose extension GdkPixbuf
 *                        knows (png, jpg, jpeg, bmp, gif, tiff, webp with
 *                        its loader, ...: image-formats.h) are images;
 *                        other files are ignored. When the folder has
 *                        a train/ sub-folder and a test/ (or val/) sub-folder,
 *                        those are the splits, with one class list (the sorted
 *                        union of both) so labels agree. Otherwise the split
 *                        is a deterministic hold-out: within each class, in
 *                        sorted file order, every `holdout_every`-th file
 *                        (the 10th, 20th, ... by default) is a test image and
 *                        the rest train. It depends only on the file names,
 *                        so it is the same on every machine and run, and a
 *                        file becoming unreadable does not move others
 *                        between splits. Split "all" takes every image.
 *
 * Folder images: each is resized so that its shorter side is image_size and
 * centre-cropped to image_size x image_size (as torchvision's Resize +
 * CenterCrop; DATASET_RESIZE_STRETCH squashes the whole image instead).
 * From DATASET_FULL_RESOLUTION_MIN_SIZE up a folder is a full-resolution
 * set (DatasetDecode below): reads are the test view, shorter side to
 * size * 256 / 224 then the centre crop, and training crops are taken from
 * the files at their own size (augment_train_full_resolution).
 * Alpha is dropped, as PIL's convert ("RGB") does. With channels = 0 the set
 * is grey (C = 1) when every image is grey (R = G = B everywhere), else RGB;
 * finding that out decodes images at load until the first colour one.
 * Loading checks every file's header (cheap); files that cannot be read
 * (zero size, not an image, unknown format) are skipped and listed in
 * `skipped`. With verify_images every image is fully decoded at load and
 * undecodable ones are skipped too; without it an image whose data is broken
 * is found when it is first read, and dataset_get_image() reports it.
 * Sub-folders are found through symbolic links too, but each folder is
 * walked at most once a load (by device and inode), and never the data
 * set's own folder, its split folders or its class folders from below:
 * a link back up (a -> ..) or two folders linking to each other add
 * nothing, and the walk stays as long as the folder is.
 *
 * Rows that can no longer be read. A folder set keeps, beside each row, the
 * file's size and modification time when it was scanned (`stamps`) and the
 * row's status (DatasetRowStatus). A run pins its folder's scan in its
 * files.txt (file-list.h); reopened from that list, a row whose file is
 * gone or changed keeps its number and is marked, and a row the loader
 * could not read is marked when it is met (dataset_mark_unreadable).
 * Marked rows are not read again: dataset_get_image refuses them, the
 * training loader leaves them out (loader.h) and embeddings give them NaN.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define INSTDISC_DATA_ERROR (instdisc_data_error_quark ())
GQuark instdisc_data_error_quark (void);

typedef enum
{
  INSTDISC_DATA_ERROR_TRUNCATED,
  INSTDISC_DATA_ERROR_CORRUPT,
  INSTDISC_DATA_ERROR_MISMATCH,
  INSTDISC_DATA_ERROR_NOT_FOUND,
  INSTDISC_DATA_ERROR_EMPTY,
  INSTDISC_DATA_ERROR_UNREADABLE,
  INSTDISC_DATA_ERROR_INVALID,
  INSTDISC_DATA_ERROR_UNAVAILABLE,   /* a row marked missing, changed or
                                        unreadable */
} InstdiscDataError;

typedef enum
{
  DATASET_KIND_IDX,
  DATASET_KIND_FASHION_MNIST,
  DATASET_KIND_CIFAR10,
  DATASET_KIND_CIFAR100,
  DATASET_KIND_FOLDER,
} DatasetKind;

typedef enum
{
  DATASET_RESIZE_CENTER_CROP,  /* shorter side to size, then centre crop */
  DATASET_RESIZE_STRETCH,      /* whole image to size x size */
  DATASET_RESIZE_TEST_VIEW,    /* shorter side to dataset_test_view_side
                                  (size), then centre crop size: torchvision's
                                  Resize (256) + CenterCrop (224) at any size;
                                  the view of a full-resolution set */
} DatasetResize;

/* How a folder's images are read for training.
 *   SQUARE: every read is the image shrunk to a centre square of
 *     image_size (DatasetResize); the random crop is taken from that
 *     square. Cheap, and right for thumbnails-sized sets (32, 28).
 *   FULL: the set is its file list only; training decodes each file when
 *     its batch needs it and takes the random crop from the picture at its
 *     own resolution, as torchvision does for ImageNet
 *     (augment_train_full_resolution). Every other read
 *     (dataset_get_image: evaluation, embeddings, the explorer) is the test
 *     view, DATASET_RESIZE_TEST_VIEW.
 *   AUTO: FULL from DATASET_FULL_RESOLUTION_MIN_SIZE pixels up, else
 *     SQUARE. The choice follows from image_size alone, so every later
 *     open of a run (resume, eval, the explorer) makes the same one
 *     without a setting of its own. */
typedef enum
{
  DATASET_DECODE_AUTO = 0,
  DATASET_DECODE_SQUARE,
  DATASET_DECODE_FULL,
} DatasetDecode;

#define DATASET_FULL_RESOLUTION_MIN_SIZE 64

#define DATASET_MAX_IMAGE_SIZE 512

/* The sizes of the data sets whose sizes are fixed, for the rules that
 * need them (the batch size, NCE's K) and the estimates before anything
 * is loaded (the New Training dialog's, the welcome page's): Debian's dataset-fashion-mnist, and CIFAR-10 and -100 in
 * the binary format. An image folder's are known once it is loaded. */
#define FASHION_MNIST_TRAIN 60000
#define FASHION_MNIST_TEST 10000
#define FASHION_MNIST_SIDE 28
#define CIFAR_TRAIN 50000
#define CIFAR_TEST 10000
#define CIFAR_SIDE 32

/* How far a folder's load has come: done of total image files checked
 * (their headers probed, or decoded when the load must). A load of a
 * million files takes minutes; this lets a program say so. */
typedef void (*DatasetProgressFunc) (const char *path, const char *split,
                                     int done, int total, gpointer data);

typedef struct
{
  int image_size;         /* folders: H = W after resizing, default 32,
                             8 to DATASET_MAX_IMAGE_SIZE */
  int channels;           /* folders: 0 = grey if all grey else 3; or 1, 3 */
  DatasetResize resize;   /* folders: default DATASET_RESIZE_CENTER_CROP */
  int holdout_every;      /* folders without train/ test/: default 10; 0 =
                             no hold-out (everything is train, test is empty) */
  gboolean verify_images; /* folders: decode every image at load, default FALSE */
  gboolean cifar100_coarse; /* CIFAR-100: the 20 coarse labels, default the
                               100 fine ones */
  DatasetDecode decode;   /* folders: default DATASET_DECODE_AUTO */
  DatasetProgressFunc progress;  /* folders: called from the loading thread
                                    every DATASET_PROGRESS_EVERY files and
                                    once at the end; default NULL */
  gpointer progress_data;
} DatasetOptions;

#define DATASET_PROGRESS_EVERY 4096

/* Whether row i of a set can be read. Only folder sets have rows that are
 * not DATASET_ROW_OK. */
typedef enum
{
  DATASET_ROW_OK = 0,
  DATASET_ROW_MISSING,     /* the run's file is gone, or not a file now */
  DATASET_ROW_CHANGED,     /* its size or modification time is not the
                              one its run's file list pinned */
  DATASET_ROW_UNREADABLE,  /* it could not be read when a run met it */
} DatasetRowStatus;

/* A file as it was when scanned: its size and modification time. */
typedef struct
{
  gint64 size;
  gint64 mtime_s;          /* seconds since 1970, and the nanoseconds */
  gint32 mtime_ns;
} DatasetFileStamp;

typedef struct
{
  char *name;          /* e.g. "fashion-mnist/train", "cifar-10/test" */
  DatasetKind kind;
  char *source;        /* the file or folder it was read from, or NULL */
  int n, channels, height, width;
  guint8 *pixels;      /* (N, C, H, W) for in-memory sets, NULL for folders */
  gint32 *labels;      /* (N), -1 for unlabelled */
  int n_classes;       /* 0 when unlabelled */
  char **class_names;  /* n_classes strings + NULL, or NULL */
  char **paths;        /* (N) + NULL: each image's file, folders only */
  DatasetResize resize;
  gboolean full_resolution;  /* folders read with DATASET_DECODE_FULL:
                                training crops come from the files at
                                their own size; resize is then
                                DATASET_RESIZE_TEST_VIEW */
  char **skipped;      /* NULL-terminated "FILE: reason" for each file a
                          folder load left out, or NULL */
  char **skipped_paths;  /* the same files' paths, or NULL */
  int n_skipped;
  /* folders only, NULL otherwise: */
  DatasetFileStamp *stamps;  /* (N) each file's size and time when scanned,
                                or as the run's file list has them */
  gint *row_status;    /* (N) DatasetRowStatus; read and changed only through
                          dataset_row_status and dataset_mark_unreadable,
                          which any thread may call */
  char *file_list;     /* the files.txt the set was opened from, or NULL */
  gboolean has_channel_stats;  /* a grey set opened from a file list: the
                                  statistics the list holds, which
                                  dataset_channel_stats returns instead of
                                  measuring the files as they are now */
  float channel_mean[3], channel_std[3];
  int n_new;           /* opened from a file list, training split: image
                          files in the folder the list does not hold */
} Dataset;

void dataset_options_init_default (DatasetOptions *options);
/* The side a folder's images may be resized to (image_size): FALSE with a
 * message giving the bounds, 8 to DATASET_MAX_IMAGE_SIZE pixels,
 * otherwise. dataset_open checks it first, whatever the data set. */
gboolean dataset_check_image_size (int size, GError **error);

/* Whether a folder read with these options is a full-resolution set
 * (DatasetDecode). */
gboolean dataset_options_full_resolution (const DatasetOptions *options);

/* The shorter side the test view resizes to before its centre crop of
 * size: int (size * 256 / 224) as torchvision's recipe writes it
 * (224 -> 256, 96 -> 109, 128 -> 146). */
int dataset_test_view_side (int size);

/* A data set is reference-counted: whoever keeps one (a run, a view, a
 * snapshot of the bank) holds a reference, and the last unref frees it.
 * The count is not part of its value: a const Dataset can be referenced.
 *
 * dataset_new: an empty set (every field 0 or NULL but name, copied, and
 * kind), for the readers to fill. dataset_new_in_memory: n images of
 * channels x height x width held in memory, pixels zeroed, every label -1
 * and n_classes 0 (unlabelled) until the caller says otherwise. */
Dataset *dataset_new (const char *name, DatasetKind kind);
Dataset *dataset_new_in_memory (const char *name, int n, int channels,
                                int height, int width);
Dataset *dataset_ref (const Dataset *self);
void dataset_unref (Dataset *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Dataset, dataset_unref)

/* Detects what spec names (see above) and loads its split ("train", "test"
 * or, for folders, "all"). options may be NULL for the defaults. */
Dataset *dataset_open (const char *spec, const char *split,
                       const DatasetOptions *options, GError **error);

/* Reads an IDX image file (magic 0x00000803, u8 N x H x W) and optionally an
 * IDX label file (0x00000801, u8 N), gzipped or not. */
Dataset *dataset_load_idx (const char *images_path, const char *labels_path,
                           GError **error);

/* The built-in default: Debian's dataset-fashion-mnist package. split is
 * "train" or "test". */
Dataset *dataset_load_fashion_mnist (const char *split, GError **error);

/* A CIFAR-10 or CIFAR-100 binary folder (split "train" or "test") or one
 * .bin file (split ignored, may be NULL). */
Dataset *dataset_load_cifar (const char *path, const char *split,
                             const DatasetOptions *options, GError **error);

/* A folder of image files; see the top of this file. */
Dataset *dataset_load_folder (const char *path, const char *split,
                              const DatasetOptions *options, GError **error);

/* Image i's pixels into out (C, H, W). Thread-safe: workers may call it on
 * the same data set at once. FALSE with an error naming the file when an
 * on-disk image cannot be decoded, or its row is marked (then the error
 * says why, INSTDISC_DATA_ERROR_UNAVAILABLE). */
gboolean dataset_get_image (const Dataset *self, int i, guint8 *out,
                            GError **error);

/* Decodes one image file exactly as a folder set decodes its images, into
 * out (channels, size, size); for query images dropped on a trained model.
 * channels is 1 or 3. FALSE with an error naming the file. */
gboolean dataset_decode_file (const char *path, int channels, int size,
                              DatasetResize resize, guint8 *out,
                              GError **error);

/* Row i's status: DATASET_ROW_OK but for folder rows whose file is gone,
 * changed or unreadable. Like the reference count, the status is not part
 * of the set's value: it may change on a const Dataset, atomically. */
DatasetRowStatus dataset_row_status (const Dataset *self, int i);
static inline gboolean
dataset_row_is_ok (const Dataset *self, int i)
{
  return !self->row_status || dataset_row_status (self, i) == DATASET_ROW_OK;
}
/* Rows that are not DATASET_ROW_OK. */
int dataset_count_unavailable (const Dataset *self);
/* Marks row i DATASET_ROW_UNREADABLE (a folder row that was OK); TRUE when
 * it was OK until now. The loader and embeddings call it when a read
 * fails, so the row is not read again. */
gboolean dataset_mark_unreadable (const Dataset *self, int i);
/* How many rows dataset_mark_unreadable has marked in this set so far: a
 * number that only grows, so a caller can tell cheaply that more did. */
int dataset_count_marked (const Dataset *self);

/* The file of image i for on-disk sets, NULL for in-memory ones. */
const char *dataset_get_path (const Dataset *self, int i);

/* A name for image i that a person can find it by: its file, or
 * "NAME[i]" such as "fashion-mnist/train[123]". (transfer full) */
char *dataset_get_item_name (const Dataset *self, int i);

/* Mean and standard deviation of each channel over all pixels, in [0, 1]
 * units, for normalisation. On-disk sets use up to 1000 images spread evenly
 * over the set (unreadable ones are left out), or the statistics their
 * run's file list pinned (has_channel_stats). */
void dataset_channel_stats (const Dataset *self, float *mean, float *std);

G_END_DECLS

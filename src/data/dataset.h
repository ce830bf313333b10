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
 *                        knows (png, jpg, jpeg, bmp, gif, tiff, ...) are
 *                        images; other files are ignored. When the folder has
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
 * Alpha is dropped, as PIL's convert ("RGB") does. With channels = 0 the set
 * is grey (C = 1) when every image is grey (R = G = B everywhere), else RGB;
 * finding that out decodes images at load until the first colour one.
 * Loading checks every file's header (cheap); files that cannot be read
 * (zero size, not an image, unknown format) are skipped and listed in
 * `skipped`. With verify_images every image is fully decoded at load and
 * undecodable ones are skipped too; without it an image whose data is broken
 * is found when it is first read, and dataset_get_image() reports it.
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
} DatasetResize;

#define DATASET_MAX_IMAGE_SIZE 512

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
} DatasetOptions;

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
  char **skipped;      /* NULL-terminated "FILE: reason" for each file a
                          folder load left out, or NULL */
  int n_skipped;
} Dataset;

void dataset_options_init_default (DatasetOptions *options);

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
 * on-disk image cannot be decoded. */
gboolean dataset_get_image (const Dataset *self, int i, guint8 *out,
                            GError **error);

/* Decodes one image file exactly as a folder set decodes its images, into
 * out (channels, size, size); for query images dropped on a trained model.
 * channels is 1 or 3. FALSE with an error naming the file. */
gboolean dataset_decode_file (const char *path, int channels, int size,
                              DatasetResize resize, guint8 *out,
                              GError **error);

/* The file of image i for on-disk sets, NULL for in-memory ones. */
const char *dataset_get_path (const Dataset *self, int i);

/* A name for image i that a person can find it by: its file, or
 * "NAME[i]" such as "fashion-mnist/train[123]". (transfer full) */
char *dataset_get_item_name (const Dataset *self, int i);

/* Mean and standard deviation of each channel over all pixels, in [0, 1]
 * units, for normalisation. On-disk sets use up to 1000 images spread evenly
 * over the set (unreadable ones are left out). */
void dataset_channel_stats (const Dataset *self, float *mean, float *std);

G_END_DECLS

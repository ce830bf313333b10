/* file-list.h: an image folder's scan pinned in a run's files.txt, so that
 * row i of the run is the same file however the folder changes.
 *
 * A folder set is a scan: the folder's image files in sorted order, those
 * that passed the check as rows, the others skipped. A run's memory bank
 * has one row per image, and its checkpoint, its exports and a person's
 * notes all speak of rows by number; a scan made again after one image is
 * deleted, added or renamed numbers them differently. So a run made on an
 * image folder writes the scan of both splits into its folder, and every
 * later open of the run builds its sets from that list instead of from a
 * new scan:
 *   - row i of a split is the i-th file the list holds for it, always;
 *   - a listed file that is gone is marked DATASET_ROW_MISSING, one whose
 *     size or modification time differs from the list's is marked
 *     DATASET_ROW_CHANGED (dataset.h); both keep their rows;
 *   - files in the folder that the list does not hold are not rows; the
 *     training split counts them (Dataset.n_new) so the front ends can say
 *     so once;
 *   - the classes, their order and each split's channels (grey or colour)
 *     are the list's.
 * The byte-by-byte format is in docs/file-formats.md. */
#pragma once

#include <glib.h>

#include "dataset.h"

G_BEGIN_DECLS

#define DATASET_FILE_LIST_NAME "files.txt"
#define DATASET_FILE_LIST_VERSION 1

/* Writes the scan of train and test (test may be NULL: the folder has no
 * test split), two folder sets loaded from the same folder, to path,
 * atomically: rows, skipped files, classes, channels. Rows marked
 * DATASET_ROW_UNREADABLE are written as such. FALSE with an error naming
 * path. */
gboolean dataset_file_list_save (const char *path, const Dataset *train,
                                 const Dataset *test, GError **error);

/* Split "train" or "test" of the image folder root, as the list at path
 * holds it; options give the image size and resizing. Every listed file is
 * checked (stat) and marked as above; the training split also counts the
 * folder's image files the list lacks. An error names path and, for a
 * list that cannot be read, the line: a truncated file, a line that is
 * not one of the format's, another version. A split the list does not
 * have is INSTDISC_DATA_ERROR_NOT_FOUND. */
Dataset *dataset_file_list_open (const char *path, const char *root,
                                 const char *split,
                                 const DatasetOptions *options,
                                 GError **error);

/* Rewrites path so that the rows of train and test (either may be NULL)
 * marked DATASET_ROW_UNREADABLE are listed as unreadable: the sets must
 * have been opened from path. Nothing is written when the list says so
 * already. */
gboolean dataset_file_list_record_unreadable (const char *path,
                                              const Dataset *train,
                                              const Dataset *test,
                                              GError **error);

/* What a person should know about a set opened from a file list, as one
 * line: how many rows are marked and why, with the first few files, and
 * (training split) how many new files the folder has. NULL when every row
 * is as listed and nothing is new. */
char *dataset_file_list_describe (const Dataset *data);

/* The first max_names files of the rows marked `status`, as "a, b, c, …"
 * (names relative to the folder); *count (may be NULL) gets how many rows
 * have the status. NULL when none. */
char *dataset_row_names (const Dataset *data, DatasetRowStatus status,
                         int max_names, int *count);

G_END_DECLS

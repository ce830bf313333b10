/* file-list-private.h: what the two halves of files.txt share: the list as
 * it is read and written (file-list-format.c, the text format) and the data
 * sets made from it and written into it (file-list.c). */
#pragma once

#include <glib.h>

#include "dataset.h"

G_BEGIN_DECLS

enum { SPLIT_TRAIN, SPLIT_TEST, N_SPLITS };

typedef enum
{
  STATE_OK,
  STATE_SKIPPED,      /* the scan left it out: not a row */
  STATE_UNREADABLE,   /* a row the run could not read when it met it */
  N_STATES,
} EntryState;

/* One file line. */
typedef struct
{
  int split;
  EntryState state;
  gint32 label;
  DatasetFileStamp stamp;
  char *path;    /* relative to the folder */
  int line;      /* where it was read, for messages */
} Entry;

typedef struct
{
  int channels[N_SPLITS];   /* 0: the split is not listed */
  gboolean has_stats[N_SPLITS];
  float mean[N_SPLITS], std[N_SPLITS];   /* grey splits */
  GPtrArray *classes;
  GArray *entries;          /* Entry */
} FileList;

FileList *file_list_new (void);
void file_list_free (FileList *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FileList, file_list_free)

/* The list at path, every line checked; NULL with one error naming the
 * file and, for a bad line, the line. */
FileList *file_list_load (const char *path, GError **error);
/* The list into path, atomically. */
gboolean file_list_write (const FileList *list, const char *path,
                          GError **error);

/* "train" -> SPLIT_TRAIN, "test" -> SPLIT_TEST, else -1; and back */
int file_list_split_index (const char *name);
const char *file_list_split_name (int split);

/* path without root and the separator after it, or NULL when path is not
 * inside root (the scan builds every path from its root, so this is only
 * a check). */
const char *file_list_relative_to (const char *root, const char *path);

G_END_DECLS

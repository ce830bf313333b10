/* instdisc-query-view-private.h: what the files of InstdiscQueryView
 * share.
 *   instdisc-query-view.c      the view: a query's way (decode, embed,
 *                              search), drop, paste and open, GObject
 *   instdisc-query-view-row.c  a query's row: its card, step and novelty,
 *                              its neighbours' menu (Show on Map, Query
 *                              with This Image); the calibration of
 *                              novelty for each snapshot
 * Nothing else includes this header. */
#pragma once

#include "instdisc-query-view.h"
#include "novelty.h"

G_BEGIN_DECLS

#define N_NEIGHBOURS 10
#define THUMB 84

struct _InstdiscQueryView
{
  GtkWidget parent_instance;

  /* template widgets */
  GtkLabel *status_label;
  GtkSpinner *spinner;
  GtkStack *stack;
  GtkBox *rows_box;
  GtkScrolledWindow *rows_scroller;
  GtkWidget *clear_button;
  GtkWidget *random_button;

  /* owned */
  InstdiscRun *run;
  InstdiscSnapshot *snapshot;
  GCancellable *cancellable;
  GtkDropTarget *drop_target;
  GPtrArray *waiting;          /* Query waiting for a snapshot */
  GtkFileChooserNative *chooser;
  char *last_error;
  gulong snapshot_handler;

  int n_pending;
  int n_rows;

  /* how typical a query is (instdisc-query-view-row.c) */
  NoveltyCalibration *calibration;  /* of the newest snapshot calibrated */
  InstdiscSnapshot *calibrating;    /* the one being calibrated, or NULL */
  GCancellable *calibration_cancellable;
  GtkWidget *neighbour_menu;        /* the popover of a clicked neighbour */
};

typedef struct
{
  InstdiscQueryView *self;     /* referenced */
  char *title;                 /* the file's name or the test image's */
  char *full_name;             /* the path, or NAME[index]: its tooltip */
  char *path;                  /* a file to decode, or NULL */
  gboolean remove_path;        /* a temporary file of a pasted image */
  GBytes *pixels;              /* (C, H, W) at the training size */
  int label;                   /* test images: their label, else -1 */
  GBytes *feature;             /* (D) */
  InstdiscSnapshot *snapshot;
  int neighbours[N_NEIGHBOURS];
  float similarities[N_NEIGHBOURS];
  int n_found;
  double novelty;              /* novelty_score of its neighbours */
} Query;

/* ---- instdisc-query-view.c ---- */

void instdisc_query_view_update_status (InstdiscQueryView *self,
                                        const char *message);

/* ---- instdisc-query-view-row.c ---- */

/* q's row, on top, scrolled into view */
void instdisc_query_view_add_row (InstdiscQueryView *self, Query *q);
/* the snapshot a search is about to use: calibrates novelty for it,
 * unless that is done or under way */
void instdisc_query_view_calibrate (InstdiscQueryView *self,
                                    InstdiscSnapshot *snapshot);
void instdisc_query_view_row_class_init (GtkWidgetClass *widget_class);
void instdisc_query_view_row_dispose (InstdiscQueryView *self);

G_END_DECLS

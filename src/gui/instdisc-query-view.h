/* instdisc-query-view.h: nearest training images of any image (Figure 5).
 *
 * An image dropped anywhere on the view (a file), pasted, chosen in a file
 * dialog, or picked from the test set is brought to the training images'
 * channels and size, embedded with the current network (test transform),
 * and its ten nearest rows of the newest bank snapshot appear in a row
 * beside it; rows stay, newest on top. */
#pragma once

#include <gtk/gtk.h>

#include "instdisc-run.h"

G_BEGIN_DECLS

#define INSTDISC_TYPE_QUERY_VIEW (instdisc_query_view_get_type ())
G_DECLARE_FINAL_TYPE (InstdiscQueryView, instdisc_query_view, INSTDISC,
                      QUERY_VIEW, GtkWidget)

GtkWidget *instdisc_query_view_new (void);
void instdisc_query_view_set_run (InstdiscQueryView *self, InstdiscRun *run);

/* Queries an image file, as a drop of it would. */
void instdisc_query_view_query_file (InstdiscQueryView *self, GFile *file);
/* Queries test image i (-1: one at random). */
void instdisc_query_view_query_test_image (InstdiscQueryView *self, int i);
/* Queries training image i (a neighbour's "Query with This Image"; the
 * action query.query-training-image (i) does the same). */
void instdisc_query_view_query_training_image (InstdiscQueryView *self,
                                               int i);

/* For tests: the drop target, the rows (newest first), queries in flight. */
GtkDropTarget *instdisc_query_view_get_drop_target (InstdiscQueryView *self);
int instdisc_query_view_get_n_rows (InstdiscQueryView *self);
/* the neighbour cards of row i (0 = newest), or NULL */
GtkWidget *instdisc_query_view_get_row_neighbours (InstdiscQueryView *self,
                                                   int i);
int instdisc_query_view_get_n_pending (InstdiscQueryView *self);
/* how typical row i's query is: novelty_rank against the calibration of
 * its snapshot, NAN until that calibration is done */
double instdisc_query_view_get_row_novelty (InstdiscQueryView *self, int i);
/* the caption under row i (its step, its 10th similarity, the hint) */
const char *instdisc_query_view_get_row_caption (InstdiscQueryView *self,
                                                 int i);
/* the message of the last failed query, or NULL */
const char *instdisc_query_view_get_last_error (InstdiscQueryView *self);

G_END_DECLS

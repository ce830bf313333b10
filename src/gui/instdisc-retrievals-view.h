/* instdisc-retrievals-view.h: the best and worst retrievals over the test
 * set (the top and bottom halves of the paper's Figure 5), recomputed after
 * each evaluation of the run. */
#pragma once

#include <gtk/gtk.h>

#include "instdisc-run.h"
#include "retrievals.h"

G_BEGIN_DECLS

#define INSTDISC_TYPE_RETRIEVALS_VIEW (instdisc_retrievals_view_get_type ())
G_DECLARE_FINAL_TYPE (InstdiscRetrievalsView, instdisc_retrievals_view,
                      INSTDISC, RETRIEVALS_VIEW, GtkWidget)

GtkWidget *instdisc_retrievals_view_new (void);
void instdisc_retrievals_view_set_run (InstdiscRetrievalsView *self,
                                       InstdiscRun *run);
/* Embeds the test set and ranks it again now. */
void instdisc_retrievals_view_refresh (InstdiscRetrievalsView *self);

/* Shows ranked retrievals of queries (images of `queries`) against
 * rows of bank (images and labels of `bank`); takes retrievals and
 * references both data sets. For tests and for the view itself. */
void instdisc_retrievals_view_show (InstdiscRetrievalsView *self,
                                    Retrievals *retrievals,
                                    const Dataset *queries,
                                    const Dataset *bank);

/* For tests: the number of rows shown in each half and the query of each
 * row, top to bottom (-1 past the end). */
int instdisc_retrievals_view_get_n_rows (InstdiscRetrievalsView *self,
                                         gboolean worst);
int instdisc_retrievals_view_get_row_query (InstdiscRetrievalsView *self,
                                            gboolean worst, int row);
gboolean instdisc_retrievals_view_is_busy (InstdiscRetrievalsView *self);

G_END_DECLS

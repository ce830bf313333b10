/* instdisc-window-private.h: what the files of InstdiscWindow share.
 *
 * The window is one GObject in two files:
 *   instdisc-window.c          the window: its controls, the run it shows,
 *                              building or opening a run off the main loop,
 *                              recent runs, its size, and its actions
 *   instdisc-window-export.c   Export Features: the dialog, the folder
 *                              chooser and the export off the main loop
 * Nothing outside these files includes this header. */
#pragma once

#include "instdisc-window.h"

#include "instdisc-embedding-view.h"
#include "instdisc-notice-bar.h"
#include "instdisc-query-view.h"
#include "instdisc-retrievals-view.h"
#include "instdisc-training-view.h"

G_BEGIN_DECLS

struct _InstdiscWindow
{
  GtkApplicationWindow parent_instance;

  /* template widgets */
  GtkButton *start_button;
  GtkButton *stop_button;
  GtkLabel *state_label;
  GtkStackSwitcher *switcher;
  GtkLabel *title_label;
  InstdiscNoticeBar *notice_bar;
  GtkStack *main_stack;
  GtkStack *view_stack;
  GtkSpinner *loading_spinner;
  GtkLabel *loading_label;
  InstdiscTrainingView *training_view;
  InstdiscEmbeddingView *embedding_view;
  InstdiscQueryView *query_view;
  InstdiscRetrievalsView *retrievals_view;
  GMenu *recent_section;    /* the primary menu's Recent Runs */
  GtkWidget *welcome_recent_box;
  GtkListBox *welcome_recent_list;

  /* owned */
  GSettings *settings;
  InstdiscRun *run;
  gulong state_handler;
  gulong saved_handler;
  gulong notice_handler;
  GCancellable *loading;   /* the run being built in a worker thread */
};

/* ---- instdisc-window-export.c ---- */

/* the action win.export-features: presents the Export Features dialog */
void instdisc_window_export_features (GtkWidget *widget, const char *action,
                                      GVariant *param);

G_END_DECLS

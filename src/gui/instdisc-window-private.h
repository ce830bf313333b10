/* instdisc-window-private.h: what the files of InstdiscWindow share.
 *
 * The window is one GObject in three files:
 *   instdisc-window.c          the window: its controls, the run it shows,
 *                              building or opening a run off the main loop,
 *                              recent runs, its size, and its actions
 *   instdisc-window-export.c   Export Features: the dialog, the folder
 *                              chooser and the export off the main loop
 *   instdisc-window-training.c asking before a running training is
 *                              stopped or replaced, New Training's start,
 *                              and Train More Epochs
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
  GtkLabel *welcome_length_label;
  GtkListBox *welcome_recent_list;

  /* owned */
  GSettings *settings;
  InstdiscRun *run;
  gulong state_handler;
  gulong saved_handler;
  gulong notice_handler;
  GCancellable *loading;   /* the run being built in a worker thread */
  GtkWidget *confirm_dialog;   /* the question before a training stops */
  GtkWidget *train_more_dialog;
  gboolean close_confirmed;    /* closing goes ahead without asking */
  gboolean quitting;           /* the application quits: the question
                                * says so */
};

/* ---- instdisc-window.c ---- */

/* How a build ended, for who asked for it: the run now shown, or NULL and
 * why (G_IO_ERROR_CANCELLED when another build or closing the window
 * replaced it). A failure is the caller's to show, not the window's. */
typedef void (*InstdiscWindowBuilt) (InstdiscWindow *self, InstdiscRun *run,
                                     const GError *error, gpointer data);
/* Builds a new training run in a worker, as instdisc_window_new_training
 * but without asking first, at image_size for an image folder; built
 * (may be NULL) hears how it went, and built_destroy frees built_data. */
void instdisc_window_build_training (InstdiscWindow *self, const char *run_dir,
                                     const char *data_spec, int image_size,
                                     const TrainerConfig *config,
                                     gboolean start, InstdiscWindowBuilt built,
                                     gpointer built_data,
                                     GDestroyNotify built_destroy);
/* Stops run and keeps the application until its checkpoint is written. */
void instdisc_window_stop_and_hold (InstdiscWindow *self, InstdiscRun *run);

/* ---- instdisc-window-training.c ---- */

/* what a stop asked for is for: the question's button says it */
typedef enum
{
  INSTDISC_STOP_FOR_OPEN,    /* Open Run, Recent Runs */
  INSTDISC_STOP_FOR_NEW,     /* New Training, Train on Fashion-MNIST */
  INSTDISC_STOP_FOR_CLOSE,
  INSTDISC_STOP_FOR_QUIT,
} InstdiscStopReason;

typedef void (*InstdiscWindowConfirmed) (InstdiscWindow *self, gpointer data);

/* Before something stops or replaces the window's run: while it trains,
 * asks in a modal question over parent (the window when NULL), Cancel the
 * default. Stop stops the run (it finishes its step and saves a
 * checkpoint of it) and then calls confirmed, which takes data; Cancel
 * frees data with destroy (may be NULL) and changes nothing else. With no
 * training under way confirmed is called at once. */
void instdisc_window_confirm_stop (InstdiscWindow *self, GtkWindow *parent,
                                   InstdiscStopReason reason,
                                   InstdiscWindowConfirmed confirmed,
                                   gpointer data, GDestroyNotify destroy);
/* the action win.train-more */
void instdisc_window_train_more_action (GtkWidget *widget, const char *action,
                                        GVariant *param);
/* TRUE when the window's run has trained every epoch it has (none left to
 * start) */
gboolean instdisc_window_run_has_finished (InstdiscWindow *self);
/* closes the questions and dialogs of instdisc-window-training.c */
void instdisc_window_dispose_training (InstdiscWindow *self);

/* ---- instdisc-window-export.c ---- */

/* the action win.export-features: presents the Export Features dialog */
void instdisc_window_export_features (GtkWidget *widget, const char *action,
                                      GVariant *param);

G_END_DECLS

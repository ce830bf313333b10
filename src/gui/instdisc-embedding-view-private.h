/* instdisc-embedding-view-private.h: what the files of
 * InstdiscEmbeddingView share.
 *   instdisc-embedding-view.c        the view: status, PCA and t-SNE on
 *                                    workers, the run, GObject
 *   instdisc-embedding-view-tools.c  what is shown on the map: the legend,
 *                                    search, colourings (class, wrong
 *                                    neighbour, moved since the last
 *                                    snapshot), a point's neighbours
 * Nothing else includes this header. */
#pragma once

#include "instdisc-embedding-view.h"
#include "instdisc-map.h"

G_BEGIN_DECLS

typedef InstdiscProjection Projection;
#define PROJECTION_PCA INSTDISC_PROJECTION_PCA
#define PROJECTION_TSNE INSTDISC_PROJECTION_TSNE

#define N_NEIGHBOURS 10

/* the entries of the colour dropdown, in its order */
typedef enum
{
  INSTDISC_EMBEDDING_COLOR_CLASS,
  INSTDISC_EMBEDDING_COLOR_WRONG_NEIGHBOUR,
  INSTDISC_EMBEDDING_COLOR_MOVED,
} InstdiscEmbeddingColor;

struct _InstdiscEmbeddingView
{
  GtkWidget parent_instance;

  /* template widgets */
  GtkToggleButton *pca_button;
  GtkToggleButton *tsne_button;
  GtkButton *tsne_run_button;
  GtkButton *tsne_stop_button;
  GtkLabel *status_label;
  GtkSpinner *spinner;
  InstdiscMap *map;
  GtkWidget *placeholder;
  GtkWidget *legend_frame;
  GtkBox *legend_box;
  GtkRevealer *neighbours_revealer;
  GtkBox *neighbours_box;
  GtkSearchEntry *search_entry;
  GtkLabel *search_label;
  GtkDropDown *color_dropdown;
  GtkWidget *holding_label;

  /* owned */
  GSettings *settings;
  InstdiscRun *run;
  InstdiscSnapshot *snapshot;       /* the newest */
  InstdiscSnapshot *shown;          /* the one the map shows points of */
  InstdiscSnapshot *previous;       /* the one shown before, of the same
                                       points: what "moved" compares */
  InstdiscSnapshot *pca_waiting;    /* arrived while a PCA ran */
  float *pca_layout;                /* (n, 2) of `shown`'s size */
  float *tsne_layout;
  gint64 tsne_iteration_of_bank;
  GCancellable *cancellable;        /* PCA tasks; cancelled on dispose */
  GCancellable *tsne_cancellable;
  gulong snapshot_handler;
  gulong state_handler;
  guint timer;

  Projection projection;
  gboolean pca_running;
  guint tsne_generation;
  gboolean tsne_running;
  int tsne_shown_iteration, tsne_total_iterations;
  /* the running t-SNE's neighbour search: rows done of total (0: none
   * heard yet) */
  int tsne_neighbours_done, tsne_neighbours_total;
  int shown_n;
  float pca_variance[2];

  /* search and colours (instdisc-embedding-view-tools.c) */
  GCancellable *tools_cancellable;  /* searches and colourings */
  guint search_generation, color_generation;
  gboolean color_running;
  InstdiscEmbeddingColor color;     /* asked for */
  InstdiscEmbeddingColor shown_color;  /* on the map now */
  char *color_status;               /* what the colouring found, or NULL */
  float moved_max;                  /* the legend's top of "moved" */
  int pending_point;                /* to show once the map has points */
};

/* ---- instdisc-embedding-view.c ---- */

/* the status line, the spinner and the buttons, after any change */
void instdisc_embedding_view_update_status (InstdiscEmbeddingView *self);

/* ---- instdisc-embedding-view-tools.c ---- */

/* the legend of the colouring shown */
void instdisc_embedding_view_rebuild_legend (InstdiscEmbeddingView *self);
/* the map's "point-selected": the point's neighbours in the bar below */
void instdisc_embedding_view_on_point_selected (InstdiscEmbeddingView *self,
                                                int index);
/* the map shows another snapshot (new points or a new layout of the
 * same): the search and the colouring are made again for it */
void instdisc_embedding_view_tools_shown_changed (InstdiscEmbeddingView *self,
                                                  gboolean new_points);
/* template callbacks, and what the view's init and dispose call */
void instdisc_embedding_view_on_search_changed (InstdiscEmbeddingView *self);
void instdisc_embedding_view_on_color_changed (InstdiscEmbeddingView *self);
void instdisc_embedding_view_tools_init (InstdiscEmbeddingView *self);
void instdisc_embedding_view_tools_dispose (InstdiscEmbeddingView *self);

G_END_DECLS

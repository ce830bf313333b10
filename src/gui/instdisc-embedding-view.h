/* instdisc-embedding-view.h: the 2D map of the memory bank (PCA live while
 * training runs, t-SNE on demand), with a legend, hover and neighbours. */
#pragma once

#include <gtk/gtk.h>

#include "instdisc-run.h"

G_BEGIN_DECLS

/* the values of the settings' org.instdisc.Explorer.Projection */
typedef enum
{
  INSTDISC_PROJECTION_PCA,
  INSTDISC_PROJECTION_TSNE,
} InstdiscProjection;

#define INSTDISC_TYPE_EMBEDDING_VIEW (instdisc_embedding_view_get_type ())
G_DECLARE_FINAL_TYPE (InstdiscEmbeddingView, instdisc_embedding_view,
                      INSTDISC, EMBEDDING_VIEW, GtkWidget)

GtkWidget *instdisc_embedding_view_new (void);
/* run may be NULL (no run: an empty map) */
void instdisc_embedding_view_set_run (InstdiscEmbeddingView *self,
                                      InstdiscRun *run);

/* For tests and screenshots: shows a snapshot as a new snapshot-ready
 * would, and starts t-SNE (warm from the map shown when there is one). */
void instdisc_embedding_view_show_snapshot (InstdiscEmbeddingView *self,
                                            InstdiscSnapshot *snapshot);
void instdisc_embedding_view_start_tsne (InstdiscEmbeddingView *self);
gboolean instdisc_embedding_view_is_busy (InstdiscEmbeddingView *self);

/* Selects bank row index as a click on it would (its neighbours in the
 * bar below) and centres the map on it: the query view's "Show on Map". */
void instdisc_embedding_view_show_point (InstdiscEmbeddingView *self,
                                         int index);

/* The projection shown (or, for t-SNE, being computed). Setting it acts
 * as the PCA / t-SNE toggles do; a run opens in the preferred-projection
 * setting's, and a change of that setting applies at once. */
InstdiscProjection instdisc_embedding_view_get_projection (InstdiscEmbeddingView *self);
void instdisc_embedding_view_set_projection (InstdiscEmbeddingView *self,
                                             InstdiscProjection projection);

G_END_DECLS

/* instdisc-embedding-view-tools.c: what the embedding view shows on its
 * map besides the layout (see instdisc-embedding-view-private.h): the
 * legend; search by file name, index or class; colourings by class, by
 * "wrong neighbour" (the 10 nearest bank rows vote for another class than
 * the point's label) and by how far each bank row moved since the
 * snapshot shown before (rows training has not visited since stay where
 * they were: the bank's staleness); a clicked point's neighbours. Searches
 * and colourings are computed on a worker (a GTask) on the snapshot
 * shown; a result for a snapshot no longer shown is dropped. */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-embedding-view-private.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "instdisc-thumb.h"
#include "knn.h"

/* the votes of "wrong neighbour": exp (s / 0.1), the kNN's sigma = tau of
 * the reference's CIFAR recipe, fixed rather than the run's tau so that
 * the maps of runs at different temperatures are coloured alike */
#define VOTE_SIGMA 0.1
/* more rows than this and each row's 10 neighbours would take minutes */
#define MAX_WRONG_NEIGHBOUR_ROWS 200000
#define N_MOVED_BINS 8

/* red, green, blue, weight */
static const float wrong_palette[3][4] = {
  { 0.60f, 0.66f, 0.74f, 0.55f },   /* the neighbours agree: quiet */
  { 0.88f, 0.11f, 0.14f, 1.0f },    /* they vote for another class */
  { 0.75f, 0.75f, 0.75f, 0.3f },    /* no label to judge */
};

/* slot 0: not moved at all; then viridis from small to large moves */
static const float moved_palette[1 + N_MOVED_BINS][4] = {
  { 0.55f, 0.55f, 0.55f, 0.6f },
  { 0.267f, 0.005f, 0.329f, 1.0f }, { 0.275f, 0.190f, 0.494f, 1.0f },
  { 0.212f, 0.359f, 0.552f, 1.0f }, { 0.153f, 0.497f, 0.558f, 1.0f },
  { 0.122f, 0.633f, 0.530f, 1.0f }, { 0.290f, 0.761f, 0.428f, 1.0f },
  { 0.627f, 0.855f, 0.220f, 1.0f }, { 0.993f, 0.906f, 0.144f, 1.0f },
};

static const Dataset *
shown_train (InstdiscEmbeddingView *self)
{
  InstdiscSnapshot *s = self->shown;
  return s && s->train && s->train->n == s->n ? s->train : NULL;
}

/* ---- the legend ---- */

static void
legend_add (InstdiscEmbeddingView *self, const float rgb[3], const char *text)
{
  g_autofree char *escaped = g_markup_escape_text (text, -1);
  g_autofree char *markup
    = g_strdup_printf ("<span foreground=\"#%02x%02x%02x\">●</span>  %s",
                       (int) (rgb[0] * 255), (int) (rgb[1] * 255),
                       (int) (rgb[2] * 255), escaped);
  GtkWidget *label = gtk_label_new (NULL);
  gtk_label_set_markup (GTK_LABEL (label), markup);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0f);
  gtk_box_append (self->legend_box, label);
}

void
instdisc_embedding_view_rebuild_legend (InstdiscEmbeddingView *self)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->legend_box))))
    gtk_box_remove (self->legend_box, child);
  const Dataset *train = shown_train (self);
  gboolean labelled = train && train->n_classes > 0 && train->labels;
  gboolean any = FALSE;
  /* the map keeps its colours until the new ones are computed: so does
   * the legend, below the status of the computation */
  InstdiscEmbeddingColor shown = self->color_running ? self->shown_color
                                                     : self->color;
  switch (shown)
    {
    case INSTDISC_EMBEDDING_COLOR_CLASS:
      /* more than 20 colours cannot be told apart in a legend */
      if (!labelled || train->n_classes > 20)
        break;
      for (int c = 0; c < train->n_classes; c++)
        {
          GdkRGBA color;
          instdisc_map_class_color (c, train->n_classes, &color);
          const float rgb[3] = { color.red, color.green, color.blue };
          g_autofree char *name = instdisc_class_name (train, c);
          legend_add (self, rgb, name);
        }
      any = TRUE;
      break;
    case INSTDISC_EMBEDDING_COLOR_WRONG_NEIGHBOUR:
      legend_add (self, wrong_palette[0], _("Neighbours agree"));
      legend_add (self, wrong_palette[1], _("Neighbours vote for another "
                                            "class"));
      any = TRUE;
      break;
    case INSTDISC_EMBEDDING_COLOR_MOVED:
      {
        legend_add (self, moved_palette[0], _("Not updated since"));
        for (int b = 0; b < N_MOVED_BINS; b += N_MOVED_BINS / 4)
          {
            /* Translators: a range of how far bank rows moved */
            g_autofree char *range
              = g_strdup_printf (_("%.3f to %.3f"),
                                 self->moved_max * b / N_MOVED_BINS,
                                 self->moved_max * (b + N_MOVED_BINS / 4)
                                   / N_MOVED_BINS);
            legend_add (self, moved_palette[1 + b], range);
          }
        any = TRUE;
        break;
      }
    }
  if (self->color_status)
    {
      GtkWidget *label = gtk_label_new (self->color_status);
      gtk_label_set_xalign (GTK_LABEL (label), 0.0f);
      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_label_set_max_width_chars (GTK_LABEL (label), 26);
      gtk_widget_add_css_class (label, "caption");
      gtk_widget_add_css_class (label, "dim-label");
      gtk_box_append (self->legend_box, label);
      any = TRUE;
    }
  gtk_widget_set_visible (self->legend_frame, any && self->shown);
}

/* ---- colourings ---- */

typedef struct
{
  InstdiscSnapshot *snapshot, *previous;
  InstdiscEmbeddingColor color;
  guint generation;
  int *slots;
  int n_slots;
  float moved_max;
  char *status;
} ColorJob;

static void
color_job_free (ColorJob *job)
{
  g_clear_pointer (&job->snapshot, instdisc_snapshot_unref);
  g_clear_pointer (&job->previous, instdisc_snapshot_unref);
  g_free (job->slots);
  g_free (job->status);
  g_free (job);
}

static void
wrong_neighbour (ColorJob *job)
{
  InstdiscSnapshot *s = job->snapshot;
  const Dataset *train = s->train;
  int n = s->n, k = MIN (N_NEIGHBOURS + 1, n);
  g_autofree float *sim = g_new (float, (size_t) n * k);
  g_autofree int *idx = g_new (int, (size_t) n * k);
  knn_search (sim, idx, s->bank, n, s->bank, n, s->dim, k);
  int n_classes = train->n_classes;
  g_autofree double *votes = g_new (double, MAX (n_classes, 1));
  int n_wrong = 0, n_judged = 0;
  job->slots = g_new (int, n);
  job->n_slots = 3;
  for (int i = 0; i < n; i++)
    {
      int label = train->labels ? train->labels[i] : -1;
      if (label < 0 || label >= n_classes)
        {
          job->slots[i] = 2;
          continue;
        }
      memset (votes, 0, sizeof (double) * n_classes);
      for (int j = 0; j < k; j++)
        {
          int nb = idx[(size_t) i * k + j];
          if (nb < 0 || nb == i)
            continue;
          int c = train->labels[nb];
          if (c >= 0 && c < n_classes)
            votes[c] += exp (sim[(size_t) i * k + j] / VOTE_SIGMA);
        }
      int best = 0;
      for (int c = 1; c < n_classes; c++)
        if (votes[c] > votes[best])
          best = c;
      gboolean wrong = votes[best] > 0.0 && best != label;
      job->slots[i] = wrong ? 1 : 0;
      n_wrong += wrong;
      n_judged++;
    }
  job->status = g_strdup_printf (
      _("%.1f%% of the labelled points (%'d of %'d): their %d nearest "
        "neighbours vote for another class"),
      n_judged ? 100.0 * n_wrong / n_judged : 0.0, n_wrong, n_judged,
      N_NEIGHBOURS);
}

static int
compare_floats (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return (x > y) - (x < y);
}

static void
moved (ColorJob *job)
{
  InstdiscSnapshot *s = job->snapshot, *p = job->previous;
  int n = s->n, dim = s->dim;
  g_autofree float *d = g_new (float, n);
  int n_still = 0;
  for (int i = 0; i < n; i++)
    {
      double sum = 0.0;
      for (int k = 0; k < dim; k++)
        {
          double e = s->bank[(size_t) i * dim + k]
                     - p->bank[(size_t) i * dim + k];
          sum += e * e;
        }
      d[i] = (float) sqrt (sum);
      n_still += d[i] == 0.0f;
    }
  g_autofree float *sorted = g_memdup2 (d, sizeof (float) * n);
  qsort (sorted, n, sizeof (float), compare_floats);
  /* the scale's top: the 99th percentile, so one far row does not
   * squeeze the rest into the first colour */
  float top = sorted[(size_t) ((n - 1) * 0.99)];
  float median = sorted[(n - 1) / 2];
  job->moved_max = top > 0.0f ? top : 1.0f;
  job->slots = g_new (int, n);
  job->n_slots = 1 + N_MOVED_BINS;
  for (int i = 0; i < n; i++)
    job->slots[i] = d[i] == 0.0f
                      ? 0
                      : 1 + MIN (N_MOVED_BINS - 1,
                                 (int) (d[i] / job->moved_max
                                        * N_MOVED_BINS));
  /* Translators: how far memory-bank rows moved between two snapshots,
   * and how many training has not updated in between */
  job->status = g_strdup_printf (
      _("From step %'lld to %'lld: half the rows moved more than %.4f; "
        "%'d (%.1f%%) were not updated"),
      (long long) p->iteration, (long long) s->iteration, median, n_still,
      100.0 * n_still / n);
}

static void
color_thread (GTask *task, gpointer source, gpointer task_data,
              GCancellable *cancellable)
{
  ColorJob *job = task_data;
  if (job->color == INSTDISC_EMBEDDING_COLOR_WRONG_NEIGHBOUR)
    wrong_neighbour (job);
  else
    moved (job);
  g_task_return_boolean (task, TRUE);
}

static void update_color (InstdiscEmbeddingView *self);

static void
color_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = G_TASK (result);
  if (g_cancellable_is_cancelled (g_task_get_cancellable (task)))
    return;
  InstdiscEmbeddingView *self = INSTDISC_EMBEDDING_VIEW (source);
  ColorJob *job = g_task_get_task_data (task);
  self->color_running = FALSE;
  instdisc_embedding_view_update_status (self);
  if (job->generation != self->color_generation)
    {
      /* asked for again meanwhile: the newest snapshot and colouring */
      update_color (self);
      return;
    }
  if (job->snapshot != self->shown)
    return;
  const float *palette = job->color == INSTDISC_EMBEDDING_COLOR_MOVED
                           ? &moved_palette[0][0] : &wrong_palette[0][0];
  instdisc_map_set_coloring (self->map, job->slots, palette, job->n_slots);
  self->shown_color = job->color;
  self->moved_max = job->moved_max;
  g_free (self->color_status);
  self->color_status = g_steal_pointer (&job->status);
  instdisc_embedding_view_rebuild_legend (self);
}

/* (re)computes the colouring asked for, for the snapshot shown */
static void
update_color (InstdiscEmbeddingView *self)
{
  self->color_generation++;
  g_clear_pointer (&self->color_status, g_free);
  InstdiscSnapshot *s = self->shown;
  const Dataset *train = shown_train (self);
  const char *cannot = NULL;
  if (!s || self->color == INSTDISC_EMBEDDING_COLOR_CLASS)
    ;
  else if (self->color == INSTDISC_EMBEDDING_COLOR_WRONG_NEIGHBOUR
           && (!train || !train->labels || train->n_classes == 0))
    cannot = _("The training images have no labels to compare with");
  else if (self->color == INSTDISC_EMBEDDING_COLOR_WRONG_NEIGHBOUR
           && s->n > MAX_WRONG_NEIGHBOUR_ROWS)
    cannot = _("Too many points for this colouring (each one’s neighbours "
               "would take minutes)");
  else if (self->color == INSTDISC_EMBEDDING_COLOR_MOVED
           && (!self->previous || self->previous->n != s->n))
    cannot = _("Moves show from the second snapshot of a training run on");
  if (!s || self->color == INSTDISC_EMBEDDING_COLOR_CLASS || cannot)
    {
      instdisc_map_set_coloring (self->map, NULL, NULL, 0);
      self->shown_color = INSTDISC_EMBEDDING_COLOR_CLASS;
      self->color_status = g_strdup (cannot);
      instdisc_embedding_view_rebuild_legend (self);
      return;
    }
  self->color_status = g_strdup (
      self->color == INSTDISC_EMBEDDING_COLOR_MOVED
        ? _("Measuring how far each row moved…")
        : _("Finding each point’s 10 nearest neighbours…"));
  if (self->color_running)
    {
      /* color_done starts the newest */
      instdisc_embedding_view_rebuild_legend (self);
      return;
    }
  self->color_running = TRUE;
  instdisc_embedding_view_rebuild_legend (self);
  instdisc_embedding_view_update_status (self);
  ColorJob *job = g_new0 (ColorJob, 1);
  job->snapshot = instdisc_snapshot_ref (s);
  job->previous = self->previous ? instdisc_snapshot_ref (self->previous)
                                 : NULL;
  job->color = self->color;
  job->generation = self->color_generation;
  g_autoptr (GTask) task = g_task_new (self, self->tools_cancellable,
                                       color_done, NULL);
  g_task_set_source_tag (task, update_color);
  g_task_set_task_data (task, job, (GDestroyNotify) color_job_free);
  g_task_run_in_thread (task, color_thread);
}

void
instdisc_embedding_view_on_color_changed (InstdiscEmbeddingView *self)
{
  self->color = gtk_drop_down_get_selected (self->color_dropdown);
  update_color (self);
}

/* ---- search ---- */

typedef struct
{
  Dataset *train;
  InstdiscSnapshot *snapshot;
  char *text;
  guint generation;
  GArray *found;
} SearchJob;

static void
search_job_free (SearchJob *job)
{
  g_clear_pointer (&job->train, dataset_unref);
  g_clear_pointer (&job->snapshot, instdisc_snapshot_unref);
  g_free (job->text);
  g_clear_pointer (&job->found, g_array_unref);
  g_free (job);
}

/* what a search text finds: an index (digits alone), every point of a
 * class whose name it is, else the points whose name (file or
 * NAME[index]) or class contains it, ignoring case */
static void
search_thread (GTask *task, gpointer source, gpointer task_data,
               GCancellable *cancellable)
{
  SearchJob *job = task_data;
  const Dataset *train = job->train;
  job->found = g_array_new (FALSE, FALSE, sizeof (int));
  const char *text = job->text;
  char *end = NULL;
  gint64 number = g_ascii_strtoll (text, &end, 10);
  if (end != text && *end == '\0')
    {
      if (number >= 0 && number < train->n)
        {
          int i = (int) number;
          g_array_append_val (job->found, i);
        }
      g_task_return_boolean (task, TRUE);
      return;
    }
  g_autofree char *needle = g_utf8_casefold (text, -1);
  int n_classes = train->class_names ? train->n_classes : 0;
  g_autofree guint8 *class_hit = g_new0 (guint8, MAX (n_classes, 1));
  int exact = -1;
  for (int c = 0; c < n_classes; c++)
    {
      g_autofree char *name = g_utf8_casefold (train->class_names[c], -1);
      if (g_str_equal (name, needle))
        exact = c;
      class_hit[c] = strstr (name, needle) != NULL;
    }
  for (int i = 0; i < train->n; i++)
    {
      if (g_cancellable_is_cancelled (cancellable))
        break;
      int label = train->labels ? train->labels[i] : -1;
      gboolean hit;
      if (exact >= 0)
        hit = label == exact;
      else if (label >= 0 && label < n_classes && class_hit[label])
        hit = TRUE;
      else
        {
          g_autofree char *item = dataset_get_item_name (train, i);
          g_autofree char *folded = g_utf8_casefold (item, -1);
          hit = strstr (folded, needle) != NULL;
        }
      if (hit)
        g_array_append_val (job->found, i);
    }
  g_task_return_boolean (task, TRUE);
}

static void
search_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = G_TASK (result);
  if (g_cancellable_is_cancelled (g_task_get_cancellable (task)))
    return;
  InstdiscEmbeddingView *self = INSTDISC_EMBEDDING_VIEW (source);
  SearchJob *job = g_task_get_task_data (task);
  if (job->generation != self->search_generation
      || job->snapshot != self->shown)
    return;
  int n = (int) job->found->len;
  instdisc_map_set_highlight (self->map, (int *) job->found->data, n);
  g_autofree char *text
    = n == 0 ? g_strdup (_("Nothing found"))
             : g_strdup_printf (ngettext ("%'d point found",
                                          "%'d points found", n), n);
  gtk_label_set_text (self->search_label, text);
  /* one point: its neighbours too, as a click would show them */
  if (n == 1)
    instdisc_embedding_view_show_point (self, g_array_index (job->found,
                                                             int, 0));
}

static void
update_search (InstdiscEmbeddingView *self)
{
  self->search_generation++;
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));
  g_autofree char *stripped = g_strstrip (g_strdup (text));
  const Dataset *train = shown_train (self);
  if (!*stripped || !train)
    {
      instdisc_map_set_highlight (self->map, NULL, 0);
      gtk_label_set_text (self->search_label, "");
      return;
    }
  SearchJob *job = g_new0 (SearchJob, 1);
  job->train = dataset_ref (train);
  job->snapshot = instdisc_snapshot_ref (self->shown);
  job->text = g_steal_pointer (&stripped);
  job->generation = self->search_generation;
  g_autoptr (GTask) task = g_task_new (self, self->tools_cancellable,
                                       search_done, NULL);
  g_task_set_source_tag (task, update_search);
  g_task_set_task_data (task, job, (GDestroyNotify) search_job_free);
  g_task_run_in_thread (task, search_thread);
}

void
instdisc_embedding_view_on_search_changed (InstdiscEmbeddingView *self)
{
  update_search (self);
}

void
instdisc_embedding_view_tools_shown_changed (InstdiscEmbeddingView *self,
                                             gboolean new_points)
{
  /* new points lose the map's highlight and colouring: made again; a new
   * layout keeps them, but the bank (hence the colouring) changed */
  if (new_points)
    {
      /* the map dropped its colouring with the old points */
      self->shown_color = INSTDISC_EMBEDDING_COLOR_CLASS;
      update_search (self);
    }
  if (new_points && self->pending_point >= 0)
    {
      int i = self->pending_point;
      self->pending_point = -1;
      instdisc_embedding_view_show_point (self, i);
    }
  if (new_points || self->color != INSTDISC_EMBEDDING_COLOR_CLASS)
    update_color (self);
}

/* ---- holding still under the pointer ---- */

static void
on_holding (InstdiscMap *map, GParamSpec *pspec, InstdiscEmbeddingView *self)
{
  gtk_widget_set_visible (self->holding_label,
                          instdisc_map_is_holding (map));
}

void
instdisc_embedding_view_tools_init (InstdiscEmbeddingView *self)
{
  self->tools_cancellable = g_cancellable_new ();
  self->pending_point = -1;
  g_signal_connect (self->map, "notify::holding", G_CALLBACK (on_holding),
                    self);
}

void
instdisc_embedding_view_tools_dispose (InstdiscEmbeddingView *self)
{
  if (self->tools_cancellable)
    g_cancellable_cancel (self->tools_cancellable);
  g_clear_object (&self->tools_cancellable);
  g_clear_pointer (&self->color_status, g_free);
}

/* ---- neighbours of a clicked point ---- */

void
instdisc_embedding_view_on_point_selected (InstdiscEmbeddingView *self,
                                           int index)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (
            GTK_WIDGET (self->neighbours_box))))
    gtk_box_remove (self->neighbours_box, child);
  InstdiscSnapshot *s = self->shown;
  if (index < 0 || !s || index >= s->n)
    {
      instdisc_map_set_selection (self->map, -1, NULL, 0);
      gtk_revealer_set_reveal_child (self->neighbours_revealer, FALSE);
      return;
    }
  /* one query against the bank: milliseconds even for a million rows */
  int k = MIN (N_NEIGHBOURS + 1, s->n);
  int nb[N_NEIGHBOURS + 1];
  float sim[N_NEIGHBOURS + 1];
  knn_search (sim, nb, s->bank + (size_t) index * s->dim, 1, s->bank, s->n,
              s->dim, k);
  int found[N_NEIGHBOURS];
  float found_sim[N_NEIGHBOURS];
  int n_found = 0;
  for (int j = 0; j < k && n_found < N_NEIGHBOURS; j++)
    if (nb[j] != index)
      {
        found[n_found] = nb[j];
        found_sim[n_found++] = sim[j];
      }
  instdisc_map_set_selection (self->map, index, found, n_found);

  const Dataset *train = s->train;
  if (!train || train->n != s->n)
    return;
  int label = train->labels ? train->labels[index] : -1;
  g_autofree char *name = instdisc_class_name (train, label);
  GtkWidget *card = instdisc_thumb_card_new_for_image (train, index, 84,
                                                       INSTDISC_THUMB_QUERY,
                                                       _("Selected"), name);
  g_autofree char *item = dataset_get_item_name (train, index);
  gtk_widget_set_tooltip_text (card, item);
  GtkWidget *row = instdisc_neighbour_row_new (card, train, found, found_sim,
                                               n_found, label, 84);
  gtk_box_append (self->neighbours_box, row);
  gtk_revealer_set_reveal_child (self->neighbours_revealer, TRUE);
}

void
instdisc_embedding_view_show_point (InstdiscEmbeddingView *self, int index)
{
  g_return_if_fail (INSTDISC_IS_EMBEDDING_VIEW (self));
  if (!self->shown)
    {
      /* the map has no points yet: when they come */
      self->pending_point = index;
      return;
    }
  if (index < 0 || index >= self->shown->n)
    return;
  instdisc_embedding_view_on_point_selected (self, index);
  instdisc_map_center_on_point (self->map, index);
}

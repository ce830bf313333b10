/* instdisc-query-view-row.c: a query's row (see
 * instdisc-query-view-private.h): the query's card with its full name on
 * hover, its ten neighbours, and a caption with the training step of the
 * bank it was searched in, the similarity of its 10th neighbour and how
 * typical that is (novelty.h). A click on a neighbour offers Show on Map
 * and Query with This Image.
 *
 * The calibration of novelty is made once per snapshot a query is searched
 * in, off the main loop: up to NOVELTY_CALIBRATION_IMAGES images of the
 * test set (or of the training set, each leaving its own bank row out,
 * when there is none) read on a worker, embedded by the run as queries
 * are, and ranked against the snapshot's bank on a worker. Rows wait for it: their
 * caption gets its judgement when it arrives. */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-query-view-private.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "instdisc-thumb.h"

/* ---- the caption ---- */

typedef struct
{
  gint64 iteration;   /* of the snapshot searched */
  double score;       /* novelty_score */
  double rank;        /* novelty_rank, NAN until calibrated */
  GtkLabel *caption;
} RowInfo;

static void
update_caption (RowInfo *info, const NoveltyCalibration *calibration)
{
  if (calibration && calibration->iteration == info->iteration)
    info->rank = novelty_rank (calibration, info->score);
  /* Translators: the training step of the memory bank a query was
   * searched in, and the similarity of its 10th nearest image */
  g_autofree char *base
    = g_strdup_printf (_("Step %'lld · 10th nearest %.4f"),
                       (long long) info->iteration, info->score);
  g_autofree char *text = NULL;
  gboolean unusual = FALSE;
  const char *of = calibration && !calibration->from_test
                     ? _("training images") : _("test images");
  NoveltyJudgement judgement = novelty_judge (info->rank);
  int n = calibration ? calibration->n : 0;
  int above = judgement == NOVELTY_UNKNOWN
                ? 0 : novelty_count_above (calibration, info->rank);
  switch (judgement)
    {
    case NOVELTY_UNLIKE:
      /* Translators: the last %s is "test images" or "training images" */
      text = g_strdup_printf (_("%s · unlike the training images: lower "
                                "than for %d of %d %s"),
                              base, above, n, of);
      unusual = TRUE;
      break;
    case NOVELTY_LESS_TYPICAL:
      text = g_strdup_printf (_("%s · less typical: lower than for %d of "
                                "%d %s"), base, above, n, of);
      break;
    case NOVELTY_TYPICAL:
      text = g_strdup_printf (_("%s · typical (above %.0f%% of %s)"), base,
                              100.0 * info->rank, of);
      break;
    case NOVELTY_UNKNOWN:
    default:
      text = g_strdup (base);
      break;
    }
  gtk_label_set_text (info->caption, text);
  if (unusual)
    {
      gtk_widget_remove_css_class (GTK_WIDGET (info->caption), "dim-label");
      gtk_widget_add_css_class (GTK_WIDGET (info->caption), "warning");
    }
}

static RowInfo *
row_info (GtkWidget *row)
{
  return row ? g_object_get_data (G_OBJECT (row), "row-info") : NULL;
}

static GtkWidget *
nth_row (InstdiscQueryView *self, int i)
{
  GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->rows_box));
  for (; row && i > 0; i--)
    row = gtk_widget_get_next_sibling (row);
  return row;
}

double
instdisc_query_view_get_row_novelty (InstdiscQueryView *self, int i)
{
  RowInfo *info = row_info (nth_row (self, i));
  return info ? info->rank : NAN;
}

const char *
instdisc_query_view_get_row_caption (InstdiscQueryView *self, int i)
{
  RowInfo *info = row_info (nth_row (self, i));
  return info ? gtk_label_get_text (info->caption) : NULL;
}

/* ---- a neighbour's menu ---- */

static void
on_neighbour_released (GtkGestureClick *click, int n_press, double x,
                       double y, InstdiscQueryView *self)
{
  GtkWidget *card
    = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (click));
  int index = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (card), "index"));
  g_autoptr (GMenu) menu = g_menu_new ();
  g_autofree char *show
    = g_strdup_printf ("win.show-point(%d)", index);
  g_autofree char *query
    = g_strdup_printf ("query.query-training-image(%d)", index);
  g_menu_append (menu, _("Show on _Map"), show);
  g_menu_append (menu, _("_Query with This Image"), query);
  gtk_popover_menu_set_menu_model (GTK_POPOVER_MENU (self->neighbour_menu),
                                   G_MENU_MODEL (menu));
  graphene_point_t at;
  if (!gtk_widget_compute_point (card, GTK_WIDGET (self),
                                 &GRAPHENE_POINT_INIT (x, y), &at))
    return;
  gtk_popover_set_pointing_to (GTK_POPOVER (self->neighbour_menu),
                               &(GdkRectangle) { (int) at.x, (int) at.y, 1,
                                                 1 });
  gtk_popover_popup (GTK_POPOVER (self->neighbour_menu));
}

static void
query_training_image (GtkWidget *widget, const char *action, GVariant *param)
{
  instdisc_query_view_query_training_image (INSTDISC_QUERY_VIEW (widget),
                                            g_variant_get_int32 (param));
}

/* ---- the row ---- */

void
instdisc_query_view_add_row (InstdiscQueryView *self, Query *q)
{
  const Dataset *train = q->snapshot->train;
  const guint8 *pixels = g_bytes_get_data (q->pixels, NULL);
  int scale = MAX (1, THUMB / MAX (train->width, train->height));
  g_autoptr (GdkTexture) texture
    = instdisc_texture_new_from_pixels (pixels, train->channels,
                                        train->height, train->width, scale);
  const Dataset *test = instdisc_run_get_test (self->run);
  g_autofree char *class_name
    = instdisc_class_name (test && test->class_names ? test : train, q->label);
  GtkWidget *card = instdisc_thumb_card_new (texture, THUMB,
                                             INSTDISC_THUMB_QUERY, q->title,
                                             class_name);
  /* the whole name on hover: the path, or NAME[index] */
  const char *full = q->full_name ? q->full_name : q->title;
  gtk_widget_set_tooltip_text (card, full);
  GtkWidget *first = gtk_widget_get_first_child (card);
  for (GtkWidget *c = first ? gtk_widget_get_next_sibling (first) : NULL; c;
       c = gtk_widget_get_next_sibling (c))
    if (GTK_IS_LABEL (c) && g_strcmp0 (gtk_label_get_text (GTK_LABEL (c)),
                                       q->title) == 0)
      gtk_widget_set_tooltip_text (c, full);
  GtkWidget *row = instdisc_neighbour_row_new (card, train, q->neighbours,
                                               q->similarities, q->n_found,
                                               q->label, THUMB);
  GtkWidget *cards = g_object_get_data (G_OBJECT (row), "neighbours");
  for (GtkWidget *c = gtk_widget_get_first_child (cards); c;
       c = gtk_widget_get_next_sibling (c))
    {
      GtkGesture *click = gtk_gesture_click_new ();
      g_signal_connect (click, "released",
                        G_CALLBACK (on_neighbour_released), self);
      gtk_widget_add_controller (c, GTK_EVENT_CONTROLLER (click));
      gtk_widget_set_cursor_from_name (c, "pointer");
    }

  /* the row and its caption */
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  gtk_box_append (GTK_BOX (box), row);
  GtkWidget *caption = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (caption), 0.0f);
  gtk_label_set_wrap (GTK_LABEL (caption), TRUE);
  gtk_widget_add_css_class (caption, "caption");
  gtk_widget_add_css_class (caption, "dim-label");
  gtk_widget_set_tooltip_text (
      caption,
      _("The similarity of the 10th nearest training image, against the "
        "same for images like the training set's, searched in the same "
        "bank: a query lower than 99 in 100 of them is unlike the "
        "training images (a wallpaper for a network of clothes), whatever "
        "its nearest similarity says"));
  gtk_box_append (GTK_BOX (box), caption);
  RowInfo *info = g_new0 (RowInfo, 1);
  info->iteration = q->snapshot->iteration;
  info->score = q->novelty;
  info->rank = NAN;
  info->caption = GTK_LABEL (caption);
  g_object_set_data_full (G_OBJECT (box), "row-info", info, g_free);
  g_object_set_data (G_OBJECT (box), "neighbours", cards);
  update_caption (info, self->calibration);

  gtk_box_prepend (self->rows_box, box);
  self->n_rows++;
  gtk_stack_set_visible_child_name (self->stack, "rows");
  /* the new row is on top: show the top */
  gtk_adjustment_set_value (
      gtk_scrolled_window_get_vadjustment (self->rows_scroller), 0.0);
}

/* ---- calibration ---- */

typedef struct
{
  InstdiscQueryView *self;    /* referenced */
  InstdiscSnapshot *snapshot;
  const Dataset *set;         /* test or training set, of the run */
  Dataset *set_ref;
  gboolean from_test;
  int n;
  int *rows;                  /* (n) the images taken */
  GBytes *pixels;
  GBytes *features;
  NoveltyCalibration *calibration;
} Calibration;

static void
calibration_free (Calibration *c)
{
  g_clear_object (&c->self);
  g_clear_pointer (&c->snapshot, instdisc_snapshot_unref);
  g_clear_pointer (&c->set_ref, dataset_unref);
  g_free (c->rows);
  g_clear_pointer (&c->pixels, g_bytes_unref);
  g_clear_pointer (&c->features, g_bytes_unref);
  g_clear_pointer (&c->calibration, novelty_calibration_free);
  g_free (c);
}

static void
calibration_end (Calibration *c, const GError *error)
{
  InstdiscQueryView *self = c->self;
  if (error && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      /* another run, or the view is gone */
      calibration_free (c);
      return;
    }
  if (error)
    g_message ("novelty not calibrated: %s", error->message);
  if (self->calibrating == c->snapshot)
    g_clear_pointer (&self->calibrating, instdisc_snapshot_unref);
  if (c->calibration)
    {
      g_clear_pointer (&self->calibration, novelty_calibration_free);
      self->calibration = g_steal_pointer (&c->calibration);
      for (GtkWidget *row = gtk_widget_get_first_child (
             GTK_WIDGET (self->rows_box));
           row; row = gtk_widget_get_next_sibling (row))
        {
          RowInfo *info = row_info (row);
          if (info && isnan (info->rank))
            update_caption (info, self->calibration);
        }
    }
  calibration_free (c);
}

static void
rank_thread (GTask *task, gpointer source, gpointer task_data,
             GCancellable *cancellable)
{
  Calibration *c = task_data;
  InstdiscSnapshot *s = c->snapshot;
  gsize size;
  const float *features = g_bytes_get_data (c->features, &size);
  if (size != (gsize) c->n * s->dim * sizeof (float))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               "features of %zu bytes for %d images",
                               size, c->n);
      return;
    }
  c->calibration = novelty_calibrate (features, c->n,
                                      c->from_test ? NULL : c->rows, s->bank,
                                      s->n, s->dim, s->iteration);
  g_task_return_boolean (task, TRUE);
}

static void
rank_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Calibration *c = data;
  g_autoptr (GError) error = NULL;
  g_task_propagate_boolean (G_TASK (result), &error);
  calibration_end (c, error);
}

static void
embedded (GObject *source, GAsyncResult *result, gpointer data)
{
  Calibration *c = data;
  g_autoptr (GError) error = NULL;
  c->features = instdisc_run_embed_finish (INSTDISC_RUN (source), result,
                                           &error);
  if (!c->features)
    {
      calibration_end (c, error);
      return;
    }
  g_autoptr (GTask) task = g_task_new (NULL,
                                       c->self->calibration_cancellable,
                                       rank_done, c);
  g_task_set_source_tag (task, embedded);
  g_task_set_task_data (task, c, NULL);
  g_task_run_in_thread (task, rank_thread);
}

/* the images, read on a worker (a folder's are decoded from disk) */
static void
read_thread (GTask *task, gpointer source, gpointer task_data,
             GCancellable *cancellable)
{
  Calibration *c = task_data;
  const Dataset *set = c->set;
  gsize image = (gsize) set->channels * set->height * set->width;
  g_autofree guint8 *pixels = g_malloc (image * c->n);
  int kept = 0;
  for (int j = 0; j < c->n; j++)
    {
      /* a file that cannot be read is left out */
      if (dataset_get_image (set, c->rows[j], pixels + image * kept, NULL))
        c->rows[kept++] = c->rows[j];
    }
  c->n = kept;
  c->pixels = g_bytes_new_take (g_steal_pointer (&pixels), image * kept);
  g_task_return_boolean (task, kept > 0);
}

static void
read_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Calibration *c = data;
  g_autoptr (GError) error = NULL;
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      calibration_end (c, error);
      return;
    }
  instdisc_run_embed_async (c->self->run, c->pixels, c->n,
                            c->self->calibration_cancellable, embedded, c);
}

void
instdisc_query_view_calibrate (InstdiscQueryView *self,
                               InstdiscSnapshot *snapshot)
{
  if (self->calibrating
      || (self->calibration
          && self->calibration->iteration == snapshot->iteration))
    return;
  const Dataset *train = instdisc_run_get_train (self->run);
  const Dataset *test = instdisc_run_get_test (self->run);
  if (!train || train->n != snapshot->n)
    return;
  gboolean from_test = test && test->n > 0
                       && test->channels == train->channels
                       && test->height == train->height
                       && test->width == train->width;
  const Dataset *set = from_test ? test : train;
  if (!self->calibration_cancellable)
    self->calibration_cancellable = g_cancellable_new ();
  Calibration *c = g_new0 (Calibration, 1);
  c->self = g_object_ref (self);
  c->snapshot = instdisc_snapshot_ref (snapshot);
  c->set = set;
  c->set_ref = dataset_ref (set);
  c->from_test = from_test;
  c->rows = g_new (int, NOVELTY_CALIBRATION_IMAGES);
  c->n = novelty_calibration_rows (set->n, c->rows);
  self->calibrating = instdisc_snapshot_ref (snapshot);
  g_autoptr (GTask) task = g_task_new (NULL, self->calibration_cancellable,
                                       read_done, c);
  g_task_set_source_tag (task, instdisc_query_view_calibrate);
  g_task_set_task_data (task, c, NULL);
  g_task_run_in_thread (task, read_thread);
}

void
instdisc_query_view_row_class_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class,
                                   "query.query-training-image", "i",
                                   query_training_image);
}

void
instdisc_query_view_row_dispose (InstdiscQueryView *self)
{
  if (self->calibration_cancellable)
    g_cancellable_cancel (self->calibration_cancellable);
  g_clear_object (&self->calibration_cancellable);
  g_clear_pointer (&self->calibrating, instdisc_snapshot_unref);
  g_clear_pointer (&self->calibration, novelty_calibration_free);
  g_clear_pointer (&self->neighbour_menu, gtk_widget_unparent);
}

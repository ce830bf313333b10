/* test-gui-map-query.c: what a new user met in the map and query views,
 * and the ways into them, driven headless under Xvfb. Each check can fail:
 *  - /gui-explore/formats/filter: the Open dialog's image filter takes a
 *    WebP file by type and by name (and every format GdkPixbuf reads), and
 *    not a text file;
 *  - /gui-explore/query/webp: a WebP file dropped on the query view gets
 *    a row of ten neighbours;
 *  - /gui-explore/help/html: help opens as HTML from the build tree and
 *    without Yelp, and the build tree's HTML is there to open;
 *  - /gui-explore/map/hold: with the pointer on the map a new layout is
 *    held (the point hovered stays under the pointer and is what a click
 *    picks), and shows when the pointer leaves;
 *  - /gui-explore/map/highlight: a highlight fades the other points and a
 *    colouring paints its slots, in the image drawn;
 *  - /gui-explore/map/behind-dialog: with a modal dialog over its window,
 *    the map keeps drawing: its points, and a colouring given meanwhile,
 *    are in the image it draws;
 *  - /gui-explore/embedding/find-color: searching an index selects that
 *    point, a part of names finds every point whose name has it; the
 *    "wrong neighbour" colouring paints every point agree or disagree;
 *    show_point selects and centres;
 *  - /gui-explore/embedding/moved: between two snapshots of the same
 *    points, the rows the second did not change are in the "not updated"
 *    colour, each moved row in another, the least and the farthest moved
 *    apart; the legend says both steps and how many rows stayed; with one
 *    snapshot it says moves need two;
 *  - /gui-explore/query/ahead-of-set: a query asked for while a set of
 *    thousands of images is being embedded is embedded first, between two
 *    of the set's batches, by the same network (its features match the
 *    set's row of the same image);
 *  - /gui-explore/query/row: a row is stamped with its step and judged
 *    against the calibration once it arrives; a neighbour's "Query with
 *    This Image" queries that training image, whose full name is the
 *    card's tooltip; the newest row scrolls into view. */
#include "explore-testutil.h"

#include <stdlib.h>

#include <math.h>

#include "gui/gui-testutil.h"
#include "image-formats.h"
#include "instdisc-file-chooser.h"
#include "instdisc-help.h"

/* ---- formats ---- */

static gboolean
filter_takes (GtkFilter *filter, const char *name, const char *type)
{
  g_autoptr (GFileInfo) info = g_file_info_new ();
  g_file_info_set_display_name (info, name);
  g_file_info_set_name (info, name);
  if (type)
    g_file_info_set_content_type (info, type);
  return gtk_filter_match (filter, info);
}

static void
test_filter (void)
{
  if (!data_image_format_available ("webp"))
    g_error ("GdkPixbuf has no WebP loader here: install "
             "webp-pixbuf-loader (tools/install-deps)");
  g_autoptr (GtkFileChooserNative) chooser
    = instdisc_file_chooser_new (NULL, "Query Images",
                                 GTK_FILE_CHOOSER_ACTION_OPEN, "_Query");
  instdisc_file_chooser_add_image_filter (chooser);
  g_autoptr (GListModel) filters
    = gtk_file_chooser_get_filters (GTK_FILE_CHOOSER (chooser));
  g_assert_cmpuint (g_list_model_get_n_items (filters), ==, 1);
  g_autoptr (GtkFilter) filter = g_list_model_get_item (filters, 0);
  g_assert_true (filter_takes (filter, "adwaita-d.webp", "image/webp"));
  /* by name alone, where the system has no type for it */
  g_assert_true (filter_takes (filter, "adwaita-l.WEBP", NULL));
  g_assert_true (filter_takes (filter, "photo.jpg", "image/jpeg"));
  for (const char *const *e = data_image_extensions (); *e; e++)
    {
      g_autofree char *name = g_strconcat ("x.", *e, NULL);
      g_assert_true (filter_takes (filter, name, NULL));
    }
  g_assert_false (filter_takes (filter, "notes.txt", "text/plain"));
}

/* ---- the query view ---- */

static void
drop_file (InstdiscQueryView *view, const char *path)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  GFile *files[1] = { file };
  GValue value = G_VALUE_INIT;
  g_value_init (&value, GDK_TYPE_FILE_LIST);
  g_value_take_boxed (&value, gdk_file_list_new_from_array (files, 1));
  gboolean handled = FALSE;
  g_signal_emit_by_name (instdisc_query_view_get_drop_target (view), "drop",
                         &value, 200.0, 200.0, &handled);
  g_value_unset (&value);
  g_assert_true (handled);
}

static void
test_query_webp (void)
{
  ensure_run ();
  g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8,
                                                 60, 40);
  gdk_pixbuf_fill (pixbuf, 0x3060c0ff);
  g_autofree char *webp = work_file ("wallpaper.webp");
  g_autoptr (GError) error = NULL;
  g_assert_true (gdk_pixbuf_save (pixbuf, webp, "webp", &error, NULL));
  g_assert_no_error (error);

  GtkWidget *view = instdisc_query_view_new ();
  GtkWidget *window = show_in_window (view, 1100, 500);
  instdisc_query_view_set_run (INSTDISC_QUERY_VIEW (view), run);
  drop_file (INSTDISC_QUERY_VIEW (view), webp);
  g_assert_true (wait_until (query_settled, view, 120));
  g_assert_null (instdisc_query_view_get_last_error (
    INSTDISC_QUERY_VIEW (view)));
  g_assert_cmpint (instdisc_query_view_get_n_rows (INSTDISC_QUERY_VIEW (view)),
                   ==, 1);
  GtkWidget *cards = instdisc_query_view_get_row_neighbours (
    INSTDISC_QUERY_VIEW (view), 0);
  g_assert_cmpint (count_children (cards), ==, 10);
  gtk_window_destroy (GTK_WINDOW (window));
}


/* ---- the map ---- */

static gboolean
map_idle (gpointer data)
{
  return !instdisc_map_is_rendering (data);
}

static GtkEventController *
motion_controller (GtkWidget *widget)
{
  g_autoptr (GListModel) list = gtk_widget_observe_controllers (widget);
  for (guint i = 0; i < g_list_model_get_n_items (list); i++)
    {
      g_autoptr (GtkEventController) c = g_list_model_get_item (list, i);
      if (GTK_IS_EVENT_CONTROLLER_MOTION (c))
        return c;
    }
  return NULL;
}

enum { GRID = 20, N_GRID = GRID * GRID };

static void
grid_layout (float *layout, double shift)
{
  for (int i = 0; i < N_GRID; i++)
    {
      layout[2 * i] = (float) (i % GRID + shift);
      layout[2 * i + 1] = (float) (i / GRID);
    }
}

static void
test_map_hold (void)
{
  float layout[2 * N_GRID], moved[2 * N_GRID];
  int labels[N_GRID];
  for (int i = 0; i < N_GRID; i++)
    labels[i] = i % 3;
  grid_layout (layout, 0.0);
  grid_layout (moved, 3.0);   /* every point three columns to the right */
  GtkWidget *widget = instdisc_map_new ();
  InstdiscMap *map = INSTDISC_MAP (widget);
  GtkWidget *window = show_in_window (widget, 500, 500);
  instdisc_map_set_points (map, layout, labels, N_GRID, 3);
  g_assert_true (wait_until (map_idle, map, 30));
  InstdiscMapView before;
  g_assert_true (instdisc_map_get_shown_view (map, &before));
  g_assert_cmpfloat (fabs (before.cx - (GRID - 1) / 2.0), <, 1e-6);

  /* the pointer comes onto point 210 and stays */
  int target = 210;
  double x, y;
  instdisc_map_point_position (map, target, &x, &y);
  GtkEventController *motion = motion_controller (widget);
  g_assert_nonnull (motion);
  g_signal_emit_by_name (motion, "enter", x, y);
  g_assert_cmpint (instdisc_map_get_hovered (map), ==, target);

  /* a new layout while it is there: held */
  instdisc_map_set_layout (map, moved);
  g_assert_true (instdisc_map_is_holding (map));
  g_assert_cmpfloat (instdisc_map_get_layout (map)[2 * target], ==,
                     layout[2 * target]);
  g_assert_true (wait_until (map_idle, map, 30));
  double hx, hy;
  instdisc_map_point_position (map, target, &hx, &hy);
  g_assert_cmpfloat (fabs (hx - x) + fabs (hy - y), <, 0.5);
  g_assert_cmpint (instdisc_map_pick (map, x, y), ==, target);
  g_assert_cmpint (instdisc_map_get_hovered (map), ==, target);

  /* gone: the newest layout shows */
  g_signal_emit_by_name (motion, "leave");
  g_assert_false (instdisc_map_is_holding (map));
  g_assert_cmpfloat (instdisc_map_get_layout (map)[2 * target], ==,
                     moved[2 * target]);
  g_assert_true (wait_until (map_idle, map, 30));
  /* the view followed it (nobody moved it): its centre three columns on */
  InstdiscMapView shown;
  g_assert_true (instdisc_map_get_shown_view (map, &shown));
  g_assert_cmpfloat (fabs (shown.cx - (GRID - 1) / 2.0 - 3.0), <, 1e-6);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* the texture's pixel at widget (x, y), as 0..255 RGBA */
static void
pixel_at (GdkTexture *texture, double x, double y, guint8 rgba[4])
{
  int w = gdk_texture_get_width (texture), h = gdk_texture_get_height (texture);
  g_autofree guint8 *px = g_malloc ((gsize) w * h * 4);
  gdk_texture_download (texture, px, w * 4);
  const guint8 *p = px + ((gsize) (int) y * w + (int) x) * 4;
  /* cairo's ARGB32 little-endian: B, G, R, A */
  rgba[0] = p[2];
  rgba[1] = p[1];
  rgba[2] = p[0];
  rgba[3] = p[3];
}

static void
test_map_highlight (void)
{
  float layout[2 * N_GRID];
  int labels[N_GRID];
  for (int i = 0; i < N_GRID; i++)
    labels[i] = 0;
  grid_layout (layout, 0.0);
  GtkWidget *widget = instdisc_map_new ();
  InstdiscMap *map = INSTDISC_MAP (widget);
  GtkWidget *window = show_in_window (widget, 500, 500);
  instdisc_map_set_points (map, layout, labels, N_GRID, 1);
  g_assert_true (wait_until (map_idle, map, 30));
  double fx, fy, ox, oy;
  instdisc_map_point_position (map, 21, &fx, &fy);
  instdisc_map_point_position (map, 250, &ox, &oy);

  /* point 21 found: it keeps its colour, 250 fades */
  const int found[1] = { 21 };
  instdisc_map_set_highlight (map, found, 1);
  g_assert_true (wait_until (map_idle, map, 30));
  g_autoptr (GdkTexture) shot = render_widget (widget);
  guint8 kept[4], faded[4];
  pixel_at (shot, fx, fy, kept);
  pixel_at (shot, ox, oy, faded);
  GdkRGBA c0, c250;
  instdisc_map_get_point_color (map, 21, &c0);
  instdisc_map_get_point_color (map, 250, &c250);
  g_assert_cmpfloat (c0.alpha, ==, 1.0);
  g_assert_cmpfloat (c250.alpha, <, 0.5);
  /* against the window's light background: the found dot is darker and
   * more saturated than the faded one */
  int sat_kept = MAX (kept[0], MAX (kept[1], kept[2]))
                 - MIN (kept[0], MIN (kept[1], kept[2]));
  int sat_faded = MAX (faded[0], MAX (faded[1], faded[2]))
                  - MIN (faded[0], MIN (faded[1], faded[2]));
  g_assert_cmpint (sat_kept, >, sat_faded + 30);

  /* a colouring: slot 1 pure red for point 250 */
  int slots[N_GRID] = { 0 };
  slots[250] = 1;
  const float palette[2][4] = { { 0, 0, 1, 1 }, { 1, 0, 0, 1 } };
  instdisc_map_set_highlight (map, NULL, 0);
  instdisc_map_set_coloring (map, slots, &palette[0][0], 2);
  g_assert_true (wait_until (map_idle, map, 30));
  g_autoptr (GdkTexture) colored = render_widget (widget);
  guint8 red[4], blue[4];
  pixel_at (colored, ox, oy, red);
  pixel_at (colored, fx, fy, blue);
  g_assert_cmpint (red[0], >, red[2] + 80);
  g_assert_cmpint (blue[2], >, blue[0] + 80);
  /* new points: by label again */
  instdisc_map_set_points (map, layout, labels, N_GRID, 1);
  GdkRGBA after, want;
  instdisc_map_get_point_color (map, 250, &after);
  instdisc_map_class_color (0, 1, &want);
  g_assert_true (gdk_rgba_equal (&after, &want));
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_map_behind_dialog (void)
{
  float layout[2 * N_GRID];
  int labels[N_GRID] = { 0 };
  grid_layout (layout, 0.0);
  GtkWidget *widget = instdisc_map_new ();
  InstdiscMap *map = INSTDISC_MAP (widget);
  GtkWidget *window = show_in_window (widget, 500, 500);
  /* the dialog first, then the points: a map that begins behind it */
  GtkWidget *dialog = gtk_window_new ();
  gtk_window_set_transient_for (GTK_WINDOW (dialog), GTK_WINDOW (window));
  gtk_window_set_modal (GTK_WINDOW (dialog), TRUE);
  gtk_window_set_default_size (GTK_WINDOW (dialog), 200, 120);
  gtk_window_present (GTK_WINDOW (dialog));
  spin (0.3);
  instdisc_map_set_points (map, layout, labels, N_GRID, 1);
  g_assert_true (wait_until (map_idle, map, 30));
  g_assert_true (gtk_widget_get_mapped (widget));
  double x, y;
  instdisc_map_point_position (map, 21, &x, &y);
  g_autoptr (GdkTexture) shot = render_widget (widget);
  guint8 px[4];
  pixel_at (shot, x, y, px);
  /* a class colour, not the light background */
  int saturation = MAX (px[0], MAX (px[1], px[2]))
                   - MIN (px[0], MIN (px[1], px[2]));
  g_assert_cmpint (saturation, >, 60);
  /* and what changes meanwhile is drawn too */
  int slots[N_GRID] = { 0 };
  slots[21] = 1;
  const float palette[2][4] = { { 0, 0, 1, 1 }, { 1, 0, 0, 1 } };
  instdisc_map_set_coloring (map, slots, &palette[0][0], 2);
  g_assert_true (wait_until (map_idle, map, 30));
  g_autoptr (GdkTexture) colored = render_widget (widget);
  pixel_at (colored, x, y, px);
  g_assert_cmpint (px[0], >, px[2] + 80);
  gtk_window_destroy (GTK_WINDOW (dialog));
  gtk_window_destroy (GTK_WINDOW (window));
}

/* ---- the embedding view ---- */

static gboolean
label_says (gpointer data)
{
  GtkLabel *label = data;
  const char *want = g_object_get_data (G_OBJECT (label), "want");
  return strstr (gtk_label_get_text (label), want) != NULL;
}

static void
wait_label (GtkLabel *label, const char *want)
{
  g_object_set_data_full (G_OBJECT (label), "want", g_strdup (want), g_free);
  if (!wait_until (label_says, label, 60))
    g_error ("the label says “%s”, not “%s”", gtk_label_get_text (label),
             want);
}

static void
test_embedding_find_color (void)
{
  ensure_run ();
  GtkWidget *view = instdisc_embedding_view_new ();
  GtkWidget *window = show_in_window (view, 1000, 700);
  instdisc_embedding_view_set_run (INSTDISC_EMBEDDING_VIEW (view), run);
  InstdiscMap *map = INSTDISC_MAP (find_map (view));
  g_assert_true (wait_until (map_has_points, map, 60));
  GtkWidget *entry = find_by_type (view, GTK_TYPE_SEARCH_ENTRY);
  g_assert_nonnull (entry);
  /* the label right after the entry */
  GtkLabel *found = GTK_LABEL (gtk_widget_get_next_sibling (entry));

  gtk_editable_set_text (GTK_EDITABLE (entry), "7");
  wait_label (found, "1 point found");
  g_assert_cmpint (instdisc_map_get_selected (map), ==, 7);

  /* "[1" is in the names of rows 1 and 10 to 19 */
  gtk_editable_set_text (GTK_EDITABLE (entry), "[1");
  wait_label (found, "11 points found");
  GdkRGBA c;
  instdisc_map_get_point_color (map, 15, &c);
  g_assert_cmpfloat (c.alpha, ==, 1.0);
  instdisc_map_get_point_color (map, 25, &c);
  g_assert_cmpfloat (c.alpha, <, 0.5);
  gtk_editable_set_text (GTK_EDITABLE (entry), "no such image");
  wait_label (found, "Nothing found");
  gtk_editable_set_text (GTK_EDITABLE (entry), "");
  wait_label (found, "");

  /* wrong neighbour: every point agrees or disagrees, in the two colours */
  GtkDropDown *color = GTK_DROP_DOWN (find_by_type (view, GTK_TYPE_DROP_DOWN));
  gtk_drop_down_set_selected (color, 1);
  g_assert_true (wait_until (embedding_idle, view, 120));
  spin (0.2);
  int agree = 0, disagree = 0;
  for (int i = 0; i < instdisc_map_get_n_points (map); i++)
    {
      instdisc_map_get_point_color (map, i, &c);
      if (c.red > 0.8 && c.green < 0.2)
        disagree++;
      else if (c.blue > c.red)
        agree++;
    }
  g_test_message ("wrong neighbour: %d agree, %d disagree", agree, disagree);
  g_assert_cmpint (agree + disagree, ==, N_IMAGES);
  /* moved needs two snapshots of a training run: said, and by class */
  gtk_drop_down_set_selected (color, 2);
  g_assert_true (wait_until (embedding_idle, view, 60));
  gtk_drop_down_set_selected (color, 0);

  /* shown from elsewhere (the query view's Show on Map): selected and
   * centred */
  instdisc_embedding_view_show_point (INSTDISC_EMBEDDING_VIEW (view), 40);
  g_assert_cmpint (instdisc_map_get_selected (map), ==, 40);
  double x, y;
  instdisc_map_point_position (map, 40, &x, &y);
  g_assert_cmpfloat (fabs (x - gtk_widget_get_width (GTK_WIDGET (map)) / 2.0),
                     <, 1.0);
  g_assert_cmpfloat (fabs (y - gtk_widget_get_height (GTK_WIDGET (map)) / 2.0),
                     <, 1.0);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* whether a label of the view has text in it */
static gboolean
view_says (GtkWidget *view, const char *text)
{
  g_autoptr (GPtrArray) labels = g_ptr_array_new ();
  find_all_by_type (view, GTK_TYPE_LABEL, labels);
  for (guint i = 0; i < labels->len; i++)
    if (strstr (gtk_label_get_text (labels->pdata[i]), text))
      return TRUE;
  return FALSE;
}

static gboolean
same_rgb (const GdkRGBA *a, const GdkRGBA *b)
{
  return fabs (a->red - b->red) < 1e-3 && fabs (a->green - b->green) < 1e-3
         && fabs (a->blue - b->blue) < 1e-3;
}

static void
test_embedding_moved (void)
{
  ensure_run ();
  const Dataset *train = instdisc_run_get_train (run);
  enum { DIM = 8 };
  const int n = train->n, still = n / 4;
  /* before: seeded unit rows; after: the first quarter the same bytes,
   * the others turned towards another axis by more the later the row */
  g_autofree float *before = g_new (float, (gsize) n * DIM);
  g_autofree float *after = g_new (float, (gsize) n * DIM);
  g_autoptr (GRand) rand = g_rand_new_with_seed (11);
  for (int i = 0; i < n; i++)
    {
      float *b = before + (gsize) i * DIM, *a = after + (gsize) i * DIM;
      double norm = 0.0;
      for (int k = 0; k < DIM; k++)
        {
          b[k] = (float) g_rand_double_range (rand, -1.0, 1.0);
          norm += b[k] * b[k];
        }
      for (int k = 0; k < DIM; k++)
        b[k] /= (float) sqrt (norm);
      memcpy (a, b, sizeof (float) * DIM);
      if (i < still)
        continue;
      a[i % DIM] += 0.05f + 0.5f * (i - still) / (n - still);
      norm = 0.0;
      for (int k = 0; k < DIM; k++)
        norm += a[k] * a[k];
      for (int k = 0; k < DIM; k++)
        a[k] /= (float) sqrt (norm);
    }
  GtkWidget *view = instdisc_embedding_view_new ();
  GtkWidget *window = show_in_window (view, 1000, 700);
  InstdiscMap *map = INSTDISC_MAP (find_map (view));
  g_autoptr (InstdiscSnapshot) first
    = instdisc_snapshot_new (100, n, DIM, before, train);
  instdisc_embedding_view_show_snapshot (INSTDISC_EMBEDDING_VIEW (view),
                                         first);
  g_assert_true (wait_until (map_has_points, map, 60));
  g_assert_true (wait_until (embedding_idle, view, 60));
  GtkDropDown *color = GTK_DROP_DOWN (find_by_type (view, GTK_TYPE_DROP_DOWN));
  gtk_drop_down_set_selected (color, 2);
  g_assert_true (wait_until (embedding_idle, view, 60));
  g_assert_true (view_says (view, "Moves show from the second snapshot"));

  g_autoptr (InstdiscSnapshot) second
    = instdisc_snapshot_new (200, n, DIM, after, train);
  instdisc_embedding_view_show_snapshot (INSTDISC_EMBEDDING_VIEW (view),
                                         second);
  spin (0.2);
  g_assert_true (wait_until (embedding_idle, view, 60));
  spin (0.2);
  g_autofree char *said = g_strdup_printf (
      "%d (%.1f%%) were not updated", still, 100.0 * still / n);
  g_assert_true (view_says (view, "From step 100 to 200"));
  g_assert_true (view_says (view, said));
  GdkRGBA not_updated, c;
  instdisc_map_get_point_color (map, 0, &not_updated);
  for (int i = 0; i < n; i++)
    {
      instdisc_map_get_point_color (map, i, &c);
      g_assert_cmpint (same_rgb (&c, &not_updated), ==, i < still);
    }
  GdkRGBA least, most;
  instdisc_map_get_point_color (map, still, &least);
  instdisc_map_get_point_color (map, n - 1, &most);
  g_assert_false (same_rgb (&least, &most));
  gtk_window_destroy (GTK_WINDOW (window));
}

/* ---- a query ahead of a whole set ---- */

/* one of two embeddings racing: when it finished, and what it gave */
typedef struct
{
  int *finished;              /* how many of the two have (shared) */
  int place;                  /* 1: finished first */
  GBytes *features;
} Lane;

static void
lane_embedded (GObject *source, GAsyncResult *result, gpointer data)
{
  Lane *lane = data;
  g_autoptr (GError) error = NULL;
  lane->features = instdisc_run_embed_finish (INSTDISC_RUN (source), result,
                                              &error);
  g_assert_no_error (error);
  lane->place = ++*lane->finished;
}

static gboolean
both_finished (gpointer data)
{
  return *(int *) data == 2;
}

static void
test_query_ahead_of_set (void)
{
  ensure_run ();
  const Dataset *train = instdisc_run_get_train (run);
  enum { N_SET = 3000, QUERY_ROW = 3 };
  gsize image_bytes = (gsize) train->channels * train->height * train->width;
  guint8 *set = g_malloc (image_bytes * N_SET);
  for (int i = 0; i < N_SET; i++)
    g_assert_true (dataset_get_image (train, i % train->n,
                                      set + image_bytes * i, NULL));
  g_autoptr (GBytes) set_pixels = g_bytes_new_take (set, image_bytes * N_SET);
  g_autoptr (GBytes) query_pixels = g_bytes_new (
      set + image_bytes * QUERY_ROW, image_bytes);
  int finished = 0;
  Lane set_lane = { &finished }, query_lane = { &finished };
  instdisc_run_embed_async (run, set_pixels, N_SET, NULL, lane_embedded,
                            &set_lane);
  /* the set's worker takes the network and its first batches */
  spin (0.3);
  g_assert_cmpint (finished, ==, 0);
  instdisc_run_embed_async (run, query_pixels, 1, NULL, lane_embedded,
                            &query_lane);
  g_assert_true (wait_until (both_finished, &finished, 300));
  g_assert_cmpint (query_lane.place, ==, 1);
  g_assert_cmpint (set_lane.place, ==, 2);
  /* one network for both: the query's row is the set's of that image */
  gsize size;
  const float *query = g_bytes_get_data (query_lane.features, &size);
  const float *rows = g_bytes_get_data (set_lane.features, NULL);
  int dim = (int) (size / sizeof (float));
  for (int d = 0; d < dim; d++)
    g_assert_cmpfloat_with_epsilon (query[d], rows[QUERY_ROW * dim + d],
                                    1e-4);
  g_bytes_unref (query_lane.features);
  g_bytes_unref (set_lane.features);
}

/* ---- the query view's rows ---- */

static gboolean
row_calibrated (gpointer data)
{
  return !isnan (instdisc_query_view_get_row_novelty (data, 0));
}

static void
test_query_row (void)
{
  ensure_run ();
  GtkWidget *widget = instdisc_query_view_new ();
  InstdiscQueryView *view = INSTDISC_QUERY_VIEW (widget);
  GtkWidget *window = show_in_window (widget, 1100, 450);
  instdisc_query_view_set_run (view, run);
  instdisc_query_view_query_test_image (view, 5);
  g_assert_true (wait_until (query_settled, view, 120));
  g_assert_cmpint (instdisc_query_view_get_n_rows (view), ==, 1);
  const char *caption = instdisc_query_view_get_row_caption (view, 0);
  g_assert_true (g_str_has_prefix (caption, "Step 0 · 10th nearest 0."));
  /* judged once the calibration of that snapshot arrives */
  g_assert_true (wait_until (row_calibrated, view, 120));
  double rank = instdisc_query_view_get_row_novelty (view, 0);
  g_assert_cmpfloat (rank, >=, 0.0);
  g_assert_cmpfloat (rank, <=, 1.0);
  caption = instdisc_query_view_get_row_caption (view, 0);
  g_assert_nonnull (strstr (caption, "test images"));

  /* a neighbour's "Query with This Image", as its menu activates it */
  GtkWidget *cards = instdisc_query_view_get_row_neighbours (view, 0);
  int first = GPOINTER_TO_INT (g_object_get_data (
      G_OBJECT (gtk_widget_get_first_child (cards)), "index"));
  g_assert_true (gtk_widget_activate_action (widget,
                                             "query.query-training-image",
                                             "i", first));
  g_assert_true (wait_until (query_settled, view, 120));
  g_assert_cmpint (instdisc_query_view_get_n_rows (view), ==, 2);
  /* the new row's query card: its full name on hover */
  cards = instdisc_query_view_get_row_neighbours (view, 0);
  GtkWidget *card = gtk_widget_get_first_child (gtk_widget_get_parent (cards));
  g_autofree char *want = dataset_get_item_name (instdisc_run_get_train (run),
                                                 first);
  g_assert_cmpstr (gtk_widget_get_tooltip_text (card), ==, want);
  /* a calibrated snapshot judges the next rows at once */
  g_assert_true (row_calibrated (view));

  /* more rows than fit, scrolled down: the next one scrolls into view */
  for (int i = 0; i < 4; i++)
    instdisc_query_view_query_test_image (view, 10 + i);
  g_assert_true (wait_until (query_settled, view, 120));
  spin (0.3);
  GtkScrolledWindow *scroller
    = GTK_SCROLLED_WINDOW (find_by_type (widget, GTK_TYPE_SCROLLED_WINDOW));
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (scroller);
  g_assert_cmpfloat (gtk_adjustment_get_upper (adj), >,
                     gtk_adjustment_get_page_size (adj));
  gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj));
  g_assert_cmpfloat (gtk_adjustment_get_value (adj), >, 0.0);
  instdisc_query_view_query_test_image (view, 20);
  g_assert_true (wait_until (query_settled, view, 120));
  g_assert_cmpfloat (gtk_adjustment_get_value (adj), ==, 0.0);
  spin (0.3);
  g_autoptr (GdkTexture) shot = render_widget (widget);
  save_png (shot, "instdisc-query-rows.png");
  gtk_window_destroy (GTK_WINDOW (window));
}

/* ---- help ---- */

static void
test_help_html (void)
{
  g_assert_cmpint (instdisc_help_choose (FALSE, TRUE), ==,
                   INSTDISC_HELP_YELP);
  g_assert_cmpint (instdisc_help_choose (FALSE, FALSE), ==,
                   INSTDISC_HELP_HTML);
  g_assert_cmpint (instdisc_help_choose (TRUE, TRUE), ==, INSTDISC_HELP_HTML);
  /* this test runs from the build tree, as the explorer does there */
  g_assert_true (instdisc_help_is_uninstalled ());
  g_autofree char *uri = instdisc_help_get_html_uri ();
  g_assert_nonnull (uri);
  g_autofree char *path = g_filename_from_uri (uri, NULL, NULL);
  g_assert_true (g_str_has_suffix (path, "/help/html/C/index.html"));
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *query_page = g_build_filename (dir, "query-image.html",
                                                  NULL);
  g_assert_true (g_file_test (query_page, G_FILE_TEST_IS_REGULAR));
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  g_autoptr (GError) error = NULL;
  workdir = g_dir_make_tmp ("instdisc-gui-map-query-XXXXXX", &error);
  g_assert_no_error (error);
  g_test_add_func ("/gui-explore/formats/filter", test_filter);
  g_test_add_func ("/gui-explore/query/webp", test_query_webp);
  g_test_add_func ("/gui-explore/help/html", test_help_html);
  g_test_add_func ("/gui-explore/map/hold", test_map_hold);
  g_test_add_func ("/gui-explore/map/highlight", test_map_highlight);
  g_test_add_func ("/gui-explore/map/behind-dialog", test_map_behind_dialog);
  g_test_add_func ("/gui-explore/embedding/find-color",
                   test_embedding_find_color);
  g_test_add_func ("/gui-explore/embedding/moved", test_embedding_moved);
  g_test_add_func ("/gui-explore/query/ahead-of-set",
                   test_query_ahead_of_set);
  g_test_add_func ("/gui-explore/query/row", test_query_row);
  int status = g_test_run ();
  if (run)
    instdisc_run_stop (run);
  g_clear_object (&run);
  g_autofree char *rm = g_strdup_printf ("rm -rf '%s'", workdir);
  if (system (rm) != 0)
    g_warning ("could not remove %s", workdir);
  return status;
}

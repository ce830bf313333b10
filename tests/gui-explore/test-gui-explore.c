/* test-gui-explore.c: the explorer's exploring views, drawn and driven
 * headless under Xvfb. Each check can fail:
 *  - /gui-explore/map/render: a constructed layout of four class clusters
 *    rendered to a PNG shows each class's colour where its cluster is, the
 *    empty middle stays empty, and hovering finds a point of the cluster;
 *  - /gui-explore/map/renderer: the offscreen renderer draws three known
 *    points into known pixels (the point's colour under it, background
 *    further than a dot from all), a pan by (13, 7) moves every pixel by
 *    (13, 7), a zoom at scale 2 puts the points where the view says;
 *  - /gui-explore/map/density: a dense cluster's core is more opaque than
 *    its fringe, and two classes over one another mix;
 *  - /gui-explore/map/nearest: the grid index finds the same nearest point
 *    as a search through all of them;
 *  - /gui-explore/map/pan-zoom: the widget's frame right after a pan, and
 *    after the pan's render, is the first frame moved by the pan; zooming
 *    keeps the point under the pointer; hovering finds it;
 *  - /gui-explore/map/million: 1,000,000 points are drawn (each cluster's
 *    colour at its centre), hovered, and panned (times reported only);
 *  - /gui-explore/query/drop: a PNG of another size and colour dropped on
 *    the query view (its GtkDropTarget's "drop") is embedded by a real
 *    run's network and gets a row of ten neighbours; a test image's row
 *    marks neighbours of its class;
 *  - /gui-explore/embedding/run: the same run's snapshot becomes a PCA map
 *    of every bank row, and t-SNE replaces it and finishes;
 *  - /gui-explore/retrievals/order: rows of a hand-made bank in the known
 *    best and worst order. */
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#include "instdisc-embedding-view.h"
#include "instdisc-map.h"
#include "instdisc-query-view.h"
#include "instdisc-retrievals-view.h"
#include "instdisc-run.h"
#include "instdisc-thumb.h"

#include "explore-testutil.h"

/* ---- the map ---- */

static gboolean
map_rendered (gpointer data)
{
  return !instdisc_map_is_rendering (data);
}


enum { PER_CLUSTER = 300, N_CLUSTERS = 4 };
static const double cluster_at[N_CLUSTERS][2] = {
  { -1, 1 }, { 1, 1 }, { -1, -1 }, { 1, -1 },
};

static void
test_map_render (void)
{
  int n = PER_CLUSTER * N_CLUSTERS;
  g_autofree float *layout = g_new (float, 2 * n);
  g_autofree int *labels = g_new (int, n);
  g_autoptr (GRand) rand = g_rand_new_with_seed (1);
  for (int i = 0; i < n; i++)
    {
      int c = i % N_CLUSTERS;
      labels[i] = c;
      layout[2 * i] = cluster_at[c][0] + 0.08 * (g_rand_double (rand) - 0.5);
      layout[2 * i + 1]
        = cluster_at[c][1] + 0.08 * (g_rand_double (rand) - 0.5);
    }
  GtkWidget *map = instdisc_map_new ();
  GtkWidget *window = show_in_window (map, 400, 300);
  instdisc_map_set_points (INSTDISC_MAP (map), layout, labels, n, N_CLUSTERS);
  g_assert_true (wait_until (map_rendered, map, 30));
  g_autoptr (GdkTexture) texture = render_widget (map);
  save_png (texture, "instdisc-map-render.png");
  int w = gdk_texture_get_width (texture), h = gdk_texture_get_height (texture);
  g_autofree guint8 *px = g_malloc ((gsize) w * h * 4);
  gdk_texture_download (texture, px, w * 4);
  g_test_message ("map %dx%d drawn in %.2f ms", w, h,
                  instdisc_map_get_render_ms (INSTDISC_MAP (map)));

  for (int c = 0; c < N_CLUSTERS; c++)
    {
      /* the first point of cluster c is near its centre */
      double x, y;
      instdisc_map_point_position (INSTDISC_MAP (map), c, &x, &y);
      /* y up: the clusters at +1 are in the upper half */
      if (cluster_at[c][1] > 0)
        g_assert_cmpfloat (y, <, h / 2.0);
      else
        g_assert_cmpfloat (y, >, h / 2.0);
      if (cluster_at[c][0] > 0)
        g_assert_cmpfloat (x, >, w / 2.0);
      else
        g_assert_cmpfloat (x, <, w / 2.0);
      GdkRGBA want;
      instdisc_map_class_color (c, N_CLUSTERS, &want);
      /* the most opaque pixel within 3 pixels has the class's colour */
      const guint8 *best = NULL;
      for (int dy = -3; dy <= 3; dy++)
        for (int dx = -3; dx <= 3; dx++)
          {
            int xx = (int) x + dx, yy = (int) y + dy;
            const guint8 *p = px + ((gsize) yy * w + xx) * 4;
            if (!best || p[3] > best[3])
              best = p;
          }
      /* B, G, R, A premultiplied */
      double a = best[3] / 255.0;
      double r = best[2] / 255.0 / a, g = best[1] / 255.0 / a,
             b = best[0] / 255.0 / a;
      g_test_message ("class %d at (%.0f, %.0f): rgb %.2f %.2f %.2f alpha "
                      "%.2f, expected %.2f %.2f %.2f", c, x, y, r, g, b, a,
                      want.red, want.green, want.blue);
      g_assert_cmpfloat (a, >, 0.8);
      g_assert_cmpfloat (fabs (r - want.red), <, 0.08);
      g_assert_cmpfloat (fabs (g - want.green), <, 0.08);
      g_assert_cmpfloat (fabs (b - want.blue), <, 0.08);

      /* hovering there finds a point of that cluster */
      instdisc_map_hover (INSTDISC_MAP (map), x, y);
      int hovered = instdisc_map_get_hovered (INSTDISC_MAP (map));
      g_assert_cmpint (hovered, >=, 0);
      g_assert_cmpint (labels[hovered], ==, c);
    }
  /* the middle of the map, between the clusters, is empty */
  const guint8 *middle = px + ((gsize) (h / 2) * w + w / 2) * 4;
  g_assert_cmpint (middle[3], ==, 0);
  g_assert_cmpint (instdisc_map_pick (INSTDISC_MAP (map), w / 2.0, h / 2.0),
                   ==, -1);

  /* a selection draws rings (dark pixels) around the neighbours */
  int neighbours[3] = { 4, 8, 12 };   /* cluster 0 points */
  instdisc_map_set_selection (INSTDISC_MAP (map), 0, neighbours, 3);
  g_assert_cmpint (instdisc_map_get_selected (INSTDISC_MAP (map)), ==, 0);
  g_autoptr (GdkTexture) selected = render_widget (map);
  save_png (selected, "instdisc-map-selected.png");
  gtk_window_destroy (GTK_WINDOW (window));
}

/* ---- the renderer, without a widget ---- */

static InstdiscMapPoints *
points_new (const float *layout, const int *labels, int n, int n_classes)
{
  g_autoptr (GBytes) l = g_bytes_new (layout, sizeof (float) * 2 * n);
  g_autoptr (GBytes) c = labels ? g_bytes_new (labels, sizeof (int) * n)
                                : NULL;
  return instdisc_map_points_new (l, c, n_classes);
}

static const guint8 *
image_pixel (const InstdiscMapImage *image, int x, int y)
{
  g_assert_true (x >= 0 && x < image->width && y >= 0 && y < image->height);
  return (const guint8 *) (image->pixels + (gsize) y * image->width + x);
}

/* the pixel under each point has the point's colour; every pixel further
 * than a dot from all points is background */
static void
check_known_pixels (const InstdiscMapImage *image, const float *layout,
                    const int *labels, int n, int n_classes)
{
  for (int i = 0; i < n; i++)
    {
      double x, y;
      instdisc_map_view_to_widget (&image->view, layout[2 * i],
                                   layout[2 * i + 1], &x, &y);
      const guint8 *p = image_pixel (image, (int) floor (x), (int) floor (y));
      GdkRGBA want;
      instdisc_map_class_color (labels[i], n_classes, &want);
      double a = p[3] / 255.0;
      g_test_message ("point %d at (%.1f, %.1f): B G R A %d %d %d %d", i, x,
                      y, p[0], p[1], p[2], p[3]);
      g_assert_cmpfloat (a, >, 0.8);
      g_assert_cmpfloat (fabs (p[2] / 255.0 / a - want.red), <, 0.03);
      g_assert_cmpfloat (fabs (p[1] / 255.0 / a - want.green), <, 0.03);
      g_assert_cmpfloat (fabs (p[0] / 255.0 / a - want.blue), <, 0.03);
    }
  double reach = image->dot_radius + 1.5;
  int background = 0;
  for (int y = 0; y < image->height; y++)
    for (int x = 0; x < image->width; x++)
      {
        gboolean near = FALSE;
        for (int i = 0; i < n && !near; i++)
          {
            double px, py;
            instdisc_map_view_to_widget (&image->view, layout[2 * i],
                                         layout[2 * i + 1], &px, &py);
            near = hypot (x + 0.5 - px, y + 0.5 - py) <= reach;
          }
        if (!near)
          {
            g_assert_cmpuint (image->pixels[(gsize) y * image->width + x], ==,
                              0);
            background++;
          }
      }
  g_assert_cmpint (background, >, image->width * image->height / 2);
}

static void
test_map_renderer (void)
{
  /* three points placed on pixel centres of a 100 x 80 view at zoom 10:
   * pixels (20, 30), (70, 50) and (50, 10) */
  const float layout[6] = { -2.95f, 0.95f, 2.05f, -1.05f, 0.05f, 2.95f };
  const int labels[3] = { 0, 1, -1 };
  g_autoptr (InstdiscMapPoints) points = points_new (layout, labels, 3, 2);
  InstdiscMapView view = { 0.0, 0.0, 10.0, 100, 80, 1 };
  g_autoptr (InstdiscMapImage) image = instdisc_map_render (points, &view);
  g_assert_cmpint (image->width, ==, 100);
  g_assert_cmpint (image->height, ==, 80);
  g_assert_cmpint (image->n_visible, ==, 3);
  check_known_pixels (image, layout, labels, 3, 2);
  /* (20, 30) exactly: the first point's pixel */
  g_assert_cmpint (image_pixel (image, 20, 30)[3], >, 200);
  g_assert_cmpint (image_pixel (image, 45, 40)[3], ==, 0);

  /* a pan by (13, 7) pixels, as instdisc_map_pan makes it: every pixel
   * moves by (13, 7) */
  InstdiscMapView panned = view;
  panned.cx -= 13 / view.zoom;
  panned.cy += 7 / view.zoom;
  g_autoptr (InstdiscMapImage) moved = instdisc_map_render (points, &panned);
  check_known_pixels (moved, layout, labels, 3, 2);
  int compared = 0;
  for (int y = 0; y + 7 < 80; y++)
    for (int x = 0; x + 13 < 100; x++)
      {
        g_assert_cmphex (moved->pixels[(y + 7) * 100 + x + 13], ==,
                         image->pixels[y * 100 + x]);
        compared++;
      }
  g_assert_cmpint (compared, ==, 73 * 87);

  /* zoomed in 1.8 times about another centre, and at scale 2: the points
   * are where the view puts them */
  InstdiscMapView zoomed = { -0.45, 0.0, 18.0, 120, 90, 2 };
  g_autoptr (InstdiscMapImage) z = instdisc_map_render (points, &zoomed);
  g_assert_cmpint (z->width, ==, 240);
  g_assert_cmpint (z->n_visible, ==, 2);   /* (50, 10) is off the top */
  for (int i = 0; i < 2; i++)
    {
      double x, y;
      instdisc_map_view_to_widget (&zoomed, layout[2 * i], layout[2 * i + 1],
                                   &x, &y);
      const guint8 *p = image_pixel (z, (int) floor (2 * x),
                                     (int) floor (2 * y));
      g_assert_cmpint (p[3], >, 200);
    }

  /* no point in view: all background */
  InstdiscMapView away = { 100.0, 100.0, 10.0, 50, 50, 1 };
  g_autoptr (InstdiscMapImage) empty = instdisc_map_render (points, &away);
  g_assert_cmpint (empty->n_visible, ==, 0);
  for (int i = 0; i < 50 * 50; i++)
    g_assert_cmpuint (empty->pixels[i], ==, 0);
}

/* A dense cluster is drawn darker in its core than at its fringe, and
 * overlapping classes mix instead of the last one hiding the first. */
static void
test_map_density (void)
{
  int n = 200000;
  g_autofree float *layout = g_new (float, 2 * n);
  g_autofree int *labels = g_new (int, n);
  g_autoptr (GRand) rand = g_rand_new_with_seed (3);
  for (int i = 0; i < n; i++)
    {
      double u = g_rand_double (rand), v = g_rand_double (rand);
      double r = sqrt (-2 * log (MAX (u, 1e-12)));
      layout[2 * i] = (float) (r * cos (2 * G_PI * v));
      layout[2 * i + 1] = (float) (r * sin (2 * G_PI * v));
      labels[i] = i % 2;   /* two classes over one another */
    }
  g_autoptr (InstdiscMapPoints) points = points_new (layout, labels, n, 2);
  InstdiscMapView view = { 0.0, 0.0, 40.0, 400, 400, 1 };
  g_autoptr (InstdiscMapImage) image = instdisc_map_render (points, &view);
  g_test_message ("%d points in view: dots of radius %.1f, %.1f ms",
                  image->n_visible, image->dot_radius, image->ms);
  g_assert_cmpfloat (image->dot_radius, <=, 1.4);
  /* the core (within 0.25 sigma) against the fringe (2.5 to 3 sigma) */
  double core = 0, fringe = 0;
  int n_core = 0, n_fringe = 0;
  for (int y = 0; y < 400; y++)
    for (int x = 0; x < 400; x++)
      {
        double r = hypot (x + 0.5 - 200, y + 0.5 - 200) / 40.0;
        const guint8 *p = image_pixel (image, x, y);
        if (r < 0.25)
          core += p[3], n_core++;
        else if (r > 2.5 && r < 3.0)
          fringe += p[3], n_fringe++;
      }
  core /= n_core;
  fringe /= n_fringe;
  g_test_message ("mean alpha: core %.0f, fringe %.0f", core, fringe);
  g_assert_cmpfloat (core, >, 240);
  g_assert_cmpfloat (fringe, <, 0.7 * core);
  /* the core's colour is the two classes' mean */
  GdkRGBA c0, c1;
  instdisc_map_class_color (0, 2, &c0);
  instdisc_map_class_color (1, 2, &c1);
  const guint8 *p = image_pixel (image, 200, 200);
  double a = p[3] / 255.0;
  g_assert_cmpfloat (fabs (p[2] / 255.0 / a - (c0.red + c1.red) / 2), <, 0.1);
  g_assert_cmpfloat (fabs (p[0] / 255.0 / a - (c0.blue + c1.blue) / 2), <,
                     0.1);
}

/* The grid index finds the same nearest point as looking at every one. */
static void
test_map_nearest (void)
{
  int n = 20000;
  g_autofree float *layout = g_new (float, 2 * n);
  g_autoptr (GRand) rand = g_rand_new_with_seed (4);
  for (int i = 0; i < n; i++)
    {
      /* uneven: most in a small square, the rest spread wide */
      double s = i % 10 ? 0.1 : 3.0;
      layout[2 * i] = (float) (s * (g_rand_double (rand) - 0.5));
      layout[2 * i + 1] = (float) (s * (g_rand_double (rand) - 0.5));
    }
  layout[2 * 17] = layout[2 * 5];   /* two points at one place */
  layout[2 * 17 + 1] = layout[2 * 5 + 1];
  g_autoptr (InstdiscMapPoints) points = points_new (layout, NULL, n, 0);
  int found = 0;
  for (int q = 0; q < 2000; q++)
    {
      double x = 4.0 * (g_rand_double (rand) - 0.5);
      double y = 4.0 * (g_rand_double (rand) - 0.5);
      if (q < 1000)
        x *= 0.05, y *= 0.05;
      double radius = q % 3 == 0 ? 0.001 : q % 3 == 1 ? 0.05 : 1.0;
      int want = -1;
      double best = radius * radius;
      for (int i = 0; i < n; i++)
        {
          double dx = layout[2 * i] - x, dy = layout[2 * i + 1] - y;
          if (dx * dx + dy * dy < best
              || (dx * dx + dy * dy == best && want < 0))
            {
              best = dx * dx + dy * dy;
              want = i;
            }
        }
      int got = instdisc_map_points_nearest (points, x, y, radius);
      g_assert_cmpint (got, ==, want);
      found += got >= 0;
    }
  g_assert_cmpint (found, >, 500);
  /* of two points at one place, the lower index */
  g_assert_cmpint (instdisc_map_points_nearest (points, layout[10],
                                                layout[11], 1e-3),
                   ==, 5);
  g_assert_cmpint (instdisc_map_points_nearest (points, 50.0, 50.0, 1.0), ==,
                   -1);
}

/* ---- the widget: pan and zoom, a million points ---- */

static guint8 *
download (GdkTexture *texture)
{
  int w = gdk_texture_get_width (texture), h = gdk_texture_get_height (texture);
  guint8 *px = g_malloc ((gsize) w * h * 4);
  gdk_texture_download (texture, px, w * 4);
  return px;
}

/* ten Gaussian clusters (sigma 0.5) on a circle of radius 4 */
static void
ten_clusters (float *layout, int *labels, int n, guint32 seed)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  for (int i = 0; i < n; i++)
    {
      int c = i % 10;
      double u = g_rand_double (rand), v = g_rand_double (rand);
      double r = 0.5 * sqrt (-2 * log (MAX (u, 1e-12)));
      labels[i] = c;
      layout[2 * i] = (float) (4 * cos (c * 0.628) + r * cos (2 * G_PI * v));
      layout[2 * i + 1]
        = (float) (4 * sin (c * 0.628) + r * sin (2 * G_PI * v));
    }
}

/* pixels of b equal those of a moved by (dx, dy), where both have them;
 * returns the share that differ */
static double
shifted_difference (const guint8 *a, const guint8 *b, int w, int h, int dx,
                    int dy)
{
  gint64 differ = 0, all = 0;
  for (int y = MAX (0, -dy); y < h && y + dy < h; y++)
    for (int x = MAX (0, -dx); x < w && x + dx < w; x++)
      {
        const guint8 *p = a + ((gsize) y * w + x) * 4;
        const guint8 *q = b + ((gsize) (y + dy) * w + x + dx) * 4;
        differ += abs (p[3] - q[3]) > 8;
        all++;
      }
  return (double) differ / MAX (all, 1);
}

static void
test_map_pan_zoom (void)
{
  int n = 5000;
  g_autofree float *layout = g_new (float, 2 * n);
  g_autofree int *labels = g_new (int, n);
  ten_clusters (layout, labels, n, 6);
  GtkWidget *map = instdisc_map_new ();
  GtkWidget *window = show_in_window (map, 500, 400);
  instdisc_map_set_points (INSTDISC_MAP (map), layout, labels, n, 10);
  g_assert_true (wait_until (map_rendered, map, 30));
  g_autoptr (GdkTexture) before = render_widget (map);
  int w = gdk_texture_get_width (before), h = gdk_texture_get_height (before);
  g_autofree guint8 *a = download (before);

  /* the frame right after a pan shows the points moved, whether from the
   * last image moved or from a new render */
  InstdiscMapView view0, view1;
  instdisc_map_get_view (INSTDISC_MAP (map), &view0);
  instdisc_map_pan (INSTDISC_MAP (map), 37, -21);
  instdisc_map_get_view (INSTDISC_MAP (map), &view1);
  g_assert_cmpfloat (fabs ((view0.cx - view1.cx) * view0.zoom - 37), <, 1e-6);
  g_assert_cmpfloat (fabs ((view1.cy - view0.cy) * view0.zoom + 21), <, 1e-6);
  guint renders = instdisc_map_get_n_renders (INSTDISC_MAP (map));
  g_autoptr (GdkTexture) right_after = render_widget (map);
  g_autofree guint8 *b = download (right_after);
  double d1 = shifted_difference (a, b, w, h, 37, -21);
  g_assert_true (wait_until (map_rendered, map, 30));
  g_assert_cmpuint (instdisc_map_get_n_renders (INSTDISC_MAP (map)), >,
                    renders);
  InstdiscMapView shown;
  g_assert_true (instdisc_map_get_shown_view (INSTDISC_MAP (map), &shown));
  g_assert_cmpfloat (shown.cx, ==, view1.cx);
  g_autoptr (GdkTexture) rendered = render_widget (map);
  save_png (rendered, "instdisc-map-panned.png");
  g_autofree guint8 *c = download (rendered);
  double d2 = shifted_difference (a, c, w, h, 37, -21);
  g_test_message ("pixels differing from the first frame moved by (37, "
                  "-21): %.4f right after the pan, %.4f after its render",
                  d1, d2);
  g_assert_cmpfloat (d1, <, 0.002);
  g_assert_cmpfloat (d2, <, 0.002);

  /* zooming about a point keeps that point where it is; hovering still
   * finds the points (in the image shown) */
  double x0, y0, x1, y1;
  instdisc_map_point_position (INSTDISC_MAP (map), 3, &x0, &y0);
  instdisc_map_zoom_at (INSTDISC_MAP (map), x0, y0, 2.5);
  instdisc_map_point_position (INSTDISC_MAP (map), 3, &x1, &y1);
  g_assert_cmpfloat (fabs (x1 - x0) + fabs (y1 - y0), <, 1e-6);
  g_assert_true (wait_until (map_rendered, map, 30));
  instdisc_map_hover (INSTDISC_MAP (map), x1, y1);
  int hovered = instdisc_map_get_hovered (INSTDISC_MAP (map));
  g_assert_cmpint (hovered, >=, 0);
  g_assert_cmpint (labels[hovered], ==, labels[3]);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
on_after_paint (GdkFrameClock *clock, gboolean *painted)
{
  *painted = TRUE;
}

static gboolean
is_true (gpointer data)
{
  return *(gboolean *) data;
}

/* A million points in the widget: drawn, hovered, panned. Times are
 * reported, never asserted (bench/bench-map.c measures). */
static void
test_map_million (void)
{
  int n = 1000000;
  g_autofree float *layout = g_new (float, 2 * (gsize) n);
  g_autofree int *labels = g_new (int, n);
  ten_clusters (layout, labels, n, 2);
  GtkWidget *map = instdisc_map_new ();
  GtkWidget *window = show_in_window (map, 800, 600);
  gint64 start = g_get_monotonic_time ();
  instdisc_map_set_points (INSTDISC_MAP (map), layout, labels, n, 10);
  double set_ms = (g_get_monotonic_time () - start) / 1000.0;
  g_assert_true (wait_until (map_rendered, map, 120));
  g_test_message ("1,000,000 points: set_points returned in %.1f ms, the "
                  "first render (index and image) took %.0f ms on the "
                  "worker", set_ms, instdisc_map_get_render_ms (
                    INSTDISC_MAP (map)));
  g_autoptr (GdkTexture) texture = render_widget (map);
  save_png (texture, "instdisc-map-million.png");
  int w = gdk_texture_get_width (texture), h = gdk_texture_get_height (texture);
  g_autofree guint8 *px = download (texture);
  for (int c = 0; c < 10; c++)
    {
      double x, y;
      InstdiscMapView view;
      instdisc_map_get_view (INSTDISC_MAP (map), &view);
      instdisc_map_view_to_widget (&view, 4 * cos (c * 0.628),
                                   4 * sin (c * 0.628), &x, &y);
      g_assert_true (x >= 0 && x < w && y >= 0 && y < h);
      const guint8 *p = px + ((gsize) y * w + (int) x) * 4;
      GdkRGBA want;
      instdisc_map_class_color (c, 10, &want);
      double a = p[3] / 255.0;
      g_assert_cmpfloat (a, >, 0.9);
      g_assert_cmpfloat (fabs (p[2] / 255.0 / a - want.red), <, 0.08);
      g_assert_cmpfloat (fabs (p[1] / 255.0 / a - want.green), <, 0.08);
      instdisc_map_hover (INSTDISC_MAP (map), x, y);
      int hovered = instdisc_map_get_hovered (INSTDISC_MAP (map));
      g_assert_cmpint (hovered, >=, 0);
      g_assert_cmpint (labels[hovered], ==, c);
    }

  /* a pan: its frame comes before the new render does */
  GdkFrameClock *clock = gtk_widget_get_frame_clock (map);
  gboolean painted = FALSE;
  gulong handler = g_signal_connect (clock, "after-paint",
                                     G_CALLBACK (on_after_paint), &painted);
  start = g_get_monotonic_time ();
  instdisc_map_pan (INSTDISC_MAP (map), 40, 25);
  g_assert_true (wait_until (is_true, &painted, 30));
  double frame_ms = (g_get_monotonic_time () - start) / 1000.0;
  g_assert_true (wait_until (map_rendered, map, 120));
  double swap_ms = (g_get_monotonic_time () - start) / 1000.0;
  g_signal_handler_disconnect (clock, handler);
  g_test_message ("pan: first frame %.1f ms, the new render shown after "
                  "%.0f ms (%.0f ms on the worker)", frame_ms, swap_ms,
                  instdisc_map_get_render_ms (INSTDISC_MAP (map)));
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_query_drop (void)
{
  ensure_run ();
  /* RGB, 40 x 30: neither the training channels (grey) nor size (28) */
  g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8,
                                                 40, 30);
  guint8 *p = gdk_pixbuf_get_pixels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  for (int y = 0; y < 30; y++)
    for (int x = 0; x < 40; x++)
      {
        guint8 v = x < 20 ? 220 : 30;
        p[y * stride + 3 * x] = v;
        p[y * stride + 3 * x + 1] = v;
        p[y * stride + 3 * x + 2] = v / 2;
      }
  g_autofree char *png = work_file ("query.png");
  g_autoptr (GError) error = NULL;
  g_assert_true (gdk_pixbuf_save (pixbuf, png, "png", &error, NULL));

  GtkWidget *view = instdisc_query_view_new ();
  GtkWidget *window = show_in_window (view, 1100, 500);
  instdisc_query_view_set_run (INSTDISC_QUERY_VIEW (view), run);

  /* the drop, as GTK delivers one: a GdkFileList in a GValue */
  g_autoptr (GFile) file = g_file_new_for_path (png);
  GFile *files[1] = { file };
  GValue value = G_VALUE_INIT;
  g_value_init (&value, GDK_TYPE_FILE_LIST);
  g_value_take_boxed (&value, gdk_file_list_new_from_array (files, 1));
  gboolean handled = FALSE;
  GtkDropTarget *target
    = instdisc_query_view_get_drop_target (INSTDISC_QUERY_VIEW (view));
  g_signal_emit_by_name (target, "drop", &value, 200.0, 200.0, &handled);
  g_value_unset (&value);
  g_assert_true (handled);

  g_assert_true (wait_until (query_settled, view, 120));
  g_assert_null (instdisc_query_view_get_last_error (
    INSTDISC_QUERY_VIEW (view)));
  g_assert_cmpint (instdisc_query_view_get_n_rows (INSTDISC_QUERY_VIEW (view)),
                   ==, 1);
  GtkWidget *cards = instdisc_query_view_get_row_neighbours (
    INSTDISC_QUERY_VIEW (view), 0);
  g_assert_nonnull (cards);
  g_assert_cmpint (count_children (cards), ==, 10);
  /* a file has no label: nothing is marked */
  for (GtkWidget *c = gtk_widget_get_first_child (cards); c;
       c = gtk_widget_get_next_sibling (c))
    g_assert_cmpint (instdisc_thumb_get_mark (
                       g_object_get_data (G_OBJECT (c), "thumb")),
                     ==, INSTDISC_THUMB_PLAIN);

  /* a test image (labelled): on top, its neighbours marked by class */
  instdisc_query_view_query_test_image (INSTDISC_QUERY_VIEW (view), 5);
  g_assert_true (wait_until (query_settled, view, 120));
  g_assert_cmpint (instdisc_query_view_get_n_rows (INSTDISC_QUERY_VIEW (view)),
                   ==, 2);
  cards = instdisc_query_view_get_row_neighbours (INSTDISC_QUERY_VIEW (view),
                                                  0);
  g_assert_cmpint (count_children (cards), ==, 10);
  const Dataset *train = instdisc_run_get_train (run);
  const Dataset *test = instdisc_run_get_test (run);
  int query_label = test->labels[5];
  for (GtkWidget *c = gtk_widget_get_first_child (cards); c;
       c = gtk_widget_get_next_sibling (c))
    {
      int nb = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (c), "index"));
      InstdiscThumbMark mark
        = instdisc_thumb_get_mark (g_object_get_data (G_OBJECT (c), "thumb"));
      g_assert_cmpint (mark, ==, train->labels[nb] == query_label
                                   ? INSTDISC_THUMB_SAME_CLASS
                                   : INSTDISC_THUMB_OTHER_CLASS);
    }
  spin (0.3);
  g_autoptr (GdkTexture) shot = render_widget (view);
  save_png (shot, "instdisc-query-view.png");
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_embedding_run (void)
{
  ensure_run ();
  GtkWidget *view = instdisc_embedding_view_new ();
  GtkWidget *window = show_in_window (view, 900, 600);
  instdisc_embedding_view_set_run (INSTDISC_EMBEDDING_VIEW (view), run);
  GtkWidget *map = find_map (view);
  g_assert_nonnull (map);
  g_assert_true (wait_until (map_has_points, map, 60));
  g_assert_cmpint (instdisc_map_get_n_points (INSTDISC_MAP (map)), ==,
                   N_IMAGES);
  g_autofree float *pca = g_memdup2 (
    instdisc_map_get_layout (INSTDISC_MAP (map)), sizeof (float) * 2 * N_IMAGES);

  instdisc_embedding_view_start_tsne (INSTDISC_EMBEDDING_VIEW (view));
  g_assert_true (wait_until (embedding_idle, view, 120));
  /* the t-SNE layout replaced the PCA one (the t-SNE button went on) */
  const float *tsne = instdisc_map_get_layout (INSTDISC_MAP (map));
  double moved = 0;
  for (int a = 0; a < 2 * N_IMAGES; a++)
    moved += fabs (tsne[a] - pca[a]);
  g_assert_cmpfloat (moved, >, 0.0);

  /* clicking a point shows its neighbours */
  double x, y;
  instdisc_map_point_position (INSTDISC_MAP (map), 7, &x, &y);
  spin (0.2);
  g_autoptr (GdkTexture) shot = render_widget (view);
  save_png (shot, "instdisc-embedding-view.png");
  gtk_window_destroy (GTK_WINDOW (window));
}

/* ---- retrievals on a hand-made bank ---- */

static Dataset *
tiny_dataset (const char *name, int n, const int *labels, int n_classes)
{
  Dataset *d = dataset_new_in_memory (name, n, 1, 8, 8);
  for (int i = 0; i < n; i++)
    for (int k = 0; k < 64; k++)
      d->pixels[i * 64 + k] = (guint8) ((k * 7 + i * 40) % 256);
  for (int i = 0; i < n && labels; i++)
    d->labels[i] = labels[i];
  d->n_classes = n_classes;
  return d;
}

static void
unit (float *out, double degrees)
{
  out[0] = (float) cos (degrees * G_PI / 180.0);
  out[1] = (float) sin (degrees * G_PI / 180.0);
}

static void
test_retrievals_order (void)
{
  /* the bank and queries of tests/explore/test-retrievals.c: four groups
   * of three unit vectors; query 0 best, then 1 (same count, less
   * similar), 4, 2, then 3 and its bit-equal copy 6, 5 last */
  const double bank_deg[12] = { 0, 1, 2, 90, 91, 92,
                                180, 181, 182, 270, 271, 272 };
  const int bank_labels[12] = { 0, 0, 0, 1, 1, 0, 2, 2, 2, 0, 0, 0 };
  const double deg[7] = { 1, 180.5, 91, 271, 40, 275, 271 };
  const int labels[7] = { 0, 2, 1, 2, 0, 1, 2 };
  float bank[24], queries[14];
  for (int i = 0; i < 12; i++)
    unit (bank + 2 * i, bank_deg[i]);
  for (int i = 0; i < 7; i++)
    unit (queries + 2 * i, deg[i]);
  g_autoptr (Dataset) bank_set = tiny_dataset ("bank", 12, bank_labels, 3);
  g_autoptr (Dataset) query_set = tiny_dataset ("queries", 7, labels, 3);
  Retrievals *r = retrievals_compute (queries, labels, 7, bank, bank_labels,
                                      12, 2, 3);

  GtkWidget *view = instdisc_retrievals_view_new ();
  GtkWidget *window = show_in_window (view, 700, 900);
  instdisc_retrievals_view_show (INSTDISC_RETRIEVALS_VIEW (view), r,
                                 query_set, bank_set);
  /* six rows each, of the seven queries */
  const int best[6] = { 0, 1, 4, 2, 3, 6 };
  const int worst[6] = { 5, 3, 6, 2, 4, 1 };
  InstdiscRetrievalsView *rv = INSTDISC_RETRIEVALS_VIEW (view);
  g_assert_cmpint (instdisc_retrievals_view_get_n_rows (rv, FALSE), ==, 6);
  g_assert_cmpint (instdisc_retrievals_view_get_n_rows (rv, TRUE), ==, 6);
  for (int i = 0; i < 6; i++)
    {
      g_assert_cmpint (instdisc_retrievals_view_get_row_query (rv, FALSE, i),
                       ==, best[i]);
      g_assert_cmpint (instdisc_retrievals_view_get_row_query (rv, TRUE, i),
                       ==, worst[i]);
    }
  spin (0.2);
  g_autoptr (GdkTexture) shot = render_widget (view);
  save_png (shot, "instdisc-retrievals-order.png");

  /* unlabelled: by top-1 similarity */
  Retrievals *u = retrievals_compute (queries, NULL, 7, bank, NULL, 12, 2, 3);
  instdisc_retrievals_view_show (rv, u, query_set, bank_set);
  for (int i = 0; i + 1 < 6; i++)
    {
      int a = instdisc_retrievals_view_get_row_query (rv, FALSE, i);
      int b = instdisc_retrievals_view_get_row_query (rv, FALSE, i + 1);
      g_assert_cmpfloat (u->score[a], >=, u->score[b]);
    }
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  g_autoptr (GError) error = NULL;
  workdir = g_dir_make_tmp ("instdisc-gui-explore-XXXXXX", &error);
  g_assert_no_error (error);
  g_test_add_func ("/gui-explore/map/render", test_map_render);
  g_test_add_func ("/gui-explore/map/renderer", test_map_renderer);
  g_test_add_func ("/gui-explore/map/density", test_map_density);
  g_test_add_func ("/gui-explore/map/nearest", test_map_nearest);
  g_test_add_func ("/gui-explore/map/pan-zoom", test_map_pan_zoom);
  g_test_add_func ("/gui-explore/map/million", test_map_million);
  g_test_add_func ("/gui-explore/retrievals/order", test_retrievals_order);
  g_test_add_func ("/gui-explore/query/drop", test_query_drop);
  g_test_add_func ("/gui-explore/embedding/run", test_embedding_run);
  int status = g_test_run ();
  if (run)
    instdisc_run_stop (run);
  g_clear_object (&run);
  g_autofree char *rm = g_strdup_printf ("rm -rf '%s'", workdir);
  if (system (rm) != 0)
    g_warning ("could not remove %s", workdir);
  return status;
}

/* test-plot.c: the explorer's plot widget (InstdiscPlot), under Xvfb.
 *   /gui/plot/pixels        a known line crosses known pixels of the
 *                           rendered widget (and its PNG / SVG exports)
 *   /gui/plot/integer-axis  epochs and iterations tick at whole numbers,
 *                           thousands separated; an empty kNN axis spans
 *                           the run's epochs
 *   /gui/plot/legend-rows   a legend too wide for the room beside the
 *                           title takes a second row, and the plot area
 *                           moves down for it
 *   /gui/plot/readout       the hover readout: the nearest point's x and
 *                           each series' value there, levels included
 *   /gui/plot/log-scale     a log10 y axis ticks at 1-2-5 of each decade
 *                           (or the decades alone when crowded, nice
 *                           values within one) and skips values <= 0
 *   /gui/plot/zoom          zooming the x axis about a pixel, panning,
 *                           fitting again; y fits what is in view
 */
#define G_LOG_DOMAIN "instdisc-gui"

#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#include "instdisc-plot.h"

#include "gui-testutil.h"

static char *workdir;

/* The strongest "blue" (b - r) in a 5x5 box around (x, y). */
static int
blueness_near (const guint8 *pixels, int stride, int w, int h, int x, int y)
{
  int best = -255;
  for (int dy = -2; dy <= 2; dy++)
    for (int dx = -2; dx <= 2; dx++)
      {
        int px = CLAMP (x + dx, 0, w - 1), py = CLAMP (y + dy, 0, h - 1);
        /* GDK_MEMORY_DEFAULT: B G R A bytes on little-endian */
        const guint8 *p = pixels + (gsize) py * stride + px * 4;
        if (p[3] > 128)
          best = MAX (best, (int) p[0] - (int) p[2]);
      }
  return best;
}

static gboolean
widget_has_size (gpointer data)
{
  return gtk_widget_get_width (data) > 0 && gtk_widget_get_mapped (data);
}

static void
test_plot_pixels (void)
{
  GtkWidget *window = gtk_window_new ();
  GtkWidget *widget = instdisc_plot_new ();
  InstdiscPlot *plot = INSTDISC_PLOT (widget);
  gtk_window_set_child (GTK_WINDOW (window), widget);
  gtk_window_set_default_size (GTK_WINDOW (window), 600, 400);
  instdisc_plot_set_title (plot, "test");
  instdisc_plot_set_axis_labels (plot, "x", "y");
  guint s = instdisc_plot_add_series (plot, "line", "#0000ff", 3.0, FALSE);
  /* y = x on [0, 100], with 100,000 points so decimation is exercised */
  for (int i = 0; i <= 100000; i++)
    instdisc_plot_append (plot, s, i / 1000.0, i / 1000.0);
  gtk_window_present (GTK_WINDOW (window));
  iterate_until (widget_has_size, widget, 10);
  for (int i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE);

  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  gint64 start = g_get_monotonic_time ();
  g_autoptr (GdkTexture) texture = render_widget (widget);
  g_test_message ("100,001 points rendered at %dx%d in %.1f ms", w, h,
                  (g_get_monotonic_time () - start) / 1e3);
  g_autofree char *png = g_build_filename (workdir, "plot.png", NULL);
  g_assert_true (gdk_texture_save_to_png (texture, png));
  gsize stride = (gsize) w * 4;
  g_autofree guint8 *pixels = g_malloc (stride * h);
  gdk_texture_download (texture, pixels, stride);

  /* on the line: blue; off it (the point (80, 20)): not */
  for (double v = 10; v <= 90; v += 20)
    {
      double px, py;
      instdisc_plot_data_to_pixel (plot, w, h, v, v, &px, &py);
      int blue = blueness_near (pixels, (int) stride, w, h, (int) px, (int) py);
      g_test_message ("(%g, %g) at pixel (%.0f, %.0f): blue - red = %d", v, v,
                      px, py, blue);
      g_assert_cmpint (blue, >, 150);
    }
  double px, py;
  instdisc_plot_data_to_pixel (plot, w, h, 80, 20, &px, &py);
  g_assert_cmpint (blueness_near (pixels, (int) stride, w, h, (int) px, (int) py),
                   <, 50);

  /* the exports draw the same plot */
  g_autofree char *export_png = g_build_filename (workdir, "export.png", NULL);
  g_autofree char *export_svg = g_build_filename (workdir, "export.svg", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (instdisc_plot_save_png (plot, export_png, 640, 400, &error));
  g_assert_true (instdisc_plot_save_svg (plot, export_svg, 640, 400, &error));
  g_assert_no_error (error);
  g_autoptr (GdkTexture) exported = gdk_texture_new_from_filename (export_png,
                                                                   &error);
  g_assert_no_error (error);
  g_autofree guint8 *export_pixels = g_malloc (640 * 4 * 400);
  gdk_texture_download (exported, export_pixels, 640 * 4);
  instdisc_plot_data_to_pixel (plot, 640, 400, 50, 50, &px, &py);
  g_assert_cmpint (blueness_near (export_pixels, 640 * 4, 640, 400, (int) px,
                                  (int) py), >, 150);
  g_autofree char *svg = NULL;
  g_file_get_contents (export_svg, &svg, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (svg, "<svg"));
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
assert_integer_labels (char **labels)
{
  g_assert_cmpuint (g_strv_length (labels), >=, 2);
  for (char **l = labels; *l; l++)
    {
      g_assert_null (strchr (*l, '.'));
      g_assert_null (strchr (*l, 'k'));
    }
}

/* Epochs and iterations are counts: whole-number ticks, thousands
 * separated, and an empty kNN plot already spans the run's epochs. */
static void
test_plot_integer_axis (void)
{
  GtkWidget *widget = g_object_ref_sink (instdisc_plot_new ());
  InstdiscPlot *plot = INSTDISC_PLOT (widget);
  instdisc_plot_set_x_integer (plot, TRUE);
  guint s = instdisc_plot_add_series (plot, "acc", "#e66100", 2.0, TRUE);

  instdisc_plot_set_x_span (plot, 1.0, 3.0);
  g_auto (GStrv) three = instdisc_plot_dup_x_tick_labels (plot, 600, 260);
  g_autofree char *joined = g_strjoinv (" ", three);
  g_test_message ("no data, epochs 1..3: %s", joined);
  g_assert_cmpstr (joined, ==, "1 2 3");

  instdisc_plot_set_x_span (plot, 1.0, 10.0);
  g_auto (GStrv) ten = instdisc_plot_dup_x_tick_labels (plot, 600, 260);
  assert_integer_labels (ten);
  g_assert_cmpstr (ten[g_strv_length (ten) - 1], ==, "10");

  /* one evaluation in a 3-epoch run: still 1 2 3, not 1.0 1.2 ... */
  instdisc_plot_set_x_span (plot, 1.0, 3.0);
  instdisc_plot_append (plot, s, 1.0, 40.0);
  g_auto (GStrv) one = instdisc_plot_dup_x_tick_labels (plot, 600, 260);
  g_free (joined);
  joined = g_strjoinv (" ", one);
  g_assert_cmpstr (joined, ==, "1 2 3");

  /* a loss curve: six steps, then 93,600 */
  instdisc_plot_clear (plot);
  instdisc_plot_set_x_span (plot, NAN, NAN);
  for (int i = 1; i <= 6; i++)
    instdisc_plot_append (plot, s, i, 1.0 / i);
  g_auto (GStrv) six = instdisc_plot_dup_x_tick_labels (plot, 600, 260);
  assert_integer_labels (six);
  for (int i = 7; i <= 93600; i++)
    instdisc_plot_append (plot, s, i, 1.0 / i);
  g_auto (GStrv) many = instdisc_plot_dup_x_tick_labels (plot, 600, 260);
  g_free (joined);
  joined = g_strjoinv (" ", many);
  g_test_message ("steps 1..93,600: %s", joined);
  assert_integer_labels (many);
  g_assert_nonnull (strstr (joined, "20,000"));
  g_object_unref (widget);
}

/* The hover readout snaps to the nearest point and names each series'
 * value there; a level reads its level; outside the plot area, nothing. */
static void
test_plot_readout (void)
{
  GtkWidget *widget = g_object_ref_sink (instdisc_plot_new ());
  InstdiscPlot *plot = INSTDISC_PLOT (widget);
  instdisc_plot_set_axis_labels (plot, "iteration", "loss");
  instdisc_plot_set_x_integer (plot, TRUE);
  g_autofree char *empty = instdisc_plot_dup_readout (plot, 600, 300, 300);
  g_assert_null (empty);
  guint raw = instdisc_plot_add_series (plot, "per step", "#3584e4", 1.0,
                                        FALSE);
  guint smooth = instdisc_plot_add_series (plot, "smoothed", "#1c71d8", 2.5,
                                           FALSE);
  guint level = instdisc_plot_add_series (plot, "floor", "#9a9996", 1.0,
                                          FALSE);
  instdisc_plot_set_series_level (plot, level, TRUE);
  instdisc_plot_append (plot, level, 0, 2.5);
  for (int i = 0; i <= 2000; i += 10)
    {
      instdisc_plot_append (plot, raw, i, 10.0 - i / 1000.0);
      instdisc_plot_append (plot, smooth, i, 11.0 - i / 1000.0);
    }
  double px, py;
  instdisc_plot_data_to_pixel (plot, 600, 300, 1234, 9.0, &px, &py);
  g_autofree char *text = instdisc_plot_dup_readout (plot, 600, 300, px);
  g_test_message ("readout at %.0f px: %s", px, text);
  g_assert_cmpstr (text, ==, "iteration 1,230 · per step 8.77 · "
                             "smoothed 9.77 · floor 2.5");
  g_autofree char *outside = instdisc_plot_dup_readout (plot, 600, 300, 5);
  g_assert_null (outside);
  g_object_unref (widget);
}

static char *
joined_y_ticks (InstdiscPlot *plot, int width, int height)
{
  g_auto (GStrv) ticks = instdisc_plot_dup_y_tick_labels (plot, width,
                                                          height);
  return g_strjoinv (" ", ticks);
}

/* A log y axis: 1, 2 and 5 of each decade where there is room, the
 * decades alone where not, nice values within a decade; zero and negative
 * values are left out, not drawn at minus infinity. */
static void
test_plot_log_scale (void)
{
  GtkWidget *widget = g_object_ref_sink (instdisc_plot_new ());
  InstdiscPlot *plot = INSTDISC_PLOT (widget);
  guint s = instdisc_plot_add_series (plot, "loss", "#1c71d8", 2.0, FALSE);
  instdisc_plot_append (plot, s, 0, 0.0);
  instdisc_plot_append (plot, s, 1, -1.0);
  for (int i = 2; i <= 6; i++)
    instdisc_plot_append (plot, s, i, pow (10.0, 4 - i));   /* 100 .. 0.01 */
  instdisc_plot_set_y_log (plot, TRUE);
  g_autofree char *tall = joined_y_ticks (plot, 600, 700);
  g_autofree char *low = joined_y_ticks (plot, 600, 260);
  g_test_message ("0.01 to 100 at 700 px: %s; at 260 px: %s", tall, low);
  g_assert_cmpstr (tall, ==, "0.01 0.02 0.05 0.1 0.2 0.5 1 2 5 10 20 50 100");
  g_assert_cmpstr (low, ==, "0.01 0.1 1 10 100");
  double px, py_top, py_bottom;
  instdisc_plot_data_to_pixel (plot, 600, 260, 2, 100.0, &px, &py_top);
  instdisc_plot_data_to_pixel (plot, 600, 260, 2, 0.01, &px, &py_bottom);
  double py_mid;
  instdisc_plot_data_to_pixel (plot, 600, 260, 2, 1.0, &px, &py_mid);
  /* 1 halfway between 0.01 and 100 */
  g_assert_cmpfloat (fabs (py_mid - (py_top + py_bottom) / 2), <, 0.5);

  /* a loss from 11 down to 4: nice values, placed logarithmically */
  instdisc_plot_clear (plot);
  for (int i = 0; i <= 70; i++)
    instdisc_plot_append (plot, s, i, 11.0 - i / 10.0);
  g_autofree char *narrow = joined_y_ticks (plot, 600, 260);
  g_test_message ("4 to 11: %s", narrow);
  g_assert_cmpstr (narrow, ==, "4 6 8 10 12");
  instdisc_plot_set_y_log (plot, FALSE);
  g_autofree char *linear = joined_y_ticks (plot, 600, 260);
  g_assert_cmpstr (linear, ==, "4 6 8 10 12");
  g_object_unref (widget);
}

static void
count_notify (GObject *object, GParamSpec *pspec, int *count)
{
  (*count)++;
}

/* Zooming keeps the x under the pointer where it was and fits y to what
 * is in view; panning moves the view and stops at the data's ends; Fit
 * shows everything again. */
static void
test_plot_zoom (void)
{
  GtkWidget *widget = g_object_ref_sink (instdisc_plot_new ());
  InstdiscPlot *plot = INSTDISC_PLOT (widget);
  instdisc_plot_set_x_integer (plot, TRUE);
  instdisc_plot_set_zoomable (plot, TRUE);
  int notified = 0;
  g_signal_connect (plot, "notify::zoomed", G_CALLBACK (count_notify),
                    &notified);
  guint s = instdisc_plot_add_series (plot, "loss", "#1c71d8", 2.0, FALSE);
  for (int i = 0; i <= 1000; i++)
    instdisc_plot_append (plot, s, i, 1000.0 - i);
  double x0, x1, px, py;
  instdisc_plot_get_x_range (plot, 600, 300, &x0, &x1);
  g_assert_cmpfloat (x0, ==, 0.0);
  g_assert_cmpfloat (x1, ==, 1000.0);
  g_assert_false (instdisc_plot_get_zoomed (plot));

  instdisc_plot_data_to_pixel (plot, 600, 300, 250, 0, &px, &py);
  instdisc_plot_zoom_x (plot, 600, 300, px, 4.0);
  instdisc_plot_get_x_range (plot, 600, 300, &x0, &x1);
  g_test_message ("4x about 250: %g to %g", x0, x1);
  g_assert_true (instdisc_plot_get_zoomed (plot));
  g_assert_cmpint (notified, ==, 1);
  g_assert_cmpfloat_with_epsilon (x1 - x0, 250.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (x0, 250.0 - 250.0 / 4, 1e-6);
  /* y fits the view: 812.5 down to 562.5, snapped to ticks */
  g_auto (GStrv) y_ticks = instdisc_plot_dup_y_tick_labels (plot, 600, 300);
  g_assert_cmpfloat (g_ascii_strtod (y_ticks[0], NULL), >=, 500.0);
  g_autofree char *readout = instdisc_plot_dup_readout (plot, 600, 300, px);
  g_assert_cmpstr (readout, ==, "250 · loss 750");

  /* half the plot's width to the right, then far past the end */
  instdisc_plot_pan_x (plot, 600, 300, (600 - 64 - 18) / 2.0);
  instdisc_plot_get_x_range (plot, 600, 300, &x0, &x1);
  g_assert_cmpfloat_with_epsilon (x0, 187.5 + 125.0, 1e-6);
  instdisc_plot_pan_x (plot, 600, 300, 10000);
  instdisc_plot_get_x_range (plot, 600, 300, &x0, &x1);
  g_assert_cmpfloat (x1, ==, 1000.0);
  g_assert_cmpfloat_with_epsilon (x0, 750.0, 1e-6);

  instdisc_plot_fit (plot);
  instdisc_plot_get_x_range (plot, 600, 300, &x0, &x1);
  g_assert_cmpfloat (x0, ==, 0.0);
  g_assert_cmpfloat (x1, ==, 1000.0);
  g_assert_false (instdisc_plot_get_zoomed (plot));
  g_assert_cmpint (notified, ==, 2);
  /* zooming out past everything is the same as fitting */
  instdisc_plot_zoom_x (plot, 600, 300, 300, 0.5);
  g_assert_false (instdisc_plot_get_zoomed (plot));
  g_object_unref (widget);
}

/* Six series with points (the kNN plot with recomputed features, raw
 * pixels and the linear classifier) fit beside the title of a wide plot;
 * in a narrow one the legend wraps to a second row above the plot area,
 * which moves down by a row rather than letting the legend run into the
 * title. Empty series take no room. */
static void
test_plot_legend_rows (void)
{
  GtkWidget *widget = g_object_ref_sink (instdisc_plot_new ());
  InstdiscPlot *plot = INSTDISC_PLOT (widget);
  instdisc_plot_set_title (plot, "kNN accuracy on the test set");
  instdisc_plot_set_y_range (plot, 0.0, 100.0);
  const char *names[] = { "top-1 (bank)", "top-5 (bank)",
                          "top-1 (recomputed)", "top-5 (recomputed)",
                          "top-1 of raw pixels", "top-1 (linear)" };
  guint series[G_N_ELEMENTS (names)];
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    series[i] = instdisc_plot_add_series (plot, names[i], "#1a5fb4", 2.0,
                                          TRUE);
  double px, top_wide, top_narrow, top_few;
  /* two series with points: one row, even when narrow */
  instdisc_plot_append (plot, series[0], 1.0, 50.0);
  instdisc_plot_append (plot, series[1], 1.0, 90.0);
  instdisc_plot_data_to_pixel (plot, 700, 300, 1.0, 100.0, &px, &top_few);
  for (guint i = 2; i < G_N_ELEMENTS (names); i++)
    instdisc_plot_append (plot, series[i], 1.0, 60.0);
  instdisc_plot_data_to_pixel (plot, 1400, 300, 1.0, 100.0, &px, &top_wide);
  instdisc_plot_data_to_pixel (plot, 700, 300, 1.0, 100.0, &px, &top_narrow);
  g_test_message ("plot area's top: 2 series at 700 px %.0f; 6 series at "
                  "1400 px %.0f, at 700 px %.0f", top_few, top_wide,
                  top_narrow);
  g_assert_cmpfloat (top_wide, ==, top_few);
  g_assert_cmpfloat (top_narrow, >=, top_wide + 12);
  /* and the bottom stays where it was: the area is shorter, not moved */
  double bottom_wide, bottom_narrow;
  instdisc_plot_data_to_pixel (plot, 1400, 300, 1.0, 0.0, &px, &bottom_wide);
  instdisc_plot_data_to_pixel (plot, 700, 300, 1.0, 0.0, &px, &bottom_narrow);
  g_assert_cmpfloat (bottom_wide, ==, bottom_narrow);
  g_object_unref (widget);
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  g_autoptr (GError) error = NULL;
  workdir = g_dir_make_tmp ("instdisc-plot-XXXXXX", &error);
  g_assert_no_error (error);
  g_test_message ("files in %s", workdir);

  g_test_add_func ("/gui/plot/pixels", test_plot_pixels);
  g_test_add_func ("/gui/plot/integer-axis", test_plot_integer_axis);
  g_test_add_func ("/gui/plot/legend-rows", test_plot_legend_rows);
  g_test_add_func ("/gui/plot/readout", test_plot_readout);
  g_test_add_func ("/gui/plot/log-scale", test_plot_log_scale);
  g_test_add_func ("/gui/plot/zoom", test_plot_zoom);
  int status = g_test_run ();
  g_autofree char *rm = g_strdup_printf ("rm -rf '%s'", workdir);
  if (system (rm) != 0)
    g_warning ("could not remove %s", workdir);
  return status;
}

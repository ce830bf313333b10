/* bench-map.c: how fast the explorer's map draws 60,000 and 1,000,000
 * points, and whether panning and zooming stay smooth meanwhile.
 *
 *   renderer (no display needed): instdisc_map_points_new (the grid
 *            index, once per layout) and instdisc_map_render at the fitted
 *            view, panned by 100 pixels, and zoomed in 4 times; median wall
 *            and thread-CPU milliseconds of --repeats runs; and a hover's
 *            pick (instdisc_map_points_nearest) at random places
 *   widget   (needs a display, e.g. xvfb-run): an InstdiscMap in a window
 *            panned by 6 pixels every frame, then zoomed by 3% every frame,
 *            for --seconds each; the frame intervals (median, 95th
 *            percentile, longest) show whether the main loop kept up, and
 *            the renders shown per second how soon the moved image is
 *            replaced by a sharp one
 *
 *   bench-map [--size WxH] [--repeats N] [--seconds S] [--only N]
 *
 * The points: ten Gaussian clusters (sigma 1) on a circle of radius 4,
 * labelled by cluster, as the map's old speed test had them. */
#include <gtk/gtk.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench-util.h"
#include "instdisc-map.h"

static double
thread_cpu_now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

static void
clusters (float *layout, int *labels, int n)
{
  Rng rng;
  rng_seed (&rng, 2);
  for (int i = 0; i < n; i++)
    {
      int c = i % 10;
      labels[i] = c;
      layout[2 * i] = (float) (4 * cos (c * 0.628) + rng_normal (&rng));
      layout[2 * i + 1] = (float) (4 * sin (c * 0.628) + rng_normal (&rng));
    }
}

/* the view instdisc_map_fit chooses for a w x h widget */
static InstdiscMapView
fitted_view (const float *layout, int n, int w, int h)
{
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (int i = 0; i < n; i++)
    {
      x0 = MIN (x0, layout[2 * i]);
      x1 = MAX (x1, layout[2 * i]);
      y0 = MIN (y0, layout[2 * i + 1]);
      y1 = MAX (y1, layout[2 * i + 1]);
    }
  double zoom = MIN ((w - 48) / (x1 - x0), (h - 48) / (y1 - y0));
  return (InstdiscMapView) { (x0 + x1) / 2, (y0 + y1) / 2, zoom, w, h, 1 };
}

static void
bench_renderer (const float *layout, const int *labels, int n, int w, int h,
                int repeats)
{
  g_autoptr (GBytes) lb = g_bytes_new (layout, sizeof (float) * 2 * n);
  g_autoptr (GBytes) cb = g_bytes_new (labels, sizeof (int) * n);
  double wall[64], cpu[64];
  repeats = MIN (repeats, 64);
  InstdiscMapPoints *points = NULL;
  for (int r = 0; r < repeats; r++)
    {
      g_clear_pointer (&points, instdisc_map_points_unref);
      double w0 = bench_now (), c0 = thread_cpu_now ();
      points = instdisc_map_points_new (lb, cb, 10);
      wall[r] = (bench_now () - w0) * 1e3;
      cpu[r] = (thread_cpu_now () - c0) * 1e3;
    }
  printf ("%8d points  index            %7.1f ms wall %7.1f ms CPU\n", n,
          bench_median (wall, repeats), bench_median (cpu, repeats));

  InstdiscMapView fit = fitted_view (layout, n, w, h);
  InstdiscMapView panned = fit;
  panned.cx -= 100 / fit.zoom;
  InstdiscMapView zoomed = fit;
  zoomed.zoom *= 4;
  zoomed.cx += 2.0;
  const struct { const char *name; InstdiscMapView *view; } cases[] = {
    { "render fitted", &fit },
    { "render panned", &panned },
    { "render zoom x4", &zoomed },
  };
  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      int visible = 0;
      double radius = 0;
      for (int r = 0; r < repeats; r++)
        {
          double w0 = bench_now (), c0 = thread_cpu_now ();
          InstdiscMapImage *image = instdisc_map_render (points,
                                                         cases[k].view);
          wall[r] = (bench_now () - w0) * 1e3;
          cpu[r] = (thread_cpu_now () - c0) * 1e3;
          visible = image->n_visible;
          radius = image->dot_radius;
          instdisc_map_image_free (image);
        }
      printf ("%8d points  %-16s %7.1f ms wall %7.1f ms CPU  (%d in view, "
              "dots of radius %.1f)\n", n, cases[k].name,
              bench_median (wall, repeats), bench_median (cpu, repeats),
              visible, radius);
    }

  /* hovering: the nearest point within 7 pixels (the widget's pick radius
   * with a dot) of random places in the fitted view */
  Rng rng;
  rng_seed (&rng, 9);
  const int picks = 20000;
  int hits = 0;
  double w0 = bench_now ();
  for (int q = 0; q < picks; q++)
    {
      double x = fit.cx + (rng_uniform (&rng) - 0.5) * w / fit.zoom;
      double y = fit.cy + (rng_uniform (&rng) - 0.5) * h / fit.zoom;
      hits += instdisc_map_points_nearest (points, x, y, 7.0 / fit.zoom) >= 0;
    }
  printf ("%8d points  hover pick       %7.2f us each (%d of %d found a "
          "point)\n", n, (bench_now () - w0) * 1e6 / picks, hits, picks);
  instdisc_map_points_unref (points);
}

/* ---- the widget ---- */

typedef struct
{
  InstdiscMap *map;
  gboolean zoom;          /* else pan */
  gint64 start, last, end;
  GArray *intervals;      /* ms between frames */
  guint renders_at_start;
  double main_cpu_start;
  gboolean done;
} Motion;

static gboolean
motion_tick (GtkWidget *widget, GdkFrameClock *clock, gpointer data)
{
  Motion *m = data;
  gint64 now = g_get_monotonic_time ();
  if (m->last)
    {
      double ms = (now - m->last) / 1000.0;
      g_array_append_val (m->intervals, ms);
    }
  m->last = now;
  if (now >= m->end)
    {
      m->done = TRUE;
      return G_SOURCE_REMOVE;
    }
  if (m->zoom)
    {
      /* in for the first half, out for the second, about the centre */
      double f = now - m->start < (m->end - m->start) / 2 ? 1.03 : 1 / 1.03;
      instdisc_map_zoom_at (m->map, gtk_widget_get_width (widget) / 2.0,
                            gtk_widget_get_height (widget) / 2.0, f);
    }
  else
    instdisc_map_pan (m->map, 6, 2);
  return G_SOURCE_CONTINUE;
}

static gboolean
wake (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static void
run_until (gboolean (*cond) (gpointer), gpointer data)
{
  guint tick = g_timeout_add (5, wake, NULL);
  while (!cond (data))
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);
}

static gboolean
rendered (gpointer data)
{
  return !instdisc_map_is_rendering (data);
}

static gboolean
motion_done (gpointer data)
{
  return ((Motion *) data)->done;
}

static gboolean
is_mapped (gpointer data)
{
  return gtk_widget_get_mapped (data) && gtk_widget_get_width (data) > 0;
}

static void
bench_widget (const float *layout, const int *labels, int n, int w, int h,
              double seconds)
{
  GtkWidget *map = instdisc_map_new ();
  GtkWidget *window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), w, h);
  gtk_window_set_child (GTK_WINDOW (window), map);
  gtk_window_present (GTK_WINDOW (window));
  run_until (is_mapped, map);
  double w0 = bench_now ();
  instdisc_map_set_points (INSTDISC_MAP (map), layout, labels, n, 10);
  double set_ms = (bench_now () - w0) * 1e3;
  run_until (rendered, map);
  printf ("%8d points  widget %dx%d: set_points %.1f ms on the main loop, "
          "first image after %.0f ms\n", n, gtk_widget_get_width (map),
          gtk_widget_get_height (map), set_ms, (bench_now () - w0) * 1e3);

  for (int kind = 0; kind < 2; kind++)
    {
      Motion m = { INSTDISC_MAP (map), kind == 1 };
      m.intervals = g_array_new (FALSE, FALSE, sizeof (double));
      m.start = g_get_monotonic_time ();
      m.end = m.start + (gint64) (seconds * 1e6);
      m.renders_at_start = instdisc_map_get_n_renders (INSTDISC_MAP (map));
      double c0 = thread_cpu_now ();
      gtk_widget_add_tick_callback (map, motion_tick, &m, NULL);
      run_until (motion_done, &m);
      double main_cpu = thread_cpu_now () - c0;
      guint renders = instdisc_map_get_n_renders (INSTDISC_MAP (map))
                      - m.renders_at_start;
      double *x = (double *) m.intervals->data;
      int k = (int) m.intervals->len;
      double frames_per_s = k / seconds;
      double median = bench_median (x, k);   /* sorts */
      printf ("%8d points  %-4s: %.0f frames/s, frame interval median "
              "%.1f ms, 95th %.1f ms, longest %.1f ms; %u renders shown "
              "(%.1f/s); main loop CPU %.0f%%\n", n,
              kind ? "zoom" : "pan", frames_per_s, median,
              x[(int) (0.95 * (k - 1))], x[k - 1], renders,
              renders / seconds, 100 * main_cpu / seconds);
      g_array_unref (m.intervals);
      run_until (rendered, map);
    }
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  /* the kernels the programs run (blas-kernels.h); may run this again */
  bench_choose_kernels (argv, NULL);
  int repeats = 7, only = 0;
  double seconds = 4.0;
  g_autofree char *size = NULL;
  GOptionEntry entries[] = {
    { "size", 0, 0, G_OPTION_ARG_STRING, &size, "map size (800x600)",
      "WxH" },
    { "repeats", 0, 0, G_OPTION_ARG_INT, &repeats, "renderer repeats", "N" },
    { "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds,
      "seconds of panning and of zooming", "S" },
    { "only", 0, 0, G_OPTION_ARG_INT, &only, "only this many points", "N" },
    { NULL },
  };
  g_autoptr (GOptionContext) context
    = g_option_context_new ("- map drawing benchmark");
  g_option_context_add_main_entries (context, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "bench-map: %s\n", error->message);
      return 1;
    }
  int w = 800, h = 600;
  if (size && sscanf (size, "%dx%d", &w, &h) != 2)
    {
      fprintf (stderr, "bench-map: --size wants WxH\n");
      return 1;
    }
  gboolean display = gtk_init_check ();
  const int sizes[2] = { 60000, 1000000 };
  for (int s = 0; s < 2; s++)
    {
      int n = sizes[s];
      if (only && n != only)
        continue;
      g_autofree float *layout = g_new (float, 2 * (gsize) n);
      g_autofree int *labels = g_new (int, n);
      clusters (layout, labels, n);
      bench_renderer (layout, labels, n, w, h, repeats);
      if (display)
        bench_widget (layout, labels, n, w, h, seconds);
      fflush (stdout);
    }
  if (!display)
    printf ("no display: the widget part was skipped (run under "
            "xvfb-run)\n");
  printf ("peak memory: %.0f MiB\n", bench_peak_memory_mib ());
  return 0;
}

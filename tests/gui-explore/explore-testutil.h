/* explore-testutil.h: what the tests of the exploring views share: the
 * main loop driven until a condition holds, a widget shown in a window
 * (drawn into a texture by gui-testutil.h's render_widget; docs/design.md,
 * "Testing"), and a real run trained on a tiny generated IDX set (96
 * images of 28 x 28, 4 classes, workdir/toy). Each program sets workdir. */
#pragma once

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <string.h>

#include "instdisc-embedding-view.h"
#include "instdisc-map.h"
#include "instdisc-query-view.h"
#include "instdisc-run.h"

#include "gui/gui-testutil.h"

G_GNUC_UNUSED static char *workdir;

G_GNUC_UNUSED static char *
work_file (const char *name)
{
  return g_build_filename (workdir, name, NULL);
}

/* ---- helpers ---- */

G_GNUC_UNUSED static gboolean
wake (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

typedef gboolean (*Condition) (gpointer data);

/* runs the main loop until cond holds or timeout_s passes */
G_GNUC_UNUSED static gboolean
wait_until (Condition cond, gpointer data, double timeout_s)
{
  guint tick = g_timeout_add (20, wake, NULL);
  gint64 end = g_get_monotonic_time () + (gint64) (timeout_s * 1e6);
  gboolean ok;
  while (!(ok = cond (data)) && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);
  return ok;
}

G_GNUC_UNUSED static gboolean
is_drawn (gpointer data)
{
  GtkWidget *w = data;
  return gtk_widget_get_mapped (w) && gtk_widget_get_width (w) > 0;
}

G_GNUC_UNUSED static void
spin (double seconds)
{
  guint tick = g_timeout_add (10, wake, NULL);
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * 1e6);
  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);
}

G_GNUC_UNUSED static GtkWidget *
show_in_window (GtkWidget *child, int width, int height)
{
  GtkWidget *window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), width, height);
  gtk_window_set_child (GTK_WINDOW (window), child);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (wait_until (is_drawn, child, 10));
  spin (0.2);
  return window;
}

G_GNUC_UNUSED static void
save_png (GdkTexture *texture, const char *name)
{
  g_autofree char *path = g_build_filename (g_get_tmp_dir (), name, NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("wrote %s", path);
}

/* ---- a real run on a tiny generated data set ---- */

enum { SIDE = 28, N_IMAGES = 96, N_CLASSES = 4 };
G_GNUC_UNUSED static InstdiscRun *run;

/* class c: one bright half of the image (left, top, right, bottom);
 * workdir/toy/PREFIX-{images,labels}-..., noise from seed */
G_GNUC_UNUSED static void
write_idx_split (const char *prefix, guint32 seed)
{
  const gsize header = 16, pixels = (gsize) N_IMAGES * SIDE * SIDE;
  g_autofree guint8 *images = g_new (guint8, header + pixels);
  g_autofree guint8 *labels = g_new (guint8, 8 + N_IMAGES);
  guint32 ih[4] = { GUINT32_TO_BE (0x803), GUINT32_TO_BE (N_IMAGES),
                    GUINT32_TO_BE (SIDE), GUINT32_TO_BE (SIDE) };
  guint32 lh[2] = { GUINT32_TO_BE (0x801), GUINT32_TO_BE (N_IMAGES) };
  memcpy (images, ih, header);
  memcpy (labels, lh, 8);
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  for (int i = 0; i < N_IMAGES; i++)
    {
      int c = i % N_CLASSES;
      labels[8 + i] = (guint8) c;
      for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++)
          {
            gboolean on = (c == 0 && x < SIDE / 2) || (c == 1 && y < SIDE / 2)
                          || (c == 2 && x >= SIDE / 2)
                          || (c == 3 && y >= SIDE / 2);
            images[header + ((gsize) i * SIDE + y) * SIDE + x]
              = (guint8) ((on ? 190 : 40) + g_rand_int_range (rand, -30, 31));
          }
    }
  g_autofree char *folder = work_file ("toy");
  g_assert_cmpint (g_mkdir_with_parents (folder, 0755), ==, 0);
  g_autofree char *ip_name = g_strconcat ("toy/", prefix,
                                          "-images-idx3-ubyte", NULL);
  g_autofree char *lp_name = g_strconcat ("toy/", prefix,
                                          "-labels-idx1-ubyte", NULL);
  g_autofree char *ip = work_file (ip_name);
  g_autofree char *lp = work_file (lp_name);
  g_assert_true (g_file_set_contents (ip, (char *) images, header + pixels,
                                      NULL));
  g_assert_true (g_file_set_contents (lp, (char *) labels, 8 + N_IMAGES,
                                      NULL));
}

/* the toy data set with a training and a test split (workdir/toy) */
G_GNUC_UNUSED static void
write_idx (void)
{
  write_idx_split ("train", 5);
  write_idx_split ("t10k", 6);
}

G_GNUC_UNUSED static void
ensure_run (void)
{
  if (run)
    return;
  write_idx ();
  TrainerConfig config;
  trainer_config_init_default (&config);
  config.model = model_registry_lookup ("small");
  config.low_dim = 32;
  config.batch_size = 32;
  config.epochs = 1;
  /* the views read the bank of a run that never starts: the reference's
   * random start is one training uses, so it is shown (a bank still to be
   * filled from the network's features is not) */
  config.bank_init = BANK_INIT_RANDOM;
  g_autofree char *dir = work_file ("run");
  g_autofree char *spec = work_file ("toy");
  g_autoptr (GError) error = NULL;
  run = instdisc_run_new_training (dir, spec, &config, &error);
  g_assert_no_error (error);
  g_assert_nonnull (run);
}

G_GNUC_UNUSED static gboolean
query_settled (gpointer data)
{
  InstdiscQueryView *view = data;
  return instdisc_query_view_get_n_pending (view) == 0;
}

G_GNUC_UNUSED static int
count_children (GtkWidget *w)
{
  int n = 0;
  for (GtkWidget *c = gtk_widget_get_first_child (w); c;
       c = gtk_widget_get_next_sibling (c))
    n++;
  return n;
}

G_GNUC_UNUSED static gboolean
embedding_idle (gpointer data)
{
  return !instdisc_embedding_view_is_busy (data);
}

G_GNUC_UNUSED static gboolean
map_has_points (gpointer data)
{
  return instdisc_map_get_n_points (data) > 0;
}

G_GNUC_UNUSED static GtkWidget *
find_map (GtkWidget *w)
{
  if (INSTDISC_IS_MAP (w))
    return w;
  for (GtkWidget *c = gtk_widget_get_first_child (w); c;
       c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_map (c);
      if (found)
        return found;
    }
  return NULL;
}


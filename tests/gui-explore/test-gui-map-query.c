/* test-gui-map-query.c: what a new user met in the map and query views,
 * and the ways into them, driven headless under Xvfb. Each check can fail:
 *  - /gui-explore/formats/filter: the Open dialog's image filter takes a
 *    WebP file by type and by name (and every format GdkPixbuf reads), and
 *    not a text file;
 *  - /gui-explore/query/webp: a WebP file dropped on the query view gets
 *    a row of ten neighbours;
 *  - /gui-explore/help/html: help opens as HTML from the build tree and
 *    without Yelp, and the build tree's HTML is there to open. */
#include "explore-testutil.h"

#include <stdlib.h>

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
  int status = g_test_run ();
  if (run)
    instdisc_run_stop (run);
  g_clear_object (&run);
  g_autofree char *rm = g_strdup_printf ("rm -rf '%s'", workdir);
  if (system (rm) != 0)
    g_warning ("could not remove %s", workdir);
  return status;
}

/* instdisc-help.h: opening the user help (F1, the menu's Help).
 *
 * The help is Mallard pages (help/), read in Yelp as help:instdisc once
 * installed. Where that cannot work, the same pages built as HTML at build
 * time (help/html, yelp-build) open in the web browser instead:
 *  - from the build tree (the explorer run uninstalled, or
 *    INSTDISC_HELP_HTML_DIR set, as the tests and `meson devenv` do): Yelp
 *    finds only installed pages, so the build tree's HTML, always;
 *  - installed, with no program for help: URIs (no Yelp): the installed
 *    HTML;
 *  - Yelp there but failing to open the pages: the HTML too.
 * When no browser opens the HTML either (or it is missing), a dialog says
 * what to install and where the pages are. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef enum
{
  INSTDISC_HELP_YELP,    /* help:instdisc */
  INSTDISC_HELP_HTML,    /* the HTML in a browser */
} InstdiscHelpWay;

/* How help opens here first (the HTML is also the fallback of Yelp). */
InstdiscHelpWay instdisc_help_choose (gboolean uninstalled,
                                      gboolean have_yelp);

/* TRUE when this process runs from the build tree (its executable is
 * under it) or INSTDISC_HELP_HTML_DIR is set. */
gboolean instdisc_help_is_uninstalled (void);

/* The HTML's index.html in the first of the user's languages it exists
 * in (else C), as a file: URI; NULL when there is none. */
char *instdisc_help_get_html_uri (void);

/* Opens the help for parent's window, by instdisc_help_choose's way, with
 * the fallbacks above. */
void instdisc_help_show (GtkWindow *parent);

G_END_DECLS

/* instdisc-application.h: the explorer's GtkApplication: app.* actions
 * (new-training, open-run, open-recent-run, preferences, help, about,
 * quit), every accelerator of the explorer, the style sheet, and RUN_DIR
 * arguments. The Keyboard Shortcuts window is GTK's help overlay
 * (gtk/help-overlay.ui in the resource, win.show-help-overlay). */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define INSTDISC_APPLICATION_ID "org.instdisc.Explorer"
/* the project's home page (also in data/'s metainfo) */
#define INSTDISC_WEBSITE "https://instdisc.org/"

#define INSTDISC_TYPE_APPLICATION (instdisc_application_get_type ())
G_DECLARE_FINAL_TYPE (InstdiscApplication, instdisc_application, INSTDISC,
                      APPLICATION, GtkApplication)

InstdiscApplication *instdisc_application_new (void);

G_END_DECLS

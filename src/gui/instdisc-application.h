/* instdisc-application.h: the explorer's GtkApplication: app.* actions
 * (new-training, open-run, shortcuts, about, quit) and their accelerators,
 * the style sheet, and RUN_DIR arguments. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define INSTDISC_APPLICATION_ID "org.instdisc.Explorer"

#define INSTDISC_TYPE_APPLICATION (instdisc_application_get_type ())
G_DECLARE_FINAL_TYPE (InstdiscApplication, instdisc_application, INSTDISC,
                      APPLICATION, GtkApplication)

InstdiscApplication *instdisc_application_new (void);

G_END_DECLS

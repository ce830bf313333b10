/* instdisc-preferences-window.h: the Preferences window, bound to the
 * explorer's settings (instdisc-settings.h): the projection the map opens
 * in, where new runs go, the engine's threads, evaluation on recomputed
 * features, and the recent runs. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define INSTDISC_TYPE_PREFERENCES_WINDOW (instdisc_preferences_window_get_type ())
G_DECLARE_FINAL_TYPE (InstdiscPreferencesWindow, instdisc_preferences_window,
                      INSTDISC, PREFERENCES_WINDOW, GtkWindow)

GtkWidget *instdisc_preferences_window_new (GtkWindow *parent);

G_END_DECLS

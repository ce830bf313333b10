/* instdisc-settings.h: what the explorer remembers (the GSettings schema
 * org.instdisc.Explorer in data/), and the recent-runs list kept in it. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Where to look for the compiled schema when the desktop's schema folders
 * (and GSETTINGS_SCHEMA_DIR) do not have it: an uninstalled prefix, the
 * build tree. FALSE when it is nowhere. Call before instdisc_settings_new;
 * without a call only the desktop's folders count. */
gboolean instdisc_settings_find_schema (const char *const *extra_dirs);

/* The explorer's settings. (transfer full) */
GSettings *instdisc_settings_new (void);

/* Puts run_dir (made absolute) first in recent-runs, once, and keeps at
 * most max-recent-runs entries. */
void instdisc_settings_add_recent_run (GSettings *settings,
                                       const char *run_dir);

/* recent-runs, newest first, no more than max-recent-runs of them.
 * (transfer full) */
char **instdisc_settings_dup_recent_runs (GSettings *settings);

/* The folder new runs go in: run-folder-parent, or "runs" (under the
 * current folder, as `instdisc train` does) when it is empty.
 * (transfer full) */
char *instdisc_settings_dup_run_folder_parent (GSettings *settings);

G_END_DECLS

/* instdisc-settings.c: the explorer's settings and its recent runs. */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-settings.h"

#include "instdisc-application.h"

/* found by instdisc_settings_find_schema outside the desktop's folders */
static GSettingsSchema *extra_schema;

gboolean
instdisc_settings_find_schema (const char *const *extra_dirs)
{
  GSettingsSchemaSource *desktop = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema
      = desktop ? g_settings_schema_source_lookup (desktop,
                                                   INSTDISC_APPLICATION_ID, TRUE)
                : NULL;
  if (schema)
    return TRUE;
  for (guint i = 0; extra_dirs && extra_dirs[i]; i++)
    {
      g_autoptr (GSettingsSchemaSource) source
          = g_settings_schema_source_new_from_directory (extra_dirs[i], desktop,
                                                         TRUE, NULL);
      if (source && (extra_schema = g_settings_schema_source_lookup (
                         source, INSTDISC_APPLICATION_ID, FALSE)))
        return TRUE;
    }
  return FALSE;
}

GSettings *
instdisc_settings_new (void)
{
  if (extra_schema)
    return g_settings_new_full (extra_schema, NULL, NULL);
  return g_settings_new (INSTDISC_APPLICATION_ID);
}

char **
instdisc_settings_dup_recent_runs (GSettings *settings)
{
  g_auto (GStrv) runs = g_settings_get_strv (settings, "recent-runs");
  guint max = (guint) MAX (g_settings_get_int (settings, "max-recent-runs"),
                           0);
  /* the limit may have been lowered since the list was written */
  if (g_strv_length (runs) > max)
    {
      g_free (runs[max]);
      for (guint i = max + 1; runs[i]; i++)
        g_free (runs[i]);
      runs[max] = NULL;
    }
  return g_steal_pointer (&runs);
}

void
instdisc_settings_add_recent_run (GSettings *settings, const char *run_dir)
{
  g_return_if_fail (run_dir != NULL);
  int max = g_settings_get_int (settings, "max-recent-runs");
  g_auto (GStrv) old = g_settings_get_strv (settings, "recent-runs");
  /* relative to the folder the explorer started in, which a later start
   * from the desktop will not share */
  g_autofree char *path = g_canonicalize_filename (run_dir, NULL);
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  int n = 0;
  if (max > 0)
    {
      g_strv_builder_add (builder, path);
      n++;
    }
  for (guint i = 0; old[i] && n < max; i++)
    if (g_strcmp0 (old[i], path) != 0)
      {
        g_strv_builder_add (builder, old[i]);
        n++;
      }
  g_auto (GStrv) runs = g_strv_builder_end (builder);
  g_settings_set_strv (settings, "recent-runs", (const char *const *) runs);
}

char *
instdisc_settings_dup_run_folder_parent (GSettings *settings)
{
  g_autofree char *parent = g_settings_get_string (settings,
                                                   "run-folder-parent");
  if (!parent || !*parent)
    return g_strdup ("runs");
  return g_steal_pointer (&parent);
}

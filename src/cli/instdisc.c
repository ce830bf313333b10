/* instdisc.c: the command-line tool, `instdisc COMMAND [OPTION...]`. */
#define G_LOG_DOMAIN "instdisc"

#include <glib.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>

#include "blas-kernels.h"
#include "cli-common.h"
#include "commands.h"

typedef struct
{
  const char *name;
  const char *summary;
  int (*run) (int argc, char **argv);
} Command;

/* summaries are translated when printed */
static const Command commands[] = {
  { "train", N_("Train an embedding on a data set"), command_train },
  { "eval", N_("Weighted kNN (and linear) accuracy of a run's checkpoint"),
    command_eval },
  { "finetune", N_("Fine-tune a run's network on a labelled fraction"),
    command_finetune },
  { "export", N_("Write a run's embeddings as .npy, text and projector TSV"),
    command_export },
  { "query", N_("List the training images nearest to image files"),
    command_query },
  { "embed", N_("Embed image files into a .npy file"), command_embed },
  { "info", N_("Describe a checkpoint, a feature file or a run folder"),
    command_info },
};

static void
usage (FILE *out)
{
  /* Translators: COMMAND and OPTION are placeholders; keep "instdisc" */
  fprintf (out, "%s\n\n%s\n\n%s\n", _("Usage: instdisc COMMAND [OPTION...]"),
           _("Unsupervised embeddings by non-parametric instance "
             "discrimination."), _("Commands:"));
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-8s %s\n", commands[i].name, _(commands[i].summary));
  fprintf (out, "\n%s\n%s\n",
           _("`instdisc COMMAND --help` describes a command's options."),
           _("`instdisc --version` prints the version."));
}

int
main (int argc, char **argv)
{
  /* before anything else: it may run the program again (blas-kernels.h) */
  blas_kernels_choose (argv);
  setlocale (LC_ALL, "");
  /* A write past the file-size limit (ulimit -f) then fails with EFBIG,
   * which the writers report by name and undo, instead of the signal
   * killing the process mid-write. */
  signal (SIGXFSZ, SIG_IGN);
  /* INSTDISC_LOCALEDIR: the tests' translations in the build tree (the
   * .mo files are not installed while they run) */
  const char *localedir = g_getenv ("INSTDISC_LOCALEDIR");
  bindtextdomain (GETTEXT_PACKAGE,
                  localedir && *localedir ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  if (argc < 2)
    {
      usage (stderr);
      return 2;
    }
  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h")
      || g_str_equal (argv[1], "help"))
    {
      usage (stdout);
      return 0;
    }
  if (g_str_equal (argv[1], "--version"))
    {
      /* the name and the version alone, for scripts; untranslated */
      printf ("instdisc %s\n", PACKAGE_VERSION);
      return 0;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (argv[1], commands[i].name))
      {
        /* the command sees "instdisc COMMAND" as its program name */
        g_autofree char *prgname = g_strdup_printf ("instdisc %s", argv[1]);
        argv[1] = prgname;
        return commands[i].run (argc - 1, argv + 1);
      }
  cli_fail_message (_("unknown command “%s”"), argv[1]);
  usage (stderr);
  return 2;
}

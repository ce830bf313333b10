/* instdisc.c: the command-line tool, `instdisc COMMAND [OPTION...]`. */
#define G_LOG_DOMAIN "instdisc"

#include <glib.h>
#include <locale.h>
#include <stdio.h>

#include "commands.h"

typedef struct
{
  const char *name;
  const char *summary;
  int (*run) (int argc, char **argv);
} Command;

static const Command commands[] = {
  { "train", "Train an embedding on a data set", command_train },
  { "eval", "Weighted kNN accuracy of a run's checkpoint", command_eval },
  { "export", "Write a run's embeddings as .npy, text and projector TSV",
    command_export },
  { "query", "List the training images nearest to image files",
    command_query },
  { "embed", "Embed image files into a .npy file", command_embed },
  { "info", "Describe a checkpoint, a feature file or a run folder",
    command_info },
};

static void
usage (FILE *out)
{
  fprintf (out, "Usage: instdisc COMMAND [OPTION...]\n\n"
                "Unsupervised embeddings by non-parametric instance "
                "discrimination.\n\nCommands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-8s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\n`instdisc COMMAND --help` describes a command's options.\n");
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
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
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (argv[1], commands[i].name))
      {
        /* the command sees "instdisc COMMAND" as its program name */
        g_autofree char *prgname = g_strdup_printf ("instdisc %s", argv[1]);
        argv[1] = prgname;
        return commands[i].run (argc - 1, argv + 1);
      }
  g_printerr ("instdisc: unknown command “%s”\n", argv[1]);
  usage (stderr);
  return 2;
}

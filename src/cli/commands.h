/* commands.h: the subcommands of `instdisc`, one file each. Each parses its
 * own options (argv[0] is "instdisc COMMAND") and returns the exit status:
 * 0 on success, 1 with one message on stderr otherwise. */
#pragma once

int command_train (int argc, char **argv);
int command_info (int argc, char **argv);
int command_eval (int argc, char **argv);
int command_finetune (int argc, char **argv);
int command_export (int argc, char **argv);
int command_query (int argc, char **argv);
int command_embed (int argc, char **argv);

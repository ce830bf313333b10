/* fuzz-common.h: what the fuzz targets share (docs/reliability.md,
 * "Fuzzing").
 *
 * Every reader of instdisc takes a path and checks the file with stat
 * before it opens it, so a target writes each input to a file and calls
 * the real reader on it: the same stat, open and read the programs do.
 * The files live in one private temporary folder, made by fuzz_setup and
 * removed at exit; each input overwrites the previous one. */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

/* libFuzzer's entry points, which each target defines: the first once
 * before any input, the second for each input. */
int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Call from LLVMFuzzerInitialize: makes the folder and sets up GLib for
 * a run of millions of inputs (see fuzz-common.c). */
void fuzz_setup (void);

/* The private folder, or a folder inside it (made when missing) when sub
 * is not NULL. (transfer full) */
char *fuzz_dir (const char *sub);

/* Writes size bytes to name inside the private folder (name may hold one
 * sub-folder, which must exist) and returns the file's path. Aborts when
 * the write fails: that is the machine's problem, not an input's.
 * (transfer full) */
char *fuzz_write (const char *name, const uint8_t *data, size_t size);

/* A finding of a target's own check (beyond the sanitizers'): prints why
 * and aborts, so libFuzzer keeps the input. */
#define FUZZ_CHECK(condition)                                                 \
  do                                                                          \
    {                                                                         \
      if (!(condition))                                                       \
        fuzz_fail (__FILE__, __LINE__, #condition);                           \
    }                                                                         \
  while (0)
G_NORETURN void fuzz_fail (const char *file, int line, const char *what);

G_END_DECLS

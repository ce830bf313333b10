/* run-lock.h: one writer per run folder.
 *
 * Two processes training into one folder would interleave their metrics
 * rows and overwrite each other's checkpoints. A writer (`instdisc train`,
 * the explorer while it trains a run) holds an advisory lock, flock(2) on
 * the folder's `run.lock`, for as long as it writes; the file holds the
 * writer's process id, so a refused second writer can say whom it waits
 * for. The kernel drops the lock when its holder exits, even by kill -9,
 * so a crash never leaves a folder locked. Readers (eval, export, query,
 * the explorer following a folder) take no lock. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RUN_LOCK_FILE "run.lock"

typedef struct _RunLock RunLock;

/* Takes the lock of dir (which must exist), without waiting: when another
 * process holds it, NULL with an error naming the folder and that process.
 * Once held, removes the temporary files an interrupted atomic write left
 * behind (NAME.XXXXXX beside config.ini, metrics.csv and the checkpoint):
 * with the lock, no other writer can be midway through one. */
RunLock *run_lock_acquire (const char *dir, GError **error);
/* Releases the lock; NULL is allowed. */
void run_lock_release (RunLock *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RunLock, run_lock_release)

G_END_DECLS

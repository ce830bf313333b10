/* objective.h: the training objectives behind one table of functions, and
 * the registry that lists them.
 *
 * An objective turns a batch's features and the memory bank into a loss
 * and its gradient d loss / d features (docs/method.md): the exact
 * non-parametric softmax (objective-softmax.c) and NCE (objective-nce.c).
 * Nothing else names one: the trainer calls the table, and the command
 * line's --objective and its help, config.ini, the explorer's New Training
 * dialog and its Training view all list or look up the registry below. So
 * an objective is one file that defines its ObjectiveClass and one line in
 * OBJECTIVE_REGISTRY (objective.c); docs/design.md, "Adding an objective",
 * has the steps.
 *
 * An ObjectiveClass is constant; create() makes one instance per trainer,
 * its buffers sized for the batch and the bank. The trainer uses an
 * instance from one thread at a time and promises it:
 *   - forward_backward once per step, with the batch's unit features, their
 *     bank rows, the bank as it was before the step (the trainer updates it
 *     afterwards: no gradient flows into the bank) and a generator derived
 *     from the seed and the iteration alone, so a run resumed from a
 *     checkpoint draws what the uninterrupted run would have;
 *   - the state it saves (save_state) back after a restart, through
 *     check_state and load_state, before the next step.
 * Settings of one objective (nce_k, nce_z) are TrainerConfig fields, so
 * config.ini keeps one flat [training] group; the objective reads its own
 * and checks them in check().
 *
 * Data-parallel training (distributed.h) gives each rank's instance its
 * share of every batch (set_share): the rows it is called with are a
 * piece of a batch split over the ranks, and it computes that piece's
 * part of the whole batch's loss and gradient, summing over the ranks what
 * the whole batch needs (NCE's Z, the loss and the metrics). */
#pragma once

#include <glib.h>

#include "distributed.h"
#include "memory-bank.h"
#include "rng.h"
#include "run-dir.h"
#include "safetensors.h"

G_BEGIN_DECLS

/* trainer.h defines it; an objective reads its own settings there */
typedef struct _TrainerConfig TrainerConfig;

typedef struct _ObjectiveClass ObjectiveClass;
typedef struct _Objective Objective;

/* The most metrics.csv columns an objective may add to a step's row. */
#define OBJECTIVE_MAX_METRICS METRICS_MAX_EXTRA

/* Where an instance's rows sit in each step's batch: all of it in one
 * process; a rank's share with data-parallel training. */
typedef struct
{
  Distributed *dist;   /* the ranks the batch is split over */
  int first;           /* the first row's place in the batch */
  int total;           /* the batch's rows over every rank: B */
} ObjectiveShare;

/* Every instance begins with this; an implementation's own struct embeds
 * it first. */
struct _Objective
{
  const ObjectiveClass *klass;
  ObjectiveShare share;   /* objective_set_share; total 0: each call's rows
                           * are the whole batch */
};

struct _ObjectiveClass
{
  /* config.ini's "objective" and --objective: lower case, [a-z0-9_] */
  const char *name;
  /* for people (the New Training dialog), marked with N_(): show it
   * through objective_class_get_label */
  const char *label;
  /* one line for --help, marked with N_(), without the name */
  const char *summary;
  /* the config.ini [training] keys of its own it reads (TrainerConfig
   * fields such as nce_k), NULL-terminated (NULL: none); the New Training
   * dialog offers a setting only for an objective that reads it */
  const char *const *settings;
  /* the columns it adds to each step's metrics.csv row, in order,
   * NULL-terminated (NULL: none): at most OBJECTIVE_MAX_METRICS, none of
   * them a common column (metrics_column_is_common) */
  const char *const *metrics;

  /* Checks the settings of config it uses against a training set of n
   * images called data_name; the message names the setting. n is 0 while
   * the data set is not known yet (the New Training dialog checks as the
   * person types): then only what does not depend on it. NULL: nothing
   * to check. */
  gboolean (*check) (const TrainerConfig *config, int n,
                     const char *data_name, GError **error);
  /* The run's objective with its settings for people, translated, e.g.
   * "NCE, K = 4096" (free it). NULL: the label. */
  char *(*describe) (const TrainerConfig *config);

  /* An instance for batches of up to max_batch images against a bank of
   * n rows; config has passed check. NULL when its buffers do not fit in
   * memory. */
  Objective *(*create) (const TrainerConfig *config, int max_batch, int n);
  void (*free) (Objective *self);

  /* Data-parallel training (objective.h, ObjectiveShare): from now on
   * each call's rows are rows share->first .. first + batch - 1 of a batch
   * of share->total. The call then gives those rows' part of the whole
   * batch's gradient (its means over total) and, on every rank, the whole
   * batch's loss and metrics (summed through share->dist); a draw for
   * every row before first is made and dropped, so each row gets what it
   * would in one process. NULL: the objective cannot be split, and a run
   * on several ranks refuses it. */
  void (*set_share) (Objective *self, const ObjectiveShare *share);

  /* features (B, D) unit rows and indices (B) their bank rows -> the
   * loss, and d_features (B, D) = d loss / d features. rng is this step's
   * own generator (ignore it if the objective draws nothing). metrics gets
   * one value per column of `metrics`, NAN where there is none. The bank
   * is only read. */
  float (*forward_backward) (Objective *self, float *d_features,
                             const float *features, const int *indices,
                             int batch, const MemoryBank *bank, Rng *rng,
                             double *metrics);

  /* The checkpoint's share of the objective, beyond the network, the
   * optimizer and the bank; all three NULL when it keeps nothing across
   * steps.
   *
   * save_state appends SafetensorsTensors to tensors (their data owned by
   * self, valid until the next call on self) and inserts metadata strings
   * (newly allocated keys and values) into metadata. Tensor names start
   * with "trainer.<name>_" and metadata keys with "<name>_", so no two
   * objectives' state can be mistaken for each other and the reference's
   * PyTorch model ignores them with the other "trainer." tensors. Numbers
   * in metadata are written with '.', whatever the locale.
   *
   * check_state says whether file holds a state load_state can take,
   * without changing self: FALSE with an error that names the file and
   * the tensor (checkpoint_expect_tensor). load_state then takes it; the
   * trainer calls it only when the whole checkpoint has checked out. Keep
   * the names a released version wrote loadable (docs/file-formats.md). */
  void (*save_state) (Objective *self, GArray *tensors, GHashTable *metadata);
  gboolean (*check_state) (Objective *self, const SafetensorsFile *file,
                           GError **error);
  void (*load_state) (Objective *self, const SafetensorsFile *file);
};

/* ---- calling an instance: the table's functions, with its defaults ---- */

/* klass->create, with klass filled in; NULL when out of memory. */
Objective *objective_new (const ObjectiveClass *klass,
                          const TrainerConfig *config, int max_batch, int n);
void objective_free (Objective *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Objective, objective_free)
/* set_share; FALSE when the class has none and the batch is split over
 * more than one rank */
gboolean objective_set_share (Objective *self, Distributed *dist, int first,
                              int total);
/* forward_backward; metrics (OBJECTIVE_MAX_METRICS values) NAN past the
 * class's columns */
float objective_forward_backward (Objective *self, float *d_features,
                                  const float *features, const int *indices,
                                  int batch, const MemoryBank *bank, Rng *rng,
                                  double *metrics);
/* the state hooks; nothing to save, check or load without them */
void objective_save_state (Objective *self, GArray *tensors,
                           GHashTable *metadata);
gboolean objective_check_state (Objective *self, const SafetensorsFile *file,
                                GError **error);
void objective_load_state (Objective *self, const SafetensorsFile *file);

/* ---- the registry ---- */

/* The number of objectives, and the i-th in the order --help and the New
 * Training dialog list them. */
guint objective_registry_size (void);
const ObjectiveClass *objective_registry_get (guint i);
/* The objective called name, NULL when none is. */
const ObjectiveClass *objective_registry_lookup (const char *name);
/* klass's place in the registry. */
guint objective_registry_index (const ObjectiveClass *klass);
/* Every name, "softmax, nce", for messages (free it). */
char *objective_registry_names (void);

/* The label, translated. */
const char *objective_class_get_label (const ObjectiveClass *klass);
/* TRUE when klass reads the [training] key setting (its settings). */
gboolean objective_class_uses_setting (const ObjectiveClass *klass,
                                       const char *setting);
/* TRUE when klass's step rows carry the metrics.csv column name. */
gboolean objective_class_has_metric (const ObjectiveClass *klass,
                                     const char *name);
/* klass->describe, or the label (free it). */
char *objective_class_describe (const ObjectiveClass *klass,
                                const TrainerConfig *config);

G_END_DECLS

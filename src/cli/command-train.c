/* command-train.c: `instdisc train`, training in a run directory. */
#define G_LOG_DOMAIN "instdisc"

#include <inttypes.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "cli-common.h"
#include "commands.h"
#include "evaluate.h"
#include "file-list.h"
#include "run-dir.h"
#include "run-folder.h"
#include "run-lock.h"
#include "threads.h"
#include "trainer.h"
#include "trainer-run.h"
#include "training-estimate.h"
#include "training-loop.h"
#ifdef INSTDISC_HAVE_MPI
#include "distributed-mpi.h"
#endif

/* set by SIGINT / SIGTERM: finish the step, save, stop */
static volatile sig_atomic_t stop_requested;

static void
on_stop_signal (int signum)
{
  stop_requested = 1;
}

static void
print_percent_or_unknown (double value)
{
  if (isnan (value))
    g_print ("%s", _("not measured"));
  else
    g_print ("%.2f%%", value);
}

static void
print_reference_points (const TrainingReferencePoints *points,
                        const Dataset *test)
{
  /* Translators: %s is the test set's name, e.g. fashion-mnist/test */
  g_print (_("reference points, kNN top-1 on %s: raw pixels "), test->name);
  print_percent_or_unknown (points->raw_pixels);
  g_print ("%s", _(", the untrained network "));
  print_percent_or_unknown (points->untrained);
  g_print ("\n");
}

/* After the last epoch: this run beside the reference points */
static void
print_standing (const TrainingReferencePoints *points,
                const MetricsRow *last, const Dataset *test)
{
  const double top1 = isnan (last->knn_top1_recomputed)
                          ? last->knn_top1 : last->knn_top1_recomputed;
  /* Translators: %s is the test set's name; "recomputed" features are the
   * training images embedded afresh, "the bank" the memory bank */
  g_print (isnan (last->knn_top1_recomputed)
               ? _("where the run stands, kNN top-1 on %s after epoch %d: "
                   "this run %.2f%% (from the bank)")
               : _("where the run stands, kNN top-1 on %s after epoch %d: "
                   "this run %.2f%% (recomputed features)"),
           test->name, last->epoch, top1);
  g_print ("%s", _(", raw pixels "));
  print_percent_or_unknown (points->raw_pixels);
  g_print ("%s", _(", the untrained network "));
  print_percent_or_unknown (points->untrained);
  g_print ("\n");
  if (!isnan (points->raw_pixels) && top1 < points->raw_pixels)
    g_print ("%s\n", _("The embedding does not beat raw pixels yet: train "
                        "longer (the default recipe is 15 epochs; --resume "
                        "--epochs N continues a run), and see "
                        "docs/learning.md."));
}

/* The command line's side of the training loop: a progress bar, and the
 * loop's phases and evaluations as lines of text. */
typedef struct
{
  const Dataset *train, *test;
  const EvaluateOptions *evaluate_options;
  const TrainerConfig *config;
  int steps_per_epoch;
  CliProgress progress;
  gboolean training_started;
  TrainingPhase phase;
  gboolean pass_drawn;   /* a terminal line "N of M images" to clear */
} TrainCli;

/* On a terminal, the passes before the first step (a minute or two of
 * silence otherwise) count their images on one line, redrawn in place. */
static void
train_cli_pass_progress (TrainingLoop *loop, int done, int total,
                         gpointer data)
{
  TrainCli *cli = data;
  if (!cli->progress.tty || (cli->phase != TRAINING_PHASE_PREPARING
                             && cli->phase != TRAINING_PHASE_REFERENCE))
    return;
  g_print ("\r  ");
  g_print (_("%'d of %'d images"), done, total);
  fflush (stdout);
  cli->pass_drawn = TRUE;
}

static void
train_cli_phase (TrainingLoop *loop, TrainingPhase phase, gpointer data)
{
  TrainCli *cli = data;
  if (cli->pass_drawn)
    {
      g_print ("\r\033[K");
      cli->pass_drawn = FALSE;
    }
  cli->phase = phase;
  switch (phase)
    {
    case TRAINING_PHASE_PREPARING:
      g_print ("%s\n", _("Starting the memory bank from the untrained "
                         "network's features: one pass over the training "
                         "set…"));
      break;
    case TRAINING_PHASE_REFERENCE:
      g_print ("%s\n", _("Measuring the reference points: the untrained "
                         "network and raw pixels…"));
      break;
    case TRAINING_PHASE_TRAINING:
      if (!cli->training_started && training_loop_is_labelled (loop))
        print_reference_points (training_loop_get_reference_points (loop),
                                cli->test);
      cli->training_started = TRUE;
      break;
    case TRAINING_PHASE_EVALUATING:
      cli_progress_end (&cli->progress);
      break;
    }
}

static void
train_cli_row (TrainingLoop *loop, const MetricsRow *row,
               const TrainerStepInfo *info, const LinearEvalResult *linear,
               gpointer data)
{
  TrainCli *cli = data;
  if (info)
    cli_progress_update (&cli->progress, info, cli->config->epochs,
                         cli->steps_per_epoch, row->images_per_s,
                         training_loop_get_eta (loop));
  else if (row->epoch > 0)
    cli_print_evaluation (cli->train, cli->test, cli->evaluate_options, row,
                          linear);
}

static gboolean
train_cli_should_stop (TrainingLoop *loop, gpointer data)
{
  return stop_requested != 0;
}

/* images left out while training: on a line of their own */
static void
train_cli_data_notice (TrainingLoop *loop, const char *message, gpointer data)
{
  TrainCli *cli = data;
  cli_progress_end (&cli->progress);
  g_printerr ("instdisc: %s\n", message);
}

static const TrainingLoopCallbacks train_cli_callbacks = {
  .phase_changed = train_cli_phase,
  .pass_progress = train_cli_pass_progress,
  .row_written = train_cli_row,
  .should_stop = train_cli_should_stop,
  .data_notice = train_cli_data_notice,
};

/* An image-folder run lists its images in files.txt (trainer_run_pin_data)
 * when it is made, and a run made before files.txt existed when it
 * resumes, its checkpoint having just accepted the scan. The list holds
 * the test split even when this run does not evaluate, so that `instdisc
 * eval` later scores the images the run began with. */
static gboolean
pin_data (const char *run, const char *spec, const DatasetOptions *options,
          const Dataset *train, const Dataset *test, gboolean resume,
          GError **error)
{
  g_autofree char *list = run_dir_file (run, DATASET_FILE_LIST_NAME);
  if (train->kind != DATASET_KIND_FOLDER || train->file_list
      || g_file_test (list, G_FILE_TEST_EXISTS))
    return TRUE;
  g_autoptr (Dataset) own_test = NULL;
  if (!test)
    {
      /* no test split, or not asked for: the former is fine */
      test = own_test = dataset_open (spec, "test", options, NULL);
      if (own_test)
        cli_report_skipped (own_test);
    }
  if (!trainer_run_pin_data (run, train, test, error))
    return FALSE;
  int skipped = train->n_skipped + (test ? test->n_skipped : 0);
  if (resume)
    g_print (_("%s: the run's %d images are listed in %s from now on"),
             run, train->n, list);
  else if (skipped > 0)
    g_print (g_dngettext (GETTEXT_PACKAGE,
                          "%d file was skipped; %s lists it with the run's "
                          "images",
                          "%d files were skipped; %s lists them with the "
                          "run's images", skipped),
             skipped, list);
  if (resume || skipped > 0)
    g_print ("\n");
  return TRUE;
}

/* Every option starts unset (NULL, UNSET_INT, UNSET_DOUBLE): the recipe
 * gives the configuration, and only the options given on the command line
 * change it. UNSET_DOUBLE is not NAN, so that a typed "nan" reaches the
 * configuration's checks and is refused there. */
#define UNSET_INT G_MININT
#define UNSET_INT64 G_MININT64
#define UNSET_DOUBLE (-G_MAXDOUBLE)

typedef struct
{
  char *data;
  char *run;
  gboolean resume;
  char *recipe, *model, *objective, *nce_z, *schedule, *lr_drops, *bank_init,
      *crop_scale;
  int nce_k, batch_size, epochs, threads, log_every, image_size, warmup;
  double tau, bank_momentum, lr, momentum, weight_decay, jitter, proximal;
  gint64 steps, seed;
  gboolean no_eval, recompute, linear;
} TrainOptions;

static void
train_options_clear (TrainOptions *o)
{
  g_free (o->data);
  g_free (o->run);
  g_free (o->recipe);
  g_free (o->model);
  g_free (o->objective);
  g_free (o->nce_z);
  g_free (o->schedule);
  g_free (o->lr_drops);
  g_free (o->bank_init);
  g_free (o->crop_scale);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (TrainOptions, train_options_clear)

/* option: the option's name, e.g. "model" for --model; known: the
 * names it takes, "a, b" */
static gboolean
unknown_choice (const char *value, const char *option, const char *known,
                GError **error)
{
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               _("unknown --%s “%s” (one of %s)"), option, value, known);
  return FALSE;
}

static gboolean
parse_choice (const char *value, const char *option, const char *const *names,
              int *out, GError **error)
{
  for (int i = 0; names[i]; i++)
    if (g_str_equal (value, names[i]))
      {
        *out = i;
        return TRUE;
      }
  g_autofree char *choices = g_strjoinv (", ", (char **) names);
  return unknown_choice (value, option, choices, error);
}

/* one choice option, when given */
static gboolean
parse_choice_option (const char *value, const char *option,
                     const char *const *names, int *out, GError **error)
{
  return !value || parse_choice (value, option, names, out, error);
}

/* "MIN" or "MIN,MAX" (MAX 1 when left out) */
static gboolean
parse_crop_scale (const char *value, float *min, float *max, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (value, ",", 3);
  char *end;
  double lo = parts[0] ? g_ascii_strtod (parts[0], &end) : NAN;
  gboolean ok = parts[0] && end != parts[0] && !*end;
  double hi = 1.0;
  if (ok && parts[1])
    {
      hi = g_ascii_strtod (parts[1], &end);
      ok = end != parts[1] && !*end && !parts[2];
    }
  if (!ok)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--crop-scale takes MIN or MIN,MAX, not “%s”"), value);
      return FALSE;
    }
  *min = (float) lo;
  *max = (float) hi;
  return TRUE;
}

/* the recipe, then the command line's choices -> a trainer configuration */
static gboolean
options_to_config (const TrainOptions *o, TrainerConfig *c, GError **error)
{
  static const char *const z_modes[] = { "fixed", "ema", NULL };
  static const char *const schedules[] = { "step", "cosine", NULL };
  static const char *const bank_inits[] = { "random", "features", NULL };
  int recipe = TRAINER_RECIPE_DEFAULT;
  if (o->recipe && !trainer_recipe_from_string (o->recipe, &recipe))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("unknown --recipe “%s” (one of default, reference, "
                     "imagenet)"),
                   o->recipe);
      return FALSE;
    }
  trainer_config_init_recipe (c, recipe);
  /* --model and --objective: names of their registries */
  if (o->model && !(c->model = model_registry_lookup (o->model)))
    {
      g_autofree char *known = model_registry_names ();
      return unknown_choice (o->model, "model", known, error);
    }
  if (o->objective
      && !(c->objective = objective_registry_lookup (o->objective)))
    {
      g_autofree char *known = objective_registry_names ();
      return unknown_choice (o->objective, "objective", known, error);
    }
  int z = c->nce_z, schedule = c->schedule, bank_init = c->bank_init;
  if (!parse_choice_option (o->nce_z, "nce-z", z_modes, &z, error)
      || !parse_choice_option (o->schedule, "schedule", schedules, &schedule,
                               error)
      || !parse_choice_option (o->bank_init, "bank-init", bank_inits,
                               &bank_init, error))
    return FALSE;
  c->nce_z = z;
  c->schedule = schedule;
  c->bank_init = bank_init;
  if (o->crop_scale
      && !parse_crop_scale (o->crop_scale, &c->crop_scale_min,
                            &c->crop_scale_max, error))
    return FALSE;

#define SET_INT(field, value)                                                 \
  if ((value) != UNSET_INT)                                                   \
    c->field = (value);
#define SET_FLOAT(field, value)                                               \
  if ((value) != UNSET_DOUBLE)                                                \
    c->field = (float) (value);
  SET_INT (warmup_epochs, o->warmup)
  SET_INT (nce_k, o->nce_k)
  SET_INT (batch_size, o->batch_size)
  SET_INT (epochs, o->epochs)
  SET_FLOAT (tau, o->tau)
  SET_FLOAT (bank_momentum, o->bank_momentum)
  SET_FLOAT (lr, o->lr)
  SET_FLOAT (momentum, o->momentum)
  SET_FLOAT (weight_decay, o->weight_decay)
  SET_FLOAT (jitter, o->jitter)
  SET_FLOAT (proximal, o->proximal)
#undef SET_INT
#undef SET_FLOAT
  if (o->seed != UNSET_INT64)
    c->seed = (guint64) o->seed;
  if (!o->lr_drops)
    return TRUE;
  g_auto (GStrv) drops = g_strsplit (o->lr_drops, ",", -1);
  c->n_lr_drops = 0;
  for (int i = 0; drops[i]; i++)
    {
      if (!*g_strstrip (drops[i]))
        continue;
      guint64 epoch;
      if (c->n_lr_drops == TRAINER_MAX_LR_DROPS
          || !g_ascii_string_to_unsigned (drops[i], 10, 0, 1000000, &epoch,
                                          NULL))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       _("--lr-drops takes up to %d epochs separated by "
                         "commas, not “%s”"), TRAINER_MAX_LR_DROPS,
                       o->lr_drops);
          return FALSE;
        }
      c->lr_drops[c->n_lr_drops++] = (int) epoch;
    }
  return TRUE;
}

/* One choice of --model or --objective in --help. */
static void
append_choice_help (GString *help, const char *name, const char *summary,
                    gboolean is_default)
{
  if (help->len)
    g_string_append (help, "; ");
  /* Translators: one choice of --model or --objective in --help: its name
   * (not translated) and what it is */
  g_string_append_printf (help, is_default ? _("%s (%s, the default)")
                                           : _("%s (%s)"),
                          name, summary);
}

/* --model's and --objective's descriptions, from their registries, so
 * --help lists exactly the names there are */
static char *
model_help (void)
{
  TrainerConfig defaults;
  trainer_config_init_default (&defaults);
  g_autoptr (GString) choices = g_string_new (NULL);
  for (guint i = 0; i < model_registry_size (); i++)
    {
      const ModelClass *model = model_registry_get (i);
      append_choice_help (choices, model->name, _(model->summary),
                          model == defaults.model);
    }
  /* Translators: %s lists the choices, "small (…); resnet18 (…)" */
  return g_strdup_printf (_("Network: %s"), choices->str);
}

static char *
objective_help (void)
{
  TrainerConfig defaults;
  trainer_config_init_default (&defaults);
  g_autoptr (GString) choices = g_string_new (NULL);
  for (guint i = 0; i < objective_registry_size (); i++)
    {
      const ObjectiveClass *objective = objective_registry_get (i);
      append_choice_help (choices, objective->name, _(objective->summary),
                          objective == defaults.objective);
    }
  /* Translators: %s lists the choices, "softmax (…); nce (…)" */
  return g_strdup_printf (_("Objective: %s"), choices->str);
}

static char *
default_run_dir (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%d-%H%M%S");
  return g_build_filename ("runs", stamp, NULL);
}

/* The first option given that a resumed run cannot take (its settings
 * are config.ini's, which the checkpoint was trained with), or NULL. */
static const char *
setting_given_to_resume (const TrainOptions *o)
{
  const struct { const char *name; gboolean given; } settings[] = {
    { "--data", o->data != NULL },
    { "--recipe", o->recipe != NULL },
    { "--model", o->model != NULL },
    { "--objective", o->objective != NULL },
    { "--nce-k", o->nce_k != UNSET_INT },
    { "--nce-z", o->nce_z != NULL },
    { "--tau", o->tau != UNSET_DOUBLE },
    { "--bank-momentum", o->bank_momentum != UNSET_DOUBLE },
    { "--lr", o->lr != UNSET_DOUBLE },
    { "--momentum", o->momentum != UNSET_DOUBLE },
    { "--weight-decay", o->weight_decay != UNSET_DOUBLE },
    { "--schedule", o->schedule != NULL },
    { "--warmup", o->warmup != UNSET_INT },
    { "--bank-init", o->bank_init != NULL },
    { "--lr-drops", o->lr_drops != NULL },
    { "--crop-scale", o->crop_scale != NULL },
    { "--jitter", o->jitter != UNSET_DOUBLE },
    { "--proximal", o->proximal != UNSET_DOUBLE },
    { "--batch-size", o->batch_size != UNSET_INT },
    { "--seed", o->seed != UNSET_INT64 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (settings); i++)
    if (settings[i].given)
      return settings[i].name;
  return NULL;
}

/* The ranks this process trains with: an MPI job's when mpirun started it
 * with more than one, else one process. */
static Distributed *
start_ranks (int *argc, char ***argv, GError **error)
{
  if (distributed_launched_size () <= 1)
    return distributed_single ();
#ifdef INSTDISC_HAVE_MPI
  return distributed_mpi_start (argc, argv);
#else
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
               _("this instdisc was built without MPI (the meson option "
                 "mpi), so it cannot train on %d ranks; run it without "
                 "mpirun"), distributed_launched_size ());
  return NULL;
#endif
}

/* What one rank's training set is, in 64 bits: its size and shape, and
 * each row's name and label (FNV-1a). */
static guint64
data_fingerprint (const Dataset *data)
{
  guint64 hash = 0xcbf29ce484222325ull;
  const int shape[4] = { data->n, data->channels, data->height, data->width };
  const guint8 *bytes = (const guint8 *) shape;
  for (gsize i = 0; i < sizeof shape; i++)
    hash = (hash ^ bytes[i]) * 0x100000001b3ull;
  for (int i = 0; i < data->n; i++)
    {
      g_autofree char *name = dataset_get_item_name (data, i);
      for (const char *c = name; *c; c++)
        hash = (hash ^ (guint8) *c) * 0x100000001b3ull;
      hash = (hash ^ (guint64) (data->labels ? data->labels[i] + 1 : 0))
             * 0x100000001b3ull;
    }
  return hash;
}

/* Every rank must train on the same rows: a machine whose data differs (a
 * file missing, another folder at the path) would give its rank other
 * images under the same indices. Compared with rank 0's, on every rank. */
static gboolean
same_data_everywhere (Distributed *dist, const Dataset *train,
                      GError **error)
{
  if (distributed_is_single (dist))
    return TRUE;
  const gint64 mine[2] = { (gint64) data_fingerprint (train), train->n };
  g_autofree gint64 *all = g_new (gint64, 2 * dist->size);
  g_autofree size_t *ones = g_new (size_t, dist->size);
  for (int r = 0; r < dist->size; r++)
    ones[r] = 1;
  distributed_gather (dist, mine, all, ones, sizeof mine,
                      DISTRIBUTED_TIME_OTHER);
  for (int r = 1; r < dist->size; r++)
    if (all[2 * r] != all[0])
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                     _("rank %d has another training set than rank 0 "
                       "(%" PRId64 " images against %" PRId64 "): every "
                       "machine needs the same data at the same path"),
                     r, all[2 * r + 1], all[1]);
        return FALSE;
      }
  return TRUE;
}

/* --threads for this process: as given, or with 0 (one per core) the
 * machine's cores shared by the ranks that run on it */
static int
ranks_threads (int threads)
{
  int local = distributed_launched_local_size ();
  if (threads != 0 || local <= 1)
    return threads;
  return MAX ((int) g_get_num_processors () / local, 1);
}

int
command_train (int argc, char **argv)
{
  g_auto (TrainOptions) o = {
    .nce_k = UNSET_INT,
    .batch_size = UNSET_INT,
    .epochs = UNSET_INT,
    .warmup = UNSET_INT,
    .log_every = 20,
    .image_size = UNSET_INT,
    .tau = UNSET_DOUBLE,
    .bank_momentum = UNSET_DOUBLE,
    .lr = UNSET_DOUBLE,
    .momentum = UNSET_DOUBLE,
    .weight_decay = UNSET_DOUBLE,
    .jitter = UNSET_DOUBLE,
    .proximal = UNSET_DOUBLE,
    .seed = UNSET_INT64,
  };
  g_autofree char *model_description = model_help ();
  g_autofree char *objective_description = objective_help ();
  GOptionEntry entries[] = {
    { "data", 'd', 0, G_OPTION_ARG_FILENAME, &o.data,
      N_("Data set: fashion-mnist (default), an IDX file, a CIFAR-10/100 "
         "folder, or a folder of images"), N_("SPEC") },
    { "run", 'r', 0, G_OPTION_ARG_FILENAME, &o.run,
      N_("Run folder (default runs/DATE-TIME)"), N_("DIR") },
    { "resume", 0, 0, G_OPTION_ARG_NONE, &o.resume,
      N_("Continue the run in --run from its checkpoint, with its "
         "config.ini"), NULL },
    { "recipe", 0, 0, G_OPTION_ARG_STRING, &o.recipe,
      N_("Starting point for every setting below: default (the recipe "
         "tuned for small images, docs/learning.md), reference (the "
         "reference code's CIFAR recipe, number for number) or imagenet "
         "(its ImageNet recipe: ResNet-18 with the ImageNet stem, NCE, "
         "224-pixel crops of the full pictures)"), N_("NAME") },
    { "model", 0, 0, G_OPTION_ARG_STRING, &o.model, model_description,
      N_("NAME") },
    { "objective", 0, 0, G_OPTION_ARG_STRING, &o.objective,
      objective_description, N_("NAME") },
    { "nce-k", 0, 0, G_OPTION_ARG_INT, &o.nce_k,
      N_("NCE noise samples per image (4096)"), N_("K") },
    { "nce-z", 0, 0, G_OPTION_ARG_STRING, &o.nce_z,
      N_("NCE normaliser: fixed from the first batch (reference) or ema"),
      N_("MODE") },
    { "tau", 0, 0, G_OPTION_ARG_DOUBLE, &o.tau,
      N_("Temperature (0.07; the reference recipe: 0.1)"), N_("T") },
    { "bank-momentum", 0, 0, G_OPTION_ARG_DOUBLE, &o.bank_momentum,
      N_("Memory bank momentum m (0.5)"), N_("M") },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &o.lr,
      N_("Learning rate (0.06; the reference recipe: 0.03)"), N_("LR") },
    { "momentum", 0, 0, G_OPTION_ARG_DOUBLE, &o.momentum,
      N_("SGD momentum (0.9)"), N_("M") },
    { "weight-decay", 0, 0, G_OPTION_ARG_DOUBLE, &o.weight_decay,
      N_("SGD weight decay (5e-4)"), N_("WD") },
    { "schedule", 0, 0, G_OPTION_ARG_STRING, &o.schedule,
      N_("Learning-rate schedule: cosine (default) or step (the reference's)"), N_("NAME") },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &o.warmup,
      N_("Epochs of linear learning-rate warm-up (1; the reference recipe: 0)"),
      N_("N") },
    { "bank-init", 0, 0, G_OPTION_ARG_STRING, &o.bank_init,
      N_("Memory bank start: features (the untrained network's, default) "
         "or random (the reference's)"), N_("HOW") },
    { "lr-drops", 0, 0, G_OPTION_ARG_STRING, &o.lr_drops,
      N_("Step schedule: epochs where lr is multiplied by 0.1 (120,160)"),
      N_("LIST") },
    { "crop-scale", 0, 0, G_OPTION_ARG_STRING, &o.crop_scale,
      N_("Random resized crop: the smallest (and largest) fraction of the "
         "image's area kept (0.2,1)"), N_("MIN[,MAX]") },
    { "jitter", 0, 0, G_OPTION_ARG_DOUBLE, &o.jitter,
      N_("Colour jitter strength: brightness and contrast, and saturation "
         "and hue for colour images (0.8; the reference recipe: 0.4; 0 turns it "
         "off)"), N_("S") },
    { "proximal", 0, 0, G_OPTION_ARG_DOUBLE, &o.proximal,
      N_("The paper's proximal regularisation, lambda ||f - v||^2 "
         "(0: off, as the reference code)"), N_("LAMBDA") },
    { "batch-size", 'b', 0, G_OPTION_ARG_INT, &o.batch_size,
      N_("Images per step (64; the reference recipe 128)"), N_("N") },
    { "epochs", 'e', 0, G_OPTION_ARG_INT, &o.epochs, N_("Epochs (15; the reference recipe: 200)"),
      N_("N") },
    { "steps", 0, 0, G_OPTION_ARG_INT64, &o.steps,
      N_("Stop after this many steps in total (0: run all epochs)"), N_("N") },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &o.seed, N_("Random seed (1)"),
      N_("N") },
    { "image-size", 0, 0, G_OPTION_ARG_INT, &o.image_size,
      N_("Image folders: side of the square training images (32; the "
         "imagenet recipe: 224). From 64 up the random crops are taken "
         "from the full pictures (docs/data.md)"),
      N_("PIXELS") },
    { "threads", 0, 0, G_OPTION_ARG_INT, &o.threads,
      N_("Threads (0: one per core)"), N_("N") },
    { "log-every", 0, 0, G_OPTION_ARG_INT, &o.log_every,
      N_("Piped output: a line every N steps (20)"), N_("N") },
    { "no-eval", 0, 0, G_OPTION_ARG_NONE, &o.no_eval,
      N_("Skip the kNN evaluation after each epoch"), NULL },
    { "recompute", 0, 0, G_OPTION_ARG_NONE, &o.recompute,
      N_("Also evaluate kNN on training features recomputed with the test "
         "transform"), NULL },
    { "linear", 0, 0, G_OPTION_ARG_NONE, &o.linear,
      N_("Also evaluate a linear classifier on those recomputed features "
         "(as instdisc eval --linear)"), NULL },
    { NULL },
  };
  /* under mpirun, rank 0 alone speaks (docs/distributed.md) */
  if (distributed_launched_rank () > 0)
    cli_silence ();
  if (!cli_parse_options (&argc, &argv, entries, NULL,
      _("Learns D-dimensional unit embeddings of the training images by\n"
        "non-parametric instance discrimination: a memory bank of one\n"
        "vector per image and the exact softmax (or NCE) over it. Writes\n"
        "config.ini, metrics.csv and checkpoint.safetensors into the run\n"
        "folder.")))
    return 1;
  g_autoptr (GError) error = NULL;
  if (!o.data && !o.resume)
    o.data = g_strdup ("fashion-mnist");

  TrainerConfig config;
  trainer_config_init_default (&config);
  g_autofree char *run = o.run ? g_strdup (o.run) : default_run_dir ();
  g_autofree char *checkpoint = run_dir_file (run, RUN_CHECKPOINT_FILE);
  if (o.resume)
    {
      if (!o.run)
        return cli_fail_message (_("--resume needs --run DIR"));
      const char *given = setting_given_to_resume (&o);
      if (given)
        return cli_fail_message (_("%s cannot change a resumed run: it "
                                   "continues with the settings in its "
                                   "config.ini (--epochs, --steps and the "
                                   "evaluation and output options may be "
                                   "given)"),
                                 given);
    }
  else if (!options_to_config (&o, &config, &error))
    return cli_fail (error);
  if (o.steps < 0)
    return cli_fail_message (_("--steps must be at least 1 (0 or none: "
                               "every epoch), not %" PRId64), o.steps);

  /* Under mpirun every rank runs this command with the same options
   * (docs/distributed.md); rank 0 alone writes the run folder and prints.
   * From here on a failure that a rank may meet alone is agreed on
   * (distributed_agree), so every rank stops at the same point with the
   * same message and no rank is left waiting. */
  g_autoptr (Distributed) dist = start_ranks (&argc, &argv, &error);
  if (!dist)
    return cli_fail (error);
  const gboolean writer = dist->rank == 0;
  if (!cli_set_threads (ranks_threads (o.threads)))
    return 1;

  g_autoptr (GKeyFile) keyfile = NULL;
  g_autoptr (RunLock) lock = NULL;   /* held while this process writes */
  if (o.resume)
    {
      keyfile = trainer_run_load_config (run, &config, &error);
      /* before anything is read for the resume: another writer may be
       * about to change it */
      if (keyfile && writer)
        lock = run_lock_acquire (run, &error);
      if (!distributed_agree (dist, keyfile && (!writer || lock), &error))
        return cli_fail (error);
      g_free (o.data);
      o.data = g_key_file_get_string (keyfile, "data", "spec", NULL);
      o.image_size = g_key_file_get_integer (keyfile, "data", "image_size", NULL);
      if (!o.data)
        return cli_fail_message (_("%s/%s: no [data] spec"), run,
                                 RUN_CONFIG_FILE);
      /* a resumed run may be given more epochs than it started with */
      if (o.epochs != UNSET_INT)
        config.epochs = o.epochs;
    }
  else
    {
      /* the image size belongs to the data, not the trainer: the recipe
       * gives it unless --image-size does */
      if (o.image_size == UNSET_INT)
        o.image_size = o.recipe && g_str_equal (o.recipe, "imagenet")
                           ? TRAINER_IMAGENET_IMAGE_SIZE
                           : 32;
      g_autofree char *existing = run_dir_file (run, RUN_CONFIG_FILE);
      gboolean taken = writer && g_file_test (existing, G_FILE_TEST_EXISTS);
      if (taken)
        g_set_error (&error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                     _("%s already holds a run: use --resume to continue "
                       "it, or another --run"), run);
      if (!distributed_agree (dist, !taken, &error))
        return cli_fail (error);
    }

  DatasetOptions data_options;
  dataset_options_init_default (&data_options);
  data_options.image_size = o.image_size;
  data_options.progress = cli_dataset_progress;
  /* a resumed run reads its images as it listed them (files.txt), a new
   * one scans */
  g_autoptr (Dataset) train
      = o.resume ? run_folder_open_dataset (run, o.data, "train",
                                            &data_options, &error)
                 : dataset_open (o.data, "train", &data_options, &error);
  if (!distributed_agree (dist, train != NULL, &error)
      || !same_data_everywhere (dist, train, &error))
    return cli_fail (error);
  cli_report_skipped (train);
  cli_report_data (train);
  g_autoptr (Dataset) test = NULL;
  if (!o.no_eval)
    {
      test = o.resume ? run_folder_open_dataset (run, o.data, "test",
                                                 &data_options, &error)
                      : dataset_open (o.data, "test", &data_options, &error);
      /* no test split (one file): train without evaluations, and say so */
      gboolean no_split = !test && g_error_matches (error, INSTDISC_DATA_ERROR,
                                                    INSTDISC_DATA_ERROR_NOT_FOUND);
      if (!distributed_agree (dist, test || no_split, &error))
        return cli_fail (error);
      if (no_split)
        {
          g_print (_("no evaluation: %s"), error->message);
          g_print ("\n");
          g_clear_error (&error);
        }
      else
        {
          cli_report_skipped (test);
          cli_report_data (test);
          if (!evaluate_can_score (train, test))
            {
              g_print (_("no evaluation: the test split %s has no labels, "
                         "or classes that the training split %s lacks"),
                       test->name, train->name);
              g_print ("\n");
            }
        }
    }

  g_autoptr (Trainer) trainer = trainer_new_distributed (&config, train, dist,
                                                         &error);
  if (!distributed_agree (dist, trainer != NULL, &error))
    return cli_fail (error);

  double wall_offset = 0.0;
  if (o.resume)
    {
      /* rank 0 resumes the folder (its metrics.csv cut back to the
       * checkpoint); the others read the checkpoint alone */
      gboolean resumed
          = writer ? trainer_run_resume (trainer, run, &wall_offset, &error)
                   : !g_file_test (checkpoint, G_FILE_TEST_EXISTS)
                         || trainer_load_checkpoint (trainer, checkpoint,
                                                     &error);
      if (!distributed_agree (dist, resumed, &error))
        return cli_fail (error);
      const char *note = trainer_get_load_note (trainer);
      if (note)
        g_printerr (_("instdisc: note: %s\n"), note);
      /* more epochs are the run's from now on: a later --resume, eval
       * and the explorer read them from config.ini */
      if (o.epochs != UNSET_INT)
        {
          gboolean longer = writer
                                ? trainer_run_set_epochs (run, keyfile,
                                                          &config, o.epochs,
                                                          &error)
                                : (config.epochs = o.epochs, TRUE);
          if (!distributed_agree (dist, longer, &error))
            return cli_fail (error);
        }
      /* the ranks it trains on from now on */
      const int before = trainer_run_get_ranks (keyfile);
      if (before != dist->size)
        g_printerr (g_dngettext (GETTEXT_PACKAGE,
                                 "instdisc: note: %s trained on %d rank "
                                 "until now and continues on %d; batch "
                                 "norm's statistics are each rank's "
                                 "share's, so they now come from %d images "
                                 "instead of %d\n",
                                 "instdisc: note: %s trained on %d ranks "
                                 "until now and continues on %d; batch "
                                 "norm's statistics are each rank's "
                                 "share's, so they now come from %d images "
                                 "instead of %d\n", before),
                    run, before, dist->size,
                    config.batch_size / dist->size,
                    config.batch_size / before);
      gboolean recorded = !writer || !trainer_run_set_ranks (keyfile,
                                                             dist->size)
                          || run_dir_save_config (run, keyfile, &error);
      if (!distributed_agree (dist, recorded, &error))
        return cli_fail (error);
    }
  else
    {
      keyfile = trainer_run_keyfile_new (&config, o.data, train,
                                         o.image_size);
      trainer_run_set_ranks (keyfile, dist->size);
      gboolean made = TRUE;
      if (writer)
        {
          made = run_dir_ensure (run, &error)
                 && (lock = run_lock_acquire (run, &error)) != NULL;
          /* again, now that no other writer can start one */
          g_autofree char *existing = run_dir_file (run, RUN_CONFIG_FILE);
          if (made && g_file_test (existing, G_FILE_TEST_EXISTS))
            {
              g_set_error (&error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                           _("%s already holds a run: use --resume to "
                             "continue it, or another --run"), run);
              made = FALSE;
            }
          made = made && run_dir_save_config (run, keyfile, &error);
        }
      if (!distributed_agree (dist, made, &error))
        return cli_fail (error);
    }
  gboolean pinned = !writer || pin_data (run, o.data, &data_options, train,
                                         test, o.resume, &error);
  if (!distributed_agree (dist, pinned, &error))
    return cli_fail (error);

  TrainingLoopOptions loop_options;
  training_loop_options_init (&loop_options, run);
  loop_options.max_steps = o.steps > 0 ? o.steps : 0;
  loop_options.wall_offset = wall_offset;
  loop_options.evaluate_options.recompute = o.recompute;
  loop_options.evaluate_options.linear = o.linear;
  TrainCli cli = { .train = train, .test = test,
                   .evaluate_options = &loop_options.evaluate_options,
                   .config = &config,
                   .steps_per_epoch = trainer_steps_per_epoch (trainer) };
  cli_progress_init (&cli.progress, o.log_every);
  g_autoptr (TrainingLoop) loop = training_loop_new (trainer, train, test,
                                                     &loop_options,
                                                     &train_cli_callbacks,
                                                     &cli);
  gint64 first = training_loop_get_first (loop);
  gint64 total = training_loop_get_total (loop);
  if (first >= total)
    {
      g_print (_("%s: already trained %" PRId64 " steps"), run,
               first);
      g_print ("\n");
      return 0;
    }
  /* Translators: the first %s is the model's name ("small" or "resnet18"),
   * the fourth the objective ("softmax" or "nce"), the fifth the schedule
   * ("cosine" or "step") */
  g_print (o.resume ? _("resuming the %s ResNet on %s (%d images): %s, "
                        "epochs %d (%s schedule), batch %d, steps %" PRId64
                        " to %" PRId64 ", threads %d, run %s")
                    : _("training the %s ResNet on %s (%d images): %s, "
                        "epochs %d (%s schedule), batch %d, steps %" PRId64
                        " to %" PRId64 ", threads %d, run %s"),
           config.model->name, train->name, train->n,
           config.objective->name, config.epochs,
           schedule_kind_to_string (config.schedule), config.batch_size,
           first + 1, total, engine_get_threads (), run);
  g_print ("\n");
  if (dist->size == 1)
    {
      int n_test = test && training_loop_is_labelled (loop) ? test->n : 0;
      g_autofree char *length = training_estimate_describe (
          training_estimate_run_seconds (&config, train->n, n_test,
                                         train->width, first, total,
                                         o.recompute || o.linear));
      /* Translators: %s is "about 50 minutes" or the like */
      g_print (_("this takes %s on two quiet processor cores (an estimate "
                 "from the speeds measured on the project's machine; the "
                 "progress line's time left follows the steps)"), length);
      g_print ("\n");
    }
  g_autofree char *kernels_note = training_estimate_kernels_note ();
  if (kernels_note)
    g_printerr (_("instdisc: note: %s\n"), kernels_note);
  if (dist->size > 1)
    {
      /* Translators: the batch is split over the processes of an MPI job
       * (ranks); %d are counts, the last one of threads */
      g_print (g_dngettext (GETTEXT_PACKAGE,
                            "on %d ranks: %d images of each batch and %d "
                            "thread per rank",
                            "on %d ranks: %d images of each batch and %d "
                            "threads per rank",
                            engine_get_threads ()),
               dist->size, config.batch_size / dist->size,
               engine_get_threads ());
      g_print ("\n");
    }

  struct sigaction action = { .sa_handler = on_stop_signal };
  sigaction (SIGINT, &action, NULL);
  sigaction (SIGTERM, &action, NULL);

  gboolean finished = training_loop_run (loop, &error);
  cli_progress_end (&cli.progress);
  if (!finished)
    return cli_fail (error);
  gint64 last = trainer_get_iteration (trainer);
  if (training_loop_was_stopped (loop)
      && !g_file_test (checkpoint, G_FILE_TEST_EXISTS))
    {
      g_print (_("stopped before the first step; nothing to keep yet "
                 "(--resume --run %s starts the run over)"), run);
      g_print ("\n");
      return 130;
    }
  if (training_loop_was_stopped (loop))
    {
      g_print (_("stopped at step %" PRId64 "; checkpoint saved to "
                 "%s (continue with --resume --run %s)"), last,
               checkpoint, run);
      g_print ("\n");
      return 130;
    }
  g_print (_("done: %" PRId64 " steps, checkpoint %s"), last, checkpoint);
  g_print ("\n");
  const MetricsRow *last_eval = training_loop_get_last_evaluation (loop);
  if (training_loop_is_labelled (loop) && last_eval->epoch > 0)
    print_standing (training_loop_get_reference_points (loop), last_eval,
                    test);
  return 0;
}

/* finetune.c: semi-supervised fine-tuning on a labelled part of the
 * training set (the paper's semi-supervised experiments). */
#define G_LOG_DOMAIN "instdisc-method"

#include "finetune.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "check.h"
#include "knn.h"
#include "layers.h"
#include "loss.h"
#include "sgd.h"

/* streams of derived randomness */
static const guint64 DOMAIN_SUBSET = 0x737562736574ull;  /* "subset" */
static const guint64 DOMAIN_FINETUNE_ORDER = 0x66746f72646572ull;

void
finetune_options_init_default (FinetuneOptions *options)
{
  *options = (FinetuneOptions) {
    .fraction = 0.1,
    .steps = 1000,
    .batch_size = 128,
    .lr = 0.03f,
    .momentum = 0.9f,
    .weight_decay = 5e-4f,
    .tau = 0.1f,
    .seed = 1,
  };
}

static void
shuffle (int *order, int n, guint64 seed, guint64 domain, gint64 round)
{
  Rng rng;
  rng_seed (&rng, augment_hash (seed, domain, round, 0));
  for (int i = n - 1; i > 0; i--)
    {
      int j = (int) rng_below (&rng, (guint64) i + 1);
      int tmp = order[i];
      order[i] = order[j];
      order[j] = tmp;
    }
}

int *
finetune_labelled_subset (const Dataset *train, double fraction, guint64 seed,
                          int *n_labelled, GError **error)
{
  if (train->n_classes < 2 || !train->labels)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("%s: fine-tuning needs labelled training images of at "
                     "least two classes"), train->name);
      return NULL;
    }
  const int C = train->n_classes;
  const int per_class = MAX (1, (int) lround (fraction * train->n / C));
  g_autofree int *order = g_new (int, train->n);
  for (int i = 0; i < train->n; i++)
    order[i] = i;
  shuffle (order, train->n, seed, DOMAIN_SUBSET, 0);
  g_autofree int *taken = g_new0 (int, C);
  int *subset = g_new (int, train->n);
  int n = 0;
  for (int i = 0; i < train->n; i++)
    {
      int label = train->labels[order[i]];
      /* a run's file gone or changed is not taught (dataset.h) */
      if (label >= 0 && label < C && taken[label] < per_class
          && dataset_row_is_ok (train, order[i]))
        {
          taken[label]++;
          subset[n++] = order[i];
        }
    }
  *n_labelled = n;
  return subset;
}

/* The network's embeddings (n, D) of images indices[0..n) of data (all of
 * data when indices is NULL), test transform, evaluation mode. */
static gboolean
embed (ResNet *net, const AugmentOptions *augment, const Dataset *data,
       const int *indices, int n, float *features, GError **error)
{
  const int D = net->config.low_dim, B = net->max_batch;
  const gsize image_floats = (gsize) data->channels * data->height
                             * data->width;
  g_autofree guint8 *pixels = g_malloc (image_floats);
  g_autofree float *images = g_new (float, image_floats * B);
  for (int start = 0; start < n; start += B)
    {
      const int count = MIN (B, n - start);
      for (int b = 0; b < count; b++)
        {
          int i = indices ? indices[start + b] : start + b;
          if (!dataset_get_image (data, i, pixels, error))
            return FALSE;
          augment_test (augment, pixels, data->channels, data->height,
                        data->width, images + b * image_floats);
        }
      const float *out = resnet_forward (net, images, count, false);
      memcpy (features + (gsize) start * D, out, sizeof (float) * count * D);
    }
  return TRUE;
}

/* logits (n, C) of the classifier on unit features (n, D) */
static void
classify (Linear *head, float *logits, float *scaled, const float *features,
          int n, float tau)
{
  const int D = head->in_features;
  for (gsize i = 0; i < (gsize) n * D; i++)
    scaled[i] = features[i] / tau;
  linear_forward (head, logits, scaled, n);
}

/* top-1 and top-5 fractions of logits (n, C) against labels (lower class
 * first on a tie) */
static void
accuracy (const float *logits, const gint32 *labels, int n, int C,
          double *top1, double *top5)
{
  int correct1 = 0, correct5 = 0;
  for (int i = 0; i < n; i++)
    {
      const float *row = logits + (gsize) i * C;
      const int y = labels[i];
      int rank = 0;
      for (int c = 0; c < C; c++)
        if (row[c] > row[y] || (row[c] == row[y] && c < y))
          rank++;
      correct1 += rank == 0;
      correct5 += rank < 5;
    }
  *top1 = (double) correct1 / n;
  *top5 = (double) correct5 / n;
}

/* The test set's accuracy with the network and head as they are now. */
static gboolean
score_test (ResNet *net, Linear *head, const AugmentOptions *augment,
            const Dataset *test, float tau, double *top1, double *top5,
            GError **error)
{
  const int D = net->config.low_dim, C = head->out_features;
  /* the images that can be read: a run's file gone or changed is not
   * scored (dataset.h) */
  g_autofree int *rows = g_new (int, test->n);
  g_autofree gint32 *labels = g_new (gint32, test->n);
  int n = 0;
  for (int i = 0; i < test->n; i++)
    if (dataset_row_is_ok (test, i))
      {
        labels[n] = test->labels[i];
        rows[n++] = i;
      }
  if (n == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("%s: none of its images can be read"), test->name);
      return FALSE;
    }
  g_autofree float *features = g_new (float, (gsize) n * D);
  g_autofree float *scaled = g_new (float, (gsize) n * D);
  g_autofree float *logits = g_new (float, (gsize) n * C);
  if (!embed (net, augment, test, rows, n, features, error))
    return FALSE;
  classify (head, logits, scaled, features, n, tau);
  accuracy (logits, labels, n, C, top1, top5);
  return TRUE;
}

static gboolean
check_inputs (const ResNet *net, const Dataset *train, const Dataset *test,
              const FinetuneOptions *o, GError **error)
{
  const char *why = NULL;
  if (!(o->fraction > 0.0 && o->fraction <= 1.0))
    why = _("the labelled fraction must be in (0, 1]");
  else if (o->steps < 1)
    why = _("fine-tuning needs at least one step");
  else if (o->batch_size < 2 || o->batch_size > net->max_training_batch)
    why = _("the batch size must be between 2 and the network's batch");
  else if (!(o->lr >= 0.0f) || !(o->tau > 0.0f) || !(o->weight_decay >= 0.0f)
           || !(o->momentum >= 0.0f && o->momentum < 1.0f))
    why = _("lr, weight decay and momentum (below 1) must be non-negative, "
            "tau positive");
  else if (test->n == 0 || test->n_classes == 0)
    why = _("the test set has no labelled images");
  if (why)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, why);
      return FALSE;
    }
  for (int i = 0; i < test->n; i++)
    if (test->labels[i] < 0 || test->labels[i] >= train->n_classes)
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                     _("%s: test image %d has label %d, which the training "
                       "set's %d classes do not have"),
                     test->name, i, test->labels[i], train->n_classes);
        return FALSE;
      }
  return TRUE;
}

gboolean
finetune_network (ResNet *net, const AugmentOptions *augment,
                  const Dataset *train, const Dataset *test,
                  const FinetuneOptions *o, FinetuneProgress progress,
                  gpointer user_data, FinetuneResult *result, GError **error)
{
  if (!check_inputs (net, train, test, o, error))
    return FALSE;
  gint64 start_time = g_get_monotonic_time ();
  int n_labelled;
  g_autofree int *subset = finetune_labelled_subset (train, o->fraction,
                                                     o->seed, &n_labelled,
                                                     error);
  if (!subset)
    return FALSE;
  const int D = net->config.low_dim, C = train->n_classes;
  const int B = MIN (o->batch_size, n_labelled);
  if (B < 2)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("%d labelled image is too few to fine-tune on"),
                   n_labelled);
      return FALSE;
    }
  *result = (FinetuneResult) { .n_labelled = n_labelled };

  /* the head, one block so that one Sgd updates it: W (C, D), then b (C) */
  g_autofree float *head_params = g_new0 (float, (gsize) C * (D + 1));
  g_autofree float *head_grads = g_new0 (float, (gsize) C * (D + 1));
  Linear head;
  linear_init (&head, D, C);
  head.weight = head_params;
  head.bias = head_params + (gsize) C * D;
  head.grad_weight = head_grads;
  head.grad_bias = head_grads + (gsize) C * D;

  /* W's rows: the labelled images' class means, normalised */
  {
    g_autofree float *features = g_new (float, (gsize) n_labelled * D);
    if (!embed (net, augment, train, subset, n_labelled, features, error))
      return FALSE;
    for (int i = 0; i < n_labelled; i++)
      for (int d = 0; d < D; d++)
        head.weight[(gsize) train->labels[subset[i]] * D + d]
            += features[(gsize) i * D + d];
    knn_normalise_rows (head.weight, C, D);
  }
  double ignored;
  if (!score_test (net, &head, augment, test, o->tau, &result->start_top1,
                   &ignored, error))
    return FALSE;

  Sgd net_sgd, head_sgd;
  if (!sgd_init (&net_sgd, net->n_params, o->lr, o->momentum,
                 o->weight_decay)
      || !sgd_init (&head_sgd, (size_t) C * (D + 1), o->lr, o->momentum,
                    o->weight_decay))
    {
      sgd_clear (&net_sgd);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                           _("not enough memory to fine-tune"));
      return FALSE;
    }
  const gsize image_floats = (gsize) train->channels * train->height
                             * train->width;
  g_autofree guint8 *pixels = g_malloc (image_floats);
  g_autofree float *images = g_new (float, image_floats * B);
  g_autofree float *scaled = g_new (float, (gsize) B * D);
  g_autofree float *d_scaled = g_new (float, (gsize) B * D);
  g_autofree float *logits = g_new (float, (gsize) B * C);
  g_autofree int *targets = g_new (int, B);
  g_autofree int *order = g_memdup2 (subset, sizeof (int) * n_labelled);

  const int steps_per_epoch = n_labelled / B;
  const int tail = MAX (1, o->steps / 10);
  double tail_loss = 0.0;
  gboolean ok = TRUE;
  for (int step = 0; step < o->steps && ok; step++)
    {
      const int epoch = step / steps_per_epoch;
      const int first = (step % steps_per_epoch) * B;
      if (first == 0)
        {
          memcpy (order, subset, sizeof (int) * n_labelled);
          shuffle (order, n_labelled, o->seed, DOMAIN_FINETUNE_ORDER, epoch);
        }
      for (int b = 0; b < B && ok; b++)
        {
          int i = order[first + b];
          ok = dataset_get_image (train, i, pixels, error);
          augment_train (augment, pixels, train->channels, train->height,
                         train->width, o->seed, epoch, first + b,
                         images + b * image_floats);
          targets[b] = train->labels[i];
        }
      if (!ok)
        break;
      const float *z = resnet_forward (net, images, B, true);
      classify (&head, logits, scaled, z, B, o->tau);
      float loss = softmax_cross_entropy_forward (logits, logits, targets, B,
                                                  C);
      softmax_cross_entropy_backward (logits, logits, targets, B, C);
      linear_backward (&head, d_scaled, logits, B);
      for (gsize k = 0; k < (gsize) B * D; k++)
        d_scaled[k] /= o->tau;   /* d z = d (z / tau) / tau */
      resnet_backward (net, d_scaled, B, NULL);
      float lr = (float) (o->lr * 0.5 * (1.0 + cos (G_PI * step / o->steps)));
      net_sgd.lr = head_sgd.lr = lr;
      sgd_step (&net_sgd, net->params, net->grads);
      sgd_step (&head_sgd, head_params, head_grads);
      if (step >= o->steps - tail)
        tail_loss += loss;
      if (progress)
        progress (step + 1, o->steps, loss, user_data);
    }
  sgd_clear (&net_sgd);
  sgd_clear (&head_sgd);
  if (!ok)
    return FALSE;
  result->last_loss = (float) (tail_loss / tail);
  if (!score_test (net, &head, augment, test, o->tau, &result->top1,
                   &result->top5, error))
    return FALSE;
  result->seconds = (g_get_monotonic_time () - start_time) / 1e6;
  return TRUE;
}

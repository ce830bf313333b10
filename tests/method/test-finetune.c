/* test-finetune.c: the semi-supervised evaluation (method/finetune.h): the
 * labelled subset, a fine-tuning run that learns on the toy data set, its
 * determinism, and the options it refuses. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>

#include "finetune.h"
#include "test-data.h"
#include "testutil.h"
#include "threads.h"

static char *workdir;

/* The toy data set (test-data.h): n images, class i % 4. Every split
 * starts from the same generated images, so each gets noise of its own
 * (seeded by its name) on top: a test image is never a training image. */
static Dataset *
toy_split (const char *stem, int n)
{
  g_autofree char *images = test_write_toy_idx (workdir, stem, n);
  g_autofree char *labels_name = g_strconcat (stem, "-labels-idx1-ubyte", NULL);
  g_autofree char *labels = g_build_filename (workdir, labels_name, NULL);
  g_autoptr (GError) error = NULL;
  Dataset *d = dataset_load_idx (images, labels, &error);
  g_assert_no_error (error);
  g_autoptr (GRand) rand = g_rand_new_with_seed (g_str_hash (stem));
  for (gsize p = 0; p < (gsize) n * TEST_TOY_SIDE * TEST_TOY_SIDE; p++)
    d->pixels[p] = (guint8) CLAMP (d->pixels[p]
                                   + g_rand_int_range (rand, -20, 21), 0, 255);
  return d;
}

static ResNet *
toy_network (guint64 seed)
{
  ResNetConfig config = resnet_config_small (1, TEST_TOY_SIDE, TEST_TOY_SIDE,
                                             16);
  ResNet *net = resnet_new (&config, 16);
  g_assert_nonnull (net);
  Rng rng;
  rng_seed (&rng, seed);
  resnet_init_parameters (net, &rng);
  return net;
}

static void
count_classes (const Dataset *d, const int *subset, int n, int *counts)
{
  memset (counts, 0, sizeof (int) * d->n_classes);
  for (int i = 0; i < n; i++)
    {
      g_assert_cmpint (subset[i], >=, 0);
      g_assert_cmpint (subset[i], <, d->n);
      counts[d->labels[subset[i]]]++;
    }
}

static void
test_subset (void)
{
  g_autoptr (Dataset) d = toy_split ("subset", 200);
  /* 20% of 200 over 4 classes: 10 of each, every index once */
  int n = 0;
  g_autofree int *a = finetune_labelled_subset (d, 0.2, 5, &n, NULL);
  g_assert_cmpint (n, ==, 40);
  int counts[TEST_TOY_CLASSES];
  count_classes (d, a, n, counts);
  for (int c = 0; c < TEST_TOY_CLASSES; c++)
    g_assert_cmpint (counts[c], ==, 10);
  g_autofree gboolean *seen = g_new0 (gboolean, d->n);
  for (int i = 0; i < n; i++)
    {
      g_assert_false (seen[a[i]]);
      seen[a[i]] = TRUE;
    }

  /* a seed names the subset */
  int n_again = 0, n_other = 0;
  g_autofree int *again = finetune_labelled_subset (d, 0.2, 5, &n_again, NULL);
  g_autofree int *other = finetune_labelled_subset (d, 0.2, 6, &n_other, NULL);
  g_assert_cmpint (n_again, ==, n);
  g_assert_cmpmem (a, sizeof (int) * n, again, sizeof (int) * n_again);
  g_assert_cmpint (n_other, ==, n);
  g_assert_true (memcmp (a, other, sizeof (int) * n) != 0);

  /* a fraction too small for one image a class still takes one */
  g_autofree int *tiny = finetune_labelled_subset (d, 0.001, 5, &n, NULL);
  g_assert_cmpint (n, ==, TEST_TOY_CLASSES);
  count_classes (d, tiny, n, counts);
  for (int c = 0; c < TEST_TOY_CLASSES; c++)
    g_assert_cmpint (counts[c], ==, 1);

  /* an unlabelled set has nothing to fine-tune on */
  g_clear_pointer (&d->labels, g_free);
  d->n_classes = 0;
  g_autoptr (GError) error = NULL;
  g_assert_null (finetune_labelled_subset (d, 0.2, 5, &n, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
}

typedef struct
{
  float first[5], last[5];
} LossLog;

static void
record_loss (int step, int steps, float loss, gpointer user_data)
{
  LossLog *log = user_data;
  if (step <= 5)
    log->first[step - 1] = loss;
  if (step > steps - 5)
    log->last[step - (steps - 5) - 1] = loss;
}

static double
mean5 (const float *v)
{
  return (v[0] + v[1] + v[2] + v[3] + v[4]) / 5.0;
}

/* The Fashion-MNIST transform without its flip and with milder crops: a
 * flip turns the toy's class 0 (left half bright) into class 2 (right). */
static void
toy_augment (AugmentOptions *augment)
{
  augment_options_init_fashion_mnist (augment);
  augment->flip = FALSE;
  augment->scale_min = 0.6f;
}

static FinetuneOptions
toy_options (void)
{
  FinetuneOptions o;
  finetune_options_init_default (&o);
  o.fraction = 0.5;
  o.steps = 40;
  o.batch_size = 16;
  o.lr = 0.05f;
  o.seed = 3;
  return o;
}

/* From a random start the loss falls and the test set is classified: the
 * classes differ by which half of the image is bright. */
static void
test_learns (void)
{
  engine_set_threads (1);
  g_autoptr (Dataset) train = toy_split ("train", 128);
  g_autoptr (Dataset) test = toy_split ("test", 64);
  ResNet *net = toy_network (11);
  AugmentOptions augment;
  toy_augment (&augment);
  FinetuneOptions o = toy_options ();
  LossLog log = { 0 };
  FinetuneResult r;
  g_autoptr (GError) error = NULL;
  g_assert_true (finetune_network (net, &augment, train, test, &o, record_loss,
                                   &log, &r, &error));
  g_assert_no_error (error);
  g_assert_cmpint (r.n_labelled, ==, 64);
  g_test_message ("loss %.4f -> %.4f, test top-1 %.3f (start %.3f)",
                  mean5 (log.first), mean5 (log.last), r.top1, r.start_top1);
  g_assert_cmpfloat (mean5 (log.last), <, 0.5 * mean5 (log.first));
  g_assert_cmpfloat (r.top1, >=, 0.9);
  g_assert_cmpfloat (r.top5, ==, 1.0);   /* 4 classes: always in the top 5 */
  g_assert_cmpfloat (r.last_loss, <, 0.5 * mean5 (log.first));
  g_assert_cmpfloat (r.seconds, >, 0.0);
  resnet_free (net);
}

/* The same start and options give the same network, bit for bit. */
static void
test_deterministic (void)
{
  engine_set_threads (1);
  g_autoptr (Dataset) train = toy_split ("train", 128);
  g_autoptr (Dataset) test = toy_split ("test", 64);
  AugmentOptions augment;
  toy_augment (&augment);
  FinetuneOptions o = toy_options ();
  o.steps = 6;
  FinetuneResult r[2];
  float *params[2];
  size_t n_params = 0;
  for (int k = 0; k < 2; k++)
    {
      ResNet *net = toy_network (11);
      g_assert_true (finetune_network (net, &augment, train, test, &o, NULL,
                                       NULL, &r[k], NULL));
      n_params = net->n_params;
      params[k] = g_memdup2 (net->params, sizeof (float) * n_params);
      resnet_free (net);
    }
  g_assert_cmpmem (params[0], sizeof (float) * n_params, params[1],
                   sizeof (float) * n_params);
  g_assert_cmpfloat (r[0].top1, ==, r[1].top1);
  g_assert_cmpfloat (r[0].last_loss, ==, r[1].last_loss);
  g_free (params[0]);
  g_free (params[1]);
}

static void
test_refuses (void)
{
  g_autoptr (Dataset) train = toy_split ("train", 128);
  g_autoptr (Dataset) test = toy_split ("test", 64);
  ResNet *net = toy_network (11);
  g_autofree float *before = g_memdup2 (net->params,
                                        sizeof (float) * net->n_params);
  AugmentOptions augment;
  toy_augment (&augment);
  FinetuneResult r;
  for (int k = 0; k < 5; k++)
    {
      FinetuneOptions o = toy_options ();
      switch (k)
        {
        case 0: o.fraction = 0.0; break;
        case 1: o.steps = 0; break;
        case 2: o.batch_size = 1; break;
        case 3: o.batch_size = 17; break;   /* above the network's 16 */
        case 4: o.tau = NAN; break;
        }
      g_autoptr (GError) error = NULL;
      g_assert_false (finetune_network (net, &augment, train, test, &o, NULL,
                                        NULL, &r, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    }
  /* a test label the training set does not have */
  test->labels[7] = TEST_TOY_CLASSES;
  FinetuneOptions o = toy_options ();
  g_autoptr (GError) error = NULL;
  g_assert_false (finetune_network (net, &augment, train, test, &o, NULL, NULL,
                                    &r, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "test image 7"));
  /* nothing refused touched the network */
  g_assert_cmpmem (before, sizeof (float) * net->n_params, net->params,
                   sizeof (float) * net->n_params);
  resnet_free (net);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  workdir = g_dir_make_tmp ("instdisc-finetune-XXXXXX", NULL);
  g_assert_nonnull (workdir);
  g_test_add_func ("/method/finetune/subset", test_subset);
  g_test_add_func ("/method/finetune/learns", test_learns);
  g_test_add_func ("/method/finetune/deterministic", test_deterministic);
  g_test_add_func ("/method/finetune/refuses", test_refuses);
  int status = g_test_run ();
  test_remove_tree (workdir);
  g_free (workdir);
  return status;
}

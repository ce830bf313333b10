/* novelty.h: how unlike the training images a query is.
 *
 * The statistic is the similarity of a query's 10th nearest memory-bank
 * row (NOVELTY_K). Raw similarities do not tell: after 3 epochs on
 * Fashion-MNIST every image, wallpapers included, has a nearest row above
 * 0.96, and a wallpaper's top one can beat a shirt's. Among the statistics
 * measured (bench/bench-novelty.c; docs/method.md, "How unlike the
 * training images"): the top one, the 10th, the mean of 10, their spread,
 * each relative to the nearest row's own neighbours, and the coherence of
 * the 10, the 10th separated GNOME's wallpapers from test images best (an
 * AUROC of 0.74 after 3 epochs, 0.84 after 15), the nearest alone worse.
 *
 * It is read against a calibration, not a fixed number: the same
 * statistic over images of the training distribution embedded as queries
 * are (with the test transform, by the network of the snapshot): a sample
 * of the test set, or, without one, of the training set with each
 * image's own bank row left out. Bank rows against one another are not a
 * calibration: they score higher than fresh test images (measured: the
 * bank's 1st percentile is the test set's 3rd to 10th), and would flag
 * ordinary queries. A query scoring below all but 1% of the calibration
 * (novelty_rank < 0.01) is unlike the training images; below 5%, less
 * typical than most. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define NOVELTY_K 10

/* The statistic from a query's neighbours' similarities, most similar
 * first (as knn_search gives them): the k-th, or the last of fewer; NAN
 * when there is none. */
double novelty_score (const float *similarities, int k);

typedef struct
{
  gint64 iteration;   /* of the bank it was made against */
  gboolean from_test; /* test images, or training images leaving one out */
  int n;
  float *scores;      /* (n) sorted, lowest first */
} NoveltyCalibration;

/* Calibrates from the features (n, dim) of images of the training
 * distribution against bank (n_bank, dim); own_rows[i] is image i's own
 * bank row, left out of its neighbours, or own_rows is NULL (test
 * images). Runs knn_search: call it off the main loop. */
NoveltyCalibration *novelty_calibrate (const float *features, int n,
                                       const int *own_rows,
                                       const float *bank, int n_bank,
                                       int dim, gint64 iteration);
void novelty_calibration_free (NoveltyCalibration *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NoveltyCalibration, novelty_calibration_free)

/* The share of the calibration scoring below score, in [0, 1] (ties
 * count half); NAN for a NAN score or an empty calibration. */
double novelty_rank (const NoveltyCalibration *self, double score);

/* The images a calibration embeds: at most this many of the set */
#define NOVELTY_CALIBRATION_IMAGES 256

/* Fills rows (NOVELTY_CALIBRATION_IMAGES) with the rows of a set of
 * n_set images a calibration takes, spread evenly over it, the same for
 * every snapshot; returns how many. */
int novelty_calibration_rows (int n_set, int *rows);

typedef enum
{
  NOVELTY_UNKNOWN,       /* no calibration, or no score */
  NOVELTY_TYPICAL,       /* at or above 5% of the calibration */
  NOVELTY_LESS_TYPICAL,  /* below 5% */
  NOVELTY_UNLIKE,        /* below 1%: unlike the training images */
} NoveltyJudgement;

/* What a rank (novelty_rank) says, by the thresholds above. */
NoveltyJudgement novelty_judge (double rank);

/* How many of the calibration's images score above a query of that rank:
 * a count, as "100%" of a few hundred would claim too much. */
int novelty_count_above (const NoveltyCalibration *self, double rank);

G_END_DECLS

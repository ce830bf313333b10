/* tsne.c: Barnes-Hut t-SNE (see tsne.h for the method and its sources). */
#define G_LOG_DOMAIN "instdisc-explore"

#include "tsne-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "knn.h"
#include "rng.h"
#include "threads.h"

#define LANDMARKS 2048
/* queries per knn_search call, so cancellation is noticed and progress
 * said within seconds (a twenty-ninth of 60,000 points) */
#define KNN_CHUNK 2048

void
tsne_options_init_default (TSneOptions *options)
{
  *options = (TSneOptions) {
    .perplexity = 30.0,
    .theta = 0.5,
    .n_iterations = 1000,
    .exaggeration_iterations = 250,
    .exaggeration = 12.0,
    .learning_rate = 0.0,
    .max_points = 100000,
    .seed = 42,
  };
}

/* ---- affinities ---- */

/* Conditional p_{j|i} over one point's k neighbours at squared distances
 * d (k): the Gaussian precision beta found by bisection so that the
 * entropy is log (perplexity). Distances are shifted by their minimum,
 * which cancels in the normalisation and keeps exp() from underflowing. */
static void
calibrate_row (double *prob, const double *d, int k, double perplexity)
{
  double target = log (perplexity);
  double dmin = d[0];
  for (int j = 1; j < k; j++)
    dmin = MIN (dmin, d[j]);
  double beta = 1.0, lo = 0.0, hi = INFINITY;
  for (int round = 0; round < 200; round++)
    {
      double sum = 0.0, dsum = 0.0;
      for (int j = 0; j < k; j++)
        {
          prob[j] = exp (-beta * (d[j] - dmin));
          sum += prob[j];
          dsum += (d[j] - dmin) * prob[j];
        }
      double entropy = log (sum) + beta * dsum / sum;
      for (int j = 0; j < k; j++)
        prob[j] /= sum;
      if (fabs (entropy - target) < 1e-5)
        break;
      if (entropy > target)
        {
          lo = beta;
          beta = isinf (hi) ? beta * 2.0 : (beta + hi) / 2.0;
        }
      else
        {
          hi = beta;
          beta = (beta + lo) / 2.0;
        }
    }
}

typedef struct
{
  int row, col;
  double p;
} Entry;

static int
compare_entries (const void *a, const void *b)
{
  const Entry *x = a, *y = b;
  if (x->row != y->row)
    return x->row < y->row ? -1 : 1;
  return (x->col > y->col) - (x->col < y->col);
}

static gboolean
compute_affinities (TSne *self, const float *x, double perplexity,
                    TSneProgressFunc progress, gpointer progress_data,
                    GCancellable *cancellable)
{
  int m = self->m;
  int k = MIN ((int) ceil (3.0 * perplexity), m - 1);
  if (k < 1)
    {
      self->row_start = g_new0 (int, m + 1);
      if (progress)
        progress (m, m, progress_data);
      return TRUE;
    }
  perplexity = MIN (perplexity, (double) k);
  /* k + 1: each point finds itself too */
  int kk = k + 1;
  g_autofree float *sims = g_new (float, (size_t) m * kk);
  g_autofree int *idx = g_new (int, (size_t) m * kk);
  for (int start = 0; start < m; start += KNN_CHUNK)
    {
      if (g_cancellable_is_cancelled (cancellable))
        return FALSE;
      int q = MIN (KNN_CHUNK, m - start);
      knn_search (sims + (size_t) start * kk, idx + (size_t) start * kk,
                  x + (size_t) start * self->dim, q, x, m, self->dim, kk);
      if (progress)
        progress (start + q, m, progress_data);
    }

  /* both directions of every (i, j) pair, summed below when both exist */
  size_t n_entries = (size_t) m * k * 2;
  g_autofree Entry *entries = g_new (Entry, n_entries);
  g_autofree double *d = g_new (double, k);
  g_autofree double *prob = g_new (double, k);
  g_autofree int *nbr = g_new (int, k);
  size_t e = 0;
  for (int i = 0; i < m; i++)
    {
      int got = 0;
      for (int j = 0; j < kk && got < k; j++)
        {
          int other = idx[(size_t) i * kk + j];
          if (other == i || other < 0)
            continue;
          /* unit rows: |a - b|^2 = 2 - 2 a.b */
          d[got] = MAX (0.0, 2.0 - 2.0 * sims[(size_t) i * kk + j]);
          nbr[got++] = other;
        }
      calibrate_row (prob, d, got, MIN (perplexity, (double) got));
      for (int j = 0; j < got; j++)
        {
          entries[e++] = (Entry) { i, nbr[j], prob[j] };
          entries[e++] = (Entry) { nbr[j], i, prob[j] };
        }
    }
  qsort (entries, e, sizeof (Entry), compare_entries);

  self->row_start = g_new0 (int, m + 1);
  self->col = g_new (int, e);
  self->p = g_new (double, e);
  size_t nnz = 0;
  for (size_t a = 0; a < e; a++)
    {
      if (nnz > 0 && self->col[nnz - 1] == entries[a].col
          && a > 0 && entries[a - 1].row == entries[a].row)
        {
          self->p[nnz - 1] += entries[a].p;
          continue;
        }
      self->col[nnz] = entries[a].col;
      self->p[nnz] = entries[a].p;
      self->row_start[entries[a].row + 1]++;
      nnz++;
    }
  for (int i = 0; i < m; i++)
    self->row_start[i + 1] += self->row_start[i];
  /* P = (P_cond + P_cond^T) / (2 m): each row of P_cond sums to one */
  for (size_t a = 0; a < nnz; a++)
    self->p[a] /= 2.0 * m;
  return TRUE;
}

/* ---- the subsample and the rows outside it ---- */

static int
compare_ints (const void *a, const void *b)
{
  int x = *(const int *) a, y = *(const int *) b;
  return (x > y) - (x < y);
}

/* Chooses m of the n rows (a seeded shuffle's first m, in row order),
 * copies them to *sample_rows (m, D), and places every other row at the
 * sampled point of its most similar landmark. */
static gboolean
choose_sample (TSne *self, const float *data, guint64 seed,
               float **sample_rows, GCancellable *cancellable)
{
  int n = self->n, m = self->m, dim = self->dim;
  Rng rng;
  rng_seed (&rng, seed ^ 0x7453a4e5ULL);
  g_autofree int *perm = g_new (int, n);
  for (int i = 0; i < n; i++)
    perm[i] = i;
  /* partial Fisher-Yates: the first m of a seeded shuffle */
  for (int i = 0; i < m; i++)
    {
      int j = i + (int) rng_below (&rng, (uint64_t) (n - i));
      int t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
  /* landmarks: the first few of the shuffle, a random spread of the sample */
  int n_landmarks = MIN (LANDMARKS, m);
  g_autofree float *landmarks = g_new (float, (size_t) n_landmarks * dim);
  g_autofree int *landmark_row = g_new (int, n_landmarks);
  for (int l = 0; l < n_landmarks; l++)
    {
      landmark_row[l] = perm[l];
      memcpy (landmarks + (size_t) l * dim, data + (size_t) perm[l] * dim,
              dim * sizeof (float));
    }

  self->sample = g_new (int, m);
  memcpy (self->sample, perm, m * sizeof (int));
  qsort (self->sample, m, sizeof (int), compare_ints);

  self->place = g_new (int, n);
  for (int i = 0; i < n; i++)
    self->place[i] = -1;
  float *rows = g_new (float, (size_t) m * dim);
  for (int s = 0; s < m; s++)
    {
      self->place[self->sample[s]] = s;
      memcpy (rows + (size_t) s * dim, data + (size_t) self->sample[s] * dim,
              dim * sizeof (float));
    }
  *sample_rows = rows;

  /* the rest, in chunks of consecutive rows */
  g_autofree float *query = g_new (float, (size_t) KNN_CHUNK * dim);
  g_autofree int *rest = g_new (int, KNN_CHUNK);
  g_autofree int *nearest = g_new (int, KNN_CHUNK);
  int i = 0;
  while (i < n)
    {
      if (g_cancellable_is_cancelled (cancellable))
        return FALSE;
      int q = 0;
      for (; i < n && q < KNN_CHUNK; i++)
        if (self->place[i] < 0)
          {
            rest[q] = i;
            memcpy (query + (size_t) q * dim, data + (size_t) i * dim,
                    dim * sizeof (float));
            q++;
          }
      if (q == 0)
        break;
      knn_search (NULL, nearest, query, q, landmarks, n_landmarks, dim, 1);
      for (int a = 0; a < q; a++)
        self->place[rest[a]] = self->place[landmark_row[nearest[a]]];
    }
  return TRUE;
}

/* ---- the gradient, over the engine's threads ---- */

/* points a thread takes at a time: dense regions of the map cost more a
 * point than sparse ones, so equal halves would leave one thread waiting */
#define FORCE_BLOCK 512
/* below this many points the iteration is too short to split */
#define FORCE_MIN_POINTS 2000

typedef struct
{
  TSne *self;
  int next_block;       /* atomic: the next block to take */
  int n_blocks;
  double *block_z;      /* (n_blocks) each block's share of Z, summed in
                           order afterwards so Z does not depend on which
                           thread took which block */
} ForceWork;

/* The engine's threads take blocks from a counter rather than a fixed
 * share by (ith, nth): how long a block takes depends on the layout, and a
 * thread that starts late (a worker waking up, a busy machine) takes fewer.
 * Each point's forces and each block's Z are computed the same way
 * whichever thread takes the block, so the result depends neither on nth
 * nor on timing. */
static void
forces_task (void *arg, int ith, int nth)
{
  ForceWork *work = arg;
  TSne *self = work->self;
  int b;
  while ((b = g_atomic_int_add (&work->next_block, 1)) < work->n_blocks)
    {
      double z = 0.0;
      int hi = MIN (self->m, (b + 1) * FORCE_BLOCK);
      for (int o = b * FORCE_BLOCK; o < hi; o++)
        {
          int i = (int) (guint32) self->order[o];
          z += tsne_tree_repulsion (self, i, self->rep + 2 * i);
          /* attraction: sum_j p_ij w_ij (y_i - y_j) over i's sparse row */
          double ax = 0.0, ay = 0.0;
          double xi = self->y[2 * i], yi = self->y[2 * i + 1];
          for (int a = self->row_start[i]; a < self->row_start[i + 1]; a++)
            {
              int j = self->col[a];
              double dx = xi - self->y[2 * j], dy = yi - self->y[2 * j + 1];
              double w = self->p[a] / (1.0 + dx * dx + dy * dy);
              ax += w * dx;
              ay += w * dy;
            }
          self->attr[2 * i] = ax;
          self->attr[2 * i + 1] = ay;
        }
      work->block_z[b] = z;
    }
}

/* attr and rep for every point; returns Z */
static double
compute_forces (TSne *self)
{
  tsne_tree_prepare (self);
  ForceWork work = { self, 0, (self->m + FORCE_BLOCK - 1) / FORCE_BLOCK };
  work.block_z = g_new (double, MAX (work.n_blocks, 1));
  if (self->m < FORCE_MIN_POINTS)
    forces_task (&work, 0, 1);
  else
    engine_parallel (forces_task, &work);
  double z = 0.0;
  for (int b = 0; b < work.n_blocks; b++)
    z += work.block_z[b];
  g_free (work.block_z);
  return MAX (z, 1e-300);
}

/* ---- the optimisation ---- */

int
tsne_step (TSne *self, int n_iterations)
{
  int m = self->m, done = 0;
  for (; done < n_iterations && self->iteration < self->n_iterations; done++)
    {
      gboolean early = !self->warm
                       && self->iteration < self->exaggeration_iterations;
      double exaggeration = early ? self->exaggeration : 1.0;
      double momentum = early ? 0.5 : 0.8;
      double z = compute_forces (self);
      for (int a = 0; a < 2 * m; a++)
        {
          /* dC/dy_i = 4 (sum_j p_ij w_ij (y_i - y_j)
           *              - sum_j w_ij^2 (y_i - y_j) / Z) */
          double g = 4.0 * (exaggeration * self->attr[a] - self->rep[a] / z);
          /* gains grow where the gradient keeps pointing against the last
           * step's direction and shrink where it agrees */
          if ((g > 0.0) != (self->update[a] > 0.0))
            self->gains[a] += 0.2;
          else
            self->gains[a] *= 0.8;
          self->gains[a] = MAX (self->gains[a], 0.01);
          self->update[a] = momentum * self->update[a]
                            - self->learning_rate * self->gains[a] * g;
          self->y[a] += self->update[a];
        }
      /* keep the layout centred (the gradient is translation-free, rounding
       * is not) */
      double mx = 0.0, my = 0.0;
      for (int i = 0; i < m; i++)
        {
          mx += self->y[2 * i];
          my += self->y[2 * i + 1];
        }
      mx /= m;
      my /= m;
      for (int i = 0; i < m; i++)
        {
          self->y[2 * i] -= mx;
          self->y[2 * i + 1] -= my;
        }
      self->iteration++;
    }
  return done;
}

double
tsne_get_kl (TSne *self)
{
  if (self->m < 2)
    return 0.0;
  double z = compute_forces (self);
  double kl = 0.0;
  for (int i = 0; i < self->m; i++)
    for (int a = self->row_start[i]; a < self->row_start[i + 1]; a++)
      {
        int j = self->col[a];
        double dx = self->y[2 * i] - self->y[2 * j];
        double dy = self->y[2 * i + 1] - self->y[2 * j + 1];
        double q = 1.0 / (1.0 + dx * dx + dy * dy) / z;
        if (self->p[a] > 0.0)
          kl += self->p[a] * log (self->p[a] / MAX (q, 1e-300));
      }
  return kl;
}

int
tsne_get_iteration (const TSne *self)
{
  return self->iteration;
}

int
tsne_get_n_iterations (const TSne *self)
{
  return self->n_iterations;
}

gboolean
tsne_is_done (const TSne *self)
{
  return self->iteration >= self->n_iterations;
}

int
tsne_get_n_sampled (const TSne *self)
{
  return self->m;
}

void
tsne_get_layout (const TSne *self, float *layout)
{
  if (!self->sample)
    {
      for (int a = 0; a < 2 * self->n; a++)
        layout[a] = (float) self->y[a];
      return;
    }
  /* rows outside the sample sit at their landmark's sample point, spread
   * over a small disc (a hash of the row) so they do not hide one another */
  double var = 0.0;
  for (int a = 0; a < 2 * self->m; a++)
    var += self->y[a] * self->y[a];
  double radius = 0.01 * sqrt (var / MAX (1, self->m));
  for (int i = 0; i < self->n; i++)
    {
      int s = self->place[i];
      double x = self->y[2 * s], y = self->y[2 * s + 1];
      if (self->sample[s] != i)
        {
          guint32 h = (guint32) i * 2654435761u;
          double angle = (h & 0xffff) / 65536.0 * 2.0 * G_PI;
          double r = radius * sqrt ((h >> 16) / 65536.0);
          x += r * cos (angle);
          y += r * sin (angle);
        }
      layout[2 * i] = (float) x;
      layout[2 * i + 1] = (float) y;
    }
}

void
tsne_free (TSne *self)
{
  if (!self)
    return;
  g_free (self->sample);
  g_free (self->place);
  g_free (self->row_start);
  g_free (self->col);
  g_free (self->p);
  g_free (self->y);
  g_free (self->update);
  g_free (self->gains);
  g_free (self->grad);
  g_free (self->attr);
  g_free (self->rep);
  g_free (self->nodes);
  g_free (self->flat);
  g_free (self->order);
  g_free (self);
}

TSne *
tsne_new (const float *data, int n, int dim, const float *init,
          gboolean warm_start, const TSneOptions *options,
          TSneProgressFunc progress, gpointer progress_data,
          GCancellable *cancellable)
{
  ENGINE_CHECK (n >= 1 && dim >= 1);
  TSneOptions defaults;
  if (!options)
    {
      tsne_options_init_default (&defaults);
      options = &defaults;
    }
  g_autoptr (TSne) self = g_new0 (TSne, 1);
  self->n = n;
  self->dim = dim;
  self->m = options->max_points > 0 ? MIN (n, options->max_points) : n;
  self->theta = options->theta;
  self->exaggeration = options->exaggeration;
  self->exaggeration_iterations = options->exaggeration_iterations;
  self->n_iterations = options->n_iterations;
  self->warm = warm_start && init != NULL;
  self->learning_rate = options->learning_rate > 0.0
                          ? options->learning_rate
                          : MAX (self->m / options->exaggeration, 200.0);

  g_autofree float *sample_rows = NULL;
  const float *x = data;
  if (self->m < n)
    {
      if (!choose_sample (self, data, options->seed, &sample_rows,
                          cancellable))
        return NULL;
      x = sample_rows;
    }
  if (!compute_affinities (self, x, options->perplexity, progress,
                           progress_data, cancellable))
    return NULL;

  int m = self->m;
  self->y = g_new (double, 2 * (size_t) m);
  self->update = g_new0 (double, 2 * (size_t) m);
  self->gains = g_new (double, 2 * (size_t) m);
  self->grad = g_new0 (double, 2 * (size_t) m);
  self->attr = g_new0 (double, 2 * (size_t) m);
  self->rep = g_new0 (double, 2 * (size_t) m);
  for (int a = 0; a < 2 * m; a++)
    self->gains[a] = 1.0;

  for (int s = 0; s < m; s++)
    {
      int row = self->sample ? self->sample[s] : s;
      if (init)
        {
          self->y[2 * s] = init[2 * row];
          self->y[2 * s + 1] = init[2 * row + 1];
        }
      else
        {
          /* a seeded Gaussian cloud, per row, so a subsample sees the same
           * start for the same row */
          Rng rng;
          rng_seed (&rng, options->seed * 0x9e3779b97f4a7c15ULL + row);
          self->y[2 * s] = rng_normal (&rng);
          self->y[2 * s + 1] = rng_normal (&rng);
        }
    }
  if (!self->warm)
    {
      /* a shape only: centred and shrunk to a spread of 1e-4 (van der
       * Maaten's random start; the same scale for a PCA start, as openTSNE
       * does), so early exaggeration can form the clusters */
      double mx = 0.0, my = 0.0, var = 0.0;
      for (int s = 0; s < m; s++)
        {
          mx += self->y[2 * s];
          my += self->y[2 * s + 1];
        }
      mx /= m;
      my /= m;
      for (int s = 0; s < m; s++)
        var += (self->y[2 * s] - mx) * (self->y[2 * s] - mx);
      double scale = var > 0.0 ? 1e-4 / sqrt (var / m) : 1.0;
      for (int s = 0; s < m; s++)
        {
          self->y[2 * s] = (self->y[2 * s] - mx) * scale;
          self->y[2 * s + 1] = (self->y[2 * s + 1] - my) * scale;
        }
    }
  return g_steal_pointer (&self);
}

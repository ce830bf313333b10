/* tsne-private.h: what the two files of the t-SNE share: tsne.c (the
 * affinities, the subsample, the gradient on the engine's threads and the
 * optimisation) and tsne-tree.c (the Barnes-Hut quadtree that
 * approximates the repulsive forces). */
#pragma once

#include "tsne.h"

G_BEGIN_DECLS

/* beyond this depth a quadtree leaf keeps every point that reaches it:
 * cells are then ~1e-15 of the map, below what a float layout resolves */
#define TREE_MAX_DEPTH 48

typedef struct
{
  double cx, cy, hw;   /* the cell: centre and half width */
  double sx, sy;       /* sum of the positions of the points inside */
  int count;
  int child;           /* first of four children, or -1 for a leaf */
  int point;           /* a leaf's point (the first, when it holds several) */
} Node;

/* The tree as the force loop reads it: non-empty nodes in depth-first
 * pre-order, so a node's children follow it and `skip` jumps over its
 * subtree. The walk needs no stack and goes forward through memory, and
 * 32 bytes a node instead of 56 keep more of the tree in cache. */
typedef struct
{
  double mx, my;       /* centre of mass */
  double open2;        /* an inner node is opened when d^2 <= open2, i.e.
                          width^2 >= theta^2 d^2; -1 for a leaf */
  int count;
  int skip;            /* the first node after this one's subtree */
  int point;           /* a leaf's (first) point, else -1 */
} Flat;

struct _TSne
{
  int n, m, dim;          /* rows, rows laid out (the sample), features */
  int *sample;            /* (m) row of each laid-out point; NULL when m = n */
  int *place;             /* (n) the laid-out point each row sits at */

  /* P: symmetric sparse affinities over the m points, CSR, summing to 1 */
  int *row_start;         /* (m + 1) */
  int *col;               /* (nnz) */
  double *p;              /* (nnz) */

  double *y;              /* (m, 2) the layout */
  double *update;         /* (m, 2) the last step, for momentum */
  double *gains;          /* (m, 2) */
  double *grad;           /* (m, 2) */
  double *attr, *rep;     /* (m, 2) forces of one iteration */

  Node *nodes;
  int n_nodes, nodes_cap;
  Flat *flat;             /* the tree's non-empty nodes in pre-order */
  int n_flat;
  guint64 *order;         /* (m) Morton key << 32 | point, sorted */

  int iteration, n_iterations, exaggeration_iterations;
  double exaggeration, learning_rate, theta;
  gboolean warm;
};

/* ---- tsne-tree.c ---- */

/* Builds the quadtree of the current layout and its flat, Morton-ordered
 * form that tsne_tree_repulsion walks. */
void tsne_tree_prepare (TSne *self);
/* Point i's repulsive force (unnormalised) into force[2]; returns its
 * share of the normaliser Z. */
double tsne_tree_repulsion (const TSne *self, int i, double *force);

G_END_DECLS

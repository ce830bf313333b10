/* tsne-tree.c: the Barnes-Hut quadtree of the t-SNE layout: built for
 * each iteration, flattened in depth-first order, and walked for each
 * point's repulsive force (see tsne.h for the method). */
#define G_LOG_DOMAIN "instdisc-explore"

#include "tsne-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the quadtree ---- */

static int
tree_alloc4 (TSne *self, double cx, double cy, double hw)
{
  if (self->n_nodes + 4 > self->nodes_cap)
    {
      self->nodes_cap = MAX (1024, self->nodes_cap * 2);
      self->nodes = g_renew (Node, self->nodes, self->nodes_cap);
    }
  int first = self->n_nodes;
  for (int q = 0; q < 4; q++)
    self->nodes[first + q] = (Node) {
      .cx = cx + ((q & 1) ? hw : -hw) / 2.0,
      .cy = cy + ((q & 2) ? hw : -hw) / 2.0,
      .hw = hw / 2.0,
      .child = -1,
      .point = -1,
    };
  self->n_nodes += 4;
  return first;
}

static inline int
quadrant (const Node *node, double x, double y)
{
  return (x >= node->cx) + 2 * (y >= node->cy);
}

static void
tree_insert (TSne *self, int p, double x, double y)
{
  int at = 0;
  for (int depth = 0;; depth++)
    {
      Node *node = &self->nodes[at];
      if (node->child >= 0)
        {
          node->sx += x;
          node->sy += y;
          node->count++;
          at = node->child + quadrant (node, x, y);
          continue;
        }
      if (node->count == 0)
        {
          node->sx = x;
          node->sy = y;
          node->count = 1;
          node->point = p;
          return;
        }
      /* a leaf holding points: they coincide (or the cell is tiny) */
      double qx = node->sx / node->count, qy = node->sy / node->count;
      if (depth >= TREE_MAX_DEPTH || (qx == x && qy == y))
        {
          node->sx += x;
          node->sy += y;
          node->count++;
          return;
        }
      /* split: the old points move to their child, and the new one is
       * inserted into this (now inner) node again */
      double cx = node->cx, cy = node->cy, hw = node->hw;
      int first = tree_alloc4 (self, cx, cy, hw);
      node = &self->nodes[at];   /* the array may have moved */
      Node *old = &self->nodes[first + quadrant (node, qx, qy)];
      old->sx = node->sx;
      old->sy = node->sy;
      old->count = node->count;
      old->point = node->point;
      node->child = first;
      node->point = -1;
      depth--;
    }
}

static void
tree_build (TSne *self)
{
  int m = self->m;
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (int i = 0; i < m; i++)
    {
      x0 = MIN (x0, self->y[2 * i]);
      x1 = MAX (x1, self->y[2 * i]);
      y0 = MIN (y0, self->y[2 * i + 1]);
      y1 = MAX (y1, self->y[2 * i + 1]);
    }
  double hw = MAX (x1 - x0, y1 - y0) / 2.0;
  hw = hw * (1.0 + 1e-6) + 1e-12;
  if (self->nodes_cap == 0)
    {
      self->nodes_cap = 1024;
      self->nodes = g_new (Node, self->nodes_cap);
    }
  self->nodes[0] = (Node) {
    .cx = (x0 + x1) / 2.0, .cy = (y0 + y1) / 2.0, .hw = hw,
    .child = -1, .point = -1,
  };
  self->n_nodes = 1;
  for (int i = 0; i < m; i++)
    tree_insert (self, i, self->y[2 * i], self->y[2 * i + 1]);
}

static void
tree_flatten_node (TSne *self, int at, double theta2)
{
  const Node *node = &self->nodes[at];
  if (node->count == 0)
    return;
  int me = self->n_flat++;
  double width = 2.0 * node->hw;
  self->flat[me] = (Flat) {
    .mx = node->sx / node->count,
    .my = node->sy / node->count,
    .open2 = node->child < 0 ? -1.0
             : theta2 > 0.0 ? width * width / theta2 : INFINITY,
    .count = node->count,
    .point = node->child < 0 ? node->point : -1,
  };
  if (node->child >= 0)
    for (int q = 0; q < 4; q++)
      tree_flatten_node (self, node->child + q, theta2);
  self->flat[me].skip = self->n_flat;
}

/* interleaves the low 16 bits of x with zeros */
static inline guint32
spread_bits (guint32 x)
{
  x &= 0xffff;
  x = (x | (x << 8)) & 0x00ff00ff;
  x = (x | (x << 4)) & 0x0f0f0f0f;
  x = (x | (x << 2)) & 0x33333333;
  x = (x | (x << 1)) & 0x55555555;
  return x;
}

static int
compare_u64 (const void *a, const void *b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;
  return (x > y) - (x < y);
}

/* The flat tree, and the points in Morton (Z-curve) order of their place:
 * consecutive points then walk nearly the same nodes, which stay in cache,
 * and each thread's share is one region of the map. */
void
tsne_tree_prepare (TSne *self)
{
  tree_build (self);
  self->flat = g_renew (Flat, self->flat, self->n_nodes);
  self->n_flat = 0;
  tree_flatten_node (self, 0, self->theta * self->theta);

  const Node *root = &self->nodes[0];
  double x0 = root->cx - root->hw, y0 = root->cy - root->hw;
  double cells = 65535.0 / MAX (2.0 * root->hw, 1e-300);
  if (!self->order)
    self->order = g_new (guint64, self->m);
  for (int i = 0; i < self->m; i++)
    {
      guint32 qx = (guint32) CLAMP ((self->y[2 * i] - x0) * cells, 0, 65535);
      guint32 qy = (guint32) CLAMP ((self->y[2 * i + 1] - y0) * cells, 0,
                                    65535);
      guint64 key = spread_bits (qx) | spread_bits (qy) << 1;
      self->order[i] = key << 32 | (guint32) i;
    }
  qsort (self->order, self->m, sizeof (guint64), compare_u64);
}

/* The repulsion on point i, sum_j w_ij^2 (y_i - y_j) with w = 1 / (1 + d^2),
 * into force (2); returns sum_j w_ij (its share of the normaliser Z). */
double
tsne_tree_repulsion (const TSne *self, int i, double *force)
{
  const Flat *flat = self->flat;
  double xi = self->y[2 * i], yi = self->y[2 * i + 1];
  double fx = 0.0, fy = 0.0, z = 0.0;
  int a = 0;
  while (a < self->n_flat)
    {
      const Flat *node = &flat[a];
      double dx = xi - node->mx, dy = yi - node->my;
      double d2 = dx * dx + dy * dy;
      if (d2 <= node->open2)
        {
          a++;   /* near: into the children, which come next */
          continue;
        }
      a = node->skip;
      double c = node->count;
      if (node->open2 < 0.0 && (node->point == i || d2 < 1e-24))
        c -= 1.0;   /* the leaf holds i itself */
      if (c <= 0.0)
        continue;
      double w = 1.0 / (1.0 + d2);
      z += c * w;
      fx += c * w * w * dx;
      fy += c * w * w * dy;
    }
  force[0] = fx;
  force[1] = fy;
  return z;
}


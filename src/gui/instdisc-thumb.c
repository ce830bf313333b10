/* instdisc-thumb.c: integer-scaled textures and the widget that shows them. */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-thumb.h"

#include <glib/gi18n.h>
#include <string.h>

GdkTexture *
instdisc_texture_new_from_pixels (const guint8 *pixels, int channels,
                                  int height, int width, int scale)
{
  g_return_val_if_fail (channels == 1 || channels == 3, NULL);
  scale = MAX (scale, 1);
  int oh = height * scale, ow = width * scale;
  gsize stride = (gsize) ow * 3;
  guint8 *rgb = g_malloc (stride * oh);
  size_t plane = (size_t) height * width;
  for (int y = 0; y < oh; y++)
    {
      guint8 *row = rgb + (gsize) y * stride;
      int sy = y / scale;
      for (int x = 0; x < ow; x++)
        {
          size_t at = (size_t) sy * width + x / scale;
          /* (C, H, W) planes to interleaved RGB; grey repeats its value
           * (GTK 4.8 has no one-channel memory format) */
          for (int c = 0; c < 3; c++)
            row[3 * x + c] = pixels[(channels == 3 ? c * plane : 0) + at];
        }
    }
  g_autoptr (GBytes) bytes = g_bytes_new_take (rgb, stride * oh);
  return gdk_memory_texture_new (ow, oh, GDK_MEMORY_R8G8B8, bytes, stride);
}

GdkTexture *
instdisc_texture_new_from_dataset (const Dataset *data, int i, int size,
                                   GError **error)
{
  g_autofree guint8 *pixels
    = g_malloc ((size_t) data->channels * data->height * data->width);
  if (!dataset_get_image (data, i, pixels, error))
    return NULL;
  int scale = MAX (1, size / MAX (data->width, data->height));
  return instdisc_texture_new_from_pixels (pixels, data->channels,
                                           data->height, data->width, scale);
}

struct _InstdiscThumb
{
  GtkWidget parent_instance;

  /* owned */
  GdkTexture *texture;

  int size;
  InstdiscThumbMark mark;
  /* which set_image request the thumb waits for: a decode that comes back
   * for an older one is cached but not shown */
  guint request;
  gboolean loading;
};

/* ---- decoded images of on-disk sets: two workers and a cache ---- */

/* (data, i, size): which picture at which size. The cache's entry holds a
 * reference to data, so the pointer cannot be reused while it is a key. */
typedef struct
{
  const Dataset *data;
  int i, size;
} ThumbKey;

typedef struct
{
  ThumbKey key;
  GdkTexture *texture;   /* or NULL, and error says why */
  char *error;
  GList *link;           /* in lru, newest first */
} ThumbEntry;

typedef struct
{
  ThumbKey key;          /* key.data referenced */
  GWeakRef thumb;
  guint request;
  GdkTexture *texture;
  char *error;
} ThumbJob;

static GHashTable *thumb_cache;   /* ThumbKey * -> ThumbEntry *, main thread */
static GQueue thumb_lru = G_QUEUE_INIT;
static GThreadPool *thumb_pool;

static guint
thumb_key_hash (gconstpointer p)
{
  const ThumbKey *k = p;
  return g_direct_hash (k->data) ^ (guint) (k->i * 2654435761u)
         ^ (guint) k->size;
}

static gboolean
thumb_key_equal (gconstpointer a, gconstpointer b)
{
  const ThumbKey *x = a, *y = b;
  return x->data == y->data && x->i == y->i && x->size == y->size;
}

static void
thumb_entry_free (gpointer p)
{
  ThumbEntry *entry = p;
  dataset_unref ((Dataset *) entry->key.data);
  g_clear_object (&entry->texture);
  g_free (entry->error);
  g_free (entry);
}

static ThumbEntry *
thumb_cache_lookup (const ThumbKey *key)
{
  if (!thumb_cache)
    return NULL;
  ThumbEntry *entry = g_hash_table_lookup (thumb_cache, key);
  if (entry)
    {
      /* the most recently used goes to the front */
      g_queue_unlink (&thumb_lru, entry->link);
      g_queue_push_head_link (&thumb_lru, entry->link);
    }
  return entry;
}

static void
thumb_cache_insert (const ThumbKey *key, GdkTexture *texture,
                    const char *error)
{
  if (!thumb_cache)
    thumb_cache = g_hash_table_new_full (thumb_key_hash, thumb_key_equal,
                                         NULL, thumb_entry_free);
  if (g_hash_table_contains (thumb_cache, key))
    return;
  ThumbEntry *entry = g_new0 (ThumbEntry, 1);
  entry->key = *key;
  dataset_ref (key->data);
  entry->texture = texture ? g_object_ref (texture) : NULL;
  entry->error = g_strdup (error);
  g_queue_push_head (&thumb_lru, entry);
  entry->link = thumb_lru.head;
  g_hash_table_insert (thumb_cache, &entry->key, entry);
  while (thumb_lru.length > INSTDISC_THUMB_CACHE_SIZE)
    {
      ThumbEntry *oldest = g_queue_pop_tail (&thumb_lru);
      g_hash_table_remove (thumb_cache, &oldest->key);
    }
}

static void
thumb_job_free (ThumbJob *job)
{
  dataset_unref ((Dataset *) job->key.data);
  g_weak_ref_clear (&job->thumb);
  g_clear_object (&job->texture);
  g_free (job->error);
  g_free (job);
}

static void
thumb_show_entry (InstdiscThumb *self, GdkTexture *texture, const char *error)
{
  self->loading = FALSE;
  instdisc_thumb_set_texture (self, texture);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self), error);
}

/* main thread: a decode is back */
static gboolean
thumb_job_deliver (gpointer p)
{
  ThumbJob *job = p;
  thumb_cache_insert (&job->key, job->texture, job->error);
  g_autoptr (InstdiscThumb) thumb = g_weak_ref_get (&job->thumb);
  if (thumb && thumb->request == job->request)
    thumb_show_entry (thumb, job->texture, job->error);
  thumb_job_free (job);
  return G_SOURCE_REMOVE;
}

/* a worker thread */
static void
thumb_job_run (gpointer p, gpointer unused)
{
  ThumbJob *job = p;
  g_autoptr (GError) error = NULL;
  job->texture = instdisc_texture_new_from_dataset (job->key.data, job->key.i,
                                                    job->key.size, &error);
  if (!job->texture)
    job->error = g_strdup (error->message);
  g_idle_add (thumb_job_deliver, job);
}

G_DEFINE_FINAL_TYPE (InstdiscThumb, instdisc_thumb, GTK_TYPE_WIDGET)

#define FRAME 3

static void
instdisc_thumb_measure (GtkWidget *widget, GtkOrientation orientation,
                        int for_size, int *minimum, int *natural,
                        int *minimum_baseline, int *natural_baseline)
{
  InstdiscThumb *self = INSTDISC_THUMB (widget);
  *minimum = *natural = self->size + 2 * FRAME;
}

static void
instdisc_thumb_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  InstdiscThumb *self = INSTDISC_THUMB (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  GdkRGBA frame;
  float width = FRAME;
  switch (self->mark)
    {
    case INSTDISC_THUMB_SAME_CLASS:
      gdk_rgba_parse (&frame, "#2ec27e");   /* GNOME green 4 */
      break;
    case INSTDISC_THUMB_OTHER_CLASS:
      gdk_rgba_parse (&frame, "#e01b24");   /* GNOME red 3 */
      width = 1;
      break;
    case INSTDISC_THUMB_QUERY:
      gdk_rgba_parse (&frame, "#3584e4");   /* GNOME blue 3 */
      break;
    case INSTDISC_THUMB_PLAIN:
    default:
      /* a thin grey outline, so that a row of unmarked images (the
       * neighbours of an unlabelled query) lines up with the framed rows
       * around it instead of looking smaller */
      gdk_rgba_parse (&frame, "rgba(154,153,150,0.6)");   /* GNOME light 5 */
      width = 1;
      break;
    }
  /* the image centred in the square, never scaled by GTK: its texture is
   * already at the shown size, so pixels stay crisp */
  if (self->texture)
    {
      int tw = gdk_texture_get_width (self->texture);
      int th = gdk_texture_get_height (self->texture);
      float fit = MIN (1.0f, (float) self->size / MAX (tw, th));
      float dw = tw * fit, dh = th * fit;
      graphene_rect_t r = GRAPHENE_RECT_INIT ((w - dw) / 2, (h - dh) / 2,
                                              dw, dh);
      gtk_snapshot_append_texture (snapshot, self->texture, &r);
    }
  GskRoundedRect outline;
  gsk_rounded_rect_init_from_rect (&outline, &GRAPHENE_RECT_INIT (0, 0, w, h),
                                   2);
  float widths[4] = { width, width, width, width };
  GdkRGBA colors[4] = { frame, frame, frame, frame };
  gtk_snapshot_append_border (snapshot, &outline, widths, colors);
}

static void
instdisc_thumb_dispose (GObject *object)
{
  InstdiscThumb *self = INSTDISC_THUMB (object);
  g_clear_object (&self->texture);
  G_OBJECT_CLASS (instdisc_thumb_parent_class)->dispose (object);
}

static void
instdisc_thumb_class_init (InstdiscThumbClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->dispose = instdisc_thumb_dispose;
  widget_class->measure = instdisc_thumb_measure;
  widget_class->snapshot = instdisc_thumb_snapshot;
  gtk_widget_class_set_css_name (widget_class, "thumb");
}

static void
instdisc_thumb_init (InstdiscThumb *self)
{
  self->size = 84;
}

GtkWidget *
instdisc_thumb_new (GdkTexture *texture, int size)
{
  InstdiscThumb *self = g_object_new (INSTDISC_TYPE_THUMB, NULL);
  self->size = size;
  instdisc_thumb_set_texture (self, texture);
  return GTK_WIDGET (self);
}

void
instdisc_thumb_set_texture (InstdiscThumb *self, GdkTexture *texture)
{
  g_return_if_fail (INSTDISC_IS_THUMB (self));
  if (g_set_object (&self->texture, texture))
    gtk_widget_queue_draw (GTK_WIDGET (self));
}

GdkTexture *
instdisc_thumb_get_texture (InstdiscThumb *self)
{
  return self->texture;
}

gboolean
instdisc_thumb_is_loading (InstdiscThumb *self)
{
  return self->loading;
}

void
instdisc_thumb_set_image (InstdiscThumb *self, const Dataset *data, int i)
{
  g_return_if_fail (INSTDISC_IS_THUMB (self));
  self->request++;
  if (data->pixels)
    {
      /* in memory: a copy and a scale, at once */
      g_autoptr (GError) error = NULL;
      g_autoptr (GdkTexture) texture
        = instdisc_texture_new_from_dataset (data, i, self->size, &error);
      thumb_show_entry (self, texture, error ? error->message : NULL);
      return;
    }
  ThumbKey key = { data, i, self->size };
  ThumbEntry *entry = thumb_cache_lookup (&key);
  if (entry)
    {
      thumb_show_entry (self, entry->texture, entry->error);
      return;
    }
  thumb_show_entry (self, NULL, NULL);
  self->loading = TRUE;
  if (!thumb_pool)
    /* two: the neighbours arrive a few at a time without taking the
     * cores from a training beside them */
    thumb_pool = g_thread_pool_new (thumb_job_run, NULL, 2, FALSE, NULL);
  ThumbJob *job = g_new0 (ThumbJob, 1);
  job->key = key;
  dataset_ref (data);
  g_weak_ref_init (&job->thumb, self);
  job->request = self->request;
  g_thread_pool_push (thumb_pool, job, NULL);
}

void
instdisc_thumb_set_mark (InstdiscThumb *self, InstdiscThumbMark mark)
{
  g_return_if_fail (INSTDISC_IS_THUMB (self));
  self->mark = mark;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

InstdiscThumbMark
instdisc_thumb_get_mark (InstdiscThumb *self)
{
  return self->mark;
}

GtkWidget *
instdisc_thumb_card_new (GdkTexture *texture, int size, InstdiscThumbMark mark,
                         const char *line1, const char *line2)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *thumb = instdisc_thumb_new (texture, size);
  instdisc_thumb_set_mark (INSTDISC_THUMB (thumb), mark);
  gtk_widget_set_halign (thumb, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (box), thumb);
  g_object_set_data (G_OBJECT (box), "thumb", thumb);
  const char *lines[2] = { line1, line2 };
  for (int i = 0; i < 2; i++)
    {
      if (!lines[i])
        continue;
      GtkWidget *label = gtk_label_new (lines[i]);
      gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
      gtk_label_set_max_width_chars (GTK_LABEL (label), 12);
      gtk_widget_add_css_class (label, i == 0 ? "numeric" : "caption");
      if (i == 1)
        gtk_widget_add_css_class (label, "dim-label");
      gtk_widget_set_tooltip_text (label, lines[i]);
      gtk_box_append (GTK_BOX (box), label);
    }
  gtk_widget_set_size_request (box, size + 2 * FRAME, -1);
  return box;
}

GtkWidget *
instdisc_thumb_card_new_for_image (const Dataset *data, int i, int size,
                                   InstdiscThumbMark mark, const char *line1,
                                   const char *line2)
{
  GtkWidget *card = instdisc_thumb_card_new (NULL, size, mark, line1, line2);
  instdisc_thumb_set_image (g_object_get_data (G_OBJECT (card), "thumb"),
                            data, i);
  return card;
}

char *
instdisc_class_name (const Dataset *data, int label)
{
  if (label < 0)
    return NULL;
  if (data && data->class_names && label < data->n_classes)
    return g_strdup (data->class_names[label]);
  return g_strdup_printf (_("Class %d"), label);
}

GtkWidget *
instdisc_neighbour_row_new (GtkWidget *query_card, const Dataset *train,
                            const int *neighbours, const float *similarities,
                            int k, int query_label, int size)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_box_append (GTK_BOX (row), query_card);
  gtk_box_append (GTK_BOX (row),
                  gtk_separator_new (GTK_ORIENTATION_VERTICAL));
  GtkWidget *cards = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  for (int j = 0; j < k; j++)
    {
      int nb = neighbours[j];
      if (nb < 0 || nb >= train->n)
        continue;
      int label = train->labels ? train->labels[nb] : -1;
      g_autofree char *name = instdisc_class_name (train, label);
      g_autofree char *sim = g_strdup_printf ("%.4f", similarities[j]);
      InstdiscThumbMark mark = INSTDISC_THUMB_PLAIN;
      if (query_label >= 0 && label >= 0)
        mark = label == query_label ? INSTDISC_THUMB_SAME_CLASS
                                    : INSTDISC_THUMB_OTHER_CLASS;
      GtkWidget *card = instdisc_thumb_card_new_for_image (train, nb, size,
                                                           mark, sim, name);
      g_autofree char *item = dataset_get_item_name (train, nb);
      gtk_widget_set_tooltip_text (card, item);
      g_object_set_data (G_OBJECT (card), "index", GINT_TO_POINTER (nb));
      gtk_box_append (GTK_BOX (cards), card);
    }
  gtk_box_append (GTK_BOX (row), cards);
  g_object_set_data (G_OBJECT (row), "neighbours", cards);
  return row;
}

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
};

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
      g_autoptr (GError) error = NULL;
      g_autoptr (GdkTexture) texture
        = instdisc_texture_new_from_dataset (train, nb, size, &error);
      int label = train->labels ? train->labels[nb] : -1;
      g_autofree char *name = instdisc_class_name (train, label);
      g_autofree char *sim = g_strdup_printf ("%.4f", similarities[j]);
      InstdiscThumbMark mark = INSTDISC_THUMB_PLAIN;
      if (query_label >= 0 && label >= 0)
        mark = label == query_label ? INSTDISC_THUMB_SAME_CLASS
                                    : INSTDISC_THUMB_OTHER_CLASS;
      GtkWidget *card = instdisc_thumb_card_new (texture, size, mark, sim,
                                                 error ? error->message
                                                       : name);
      g_autofree char *item = dataset_get_item_name (train, nb);
      gtk_widget_set_tooltip_text (card, item);
      g_object_set_data (G_OBJECT (card), "index", GINT_TO_POINTER (nb));
      gtk_box_append (GTK_BOX (cards), card);
    }
  gtk_box_append (GTK_BOX (row), cards);
  g_object_set_data (G_OBJECT (row), "neighbours", cards);
  return row;
}

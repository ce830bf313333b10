/* instdisc-notice-bar.h: the explorer's one place for what a person should
 * hear about: an error, a long action under way with its progress, and an
 * action done (with, where it helps, a button such as "Open Folder").
 *
 * GTK 4.8 has no toasts; this is a bar under the header bar that slides in.
 * An error stays until dismissed; progress stays until it is replaced by
 * its outcome; news of an action done goes away by itself after a few
 * seconds. News never hides an error a person has not dismissed yet. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef enum
{
  INSTDISC_NOTICE_INFO,       /* done: fades after a few seconds */
  INSTDISC_NOTICE_PROGRESS,   /* under way: until the next notice */
  INSTDISC_NOTICE_ERROR,      /* until dismissed */
} InstdiscNoticeKind;

#define INSTDISC_TYPE_NOTICE_BAR (instdisc_notice_bar_get_type ())
G_DECLARE_FINAL_TYPE (InstdiscNoticeBar, instdisc_notice_bar, INSTDISC,
                      NOTICE_BAR, GtkWidget)

/* Shows message (the whole of it: the label wraps) as a notice of kind,
 * without progress or action; returns FALSE when an error still showing
 * kept an INFO or PROGRESS notice from replacing it. */
gboolean instdisc_notice_bar_show (InstdiscNoticeBar *self,
                                   InstdiscNoticeKind kind,
                                   const char *message);
/* A PROGRESS notice's bar: a fraction in [0, 1], or < 0 to pulse. */
void instdisc_notice_bar_set_progress (InstdiscNoticeBar *self,
                                       double fraction);
/* A button on the current notice that opens uri (a folder, a file) with
 * the desktop's default application. */
void instdisc_notice_bar_set_action (InstdiscNoticeBar *self,
                                     const char *label, const char *uri);
void instdisc_notice_bar_dismiss (InstdiscNoticeBar *self);

/* For tests: what is shown (NULL when nothing is), and its kind. */
const char *instdisc_notice_bar_get_message (InstdiscNoticeBar *self);
InstdiscNoticeKind instdisc_notice_bar_get_kind (InstdiscNoticeBar *self);
double instdisc_notice_bar_get_progress (InstdiscNoticeBar *self);
const char *instdisc_notice_bar_get_action_uri (InstdiscNoticeBar *self);

G_END_DECLS

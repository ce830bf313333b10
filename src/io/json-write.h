/* json-write.h: what instdisc writes as JSON (a safetensors header, the
 * command line's --format json) shares one way of quoting a string. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Appends s to out as a JSON string: in quotes, with '"', '\\' and the
 * control characters escaped; other bytes (UTF-8 included) as they are. */
void json_append_string (GString *out, const char *s);

G_END_DECLS

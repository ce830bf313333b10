/* cli-output.h: the machine-readable outputs of `instdisc query`, `eval`
 * and `info` (--format tsv|json).
 *
 * A command builds what it found as a small tree of values (objects of
 * named members in the order added, arrays, strings, numbers, booleans,
 * null) and prints it once, in the format asked for:
 *  - json: one JSON object (RFC 8259), indented; NaN and infinities are
 *    null, strings are UTF-8 (file names through g_filename_display_name).
 *  - tsv: the tree's rows as a table with a header row; a command says
 *    which array holds the rows (query: one row per neighbour) or prints
 *    the tree flattened to "key<TAB>value" rows (info). Tabs, newlines and
 *    backslashes inside a field are written \t, \n and \\.
 * The default, text, stays each command's own sentences, translated; the
 * other two are never translated: their keys, columns and numbers ('.' as
 * the decimal point) are the same under every locale. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  CLI_FORMAT_TEXT,
  CLI_FORMAT_TSV,
  CLI_FORMAT_JSON,
} CliFormat;

/* Parses --format's value; NULL is text. FALSE with a message on stderr
 * (as cli_fail_message) for anything else. */
gboolean cli_format_parse (const char *value, CliFormat *format);

typedef struct _CliValue CliValue;

CliValue *cli_object_new (void);
void cli_value_free (CliValue *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliValue, cli_value_free)

/* Members of an object; key NULL appends to an array. value NULL is null. */
void cli_set_string (CliValue *self, const char *key, const char *value);
void cli_set_int (CliValue *self, const char *key, gint64 value);
/* NaN or an infinity is null */
void cli_set_double (CliValue *self, const char *key, double value);
void cli_set_bool (CliValue *self, const char *key, gboolean value);
/* a new object or array as a member (returned, owned by self) */
CliValue *cli_add_object (CliValue *self, const char *key);
CliValue *cli_add_array (CliValue *self, const char *key);

/* The whole tree as JSON, then a newline, on stdout. */
void cli_print_json (const CliValue *self);

/* A table on stdout: a header row of `columns`, then one row per object
 * of array `rows`, each member of `columns` looked up by key (a dotted key
 * reaches into nested objects: "label.name"); a missing member or null is
 * an empty field. */
void cli_print_tsv_rows (const CliValue *rows, const char *const *columns);

/* The tree flattened: a header "key<TAB>value" (prefix_column, when not
 * NULL, adds a first column of that name holding prefix), then one row per
 * leaf, its key the dotted path (array elements by index from 0). */
void cli_print_tsv_flat (const CliValue *self, const char *prefix_column,
                         const char *prefix, gboolean header);

/* The member key of object self, or NULL. */
const CliValue *cli_get (const CliValue *self, const char *key);

G_END_DECLS

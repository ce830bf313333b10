/* npy.c: .npy (format 1.0) reading and writing; projector TSV.
 *
 * A .npy file: the magic "\x93NUMPY", version 1.0, a little-endian u16 header
 * length, an ASCII Python dict {'descr': '<f4', 'fortran_order': False,
 * 'shape': (N, D), } padded with spaces and a newline so that the data
 * starts at a multiple of 64 bytes, then the raw data. */
#define G_LOG_DOMAIN "instdisc-io"

#include "npy.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "atomic-file.h"
#include "io-file.h"

static const char NPY_MAGIC[] = "\x93NUMPY";

/* '<f4' and '<i4' are written and read as the host's bytes */
G_STATIC_ASSERT (G_BYTE_ORDER == G_LITTLE_ENDIAN);

static const char *
descr (NpyDtype dtype)
{
  return dtype == NPY_FLOAT32 ? "<f4" : "<i4";
}

/* The dict text NumPy (1.24 and later) writes: keys sorted, a trailing ", ",
 * then room for the first axis to grow to 21 digits in place, then spaces
 * and a newline up to a multiple of 64 bytes with the 10-byte prefix.
 * Writing the same bytes as numpy.save keeps our files diffable with its. */
static GString *
npy_header (NpyDtype dtype, int ndim, const gint64 *shape)
{
  GString *header = g_string_new (NULL);
  g_string_append_printf (header,
                          "{'descr': '%s', 'fortran_order': False, 'shape': (",
                          descr (dtype));
  for (int d = 0; d < ndim; d++)
    g_string_append_printf (header, "%s%" G_GINT64_FORMAT, d ? ", " : "",
                            shape[d]);
  /* Python writes a 1-tuple as (N,) */
  g_string_append (header, ndim == 1 ? ",), }" : "), }");
  g_autofree char *first = g_strdup_printf ("%" G_GINT64_FORMAT, shape[0]);
  for (gsize i = strlen (first); i < 21; i++)
    g_string_append_c (header, ' ');
  while ((10 + header->len + 1) % 64 != 0)
    g_string_append_c (header, ' ');
  g_string_append_c (header, '\n');
  return header;
}

gboolean
npy_save (const char *path, NpyDtype dtype, int ndim, const gint64 *shape,
          gconstpointer data, GError **error)
{
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (ndim == 1 || ndim == 2, FALSE);
  g_return_val_if_fail (dtype == NPY_FLOAT32 || dtype == NPY_INT32, FALSE);
  gsize nbytes = 4;
  for (int d = 0; d < ndim; d++)
    {
      g_return_val_if_fail (shape[d] >= 0, FALSE);
      g_return_val_if_fail (g_size_checked_mul (&nbytes, nbytes,
                                                (gsize) shape[d]), FALSE);
    }
  g_return_val_if_fail (data != NULL || nbytes == 0, FALSE);

  g_autoptr (GString) header = npy_header (dtype, ndim, shape);
  guint8 prefix[10];
  memcpy (prefix, NPY_MAGIC, 6);
  prefix[6] = 1;   /* version 1.0: the header length is a u16 */
  prefix[7] = 0;
  prefix[8] = header->len & 0xff;
  prefix[9] = header->len >> 8;

  g_autoptr (AtomicFile) file = atomic_file_open (path, error);
  if (!file)
    return FALSE;
  if (!atomic_file_write (file, prefix, sizeof prefix, error)
      || !atomic_file_write (file, header->str, header->len, error)
      || !atomic_file_write (file, data, nbytes, error))
    return FALSE;
  return atomic_file_commit (g_steal_pointer (&file), error);
}

void
npy_array_free (NpyArray *self)
{
  if (!self)
    return;
  g_free (self->data);
  g_free (self);
}

static NpyArray *
bad_npy (GError **error, const char *path, InstdiscIoError code,
         const char *why)
{
  g_autofree char *display = g_filename_display_name (path);
  g_set_error (error, INSTDISC_IO_ERROR, code,
               _("%s: not a usable .npy file: %s"), display, why);
  return NULL;
}

/* The value text after 'key': in a .npy header dict, or NULL. */
static const char *
dict_value (const char *dict, const char *key)
{
  g_autofree char *quoted = g_strdup_printf ("'%s':", key);
  const char *p = strstr (dict, quoted);
  if (!p)
    return NULL;
  p += strlen (quoted);
  while (*p == ' ')
    p++;
  return p;
}

NpyArray *
npy_load (const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  gsize size = 0;
  if (!io_require_regular_file (path, error)
      || !g_file_get_contents (path, &contents, &size, error))
    return NULL;
  if (size == 0)
    return bad_npy (error, path, INSTDISC_IO_ERROR_TRUNCATED,
                    _("the file is empty"));
  if (memcmp (contents, NPY_MAGIC, MIN (size, 6)) != 0)
    return bad_npy (error, path, INSTDISC_IO_ERROR_CORRUPT,
                    _("no NUMPY magic at the start"));
  if (size < 10)
    return bad_npy (error, path, INSTDISC_IO_ERROR_TRUNCATED,
                    _("truncated inside the header"));
  gsize header_len, header_start;
  if (contents[6] == 1)
    {
      header_len = (guint8) contents[8] | ((gsize) (guint8) contents[9] << 8);
      header_start = 10;
    }
  else if ((contents[6] == 2 || contents[6] == 3) && size >= 12)
    /* versions 2 and 3 only widen the header length (and allow UTF-8) */
    {
      header_len = (guint8) contents[8] | ((gsize) (guint8) contents[9] << 8)
                   | ((gsize) (guint8) contents[10] << 16)
                   | ((gsize) (guint8) contents[11] << 24);
      header_start = 12;
    }
  else
    return bad_npy (error, path, INSTDISC_IO_ERROR_UNSUPPORTED,
                    _("unknown format version"));
  if (header_len > size - header_start)
    return bad_npy (error, path, INSTDISC_IO_ERROR_TRUNCATED,
                    _("truncated inside the header"));
  g_autofree char *dict = g_strndup (contents + header_start, header_len);
  if (dict[0] != '{' || strlen (dict) != header_len)
    return bad_npy (error, path, INSTDISC_IO_ERROR_CORRUPT,
                    _("the header is not a Python dict"));

  g_autoptr (NpyArray) array = g_new0 (NpyArray, 1);
  const char *d = dict_value (dict, "descr");
  if (d && g_str_has_prefix (d, "'<f4'"))
    array->dtype = NPY_FLOAT32;
  else if (d && g_str_has_prefix (d, "'<i4'"))
    array->dtype = NPY_INT32;
  else
    {
      /* say what the file has: '>f4' and '<f8' are the usual surprises */
      g_autofree char *found = g_strndup (d ? d : "none",
                                          d ? strcspn (d, ",}") : 4);
      g_autofree char *why = g_strdup_printf (
          _("dtype %s: only little-endian float32 ('<f4') and int32 ('<i4') "
            "arrays are read"), found);
      return bad_npy (error, path, INSTDISC_IO_ERROR_UNSUPPORTED, why);
    }
  const char *f = dict_value (dict, "fortran_order");
  if (!f || !g_str_has_prefix (f, "False"))
    return bad_npy (error, path, INSTDISC_IO_ERROR_UNSUPPORTED,
                    _("Fortran-order arrays are not read"));
  const char *s = dict_value (dict, "shape");
  if (!s || *s != '(')
    return bad_npy (error, path, INSTDISC_IO_ERROR_CORRUPT,
                    _("no shape in the header"));
  s++;
  gsize numel = 1;
  while (*s != ')')
    {
      while (g_ascii_isspace (*s) || *s == ',')
        s++;
      if (*s == ')')
        break;
      if (*s == '\0')
        return bad_npy (error, path, INSTDISC_IO_ERROR_CORRUPT,
                        _("the shape has no closing parenthesis"));
      char *end;
      gint64 dim = g_ascii_strtoll (s, &end, 10);
      if (end == s || dim < 0)
        return bad_npy (error, path, INSTDISC_IO_ERROR_CORRUPT,
                        _("the shape is not a tuple of sizes"));
      if (array->ndim == 2)
        return bad_npy (error, path, INSTDISC_IO_ERROR_UNSUPPORTED,
                        _("only 1- or 2-dimensional arrays are read"));
      array->shape[array->ndim++] = dim;
      if (dim > 0 && numel > G_MAXSIZE / 8 / (gsize) dim)
        return bad_npy (error, path, INSTDISC_IO_ERROR_UNSUPPORTED,
                        _("the shape is too large"));
      numel *= (gsize) dim;
      s = end;
    }
  if (array->ndim == 0)
    return bad_npy (error, path, INSTDISC_IO_ERROR_UNSUPPORTED,
                    _("scalars are not read"));
  gsize data_start = header_start + header_len;
  if (size - data_start != numel * 4)
    {
      g_autofree char *display = g_filename_display_name (path);
      g_set_error (error, INSTDISC_IO_ERROR,
                   size - data_start < numel * 4 ? INSTDISC_IO_ERROR_TRUNCATED
                                                 : INSTDISC_IO_ERROR_CORRUPT,
                   _("%s: the header's shape needs %zu bytes of data, the "
                     "file has %zu"), display,
                   numel * 4, size - data_start);
      return NULL;
    }
  /* reuse the read buffer rather than hold the data twice: features of a
   * large dataset are hundreds of MB */
  memmove (contents, contents + data_start, numel * 4);
  array->data = g_realloc (g_steal_pointer (&contents), MAX (numel * 4, 1));
  return g_steal_pointer (&array);
}

/* Appends a buffered piece to file when it grows past a few MB. */
static gboolean
flush_if_large (AtomicFile *file, GString *buffer, gboolean force,
                GError **error)
{
  if (!force && buffer->len < (4u << 20))
    return TRUE;
  gboolean ok = atomic_file_write (file, buffer->str, buffer->len, error);
  g_string_truncate (buffer, 0);
  return ok;
}

/* TSV fields cannot hold tabs or newlines: they become spaces. */
static void
append_tsv_field (GString *out, const char *text)
{
  for (const char *p = text; *p; p++)
    g_string_append_c (out, (*p == '\t' || *p == '\n' || *p == '\r') ? ' ' : *p);
}

gboolean
tsv_save_projector (const char *vectors_path, const char *metadata_path,
                    const float *vectors, int n, int dim, const gint32 *labels,
                    const char *const *class_names, const char *const *names,
                    const char *const *status, GError **error)
{
  g_return_val_if_fail (n >= 0 && dim > 0, FALSE);
  g_return_val_if_fail (vectors != NULL || n == 0, FALSE);
  guint n_class_names = class_names ? g_strv_length ((char **) class_names)
                                    : 0;
  g_autoptr (AtomicFile) vfile = atomic_file_open (vectors_path, error);
  if (!vfile)
    return FALSE;
  g_autoptr (GString) buffer = g_string_new (NULL);
  char number[G_ASCII_DTOSTR_BUF_SIZE];
  for (int i = 0; i < n; i++)
    {
      for (int d = 0; d < dim; d++)
        {
          /* locale-independent; 9 significant digits are what any float
           * needs to parse back to the same bits (7 are not enough) */
          g_ascii_formatd (number, sizeof number, "%.9g",
                           vectors[(gsize) i * dim + d]);
          if (d > 0)
            g_string_append_c (buffer, '\t');
          g_string_append (buffer, number);
        }
      g_string_append_c (buffer, '\n');
      if (!flush_if_large (vfile, buffer, FALSE, error))
        return FALSE;
    }
  if (!flush_if_large (vfile, buffer, TRUE, error))
    return FALSE;

  g_autoptr (AtomicFile) mfile = atomic_file_open (metadata_path, error);
  if (!mfile)
    return FALSE;
  g_string_append (buffer, status ? "index\tlabel\tname\tstatus\n"
                                  : "index\tlabel\tname\n");
  for (int i = 0; i < n; i++)
    {
      g_string_append_printf (buffer, "%d\t", i);
      if (labels && labels[i] >= 0 && (guint) labels[i] < n_class_names)
        append_tsv_field (buffer, class_names[labels[i]]);
      else if (labels && labels[i] >= 0)
        g_string_append_printf (buffer, "%d", labels[i]);
      g_string_append_c (buffer, '\t');
      if (names)
        append_tsv_field (buffer, names[i]);
      if (status)
        {
          g_string_append_c (buffer, '\t');
          append_tsv_field (buffer, status[i]);
        }
      g_string_append_c (buffer, '\n');
      if (!flush_if_large (mfile, buffer, FALSE, error))
        return FALSE;
    }
  if (!flush_if_large (mfile, buffer, TRUE, error))
    return FALSE;
  /* both complete before either replaces an older export */
  return atomic_file_commit (g_steal_pointer (&vfile), error)
         && atomic_file_commit (g_steal_pointer (&mfile), error);
}

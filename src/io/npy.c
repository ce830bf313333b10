/* npy.c: .npy (format 1.0) reading and writing; projector TSV.
 *
 * A .npy file: the magic "\x93NUMPY", version 1.0, a little-endian u16 header
 * length, an ASCII Python dict {'descr': '<f4', 'fortran_order': False,
 * 'shape': (N, D), } padded with spaces and a newline so that the data
 * starts at a multiple of 64 bytes, then the raw data. */
#define G_LOG_DOMAIN "instdisc-io"

#include "npy.h"

#include <string.h>

#include "atomic-file.h"

static const char NPY_MAGIC[] = "\x93NUMPY";

static const char *
descr (NpyDtype dtype)
{
  return dtype == NPY_FLOAT32 ? "<f4" : "<i4";
}

gboolean
npy_save (const char *path, NpyDtype dtype, int ndim, const gint64 *shape,
          gconstpointer data, GError **error)
{
  g_return_val_if_fail (ndim == 1 || ndim == 2, FALSE);
  g_autoptr (GString) header = g_string_new (NULL);
  g_string_append_printf (header,
                          "{'descr': '%s', 'fortran_order': False, 'shape': (",
                          descr (dtype));
  gsize numel = 1;
  for (int d = 0; d < ndim; d++)
    {
      g_string_append_printf (header, "%" G_GINT64_FORMAT ",%s", shape[d],
                              d + 1 < ndim ? " " : "");
      numel *= (gsize) shape[d];
    }
  if (ndim == 2)
    g_string_truncate (header, header->len - 1); /* (N, D) not (N, D,) */
  g_string_append (header, "), }");
  /* 6 magic + 2 version + 2 length + header + '\n' to a multiple of 64 */
  while ((10 + header->len + 1) % 64 != 0)
    g_string_append_c (header, ' ');
  g_string_append_c (header, '\n');

  guint8 prefix[10];
  memcpy (prefix, NPY_MAGIC, 6);
  prefix[6] = 1;
  prefix[7] = 0;
  prefix[8] = header->len & 0xff;
  prefix[9] = header->len >> 8;

  g_autoptr (AtomicFile) file = atomic_file_open (path, error);
  if (!file)
    return FALSE;
  /* both supported dtypes are 4 bytes; the host is little-endian (x86-64,
   * aarch64), which the build checks */
  if (!atomic_file_write (file, prefix, sizeof prefix, error)
      || !atomic_file_write (file, header->str, header->len, error)
      || !atomic_file_write (file, data, numel * 4, error))
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
bad_npy (GError **error, const char *path, const char *why)
{
  g_autofree char *display = g_filename_display_name (path);
  g_set_error (error, INSTDISC_IO_ERROR, INSTDISC_IO_ERROR_CORRUPT,
               "%s: not a usable .npy file: %s", display, why);
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
  if (!g_file_get_contents (path, &contents, &size, error))
    return NULL;
  if (size < 10 || memcmp (contents, NPY_MAGIC, 6) != 0)
    return bad_npy (error, path, "no NUMPY magic at the start");
  gsize header_len, header_start;
  if (contents[6] == 1)
    {
      header_len = (guint8) contents[8] | ((gsize) (guint8) contents[9] << 8);
      header_start = 10;
    }
  else if ((contents[6] == 2 || contents[6] == 3) && size >= 12)
    {
      header_len = (guint8) contents[8] | ((gsize) (guint8) contents[9] << 8)
                   | ((gsize) (guint8) contents[10] << 16)
                   | ((gsize) (guint8) contents[11] << 24);
      header_start = 12;
    }
  else
    return bad_npy (error, path, "unknown format version");
  if (header_len > size - header_start)
    return bad_npy (error, path, "truncated inside the header");
  g_autofree char *dict = g_strndup (contents + header_start, header_len);

  g_autoptr (NpyArray) array = g_new0 (NpyArray, 1);
  const char *d = dict_value (dict, "descr");
  if (d && g_str_has_prefix (d, "'<f4'"))
    array->dtype = NPY_FLOAT32;
  else if (d && g_str_has_prefix (d, "'<i4'"))
    array->dtype = NPY_INT32;
  else
    return bad_npy (error, path, "only little-endian float32 ('<f4') and "
                                 "int32 ('<i4') arrays are read");
  const char *f = dict_value (dict, "fortran_order");
  if (!f || !g_str_has_prefix (f, "False"))
    return bad_npy (error, path, "Fortran-order arrays are not read");
  const char *s = dict_value (dict, "shape");
  if (!s || *s != '(')
    return bad_npy (error, path, "no shape in the header");
  s++;
  gsize numel = 1;
  while (*s != ')')
    {
      while (*s == ' ' || *s == ',')
        s++;
      if (*s == ')')
        break;
      char *end;
      gint64 dim = g_ascii_strtoll (s, &end, 10);
      if (end == s || dim < 0 || array->ndim == 2)
        return bad_npy (error, path, "only 1- or 2-dimensional shapes are read");
      array->shape[array->ndim++] = dim;
      if (dim > 0 && numel > G_MAXSIZE / 8 / (gsize) dim)
        return bad_npy (error, path, "the shape is too large");
      numel *= (gsize) dim;
      s = end;
    }
  if (array->ndim == 0)
    return bad_npy (error, path, "scalars are not read");
  gsize data_start = header_start + header_len;
  if (size - data_start != numel * 4)
    {
      g_autofree char *display = g_filename_display_name (path);
      g_set_error (error, INSTDISC_IO_ERROR,
                   size - data_start < numel * 4 ? INSTDISC_IO_ERROR_TRUNCATED
                                                 : INSTDISC_IO_ERROR_CORRUPT,
                   "%s: the header's shape needs %" G_GSIZE_FORMAT
                   " bytes of data, the file has %" G_GSIZE_FORMAT, display,
                   numel * 4, size - data_start);
      return NULL;
    }
  array->data = g_memdup2 (contents + data_start, numel * 4);
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
                    GError **error)
{
  g_autoptr (AtomicFile) vfile = atomic_file_open (vectors_path, error);
  if (!vfile)
    return FALSE;
  g_autoptr (GString) buffer = g_string_new (NULL);
  char number[G_ASCII_DTOSTR_BUF_SIZE];
  for (int i = 0; i < n; i++)
    {
      for (int d = 0; d < dim; d++)
        {
          /* locale-independent, shortest exact float text */
          g_ascii_formatd (number, sizeof number, "%.7g",
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
  g_string_append (buffer, "index\tlabel\tname\n");
  for (int i = 0; i < n; i++)
    {
      g_string_append_printf (buffer, "%d\t", i);
      if (labels && labels[i] >= 0 && class_names)
        append_tsv_field (buffer, class_names[labels[i]]);
      else if (labels && labels[i] >= 0)
        g_string_append_printf (buffer, "%d", labels[i]);
      g_string_append_c (buffer, '\t');
      if (names)
        append_tsv_field (buffer, names[i]);
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

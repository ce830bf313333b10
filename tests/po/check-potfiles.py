#!/usr/bin/env python3
"""check-potfiles.py SRCDIR: po/POTFILES.in names every file with strings
to translate, and only files that exist.

A file has strings to translate when it is
  - C source under src/ calling _(), N_(), C_(), NC_(), Q_(), gettext,
    dgettext, ngettext or g_d*gettext;
  - a GtkBuilder file under ui/ or src/ with translatable="yes";
  - a .desktop.in or metainfo/appdata .xml.in under data/ (their names say
    they are merged with translations), or a GSettings schema there with a
    gettext-domain.
Files in po/POTFILES.skip are exempt from the first rule. Exit status 1 and
one line per problem otherwise."""
import os
import re
import sys

CALL = re.compile(r'(?<![\w.>])(?:_|N_|C_|NC_|Q_|gettext|dgettext|dcgettext|'
                  r'ngettext|dngettext|g_dgettext|g_dcgettext|g_dngettext|'
                  r'g_dpgettext|g_dpgettext2)\s*\(')
COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)
STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')


def read_list(path):
    names = []
    if not os.path.exists(path):
        return names
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith('#'):
                names.append(line)
    return names


def c_has_strings(text):
    # calls inside comments or string literals do not count
    code = COMMENT.sub(' ', text)
    code = STRING.sub('""', code)
    return CALL.search(code) is not None


def needs_translation(rel, text):
    if rel.startswith('src/') and rel.endswith(('.c', '.h')):
        return c_has_strings(text)
    if rel.endswith('.ui'):
        return 'translatable="yes"' in text
    if rel.startswith('data/'):
        if rel.endswith('.desktop.in') or rel.endswith(('.metainfo.xml.in',
                                                         '.appdata.xml.in')):
            return True
        if rel.endswith('.gschema.xml') or rel.endswith('.gschema.xml.in'):
            return 'gettext-domain' in text
    return False


def main():
    srcdir = os.path.abspath(sys.argv[1])
    listed = read_list(os.path.join(srcdir, 'po', 'POTFILES.in'))
    skipped = set(read_list(os.path.join(srcdir, 'po', 'POTFILES.skip')))
    problems = []
    if not listed:
        problems.append('po/POTFILES.in is missing or empty')
    seen = set()
    for name in listed:
        if name in seen:
            problems.append(f'po/POTFILES.in names {name} twice')
        seen.add(name)
        if not os.path.isfile(os.path.join(srcdir, name)):
            problems.append(f'po/POTFILES.in names {name}, which does not '
                            'exist')
    for top in ('src', 'ui', 'data'):
        for dirpath, dirnames, filenames in os.walk(os.path.join(srcdir, top)):
            dirnames.sort()
            for f in sorted(filenames):
                path = os.path.join(dirpath, f)
                rel = os.path.relpath(path, srcdir).replace(os.sep, '/')
                if rel in seen or rel in skipped:
                    continue
                try:
                    with open(path, encoding='utf-8') as fh:
                        text = fh.read()
                except (UnicodeDecodeError, OSError):
                    continue
                if needs_translation(rel, text):
                    problems.append(f'{rel} has strings to translate but is '
                                    'not in po/POTFILES.in')
    for p in problems:
        print(p)
    print(f'{len(listed)} files listed, {len(problems)} problems')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())

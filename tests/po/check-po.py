#!/usr/bin/env python3
"""check-po.py XGETTEXT MSGMERGE MSGFMT SRCDIR LANG...: each po/LANG.po
translates every message of the current sources.

The template is made afresh from po/POTFILES.in, with the same xgettext
arguments as meson's i18n.gettext(preset: 'glib'), in a temporary folder
(the source tree is not written), merged with po/LANG.po, and the merge
must have no untranslated and no fuzzy message; po/LANG.po itself must pass
`msgfmt --check` (formats, header, plural forms)."""
import os
import re
import subprocess
import sys
import tempfile

# meson's PRESET_ARGS['glib'] (mesonbuild/modules/i18n.py)
GLIB_PRESET = [
    '--from-code=UTF-8', '--add-comments',
    '--keyword=_', '--keyword=N_', '--keyword=C_:1c,2', '--keyword=NC_:1c,2',
    '--keyword=g_dcgettext:2', '--keyword=g_dngettext:2,3',
    '--keyword=g_dpgettext2:2c,3',
    '--flag=N_:1:pass-c-format', '--flag=C_:2:pass-c-format',
    '--flag=NC_:2:pass-c-format', '--flag=g_dngettext:2:pass-c-format',
    '--flag=g_strdup_printf:1:c-format', '--flag=g_string_printf:2:c-format',
    '--flag=g_string_append_printf:2:c-format',
    '--flag=g_error_new:3:c-format', '--flag=g_set_error:4:c-format',
    '--flag=g_markup_printf_escaped:1:c-format', '--flag=g_log:3:c-format',
    '--flag=g_print:1:c-format', '--flag=g_printerr:1:c-format',
    '--flag=g_printf:1:c-format', '--flag=g_fprintf:2:c-format',
    '--flag=g_sprintf:2:c-format', '--flag=g_snprintf:3:c-format',
]


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, **kw)


def entries(po_text, want):
    """msgids of the entries that msgattrib-style flags select, for the log"""
    out = []
    for block in po_text.split('\n\n'):
        if block.startswith('#~') or 'msgid ""\nmsgstr ""' in block[:40]:
            continue
        fuzzy = re.search(r'^#,.*\bfuzzy\b', block, re.M) is not None
        m = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        if not m:
            continue
        msgid = ''.join(re.findall(r'"(.*)"', m.group(1)))
        strs = re.findall(r'^msgstr(?:\[\d\])? ((?:".*"\n?)+)', block, re.M)
        empty = any(''.join(re.findall(r'"(.*)"', s)) == '' for s in strs)
        if (want == 'fuzzy' and fuzzy) or (want == 'untranslated' and empty):
            out.append(msgid)
    return out


def main():
    xgettext, msgmerge, msgfmt, srcdir = sys.argv[1:5]
    langs = sys.argv[5:]
    podir = os.path.join(srcdir, 'po')
    failed = False
    with tempfile.TemporaryDirectory(prefix='check-po-') as tmp:
        pot = os.path.join(tmp, 'instdisc.pot')
        r = run([xgettext, '--package-name=instdisc', '-p', tmp,
                 '-f', os.path.join(podir, 'POTFILES.in'), '-D', srcdir,
                 '-k_', '-o', pot] + GLIB_PRESET)
        if r.returncode != 0:
            print(f'xgettext failed:\n{r.stderr}')
            return 1
        # warnings name strings whose text xgettext could not read whole
        for line in r.stderr.splitlines():
            print(f'xgettext: {line}')
        n_messages = open(pot, encoding='utf-8').read().count('\nmsgid ') - 1
        print(f'{n_messages} messages in the template')
        for lang in langs:
            po = os.path.join(podir, lang + '.po')
            r = run([msgfmt, '--check', '--statistics', '-o', os.devnull, po])
            if r.returncode != 0:
                print(f'po/{lang}.po: msgfmt --check failed:\n{r.stderr}')
                failed = True
            merged = os.path.join(tmp, lang + '.po')
            r = run([msgmerge, '--quiet', '-o', merged, po, pot])
            if r.returncode != 0:
                print(f'po/{lang}.po: msgmerge failed:\n{r.stderr}')
                failed = True
                continue
            r = run([msgfmt, '--check', '--statistics', '-o', os.devnull,
                     merged])
            print(f'po/{lang}.po merged with the sources: {r.stderr.strip()}')
            if r.returncode != 0:
                failed = True
            text = open(merged, encoding='utf-8').read()
            for kind in ('untranslated', 'fuzzy'):
                missing = entries(text, kind)
                for msgid in missing:
                    print(f'po/{lang}.po: {kind}: "{msgid}"')
                if missing:
                    failed = True
            if failed:
                print(f'po/{lang}.po is not complete: run `meson compile -C '
                      f'BUILD instdisc-pot instdisc-update-po` and translate '
                      f'the messages above (remove the fuzzy marks once '
                      f'checked)')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())

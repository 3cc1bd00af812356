#!/usr/bin/env python3
"""Checks the translation setup: po/POTFILES.in is sorted and lists exactly
the files with translatable strings, and every language in po/LINGUAS is
complete (nothing untranslated or fuzzy) and passes msgfmt --check.

Prints TAP.
"""
import os
import re
import subprocess
import sys
import tempfile

top = sys.argv[1]
MARKS = re.compile(r'\b(?:N_|C_|NC_|_|g_dngettext|ngettext)\s*\(|translatable="yes"|<summary>')
SOURCE_DIRS = ('protocol', 'app', 'ui', 'data')
SUFFIXES = ('.c', '.h', '.ui', '.xml', '.in')

results = []


def check(name, ok, detail=''):
    results.append((name, ok, detail))


def listed_files():
    with open(os.path.join(top, 'po', 'POTFILES.in'), encoding='utf-8') as f:
        return [line.strip() for line in f if line.strip() and not line.startswith('#')]


def files_with_strings():
    found = []
    for d in SOURCE_DIRS:
        for root, _, names in os.walk(os.path.join(top, d)):
            for name in names:
                if not name.endswith(SUFFIXES) or name.endswith('.gresource.xml'):
                    continue
                path = os.path.join(root, name)
                with open(path, encoding='utf-8', errors='replace') as f:
                    if MARKS.search(f.read()):
                        found.append(os.path.relpath(path, top))
    return sorted(found)


listed = listed_files()
check('POTFILES.in is sorted', listed == sorted(listed), 'expected order: ' + ' '.join(sorted(listed)))
missing = [f for f in files_with_strings() if f not in listed]
check('POTFILES.in lists every file with translatable strings', not missing,
      'missing: ' + ' '.join(missing))
gone = [f for f in listed if not os.path.exists(os.path.join(top, f))]
check('POTFILES.in lists only existing files', not gone, 'gone: ' + ' '.join(gone))

# A template made from the sources now, with the keywords of meson's glib preset.

pot = tempfile.NamedTemporaryFile(suffix='.pot', delete=False).name
xgettext = subprocess.run(
    ['xgettext', '--from-code=UTF-8', '--add-comments', '--keyword=_', '--keyword=N_',
     '--keyword=C_:1c,2', '--keyword=NC_:1c,2', '--keyword=g_dcgettext:2',
     '--keyword=g_dngettext:2,3', '--keyword=g_dpgettext2:2c,3', '-D', top, '-o', pot] + listed,
    capture_output=True, text=True)
check('xgettext reads every listed file', xgettext.returncode == 0, xgettext.stderr.strip())

with open(os.path.join(top, 'po', 'LINGUAS'), encoding='utf-8') as f:
    languages = [l.strip() for l in f if l.strip() and not l.startswith('#')]
for lang in languages:
    po = os.path.join(top, 'po', lang + '.po')
    run = subprocess.run(['msgfmt', '--check', '--statistics', '-o', os.devnull, po],
                         capture_output=True, text=True)
    check(f'{lang}.po passes msgfmt --check', run.returncode == 0, run.stderr.strip())
    stats = run.stderr.strip()
    complete = run.returncode == 0 and 'untranslated' not in stats and 'fuzzy' not in stats
    check(f'{lang}.po is complete', complete, stats)
    cmp = subprocess.run(['msgcmp', '--use-untranslated', po, pot], capture_output=True, text=True)
    check(f'{lang}.po has every string of the sources', cmp.returncode == 0,
          cmp.stderr.strip().replace('\n', '\n# '))
os.unlink(pot)

print(f'1..{len(results)}')
for i, (name, ok, detail) in enumerate(results, 1):
    print(f'{"ok" if ok else "not ok"} {i} {name}')
    if not ok and detail:
        print(f'# {detail}')
sys.exit(0 if all(ok for _, ok, _ in results) else 1)

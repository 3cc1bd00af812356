#!/usr/bin/env python3
"""Checks the Flatpak manifest without network: it parses, names the
application id and command, every pkg-config dependency of meson.build is
in the GNOME runtime or built as a module of the manifest (from a release
tarball pinned by sha256), its sandbox asks for no more than Tern needs,
and flatpak-builder accepts it.

Usage: check-flatpak.py SOURCE_ROOT
"""
import json
import os
import re
import subprocess
import sys

root = sys.argv[1]
manifest_path = os.path.join(root, 'flatpak', 'org.ternmail.Tern.json')
failures = []


def check(cond, what):
    print(('ok' if cond else 'FAILED') + ': ' + what)
    if not cond:
        failures.append(what)


# What org.gnome.Platform (47) ships, as pkg-config names.
RUNTIME = {
    'glib-2.0', 'gobject-2.0', 'gio-2.0', 'gio-unix-2.0', 'gmodule-no-export-2.0', 'gnutls',
    'zlib', 'sqlite3',
    'libsecret-1', 'libsoup-3.0', 'gtk4', 'libadwaita-1', 'webkitgtk-6.0',
}
# The manifest's modules and the pkg-config names they install.
MODULES = {
    'libgsasl': {'libgsasl'},
    'gmime': {'gmime-3.0'},
}

manifest = json.load(open(manifest_path, encoding='utf-8'))
check(manifest.get('id') == 'org.ternmail.Tern', 'application id is org.ternmail.Tern')
check(manifest.get('command') == 'tern', 'command is tern')
check(manifest.get('runtime') == 'org.gnome.Platform' and manifest.get('sdk') == 'org.gnome.Sdk',
      'GNOME runtime and SDK')

modules = {m['name']: m for m in manifest.get('modules', []) if isinstance(m, dict)}
provided = set(RUNTIME)
for name, module in modules.items():
    provided |= MODULES.get(name, set())
    if name == 'tern':
        continue
    sources = module.get('sources', [])
    check(len(sources) > 0 and all(s.get('type') == 'archive' and s.get('url', '').startswith('https://')
                                   and re.fullmatch(r'[0-9a-f]{64}', s.get('sha256', ''))
                                   for s in sources),
          'module %s is a release tarball over https with its sha256' % name)
check('tern' in modules and modules['tern'].get('buildsystem') == 'meson'
      and modules['tern']['sources'] == [{'type': 'dir', 'path': '..'}],
      'Tern itself is built with meson from the local directory')
check(list(modules)[-1] == 'tern', 'Tern is the last module')
check('-Ddemo=false' in modules.get('tern', {}).get('config-opts', []),
      'tern --demo is not built: the sandbox cannot run Dovecot and Postfix')

meson = open(os.path.join(root, 'meson.build'), encoding='utf-8').read()
needed = set(re.findall(r"^\s*'([a-z0-9.+-]+)': \[", meson, re.M))
check(len(needed) >= 10, 'meson.build dependencies found (%d)' % len(needed))
for name in sorted(needed):
    check(name in provided, 'pkg-config %s is in the runtime or a module' % name)

finish = set(manifest.get('finish-args', []))
allowed = {'--share=network', '--share=ipc', '--socket=wayland', '--socket=fallback-x11',
           '--device=dri'}
check(finish <= allowed, 'finish-args limited to network, ipc, wayland/fallback-x11, dri '
      '(secrets, notifications and files go through portals): extra %s' % sorted(finish - allowed))
check(not any(a.startswith('--filesystem') for a in finish), 'no --filesystem access')

result = subprocess.run(['flatpak-builder', '--show-manifest', manifest_path],
                        capture_output=True, text=True)
check(result.returncode == 0, 'flatpak-builder --show-manifest accepts it: ' + result.stderr.strip())

if failures:
    sys.exit('%d check(s) failed' % len(failures))

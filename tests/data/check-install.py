#!/usr/bin/env python3
"""Installs the build into a temporary DESTDIR and checks that every file a
desktop needs is there and valid: binaries, desktop file, D-Bus service,
metainfo, GSettings schema, icons and translations.

Usage: check-install.py BUILD_DIR PREFIX LIBEXECDIR gui|nogui demo|nodemo
"""
import os
import subprocess
import sys
import tempfile

build_dir, prefix, libexecdir = sys.argv[1], sys.argv[2], sys.argv[3]
gui, demo = sys.argv[4] == 'gui', sys.argv[5] == 'demo'
failures = []


def check(cond, what):
    print(('ok' if cond else 'MISSING') + ': ' + what)
    if not cond:
        failures.append(what)


def run(*argv):
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        failures.append(' '.join(argv) + '\n' + result.stdout + result.stderr)
    return result


with tempfile.TemporaryDirectory(prefix='tern-install-') as destdir:
    env = dict(os.environ, DESTDIR=destdir)
    result = subprocess.run(['meson', 'install', '-C', build_dir, '--no-rebuild', '--quiet',
                             '--skip-subprojects', '--destdir', destdir],
                            capture_output=True, text=True, env=env)
    if result.returncode != 0:
        sys.exit('meson install failed:\n' + result.stdout + result.stderr)
    root = destdir + prefix
    share = os.path.join(root, 'share')

    for binary in ('tern', 'tern-cli') if gui else ('tern-cli',):
        path = os.path.join(root, 'bin', binary)
        check(os.access(path, os.X_OK), 'bin/' + binary)

    desktop = os.path.join(share, 'applications', 'org.ternmail.Tern.desktop')
    check(os.path.isfile(desktop), 'desktop file')
    if os.path.isfile(desktop):
        run('desktop-file-validate', desktop)
        text = open(desktop, encoding='utf-8').read()
        check('Name[ru]=' in text, 'desktop file translated into Russian')
        check('Exec=' + os.path.join(prefix, 'bin', 'tern') in text, 'desktop file runs the installed tern')

    service = os.path.join(share, 'dbus-1', 'services', 'org.ternmail.Tern.service')
    check(os.path.isfile(service), 'D-Bus service file')
    if os.path.isfile(service):
        text = open(service, encoding='utf-8').read()
        check('Name=org.ternmail.Tern\n' in text, 'D-Bus service named after the application id')

    metainfo = os.path.join(share, 'metainfo', 'org.ternmail.Tern.metainfo.xml')
    check(os.path.isfile(metainfo), 'metainfo')
    if os.path.isfile(metainfo):
        run('appstreamcli', 'validate', '--no-net', metainfo)

    schemas = os.path.join(share, 'glib-2.0', 'schemas')
    check(os.path.isfile(os.path.join(schemas, 'org.ternmail.Tern.gschema.xml')), 'GSettings schema')
    run('glib-compile-schemas', '--strict', '--dry-run', schemas)

    icons = os.path.join(share, 'icons', 'hicolor')
    check(os.path.isfile(os.path.join(icons, 'scalable', 'apps', 'org.ternmail.Tern.svg')),
          'scalable icon')
    check(os.path.isfile(os.path.join(icons, 'symbolic', 'apps', 'org.ternmail.Tern-symbolic.svg')),
          'symbolic icon')

    # tern --demo exists only where its servers script is installed (not in
    # the Flatpak, built with -Ddemo=false).
    demo_script = os.path.join(destdir + os.path.join(prefix, libexecdir), 'tern', 'tern-demo')
    check(os.access(demo_script, os.X_OK) == demo,
          'demo servers script ' + ('installed' if demo else 'not installed (-Ddemo=false)'))
    if gui:
        help_text = subprocess.run([os.path.join(root, 'bin', 'tern'), '--help'],
                                   capture_output=True, text=True).stdout
        check(('--demo' in help_text) == demo,
              'tern --help ' + ('offers' if demo else 'does not offer') + ' --demo')

    check(os.path.isfile(os.path.join(share, 'locale', 'ru', 'LC_MESSAGES', 'tern.mo')),
          'Russian translation')

    providers = os.path.join(share, 'tern', 'providers')
    if os.path.isdir(os.path.join(os.path.dirname(__file__), '..', '..', 'data', 'providers')):
        check(os.path.isdir(providers) and len(os.listdir(providers)) > 0, 'provider files')

if failures:
    sys.exit('\n'.join(['FAILED:'] + failures))

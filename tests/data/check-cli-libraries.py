#!/usr/bin/env python3
"""Checks the libraries tern-cli is linked to (its ELF NEEDED entries):
none of the GUI's (the engine has no GTK), and not libsoup, which the
account setup loads when it first fetches a configuration
(app/tern-autoconfig.c): loaded at every start with the twelve libraries
it brings, it cost every sync 3 ms on the benchmark's machine.

Usage: check-cli-libraries.py TERN_CLI
"""
import subprocess
import sys

FORBIDDEN = ('libgtk', 'libadwaita', 'libwebkit', 'libjavascriptcore', 'libsoup')

output = subprocess.run(['readelf', '--dynamic', '--wide', sys.argv[1]], check=True,
                        capture_output=True, text=True).stdout
needed = [line.split('[', 1)[1].rstrip(']') for line in output.splitlines()
          if '(NEEDED)' in line]
print('1..2')
print('%s 1 - tern-cli needs %d libraries' % ('ok' if needed else 'not ok', len(needed)))
bad = [lib for lib in needed if lib.startswith(FORBIDDEN)]
print('%s 2 - none of %s%s' % ('not ok' if bad else 'ok', ', '.join(FORBIDDEN),
                                 (': ' + ', '.join(bad)) if bad else ''))
sys.exit(1 if bad or not needed else 0)

#!/bin/sh
# run-transcript.sh TOOL TRANSCRIPT EXPECTED: the tool's output for the
# transcript, fed whole and one byte at a time, must equal EXPECTED.
# Prints the difference when it does not.
set -u
tool=$1
transcript=$2
expected=$3
out=$(mktemp)
trap 'rm -f "$out"' EXIT

for chunk in 65536 1 7; do
  "$tool" --chunk "$chunk" "$transcript" >"$out"
  status=$?
  if [ $status -gt 1 ]; then
    echo "tern-imap-parse failed with status $status (chunk $chunk)"
    exit 1
  fi
  if ! diff -u "$expected" "$out"; then
    echo "output differs from $expected (chunk $chunk)"
    exit 1
  fi
done
exit 0

#!/usr/bin/env bash
# `runner validate` on an invalid instance exits 1 (not 3, not a crash) and names every problem
# at its schema keyword: the four planted in docs/examples/prompt.invalid.json.
set -u
out=$("$@" 2>&1)
status=$?
echo "$out"
[ "$status" -eq 1 ] || { echo "expected exit status 1, got $status"; exit 1; }
echo "$out" | grep -q 'invalid (4 errors)' || { echo "expected 4 errors"; exit 1; }
for want in 'at /id: expected a valid uuid' 'at /title: expected at most 10 characters' \
            'at /tags: expected unique items' "unexpected property 'titel'"; do
    echo "$out" | grep -q "$want" || { echo "missing: $want"; exit 1; }
done

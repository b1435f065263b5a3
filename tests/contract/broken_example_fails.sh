#!/usr/bin/env bash
# The contract check must fail on a document whose example breaks its schema, and say which
# example and why (not merely exit non-zero for some other reason).
set -u
out=$("$1" "$2" 2>&1)
status=$?
echo "$out"
[ $status -eq 1 ] || { echo "expected exit status 1, got $status"; exit 1; }
echo "$out" | grep -q '^not ok .* getPrompt 200 application/json example (line [0-9]*) matches its schema' ||
    { echo "no failing line for the broken example"; exit 1; }
echo "$out" | grep -q 'title' || { echo "the failure does not name the 'title' field"; exit 1; }
echo "$out" | grep -q '^ok .* loads with the project' || { echo "the document did not load"; exit 1; }

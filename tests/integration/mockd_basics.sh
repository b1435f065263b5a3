#!/usr/bin/env bash
# Integration test: mockd starts on port 0, prints its URL, serves the loaded document at
# /openapi.json and /openapi.yaml, answers 404 elsewhere, refuses a broken spec with a located
# error and exit status 2, and stops cleanly on SIGTERM. Output is TAP.
#
# usage: mockd_basics.sh MOCKD SPEC BROKEN_SPEC
set -u
MOCKD=$1 SPEC=$2 BROKEN=$3
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

n=0 failed=0
check() { # check NAME COMMAND...
    local name=$1; shift
    n=$((n + 1))
    if "$@" >"$tmp/out" 2>&1; then
        echo "ok $n - $name"
    else
        echo "not ok $n - $name"
        sed 's/^/# /' "$tmp/out"
        failed=$((failed + 1))
    fi
}

echo "1..11"

"$MOCKD" --port 0 "$SPEC" >"$tmp/stdout" 2>"$tmp/stderr" &
pid=$!
url=
for _ in $(seq 1 100); do
    url=$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$tmp/stdout")
    [ -n "$url" ] && break
    sleep 0.05
done
check "mockd on port 0 prints the URL it listens on" test -n "$url"
check "the URL names a real port, not 0" bash -c "[[ '$url' =~ :[1-9][0-9]*$ ]]"

check "GET /openapi.json answers 200 with application/json" bash -c \
    "curl -s -D '$tmp/h1' -o '$tmp/spec.json' '$url/openapi.json' && grep -qi '^content-type: application/json' '$tmp/h1' && head -1 '$tmp/h1' | grep -q ' 200'"
check "/openapi.json is the loaded document as JSON" python3 -c "
import json,sys
d=json.load(open('$tmp/spec.json'))
assert d['openapi']=='3.1.0', d['openapi']
assert d['paths']['/notes']['get']['operationId']=='listNotes'
assert d['paths']['/notes']['get']['responses']['200']['content']['application/json']['example'][1]['text']=='写提示词'
"
check "GET /openapi.yaml answers 200 with application/yaml" bash -c \
    "curl -s -D '$tmp/h2' -o '$tmp/spec.yaml' '$url/openapi.yaml' && grep -qi '^content-type: application/yaml' '$tmp/h2' && head -1 '$tmp/h2' | grep -q ' 200'"
check "/openapi.yaml holds the same document" bash -c \
    "grep -Eq '^openapi: \"?3[.]1[.]0\"?\$' '$tmp/spec.yaml' && grep -q 'operationId: listNotes' '$tmp/spec.yaml' && grep -q '写提示词' '$tmp/spec.yaml'"
check "an unknown path answers 404 problem+json" bash -c \
    "curl -s -D '$tmp/h3' -o /dev/null '$url/nope' && head -1 '$tmp/h3' | grep -q ' 404' && grep -qi 'application/problem+json' '$tmp/h3'"

kill -TERM "$pid"
wait "$pid"
status=$?
pid=
check "SIGTERM stops mockd with status 0" test "$status" -eq 0

"$MOCKD" --port 0 "$BROKEN" >"$tmp/b.out" 2>"$tmp/b.err"
status=$?
check "a broken spec exits with status 2" test "$status" -eq 2
check "a broken spec is reported as file:line:col with a caret" bash -c \
    "grep -Eq '^[^ ]+\.yaml:[0-9]+:[0-9]+: error: ' '$tmp/b.err' && grep -q '\\^' '$tmp/b.err'"

"$MOCKD" --check "$SPEC" >"$tmp/c.out" 2>&1
check "--check loads, reports and exits 0" bash -c "[ $? -eq 0 ] && grep -q 'ok' '$tmp/c.out'"

exit $((failed > 0))

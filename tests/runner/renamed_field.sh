#!/usr/bin/env bash
# The suite must catch drift: mockd serves the real contract (standing in for a backend) while
# runner checks against a copy in which one response field is renamed. Every login then answers
# with a body the copied contract does not allow, and the run must fail naming the field. A
# control run against the unchanged contract passes. Output is TAP.
#
# usage: renamed_field.sh RUNNER MOCKD SPEC ASYNCAPI DIALOGUES SUITE_DIR
set -u
RUNNER=$1 MOCKD=$2 SPEC=$3 ASYNC=$4 DIALOGUES=$5 SUITE=$6
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
n=0 failed=0
check() { # check NAME COMMAND...
    local name=$1; shift
    n=$((n + 1))
    if "$@" >"$tmp/check.out" 2>&1; then
        echo "ok $n - $name"
    else
        echo "not ok $n - $name"; sed 's/^/# /' "$tmp/check.out" | tail -40
        failed=$((failed + 1))
    fi
}

# The copy: LoginResult.expiresIn becomes expiresInSeconds (property and `required`).
python3 - "$SPEC" "$tmp/renamed.yaml" <<'PY'
import sys
text = open(sys.argv[1], encoding="utf-8").read()
start = text.index("\n    LoginResult:\n")
end = text.index("\n    TokenPair:\n", start)
block = text[start:end]
new = block.replace("required: [user, accessToken, refreshToken, expiresIn]",
                    "required: [user, accessToken, refreshToken, expiresInSeconds]")
new = new.replace("\n        expiresIn:\n", "\n        expiresInSeconds:\n")
assert new.count("expiresInSeconds") == 2, "LoginResult changed: update tests/runner/renamed_field.sh"
open(sys.argv[2], "w", encoding="utf-8").write(text[:start] + new + text[end:])
PY
[ -s "$tmp/renamed.yaml" ] || { echo "not ok 1 - the renamed copy was made"; exit 1; }

"$MOCKD" --port 0 --quiet --jwt-secret contract-suite-secret --asyncapi "$ASYNC" \
    --dialogues "$DIALOGUES" "$SPEC" >"$tmp/mockd.out" 2>"$tmp/mockd.err" &
pid=$!
url=
for _ in $(seq 1 100); do
    url=$(sed -n 's/^listening on //p' "$tmp/mockd.out")
    [ -n "$url" ] && break
    sleep 0.05
done
check "mockd serves the real contract" test -n "$url"

"$RUNNER" run --spec "$SPEC" --asyncapi "$ASYNC" --target "$url" --tags '!backend-only' \
    --jobs 2 --color never "$SUITE" \
    >"$tmp/control.out" 2>&1
status=$?
check "the suite passes when runner checks against the same contract" \
    bash -c "[ $status -eq 0 ] || { cat '$tmp/control.out'; exit 1; }"

"$RUNNER" run --spec "$tmp/renamed.yaml" --asyncapi "$ASYNC" --target "$url" \
    --tags '!backend-only' --jobs 2 --color never "$SUITE" >"$tmp/renamed.out" 2>&1
status=$?
check "the suite fails against the contract with a renamed field (exit 1)" \
    bash -c "[ $status -eq 1 ] || { cat '$tmp/renamed.out'; exit 1; }"
check "the failure names the operation and status" \
    grep -q "response of login (200): the body does not match the contract" "$tmp/renamed.out"
check "the failure names the missing field with its JSON Pointer" \
    grep -q "at /data: missing required property 'expiresInSeconds'" "$tmp/renamed.out"
check "the failure names the field the backend sent instead" \
    grep -q "at /data: unexpected property 'expiresIn'" "$tmp/renamed.out"
echo "1..$n"
exit $((failed > 0))

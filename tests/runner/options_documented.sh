#!/usr/bin/env bash
# runner's option table and the scenario format's key tables are documented: every option that
# `runner run --help` and `runner check --help` print appears in runner.1.scd, and every key of
# the format (the field tables of lib/scenario/parse.c) appears in ct-scenario.5.scd and
# docs/scenarios.md. Output is TAP.
#
# usage: options_documented.sh RUNNER RUNNER_1_SCD CT_SCENARIO_5_SCD SCENARIOS_MD
set -u
RUNNER=$1 MAN1=$2 MAN5=$3 DOC=$4
PARSE_C=$(dirname "$0")/../../lib/scenario/parse.c
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
no() { n=$((n + 1)); echo "not ok $n - $1"; failed=$((failed + 1)); }

opts=$( { "$RUNNER" run --help; "$RUNNER" check --help; } | grep -oE -- '^  (-[a-z], )?--[a-z][a-z-]+' | grep -oE -- '--[a-z-]+' | sort -u)
[ -n "$opts" ] && ok "runner prints its options" || no "runner prints its options"
for o in $opts; do
    # scdoc escapes nothing in option names; they appear as *--name*.
    if grep -q -- "\*$o\*" "$MAN1"; then ok "runner.1 documents $o"; else no "runner.1 documents $o"; fi
done

keys=$(grep -oE '\{"[a-z_]+", K_' "$PARSE_C" | sed -E 's/\{"([a-z_]+)".*/\1/' | sort -u)
[ -n "$keys" ] && ok "the format has keys" || no "the format has keys"
for k in $keys; do
    esc=${k//_/\\\\_}
    if grep -qE "\*$esc\*" "$MAN5"; then ok "ct-scenario.5 documents '$k'"; else no "ct-scenario.5 documents '$k'"; fi
    if grep -qE "(\`$k\`|\b$k:)" "$DOC"; then ok "scenarios.md documents '$k'"; else no "scenarios.md documents '$k'"; fi
done
echo "1..$n"
exit $((failed > 0))

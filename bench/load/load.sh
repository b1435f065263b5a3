#!/usr/bin/env bash
# Loader benchmark: load time and peak RSS for the large Discord description and for generated
# specs of 100, 1,000 and 5,000 operations, then mockd's start-up time (exec to "listening") and
# RSS on each. Goals: Discord under 50 ms and 30 MB (issue 3); 5,000 operations start in under
# 100 ms with under 30 MB RSS (issue 6). The start-up lines say whether the 5,000 one meets it.
#
# usage: load.sh BENCH_LOAD MOCKD GEN_SPEC SHARED_DIR
set -eu
BENCH=$1 MOCKD=$2 GEN=$3 SHARED=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

discord="$SHARED/real-specs/discord-v10.oas31.large.json"
if [ -f "$discord" ]; then
    "$BENCH" "$discord" 21
else
    echo "skip: $discord absent"
fi
for n in 100 1000 5000; do
    python3 "$GEN" "$n" >"$tmp/gen$n.json"
    "$BENCH" "$tmp/gen$n.json" 11
done

# mockd start-up: from exec to the "listening" line, median of 11 starts, and its RSS then.
startup() {
    local spec=$1 times=() rss=
    for _ in $(seq 1 11); do
        local t0 t1
        t0=$(date +%s%N)
        coproc M { exec "$MOCKD" --quiet --port 0 "$spec"; }
        read -r line <&"${M[0]}"
        t1=$(date +%s%N)
        rss=$(awk '/VmRSS/ {print $2}' "/proc/$M_PID/status")
        kill "$M_PID"; wait "$M_PID" 2>/dev/null || true
        times+=($(( (t1 - t0) / 1000 )))
    done
    local med
    med=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 6p)
    local goal=
    case $(basename "$spec") in
    gen5000.json)
        if [ "$med" -lt 100000 ] && [ "$rss" -lt 30720 ]; then goal=" (goal: under 100 ms and 30 MB: met)"
        else goal=" (goal: under 100 ms and 30 MB: NOT met)"; fi ;;
    esac
    printf '%s: mockd start median %.1f ms, RSS %.1f MB%s\n' "$(basename "$spec")" \
        "$(echo "$med / 1000" | bc -l)" "$(echo "$rss / 1024" | bc -l)" "$goal"
}
[ -f "$discord" ] && startup "$discord"
for n in 100 1000 5000; do startup "$tmp/gen$n.json"; done

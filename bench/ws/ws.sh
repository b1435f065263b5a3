#!/usr/bin/env bash
# WebSocket benchmark: mockd's dialogue engine against Node's `ws` answering the same five-frame
# turn, each server pinned to core 0, the load client (wsbench, one epoll loop) on core 1.
# Prints frames/s with 1 and 64 connections (median of RUNS runs) and the mockd/ws ratio, each
# server's CPU time per frame and that ratio (ws/mockd), then mockd's RSS holding 10,000 idle
# connections.
#
# usage: ws.sh MOCKD WSBENCH [SECONDS=5] [RUNS=3]
# Needs node and npm (the `ws` package is installed into the build directory on first use);
# without them only mockd's figures are printed.
set -eu
MOCKD=$1 WSBENCH=$2 SECS=${3:-5} RUNS=${4:-3}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

mport=$(free_port)
taskset -c 0 "$MOCKD" --quiet --log-format none --auth off --threads 1 --port "$mport" \
    --asyncapi "$root/specs/prompt-sphere.asyncapi.yaml" \
    --dialogues "$root/specs/dialogues/common.yaml,$here/bench.yaml" --ws-idle-timeout 0 \
    --ws-max-connections 20000 "$root/specs/prompt-sphere.yaml" > "$tmp/mockd.out" &
mpid=$!
pids+=($mpid)
for _ in $(seq 1 200); do grep -q listening "$tmp/mockd.out" && break; sleep 0.05; done

nport=
if command -v node >/dev/null && command -v npm >/dev/null; then
    cache="${BENCH_CACHE:-$root/build/bench-node}"
    if [ ! -d "$cache/node_modules/ws" ]; then
        mkdir -p "$cache"
        (cd "$cache" && npm install --silent --no-audit --no-fund ws@8 >/dev/null 2>&1) || true
    fi
    if [ -d "$cache/node_modules/ws" ]; then
        nport=$(free_port)
        NODE_PATH="$cache/node_modules" taskset -c 0 node "$here/ref_server.js" "$nport" > "$tmp/node.out" &
        npid=$!
        pids+=($npid)
        for _ in $(seq 1 100); do grep -q listening "$tmp/node.out" && break; sleep 0.05; done
    fi
fi
[ -n "$nport" ] || echo "note: node/npm or the ws package unavailable; mockd figures only"

msg='{"type":"user_message","data":{"messageId":"m1","message":"Write a system prompt for a patient math tutor","agent":"pe_engineer","mode":"create","timestamp":1700000000000}}'
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# rate PORT CONNS PID -> "frames/s cpu-us-per-frame". The second figure is the server's own CPU
# time (user + system, from /proc) per frame delivered: on a shared machine it moves far less
# than frames/s, and for a server that saturates its core the two ratios are the same thing.
tck=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rate() {
    local t0 t1 out frames
    t0=$(ticks "$3")
    out=$(taskset -c 1 "$WSBENCH" "$1" /api/v1/ws/chat "$2" "$SECS" 5 "$msg")
    t1=$(ticks "$3")
    frames=$(echo "$out" | sed -n 's/.*: \([0-9]*\) frames in.*/\1/p')
    echo "$(echo "$out" | sed -n 's/.*= \([0-9]*\) frames\/s/\1/p')" \
        "$(echo "($t1 - $t0) * 1000000 / $tck / $frames" | bc -l)"
}
npid=${npid:-}
printf '%-12s %14s %14s %7s %13s %13s %7s\n' connections "mockd frames/s" "ws frames/s" ratio \
    "mockd us/frm" "ws us/frm" "ratio"
for c in 1 64; do
    m=() n=() mc=() nc=()
    for _ in $(seq 1 "$RUNS"); do
        read -r a b < <(rate "$mport" "$c" "$mpid"); m+=("$a"); mc+=("$b")
        if [ -n "$nport" ]; then
            read -r a b < <(rate "$nport" "$c" "$npid"); n+=("$a"); nc+=("$b")
        fi
    done
    mm=$(printf '%s\n' "${m[@]}" | median)
    mcm=$(printf '%s\n' "${mc[@]}" | median)
    if [ -n "$nport" ]; then
        nn=$(printf '%s\n' "${n[@]}" | median)
        ncm=$(printf '%s\n' "${nc[@]}" | median)
        printf '%-12s %14s %14s %6.2fx %13.2f %13.2f %6.2fx\n' "$c" "$mm" "$nn" \
            "$(echo "$mm / $nn" | bc -l)" "$mcm" "$ncm" "$(echo "$ncm / $mcm" | bc -l)"
    else
        printf '%-12s %14s %14s %7s %13.2f %13s %7s\n' "$c" "$mm" - - "$mcm" - -
    fi
done

rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
before=$(rss "$mpid")
taskset -c 1 "$WSBENCH" --idle "$mport" /api/v1/ws/chat 10000 8 > "$tmp/idle.out" &
ipid=$!
sleep 6
during=$(rss "$mpid")
wait "$ipid" || true
printf 'idle connections: %s; mockd RSS %.1f MB before, %.1f MB holding them (%.1f KB each)\n' \
    "$(cat "$tmp/idle.out")" "$(echo "$before/1024" | bc -l)" "$(echo "$during/1024" | bc -l)" \
    "$(echo "($during-$before)/10000" | bc -l)"

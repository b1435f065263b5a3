#!/usr/bin/env bash
# HTTP benchmark: mockd (validation on) against nginx answering the same bodies, each server
# pinned to core 0 with one worker, wrk pinned to core 1 with 64 connections. Prints req/s, p99
# and the mockd/nginx ratio for GET one object, GET a 100-item list, POST a validated ~600-byte
# body; the median of RUNS runs of DURATION each.
#
# usage: http.sh MOCKD [DURATION=5s] [RUNS=3]
# Needs wrk and nginx (Debian packages wrk, nginx-light); skips, saying so, without them.
set -eu
MOCKD=$1 DURATION=${2:-5s} RUNS=${3:-3}
here=$(cd "$(dirname "$0")" && pwd)
for t in wrk nginx taskset; do
    command -v "$t" >/dev/null || { echo "skip: $t not installed (apt-get install wrk nginx-light)"; exit 0; }
done
tmp=$(mktemp -d)
chmod 755 "$tmp"   # nginx workers run as www-data
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
[ -n "${KEEP_TMP:-}" ] && trap - EXIT
python3 "$here/make_spec.py" "$tmp" >/dev/null

# nginx on a free port, serving the same bytes.
nport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$tmp/nginx"
cat > "$tmp/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $tmp/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx;
    default_type application/json;
    server {
        listen 127.0.0.1:$nport;
        location = /one  { alias $tmp/one.json; }
        location = /list { alias $tmp/list.json; }
        location = /post { client_body_buffer_size 16k; error_page 405 =201 /created; return 405; }
        location = /created { internal; alias $tmp/created.json; }
    }
}
CONF
taskset -c 0 nginx -c "$tmp/nginx.conf" -p "$tmp" 2>/dev/null &
pids+=($!)

taskset -c 0 "$MOCKD" --quiet --threads 1 --log-format none --port 0 "$tmp/spec.json" > "$tmp/mockd.out" &
pids+=($!)
for _ in $(seq 1 100); do grep -q listening "$tmp/mockd.out" && break; sleep 0.05; done
mport=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$tmp/mockd.out")
sleep 0.3

cat > "$tmp/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$tmp/post.json", "rb"); wrk.body = f:read("*a"); f:close()
LUA

# Sanity: both answer what we think.
curl -sf "http://127.0.0.1:$mport/one" >/dev/null
curl -sf "http://127.0.0.1:$nport/one" >/dev/null
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$tmp/post.json" "http://127.0.0.1:$mport/post")
[ "$code" = 201 ] || { echo "mockd refused the benchmark POST body ($code)"; exit 1; }

run() { # run URL [script] -> "rps p99ms"
    local url=$1 script=${2:-}
    local out
    out=$(taskset -c 1 wrk -t1 -c64 -d"$DURATION" --latency ${script:+-s "$script"} "$url")
    local rps p99
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p99=$(echo "$out" | awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}')
    echo "$rps $p99"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf '%-28s %12s %9s %12s %9s %7s\n' case "mockd req/s" "p99 ms" "nginx req/s" "p99 ms" ratio
for case in one list post; do
    script=
    [ $case = post ] && script="$tmp/post.lua"
    m_rps=() m_p99=() n_rps=() n_p99=()
    for _ in $(seq 1 "$RUNS"); do
        read -r a b < <(run "http://127.0.0.1:$mport/$case" "$script"); m_rps+=("$a"); m_p99+=("$b")
        read -r a b < <(run "http://127.0.0.1:$nport/$case" "$script"); n_rps+=("$a"); n_p99+=("$b")
    done
    mr=$(printf '%s\n' "${m_rps[@]}" | median); mp=$(printf '%s\n' "${m_p99[@]}" | median)
    nr=$(printf '%s\n' "${n_rps[@]}" | median); np=$(printf '%s\n' "${n_p99[@]}" | median)
    label=$case
    [ $case = one ] && label="GET one object"
    [ $case = list ] && label="GET 100-item list"
    [ $case = post ] && label="POST validated 600 B body"
    printf '%-28s %12.0f %9.2f %12.0f %9.2f %6.2fx\n' "$label" "$mr" "$mp" "$nr" "$np" "$(echo "$mr / $nr" | bc -l)"
done

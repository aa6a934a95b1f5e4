#!/usr/bin/env bash
# Benchmarks: bench/run.sh [BUILD_DIR]
#
# 1. generator: users generated per second on one core (bench_generate),
#    next to memcpy of the same bytes.
# 2. serving: GET /api/?results=5000 with wrk against `spate randomuser`
#    and against nginx (Debian) serving a static file holding the same
#    bytes, same wrk settings, same machine, same run. The two are run in
#    alternation for BENCH_ROUNDS rounds (the machine's speed drifts by
#    +-15% between runs) and the medians are compared; prints the ratio and
#    both servers' peak RSS.
set -euo pipefail
BUILD=${1:-build}
SPATE=$BUILD/spate
SECS=${BENCH_SECONDS:-5}
ROUNDS=${BENCH_ROUNDS:-5}
CONNS=${BENCH_CONNECTIONS:-16}
WRK_THREADS=${BENCH_WRK_THREADS:-1}
SERVER_THREADS=${BENCH_SERVER_THREADS:-1}
command -v wrk >/dev/null || { echo "bench: wrk is missing (scripts/deps.sh all)" >&2; exit 1; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || { echo "bench: nginx is missing (scripts/deps.sh all)" >&2; exit 1; }

tmp=$(mktemp -d)
# nginx's workers run as an unprivileged user: they must be able to read.
chmod 755 "$tmp"
pids=()
cleanup() { for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT

echo "== machine: $(nproc) cores, $(sed -n 's/model name.*: //p' /proc/cpuinfo | head -1)"
echo "== commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"

echo "== 1. generator, one core"
"$BUILD/bench/bench_generate" "$SECS"

echo "== 2. serving results=5000 (wrk -t$WRK_THREADS -c$CONNS -d${SECS}s; servers with $SERVER_THREADS thread(s)/worker(s))"
"$SPATE" randomuser --listen 127.0.0.1:0 --threads "$SERVER_THREADS" 2>"$tmp/ru.log" &
ru=$!
pids+=("$ru")
port=
for _ in $(seq 1 100); do
  port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/api/.*|\1|p' "$tmp/ru.log" | head -1)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$tmp/ru.log"; exit 1; }
# Seeded, so every response is the same size as the static file.
path="/api/?results=5000&seed=bench"
mkdir -p "$tmp/www/api"
curl -sf "http://127.0.0.1:$port$path" -o "$tmp/www/api/static.json"
chmod -R a+rX "$tmp/www"
size=$(stat -c %s "$tmp/www/api/static.json")
echo "response size: $size bytes"

# Requests per second of a wrk run; a run with any non-2xx answer is void.
wrk_rps() {
  wrk -t"$WRK_THREADS" -c"$CONNS" -d"${SECS}s" --latency "$1" >"$tmp/wrk.out"
  sed 's/^/  wrk: /' "$tmp/wrk.out" >&2
  if grep -q "Non-2xx" "$tmp/wrk.out"; then echo "bench: non-2xx answers from $1" >&2; exit 1; fi
  awk '/Requests\/sec/ {print $2}' "$tmp/wrk.out"
}

nport=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$tmp/nginx.conf" <<CONF
worker_processes $SERVER_THREADS;
daemon off;
pid $tmp/nginx.pid;
error_log $tmp/nginx.err warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on; tcp_nopush on;
  keepalive_requests 1000000;
  types { application/json json; }
  server { listen 127.0.0.1:$nport; root $tmp/www; }
}
CONF
"$NGINX" -c "$tmp/nginx.conf" &
ng=$!
pids+=("$ng")
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$nport/api/static.json" -o /dev/null && break; sleep 0.1; done

median() { sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
: >"$tmp/spate.rps"
: >"$tmp/nginx.rps"
for r in $(seq 1 "$ROUNDS"); do
  a=$(wrk_rps "http://127.0.0.1:$port$path")
  b=$(wrk_rps "http://127.0.0.1:$nport/api/static.json")
  echo "$a" >>"$tmp/spate.rps"
  echo "$b" >>"$tmp/nginx.rps"
  echo "round $r: spate $a req/s, nginx $b req/s" >&2
done
spate_rps=$(median <"$tmp/spate.rps")
nginx_rps=$(median <"$tmp/nginx.rps")
spate_rss=$(awk '/VmHWM/ {print $2}' /proc/$ru/status)
nginx_rss=0
for p in $(pgrep -P "$ng") $ng; do r=$(awk '/VmHWM/ {print $2}' /proc/$p/status 2>/dev/null || echo 0); nginx_rss=$((nginx_rss + r)); done

awk -v s="$spate_rps" -v n="$nginx_rps" -v size="$size" -v srss="$spate_rss" -v nrss="$nginx_rss" -v rounds="$ROUNDS" 'BEGIN {
  printf "serving (median of %d rounds): spate %.1f req/s (%.0f users/s, %.0f MB/s), nginx static %.1f req/s (%.0f MB/s), ratio spate/nginx %.2f\n",
    rounds, s, s*5000, s*size/1e6, n, n*size/1e6, s/n
  printf "peak RSS: spate %d KiB, nginx (master+workers) %d KiB\n", srss, nrss }'

#!/usr/bin/env bash
# Broker benchmark: bench/run_kafka.sh [BUILD_DIR]
#
# librdkafka (bench_kafka) against `spate broker` on this machine, client
# included: produce throughput for 100 B and 1 KiB records (acks=1),
# consume throughput of the same, produce->ack latency with acks=all at a
# fixed moderate rate, and the broker's peak RSS (also with 100 idle
# partitions). Then the same loads against Redis Streams (redis-server,
# hiredis: bench_redis) and NATS JetStream (nats-server, bench_nats), each
# a fresh server of our own on a free loopback port (a system redis on 6379
# is left alone), their peak RSS, and the ratios spate/peer.
#
# Durability, comparable to spate's defaults:
#   spate   acks=1 for throughput (data flushed within a second), acks=all
#           and linger.ms=0
#           for latency (ack after fsync, group commit)
#   redis   appendonly yes, appendfsync everysec, save "" for throughput;
#           CONFIG SET appendfsync always before the latency run (reply
#           after the AOF write+fsync of its event-loop batch)
#   nats    JetStream file storage, 1 replica; ack after the write to the
#           stream's block file; nats-server 2.9 has no per-message fsync
#           option (sync_interval came in 2.10), it fsyncs on its own timer,
#           so its latency is *not* at acks=all durability
#
# Every throughput figure is the median of ROUNDS runs (BENCH_ROUNDS,
# default 3) of COUNT records (BENCH_COUNT, default 2 M; 1 KiB loads use a
# quarter), each round producing COUNT more and consuming COUNT from the
# start, so a figure is not one sub-second sample.
set -euo pipefail
BUILD=${1:-build}
COUNT=${BENCH_COUNT:-2000000}
ROUNDS=${BENCH_ROUNDS:-3}
BK=$BUILD/bench/bench_kafka
[ -x "$BK" ] || { echo "bench: $BK missing (librdkafka-dev: scripts/deps.sh all)" >&2; exit 1; }
BR=$BUILD/bench/bench_redis
BN=$BUILD/bench/bench_nats
tmp=$(mktemp -d)
pid= rpid= npid=
cleanup() {
  for p in $pid $rpid $npid; do kill "$p" 2>/dev/null || true; done
  for p in $pid $rpid $npid; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
declare -A R # results: R[system.test]=value
# Runs a benchmark client, echoes its line and keeps KEY's value as R[$1].
run() {
  local name=$1 key=$2 line
  shift 2
  line=$("$@")
  echo "$line"
  R[$name]=$(sed -n "s/.* $key=\([0-9.]*\).*/\1/p" <<<"$line")
}
# R[SYS.TEST] = the median of R[SYS.TEST.1..ROUNDS], with all of them shown.
median_of() {
  local sys=$1 t=$2 vals=()
  for r in $(seq 1 "$ROUNDS"); do vals+=("${R[$sys.$t.$r]}"); done
  R[$sys.$t]=$(printf '%s\n' "${vals[@]}" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')
  echo "  -> $sys $t: median ${R[$sys.$t]} msg/s of ${vals[*]}"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
hwm() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
"$BUILD/spate" broker --listen 127.0.0.1:0 --data-dir "$tmp/data" 2>"$tmp/log" &
pid=$!
for _ in $(seq 1 100); do
  port=$(sed -n 's|.*listening on 127.0.0.1:\([0-9]*\) (Kafka.*|\1|p' "$tmp/log" | head -1)
  [ -n "$port" ] && break
  sleep 0.1
done
B=127.0.0.1:$port
echo "== machine: $(nproc) cores, $(sed -n 's/model name.*: //p' /proc/cpuinfo | head -1); commit $(git rev-parse --short HEAD 2>/dev/null)"
for size in 100 1024; do
  echo x | kcat -b "$B" -X broker.address.family=v4 -P -t "b$size" 2>/dev/null # creates it (1 partition)
  n=$COUNT; [ "$size" = 1024 ] && n=$((COUNT / 4))
  for r in $(seq 1 "$ROUNDS"); do
    run "spate.p$size.$r" msgs_per_s "$BK" "$B" "b$size" produce "$size" "$n" 1
    run "spate.c$size.$r" msgs_per_s "$BK" "$B" "b$size" consume "$n"
  done
  median_of spate "p$size"
  median_of spate "c$size"
done
# Created first: an auto-created topic makes the first sends wait ~1 s for
# librdkafka's metadata retry, which is not what this measures.
echo x | kcat -b "$B" -X broker.address.family=v4 -P -t lat 2>/dev/null
run spate.lat p99_ms "$BK" "$B" lat latency 100 1000 5
R[spate.rss]=$(hwm $pid)
echo "broker peak RSS: ${R[spate.rss]} KiB"
for i in $(seq 1 100); do echo x | kcat -b "$B" -X broker.address.family=v4 -P -t "idle$i" 2>/dev/null; done
echo "broker RSS with 100 more idle partitions: $(awk '/VmRSS/ {print $2}' /proc/$pid/status) KiB"
kill $pid && wait $pid 2>/dev/null || true
pid=

# --- peers: the same loads, same machine, same run ---
peer_loads() { # SYSTEM CLIENT ADDR
  local sys=$1 cl=$2 addr=$3
  for size in 100 1024; do
    n=$COUNT; [ "$size" = 1024 ] && n=$((COUNT / 4))
    for r in $(seq 1 "$ROUNDS"); do
      run "$sys.p$size.$r" msgs_per_s "$cl" "$addr" "b$size" produce "$size" "$n"
      run "$sys.c$size.$r" msgs_per_s "$cl" "$addr" "b$size" consume "$n"
    done
    median_of "$sys" "p$size"
    median_of "$sys" "c$size"
  done
}
peers=()
if [ -x "$BR" ] && command -v redis-server >/dev/null; then
  rport=$(free_port)
  mkdir "$tmp/redis"
  printf '%s\n' "bind 127.0.0.1" "port $rport" "dir $tmp/redis" 'save ""' "appendonly yes" \
    "appendfsync everysec" "daemonize no" "protected-mode yes" >"$tmp/redis.conf"
  redis-server "$tmp/redis.conf" >"$tmp/redis.log" 2>&1 &
  rpid=$!
  for _ in $(seq 1 100); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done
  echo "== redis $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') (pid $rpid, port $rport): appendonly yes, appendfsync everysec"
  peer_loads redis "$BR" "127.0.0.1:$rport"
  redis-cli -p "$rport" config set appendfsync always >/dev/null
  echo "redis: appendfsync always for the latency run"
  run redis.lat p99_ms "$BR" "127.0.0.1:$rport" lat latency 100 1000 5
  R[redis.rss]=$(hwm $rpid)
  echo "redis peak RSS: ${R[redis.rss]} KiB"
  kill $rpid && wait $rpid 2>/dev/null || true
  rpid=
  peers+=(redis)
else
  echo "bench: redis-server or $BR missing (scripts/deps.sh all): Redis Streams skipped" >&2
fi
if [ -x "$BN" ] && command -v nats-server >/dev/null; then
  nport=$(free_port)
  nats-server -a 127.0.0.1 -p "$nport" -js -sd "$tmp/nats" >"$tmp/nats.log" 2>&1 &
  npid=$!
  for _ in $(seq 1 100); do grep -q "Server is ready" "$tmp/nats.log" && break; sleep 0.1; done
  echo "== nats-server $(nats-server --version | sed 's/.* v//') (pid $npid, port $nport): JetStream file storage, 1 replica"
  peer_loads nats "$BN" "127.0.0.1:$nport"
  run nats.lat p99_ms "$BN" "127.0.0.1:$nport" lat latency 100 1000 5
  R[nats.rss]=$(hwm $npid)
  echo "nats peak RSS: ${R[nats.rss]} KiB"
  kill $npid && wait $npid 2>/dev/null || true
  npid=
  peers+=(nats)
else
  echo "bench: nats-server or $BN missing (scripts/deps.sh all): NATS JetStream skipped" >&2
fi

# spate/peer: > 1 is spate ahead for msg/s, behind for p99 latency and RSS.
if [ ${#peers[@]} -gt 0 ]; then
  echo "== ratios spate/peer (msg/s: higher is better for spate; p99, RSS: lower is better)"
  printf '%-22s' metric; for p in "${peers[@]}"; do printf '%12s' "$p"; done; echo
  for m in p100:"produce 100 B msg/s" c100:"consume 100 B msg/s" p1024:"produce 1 KiB msg/s" \
    c1024:"consume 1 KiB msg/s" lat:"p99 latency" rss:"peak RSS"; do
    k=${m%%:*}
    printf '%-22s' "${m#*:}"
    for p in "${peers[@]}"; do
      awk -v a="${R[spate.$k]}" -v b="${R[$p.$k]}" 'BEGIN { if (b > 0) printf "%12.2f", a / b; else printf "%12s", "-" }'
    done
    echo
  done
fi

#!/usr/bin/env bash
# Broker benchmark: bench/run_kafka.sh [BUILD_DIR]
#
# librdkafka (bench_kafka) against `spate broker` on this machine, client
# included: produce throughput for 100 B and 1 KiB records (acks=1),
# consume throughput of the same, produce->ack latency with acks=all at a
# fixed moderate rate, and the broker's peak RSS (also with 100 idle
# partitions). The comparison with Redis Streams and NATS JetStream that
# the broker issue asks for is not in this script yet.
set -euo pipefail
BUILD=${1:-build}
COUNT=${BENCH_COUNT:-1000000}
BK=$BUILD/bench/bench_kafka
[ -x "$BK" ] || { echo "bench: $BK missing (librdkafka-dev: scripts/deps.sh all)" >&2; exit 1; }
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
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
  "$BK" "$B" "b$size" produce "$size" "$n" 1
  "$BK" "$B" "b$size" consume "$n"
done
# Created first: an auto-created topic makes the first sends wait ~1 s for
# librdkafka's metadata retry, which is not what this measures.
echo x | kcat -b "$B" -X broker.address.family=v4 -P -t lat 2>/dev/null
"$BK" "$B" lat latency 100 1000 5
echo "broker peak RSS: $(awk '/VmHWM/ {print $2}' /proc/$pid/status) KiB"
for i in $(seq 1 100); do echo x | kcat -b "$B" -X broker.address.family=v4 -P -t "idle$i" 2>/dev/null; done
echo "broker RSS with 100 more idle partitions: $(awk '/VmRSS/ {print $2}' /proc/$pid/status) KiB"

#!/usr/bin/env bash
# spate broker with librdkafka through a C program (rdkafka_roundtrip.c,
# built by tests/CMakeLists.txt next to the unit tests): for gzip, snappy,
# lz4 and zstd, 2000 messages with keys, headers and values of varied sizes
# are produced in compressed batches (linger.ms 10), every delivery report
# must succeed, and a consumer reading from the beginning with assign() must
# get every message back byte for byte, in order. A codec librdkafka
# silently drops (sending the batch uncompressed because ApiVersions made it
# think the broker lacks it) fails the test: with Produce advertised as 3-7,
# librdkafka 2.0.2 does this for gzip, snappy and lz4 (librdkafka#4956,
# KAFKA-18659); only zstd is really compressed.
set -euo pipefail
source "$SPATE_TESTLIB/lib.sh"
prog=$(dirname "$SPATE")/tests/rdkafka_roundtrip
[ -x "$prog" ] || fail "$prog is not built (cmake --build)"

start_broker --partitions 1
rc=0
timeout 120 "$prog" "$BROKER" 2000 || rc=$?
if [ "$rc" != 0 ]; then
  echo "--- broker log" >&2
  tail -50 "$BROKER_LOG" >&2
  fail "rdkafka_roundtrip (exit $rc)"
fi
stop_broker
ok "clean shutdown"

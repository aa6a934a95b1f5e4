#!/usr/bin/env bash
# spate broker with kafkajs 2.x (tests/node, installed by scripts/deps.sh), a
# pure-JavaScript client sharing no code with librdkafka: CreateTopics,
# Metadata, Produce (keys, headers, acks=all), ListOffsets, a two-member
# consumer group (JoinGroup/SyncGroup/Heartbeat/OffsetCommit/LeaveGroup),
# OffsetFetch, DescribeGroups, ListGroups, DeleteTopics. The checks are in
# broker_kafkajs.js.
set -euo pipefail
source "$SPATE_TESTLIB/lib.sh"
: "${SPATE_SRC:?SPATE_SRC must name the source tree}"
command -v node >/dev/null || fail "node is not installed"
[ -d "$SPATE_SRC/tests/node/node_modules/kafkajs" ] ||
  fail "kafkajs is not installed: bash scripts/deps.sh test (npm install in tests/node)"

start_broker --partitions 1
rc=0
timeout 90 node "$SPATE_TESTLIB/broker_kafkajs.js" "$BROKER" || rc=$?
if [ "$rc" != 0 ]; then
  echo "--- broker log" >&2
  tail -50 "$BROKER_LOG" >&2
  fail "kafkajs checks (exit $rc)"
fi
stop_broker
ok "clean shutdown"

#!/usr/bin/env bash
# spate cql with the Node cassandra-driver 4.x (tests/node, installed by
# scripts/deps.sh), the DataStax JavaScript driver with default options:
# protocol negotiation, DDL (the seed's, verbatim), prepared INSERT and
# SELECT, client.metadata.getTable, batches, paging, errors. The checks are
# in cql_node.js.
set -euo pipefail
source "$SPATE_TESTLIB/lib.sh"
: "${SPATE_SRC:?SPATE_SRC must name the source tree}"
command -v node >/dev/null || fail "node is not installed"
[ -d "$SPATE_SRC/tests/node/node_modules/cassandra-driver" ] ||
  fail "cassandra-driver is not installed: bash scripts/deps.sh test (npm install in tests/node)"

start_cql
rc=0
timeout 90 node "$SPATE_TESTLIB/cql_node.js" "$CQL" || rc=$?
if [ "$rc" != 0 ]; then
  echo "--- spate cql log" >&2
  tail -50 "$CQL_LOG" >&2
  fail "cassandra-driver checks (exit $rc)"
fi
stop_cql
ok "clean shutdown"

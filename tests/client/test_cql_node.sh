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

# Starts `spate cql` on a free port with a fresh data directory and sets
# CQL_PID, CQL (host:port), CQL_LOG.
start_cql() {
  CQL_LOG=$TMP/cql.$RANDOM.log
  : >"$CQL_LOG"
  "$SPATE" cql --listen 127.0.0.1:0 --data-dir "$TMP/cql-data" "$@" 2>"$CQL_LOG" &
  CQL_PID=$!
  STARTED_PIDS+=("$CQL_PID")
  local port=
  for _ in $(seq 1 100); do
    port=$(sed -n 's|.*listening on 127.0.0.1:\([0-9]*\) (CQL.*|\1|p' "$CQL_LOG" | head -1)
    [ -n "$port" ] && break
    kill -0 "$CQL_PID" 2>/dev/null || { cat "$CQL_LOG" >&2; fail "spate cql exited at start"; }
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$CQL_LOG" >&2; fail "spate cql did not report its port"; }
  CQL=127.0.0.1:$port
}

start_cql
rc=0
timeout 90 node "$SPATE_TESTLIB/cql_node.js" "$CQL" || rc=$?
if [ "$rc" != 0 ]; then
  echo "--- spate cql log" >&2
  tail -50 "$CQL_LOG" >&2
  fail "cassandra-driver checks (exit $rc)"
fi
kill -TERM "$CQL_PID"
rc=0
wait "$CQL_PID" || rc=$?
[ "$rc" = 0 ] || { tail -50 "$CQL_LOG" >&2; fail "spate cql exit status after SIGTERM: $rc"; }
ok "clean shutdown"

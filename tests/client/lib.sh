# Shared helpers for the bash client tests (sourced; SPATE is the binary).
#
#   start_randomuser [options...]   starts `spate randomuser` on a free port
#                                   and sets RU_PID and RU_URL
#   stop_started                    kills exactly the processes this test
#                                   started (by pid), run from the EXIT trap
#   fail MSG / ok MSG               report a check
: "${SPATE:?SPATE must name the spate binary}"
STARTED_PIDS=()
TMP=$(mktemp -d)

stop_started() {
  for pid in "${STARTED_PIDS[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  rm -rf "$TMP"
}
trap stop_started EXIT

fail() { echo "FAIL - $*" >&2; exit 1; }
ok() { echo "ok - $*"; }

# Starts a server on port 0 and reads the port it bound from its log line,
# so there is no race over a free port.
start_randomuser() {
  local log=$TMP/ru.$RANDOM.log
  : >"$log" # exists before the child opens it: the polling below reads it at once
  "$SPATE" randomuser --listen 127.0.0.1:0 "$@" 2>"$log" &
  RU_PID=$!
  STARTED_PIDS+=("$RU_PID")
  local i port=
  for i in $(seq 1 100); do
    port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/api/.*|\1|p' "$log" | head -1)
    [ -n "$port" ] && break
    kill -0 "$RU_PID" 2>/dev/null || { cat "$log" >&2; fail "spate randomuser exited at start"; }
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$log" >&2; fail "spate randomuser did not report its port"; }
  RU_URL=http://127.0.0.1:$port
  RU_LOG=$log
  curl -sf "$RU_URL/health" >/dev/null || fail "health probe of $RU_URL failed"
}

# Starts `spate broker` on a free port with a fresh data directory (or DIR
# if given as BROKER_DIR) and sets BROKER_PID, BROKER (host:port), BROKER_LOG.
start_broker() {
  local log=$TMP/broker.$RANDOM.log
  : >"$log"
  BROKER_DIR=${BROKER_DIR:-$TMP/broker-data}
  "$SPATE" broker --listen 127.0.0.1:${BROKER_PORT:-0} --data-dir "$BROKER_DIR" "$@" 2>"$log" &
  BROKER_PID=$!
  STARTED_PIDS+=("$BROKER_PID")
  local port=
  for _ in $(seq 1 100); do
    port=$(sed -n 's|.*listening on 127.0.0.1:\([0-9]*\) (Kafka.*|\1|p' "$log" | head -1)
    [ -n "$port" ] && break
    kill -0 "$BROKER_PID" 2>/dev/null || { cat "$log" >&2; fail "spate broker exited at start"; }
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$log" >&2; fail "spate broker did not report its port"; }
  BROKER=127.0.0.1:$port
  BROKER_PORT=$port
  BROKER_LOG=$log
}

# Stops the broker started last with SIGTERM and checks it exits 0.
stop_broker() {
  kill -TERM "$BROKER_PID"
  local rc=0
  wait "$BROKER_PID" || rc=$?
  [ "$rc" = 0 ] || { cat "$BROKER_LOG" >&2; fail "broker exit status after SIGTERM: $rc"; }
}

# Shared helpers for the bash client tests (sourced; SPATE is the binary).
#
#   start_randomuser [options...]   starts `spate randomuser` on a free port
#                                   and sets RU_PID and RU_URL
#   start_broker / stop_broker,     `spate broker` / `spate cql` on a free
#   start_cql / stop_cql            port (see each)
#   spawn_server / stop_server      any server that logs the port it bound
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

# spawn_server WHAT PATTERN CMD...: runs CMD in the background (stderr to
# a new log under $TMP) and waits until the log names the port it bound:
# PATTERN is a sed regex matching the whole line, its \(...\) group the
# port. Servers listen on port 0 and report the port, so there is no race
# over a free port. Sets SERVER_PID, SERVER_PORT, SERVER_LOG.
spawn_server() {
  local what=$1 pattern=$2
  shift 2
  SERVER_LOG=$TMP/server.$RANDOM.log
  : >"$SERVER_LOG" # exists before the child opens it: the polling below reads it at once
  "$@" 2>"$SERVER_LOG" &
  SERVER_PID=$!
  STARTED_PIDS+=("$SERVER_PID")
  SERVER_PORT=
  for _ in $(seq 1 100); do
    SERVER_PORT=$(sed -n "s|$pattern|\1|p" "$SERVER_LOG" | head -1)
    [ -n "$SERVER_PORT" ] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$SERVER_LOG" >&2; fail "$what exited at start"; }
    sleep 0.1
  done
  cat "$SERVER_LOG" >&2
  fail "$what did not report its port"
}

# stop_server WHAT PID LOG: SIGTERM, and the exit status must be 0. The
# pid leaves STARTED_PIDS (reaped: it may be reused by then).
stop_server() {
  kill -TERM "$2"
  local rc=0 p kept=()
  wait "$2" || rc=$?
  for p in "${STARTED_PIDS[@]}"; do [ "$p" = "$2" ] || kept+=("$p"); done
  STARTED_PIDS=("${kept[@]}")
  [ "$rc" = 0 ] || { cat "$3" >&2; fail "$1 exit status after SIGTERM: $rc"; }
}

start_randomuser() {
  spawn_server "spate randomuser" '.*listening on http://127.0.0.1:\([0-9]*\)/api/.*' \
    "$SPATE" randomuser --listen 127.0.0.1:0 "$@"
  RU_PID=$SERVER_PID RU_LOG=$SERVER_LOG RU_URL=http://127.0.0.1:$SERVER_PORT
  curl -sf "$RU_URL/health" >/dev/null || fail "health probe of $RU_URL failed"
}

# Starts `spate broker` on ${BROKER_PORT:-0} with a fresh data directory (or
# DIR if given as BROKER_DIR) and sets BROKER_PID, BROKER (host:port),
# BROKER_PORT, BROKER_LOG.
start_broker() {
  BROKER_DIR=${BROKER_DIR:-$TMP/broker-data}
  spawn_server "spate broker" '.*listening on 127.0.0.1:\([0-9]*\) (Kafka.*' \
    "$SPATE" broker --listen "127.0.0.1:${BROKER_PORT:-0}" --data-dir "$BROKER_DIR" "$@"
  BROKER_PID=$SERVER_PID BROKER_PORT=$SERVER_PORT BROKER_LOG=$SERVER_LOG
  BROKER=127.0.0.1:$SERVER_PORT
}

# Stops the broker started last with SIGTERM and checks it exits 0.
stop_broker() { stop_server "spate broker" "$BROKER_PID" "$BROKER_LOG"; }

# The log line `spate cql` names its port in (a spawn_server PATTERN).
CQL_LISTEN_RE='.*listening on 127.0.0.1:\([0-9]*\) (CQL.*'

# start_cql [ARGS...]: `spate cql` on ${CQL_PORT:-0} with its data in
# ${CQL_DIR:-$TMP/cql-data} and ARGS; sets CQL_PID, CQL_PORT, CQL
# (host:port), CQL_LOG. Again with the same CQL_PORT and CQL_DIR: the
# same store restarted.
start_cql() {
  spawn_server "spate cql" "$CQL_LISTEN_RE" \
    "$SPATE" cql --listen "127.0.0.1:${CQL_PORT:-0}" --data-dir "${CQL_DIR:-$TMP/cql-data}" "$@"
  CQL_PID=$SERVER_PID CQL_PORT=$SERVER_PORT CQL_LOG=$SERVER_LOG
  CQL=127.0.0.1:$SERVER_PORT
}

# Stops the spate cql started last with SIGTERM and checks it exits 0.
stop_cql() { stop_server "spate cql" "$CQL_PID" "$CQL_LOG"; }

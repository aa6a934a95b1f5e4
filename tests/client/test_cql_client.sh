#!/usr/bin/env bash
# spate's CQL client library and `spate cqlsh` against `spate cql`.
#
# 1. cql_client_check (tests/client/cql_client_check.c, built next to the
#    unit tests) drives the public client API (src/cql/cql.h) against a
#    spate cql this script starts on a free port with a fresh data dir:
#    a dead contact point first, DDL, 10 000 prepared inserts with a window
#    of 64, paging with page size 100, batches, statements the server
#    dropped (it keeps only 2) prepared again, error answers, v3 fallback
#    and timeouts against an in-process fake server, and a reconnect: when
#    the program prints PAUSE, the server is stopped and started again on
#    the same port and data dir, then the program goes on.
# 2. spate cqlsh -e: cqlsh's table layout, errors on stderr as
#    "-e:LINE:InvalidRequest (0x2200): ...", exit status 2 when a statement
#    failed (the others still run), 1 when it cannot connect.
set -euo pipefail
source "$SPATE_TESTLIB/lib.sh"
prog=$(dirname "$SPATE")/tests/cql_client_check
[ -x "$prog" ] || fail "$prog is not built (cmake --build)"

failed=0
check() { # STATUS MSG [DETAIL shown on failure]
  if [ "$1" = 0 ]; then ok "$2"; else echo "FAIL - $2 ${3:-}" >&2; failed=$((failed + 1)); fi
}

# Only 2 prepared statements kept: the client's re-prepare is exercised.
printf 'cql:\n  max_prepared: 2\n' >"$TMP/cql.yaml"
start_cql --config "$TMP/cql.yaml"
# A port nothing listens on: bound, then closed.
dead=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# --- 1. the client library ---
coproc CHECK { timeout 300 "$prog" "127.0.0.1:$dead,127.0.0.1:$CQL_PORT" 2>&1; }
check_out=${CHECK[0]} check_in=${CHECK[1]} check_pid=$CHECK_PID
while IFS= read -r line <&"$check_out"; do
  echo "$line"
  if [ "$line" = PAUSE ]; then
    stop_cql
    start_cql --config "$TMP/cql.yaml" # same port (CQL_PORT), same data dir
    echo "# spate cql restarted on port $CQL_PORT"
    echo go >&"$check_in"
  fi
done
rc=0
wait "$check_pid" || rc=$?
check "$rc" "cql_client_check (exit $rc)"

# --- 2. spate cqlsh -e ---
H=127.0.0.1:$CQL_PORT
rc=0
out=$("$SPATE" cqlsh "$H" -e "SELECT cluster_name FROM system.local;" 2>"$TMP/err") || rc=$?
want=$'\n cluster_name\n--------------\n        spate\n\n(1 rows)'
t=0; [ "$rc" = 0 ] && [ "$out" = "$want" ] && [ ! -s "$TMP/err" ] || t=1
check $t "cqlsh -e prints a system table as cqlsh does" "(exit $rc: $out)"

rc=0
out=$("$SPATE" cqlsh "$H" -k cc -e "SELECT k, c, v FROM pairs WHERE k = 2;" 2>"$TMP/err") || rc=$?
want=$'\n k | c | v\n---+---+---\n 2 | 0 | u\n 2 | 1 | u\n\n(2 rows)'
t=0; [ "$rc" = 0 ] && [ "$out" = "$want" ] || t=1
check $t "cqlsh -k cc -e: rows of a user table" "(exit $rc: $(head -c 300 "$TMP/err"); output: $out)"

rc=0
out=$("$SPATE" cqlsh "$H" -e "SELECT cluster_name FROM system.local;
SELECT * FROM cc.nosuch;
SELECT cluster_name FROM system.local;" 2>"$TMP/err") || rc=$?
t=0; [ "$rc" = 2 ] && [ "$(grep -c '(1 rows)' <<<"$out")" = 2 ] &&
  [ "$(cat "$TMP/err")" = "-e:2:InvalidRequest (0x2200): unconfigured table nosuch" ] || t=1
check $t "cqlsh -e: a failed statement is reported with its line, the others run, exit 2" \
  "(exit $rc: $(cat "$TMP/err"))"

rc=0
"$SPATE" cqlsh "$H" -e "SELEC 1;" >/dev/null 2>"$TMP/err" || rc=$?
t=0; [ "$rc" = 2 ] && grep -q '^-e:1:SyntaxException (0x2000): ' "$TMP/err" || t=1
check $t "cqlsh -e: syntax error, exit 2" "(exit $rc: $(cat "$TMP/err"))"

rc=0
"$SPATE" cqlsh "127.0.0.1:$dead" -e "SELECT 1;" >/dev/null 2>"$TMP/err" || rc=$?
t=0; [ "$rc" = 1 ] && grep -q '^Connection error: 127.0.0.1:'"$dead"': connect: Connection refused' "$TMP/err" || t=1
check $t "cqlsh against a dead address: exit 1" "(exit $rc: $(cat "$TMP/err"))"

stop_cql
ok "clean shutdown"
[ "$failed" = 0 ] || fail "$failed check(s) failed"

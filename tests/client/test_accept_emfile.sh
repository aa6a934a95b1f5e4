#!/usr/bin/env bash
# A server out of file descriptors (spate broker, spate cql): its
# listening socket is paused for a while, not spun on (net.h, the
# acceptor). For each server: started once to count the descriptors it
# holds when idle (k), stopped, and started again on the same data with
# its descriptor limit at k + 4 (`prlimit --nofile=N:N CMD`, which
# execs the server: lowering a running process's limit needs
# CAP_SYS_RESOURCE, which CI may not have; hard as well as soft: the
# broker raises its soft limit to the hard one at start). Then 24 clients
# connect and stay connected for a second — a few are accepted, the rest
# wait in the backlog while accept fails with EMFILE. Checks:
#   - one "Too many open files" warning, saying it pauses, not one per
#     loop turn (before the pause the readable socket woke the loop at
#     once, every turn, each with a warning: thousands in that second);
#   - the server used less than half a second of CPU in that second (the
#     warning is throttled on its own: a pause that did not unwatch the
#     socket would still log once, but spin a core);
#   - once the clients leave, the server serves a new client (`spate cql
#     --probe`, `spate topics list`): their descriptors were freed and the
#     socket is watched again;
#   - SIGTERM still stops it with exit status 0.
set -euo pipefail
source "$SPATE_TESTLIB/lib.sh"

PY=/usr/bin/python3
# hold PORT N SECS: N connections to PORT held open for SECS seconds
hold() {
  $PY - "$1" "$2" "$3" <<'EOF'
import socket, sys, time
port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(n)]
time.sleep(secs)
for s in socks:
    s.close()
EOF
}

# cpu_ticks PID: its user + system time, in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# starve WHAT PID PORT LOG: the checks above, up to the new client
starve() {
  local what=$1 pid=$2 port=$3 log=$4
  local t0 t1 hz
  hz=$(getconf CLK_TCK)
  t0=$(cpu_ticks "$pid")
  hold "$port" 24 1.0
  t1=$(cpu_ticks "$pid")
  [ $((t1 - t0)) -lt $((hz / 2)) ] ||
    fail "$what: $((t1 - t0)) ticks of CPU (of $hz a second) out of descriptors: spinning"
  local warns
  warns=$(grep -c "Too many open files" "$log" || true)
  [ "$warns" -ge 1 ] || fail "$what: no warning for EMFILE ($(tail -3 "$log"))"
  [ "$warns" -le 2 ] || fail "$what: $warns EMFILE warnings in a second (spinning on accept)"
  grep -q "not accepting connections for 100 ms" "$log" ||
    fail "$what: the warning does not say it paused: $(grep -m1 'Too many' "$log")"
  ok "$what: $warns warning(s) and $((t1 - t0)) CPU ticks out of descriptors for a second"
}

fds() { ls "/proc/$1/fd" | wc -l; }

start_cql
sleep 0.5
k=$(fds "$CQL_PID")
stop_cql
spawn_server "spate cql" "$CQL_LISTEN_RE" prlimit --nofile=$((k + 4)):$((k + 4)) \
  "$SPATE" cql --listen 127.0.0.1:0 --data-dir "$TMP/cql-data"
CQL_PID=$SERVER_PID CQL_LOG=$SERVER_LOG CQL=127.0.0.1:$SERVER_PORT
starve "spate cql" "$CQL_PID" "$SERVER_PORT" "$CQL_LOG"
out=$("$SPATE" cql --probe "$CQL" --timeout 5000 2>&1) || fail "spate cql: probe after EMFILE: $out"
ok "spate cql: answers a new client afterwards"
stop_cql

start_broker
sleep 0.5
k=$(fds "$BROKER_PID")
stop_broker
spawn_server "spate broker" '.*listening on 127.0.0.1:\([0-9]*\) (Kafka.*' \
  prlimit --nofile=$((k + 4)):$((k + 4)) "$SPATE" broker --listen 127.0.0.1:0 --data-dir "$BROKER_DIR"
BROKER_PID=$SERVER_PID BROKER_LOG=$SERVER_LOG BROKER=127.0.0.1:$SERVER_PORT
starve "spate broker" "$BROKER_PID" "$SERVER_PORT" "$BROKER_LOG"
out=$("$SPATE" topics list --bootstrap "$BROKER" --timeout 5000 2>&1) ||
  fail "spate broker: topics list after EMFILE: $out"
ok "spate broker: answers a new client afterwards"
stop_broker

#!/usr/bin/env bash
# CQL store benchmark: bench/run_cql.sh [BUILD_DIR]
#
# bench_cql (spate's own CQL client library) against `spate cql`, then the
# same loads through libpq against PostgreSQL 15, each server fresh, on a
# free loopback port, in a temp dir, on this machine, client included:
#
#   upsert   prepared upserts of created_users rows (uuid id + ten text
#            columns, ~230 B), WINDOW requests in flight (PostgreSQL: its
#            connections in pipeline mode sharing the same window, one
#            transaction per row); median of ROUNDS runs of COUNT rows
#            (round r writes ids r*COUNT.., so later rounds grow the table,
#            as a stream of new users does)
#   read     point reads by primary key of random existing ids
#   rate     upserts at a fixed RATE per second: p50/p99 latency, measured
#            from each row's scheduled send time
#
# Durability, compared pairwise:
#   spate --commitlog-sync periodic (WAL fsynced every 10 s)
#       vs PostgreSQL synchronous_commit=off (WAL flushed by the WAL writer,
#          within 3 x wal_writer_delay = 600 ms)
#   spate --commitlog-sync batch (answer after the fsync; group commit)
#       vs PostgreSQL synchronous_commit=on (answer after the WAL fsync;
#          concurrent commits share one)
#
# Peak memory: spate's VmHWM. PostgreSQL is a process per connection plus
# helpers sharing shared_buffers, so it is the peak of the sum of Pss
# (proportional set size: shared pages divided among their users) over
# all its processes, sampled every 0.2 s, and the postmaster's VmHWM.
#
# PostgreSQL runs as the `postgres` user when this script runs as root;
# binaries from /usr/lib/postgresql/15/bin (scripts/deps.sh all installs
# them). Prints ratios spate/postgres.
#
# PostgreSQL's connection counts are its best on this machine for the same
# window of 256 (measured with 2..64): 4 with synchronous_commit=off (more
# only add context switches on 2 cores), 32 with it on (more commits share
# each WAL fsync).
#
# Environment: BENCH_COUNT (default 300000), BENCH_ROUNDS (3),
# BENCH_WINDOW (256), BENCH_CONNS (4), BENCH_SYNC_CONNS (32), BENCH_RATE
# (20000), BENCH_RATE_COUNT (200000: 10 s at 20 k/s), BENCH_SYNC_COUNT
# (rows per round with per-write fsync, default COUNT/3).
#
# A run whose requests got errors (or, for reads, missed rows) is shown
# but left out of the ratios ("-").
set -euo pipefail
BUILD=${1:-build}
COUNT=${BENCH_COUNT:-300000}
ROUNDS=${BENCH_ROUNDS:-3}
WINDOW=${BENCH_WINDOW:-256}
CONNS=${BENCH_CONNS:-4}
SYNC_CONNS=${BENCH_SYNC_CONNS:-32}
RATE=${BENCH_RATE:-20000}
RATE_COUNT=${BENCH_RATE_COUNT:-200000}
SYNC_COUNT=${BENCH_SYNC_COUNT:-$((COUNT / 3))}
BC=$BUILD/bench/bench_cql
PGBIN=/usr/lib/postgresql/15/bin
[ -x "$BC" ] || { echo "bench: $BC missing (libpq-dev: scripts/deps.sh all)" >&2; exit 1; }
[ -x "$PGBIN/initdb" ] || { echo "bench: $PGBIN missing (postgresql: scripts/deps.sh all)" >&2; exit 1; }

tmp=$(mktemp -d)
pgdir=$(mktemp -d /tmp/spate-bench-pg.XXXXXX) # its own: the postgres user must own it
pid= pgpid= sampler=
AS_PG=()
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$pgdir"
  AS_PG=(runuser -u postgres --)
fi
pg_stop() {
  [ -n "$sampler" ] && { kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true; }
  sampler=
  if [ -n "$pgpid" ]; then
    "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$pgdir/data" -m fast -w stop >/dev/null 2>&1 || kill "$pgpid" 2>/dev/null || true
  fi
  pgpid=
}
cleanup() {
  [ -n "$pid" ] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  pg_stop
  rm -rf "$tmp" "$pgdir"
}
trap cleanup EXIT

declare -A R # results: R[system.test]=value
# Runs a benchmark client, echoes its line and keeps KEY's value as R[$1].
run() {
  local name=$1 key=$2 line
  shift 2
  line=$("$@") || echo "bench: FAILED (exit $?): ${*:1:4}" >&2 # its line still says how far it got
  echo "$line"
  R[$name]=$(sed -n "s/.* $key=\([0-9.]*\).*/\1/p" <<<"$line")
  grep -Eq ' errors=0( |$)' <<<"$line" && ! grep -Eq ' misses=[1-9]' <<<"$line" || R[$name]=-
}
# R[SYS.upsert] = median of the rounds, all shown.
upsert_rounds() { # SYS TARGET N [options...]
  local sys=$1 target=$2 n=$3 vals=() r
  shift 3
  local client=cql
  [ "${sys#pg}" != "$sys" ] && client=pg
  for r in $(seq 0 $((ROUNDS - 1))); do
    run "$sys.upsert.$r" ops_per_s "$BC" "$client" "$target" upsert "$n" "first=$((r * n))" "$@"
    vals+=("${R[$sys.upsert.$r]}")
  done
  R[$sys.upsert]=$(printf '%s\n' "${vals[@]}" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')
  [[ " ${vals[*]} " == *" - "* ]] && R[$sys.upsert]=-
  echo "  -> $sys upsert: median ${R[$sys.upsert]} rows/s of ${vals[*]}"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
hwm() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

echo "== machine: $(nproc) cores, $(sed -n 's/model name.*: //p' /proc/cpuinfo | head -1); commit $(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null)"
echo "== rows per round $COUNT (per-write fsync: $SYNC_COUNT), $ROUNDS rounds, window $WINDOW, postgres connections $CONNS, rate $RATE/s for $RATE_COUNT rows"

# --- spate cql, one fresh server per commit-log mode ---
spate_loads() { # MODE: periodic | batch
  local mode=$1 sys=spate_$1 n=$COUNT
  [ "$mode" = batch ] && n=$SYNC_COUNT
  local log=$tmp/cql-$mode.log port=
  : >"$log"
  "$BUILD/spate" cql --listen 127.0.0.1:0 --data-dir "$tmp/cql-$mode" --commitlog-sync "$mode" 2>"$log" &
  pid=$!
  for _ in $(seq 1 100); do
    port=$(sed -n 's|.*listening on 127.0.0.1:\([0-9]*\) (CQL.*|\1|p' "$log" | head -1)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$log" >&2; echo "bench: spate cql did not start" >&2; exit 1; }
  echo "== spate cql (pid $pid, port $port): --commitlog-sync $mode"
  "$BC" cql "127.0.0.1:$port" setup || exit 1
  upsert_rounds "$sys" "127.0.0.1:$port" "$n" "window=$WINDOW"
  run "$sys.read" ops_per_s "$BC" cql "127.0.0.1:$port" read "$COUNT" "keys=$((ROUNDS * n))" "window=$WINDOW"
  run "$sys.rate" p99_ms "$BC" cql "127.0.0.1:$port" rate "$RATE_COUNT" "rate=$RATE" "first=$((ROUNDS * n))" "window=$WINDOW"
  R[$sys.rss]=$(hwm "$pid")
  echo "spate cql peak RSS (VmHWM): ${R[$sys.rss]} KiB"
  kill "$pid" && wait "$pid" 2>/dev/null || true
  pid=
}
spate_loads periodic
spate_loads batch

# --- PostgreSQL 15 ---
pgport=$(free_port)
"${AS_PG[@]}" "$PGBIN/initdb" -D "$pgdir/data" -A trust -U bench -E UTF8 >"$tmp/initdb.log" 2>&1 ||
  { cat "$tmp/initdb.log" >&2; exit 1; }
"${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w \
  -o "-p $pgport -k $pgdir -c listen_addresses=127.0.0.1 -c max_connections=100" start >/dev/null
pgpid=$(head -1 "$pgdir/data/postmaster.pid")
# Peak of the sum of Pss over the postmaster and its children.
(
  peak=0
  while :; do
    sum=0
    for p in $pgpid $(pgrep -P "$pgpid"); do
      v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || true)
      sum=$((sum + ${v:-0}))
    done
    [ "$sum" -gt "$peak" ] && { peak=$sum; echo "$peak" >"$tmp/pg.pss"; }
    sleep 0.2
  done
) &
sampler=$!
echo "== $("$PGBIN/postgres" --version) (pid $pgpid, port $pgport): shared_buffers $(psql -h 127.0.0.1 -p "$pgport" -U bench -d postgres -Atc 'show shared_buffers'), fsync on, wal_sync_method $(psql -h 127.0.0.1 -p "$pgport" -U bench -d postgres -Atc 'show wal_sync_method')"
pg_loads() { # MODE: off | on
  local mode=$1 sys=pg_$1 n=$COUNT conns=$CONNS
  [ "$mode" = on ] && n=$SYNC_COUNT conns=$SYNC_CONNS
  local ci="host=127.0.0.1 port=$pgport user=bench dbname=postgres options='-c synchronous_commit=$mode'"
  echo "== postgres: synchronous_commit=$mode, $conns connections"
  "$BC" pg "$ci" setup || exit 1
  upsert_rounds "$sys" "$ci" "$n" "window=$WINDOW" "conns=$conns"
  run "$sys.read" ops_per_s "$BC" pg "$ci" read "$COUNT" "keys=$((ROUNDS * n))" "window=$WINDOW" "conns=$conns"
  run "$sys.rate" p99_ms "$BC" pg "$ci" rate "$RATE_COUNT" "rate=$RATE" "first=$((ROUNDS * n))" "window=$WINDOW" "conns=$conns"
}
pg_loads off
pg_loads on
sleep 0.3
R[pg.rss]=$(cat "$tmp/pg.pss" 2>/dev/null || echo 0)
echo "postgres peak memory: sum of Pss ${R[pg.rss]} KiB; postmaster VmHWM $(hwm "$pgpid") KiB"
R[pg_off.rss]=${R[pg.rss]} R[pg_on.rss]=${R[pg.rss]}
pg_stop

# spate/postgres: > 1 is spate ahead for rows/s, behind for p99 and memory.
echo "== ratios spate/postgres (rows/s: higher is better for spate; p99, memory: lower is better)"
printf '%-34s%14s%14s%10s\n' metric spate postgres ratio
for pair in periodic:off batch:on; do
  s=spate_${pair%%:*} p=pg_${pair#*:}
  for m in upsert:"upsert rows/s" read:"point reads/s" rate:"p99 ms at $RATE/s" rss:"peak memory KiB"; do
    k=${m%%:*}
    label="${m#*:} (${pair%%:*}/${pair#*:})"
    printf '%-34s%14s%14s' "$label" "${R[$s.$k]}" "${R[$p.$k]}"
    awk -v a="${R[$s.$k]}" -v b="${R[$p.$k]}" 'BEGIN { if (a ~ /^[0-9.]+$/ && b > 0) printf "%10.2f\n", a / b; else printf "%10s\n", "-" }'
  done
done

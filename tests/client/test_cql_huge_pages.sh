#!/usr/bin/env bash
# `spate cql` runs itself again with glibc.malloc.hugetlb=1 in
# GLIBC_TUNABLES (docs/commands.md, "Huge pages"). Seen from outside the
# running server (the pid this script started: exec keeps it): its argv[0]
# is "spate" once it ran itself again (this script starts it by full path),
# and its environment. glibc up to 2.38 cuts GLIBC_TUNABLES after the
# first tunable while parsing it, so with the user's own tunables only
# those may show (later glibc shows both; either is accepted); that the
# second one works there was checked by hand (AnonHugePages > 0 under
# load). Three starts:
#   1. plain: run again, GLIBC_TUNABLES=glibc.malloc.hugetlb=1
#   2. GLIBC_TUNABLES=glibc.malloc.mmap_threshold=1048576 set by the user:
#      run again, the user's tunable first
#   3. SPATE_CQL_HUGE_PAGES=0: not run again, GLIBC_TUNABLES unset
# Each server must answer `spate cql --probe` and exit 0 on SIGTERM.
# The AddressSanitizer build never runs itself again: there, all three
# starts keep argv[0] and the environment as they were.
set -euo pipefail
source "$SPATE_TESTLIB/lib.sh"

# run_cql ENV...: spate cql with ENV added, on a free port; once it
# listens, probes it and stops it; sets TUN (its GLIBC_TUNABLES or "unset")
# and ARGV0
run_cql() {
  # env execs spate: SERVER_PID is spate cql's pid
  spawn_server "spate cql" "$CQL_LISTEN_RE" \
    env "$@" "$SPATE" cql --listen 127.0.0.1:0 --data-dir "$TMP/cql.$RANDOM"
  TUN=$(tr '\0' '\n' <"/proc/$SERVER_PID/environ" | sed -n 's/^GLIBC_TUNABLES=//p')
  [ -n "$TUN" ] || TUN=unset
  ARGV0=$(tr '\0' '\n' <"/proc/$SERVER_PID/cmdline" | head -1)
  local out
  out=$("$SPATE" cql --probe "127.0.0.1:$SERVER_PORT" 2>&1) || fail "probe: $out"
  stop_server "spate cql" "$SERVER_PID" "$SERVER_LOG"
}

asan=0
case "$SPATE" in */asan/*) asan=1 ;; esac
again=spate
[ $asan = 1 ] && again=$SPATE

run_cql X=1
want=glibc.malloc.hugetlb=1
[ $asan = 1 ] && want=unset
[ "$ARGV0" = "$again" ] && [ "$TUN" = "$want" ] ||
  fail "argv[0] $ARGV0, GLIBC_TUNABLES=$TUN (want $again, $want)"
ok "plain start: argv[0] $ARGV0, GLIBC_TUNABLES=$TUN"

run_cql GLIBC_TUNABLES=glibc.malloc.mmap_threshold=1048576
user=glibc.malloc.mmap_threshold=1048576
[ "$ARGV0" = "$again" ] && { [ "$TUN" = $user ] || { [ $asan = 0 ] && [ "$TUN" = $user:glibc.malloc.hugetlb=1 ]; }; } ||
  fail "argv[0] $ARGV0, GLIBC_TUNABLES=$TUN (want $again, the user's tunable first)"
ok "the user's tunables kept: argv[0] $ARGV0, GLIBC_TUNABLES=$TUN"

run_cql SPATE_CQL_HUGE_PAGES=0
[ "$ARGV0" = "$SPATE" ] && [ "$TUN" = unset ] ||
  fail "SPATE_CQL_HUGE_PAGES=0: argv[0] $ARGV0, GLIBC_TUNABLES=$TUN (want $SPATE, unset)"
ok "SPATE_CQL_HUGE_PAGES=0: not run again"

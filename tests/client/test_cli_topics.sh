#!/usr/bin/env bash
# `spate topics` and `spate groups` against spate broker, with kcat as the
# independent producer and consumer: create, list, describe (partitions,
# leaders, watermarks), duplicate create, delete; a consumer group's
# committed offsets and lag; usage errors and an unreachable cluster.
# Nothing here is spate-broker specific: the same commands work against a
# real Kafka cluster.
set -euo pipefail
source "$SPATE_TESTLIB/lib.sh"

expect_exit() { # expect_exit CODE DESCRIPTION -- command...
  local want=$1 what=$2; shift 3
  set +e
  "$@" >"$TMP/out" 2>"$TMP/err"
  local got=$?
  set -e
  [ "$got" = "$want" ] || { cat "$TMP/out" "$TMP/err" >&2; fail "$what: exit $got, want $want"; }
  ok "$what (exit $want)"
}
expect_text() { # expect_text FILE TEXT DESCRIPTION
  grep -qF -- "$2" "$TMP/$1" || { cat "$TMP/out" "$TMP/err" >&2; fail "$3: no '$2' in $1"; }
}

start_broker --no-auto-create
T="$SPATE"
K=(--bootstrap "$BROKER" --timeout 10000)

# --- topics --------------------------------------------------------------
expect_exit 0 "topics --help" -- "$T" topics --help
expect_text out "topics create NAME" "help names create"
expect_exit 0 "groups --help" -- "$T" groups describe --help
expect_exit 2 "topics without subcommand" -- "$T" topics
expect_exit 2 "unknown topics subcommand" -- "$T" topics frob "${K[@]}"
expect_text err "unknown subcommand 'frob'" "unknown subcommand message"
expect_exit 2 "unknown groups subcommand" -- "$T" groups frob
expect_exit 2 "unknown option" -- "$T" topics list --frob
expect_exit 2 "bad --partitions" -- "$T" topics create x --partitions zero "${K[@]}"
expect_exit 2 "create without a name" -- "$T" topics create "${K[@]}"

expect_exit 0 "create a 3-partition topic" -- "$T" topics create cli-t1 --partitions 3 \
  --replication-factor 1 --config retention.ms=60000 "${K[@]}"
expect_text out "Created topic cli-t1." "create message"
expect_exit 0 "create a second topic" -- "$T" topics create cli-a0 "${K[@]}"

expect_exit 0 "topics list" -- "$T" topics list "${K[@]}"
grep -qx cli-t1 "$TMP/out" || fail "list does not show cli-t1: $(cat "$TMP/out")"
[ "$(cat "$TMP/out")" = "$(sort "$TMP/out")" ] || fail "list is not sorted: $(cat "$TMP/out")"
[ "$(head -1 "$TMP/out")" = cli-a0 ] || fail "list order: $(cat "$TMP/out")"
ok "list shows the topics, sorted"

SPATE_BOOTSTRAP=$BROKER expect_exit 0 "SPATE_BOOTSTRAP is the default" -- "$T" topics list
grep -qx cli-t1 "$TMP/out" || fail "list via SPATE_BOOTSTRAP: $(cat "$TMP/out")"

expect_exit 0 "describe" -- "$T" topics describe cli-t1 "${K[@]}"
expect_text out "PartitionCount: 3" "describe partition count"
n=$(grep -c $'^\tTopic: cli-t1\tPartition: ' "$TMP/out" || true)
[ "$n" = 3 ] || fail "describe shows $n partition lines, want 3"
leaders=$(sed -n 's/.*Leader: \([0-9-]*\).*/\1/p' "$TMP/out" | sort -u)
[ "$leaders" = 1 ] || fail "leaders: $leaders, want 1"
ok "describe shows 3 partitions led by node 1"

seq 1 10 | sed 's/^/msg-/' | kcat -b "$BROKER" -t cli-t1 -P -X topic.partitioner=random
high_total() { sed -n 's/.*High: \([0-9]*\).*/\1/p' "$TMP/out" | awk '{s+=$1} END {print s+0}'; }
expect_exit 0 "describe after producing" -- "$T" topics describe cli-t1 "${K[@]}"
[ "$(high_total)" = 10 ] || { cat "$TMP/out" >&2; fail "high watermarks sum to $(high_total), want 10"; }
ok "high watermarks total 10"

expect_exit 1 "create again" -- "$T" topics create cli-t1 --partitions 3 "${K[@]}"
expect_text err "already exists" "duplicate create names the broker's error"
expect_exit 1 "describe an unknown topic" -- "$T" topics describe no-such-topic "${K[@]}"
expect_text err "unknown topic 'no-such-topic'" "unknown topic message"

# --- groups --------------------------------------------------------------
timeout 60 kcat -b "$BROKER" -G tg cli-t1 -c 10 -e -q -X auto.offset.reset=earliest \
  -X enable.auto.commit=true -X auto.commit.interval.ms=100 >"$TMP/consumed" 2>"$TMP/kcat.err" ||
  { cat "$TMP/kcat.err" >&2; fail "kcat -G did not consume the 10 messages"; }
[ "$(wc -l <"$TMP/consumed")" = 10 ] || fail "kcat consumed $(wc -l <"$TMP/consumed") messages"

expect_exit 0 "groups list" -- "$T" groups list "${K[@]}"
grep -q $'^tg\t' "$TMP/out" || fail "groups list does not show tg: $(cat "$TMP/out")"
ok "groups list shows tg"

expect_exit 0 "groups describe" -- "$T" groups describe tg "${K[@]}"
expect_text out "Group: tg" "describe names the group"
expect_text out "LOG-END-OFFSET" "describe has the offsets table"
rows=$(awk '$1 == "cli-t1"' "$TMP/out")
[ -n "$rows" ] || { cat "$TMP/out" >&2; fail "no committed offsets for cli-t1"; }
committed=$(awk '$1 == "cli-t1" {s += $3} END {print s+0}' "$TMP/out")
[ "$committed" = 10 ] || { cat "$TMP/out" >&2; fail "committed offsets sum to $committed, want 10"; }
awk '$1 == "cli-t1" && ($3 != $4 || $5 != 0) {bad=1} END {exit bad}' "$TMP/out" ||
  { cat "$TMP/out" >&2; fail "lag is not 0 on every partition"; }
ok "describe shows committed offsets at the log end, lag 0"

expect_exit 1 "describe an unknown group" -- "$T" groups describe no-such-group "${K[@]}"
expect_text err "unknown group" "unknown group message"

# --- delete --------------------------------------------------------------
expect_exit 0 "delete" -- "$T" topics delete cli-t1 "${K[@]}"
expect_text out "Deleted topic cli-t1." "delete message"
expect_exit 0 "list after delete" -- "$T" topics list "${K[@]}"
if grep -qx cli-t1 "$TMP/out"; then fail "cli-t1 still listed after delete"; fi
ok "deleted topic is gone"
expect_exit 1 "delete an unknown topic" -- "$T" topics delete cli-t1 "${K[@]}"

# --- an unreachable cluster ----------------------------------------------
# A port that was just bound and released: nothing listens there.
dead=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start=$(date +%s)
expect_exit 1 "unreachable bootstrap" -- "$T" topics list --bootstrap 127.0.0.1:$dead --timeout 1500
expect_text err "cannot reach Kafka at 127.0.0.1:$dead" "unreachable message"
expect_exit 1 "unreachable bootstrap (groups)" -- "$T" groups list --bootstrap 127.0.0.1:$dead --timeout 1500
[ $(($(date +%s) - start)) -le 15 ] || fail "unreachable bootstrap took more than the timeouts"
ok "unreachable bootstrap fails within the timeout"

stop_broker

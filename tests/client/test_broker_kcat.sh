#!/usr/bin/env bash
# spate broker with kcat (librdkafka 2.0.2), a Kafka client nobody here
# wrote: metadata listing, topic auto-creation, produce and consume with
# keys and headers, offsets from the beginning, the end and by count,
# compression, many partitions, and data surviving a restart.
set -euo pipefail
source "$SPATE_TESTLIB/lib.sh"
command -v kcat >/dev/null || fail "kcat is not installed (scripts/deps.sh)"

start_broker --partitions 1
K=(kcat -b "$BROKER" -X broker.address.family=v4)

"${K[@]}" -L >"$TMP/meta" 2>&1 || { cat "$TMP/meta"; fail "kcat -L"; }
grep -q "broker 1 at $BROKER (controller)" "$TMP/meta" || { cat "$TMP/meta"; fail "broker not listed"; }
ok "metadata lists the broker as controller"

# Produce: the topic is created by the producer's Metadata request.
seq 1 1000 | sed 's/^/msg-/' | "${K[@]}" -P -t plain
"${K[@]}" -C -t plain -o beginning -e -q >"$TMP/plain.out"
[ "$(wc -l <"$TMP/plain.out")" = 1000 ] || fail "consumed $(wc -l <"$TMP/plain.out") of 1000"
diff <(seq 1 1000 | sed 's/^/msg-/') "$TMP/plain.out" >/dev/null || fail "messages differ or out of order"
ok "1000 messages produced and consumed in order"

# Keys and headers
printf 'k1:v1\nk2:v2\nk3:v3\n' | "${K[@]}" -P -t keyed -K: -H trace=abc -H n=1
"${K[@]}" -C -t keyed -o beginning -e -q -f '%k=%s [%h] @%o\n' >"$TMP/keyed.out"
cat >"$TMP/keyed.want" <<'OUT'
k1=v1 [trace=abc,n=1] @0
k2=v2 [trace=abc,n=1] @1
k3=v3 [trace=abc,n=1] @2
OUT
diff "$TMP/keyed.want" "$TMP/keyed.out" || fail "keys/headers/offsets differ"
ok "keys, headers and offsets come back as produced"

# Offsets: from the end (-o -2 = last two), a given offset, and 'end' (nothing).
"${K[@]}" -C -t plain -o -2 -e -q >"$TMP/tail.out"
[ "$(cat "$TMP/tail.out" | tr '\n' ' ')" = "msg-999 msg-1000 " ] || fail "-o -2 gave: $(cat "$TMP/tail.out")"
"${K[@]}" -C -t plain -o 500 -c 3 -e -q >"$TMP/mid.out"
[ "$(cat "$TMP/mid.out" | tr '\n' ' ')" = "msg-501 msg-502 msg-503 " ] || fail "-o 500 gave: $(cat "$TMP/mid.out")"
ok "ListOffsets: relative, absolute offsets"

# Compression: every codec librdkafka has, stored as sent and read back.
for codec in gzip snappy lz4 zstd; do
  seq 1 200 | "${K[@]}" -P -t "z-$codec" -z "$codec"
  n=$("${K[@]}" -C -t "z-$codec" -o beginning -e -q | wc -l)
  [ "$n" = 200 ] || fail "$codec: consumed $n of 200"
done
ok "gzip, snappy, lz4, zstd batches round-trip"

# A long poll: a consumer waiting at the end receives what is produced later.
( sleep 1; echo late | "${K[@]}" -P -t plain ) &
producer=$!
late=$(timeout 20 "${K[@]}" -C -t plain -o end -c 1 -q)
wait "$producer" # not a bare wait: the broker is a child too
[ "$late" = late ] || fail "waiting consumer got '$late'"
ok "a consumer at the end gets a message produced a second later"

# Restart: everything is still there.
stop_broker
start_broker
n=$("${K[@]}" -C -t plain -o beginning -e -q | wc -l)
[ "$n" = 1001 ] || fail "after restart: $n of 1001 messages"
"${K[@]}" -L -t keyed | grep -q 'topic "keyed" with 1 partitions' || fail "topic list after restart"
ok "restart keeps topics, messages and offsets"

# Metadata for a topic that does not exist, with auto-creation off.
stop_broker
start_broker --no-auto-create
set +e
"${K[@]}" -L -t nosuch >"$TMP/nosuch" 2>&1
set -e
grep -qi "unknown topic\|Unknown_Topic\|UNKNOWN_TOPIC" "$TMP/nosuch" || { cat "$TMP/nosuch"; fail "unknown topic not reported"; }
ok "--no-auto-create: unknown topics are reported, not created"
stop_broker
ok "clean shutdown"

# The health probe: ready while the broker runs, not ready once it stopped,
# and not fooled by a server that speaks something else (randomuser's HTTP).
start_broker
out=$("$SPATE" broker --probe "$BROKER") || fail "--probe of a running broker failed: $out"
[[ "$out" == "$BROKER: ready (Kafka protocol, "*" APIs)" ]] || fail "--probe said: $out"
"$SPATE" broker --listen "$BROKER" --probe >/dev/null || fail "--probe without an address uses --listen"
stop_broker
set +e
err=$("$SPATE" broker --probe "$BROKER" --timeout 1000 2>&1); rc=$?
set -e
[ "$rc" = 1 ] && [[ "$err" == *"not ready: connect: Connection refused"* ]] ||
  fail "--probe of a stopped broker: rc=$rc '$err'"
start_randomuser
set +e
err=$("$SPATE" broker --probe "${RU_URL#http://}" --timeout 500 2>&1); rc=$?
set -e
[ "$rc" = 1 ] || fail "--probe of an HTTP server: rc=$rc '$err'"
ok "broker --probe: 0 when a broker answers ApiVersions, 1 otherwise, with the reason"

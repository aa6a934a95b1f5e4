#!/usr/bin/env bash
# `make run`: the main job on embedded defaults.
#
# Until the broker, store and stream processor exist (see the issues), the
# main job is the pipeline's ingestion step: it starts `spate randomuser`
# (the randomuser.me-compatible source) on a free loopback port, fetches
# users from it with `spate fetch` and prints them as the pipeline will
# carry them (format_user records), then stops the server it started.
set -euo pipefail
SPATE=${1:-build/spate}
COUNT=${SPATE_RUN_COUNT:-5}
log=$(mktemp)
"$SPATE" randomuser --listen 127.0.0.1:0 2>"$log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
port=
for _ in $(seq 1 100); do
  port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/api/.*|\1|p' "$log" | head -1)
  [ -n "$port" ] && break
  kill -0 $pid 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "spate randomuser did not start" >&2; cat "$log" >&2; exit 1; }
cat "$log" >&2
url=http://127.0.0.1:$port/api/
echo "== spate fetch --url $url --count $COUNT" >&2
"$SPATE" fetch --url "$url" --count "$COUNT"

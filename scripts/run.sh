#!/usr/bin/env bash
# `make run`: the main job — the whole pipeline with one command, `spate up`
# on the embedded defaults (a copy of examples/pipeline.yaml, written to
# ./spate-data/pipeline.yaml): randomuser source, broker, CQL store, stream
# processor and scheduler as supervised children, data under ./spate-data
# (kept between runs), the standard ports 8088, 9092, 9042, 9108, 8793.
#
#   make run                      runs until Ctrl-C (stops everything, exit 0)
#   SPATE_RUN_ONCE=1 make run     one DAG run end to end, checked, then stop
#   SPATE_RUN_COUNT=N             users for the one run without a scheduler
#                                 (with one, the DAG's params.count: 1000)
#
# A spate built without the `scheduler` command would never produce users,
# so then make run does the one-run form: `spate up --once` fetches the users
# itself and exits 0 only when every one of them is in
# spark_streams.created_users.
set -euo pipefail
SPATE=${1:-build/spate}
args=(up)
[ -n "${SPATE_RUN_COUNT:-}" ] && args+=(--count "$SPATE_RUN_COUNT")
if [ "${SPATE_RUN_ONCE:-0}" = 1 ]; then
  args+=(--once)
elif ! "$SPATE" help scheduler >/dev/null 2>&1; then
  echo "run.sh: this spate has no scheduler yet: running one pass (spate up --once)" >&2
  args+=(--once)
fi
echo "== $SPATE ${args[*]}" >&2
exec "$SPATE" "${args[@]}"

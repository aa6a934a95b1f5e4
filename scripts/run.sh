#!/usr/bin/env bash
# `make run`: the main job — the whole pipeline with one command, `spate up`
# on the embedded defaults (examples/pipeline.yaml, built into the binary
# and written to ./spate-data/pipeline.yaml): randomuser source, broker,
# CQL store, stream processor and scheduler as supervised children, data
# under ./spate-data (kept between runs), the standard ports 8088, 9092,
# 9042, 9108, 8793.
#
#   make run                      runs until Ctrl-C (stops everything, exit 0)
#   SPATE_RUN_ONCE=1 make run     one DAG run end to end, checked, then stop
#   SPATE_RUN_COUNT=N             users per DAG run (the run's conf; default
#                                 the DAG's params.count, 1000)
set -euo pipefail
SPATE=${1:-build/spate}
args=(up)
[ -n "${SPATE_RUN_COUNT:-}" ] && args+=(--count "$SPATE_RUN_COUNT")
[ "${SPATE_RUN_ONCE:-0}" = 1 ] && args+=(--once)
echo "== $SPATE ${args[*]}" >&2
exec "$SPATE" "${args[@]}"

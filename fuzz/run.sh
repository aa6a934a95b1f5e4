#!/usr/bin/env bash
# Runs one libFuzzer target for a while: fuzz/run.sh NAME [SECONDS] [BINDIR]
#
# New inputs go to a scratch corpus under the build tree; the seeds in
# fuzz/corpus/NAME are read, never written. A crash leaves its input in the
# scratch directory and fails the run.
set -euo pipefail
name=$1
secs=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
bindir=${3:-$here/../build/fuzz/fuzz}
bindir=$(cd "$bindir" && pwd)
bin=$bindir/fuzz_$name
[ -x "$bin" ] || { echo "no fuzz target $bin (build with 'make build')" >&2; exit 1; }
work=$bindir/work_$name
mkdir -p "$work" "$here/corpus/$name"
cd "$work"
exec "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  "$work" "$here/corpus/$name"

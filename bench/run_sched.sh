#!/usr/bin/env bash
# Scheduler and `spate up` benchmark: bench/run_sched.sh [BUILD_DIR]
#
# 1. hop latency: a chain of BENCH_CHAIN (200) `empty` tasks, then the same
#    chain of `shell` tasks (`true`), workers 8; per hop, the upstream try's
#    last log line → the downstream try's first (bench_sched.c says why not
#    the metadata's times); p50/p99 over the hops, median over ROUNDS runs.
# 2. throughput: 1000 independent `empty` tasks, and one root fanning out
#    to 1000, with workers 8, 32, 128: tasks/s from the run's first tick to
#    its end; where the ticks' time goes (fork, reading task instances,
#    other statements, commits: bench_sched wraps those calls at link
#    time); the same with BENCH_NOFORK=1 (no try processes: the scheduler's
#    own cost alone); and `bench_sched micro`: each piece timed alone.
# 3. spate up: examples/pipeline.yaml with free ports and a temp data dir
#    (as tests/client/test_up.py writes it; the DAG's schedule set to none
#    so the stack is idle once ready): time from exec to its "| ready."
#    line (wall clock here, and the log's own first-line → ready-line
#    time stamps); BENCH_IDLE (3) s later, the sum of VmRSS over `spate up`
#    and every descendant, and each one's VmHWM; then SIGINT and the time
#    to exit. ROUNDS starts, each on a fresh data dir.
#
# Airflow cannot run here: ratios are to its published figures
# (/work/shared/reference/pipeline-anchors.md §1.2): a hop of 1-20 s
# (1.10: 3.86-4.22 s between tasks, PR #4751; ~20 s queued→running on
# 3.0.6, #55937) and a scheduler loop of 500-1000 tasks/s at best
# (apache/airflow#31185). Ratios use Airflow's best case (1 s, 1000/s).
#
# Environment: BENCH_ROUNDS (3), BENCH_CHAIN (200), BENCH_TASKS (1000),
# BENCH_WORKERS ("8 32 128"), BENCH_IDLE (3).
set -euo pipefail
BUILD=${1:-build}
ROUNDS=${BENCH_ROUNDS:-3}
CHAIN=${BENCH_CHAIN:-200}
TASKS=${BENCH_TASKS:-1000}
WORKERS=${BENCH_WORKERS:-8 32 128}
IDLE=${BENCH_IDLE:-3}
BS=$BUILD/bench/bench_sched
SPATE=$BUILD/spate
SRC=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$BS" ] || { echo "bench: $BS missing (cmake --build $BUILD --target bench_sched)" >&2; exit 1; }
[ -x "$SPATE" ] || { echo "bench: $SPATE missing" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== machine: $(nproc) cores, $(sed -n 's/model name.*: //p' /proc/cpuinfo | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== commit: $(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$SRC" status --porcelain src/sched 2>/dev/null | grep -q . && echo ' with uncommitted scheduler work')"

# field NAME from RESULT lines on stdin → one value per line
field() { sed -n "s/.*[ ]$1=\([^ ]*\).*/\1/p"; }
median() { sort -g | awk '{v[NR]=$1} END {if (NR) print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# runs ROUNDS times: bench_sched ARGS; RESULT lines to $tmp/r
rounds() {
  : >"$tmp/r"
  for _ in $(seq 1 "$ROUNDS"); do
    "$BS" "$@" 2>"$tmp/err" >"$tmp/out" || { cat "$tmp/out" "$tmp/err" >&2; echo "bench: bench_sched $* failed" >&2; exit 1; }
    grep -v '^PROF\|^RESULT' "$tmp/out" | sed 's/^/  /' >&2
    grep '^RESULT' "$tmp/out" | tr '\n' ' ' >>"$tmp/r"
    grep '^PROF' "$tmp/out" | tr '\n' ' ' >>"$tmp/r"
    echo >>"$tmp/r"
  done
}
med() { field "$1" <"$tmp/r" | median; }

echo "== 1. hop latency: chain of $CHAIN tasks, workers 8 (median of $ROUNDS runs)"
for type in empty shell; do
  rounds chain "$CHAIN" 8 "$type"
  awk -v t="$type" -v p50="$(med hop_p50_ms)" -v p99="$(med hop_p99_ms)" -v mean="$(med hop_mean_ms)" \
      -v per="$(med wall_s)" -v n="$CHAIN" -v rss="$(med rss_kib)" 'BEGIN {
    printf "hop %-5s p50 %.1f ms, p99 %.1f ms, mean %.2f ms; chain %.2f ms per task; vs Airflow best 1 s: %.0fx faster (p99 %.0fx); scheduler peak RSS %d KiB\n",
      t, p50, p99, mean, per * 1000 / n, 1000 / (p50 > 0 ? p50 : 0.5), 1000 / p99, rss }'
done

echo "== 2. throughput: $TASKS tasks, empty (median of $ROUNDS runs)"
for shape in wide fan; do
  for w in $WORKERS; do
    rounds "$shape" "$TASKS" "$w" empty
    awk -v s="$shape" -v w="$w" -v tps="$(med tasks_per_s)" -v ticks="$(med ticks)" -v tick="$(med tick_s)" \
        -v wall="$(med wall_s)" -v fork="$(med fork_ms)" -v tis="$(med db_tis_ms)" -v step="$(med step_ms)" \
        -v ex="$(med exec_ms)" -v cs="$(med cpu_sched_s)" -v ct="$(med cpu_tries_s)" -v rss="$(med rss_kib)" 'BEGIN {
      printf "%-4s workers %3d: %6.0f tasks/s (%.2f s), vs Airflow best 1000/s: %.2fx; %d ticks, %.0f%% of the time in ticks: fork %.0f%%, read tis %.0f%%, other statements %.0f%%, BEGIN/COMMIT %.0f%%; cpu scheduler %.2f s + tries %.2f s; RSS %d KiB\n",
        s, w, tps, wall, tps / 1000, ticks, 100 * tick / wall, 100 * fork / 1000 / wall, 100 * tis / 1000 / wall,
        100 * step / 1000 / wall, 100 * ex / 1000 / wall, cs, ct, rss }'
  done
done
echo "-- the same with no try processes (BENCH_NOFORK=1: fork and waitpid faked, so the"
echo "   scheduler's own work per task alone — what running \`empty\` in-process would leave):"
export BENCH_NOFORK=1
for shape in wide fan; do
  for w in $WORKERS; do
    rounds "$shape" "$TASKS" "$w" empty 2>/dev/null
    awk -v s="$shape" -v w="$w" -v tps="$(med tasks_per_s)" -v ticks="$(med ticks)" -v wall="$(med wall_s)" \
        -v tis="$(med db_tis_ms)" -v step="$(med step_ms)" -v ex="$(med exec_ms)" 'BEGIN {
      printf "%-4s workers %3d, no processes: %6.0f tasks/s (%.3f s), vs Airflow best 1000/s: %.1fx; %d ticks: read tis %.0f%%, other statements %.0f%%, BEGIN/COMMIT/SAVEPOINT %.0f%%\n",
        s, w, tps, wall, tps / 1000, ticks, 100 * tis / 1000 / wall, 100 * step / 1000 / wall, 100 * ex / 1000 / wall }'
  done
done
unset BENCH_NOFORK
echo "-- the pieces alone:"
"$BS" micro "$TASKS" | grep -v '^RESULT'

echo "== 3. spate up: time to ready, whole-stack RSS ($ROUNDS starts, fresh data dir each)"
SPATE=$SPATE SRC=$SRC TMP=$tmp IDLE=$IDLE ROUNDS=$ROUNDS /usr/bin/python3 - <<'PY'
import os, re, signal, socket, subprocess, sys, threading, time, yaml

SPATE, SRC, TMP = os.environ["SPATE"], os.environ["SRC"], os.environ["TMP"]
IDLE, ROUNDS = float(os.environ["IDLE"]), int(os.environ["ROUNDS"])

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def config(data, ports):
    with open(os.path.join(SRC, "examples", "pipeline.yaml")) as f:
        doc = yaml.safe_load(f)
    kafka, cql = "127.0.0.1:%d" % ports["kafka"], "127.0.0.1:%d" % ports["cql"]
    job = doc["stream"]["jobs"][0]
    job["source"]["kafka"]["bootstrap"] = kafka
    job["sink"]["cql"]["contact_points"] = [cql]
    s = doc["scheduler"]
    s["data_dir"] = os.path.join(data, "scheduler")
    s["api"] = "127.0.0.1:%d" % ports["api"]
    s["connections"] = {"kafka": kafka, "cql": cql,
                        "randomuser": "http://127.0.0.1:%d/api/" % ports["ru"]}
    dag = s["dags"][0]
    dag["schedule"] = "none"  # idle once ready: nothing fetched
    dag["start_date"] = str(dag["start_date"])
    u = doc["up"]
    u["data_dir"] = data
    u["randomuser"]["listen"] = "127.0.0.1:%d" % ports["ru"]
    u["broker"]["listen"] = kafka
    u["cql"]["listen"] = cql
    u["stream"]["metrics"] = "127.0.0.1:%d" % ports["metrics"]
    u["scheduler"]["api"] = s["api"]
    path = os.path.join(data + ".yaml")
    with open(path, "w") as f:
        yaml.safe_dump(doc, f, sort_keys=False)
    return path

def status(pid):
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                out[k] = v.strip()
    except OSError:
        pass
    return out

def tree(pid):
    """pid and every descendant, parents first."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop(0)
        out.append(p)
        try:
            for t in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/children" % (p, t)) as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out

def kib(v):
    return int(v.split()[0]) if v else 0

res = []
for r in range(ROUNDS):
    data = os.path.join(TMP, "up%d" % r)
    ports = {k: free_port() for k in ("ru", "kafka", "cql", "metrics", "api")}
    cfg = config(data, ports)
    lines, ready = [], threading.Event()
    t0 = time.monotonic()
    p = subprocess.Popen([SPATE, "up", "--config", cfg], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    def reader():
        for raw in p.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            lines.append((time.monotonic(), line))
            if "| ready." in line:
                ready.set()
    th = threading.Thread(target=reader, daemon=True); th.start()
    try:
        if not ready.wait(60):
            sys.exit("spate up: no ready line in 60 s:\n" + "\n".join(l for _, l in lines[-40:]))
        t_ready = time.monotonic() - t0
        healthy = [m.groups() for m in (re.search(r"(\w+) is healthy \((\d+) ms\)", l)
                                        for _, l in lines) if m]
        time.sleep(IDLE)
        pids = tree(p.pid)
        rows, total = [], 0
        for q in pids:
            st = status(q)
            try:
                with open("/proc/%d/cmdline" % q, "rb") as f:
                    cmd = f.read().split(b"\0")
                name = " ".join(c.decode() for c in cmd[1:2]) or "?"
            except OSError:
                name = "?"
            rss, hwm = kib(st.get("VmRSS")), kib(st.get("VmHWM"))
            pss = 0
            try:
                with open("/proc/%d/smaps_rollup" % q) as f:
                    for line in f:
                        if line.startswith("Pss:"):
                            pss = kib(line.split(":", 1)[1])
            except OSError:
                pass
            total += rss
            rows.append((q, name, rss, hwm, pss, kib(st.get("RssAnon")), kib(st.get("RssFile"))))
        t1 = time.monotonic()
        p.send_signal(signal.SIGINT)
        rc = p.wait(60)
        t_stop = time.monotonic() - t1
    finally:
        if p.poll() is None:
            p.kill(); p.wait()
    th.join(5)
    pss = sum(x[4] for x in rows)
    # every process runs the same binary: private memory of each, plus
    # the biggest file-backed set once (an upper bound on what is shared)
    once = sum(x[5] for x in rows) + max(x[6] for x in rows)
    print("start %d: ready after %.3f s (exec → \"| ready.\" line; health checks: %s), "
          "idle: %d processes, VmRSS sum %.1f MiB, Pss sum %.1f MiB, RssAnon sum + largest RssFile "
          "%.1f MiB; stop (SIGINT → exit %d) %.2f s"
          % (r + 1, t_ready, ", ".join("%s %s ms" % h for h in healthy), len(rows),
             total / 1024, pss / 1024, once / 1024, rc, t_stop))
    for q, name, rss, hwm, ps, anon, fil in rows:
        print("    pid %-7d %-10s VmRSS %7d KiB  VmHWM %7d KiB  Pss %7d KiB  RssAnon %6d KiB  "
              "RssFile %6d KiB" % (q, name, rss, hwm, ps, anon, fil))
    res.append((t_ready, total, sum(x[3] for x in rows), pss, once))
res.sort()
med = lambda xs: sorted(xs)[len(xs) // 2]
tr, rss, hwm, pss, once = (med([x[i] for x in res]) for i in range(5))
print("spate up (median of %d): ready in %.3f s (goal < 1 s), whole stack idle: VmRSS sum "
      "%.1f MiB (goal < 100 MiB; counts the shared binary and libraries once per process), "
      "Pss sum %.1f MiB (shared pages split), RssAnon sum + largest RssFile %.1f MiB (the binary "
      "counted once), sum of VmHWM %.1f MiB"
      % (len(res), tr, rss / 1024, pss / 1024, once / 1024, hwm / 1024))
PY

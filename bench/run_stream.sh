#!/usr/bin/env bash
# `spate stream` end to end: bench/run_stream.sh [BUILD_DIR]
#
# Everything on this machine, on free loopback ports, in a temp dir:
#
#   spate randomuser ─► spate fetch ─► users.jsonl (COUNT format_user users)
#   users.jsonl ─► confluent-kafka producer ─► spate broker, topic
#                  users_created (6 partitions), before anything is timed
#   spate cql: --commitlog-sync periodic (BENCH_STREAM_SYNC; periodic is
#              Cassandra's default: a write is answered at once and fsynced
#              within 10 s — the Python job gets the same store)
#
#   (a) spate stream (one process, one job: JSON → the seed's eleven
#       columns + dob, id cast to uuid → prepared INSERTs into
#       spark_streams.created_users_R in round R, offsets committed after
#       the writes)
#       drains the topic. Records/s = rows / (last row's write time − first
#       row's write time): WRITETIME is the store's clock when it applied
#       the row (the jobs here run with `timestamps: server`; with the
#       default, client, a row's WRITETIME would be when the sink took its
#       record, a few ms earlier, and (c) would leave out the store), and in periodic
#       mode a row is readable from that instant. "wall" also counts the
#       process start, the group join and the last offset commit: COUNT /
#       (time from exec until the group's committed offsets add up to
#       COUNT; polled every 0.1 s from the broker, which costs the store
#       nothing — polling SELECT count(*) did, and slowed what it measured).
#       Peak RSS is the processor's VmHWM read from /proc/PID/status then,
#       before it is stopped. CPU: seconds of user+system time of the
#       processor, and of the broker and store during the run.
#   (b) the same with bench/stream_py_job.py (confluent-kafka consumer +
#       cassandra-driver, execute_concurrent, commit after the writes;
#       /usr/bin/python3) into another table, from the same topic with its
#       own group. cassandra-driver sends client timestamps (its default),
#       so its WRITETIMEs are its own clock when it built each request — a
#       few ms before the store applied it, the same for first and last.
#       Ratio = (a) records/s / (b) records/s, per round; (a) and (b) run
#       one after the other ROUNDS times and the rounds' median is quoted.
#   (c) latency at a steady RATE records/s for LAT_SECS seconds: spate
#       stream runs (joined to its group first) on an empty topic; a paced
#       producer (confluent-kafka, linger.ms 1, acks all) appends
#       "produced_at": <epoch µs, taken just before produce()> to each user
#       and sends it, keeping to the schedule (it catches up if late, and
#       reports the rate it reached). The job selects produced_at into a
#       bigint column of the table (created first with that column).
#       Afterwards every row's WRITETIME(first_name) − produced_at is the
#       latency from produce to the row being stored and readable; p50,
#       p99 and max over all rows. Both clocks are this machine's
#       CLOCK_REALTIME. Printed over all rows and without the rows produced
#       in the first 2 s. The producer is warmed up (connected, the topic's
#       leaders known) before the clock starts: without that the first
#       records waited 0.5-1.2 s for the producer's own start-up, which
#       earlier runs counted as pipeline latency. It does not count the time a reader would take to
#       notice (that depends on how it polls), only when it could; with
#       BENCH_STREAM_SYNC=batch a row becomes readable after the fsync,
#       later than its WRITETIME, so use periodic for this figure. At most
#       COUNT records are sent (the users are not reused).
#
# Environment: BENCH_STREAM_COUNT (users in (a)/(b), default 200000),
# BENCH_STREAM_PY_COUNT (rows (b) reads before it is stopped, default
# COUNT), BENCH_STREAM_RATE (10000), BENCH_STREAM_LAT_SECS (20; 0 skips (c)),
# BENCH_STREAM_SYNC (periodic|batch), BENCH_STREAM_CONCURRENCY (the
# stream's CQL requests in flight, 512: its default), BENCH_STREAM_PY_CONCURRENCY (128),
# BENCH_STREAM_PROPS (librdkafka properties of the stream's consumer, as
# YAML flow-map entries, e.g. "queued.max.messages.kbytes: 16384"; default
# none: spate's defaults), BENCH_STREAM_PERF (a file: `perf record -g` of
# the store and the processor during the first (a), for `perf report -i
# FILE`), BENCH_STREAM_ROUNDS ((a) then (b), this many times, each with its
# own group and table; default 3: the ratio quoted is the rounds' median).
# BENCH_STREAM_PY_COUNT=0 skips (b).
set -euo pipefail
BUILD=${1:-build}
SPATE=$(realpath "$BUILD/spate")
COUNT=${BENCH_STREAM_COUNT:-200000}
PY_COUNT=${BENCH_STREAM_PY_COUNT:-$COUNT}
RATE=${BENCH_STREAM_RATE:-10000}
LAT_SECS=${BENCH_STREAM_LAT_SECS:-20}
SYNC=${BENCH_STREAM_SYNC:-periodic}
CONC=${BENCH_STREAM_CONCURRENCY:-512}
PROPS=${BENCH_STREAM_PROPS:-}
PY_CONC=${BENCH_STREAM_PY_CONCURRENCY:-128}
ROUNDS=${BENCH_STREAM_ROUNDS:-3}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
[ -x "$SPATE" ] || { echo "bench: $SPATE missing" >&2; exit 1; }
$PY -c 'import confluent_kafka, cassandra' || { echo "bench: python3-confluent-kafka and python3-cassandra needed" >&2; exit 1; }

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "${KEEP_TMP:-}" ] && echo "kept $tmp" >&2 || rm -rf "$tmp"
}
trap cleanup EXIT

# start NAME REGEX ARGS...: runs spate ARGS in the background, waits for
# the port line; sets $port and $pid
start() {
  local name=$1 re=$2
  shift 2
  "$SPATE" "$@" </dev/null >/dev/null 2>"$tmp/$name.log" &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 200); do
    port=$(sed -n "s/.*listening on 127\.0\.0\.1:\([0-9]*\) ($re.*/\1/p" "$tmp/$name.log" 2>/dev/null | head -1 || true)
    [ -n "$port" ] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "bench: $name did not start" >&2
  cat "$tmp/$name.log" >&2
  exit 1
}

start broker "Kafka protocol" broker --listen 127.0.0.1:0 --data-dir "$tmp/broker"
BOOT=127.0.0.1:$port
start cql "CQL" cql --listen 127.0.0.1:0 --data-dir "$tmp/cql" --commitlog-sync "$SYNC"
CQLPORT=$port

# users: spate fetch from a spate randomuser of our own
rport=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$SPATE" randomuser --listen "127.0.0.1:$rport" --log-level warn </dev/null >/dev/null 2>&1 &
rpid=$!
pids+=("$rpid")
for _ in $(seq 200); do
  curl -sf "http://127.0.0.1:$rport/health" >/dev/null 2>&1 && break
  sleep 0.05
done
"$SPATE" fetch --url "http://127.0.0.1:$rport/api/?seed=bench" --count "$COUNT" \
  --out "$tmp/users.jsonl" --log-level warn
kill "$rpid"

cat >"$tmp/h.py" <<'EOF'
# helpers of run_stream.sh: produce, watch, span, lat-produce, lat-report
import json, os, sys, time
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

def topic(boot, name):
    a = AdminClient({"bootstrap.servers": boot})
    a.create_topics([NewTopic(name, num_partitions=6, replication_factor=1)])[name].result(10)

def session(port):
    from cassandra.cluster import Cluster
    c = Cluster(["127.0.0.1"], port=int(port), protocol_version=4)
    return c, c.connect()

cmd = sys.argv[1]
if cmd == "produce":  # BOOT TOPIC FILE: every line, keyed by id
    boot, name, path = sys.argv[2:5]
    topic(boot, name)
    p = Producer({"bootstrap.servers": boot, "linger.ms": 20, "enable.idempotence": True})
    ids = set()
    with open(path, "rb") as f:
        for i, line in enumerate(f):
            line = line.rstrip(b"\n")
            key = json.loads(line)["id"].encode()
            ids.add(key)
            while True:
                try:
                    p.produce(name, key=key, value=line)
                    break
                except BufferError:
                    p.poll(0.05)
            if i % 1000 == 0:
                p.poll(0)
    assert p.flush(60) == 0
    print(len(ids))
elif cmd == "watch":  # BOOT TOPIC GROUP WANT PID T0: wait until the group has committed
    # WANT offsets (both jobs commit only after the rows are stored); print
    # the wall seconds since T0 and the job's VmHWM (KiB) while it still runs
    from confluent_kafka import Consumer, TopicPartition
    boot, name, group, want, pid, t0 = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6], float(sys.argv[7])
    c = Consumer({"bootstrap.servers": boot, "group.id": group, "enable.auto.commit": False})
    tps = [TopicPartition(name, p) for p in range(6)]
    deadline = time.time() + 1800
    while True:
        n = sum(max(tp.offset, 0) for tp in c.committed(tps, timeout=10))
        if n >= want:
            break
        if not os.path.exists(f"/proc/{pid}") or time.time() > deadline:
            sys.exit(f"watch: {n} of {want} offsets committed and the job is gone or too slow")
        time.sleep(0.1)
    wall = time.time() - t0
    hwm = [l.split()[1] for l in open(f"/proc/{pid}/status") if l.startswith("VmHWM:")][0]
    print(f"{wall:.3f} {hwm}")
    c.close()
elif cmd == "span":  # PORT TABLE: rows, first and last write time (s)
    port, table = sys.argv[2:4]
    c, s = session(port)
    wts = [r[0] for r in s.execute(f"SELECT WRITETIME(first_name) FROM spark_streams.{table}")]
    print(len(wts), (max(wts) - min(wts)) / 1e6)
    c.shutdown()
elif cmd == "lat-table":  # PORT TABLE: the seed's table + produced_at bigint
    port, table = sys.argv[2:4]
    c, s = session(port)
    s.execute("CREATE KEYSPACE IF NOT EXISTS spark_streams WITH replication = "
              "{'class': 'SimpleStrategy', 'replication_factor': '1'}")
    cols = ["first_name", "last_name", "gender", "address", "post_code", "email", "username",
            "dob", "registered_date", "phone", "picture"]
    s.execute(f"CREATE TABLE spark_streams.{table} (id uuid PRIMARY KEY, "
              + ", ".join(f"{x} text" for x in cols) + ", produced_at bigint)")
    c.shutdown()
elif cmd == "lat-topic":  # BOOT TOPIC
    topic(*sys.argv[2:4])
elif cmd == "lat-produce":  # BOOT TOPIC FILE RATE SECS: paced, produced_at stamped
    boot, name, path, rate, secs = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), float(sys.argv[6])
    with open(path, "rb") as f:
        users = [(json.loads(l)["id"].encode(), l.rstrip(b"\n")[:-1]) for l in f]
    n = min(len(users), int(rate * secs))
    p = Producer({"bootstrap.servers": boot, "linger.ms": 1, "acks": "all"})
    # Warm up before the clock starts: connect and learn the topic's
    # partitions and leaders, which the first produce() would otherwise
    # wait for — the producer's start-up, not the pipeline's latency.
    p.list_topics(name, timeout=10)
    errs = []
    def dr(err, msg):
        if err: errs.append(err)
    start = time.time()
    i = 0
    while i < n:
        due = min(n, int((time.time() - start) * rate) + 1)
        while i < due:
            key, head = users[i]
            v = head + b',"produced_at":%d}' % (time.time_ns() // 1000)
            try:
                p.produce(name, key=key, value=v, on_delivery=dr)
            except BufferError:
                p.poll(0.01)
                continue
            i += 1
        p.poll(0)
        late = start + i / rate - time.time()
        if late > 0:
            time.sleep(min(late, 0.001))
    took = time.time() - start
    assert p.flush(60) == 0 and not errs, errs[:3]
    print(n, f"{n / took:.0f}")
elif cmd == "lat-report":  # PORT TABLE: n p50 p99 max, then the same without the first 2 s (ms)
    port, table = sys.argv[2:4]
    c, s = session(port)
    rows = [(r[0], (r[1] - r[0]) / 1000.0) for r in s.execute(
        f"SELECT produced_at, WRITETIME(first_name) FROM spark_streams.{table}")]
    def stats(lat):
        lat = sorted(lat)
        q = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))]
        return f"{len(lat)} {q(0.5):.2f} {q(0.99):.2f} {lat[-1]:.2f}"
    t0 = min(p for p, _ in rows)
    print(stats([l for _, l in rows]), stats([l for p, l in rows if p >= t0 + 2000000]))
    c.shutdown()
EOF
H() { $PY "$tmp/h.py" "$@"; }
CLK=$(getconf CLK_TCK)
cpu() { awk -v t="$CLK" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"; }
BROKER_PID=${pids[0]} CQL_PID=${pids[1]}

distinct=$(H produce "$BOOT" users_created "$tmp/users.jsonl")
echo "setup: $COUNT users ($distinct distinct) in users_created (6 partitions); spate cql --commitlog-sync $SYNC; stream concurrency $CONC, consumer properties {$PROPS}"

pipeline() { # NAME TOPIC GROUP TABLE EXTRA_COLUMN
  cat <<EOF
log_level: warn
stream:
  jobs:
    - name: $1
      source:
        kafka: {bootstrap: $BOOT, topics: [$2], group: $3, start: earliest, properties: {$PROPS}}
      transform:
        - map:
            require: [id]
            cast: {id: uuid, post_code: text}
            select: [id, first_name, last_name, gender, address, post_code, email,
                     username, dob, registered_date, phone, picture$5]
      sink:
        cql:
          contact_points: [127.0.0.1:$CQLPORT]
          keyspace: spark_streams
          table: $4
          create: true
          concurrency: $CONC
          timestamps: server
EOF
}

# (a) spate stream, round $1 (its own group and table)
run_a() {
local r=$1
pipeline bench users_created "g_spate_$r" "created_users_$r" "" >"$tmp/a$r.yaml"
bc0=$(cpu "$BROKER_PID") cc0=$(cpu "$CQL_PID")
t0=$(date +%s.%N)
"$SPATE" stream --config "$tmp/a$r.yaml" </dev/null >/dev/null 2>"$tmp/a$r.log" &
spid=$!
pids+=("$spid")
perfpid=
if [ -n "${BENCH_STREAM_PERF:-}" ] && [ "$r" = 1 ]; then
  perf record -q -g -F 1999 -o "$BENCH_STREAM_PERF" -p "$CQL_PID,$spid" >/dev/null 2>&1 &
  perfpid=$!
fi
a_hwm=
read -r a_wall a_hwm < <(H watch "$BOOT" users_created "g_spate_$r" "$COUNT" "$spid" "$t0") || true
[ -n "${a_hwm:-}" ] || { echo "bench: spate stream did not finish" >&2; cat "$tmp/a$r.log" >&2; exit 1; }
a_cpu="processor $(cpu "$spid") s, broker $(awk -v a="$bc0" -v b="$(cpu "$BROKER_PID")" 'BEGIN { printf "%.2f", b - a }') s, store $(awk -v a="$cc0" -v b="$(cpu "$CQL_PID")" 'BEGIN { printf "%.2f", b - a }') s"
if [ -n "$perfpid" ]; then kill -INT "$perfpid"; wait "$perfpid" || true; fi
kill -TERM "$spid"
wait "$spid" || { echo "bench: spate stream exited $?" >&2; cat "$tmp/a$r.log" >&2; exit 1; }
read -r a_rows a_span < <(H span "$CQLPORT" "created_users_$r")
[ "$a_rows" = "$distinct" ] || echo "(a) WRONG: $a_rows rows for $distinct distinct users" >&2
a_rate=$(awk -v n="$a_rows" -v s="$a_span" 'BEGIN { printf "%.0f", (n - 1) / s }')
a_wrate=$(awk -v n="$a_rows" -v s="$a_wall" 'BEGIN { printf "%.0f", n / s }')
echo "(a) spate stream: $a_rows rows; $a_rate rec/s first→last row ($a_span s); $a_wrate rec/s wall incl. start ($a_wall s); peak RSS $((a_hwm / 1024)).$(((a_hwm % 1024) * 10 / 1024)) MiB; CPU $a_cpu"
}

# (b) the Python job, round $1
run_b() {
local r=$1
py_want=$((PY_COUNT < COUNT ? PY_COUNT : COUNT))
bc0=$(cpu "$BROKER_PID") cc0=$(cpu "$CQL_PID")
t0=$(date +%s.%N)
$PY "$HERE/stream_py_job.py" --bootstrap "$BOOT" --topic users_created --group "g_py_$r" \
  --cql "127.0.0.1:$CQLPORT" --table "py_users_$r" --concurrency "$PY_CONC" </dev/null >/dev/null 2>"$tmp/b$r.log" &
ppid=$!
pids+=("$ppid")
b_hwm=
read -r b_wall b_hwm < <(H watch "$BOOT" users_created "g_py_$r" "$py_want" "$ppid" "$t0") || true
[ -n "${b_hwm:-}" ] || { echo "bench: the python job did not finish" >&2; cat "$tmp/b$r.log" >&2; exit 1; }
b_cpu="job $(cpu "$ppid") s, broker $(awk -v a="$bc0" -v b="$(cpu "$BROKER_PID")" 'BEGIN { printf "%.2f", b - a }') s, store $(awk -v a="$cc0" -v b="$(cpu "$CQL_PID")" 'BEGIN { printf "%.2f", b - a }') s"
kill -TERM "$ppid"
wait "$ppid" || true
read -r b_rows b_span < <(H span "$CQLPORT" "py_users_$r")
b_rate=$(awk -v n="$b_rows" -v s="$b_span" 'BEGIN { printf "%.0f", (n - 1) / s }')
b_wrate=$(awk -v n="$b_rows" -v s="$b_wall" 'BEGIN { printf "%.0f", n / s }')
echo "(b) python job:   $b_rows rows; $b_rate rec/s first→last row ($b_span s); $b_wrate rec/s wall incl. start ($b_wall s); peak RSS $((b_hwm / 1024)).$(((b_hwm % 1024) * 10 / 1024)) MiB; CPU $b_cpu"
}

# (a) then (b), ROUNDS times: this machine's speed drifts by a third
# over minutes (other tenants), and the Python job takes 30-50 s, so one
# (a)/(b) pair can land in different phases; the median ratio of the
# rounds is the figure to quote
ratios=()
for r in $(seq "$ROUNDS"); do
  [ "$ROUNDS" -gt 1 ] && echo "-- round $r of $ROUNDS"
  run_a "$r"
  if [ "$PY_COUNT" -gt 0 ]; then
    run_b "$r"
    ratio=$(awk -v a="$a_rate" -v b="$b_rate" 'BEGIN { printf "%.1f", a / b }')
    ratios+=("$ratio")
    awk -v a="$a_rate" -v b="$b_rate" -v aw="$a_wrate" -v bw="$b_wrate" -v ah="$a_hwm" -v bh="$b_hwm" \
      'BEGIN { printf "ratio spate/python: %.1fx records/s (%.1fx wall), %.2f of its peak RSS\n", a / b, aw / bw, ah / bh }'
  fi
done
if [ "${#ratios[@]}" -gt 1 ]; then
  printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "ratio over %d rounds: median %.1fx (min %.1fx, max %.1fx)\n", NR, (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[1], v[NR] }'
fi

# (c) latency at RATE/s (BENCH_STREAM_LAT_SECS=0 skips it)
if [ "$LAT_SECS" -gt 0 ]; then
H lat-topic "$BOOT" users_lat
H lat-table "$CQLPORT" lat_users
pipeline lat users_lat g_lat lat_users ", produced_at" >"$tmp/c.yaml"
sed -i 's/log_level: warn/log_level: info/' "$tmp/c.yaml"
"$SPATE" stream --config "$tmp/c.yaml" </dev/null >/dev/null 2>"$tmp/c.log" &
cpid=$!
pids+=("$cpid")
for _ in $(seq 400); do
  grep -qs "assigned 6 partitions" "$tmp/c.log" && break
  sleep 0.05
done
grep -q "assigned 6 partitions" "$tmp/c.log" || { echo "bench: the latency job did not join" >&2; cat "$tmp/c.log" >&2; exit 1; }
read -r c_n c_rate < <(H lat-produce "$BOOT" users_lat "$tmp/users.jsonl" "$RATE" "$LAT_SECS")
for _ in $(seq 300); do # until every row is in
  n=$($PY -c "
from cassandra.cluster import Cluster
c = Cluster(['127.0.0.1'], port=$CQLPORT, protocol_version=4)
print(c.connect().execute('SELECT count(*) FROM spark_streams.lat_users').one()[0]); c.shutdown()")
  [ "$n" -ge "$c_n" ] && break
  sleep 0.2
done
c_hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$cpid/status")
kill -TERM "$cpid"
wait "$cpid" || true
read -r l_n l_p50 l_p99 l_max s_n s_p50 s_p99 s_max < <(H lat-report "$CQLPORT" lat_users)
echo "(c) latency at $RATE rec/s for ${LAT_SECS} s (producer reached $c_rate/s): $l_n rows; produce → row stored p50 $l_p50 ms, p99 $l_p99 ms, max $l_max ms; after the first 2 s ($s_n rows): p50 $s_p50 ms, p99 $s_p99 ms, max $s_max ms; processor peak RSS $((c_hwm / 1024)).$(((c_hwm % 1024) * 10 / 1024)) MiB"
fi
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

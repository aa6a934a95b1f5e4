# test_up.py — `spate up`: the whole pipeline as supervised children of one
# binary, driven through its log and checked with real clients
# (python3-cassandra against the store, confluent_kafka against the broker).
#
#   Up.test_0_embedded_config
#       `spate up --print-config` is examples/pipeline.yaml byte for byte
#       (make run uses the embedded copy)
#   Up.test_1_once
#       `spate up --once` on a temp copy of examples/pipeline.yaml (free
#       ports, temp data dir) exits 0 saying every one of the N users is
#       stored; no child is left running
#   Up.test_2_resume_kill9_sigint
#       `spate up` again on the same data: ready, exactly N users in
#       spark_streams.created_users and N messages in users_created; the stream processor is killed (-9, by the pid up logged):
#       up restarts it and M new messages reach the store (N + M rows);
#       SIGINT: every child stopped, exit 0, data kept
#   Up.test_3_crash_budget
#       a stream processor that cannot start (its metrics port is taken)
#       crashes 5 times: up stops everything and exits 1 naming it
#   Up.test_4_external_unreachable
#       broker and cql disabled, pointing at addresses where nothing
#       listens: exit 1 with "broker did not become healthy"
#   Up.test_5_once_without_scheduler
#       scheduler disabled in `up:`: --once fetches and produces the users
#       itself; exit 0 with exactly once_count users stored
#   Up.test_6_once_count_with_scheduler
#       `--once --count 300` with the scheduler (the DAG's params.count is
#       N): the trigger's conf {"count": 300} overrides the param, so
#       exactly 300 users are staged and stored; the run's conf is kept
#
# Ports are picked here (bind 0, close) and written into the config; every
# process is stopped by pid. KEEP_TMP=1 keeps the temp dir.
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

import yaml
from cassandra.cluster import Cluster
from confluent_kafka import Consumer, Producer, TopicPartition

SPATE = os.environ.get("SPATE")
SRC = os.environ.get("SPATE_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
if not SPATE:
    sys.exit("SPATE must name the spate binary")

N = 500  # users of the --once run
M = 25  # messages produced by the test after the kill -9
TMPDIR = tempfile.mkdtemp(prefix="spate_up_test_")
STARTED = []  # Popen objects of this file; only these are signalled
logging.basicConfig(level=logging.ERROR)
PID_RE = re.compile(r"started (\w+) \(pid (\d+)\)")


def tearDownModule():
    for p in STARTED:
        if p.poll() is None:
            p.kill()
            p.wait()
    if os.environ.get("KEEP_TMP") != "1":
        shutil.rmtree(TMPDIR, ignore_errors=True)
    else:
        print("kept", TMPDIR, file=sys.stderr)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def make_config(name, data, ports, edit=None):
    """A copy of examples/pipeline.yaml with the given ports and data dir."""
    with open(os.path.join(SRC, "examples", "pipeline.yaml")) as f:
        doc = yaml.safe_load(f)
    kafka = "127.0.0.1:%d" % ports["kafka"]
    cql = "127.0.0.1:%d" % ports["cql"]
    job = doc["stream"]["jobs"][0]
    job["source"]["kafka"]["bootstrap"] = kafka
    # a killed member's partitions come back within seconds, not 45 s
    job["source"]["kafka"]["properties"] = {"session.timeout.ms": "6000",
                                            "heartbeat.interval.ms": "1000"}
    job["sink"]["cql"]["contact_points"] = [cql]
    s = doc["scheduler"]
    s["data_dir"] = os.path.join(data, "scheduler")
    s["api"] = "127.0.0.1:%d" % ports["api"]
    s["connections"] = {"kafka": kafka, "cql": cql,
                        "randomuser": "http://127.0.0.1:%d/api/" % ports["ru"]}
    dag = s["dags"][0]
    dag["schedule"] = "none"  # only the run --once triggers: exact counts
    dag["start_date"] = str(dag["start_date"])
    dag["params"] = {"count": N}
    u = doc["up"]
    u["data_dir"] = data
    u["randomuser"]["listen"] = "127.0.0.1:%d" % ports["ru"]
    u["broker"]["listen"] = kafka
    u["cql"]["listen"] = cql
    u["stream"]["metrics"] = "127.0.0.1:%d" % ports["metrics"]
    u["scheduler"]["api"] = s["api"]
    u["once_count"] = N
    u["once_timeout_ms"] = 60000
    if edit:
        edit(doc)
    path = os.path.join(TMPDIR, name)
    with open(path, "w") as f:
        yaml.safe_dump(doc, f, sort_keys=False)
    return path


class Up:
    """A running `spate up`, its merged log collected by a thread."""

    def __init__(self, config, *args):
        self.lines = []
        self.cv = threading.Condition()
        self.proc = subprocess.Popen([SPATE, "up", "--config", config, *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        STARTED.append(self.proc)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.cv:
                self.lines.append(line)
                self.cv.notify_all()

    def wait_for(self, pattern, timeout, start=0):
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cv:
            i = start
            while True:
                while i < len(self.lines):
                    m = rx.search(self.lines[i])
                    if m:
                        return m, i
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None and i >= len(self.lines):
                    raise AssertionError("no line matching %r within %ss; log:\n%s" %
                                         (pattern, timeout, self.log()))
                self.cv.wait(min(left, 0.2))

    def pids(self):
        with self.cv:
            return [(m.group(1), int(m.group(2)))
                    for m in map(PID_RE.search, self.lines) if m]

    def wait(self, timeout):
        rc = self.proc.wait(timeout)
        self.reader.join(5)
        return rc

    def log(self):
        return "\n".join(line for line in self.lines if " DEBUG " not in line)


def stored_count(cport):
    cluster = Cluster(["127.0.0.1"], port=cport)
    try:
        session = cluster.connect()
        return session.execute("SELECT count(*) FROM spark_streams.created_users").one()[0]
    finally:
        cluster.shutdown()


def end_offset(kport, topic="users_created"):
    c = Consumer({"bootstrap.servers": "127.0.0.1:%d" % kport, "group.id": "up-test-probe"})
    try:
        return c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)[1]
    finally:
        c.close()


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


class UpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ports = {k: free_port() for k in ("ru", "kafka", "cql", "metrics", "api")}
        cls.data = os.path.join(TMPDIR, "data")
        cls.config = make_config("pipeline.yaml", cls.data, cls.ports)

    def test_0_embedded_config(self):
        out = subprocess.run([SPATE, "up", "--print-config"], capture_output=True, check=True)
        with open(os.path.join(SRC, "examples", "pipeline.yaml"), "rb") as f:
            self.assertEqual(out.stdout, f.read())

    def test_1_once(self):
        up = Up(self.config, "--once")
        rc = up.wait(80)
        self.assertEqual(rc, 0, up.log())
        m, _ = up.wait_for(r"--once: every user is stored \((\d+)\)", 1)
        self.assertEqual(int(m.group(1)), N)
        # Every child was stopped by up before it exited.
        for name, pid in up.pids():
            self.assertFalse(alive(pid), "%s (pid %d) left running" % (name, pid))

    def test_2_resume_kill9_sigint(self):
        up = Up(self.config)
        try:
            _, ready = up.wait_for(r"\| ready\.", 30)
            # Resumed: the --once run's users are all there, read with real clients.
            self.assertEqual(stored_count(self.ports["cql"]), N)
            self.assertEqual(end_offset(self.ports["kafka"]), N)
            stream = [pid for name, pid in up.pids() if name == "stream"]
            self.assertEqual(len(stream), 1)
            os.kill(stream[0], signal.SIGKILL)
            up.wait_for(r"stream exited unexpectedly \(killed by signal 9", 10)
            m, _ = up.wait_for(r"started stream \(pid (\d+)\)", 10, ready)
            self.assertNotEqual(int(m.group(1)), stream[0])
            # New users after the restart: the pipeline goes on.
            p = Producer({"bootstrap.servers": "127.0.0.1:%d" % self.ports["kafka"],
                          "enable.idempotence": True})
            for i in range(M):
                uid = str(uuid.uuid4())
                rec = {"id": uid, "first_name": "F%d" % i, "last_name": "L", "gender": "male",
                       "address": "1 Road, Town, State, Country", "post_code": "1000",
                       "email": "u%d@example.com" % i, "username": "user%d" % i,
                       "dob": "1990-01-01T00:00:00.000Z",
                       "registered_date": "2020-01-01T00:00:00.000Z", "phone": "1",
                       "picture": "https://example.com/p.jpg"}
                p.produce("users_created", key=uid, value=json.dumps(rec))
            self.assertEqual(p.flush(10), 0)
            deadline = time.monotonic() + 40
            n = -1
            while time.monotonic() < deadline:
                n = stored_count(self.ports["cql"])
                if n >= N + M:
                    break
                time.sleep(0.5)
            self.assertEqual(n, N + M, up.log())
        finally:
            up.proc.send_signal(signal.SIGINT)
            rc = up.wait(40)
        self.assertEqual(rc, 0, up.log())
        up.wait_for(r"stopping \(signal\)", 1)
        for name, pid in up.pids():
            self.assertFalse(alive(pid), "%s (pid %d) left running" % (name, pid))
        # Stopped in reverse start order.
        order = [m.group(1) for m in map(re.compile(r"\| stopping (\w+) \(pid").search,
                                         up.lines) if m]
        started = []
        for name, _ in up.pids():
            if name not in started:
                started.append(name)
        self.assertEqual(order, list(reversed(started)))

    def test_3_crash_budget(self):
        hold = socket.socket()
        hold.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        hold.bind(("127.0.0.1", 0))
        hold.listen(1)
        taken = hold.getsockname()[1]
        ports = {k: free_port() for k in ("ru", "kafka", "cql", "api")}
        ports["metrics"] = taken

        def edit(doc):
            doc["up"]["start_timeout_ms"] = 30000

        cfg = make_config("crash.yaml", os.path.join(TMPDIR, "crash"), ports, edit)
        try:
            up = Up(cfg)
            rc = up.wait(60)
        finally:
            hold.close()
        self.assertEqual(rc, 1, up.log())
        up.wait_for(r"stream crashed 5 times within 60 s", 1)
        for name, pid in up.pids():
            self.assertFalse(alive(pid), "%s (pid %d) left running" % (name, pid))

    def test_4_external_unreachable(self):
        ports = {k: free_port() for k in ("ru", "kafka", "cql", "metrics", "api")}

        def edit(doc):
            doc["up"]["broker"] = {"enabled": False,
                                   "bootstrap": "127.0.0.1:%d" % ports["kafka"]}
            doc["up"]["start_timeout_ms"] = 1000

        cfg = make_config("external.yaml", os.path.join(TMPDIR, "ext"), ports, edit)
        up = Up(cfg)
        rc = up.wait(30)
        self.assertEqual(rc, 1, up.log())
        up.wait_for(r"broker did not become healthy within 1 s", 1)
        self.assertEqual([n for n, _ in up.pids()], ["randomuser"])

    def test_5_once_without_scheduler(self):
        ports = {k: free_port() for k in ("ru", "kafka", "cql", "metrics", "api")}

        def edit(doc):
            doc["up"]["scheduler"] = {"enabled": False}
            doc["up"]["once_count"] = 200

        cfg = make_config("nosched.yaml", os.path.join(TMPDIR, "nosched"), ports, edit)
        up = Up(cfg, "--once")
        rc = up.wait(60)
        self.assertEqual(rc, 0, up.log())
        up.wait_for(r"--once: no scheduler: fetching 200 users", 1)
        m, _ = up.wait_for(r"--once: every user is stored \((\d+)\)", 1)
        self.assertEqual(int(m.group(1)), 200)
        self.assertNotIn("scheduler", [n for n, _ in up.pids()])

    def test_6_once_count_with_scheduler(self):
        ports = {k: free_port() for k in ("ru", "kafka", "cql", "metrics", "api")}
        data = os.path.join(TMPDIR, "count")
        cfg = make_config("count.yaml", data, ports)
        up = Up(cfg, "--once", "--count", "300")
        rc = up.wait(80)
        self.assertEqual(rc, 0, up.log())
        m, _ = up.wait_for(r"--once: triggered user_automation run (\S+)", 1)
        run_id = m.group(1)
        m, _ = up.wait_for(r"--once: every user is stored \((\d+)\)", 1)
        self.assertEqual(int(m.group(1)), 300)
        self.assertNotIn("note:", up.log())
        # the run in the metadata carries the conf that decided the count
        import sqlite3
        db = sqlite3.connect(os.path.join(data, "scheduler", "scheduler.db"))
        try:
            row = db.execute("SELECT conf FROM dag_run WHERE run_id = ?", (run_id,)).fetchone()
        finally:
            db.close()
        self.assertEqual(json.loads(row[0]), {"count": 300})


if __name__ == "__main__":
    unittest.main(verbosity=2)

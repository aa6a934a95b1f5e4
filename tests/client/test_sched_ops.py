# test_sched_ops.py — the scheduler's operators (task types) against real
# servers: spate randomuser, spate broker, spate cql and a private
# PostgreSQL 15 (pgtest.py; its parts are skipped when PostgreSQL is not
# installed).
#
# Each task is declared in a DAG file and run the way one try of the
# scheduler runs it: tests/sched_op_run (next to the spate binary) loads
# the file with the DagBag (so the operators' load-time checks run too)
# and calls the operator's run() in a forked child; its exit status is
# the task's result. What is checked:
#   shell                 exit codes, env, cwd, templates ({{ params.x }})
#   http                  2xx vs expect_status against spate randomuser
#   sql                   SQLite and PostgreSQL; a failing statement undoes all
#   cql                   DDL + writes against spate cql, read back with
#                         python3-cassandra; a bad statement fails the task
#   randomuser_to_kafka   count N → exactly N messages (key = record id)
#   randomuser_to_postgres  twice with one seed → no duplicates
#   postgres_to_kafka     every staged row produced once and marked with
#                         its partition/offset; a second run publishes nothing
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafkatest import (STARTED, TMPDIR, Broker, consume_to_end, create_topic,  # noqa: E402
                       log, tearDownModule as kafka_teardown)
import pgtest  # noqa: E402

SPATE = os.environ["SPATE"]
RUNNER = os.path.join(os.path.dirname(SPATE), "tests", "sched_op_run")
RU_RE = re.compile(r"listening on http://127\.0\.0\.1:(\d+)/api/")
CQL_RE = re.compile(r"listening on 127\.0\.0\.1:(\d+) \(CQL")

RU_PORT = None
BROKER = None
CQL_PORT = None
PG = None


def start_logged(args, name, pattern, timeout=15):
    """Starts a spate server writing its log to TMPDIR/name.log; returns the
    port read from its log line."""
    path = os.path.join(TMPDIR, name + ".log")
    with open(path, "wb") as logf:
        proc = subprocess.Popen([SPATE, *args], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=logf)
    STARTED.append(proc)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(path, encoding="utf-8", errors="replace") as f:
            m = pattern.search(f.read())
        if m:
            return int(m.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError(f"spate {args[0]} did not start:\n" + open(path).read())


def setUpModule():
    global RU_PORT, BROKER, CQL_PORT, PG
    assert os.path.exists(RUNNER), f"{RUNNER} is not built"
    RU_PORT = start_logged(["randomuser", "--listen", "127.0.0.1:0"], "randomuser", RU_RE)
    BROKER = Broker("broker").start()
    CQL_PORT = start_logged(["cql", "--listen", "127.0.0.1:0", "--data-dir",
                             os.path.join(TMPDIR, "cql-data")], "cql", CQL_RE)
    if pgtest.available():
        PG = pgtest.Postgres(TMPDIR)
        PG.start()


def tearDownModule():
    if PG is not None:
        PG.stop()
    kafka_teardown()


def ru_url(query=""):
    return f"http://127.0.0.1:{RU_PORT}/api/{query}"


def run_task(dag_yaml, task_id, name, env=(), expect=None):
    """Writes the DAG file, runs one of its tasks; returns (exit status, log)."""
    path = os.path.join(TMPDIR, name + ".yaml")
    with open(path, "w") as f:
        f.write(dag_yaml)
    args = [RUNNER, path, name, task_id, "--kafka", BROKER.bootstrap,
            "--cql", f"127.0.0.1:{CQL_PORT}", "--randomuser", ru_url(),
            "--logical-date", "2026-11-01", *env]
    r = subprocess.run(args, capture_output=True, timeout=60)
    out = r.stdout.decode() + r.stderr.decode()
    if expect is not None and r.returncode != expect:
        raise AssertionError(f"{name}.{task_id}: exit {r.returncode}, wanted {expect}:\n{out}")
    return r.returncode, out


def dag(name, tasks, params="{}"):
    return f"dag_id: {name}\nschedule: none\nparams: {params}\ntasks:\n{tasks}"


class Shell(unittest.TestCase):
    def test_exit_codes_env_cwd(self):
        d = dag("shell1", f"""
  - task_id: ok
    type: shell
    command: "true"
  - task_id: three
    type: shell
    command: "echo about to fail; exit 3"
  - task_id: env
    type: shell
    cwd: {TMPDIR}
    env: {{WHO: "{{{{ params.who }}}}", DS: "{{{{ ds }}}}"}}
    command: 'echo "$WHO $DS $(pwd)" > shell_out.txt'
""", params="{who: spate}")
        run_task(d, "ok", "shell1", expect=0)
        rc, out = run_task(d, "three", "shell1", expect=3)
        self.assertIn("about to fail", out)
        self.assertIn("exit status 3", out)
        run_task(d, "env", "shell1", expect=0)
        with open(os.path.join(TMPDIR, "shell_out.txt")) as f:
            self.assertEqual(f.read(), f"spate 2026-11-01 {TMPDIR}\n")
        log("shell: exit 0 and 3 as the command's, env and cwd rendered")

    def test_load_check(self):
        rc, out = run_task(dag("shell2", "  - task_id: nocmd\n    type: shell\n"), "nocmd",
                           "shell2", expect=2)
        self.assertIn("shell2.yaml:5: task 'nocmd' needs key 'command'", out)
        log("a task missing its operator's key is refused at load with file:line")


class Http(unittest.TestCase):
    def test_status(self):
        d = dag("http1", f"""
  - task_id: get
    type: http
    url: "{ru_url('?results=2&seed={{ ds_nodash }}')}"
  - task_id: missing
    type: http
    url: "http://127.0.0.1:{RU_PORT}/nope"
  - task_id: missing_expected
    type: http
    url: "http://127.0.0.1:{RU_PORT}/nope"
    expect_status: [404]
    headers: {{Accept: application/json}}
    timeout: 5s
""")
        rc, out = run_task(d, "get", "http1", expect=0)
        self.assertIn("seed=20261101", out)
        self.assertIn("status 200", out)
        self.assertIn('"results":[', out)
        rc, out = run_task(d, "missing", "http1", expect=1)
        self.assertIn("status 404 is not an expected one", out)
        run_task(d, "missing_expected", "http1", expect=0)
        log("http: 200 passes, 404 fails unless expect_status lists it")


class Sql(unittest.TestCase):
    SQL = ("CREATE TABLE IF NOT EXISTS runs (ds TEXT, n INTEGER); "
           "INSERT INTO runs VALUES ('{{ ds }}', {{ params.n }}); SELECT * FROM runs")

    def tasks(self):
        return f"""
  - task_id: ins
    type: sql
    sql: "{self.SQL}"
  - task_id: broken
    type: sql
    sql: "INSERT INTO runs VALUES ('x', 1); INSERT INTO nosuch VALUES (1)"
"""

    def test_sqlite(self):
        path = os.path.join(TMPDIR, "sql.db")
        d = dag("sql1", self.tasks(), params="{n: 42}")
        run_task(d, "ins", "sql1", env=["--sqlite", path], expect=0)
        run_task(d, "broken", "sql1", env=["--sqlite", path], expect=1)
        db = sqlite3.connect(path)
        self.assertEqual(db.execute("SELECT ds, n FROM runs").fetchall(), [("2026-11-01", 42)])
        db.close()
        log("sql on SQLite: statements applied; a failing one undoes the whole task")

    @unittest.skipUnless(pgtest.available(), "PostgreSQL 15 is not installed")
    def test_postgres(self):
        d = dag("sql2", self.tasks(), params="{n: 7}")
        rc, out = run_task(d, "ins", "sql2", env=["--postgres", PG.url], expect=0)
        self.assertIn("PostgreSQL", out)
        run_task(d, "broken", "sql2", env=["--postgres", PG.url], expect=1)
        self.assertEqual(PG.scalar("SELECT ds || ':' || n FROM runs"), "2026-11-01:7")
        log("sql on PostgreSQL: statements applied; a failing one undoes the whole task")


class Cql(unittest.TestCase):
    def test_statements(self):
        from cassandra.cluster import Cluster
        d = dag("cql1", """
  - task_id: ddl
    type: cql
    cql: |
      CREATE KEYSPACE IF NOT EXISTS ops WITH replication =
        {'class': 'SimpleStrategy', 'replication_factor': 1};
      CREATE TABLE IF NOT EXISTS ops.runs (ds text PRIMARY KEY, note text);
  - task_id: write
    type: cql
    keyspace: ops
    cql: "INSERT INTO runs (ds, note) VALUES ('{{ ds }}', 'a;b'); SELECT * FROM runs"
  - task_id: bad
    type: cql
    keyspace: ops
    cql: "INSERT INTO nosuch (a) VALUES (1)"
""")
        run_task(d, "ddl", "cql1", expect=0)
        rc, out = run_task(d, "write", "cql1", expect=0)
        self.assertIn("2 statement(s)", out)
        rc, out = run_task(d, "bad", "cql1", expect=1)
        self.assertIn("statement 1", out)
        cluster = Cluster(["127.0.0.1"], port=CQL_PORT)
        try:
            s = cluster.connect("ops")
            rows = list(s.execute("SELECT ds, note FROM runs"))
            self.assertEqual([(r.ds, r.note) for r in rows], [("2026-11-01", "a;b")])
        finally:
            cluster.shutdown()
        log("cql: DDL and a write (';' inside a string) land; a bad statement fails")


def read_topic(topic, want):
    parts, hw, errors = consume_to_end(BROKER, topic, [0, 1, 2], want=want, settle=1.0)
    assert not errors, errors
    return [m for p in parts.values() for m in p]


class UsersToKafka(unittest.TestCase):
    def test_count(self):
        create_topic(BROKER, "users_direct", 3)
        d = dag("r2k", """
  - task_id: push
    type: randomuser_to_kafka
    topic: users_direct
    count: "{{ params.count }}"
    batch: 40
""", params="{count: 150}")
        rc, out = run_task(d, "push", "r2k", expect=0)
        self.assertIn("users fetched 150, produced 150", out)
        msgs = read_topic("users_direct", 150)
        self.assertEqual(len(msgs), 150)
        ids = set()
        for m in msgs:
            rec = json.loads(m.value())
            self.assertEqual(m.key().decode(), rec["id"])
            self.assertIn("email", rec)
            ids.add(rec["id"])
        self.assertEqual(len(ids), 150)
        log("randomuser_to_kafka count 150 → 150 messages keyed by record id")


class Staging(unittest.TestCase):
    def stage_and_publish(self, name, env, count_rows, fetch_rows):
        topic = f"users_{name}"
        create_topic(BROKER, topic, 3)
        d = dag(name, f"""
  - task_id: stage
    type: randomuser_to_postgres
    url: "{ru_url('?seed=staging')}"
    count: 120
    batch: 50
  - task_id: stage_more
    type: randomuser_to_postgres
    url: "{ru_url('?seed=more')}"
    count: 30
  - task_id: publish
    type: postgres_to_kafka
    topic: {topic}
    batch: 100
    upstream: [stage]
""")
        run_task(d, "stage", name, env=env, expect=0)
        rc, out = run_task(d, "stage", name, env=env, expect=0)
        self.assertIn("0 new, 120 already staged", out)
        self.assertEqual(count_rows("SELECT COUNT(*) FROM staged_users"), 120)
        self.assertEqual(count_rows("SELECT COUNT(DISTINCT id) FROM staged_users"), 120)
        rc, out = run_task(d, "publish", name, env=env, expect=0)
        self.assertIn("published 120 rows in 2 round(s)", out)
        self.assertEqual(count_rows("SELECT COUNT(*) FROM staged_users "
                                    "WHERE published_at IS NULL"), 0)
        rc, out = run_task(d, "publish", name, env=env, expect=0)
        self.assertIn("published 0 rows", out)
        # Restaging the same users keeps them published; new users are new.
        run_task(d, "stage", name, env=env, expect=0)
        run_task(d, "stage_more", name, env=env, expect=0)
        self.assertEqual(count_rows("SELECT COUNT(*) FROM staged_users "
                                    "WHERE published_at IS NULL"), 30)
        rc, out = run_task(d, "publish", name, env=env, expect=0)
        self.assertIn("published 30 rows in 1 round(s)", out)

        msgs = read_topic(topic, 150)
        self.assertEqual(len(msgs), 150)
        by_id = {}
        for m in msgs:
            rec = json.loads(m.value())
            self.assertEqual(m.key().decode(), rec["id"])
            self.assertNotIn(rec["id"], by_id, "a row was published twice")
            by_id[rec["id"]] = (m.partition(), m.offset(), m.value().decode())
        # Each row records where its message landed.
        rows = fetch_rows("SELECT formatted, kafka_topic, kafka_partition, kafka_offset "
                          "FROM staged_users")
        self.assertEqual(len(rows), 150)
        for formatted, t, p, o in rows:
            rid = json.loads(formatted)["id"]
            self.assertEqual(t, topic)
            self.assertEqual((int(p), int(o), formatted), by_id[rid])

    def test_sqlite(self):
        path = os.path.join(TMPDIR, "staging.db")

        def q(sql):
            db = sqlite3.connect(path)
            try:
                return db.execute(sql).fetchall()
            finally:
                db.close()
        self.stage_and_publish("stage_lite", ["--sqlite", path], lambda s: q(s)[0][0], q)
        log("SQLite staging: restaging adds nothing; each row published once, marked "
            "with its partition/offset; a second publish sends nothing")

    @unittest.skipUnless(pgtest.available(), "PostgreSQL 15 is not installed")
    def test_postgres(self):
        def q(sql):
            out = PG.psql(sql).strip()
            return [tuple(line.split("|")) for line in out.splitlines()] if out else []
        self.stage_and_publish("stage_pg", ["--postgres", PG.url],
                               lambda s: int(PG.scalar(s)), q)
        log("PostgreSQL staging: the same, through libpq")


class Cli(unittest.TestCase):
    """The same operators through `spate tasks test` (engineer SB's
    command), connections from a pipeline file's scheduler: section."""

    def test_tasks_test(self):
        data = os.path.join(TMPDIR, "cli-data")
        create_topic(BROKER, "users_cli", 3)
        path = os.path.join(TMPDIR, "cli.yaml")
        with open(path, "w") as f:
            f.write(f"""scheduler:
  data_dir: {data}
  connections: {{kafka: "{BROKER.bootstrap}", randomuser: "{ru_url('?seed=cli')}"}}
  dags:
    - dag_id: cli
      schedule: none
      tasks:
        - task_id: stage
          type: randomuser_to_postgres
          count: 40
        - task_id: publish
          type: postgres_to_kafka
          topic: users_cli
          upstream: stage
        - task_id: fail
          type: shell
          command: "exit 9"
""")

        def tasks_test(task):
            r = subprocess.run([SPATE, "tasks", "test", "--config", path, "cli", task,
                                "2026-11-01"], capture_output=True, timeout=60)
            return r.returncode, r.stdout.decode() + r.stderr.decode()
        rc, out = tasks_test("stage")
        self.assertEqual(rc, 0, out)
        self.assertIn("40 new", out)
        rc, out = tasks_test("publish")
        self.assertEqual(rc, 0, out)
        self.assertIn("published 40 rows", out)
        rc, out = tasks_test("fail")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("exit status 9", out)
        # The default staging database is DATA_DIR/staging.db.
        db = sqlite3.connect(os.path.join(data, "staging.db"))
        self.assertEqual(db.execute("SELECT COUNT(*) FROM staged_users WHERE published_at "
                                    "IS NOT NULL").fetchone()[0], 40)
        db.close()
        self.assertEqual(len(read_topic("users_cli", 40)), 40)
        log("spate tasks test: stage → publish on DATA_DIR/staging.db; a failing task fails")


if __name__ == "__main__":
    unittest.main(verbosity=2)

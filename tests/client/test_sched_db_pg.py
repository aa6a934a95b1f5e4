# test_sched_db_pg.py — the scheduler metadata (src/sched/sched_db.c) on a
# real PostgreSQL 15.
#
# Starts a private PostgreSQL with tests/client/pgtest.py, makes a fresh
# database for each run of the unit test program test_sched_db (built next
# to spate: $(dirname $SPATE)/tests/test_sched_db, or $TEST_SCHED_DB) and
# runs it with SPATE_TEST_PG_URL pointing there, so the same test body that
# checks SQLite checks PostgreSQL. Then it checks what a psql user sees:
# the schema version row, the tables, and Airflow's words for states.
# Two programs opening an empty database at once must both succeed (the
# migration is serialized by an advisory lock).
#
# Then the scheduler itself on PostgreSQL: a backfill at the logical date
# of the next scheduled run (catchup false) must not abort its ticks (other
# DAGs get runs, finished tries are recorded once), and /api/v1/health is
# 503 while PostgreSQL is down, 200 again after.
#
# Skips (exit 0, saying so) when PostgreSQL 15 is not installed. Run by
# ctest (client.test_sched_db_pg) or by hand:
#
#   SPATE=/tmp/b/spate /usr/bin/python3 tests/client/test_sched_db_pg.py -v
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgtest  # noqa: E402

SPATE = os.environ.get("SPATE", "")
PROG = os.environ.get("TEST_SCHED_DB") or os.path.join(os.path.dirname(SPATE), "tests",
                                                       "test_sched_db")


@unittest.skipUnless(pgtest.available(), "PostgreSQL 15 is not installed")
class SchedDbPg(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="spate-sched-pg-")
        cls.pg = pgtest.Postgres(cls.tmp.name)
        cls.pg.start()
        cls.n = 0

    @classmethod
    def tearDownClass(cls):
        cls.pg.stop()
        cls.tmp.cleanup()

    def fresh_db(self):
        SchedDbPg.n += 1
        name = f"sched{SchedDbPg.n}"
        self.pg.psql(f"CREATE DATABASE {name}")
        return name, self.pg.url.rsplit("/", 1)[0] + "/" + name

    def psql_db(self, name, sql):
        r = subprocess.run(["psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-h",
                            self.pg.dir, "-p", str(self.pg.port), "-U", "postgres", "-d", name,
                            "-c", sql], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.strip()

    def run_prog(self, url, *args):
        env = dict(os.environ, SPATE_TEST_PG_URL=url)
        return subprocess.run([PROG, *args], env=env, capture_output=True, text=True, timeout=120)

    def test_unit_body_on_postgres(self):
        self.assertTrue(os.path.exists(PROG), f"{PROG} not built")
        name, url = self.fresh_db()
        r = self.run_prog(url)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("[       OK ] test_postgres", r.stdout)
        self.assertNotIn("skipped", r.stdout)
        # What psql shows afterwards.
        psql = lambda sql: self.psql_db(name, sql)  # noqa: E731
        self.assertEqual(psql("SELECT version FROM schema_version"), "2")
        self.assertEqual(psql("SELECT count(*) FROM schema_version"), "1")
        self.assertEqual(psql("SELECT state FROM task_instance WHERE dag_id = 't1' AND "
                              "run_id = 'run_b' AND task_id = 'ufr'"), "up_for_retry")
        self.assertEqual(psql("SELECT run_type || ' ' || state FROM dag_run WHERE dag_id = 'r1' "
                              "AND run_id LIKE 'scheduled%'"), "scheduled success")
        self.assertEqual(psql("SELECT is_paused FROM dag WHERE dag_id = 'd1'"), "0")

    def test_concurrent_first_open(self):
        self.assertTrue(os.path.exists(PROG), f"{PROG} not built")
        name, url = self.fresh_db()
        # Four processes migrate the same empty database at the same moment
        # (`--open-only URL` opens, prints the schema version and exits).
        procs = [subprocess.Popen([PROG, "--open-only", url], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True) for _ in range(4)]
        for p in procs:
            out = p.communicate(timeout=120)[0]
            self.assertEqual(p.returncode, 0, out)
            self.assertEqual(out.strip(), "schema_version 2")
        self.assertEqual(self.psql_db(name, "SELECT count(*) || ' ' || max(version) FROM "
                                            "schema_version"), "1 2")
        self.assertEqual(self.psql_db(name, "SELECT string_agg(tablename, ',' ORDER BY tablename) "
                                            "FROM pg_tables WHERE schemaname = 'public'"),
                         "dag,dag_run,schema_version,task_instance")

    def test_reconnect_after_restart(self):
        """A scheduler's handle survives a PostgreSQL restart: the call that
        sees the lost connection fails, the next ones work again."""
        self.assertTrue(os.path.exists(PROG), f"{PROG} not built")
        _, url = self.fresh_db()
        p = subprocess.Popen([PROG, "--reconnect", url], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            self.assertEqual(p.stdout.readline().strip(), "ready")
            self.pg.stop()
            self.pg.start()
            out = p.communicate("go\n", timeout=60)[0].split()
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertEqual(p.returncode, 0, out)
        self.assertIn(out[0], ("OK", "EIO"))  # seen: EIO
        self.assertEqual(out[1:], ["OK", "OK"])


    def test_backfill_then_scheduler(self):
        """Regression: a backfill run at the logical date the scheduler's
        next scheduled run would take (catchup false). The scheduler must not
        try that insert: on PostgreSQL its unique violation aborted every
        tick's transaction, COMMIT answered ROLLBACK unnoticed, other DAGs
        never got runs and finished tries stayed RUNNING."""
        import datetime
        import re
        import shutil
        import signal
        import time
        self.assertTrue(os.path.exists(SPATE), f"{SPATE} not built")
        name, url = self.fresh_db()
        tmp = tempfile.mkdtemp(prefix="spate-sched-pg-bf-")
        try:
            dags = os.path.join(tmp, "dags")
            os.mkdir(dags)
            with open(os.path.join(dags, "a.yaml"), "w") as f:
                f.write("dag_id: dag_a\nschedule: \"@daily\"\nstart_date: 2026-01-01\n"
                        "catchup: false\ntasks:\n  - {task_id: t, type: shell, command: \"true\"}\n")
            with open(os.path.join(dags, "b.yaml"), "w") as f:
                f.write("dag_id: dag_b\nschedule: \"every 2 seconds\"\nstart_date: 2026-01-01\n"
                        "catchup: false\ntasks:\n  - {task_id: t, type: shell, command: \"true\"}\n")
            # the latest complete daily interval starts yesterday (UTC)
            day = (datetime.datetime.now(datetime.timezone.utc).date() -
                   datetime.timedelta(days=1)).isoformat()
            common = ["--dags", dags, "--metadata", url, "--data-dir", os.path.join(tmp, "data")]
            r = subprocess.run([SPATE, "dags", "backfill", "dag_a", "--start-date", day,
                                "--end-date", day, *common], capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            log_path = os.path.join(tmp, "sched.log")
            with open(log_path, "w") as logf:
                p = subprocess.Popen([SPATE, "scheduler", *common, "--reload", "500ms"],
                                     stdout=logf, stderr=subprocess.STDOUT)
            try:
                psql = lambda sql: self.psql_db(name, sql)  # noqa: E731
                deadline = time.time() + 30
                while time.time() < deadline:
                    if (psql("SELECT count(*) FROM dag_run WHERE dag_id = 'dag_b' AND "
                             "state = 'success'") != "0" and
                            psql("SELECT state FROM dag_run WHERE dag_id = 'dag_a' AND "
                                 "run_type = 'backfill'") == "success"):
                        break
                    time.sleep(0.2)
                time.sleep(1.5)  # a few more ticks
            finally:
                p.send_signal(signal.SIGTERM)
                rc = p.wait(timeout=30)
            with open(log_path) as f:
                log = f.read()
            self.assertEqual(rc, 0, log)
            self.assertNotIn("current transaction is aborted", log)
            self.assertNotIn("answered ROLLBACK", log)
            self.assertEqual(psql("SELECT state FROM dag_run WHERE dag_id = 'dag_a' AND "
                                  "run_type = 'backfill'"), "success", log)
            self.assertNotEqual(psql("SELECT count(*) FROM dag_run WHERE dag_id = 'dag_b' AND "
                                     "state = 'success'"), "0", log)
            # no scheduled run of dag_a at the backfilled date; tries ran once
            self.assertEqual(psql("SELECT count(*) FROM dag_run WHERE dag_id = 'dag_a'"), "1")
            self.assertEqual(psql("SELECT state || ' ' || try_number FROM task_instance WHERE "
                                  "dag_id = 'dag_a'"), "success 1")
            self.assertEqual(psql("SELECT count(*) FROM task_instance WHERE state = 'running'"),
                             "0")
            self.assertRegex(psql("SELECT run_id FROM dag_run WHERE dag_id = 'dag_a'"),
                             re.escape("backfill__" + day))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


    def test_health_reports_metadata(self):
        """/api/v1/health asks the metadata (SELECT 1) and reports the last
        tick's commit: PostgreSQL down → 503 with a detail; back → 200."""
        import json
        import re
        import shutil
        import signal
        import time
        import urllib.error
        import urllib.request
        self.assertTrue(os.path.exists(SPATE), f"{SPATE} not built")
        _, url = self.fresh_db()
        tmp = tempfile.mkdtemp(prefix="spate-sched-pg-health-")
        log_path = os.path.join(tmp, "sched.log")
        os.mkdir(os.path.join(tmp, "dags"))

        def health(port):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health",
                                            timeout=20) as r:
                    return r.status, json.loads(r.read())
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read())
            except urllib.error.URLError as e:  # not listening (yet, or any more)
                return None, {"error": str(e), "log": open(log_path).read()}

        def wait_health(port, want, timeout=30):
            deadline = time.time() + timeout
            while True:
                code, h = health(port)
                if code == want or time.time() > deadline:
                    return code, h
                time.sleep(0.2)

        try:
            with open(log_path, "w") as logf:
                p = subprocess.Popen([SPATE, "scheduler", "--dags", os.path.join(tmp, "dags"),
                                      "--metadata", url, "--data-dir", os.path.join(tmp, "data"),
                                      "--api", "127.0.0.1:0"],
                                     stdout=logf, stderr=subprocess.STDOUT)
            try:
                port = None
                for _ in range(200):
                    with open(log_path) as f:
                        m = re.search(r"api listening on http://127\.0\.0\.1:(\d+)", f.read())
                    if m:
                        port = int(m.group(1))
                        break
                    time.sleep(0.05)
                self.assertIsNotNone(port)
                code, h = wait_health(port, 200)
                self.assertEqual(code, 200, h)
                self.assertEqual(h["metadatabase"]["status"], "healthy")
                self.pg.stop()
                try:
                    code, h = wait_health(port, 503)
                    self.assertEqual(code, 503, h)
                    self.assertEqual(h["metadatabase"]["status"], "unhealthy")
                    self.assertIn("postgres", h["metadatabase"]["detail"])
                finally:
                    self.pg.start()
                code, h = wait_health(port, 200)
                self.assertEqual(code, 200, h)
                self.assertEqual(h["scheduler"]["status"], "healthy")
            finally:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=30)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()

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
        self.assertEqual(psql("SELECT version FROM schema_version"), "1")
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
            self.assertEqual(out.strip(), "schema_version 1")
        self.assertEqual(self.psql_db(name, "SELECT count(*) || ' ' || max(version) FROM "
                                            "schema_version"), "1 1")
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


if __name__ == "__main__":
    unittest.main()

# test_sched_cli.py — `spate dags|tasks|runs` (src/cmd/cmd_dags.c), the
# scheduler's command line, driven as a user drives it.
#
# Every test works in its own temporary folder: a DAG folder with a good
# file (two DAGs of shell tasks) and a broken one, a data directory, and
# the SQLite metadata the commands create there. It checks the printed
# tables, the rows the commands leave in the metadata (read back with
# `runs list` and with Python's sqlite3, as a user with the sqlite3 tool
# would), exit statuses (0 success, 1 failure, 2 usage error), `tasks test`
# and `dags test` running real shell tasks in the foreground, `tasks logs`,
# backfill counts, and settings read from a pipeline file's `scheduler:`
# section (dags_folder relative to the file). End to end: a run triggered
# and a DAG unpaused from the CLI are picked up by a running `spate
# scheduler` on the same SQLite file, and its try's log is read back with
# `tasks logs`. The same commands against PostgreSQL metadata (pgtest.py)
# when PostgreSQL 15 is installed.
#
# Run by ctest (client.test_sched_cli) or by hand:
#
#   SPATE=/tmp/b/spate /usr/bin/python3 tests/client/test_sched_cli.py -v
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgtest  # noqa: E402

SPATE = os.environ.get("SPATE", "spate")

GOOD = textwrap.dedent("""\
    dags:
      - dag_id: hello
        description: two shell tasks
        schedule: "@daily"
        start_date: 2026-11-01
        catchup: false
        tasks:
          - task_id: greet
            type: shell
            command: echo "hello {{ ds }} {{ run_id }}"
          - task_id: after
            type: shell
            command: echo after-greet
            upstream: greet
      - dag_id: failing
        schedule: none
        is_paused_upon_creation: true
        tasks:
          - task_id: boom
            type: shell
            command: echo about-to-fail; exit 3
    """)

BROKEN = textwrap.dedent("""\
    dag_id: broken
    schedule: "@daily"
    start_date: 2026-11-01
    tasks:
      - task_id: a
        type: no_such_operator
    """)


class Cli(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="spate-sched-cli-")
        self.dir = self.tmp.name
        self.dags = os.path.join(self.dir, "dags")
        os.makedirs(self.dags)
        with open(os.path.join(self.dags, "good.yaml"), "w") as f:
            f.write(GOOD)
        with open(os.path.join(self.dags, "zbroken.yaml"), "w") as f:
            f.write(BROKEN)
        self.data = os.path.join(self.dir, "data")

    def tearDown(self):
        self.tmp.cleanup()

    def spate(self, *args, common=True, timeout=60):
        argv = [SPATE, *args]
        if common:
            argv += ["--dags", self.dags, "--data-dir", self.data]
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              cwd=self.dir)

    def ok(self, *args, **kw):
        r = self.spate(*args, **kw)
        self.assertEqual(r.returncode, 0, f"{args}: {r.stdout}{r.stderr}")
        return r.stdout

    def table(self, out):
        """Rows of a printed table (header first, rule skipped) as lists."""
        lines = [ln for ln in out.splitlines() if ln and not ln.startswith("=")]
        return [[c.strip() for c in ln.split(" | ")] for ln in lines]

    def db(self):
        return sqlite3.connect(os.path.join(self.data, "scheduler.db"))

    # ---- dags list / pause / unpause ----

    def test_list_reports_broken_files(self):
        r = self.spate("dags", "list")
        self.assertEqual(r.returncode, 1, r.stderr)  # a broken file is a failure
        rows = self.table(r.stdout)
        self.assertEqual(rows[0], ["dag_id", "schedule", "paused", "file"])
        good = os.path.join(self.dags, "good.yaml")
        self.assertEqual(rows[1:], [["hello", "@daily", "False", good],
                                    ["failing", "none", "True", good]])
        self.assertIn("zbroken.yaml:6:", r.stderr)
        self.assertIn("no_such_operator", r.stderr)
        # Listing does not create the metadata.
        self.assertFalse(os.path.exists(os.path.join(self.data, "scheduler.db")))

    def test_pause_unpause(self):
        self.assertEqual(self.ok("dags", "pause", "hello"), "Dag: hello, paused: True\n")
        rows = self.table(self.spate("dags", "list").stdout)
        self.assertEqual(rows[1][:3], ["hello", "@daily", "True"])
        with self.db() as c:
            self.assertEqual(c.execute("SELECT is_paused FROM dag WHERE dag_id='hello'")
                             .fetchone()[0], 1)
        self.assertEqual(self.ok("dags", "unpause", "hello"), "Dag: hello, paused: False\n")
        rows = self.table(self.spate("dags", "list").stdout)
        self.assertEqual(rows[1][:3], ["hello", "@daily", "False"])
        # is_paused_upon_creation holds until someone unpauses.
        self.assertEqual(self.table(self.spate("dags", "list").stdout)[2][2], "True")
        self.ok("dags", "unpause", "failing")
        self.assertEqual(self.table(self.spate("dags", "list").stdout)[2][2], "False")
        r = self.spate("dags", "pause", "nope")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no DAG 'nope'", r.stderr)

    # ---- dags trigger / runs list ----

    def test_trigger_and_runs_list(self):
        out = self.ok("dags", "trigger", "hello", "--run-id", "r1", "--logical-date",
                      "2026-11-02T06:00:00")
        self.assertEqual(out, "Created run r1 of DAG hello (logical date "
                              "2026-11-02T06:00:00+00:00), state queued\n")
        out = self.ok("dags", "trigger", "hello", "--logical-date", "2026-11-03")
        self.assertIn("Created run manual__2026-11-03T00:00:00+00:00 of DAG hello", out)
        r = self.spate("dags", "trigger", "hello", "--run-id", "r1")
        self.assertEqual(r.returncode, 1)
        self.assertIn("already has run 'r1'", r.stderr)
        # A paused DAG's run waits; the command says so.
        out = self.ok("dags", "trigger", "failing", "--run-id", "f1")
        self.assertIn("DAG failing is paused", out)

        rows = self.table(self.ok("runs", "list", "hello"))
        self.assertEqual(rows[0], ["dag_id", "run_id", "run_type", "state", "logical_date",
                                   "start_date", "end_date"])
        self.assertEqual(rows[1], ["hello", "manual__2026-11-03T00:00:00+00:00", "manual",
                                   "queued", "2026-11-03T00:00:00+00:00", "", ""])
        self.assertEqual(rows[2][:5], ["hello", "r1", "manual", "queued",
                                       "2026-11-02T06:00:00+00:00"])
        self.assertEqual(len(rows), 3)
        self.assertEqual(len(self.table(self.ok("runs", "list"))), 4)  # every DAG
        self.assertEqual(len(self.table(self.ok("runs", "list", "--limit", "1"))), 2)
        self.assertEqual(len(self.table(self.ok("runs", "list", "--state", "success"))), 1)
        self.assertEqual(len(self.table(self.ok("runs", "list", "--state", "queued"))), 4)
        # The manual run's data interval is the last complete @daily interval.
        with self.db() as c:
            row = c.execute("SELECT run_type, state, data_interval_start, data_interval_end "
                            "FROM dag_run WHERE run_id='r1'").fetchone()
        self.assertEqual(row, ("manual", "queued", 1793491200000, 1793577600000))

    def test_usage_errors(self):
        for args in (["dags"], ["dags", "frob"], ["dags", "trigger"],
                     ["dags", "list", "--try", "3"], ["dags", "list", "extra"],
                     ["runs", "list", "--state", "bogus"], ["runs", "list", "--limit", "0"],
                     ["dags", "backfill", "hello"],
                     ["dags", "backfill", "hello", "--start-date", "x", "--end-date", "y"],
                     ["dags", "trigger", "hello", "--logical-date", "yesterday"],
                     ["tasks", "logs", "hello", "..", "greet"], ["dags", "list", "--bogus"]):
            r = self.spate(*args)
            self.assertEqual(r.returncode, 2, f"{args}: {r.stdout}{r.stderr}")
            self.assertIn(f"spate {args[0]}: ", r.stderr)
        r = self.spate("dags", "--help", common=False)
        self.assertEqual(r.returncode, 0)
        self.assertIn("spate dags backfill DAG --start-date A --end-date B [--reset]", r.stdout)
        r = self.spate("dags", "trigger", "nope")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no DAG 'nope'", r.stderr)
        r = self.spate("dags", "list", common=False)  # no DAGs given at all
        self.assertEqual(r.returncode, 2)
        self.assertIn("no DAGs", r.stderr)

    # ---- tasks logs / tasks test ----

    def test_tasks_logs(self):
        r = self.spate("tasks", "logs", "hello", "r1", "greet")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no logs for hello/r1/greet", r.stderr)
        d = os.path.join(self.data, "logs", "hello", "r1", "greet")
        os.makedirs(d)
        for n in (1, 2, 10):
            with open(os.path.join(d, f"{n}.log"), "w") as f:
                f.write(f"try {n}\n")
        self.assertEqual(self.ok("tasks", "logs", "hello", "r1", "greet"), "try 10\n")
        self.assertEqual(self.ok("tasks", "logs", "hello", "r1", "greet", "--try", "2"),
                         "try 2\n")
        r = self.spate("tasks", "logs", "hello", "r1", "greet", "--try", "3")
        self.assertEqual(r.returncode, 1)
        self.assertIn("3.log", r.stderr)

    def test_tasks_test(self):
        r = self.spate("tasks", "test", "hello", "greet", "2026-11-05")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("hello 2026-11-05 test__2026-11-05T00:00:00+00:00", r.stdout)
        r = self.spate("tasks", "test", "failing", "boom")
        self.assertEqual(r.returncode, 1)
        self.assertIn("about-to-fail", r.stdout)
        r = self.spate("tasks", "test", "hello", "nope")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no task 'nope'", r.stderr)
        # Nothing recorded.
        self.assertFalse(os.path.exists(os.path.join(self.data, "scheduler.db")))

    # ---- dags test / backfill (need the scheduler core) ----

    def test_dags_test(self):
        r = self.spate("dags", "test", "hello", "2026-11-05", timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("greet: success", r.stdout)
        self.assertIn("after: success", r.stdout)
        self.assertRegex(r.stdout, r"Run manual__2026-11-05T00:00:00\+00:00: success")
        r = self.spate("dags", "test", "failing", timeout=120)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("boom: failed", r.stdout)
        self.assertIn("| about-to-fail", r.stdout)  # the failed try's log
        # The real metadata is untouched.
        self.assertFalse(os.path.exists(os.path.join(self.data, "scheduler.db")))

    def test_backfill(self):
        out = self.ok("dags", "backfill", "hello", "--start-date", "2026-11-01", "--end-date",
                      "2026-11-03")
        self.assertIn("Created 3 backfill runs of DAG hello", out)
        rows = self.table(self.ok("runs", "list", "hello"))
        self.assertEqual([r[4] for r in rows[1:]], ["2026-11-03T00:00:00+00:00",
                                                    "2026-11-02T00:00:00+00:00",
                                                    "2026-11-01T00:00:00+00:00"])
        self.assertEqual({r[2] for r in rows[1:]}, {"backfill"})
        out = self.ok("dags", "backfill", "hello", "--start-date", "2026-11-01", "--end-date",
                      "2026-11-04")
        self.assertIn("Created 1 backfill run of DAG hello", out)
        r = self.spate("dags", "backfill", "hello", "--start-date", "2026-11-03", "--end-date",
                       "2026-11-01")
        self.assertEqual(r.returncode, 2)

    # ---- settings from a pipeline file ----

    def test_config_file(self):
        cfg = os.path.join(self.dir, "conf", "pipeline.yaml")
        os.makedirs(os.path.dirname(cfg))
        os.symlink(self.dags, os.path.join(self.dir, "conf", "mydags"))
        with open(cfg, "w") as f:
            f.write("scheduler:\n"
                    "  dags_folder: mydags\n"
                    f"  data_dir: {self.data}\n"
                    "  workers: 2\n")
        r = self.spate("dags", "list", "--config", cfg, common=False)
        rows = self.table(r.stdout)
        self.assertEqual([row[0] for row in rows[1:]], ["hello", "failing"])
        self.ok("dags", "pause", "hello", "--config", cfg, common=False)
        self.assertTrue(os.path.exists(os.path.join(self.data, "scheduler.db")))
        # Inline DAGs in the file; --metadata overrides.
        cfg2 = os.path.join(self.dir, "inline.yaml")
        with open(cfg2, "w") as f:
            f.write("scheduler:\n  dags:\n" + textwrap.indent(GOOD.split("\n", 1)[1], "  "))
        meta = os.path.join(self.dir, "other.db")
        out = self.ok("dags", "trigger", "hello", "--config", cfg2, "--metadata",
                      "sqlite:" + meta, "--run-id", "x", common=False)
        self.assertIn("Created run x", out)
        with sqlite3.connect(meta) as c:
            self.assertEqual(c.execute("SELECT count(*) FROM dag_run").fetchone()[0], 1)
        with open(cfg2, "a") as f:
            f.write("  dag_folder: typo\n")
        r = self.spate("dags", "list", "--config", cfg2, common=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("inline.yaml:", r.stderr)
        self.assertIn("key 'dag_folder': unknown setting", r.stderr)

    # ---- with a running scheduler ----

    def test_running_scheduler_picks_up_cli_changes(self):
        log = open(os.path.join(self.dir, "scheduler.log"), "w")
        sched = subprocess.Popen([SPATE, "scheduler", "--dags", self.dags, "--data-dir", self.data,
                                  "--reload", "200ms"], stdout=log, stderr=log, cwd=self.dir)
        try:
            deadline = time.monotonic() + 20
            while not os.path.exists(os.path.join(self.data, "scheduler.db")):
                self.assertLess(time.monotonic(), deadline, "scheduler did not create its db")
                time.sleep(0.05)
            self.ok("dags", "trigger", "failing", "--run-id", "cli1")  # paused upon creation
            time.sleep(0.5)
            rows = self.table(self.ok("runs", "list", "failing"))
            self.assertEqual(rows[1][:4], ["failing", "cli1", "manual", "queued"])
            self.ok("dags", "unpause", "failing")
            deadline = time.monotonic() + 20
            while True:
                rows = self.table(self.ok("runs", "list", "failing"))
                if rows[1][3] == "failed":
                    break
                self.assertLess(time.monotonic(), deadline, rows)
                time.sleep(0.1)
            out = self.ok("tasks", "logs", "failing", "cli1", "boom")
            self.assertIn("about-to-fail", out)
            self.assertEqual(out, self.ok("tasks", "logs", "failing", "cli1", "boom", "--try", "1"))
        finally:
            sched.send_signal(signal.SIGTERM)
            try:
                sched.wait(timeout=20)
            except subprocess.TimeoutExpired:
                sched.kill()
                sched.wait()
            log.close()

    # ---- PostgreSQL metadata ----

    @unittest.skipUnless(pgtest.available(), "PostgreSQL 15 is not installed")
    def test_postgres_metadata(self):
        pg = pgtest.Postgres(self.dir)
        pg.start()
        try:
            self.ok("dags", "trigger", "hello", "--run-id", "p1", "--logical-date", "2026-11-02",
                    "--metadata", pg.url)
            self.ok("dags", "pause", "hello", "--metadata", pg.url)
            rows = self.table(self.ok("runs", "list", "--metadata", pg.url))
            self.assertEqual(rows[1][:5], ["hello", "p1", "manual", "queued",
                                           "2026-11-02T00:00:00+00:00"])
            rows = self.table(self.spate("dags", "list", "--metadata", pg.url).stdout)
            self.assertEqual(rows[1][:3], ["hello", "@daily", "True"])
            self.assertEqual(pg.scalar("SELECT run_type || ' ' || state FROM dag_run "
                                       "WHERE run_id = 'p1'"), "manual queued")
            out = self.ok("dags", "backfill", "hello", "--start-date", "2026-11-01",
                          "--end-date", "2026-11-02", "--metadata", pg.url)
            self.assertIn("Created 2 backfill runs", out)
            # Nothing went to the default SQLite file.
            self.assertFalse(os.path.exists(os.path.join(self.data, "scheduler.db")))
        finally:
            pg.stop()


if __name__ == "__main__":
    unittest.main()

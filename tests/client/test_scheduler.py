# test_scheduler.py — `spate scheduler` with a DAG folder, driven through
# its REST API (Airflow's /api/v1 shapes) with urllib, and by signals.
#
#   Scheduler.test_api_manual_run_reload
#       a folder with a good DAG, a scheduled DAG and a broken file: the
#       broken file is reported (log and import_errors) while the others
#       run; health, dag list/get/404, a manual run (POST) to success with
#       both task instances and the rendered log of a try (JSON and
#       text/plain), a duplicate run id is 409, a scheduled run of the
#       "every 2 seconds" DAG succeeds, PATCH pauses a DAG, a new file is
#       picked up by the reload and fixing the broken file clears its
#       error; SIGTERM exits 0
#   Scheduler.test_run_conf
#       Airflow's dag_run.conf: POST with {"conf": {...}} stores it (GET of
#       the run and the run list return it; a run without one says {}); a
#       shell task echoing {{ params.count }} and {{ dag_run.conf.count }}
#       shows the conf overriding the DAG's params in its log, while a run
#       without conf keeps the params; a conf that is not an object (or
#       too big) is 400; the same through ?conf=JSON; `spate dags trigger
#       --conf` on the same metadata is picked up with its conf; after a
#       restart the stored conf is still there
#   Scheduler.test_run_id_validated
#       a run id that would leave DATA_DIR/logs ("../..", ".", "a/b" ...) is
#       400 from the API and exit 2 from `spate dags trigger`, nothing is
#       written outside; Airflow's characters (: + ~ . - _) work; health 200
#   Scheduler.test_kill9_restart_retries
#       kill -9 the scheduler while a long shell try runs: the try's
#       process group outlives it; a restarted scheduler (--dead-after 3s)
#       takes the try as dead, kills the orphan, retries it (try 2) and
#       the run finishes successfully
#
# Every process is started here and stopped by its pid; ports come from
# the "api listening on" log line (--api 127.0.0.1:0). KEEP_TMP=1 keeps
# the temp dir. Runs in well under 60 s.
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

SPATE = os.environ.get("SPATE")
if not SPATE:
    raise SystemExit("set SPATE to the spate binary")

GOOD = """
dag_id: hello
description: two shell tasks
schedule: none
tasks:
  - task_id: one
    type: shell
    command: "echo hello {{ ds }} from {{ run_id }}"
  - task_id: two
    type: shell
    command: "echo two"
    upstream: one
"""

TICKER = """
dags:
  - dag_id: ticker
    schedule: "every 2 seconds"
    start_date: 2026-01-01
    catchup: false
    tasks:
      - {task_id: tick, type: shell, command: "echo tick"}
"""

BROKEN = """
dag_id: broken
schedule: none
tasks:
  - task_id: x
    type: no_such_operator
"""

FIXED = """
dag_id: broken
schedule: none
tasks:
  - {task_id: x, type: shell, command: "true"}
"""

LONG = """
dag_id: long
schedule: none
default_args:
  retries: 1
  retry_delay: 1s
tasks:
  - task_id: t
    type: shell
    command: "echo try {{ ti.try_number }}; if [ {{ ti.try_number }} -eq 1 ]; then sleep 60; fi; echo done"
"""


CONF = """
dag_id: conf
schedule: none
params: {count: 1000, topic: users}
tasks:
  - task_id: show
    type: shell
    command: "echo 'params.count={{ params.count }} conf.count={{ dag_run.conf.count }} topic={{ params.topic }}'"
  - task_id: whole
    type: shell
    command: "echo 'conf={{ dag_run.conf }}'"
"""

NOCONF = """
dag_id: noconf
schedule: none
params: {count: 1000}
tasks:
  - {task_id: show, type: shell, command: "echo 'params.count={{ params.count }} conf={{ dag_run.conf }}'"}
"""


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


class Sched:
    """One `spate scheduler` process and its log."""

    def __init__(self, tmp, dags, *extra):
        self.log_path = os.path.join(tmp, "sched-%d.log" % time.monotonic_ns())
        self.logf = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [SPATE, "scheduler", "--dags", dags, "--data-dir", os.path.join(tmp, "data"),
             "--api", "127.0.0.1:0", "--reload", "500ms", *extra],
            stdout=self.logf, stderr=subprocess.STDOUT)
        self.port = None
        deadline = time.time() + 15
        while time.time() < deadline:
            text = self.log()
            m = re.search(r"api listening on http://127\.0\.0\.1:(\d+)", text)
            if m and "scheduler ready:" in text:
                self.port = int(m.group(1))
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError("scheduler did not start:\n" + self.log())

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def call(self, method, path, headers=None, body=None):
        data = None
        headers = dict(headers or {})
        if body is not None:
            data = body if isinstance(body, (bytes, type(iter([])))) else json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request("http://127.0.0.1:%d/api/v1%s" % (self.port, path),
                                     data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                body, status, ctype = r.read(), r.status, r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            body, status, ctype = e.read(), e.code, e.headers.get("Content-Type", "")
        if "json" in ctype:
            return status, json.loads(body)
        return status, body.decode()

    def wait_run(self, dag, run_id, want=("success",), timeout=20):
        deadline = time.time() + timeout
        st = None
        while time.time() < deadline:
            code, run = self.call("GET", "/dags/%s/dagRuns/%s" % (dag, run_id))
            st = run.get("state") if code == 200 else None
            if st in ("success", "failed"):
                break
            time.sleep(0.1)
        if st not in want:
            raise AssertionError("run %s/%s ended %s\n%s" % (dag, run_id, st, self.log()))
        return run

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.logf.close()
        return rc


def wait_for(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    # a killed orphan may linger as a zombie until init reaps it
    try:
        with open("/proc/%d/stat" % pgid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


class Scheduler(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="spate-sched-")
        self.dags = os.path.join(self.tmp, "dags")
        os.mkdir(self.dags)
        self.scheds = []
        self.groups = []

    def tearDown(self):
        for pgid in self.groups:  # tries a failed test may have orphaned
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for s in self.scheds:
            if s.proc.poll() is None:
                s.proc.kill()
                s.proc.wait()
        if os.environ.get("KEEP_TMP"):
            print("kept", self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, *extra):
        s = Sched(self.tmp, self.dags, *extra)
        self.scheds.append(s)
        return s

    def test_api_manual_run_reload(self):
        write(os.path.join(self.dags, "good.yaml"), GOOD)
        write(os.path.join(self.dags, "ticker.yml"), TICKER)
        write(os.path.join(self.dags, "broken.yaml"), BROKEN)
        s = self.start()
        self.assertIn("scheduler ready: 2 dags", s.log())
        self.assertRegex(s.log(), r"broken\.yaml:\d+: .*no_such_operator")

        code, h = s.call("GET", "/health")
        self.assertEqual(code, 200)
        self.assertEqual(h["metadatabase"]["status"], "healthy")
        self.assertEqual(h["scheduler"]["status"], "healthy")

        code, dags = s.call("GET", "/dags")
        self.assertEqual(code, 200)
        self.assertEqual(sorted(d["dag_id"] for d in dags["dags"]), ["hello", "ticker"])
        self.assertEqual(dags["total_entries"], 2)
        self.assertTrue(any("broken.yaml" in e and "no_such_operator" in e
                            for e in dags["import_errors"]), dags["import_errors"])
        code, d = s.call("GET", "/dags/hello")
        self.assertEqual(code, 200)
        self.assertEqual(d["description"], "two shell tasks")
        self.assertIs(d["is_paused"], False)
        self.assertIsNone(d["schedule_interval"])
        code, d = s.call("GET", "/dags/ticker")
        self.assertEqual(d["schedule_interval"]["value"], "every 2 seconds")
        code, err = s.call("GET", "/dags/nope")
        self.assertEqual(code, 404)
        self.assertEqual(err["title"], "DAG not found")

        # a manual run to success
        code, run = s.call("POST", "/dags/hello/dagRuns?dag_run_id=r1")
        self.assertEqual(code, 200, run)
        self.assertEqual(run["dag_run_id"], "r1")
        self.assertEqual(run["run_type"], "manual")
        self.assertIn(run["state"], ("queued", "running"))
        code, dup = s.call("POST", "/dags/hello/dagRuns?dag_run_id=r1")
        self.assertEqual(code, 409)
        run = s.wait_run("hello", "r1")
        self.assertIsNotNone(run["end_date"])
        code, tis = s.call("GET", "/dags/hello/dagRuns/r1/taskInstances")
        self.assertEqual(code, 200)
        got = {t["task_id"]: (t["state"], t["try_number"]) for t in tis["task_instances"]}
        self.assertEqual(got, {"one": ("success", 1), "two": ("success", 1)})
        code, log = s.call("GET", "/dags/hello/dagRuns/r1/taskInstances/one/logs/1")
        self.assertEqual(code, 200)
        day = run["logical_date"][:10]
        self.assertIn("hello %s from r1\n" % day, log["content"])
        code, text = s.call("GET", "/dags/hello/dagRuns/r1/taskInstances/one/logs/1",
                            {"Accept": "text/plain"})
        self.assertEqual(code, 200)
        self.assertEqual(text, log["content"])
        code, _ = s.call("GET", "/dags/hello/dagRuns/r1/taskInstances/one/logs/2")
        self.assertEqual(code, 404)
        self.assertTrue(os.path.exists(os.path.join(
            self.tmp, "data", "logs", "hello", "r1", "two", "1.log")))

        # a scheduled run of the ticker
        def ticker_done():
            code, runs = s.call("GET", "/dags/ticker/dagRuns")
            return [r for r in runs["dag_runs"] if r["state"] == "success"]
        done = wait_for(ticker_done, 15, "a successful scheduled run of ticker")
        self.assertTrue(done[0]["dag_run_id"].startswith("scheduled__"))
        self.assertEqual(done[0]["run_type"], "scheduled")

        # pause
        code, d = s.call("PATCH", "/dags/hello?is_paused=true")
        self.assertEqual(code, 200)
        self.assertIs(d["is_paused"], True)
        code, d = s.call("GET", "/dags/hello")
        self.assertIs(d["is_paused"], True)
        # Airflow's way: a JSON body (unpause, then pause again)
        code, d = s.call("PATCH", "/dags/hello", body={"is_paused": False})
        self.assertEqual(code, 200)
        self.assertIs(d["is_paused"], False)
        code, d = s.call("PATCH", "/dags/hello", body={"is_paused": True})
        self.assertIs(d["is_paused"], True)
        code, err = s.call("PATCH", "/dags/hello", body=b"[1, 2]")
        self.assertEqual(code, 400)
        self.assertIn("is_paused", err["detail"])
        # a body declared over 1 MiB is refused from its headers, before
        # any of it is read
        with socket.create_connection(("127.0.0.1", s.port), timeout=10) as c:
            c.sendall(b"PATCH /api/v1/dags/hello HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Type: application/json\r\nContent-Length: 2000000\r\n\r\n{")
            head = c.recv(4096)
        self.assertTrue(head.startswith(b"HTTP/1.1 413 "), head)
        # one that arrives in chunks (no length known up front) is counted
        # as it comes and refused past the limit
        code, err = s.call("PATCH", "/dags/hello", body=iter([b"x" * 65536] * 17),
                           headers={"Transfer-Encoding": "chunked"})
        self.assertEqual(code, 413)

        # reload: a new file, and the broken one fixed
        write(os.path.join(self.dags, "late.yaml"), GOOD.replace("hello", "late"))
        write(os.path.join(self.dags, "broken.yaml"), FIXED)

        def reloaded():
            code, dags = s.call("GET", "/dags")
            ids = sorted(d["dag_id"] for d in dags["dags"])
            return ids == ["broken", "hello", "late", "ticker"] and not dags["import_errors"]
        wait_for(reloaded, 10, "the reload to see late.yaml and the fixed broken.yaml")
        code, run = s.call("POST", "/dags/late/dagRuns")
        self.assertEqual(code, 200)
        self.assertTrue(run["dag_run_id"].startswith("manual__"), run)
        s.wait_run("late", run["dag_run_id"])
        code, run = s.call("POST", "/dags/late/dagRuns",
                           body={"dag_run_id": "from_body", "logical_date": "2026-11-02T00:00:00+00:00"})
        self.assertEqual(code, 200, run)
        self.assertEqual(run["dag_run_id"], "from_body")
        self.assertEqual(run["logical_date"], "2026-11-02T00:00:00+00:00")
        s.wait_run("late", "from_body")
        code, err = s.call("POST", "/dags/late/dagRuns", body={"dag_run_id": 7})
        self.assertEqual(code, 400)

        self.assertEqual(s.stop(), 0)
        self.assertIn("scheduler stopped", s.log())

    def test_run_conf(self):
        write(os.path.join(self.dags, "conf.yaml"), CONF)
        write(os.path.join(self.dags, "noconf.yaml"), NOCONF)
        s = self.start()
        code, run = s.call("POST", "/dags/conf/dagRuns",
                           body={"dag_run_id": "c300", "conf": {"count": 300, "who": {"x": [1, True]}}})
        self.assertEqual(code, 200, run)
        self.assertEqual(run["conf"], {"count": 300, "who": {"x": [1, True]}})
        run = s.wait_run("conf", "c300")
        self.assertEqual(run["conf"], {"count": 300, "who": {"x": [1, True]}})
        code, log = s.call("GET", "/dags/conf/dagRuns/c300/taskInstances/show/logs/1",
                           {"Accept": "text/plain"})
        self.assertEqual(code, 200)
        self.assertIn("\nparams.count=300 conf.count=300 topic=users\n", log)
        code, log = s.call("GET", "/dags/conf/dagRuns/c300/taskInstances/whole/logs/1",
                           {"Accept": "text/plain"})
        self.assertIn('\nconf={"count":300,"who":{"x":[1,true]}}\n', log)

        # without conf: {} and the DAG's params
        code, run = s.call("POST", "/dags/noconf/dagRuns", body={"dag_run_id": "plain"})
        self.assertEqual(code, 200, run)
        self.assertEqual(run["conf"], {})
        s.wait_run("noconf", "plain")
        code, log = s.call("GET", "/dags/noconf/dagRuns/plain/taskInstances/show/logs/1",
                           {"Accept": "text/plain"})
        self.assertIn("\nparams.count=1000 conf={}\n", log)
        code, run = s.call("POST", "/dags/noconf/dagRuns", body={"dag_run_id": "null", "conf": None})
        self.assertEqual((code, run["conf"]), (200, {}))

        # the query-string form
        code, run = s.call("POST", "/dags/noconf/dagRuns?dag_run_id=q&conf=%7B%22count%22%3A7%7D")
        self.assertEqual(code, 200, run)
        self.assertEqual(run["conf"], {"count": 7})
        s.wait_run("noconf", "q")
        code, log = s.call("GET", "/dags/noconf/dagRuns/q/taskInstances/show/logs/1",
                           {"Accept": "text/plain"})
        self.assertIn('\nparams.count=7 conf={"count":7}\n', log)

        # refused: not an object, too big, not JSON; nothing is created
        for bad in ([1, 2], "x", 5):
            code, err = s.call("POST", "/dags/conf/dagRuns", body={"dag_run_id": "bad", "conf": bad})
            self.assertEqual(code, 400, err)
            self.assertEqual(err["detail"], "conf must be a JSON object")
        code, err = s.call("POST", "/dags/conf/dagRuns",
                           body={"dag_run_id": "bad", "conf": {"k": "x" * 3000}})
        self.assertEqual(code, 400, err)
        self.assertIn("at most 2047", err["detail"])
        code, err = s.call("POST", "/dags/conf/dagRuns?dag_run_id=bad&conf=%5B1%5D")
        self.assertEqual(code, 400, err)
        code, err = s.call("POST", "/dags/conf/dagRuns?dag_run_id=bad&conf=%7B")
        self.assertEqual(code, 400, err)
        self.assertIn("not valid JSON", err["detail"])
        code, _ = s.call("GET", "/dags/conf/dagRuns/bad")
        self.assertEqual(code, 404)

        # the CLI on the same metadata: the scheduler runs it with its conf
        out = subprocess.run([SPATE, "dags", "trigger", "conf", "--dags", self.dags, "--data-dir",
                              os.path.join(self.tmp, "data"), "--run-id", "cli",
                              "--conf", '{"count": 42}'],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn('conf: {"count":42}', out.stdout)
        run = s.wait_run("conf", "cli")
        self.assertEqual(run["conf"], {"count": 42})
        code, log = s.call("GET", "/dags/conf/dagRuns/cli/taskInstances/show/logs/1",
                           {"Accept": "text/plain"})
        self.assertIn("\nparams.count=42 conf.count=42 topic=users\n", log)
        out = subprocess.run([SPATE, "dags", "trigger", "conf", "--dags", self.dags, "--data-dir",
                              os.path.join(self.tmp, "data"), "--conf", "[1]"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 2)
        self.assertIn("--conf: conf must be a JSON object", out.stderr)

        code, runs = s.call("GET", "/dags/conf/dagRuns")
        self.assertEqual({r["dag_run_id"]: r["conf"] for r in runs["dag_runs"]},
                         {"c300": {"count": 300, "who": {"x": [1, True]}}, "cli": {"count": 42}})
        self.assertEqual(s.stop(), 0)
        # stored: a new scheduler on the same data answers the same
        s = self.start()
        code, run = s.call("GET", "/dags/conf/dagRuns/c300")
        self.assertEqual(run["conf"], {"count": 300, "who": {"x": [1, True]}})
        self.assertEqual(s.stop(), 0)

    def test_run_id_validated(self):
        """Regression: a run id becomes DATA_DIR/logs/DAG/RUN_ID/...; POST
        {"dag_run_id": "../../../../tmp/x"} used to write outside the data
        dir. Airflow's pattern ^[A-Za-z0-9_.~:+-]+$ (not "." or "..") is
        enforced: 400 from the API, exit 2 from the CLI, nothing written."""
        write(os.path.join(self.dags, "good.yaml"), GOOD)
        s = self.start()
        outside = os.path.join(self.tmp, "escaped")
        rel = os.path.relpath(outside, os.path.join(self.tmp, "data", "logs", "hello"))
        for bad in (rel, "..", ".", "a/b", "a b", "x;id"):
            code, body = s.call("POST", "/dags/hello/dagRuns", body={"dag_run_id": bad})
            self.assertEqual(code, 400, (bad, body))
            self.assertIn("^[A-Za-z0-9_.~:+-]+$", body["detail"])
        code, runs = s.call("GET", "/dags/hello/dagRuns")
        self.assertEqual(runs["total_entries"], 0)
        # Airflow's own characters are fine, and the run writes its logs
        code, run = s.call("POST", "/dags/hello/dagRuns",
                           body={"dag_run_id": "ok:1+2~3.4-5_6"})
        self.assertEqual(code, 200, run)
        s.wait_run("hello", "ok:1+2~3.4-5_6")
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "data", "logs", "hello",
                                                    "ok:1+2~3.4-5_6", "one", "1.log")))
        out = subprocess.run([SPATE, "dags", "trigger", "hello", "--dags", self.dags, "--data-dir",
                              os.path.join(self.tmp, "data"), "--run-id", rel],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 2, out.stdout + out.stderr)
        self.assertIn("--run-id:", out.stderr)
        self.assertFalse(os.path.exists(outside))
        # health: the metadata answers and the last tick committed
        code, h = s.call("GET", "/health")
        self.assertEqual(code, 200, h)
        self.assertEqual(h["metadatabase"]["status"], "healthy")
        self.assertEqual(s.stop(), 0)

    def test_kill9_restart_retries(self):
        write(os.path.join(self.dags, "long.yaml"), LONG)
        s = self.start("--dead-after", "3s")
        code, run = s.call("POST", "/dags/long/dagRuns?dag_run_id=k")
        self.assertEqual(code, 200)

        def running():
            code, tis = s.call("GET", "/dags/long/dagRuns/k/taskInstances")
            t = [t for t in tis["task_instances"] if t["task_id"] == "t"]
            return t[0] if t and t[0]["state"] == "running" and t[0]["pid"] else None
        ti = wait_for(running, 10, "the long task to run")
        pid = ti["pid"]
        self.groups.append(pid)
        log1 = os.path.join(self.tmp, "data", "logs", "long", "k", "t", "1.log")
        def read(path):
            try:
                with open(path) as f:
                    return f.read()
            except OSError:
                return ""
        wait_for(lambda: "try 1\n" in read(log1), 5, "try 1 log")

        self.assertEqual(s.stop(signal.SIGKILL), -signal.SIGKILL)
        self.assertTrue(group_alive(pid), "the try's process group died with the scheduler")

        # same port: the orphaned try must not hold the API's listening socket
        s2 = self.start("--dead-after", "3s", "--api", "127.0.0.1:%d" % s.port)
        self.assertEqual(s2.port, s.port)
        run = s2.wait_run("long", "k", timeout=25)
        self.assertEqual(run["state"], "success")
        code, tis = s2.call("GET", "/dags/long/dagRuns/k/taskInstances")
        t = tis["task_instances"][0]
        self.assertEqual((t["state"], t["try_number"], t["max_tries"]), ("success", 2, 2))
        self.assertIn("no heartbeat", s2.log())
        wait_for(lambda: not group_alive(pid), 5, "the orphaned try to be killed")
        with open(log1) as f:
            first = f.read()
        self.assertIn("try 1\n", first)
        self.assertNotIn("\ndone\n", first)  # killed during the sleep
        code, log = s2.call("GET", "/dags/long/dagRuns/k/taskInstances/t/logs/2")
        self.assertIn("try 2\ndone\n", log["content"])
        self.assertEqual(s2.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)

# test_sched_ha.py — scheduler high availability: two `spate scheduler`
# processes on one SQLite metadata file, the leader elected through a
# private ZooKeeper (zktest.py, Debian's zookeeper jars).
#
#   HA.test_failover_no_run_lost_or_doubled
#       A DAG "every 2 seconds" (catchup on, from the test's start) of two
#       shell tasks a → b, each appending "RUN TASK TRY" to one file.
#       Scheduler A starts first and leads; B stands by (never "became
#       leader", its data dir gets no try logs). After three successful
#       runs A is killed with SIGKILL while a try of `a` (sleep 1, then
#       append) runs: B logs "became leader" within the
#       session timeout + a few seconds, fails the tries A left running
#       once their heartbeat is older than --dead-after (→ retried), and
#       creates the intervals missed meanwhile. At the end:
#         - the runs' logical dates are start_date, +2 s, +4 s, ... with no
#           gap and no duplicate, and every run but the newest few succeeded;
#         - for every finished run and task, the file holds exactly one line
#           of the successful try, no line twice, and lines of other tries
#           only for a task that was retried (try_number > 1); the try A
#           left running was retried (its orphan may also have appended its
#           own line: "ran" counts the successful try);
#         - B's log shows no second leader and A's shows one "became leader".
#   HA.test_zookeeper_outage_and_clean_handover
#       ZooKeeper stopped under A and B: A logs "lost leadership; standing
#       by" before the 6 s session timeout and no run is created while
#       nobody leads; ZooKeeper restarted (same port and data): exactly one
#       leads and runs resume; the leader stopped with SIGTERM (exit 0)
#       resigns, so the other logs "became leader" within 5 s (not a
#       session timeout) and creates the next runs; that leader frozen
#       (SIGSTOP) past its session is replaced by a third scheduler, and
#       woken (SIGCONT) it logs "lost leadership; standing by" and does not
#       lead again.
#
# Every process (ZooKeeper, both schedulers, tries orphaned by the kill) is
# stopped by its pid / process group. KEEP_TMP=1 keeps the temp dir. About
# 45 s for both.
import calendar
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zktest  # noqa: E402

SPATE = os.environ.get("SPATE")
if not SPATE:
    raise SystemExit("set SPATE to the spate binary")

SESSION_S = 6  # SPATE_SCHED_HA_SESSION_MS

DAG = """
dag_id: ha
schedule: "every 2 seconds"
start_date: "{start}"
catchup: true
max_active_runs: 16
default_args:
  retries: 3
  retry_delay: 1s
tasks:
  - task_id: a
    type: shell
    command: "sleep 1; echo {{{{ run_id }}}} a {{{{ ti.try_number }}}} >> {out}"
  - task_id: b
    type: shell
    upstream: a
    command: "echo {{{{ run_id }}}} b {{{{ ti.try_number }}}} >> {out}"
"""

CONFIG = """
scheduler:
  dags_folder: dags
  metadata: {meta}
  zookeeper: {zk}
  zk_path: /spate-test/scheduler
"""


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + "Z"


def parse_iso(text):
    """API time "2026-11-24T17:05:22+00:00" (UTC) → ms since the epoch."""
    m = re.match(r"(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)", text)
    return calendar.timegm(tuple(int(x) for x in m.groups()) + (0, 0, 0)) * 1000


class Sched:
    """One `spate scheduler` process of the pair and its log."""

    def __init__(self, tmp, name, config):
        self.name = name
        self.data = os.path.join(tmp, "data-" + name)
        self.log_path = os.path.join(tmp, "sched-%s.log" % name)
        self.logf = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [SPATE, "scheduler", "--config", config, "--data-dir", self.data,
             "--api", "127.0.0.1:0", "--reload", "500ms", "--dead-after", "3s"],
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
        raise AssertionError("scheduler %s did not start:\n%s" % (name, self.log()))

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def get(self, path):
        url = "http://127.0.0.1:%d/api/v1%s" % (self.port, path)
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.loads(r.read())

    def runs(self):
        return self.get("/dags/ha/dagRuns?limit=1000")["dag_runs"]

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


def wait_for(pred, timeout, what, log=lambda: ""):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError("timed out waiting for %s\n%s" % (what, log()))


@unittest.skipUnless(zktest.available(), "java / Debian zookeeper not installed")
class HA(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="spate-ha-")
        self.zk = zktest.ZooKeeper(self.tmp).start()
        self.scheds = []
        self.pids = []  # try process groups the kill may orphan

    def tearDown(self):
        for s in self.scheds:
            s.stop(signal.SIGKILL)
        for pgid in self.pids:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.zk.stop()
        if os.environ.get("KEEP_TMP") == "1":
            print("kept", self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, name, config):
        s = Sched(self.tmp, name, config)
        self.scheds.append(s)
        return s

    def logs(self):
        return "\n".join("--- %s\n%s" % (s.name, s.log()[-6000:]) for s in self.scheds) + \
            "\n--- zookeeper\n" + self.zk.log()

    def test_failover_no_run_lost_or_doubled(self):
        out = os.path.join(self.tmp, "ran.txt")
        dags = os.path.join(self.tmp, "dags")
        os.mkdir(dags)
        now_ms = int(time.time() * 1000)
        start_ms = (now_ms // 2000) * 2000  # on an interval boundary
        with open(os.path.join(dags, "ha.yaml"), "w") as f:
            f.write(DAG.format(start=iso(start_ms), out=out))
        config = os.path.join(self.tmp, "pipeline.yaml")
        with open(config, "w") as f:
            f.write(CONFIG.format(meta=os.path.join(self.tmp, "meta.db"), zk=self.zk.hosts))

        a = self.start("A", config)
        wait_for(lambda: "became leader" in a.log(), 10, "A to lead", self.logs)
        b = self.start("B", config)

        def ok_runs(s):
            return [r for r in s.runs() if r["state"] == "success"]
        wait_for(lambda: len(ok_runs(a)) >= 3, 20, "three runs by A", self.logs)
        self.assertNotIn("became leader", b.log())
        # the standby started no try: no log file under its data dir
        self.assertFalse(os.path.exists(os.path.join(b.data, "logs", "ha")), self.logs())

        # Kill A while a try of `a` runs (its sleep): the try's process
        # group outlives A and finishes on its own, but A never records it.
        def running_try():
            for r in a.runs()[:2]:
                for t in a.get("/dags/ha/dagRuns/%s/taskInstances" % r["dag_run_id"])[
                        "task_instances"]:
                    if t.get("state") == "running" and t.get("pid"):
                        return t
            return None
        victim = wait_for(running_try, 10, "a running try of A", self.logs)
        self.pids.append(victim["pid"])
        a.stop(signal.SIGKILL)
        killed = time.time()
        wait_for(lambda: "became leader" in b.log(), SESSION_S + 5, "B to take over", self.logs)
        took = time.time() - killed
        self.assertLess(took, SESSION_S + 5)

        # B runs the intervals missed meanwhile and new ones.
        kill_ms = int(killed * 1000)

        def caught_up():
            rs = ok_runs(b)
            return sum(1 for r in rs if parse_iso(r["logical_date"]) >= kill_ms + 2000) >= 2
        wait_for(caught_up, 25, "B to run the intervals after the kill", self.logs)
        runs = b.runs()
        tis = {}
        for r in runs:
            if r["state"] == "success":
                tis[r["dag_run_id"]] = b.get("/dags/ha/dagRuns/%s/taskInstances" %
                                             r["dag_run_id"])["task_instances"]
        self.assertEqual(b.stop(), 0)
        self.scheds.remove(b)

        # Runs: one per interval from start_date, none missing, none twice.
        dates = sorted(parse_iso(r["logical_date"]) for r in runs)
        self.assertEqual(len(dates), len(set(dates)), "a logical date twice")
        self.assertEqual(dates[0], start_ms, self.logs())
        self.assertEqual(dates, list(range(start_ms, start_ms + 2000 * len(dates), 2000)),
                         "a missing interval\n" + self.logs())
        by_date = sorted(runs, key=lambda r: parse_iso(r["logical_date"]))
        last_ok = max(i for i, r in enumerate(by_date) if r["state"] == "success")
        for r in by_date[:last_ok + 1]:
            self.assertEqual(r["state"], "success", "%s\n%s" % (r, self.logs()))
        self.assertGreaterEqual(last_ok + 1, 6)
        vt = {t["task_id"]: t for t in tis.get(victim["dag_run_id"], [])}
        self.assertIn(victim["task_id"], vt, "the run A was killed in did not finish")
        self.assertGreaterEqual(vt[victim["task_id"]]["try_number"], 2,
                                "the try A left running was not retried")

        # Tasks: the successful try of each ran once; nothing ran twice.
        with open(out) as f:
            lines = [ln.split() for ln in f.read().splitlines() if ln.strip()]
        seen = {}
        for run_id, task, try_no in lines:
            key = (run_id, task, int(try_no))
            seen[key] = seen.get(key, 0) + 1
        doubled = [k for k, n in seen.items() if n > 1]
        self.assertEqual(doubled, [], "a try ran twice\n" + self.logs())
        retried = 0
        for run_id, ts in tis.items():
            self.assertEqual(sorted(t["task_id"] for t in ts), ["a", "b"])
            for t in ts:
                self.assertEqual(t["state"], "success", t)
                n = t["try_number"]
                self.assertEqual(seen.get((run_id, t["task_id"], n)), 1,
                                 "%s/%s try %d did not run exactly once" % (run_id, t["task_id"], n))
                others = [k for k in seen if k[:2] == (run_id, t["task_id"]) and k[2] != n]
                if n == 1:
                    self.assertEqual(others, [], "%s/%s: extra tries" % (run_id, t["task_id"]))
                else:
                    retried += 1
        # Lines only for runs that exist.
        self.assertTrue({k[0] for k in seen} <= {r["dag_run_id"] for r in runs})

        alog = a.log()
        self.assertEqual(alog.count("became leader"), 1, alog)
        self.assertEqual(b.log().count("became leader"), 1, b.log())
        print("takeover after %.1f s; %d runs, %d task(s) retried" % (took, len(runs), retried))

    def test_zookeeper_outage_and_clean_handover(self):
        out = os.path.join(self.tmp, "ran.txt")
        dags = os.path.join(self.tmp, "dags")
        os.mkdir(dags)
        start_ms = (int(time.time() * 1000) // 2000) * 2000
        with open(os.path.join(dags, "ha.yaml"), "w") as f:
            f.write(DAG.format(start=iso(start_ms), out=out))
        config = os.path.join(self.tmp, "pipeline.yaml")
        with open(config, "w") as f:
            f.write(CONFIG.format(meta=os.path.join(self.tmp, "meta.db"), zk=self.zk.hosts))
        a = self.start("A", config)
        wait_for(lambda: "became leader" in a.log(), 10, "A to lead", self.logs)
        b = self.start("B", config)
        wait_for(lambda: len(b.runs()) >= 1, 10, "a first run", self.logs)

        # ZooKeeper gone: the leader stands by on its own, before the
        # server-side session timeout could have elected anybody else.
        self.zk.stop()
        down = time.time()
        wait_for(lambda: "lost leadership; standing by" in a.log(), SESSION_S, "A to stand by",
                 self.logs)
        stood = time.time() - down
        self.assertLess(stood, SESSION_S)
        n = len(b.runs())
        time.sleep(3)  # > one interval: nobody creates runs now
        self.assertEqual(len(b.runs()), n, self.logs())
        self.assertNotIn("became leader", b.log())

        # ZooKeeper back: one of them leads again.
        self.zk.start()

        def leader():
            lead = []
            for s in (a, b):
                text = s.log()
                if text.rfind("became leader") > text.rfind("lost leadership"):
                    lead.append(s)
            return lead
        lead = wait_for(leader, 15, "a leader after ZooKeeper's restart", self.logs)
        self.assertEqual(len(lead), 1, self.logs())
        wait_for(lambda: len(b.runs()) > n, 10, "runs to resume", self.logs)

        # A clean stop resigns: the other takes over at once, not after a
        # session timeout.
        old = lead[0]
        other = b if old is a else a
        before = other.log().count("became leader")
        self.assertEqual(old.stop(), 0)
        self.scheds.remove(old)
        stopped = time.time()
        # Within 5 s, under the 6 s session: a resignation, not an expiry
        # (3 s was missed once with the whole suite loading the machine).
        wait_for(lambda: other.log().count("became leader") > before, 5, "the handover",
                 self.logs)
        handover = time.time() - stopped
        m = len(other.runs())
        wait_for(lambda: len(other.runs()) > m, 6, "runs by the new leader", self.logs)

        # A leader frozen past its session (SIGSTOP: a long pause, as a VM
        # migration or swap storm) is replaced; woken up, it stands by at
        # once instead of scheduling next to the new leader.
        c = self.start("C", config)
        other.proc.send_signal(signal.SIGSTOP)
        try:
            wait_for(lambda: "became leader" in c.log(), SESSION_S + 5, "C to take over",
                     self.logs)
        finally:
            other.proc.send_signal(signal.SIGCONT)
        text = other.log()
        wait_for(lambda: other.log().rfind("lost leadership") > other.log().rfind("became leader"),
                 5, "the woken leader to stand by", self.logs)
        time.sleep(2)  # it must not come back: C's candidate is older now
        self.assertEqual(other.log().count("became leader"), text.count("became leader"),
                         self.logs())
        self.assertEqual(c.log().count("lost leadership"), 0, self.logs())
        print("stood by %.1f s after ZooKeeper stopped; handover %.1f s" % (stood, handover))


if __name__ == "__main__":
    unittest.main(verbosity=2)

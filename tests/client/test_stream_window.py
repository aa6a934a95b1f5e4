# test_stream_window.py — `spate stream` windows end to end: users
# (confluent_kafka) → spate broker → two window jobs in one spate stream
# process → spate cql (read back with python3-cassandra), compared with
# counts computed here from the records produced.
#
#   Window.test_1_counts_kill9
#       N users (one partition) with event times we control (10 minutes,
#       out of order by up to the watermark delay), nationality derived by a
#       transform from `nat`, a few without gender; job "per_minute": 1-minute
#       tumbling windows grouped by (nationality, gender); job "hopping":
#       1-minute windows every 20 s. The users arrive over ~5 s; the
#       process is killed (-9) twice while it counts and restarted; once every record is committed, one record
#       far in the future moves the watermark past every window; both
#       tables == the counts computed in Python, exactly (no row missing,
#       none extra, no double counting)
#   Window.test_2_late_records
#       records for windows already closed go to each job's dead-letter
#       topic with spate.error "late"; the tables do not change
#   Window.test_3_three_partitions
#       3000 users over 3 partitions (each partition its own watermark and
#       checkpoint row; windows close mid-stream), kill -9 at a third,
#       restart: every partition's row restored; one far record per
#       partition closes the rest; exact counts
#   Window.test_4_window_and_own_sink
#       a job with a window and a CQL sink of its own over 3 partitions,
#       3000 users, kill -9 at a third, restart: the window table == the
#       counts computed here and the job's own table holds every distinct
#       user once (each record is settled by both before its offset is
#       committed)
#   Window.test_5_scale_out
#       three processes in one group over 6 partitions count all N users;
#       one is killed (-9) once a third is committed; the other two take
#       its partitions over (loading their checkpoint rows) and the table
#       == the counts computed here: each window's row is the sum of the
#       partitions' partial counts, none lost or counted twice; the
#       partials carry the default retention (7 days) as their TTL
#   Window.test_6_older_checkpoint_refused
#       a checkpoint row in the older one-row-per-job format stops the job
#       (exit 1) with an error naming the way out

# Every server runs from $SPATE on a free loopback port with its data under
# a temp dir and is stopped by pid (tearDownModule kills what is left).
# KEEP_TMP=1 keeps the temp dir.
import calendar
import datetime
import json
import logging
import os
import random
import re
import sys
import threading
import time
import unittest
import uuid

from cassandra.cluster import Cluster
from confluent_kafka.admin import AdminClient, NewTopic

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from streamtest import (BROKER_RE, CQL_RE, SPATE, TMPDIR, Processor, log,  # noqa: E402,F401
                        start_server, tearDownModule)
import streamtest  # noqa: E402

N = 6000
PARTS = 1  # one partition: the watermark then does not depend on how
# partitions interleave, so windows can close mid-stream (DELAY < SPAN)
TOPIC = "win_users"
T0 = calendar.timegm((2024, 5, 1, 12, 0, 0)) * 1000  # epoch ms
SPAN = 10 * 60 * 1000  # event times in [T0, T0 + SPAN)
DELAY = 3 * 60 * 1000  # watermark delay: more than any disorder below
NATS = ["AU", "BR", "CA", "CH", "DE", "FR", "GB", "NZ"]
logging.basicConfig(level=logging.ERROR)


def iso(ms):
    dt = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ms % 1000)


def to_ms(v):
    """A CQL timestamp (naive UTC datetime) or bigint as epoch ms."""
    if isinstance(v, datetime.datetime):
        return calendar.timegm(v.timetuple()) * 1000 + v.microsecond // 1000
    return int(v)


# (the tests' consumer groups: win_<job>)
JOB = streamtest.JOB_SOURCE + """\
      transform:
        - map:
            set:
              nationality: "{{nat}}"
            drop: [nat]
      dead_letter:
        topic: {job}_dlq
      delivery:
        max_in_flight: 800
        commit_interval_ms: 150
      window:
{window}
          watermark_delay: {delay}
          group_by: [nationality, gender]
          aggregate: count
          sink:
            cql:
              contact_points: [127.0.0.1:{cql_port}]
              keyspace: stats
              table: {table}
              create: true
"""

TUMBLING = """          type: tumbling
          time: registered.date
          size: 1m"""
HOPPING = """          type: hopping
          time: registered.date
          size: 1m
          hop: 20s"""


class Window(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.broker, cls.bport, _ = start_server(
            "broker", ["broker", "--listen", "127.0.0.1:0", "--data-dir",
                       os.path.join(TMPDIR, "broker-data")], BROKER_RE)
        cls.cql, cls.cport, _ = start_server(
            "cql", ["cql", "--listen", "127.0.0.1:0", "--data-dir",
                    os.path.join(TMPDIR, "cql-data")], CQL_RE)
        cls.bootstrap = f"127.0.0.1:{cls.bport}"
        cls.cluster = Cluster(["127.0.0.1"], port=cls.cport)
        admin = AdminClient({"bootstrap.servers": cls.bootstrap})
        admin.create_topics([NewTopic(TOPIC, num_partitions=PARTS, replication_factor=1)])[
            TOPIC].result(10)
        # Users with event times spread over SPAN, produced in an order
        # that is out of event-time order by less than DELAY.
        rnd = random.Random(5)
        users = []
        for i in range(N):
            t = T0 + i * SPAN // N + rnd.randrange(0, 60000)
            t = min(t, T0 + SPAN - 1)
            u = {"id": str(uuid.UUID(int=rnd.getrandbits(128))), "nat": rnd.choice(NATS),
                 "gender": rnd.choice(["female", "male"]),
                 "registered": {"date": iso(t), "age": 3}}
            if i % 500 == 7:
                u["gender"] = None  # counted under ""
            users.append((t, u))
        cls.users = users
        cls.config = os.path.join(TMPDIR, "windows.yaml")
        with open(cls.config, "w") as f:
            f.write("log_level: info\nstream:\n  jobs:\n")
            for job, table, window in (("per_minute", "users_per_minute", TUMBLING),
                                       ("hopping", "users_hopping", HOPPING)):
                f.write(JOB.format(job=job, bootstrap=cls.bootstrap, topic=TOPIC,
                                   group="win_" + job, cql_port=cls.cport, table=table,
                                   window=window, delay="3m"))

    @classmethod
    def tearDownClass(cls):
        cls.cluster.shutdown()

    # ---- helpers ----

    def produce(self, records, partition=None, topic=TOPIC):
        unflushed, failed = streamtest.produce(
            self.bootstrap, topic,
            ((u["id"].encode(), json.dumps(u).encode(), partition) for u in records), 5, 500)
        self.assertEqual(unflushed, 0)
        self.assertEqual(failed, [])

    def offsets(self, group, topic=TOPIC, parts=PARTS):
        return streamtest.offsets(self.bootstrap, topic, group, parts)

    def wait_caught_up(self, proc, timeout=40, groups=("win_per_minute", "win_hopping"),
                       topic=TOPIC, parts=PARTS):
        deadline = time.monotonic() + timeout
        for group in groups:
            while True:
                committed, end = self.offsets(group, topic, parts)
                if committed == end:
                    break
                self.assertTrue(proc.alive(), "spate stream exited:\n" + proc.log_text())
                if time.monotonic() > deadline:
                    self.fail(f"{group}: committed {committed} != end {end}\n"
                              + proc.log_text()[-4000:])
                time.sleep(0.1)

    def table(self, name):
        s = self.cluster.connect()
        try:
            rows = s.execute(f"SELECT window_start, window_end, nationality, gender, count "
                             f"FROM stats.{name}")
            got = {}
            for r in rows:
                k = (to_ms(r.window_start), r.nationality, r.gender)
                self.assertNotIn(k, got)
                got[k] = (to_ms(r.window_end), r.count)
            return got
        finally:
            s.shutdown()

    @staticmethod
    def expected(users, size, hop):
        want = {}
        for t, u in users:
            last = t // hop * hop
            for k in range(size // hop):
                start = last - k * hop
                key = (start, u["nat"], u["gender"] or "")
                end, c = want.get(key, (start + size, 0))
                want[key] = (end, c + 1)
        return want

    def dlq(self, topic):
        return streamtest.read_dlq(self.bootstrap, topic)

    def compare(self, name, size, hop, users=None):
        users = users or self.users
        got = self.table(name)
        want = self.expected(users, size, hop)
        missing = {k: v for k, v in want.items() if got.get(k) != v}
        extra = {k: v for k, v in got.items() if k not in want}
        self.assertEqual(missing, {}, f"{name}: rows wrong or missing (expected values)")
        self.assertEqual(extra, {}, f"{name}: rows not expected")
        self.assertEqual(sum(c for _, c in got.values()), len(users) * (size // hop))
        return got

    def feeder(self, users, topic, batch=300, pause=0.1):
        """Starts producing `users` in batches on a thread; returns the
        thread and the list its errors land in."""
        errors = []

        def feed():
            try:
                for i in range(0, len(users), batch):
                    self.produce([u for _, u in users[i:i + batch]], topic=topic)
                    time.sleep(pause)
            except Exception as e:  # reported by the main thread
                errors.append(e)
        t = threading.Thread(target=feed)
        t.start()
        return t, errors

    def job_file(self, job, parts, table, own_sink=""):
        """A new topic win_<job> of `parts` partitions and a config running
        one tumbling window job `job` (group win_<job>) on it into `table`;
        returns (config path, topic, group)."""
        topic = group = "win_" + job
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        admin.create_topics([NewTopic(topic, num_partitions=parts, replication_factor=1)])[
            topic].result(10)
        config = os.path.join(TMPDIR, job + ".yaml")
        text = JOB.format(job=job, bootstrap=self.bootstrap, topic=topic, group=group,
                          cql_port=self.cport, table=table, window=TUMBLING, delay="3m")
        with open(config, "w") as f:
            f.write("log_level: info\nstream:\n  jobs:\n")
            f.write(text.replace("      window:\n", own_sink + "      window:\n", 1))
        return config, topic, group

    def feed_kill9_restart(self, config, topic, group, parts, users):
        """Produces `users` in batches of 300 while a processor of `config`
        runs; kills it (-9) once a third is committed and starts it again;
        returns the new processor once it has caught up."""
        feeder, errors = self.feeder(users, topic)
        proc = Processor(config)
        try:
            deadline = time.monotonic() + 30
            while sum(self.offsets(group, topic, parts)[0]) < len(users) / 3:
                self.assertTrue(proc.alive(), proc.log_text())
                self.assertLess(time.monotonic(), deadline, proc.log_text()[-4000:])
                time.sleep(0.01)
            proc.kill9()
            proc = Processor(config)
        finally:
            feeder.join()
        self.assertEqual(errors, [])
        self.wait_caught_up(proc, groups=(group,), topic=topic, parts=parts)
        return proc

    # ---- tests ----

    def test_1_counts_kill9(self):
        # The users arrive over about 5 s while the process counts; it is
        # killed (-9) when a quarter and when 55 % are committed, and
        # restarted at once.
        feeder, errors = self.feeder(self.users, TOPIC, 200, 0.15)
        kills = 0
        proc = Processor(self.config)
        try:
            for frac in (0.25, 0.55):
                deadline = time.monotonic() + 30
                while True:
                    c1 = sum(self.offsets("win_per_minute")[0])
                    c2 = sum(self.offsets("win_hopping")[0])
                    if min(c1, c2) >= N * frac:
                        break
                    self.assertTrue(proc.alive(), proc.log_text())
                    self.assertLess(time.monotonic(), deadline, proc.log_text()[-4000:])
                    time.sleep(0.01)
                proc.kill9()
                kills += 1
                log(f"kill -9 with {c1}, {c2} of {N} committed, "
                    f"{sum(self.offsets('win_per_minute')[1])} produced")
                proc = Processor(self.config)
        finally:
            feeder.join()
        self.assertEqual(errors, [])
        self.wait_caught_up(proc)
        # one record far in the future closes every window of the users
        far = {"id": str(uuid.UUID(int=1)), "nat": "ZZ", "gender": "x",
               "registered": {"date": iso(T0 + 86400000)}}
        self.produce([far], partition=0)
        self.wait_caught_up(proc)
        deadline = time.monotonic() + 10
        while True:  # rows are written at the checkpoint that covers the far record
            try:
                self.compare("users_per_minute", 60000, 60000)
                self.compare("users_hopping", 60000, 20000)
                break
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        txt = proc.log_text()
        self.assertIn("window checkpoint restored", txt)
        log(f"tumbling and hopping tables == counts computed here ({N} users, "
            f"{len(self.table('users_per_minute'))} + {len(self.table('users_hopping'))} rows) "
            f"after {kills} kill -9")
        Window.proc = proc

    def test_2_late_records(self):
        proc = Window.proc
        before = (self.table("users_per_minute"), self.table("users_hopping"))
        late = [{"id": str(uuid.UUID(int=100 + i)), "nat": "FR", "gender": "female",
                 "registered": {"date": iso(T0 + i * 1000)}} for i in range(5)]
        self.produce(late)
        self.wait_caught_up(proc)
        for job in ("per_minute", "hopping"):
            msgs = self.dlq(f"{job}_dlq")
            reasons = [dict(m.headers())["spate.error"].decode() for m in msgs]
            self.assertEqual(reasons, ["late"] * 5, job)
            self.assertEqual(sorted(m.value() for m in msgs),
                             sorted(json.dumps(u).encode() for u in late))
        self.assertEqual((self.table("users_per_minute"), self.table("users_hopping")), before)
        proc.stop()
        log("late records: 5 per job in the dead-letter topic with reason 'late', tables unchanged")
        for m in re.finditer(r"job (\w+): window: (\d+) late, (\d+) skipped", proc.log_text()):
            log(f"{m.group(1)}: {m.group(2)} late, {m.group(3)} skipped after the last restart "
                "(counted before the kill, beyond the committed offset)")

    def far_everywhere(self, topic, parts, n):
        """One record far in the future in every partition: each partition's
        watermark passes every window of the users."""
        for p in range(parts):
            far = {"id": str(uuid.UUID(int=n * 100 + p)), "nat": "ZZ", "gender": "x",
                   "registered": {"date": iso(T0 + 86400000)}}
            self.produce([far], partition=p, topic=topic)

    def restored(self, text):
        """{src: next offset} of the 'window checkpoint restored' lines."""
        return {m.group(1): int(m.group(2)) for m in re.finditer(
            r"window checkpoint restored for (\S+): .*next offset (\d+)", text)}

    def test_3_three_partitions(self):
        # Three partitions, each with its own watermark (delay 3 m: windows
        # close mid-stream in each) and its own checkpoint row. Killed (-9)
        # at a third, restarted; exact counts once every partition passed
        # every window.
        parts = 3
        config, topic, group = self.job_file("multi", parts, "users_multi")
        users = self.users[:3000]
        proc = self.feed_kill9_restart(config, topic, group, parts, users)
        self.far_everywhere(topic, parts, 2)
        self.wait_caught_up(proc, groups=(group,), topic=topic, parts=parts)
        got = self.compare_soon("users_multi", users)
        restored = self.restored(proc.log_text())
        self.assertEqual(sorted(restored), [f"{topic}/{p}" for p in range(parts)],
                         proc.log_text()[-4000:])
        proc.stop()
        log(f"3 partitions, kill -9 at a third: {len(got)} rows == counts computed here; "
            f"restored offsets {restored}")

    def compare_soon(self, name, users, size=60000, hop=60000, timeout=10):
        """compare() until it holds: a window's sum is written at the
        checkpoint that covers the last partition's far record."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.compare(name, size, hop, users)
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def test_4_window_and_own_sink(self):
        # The window counts and the job's own sink stores every record: an
        # offset is committed only once both are durable, so a kill -9
        # leaves neither a count nor a row behind.
        parts = 3
        s = self.cluster.connect()
        try:
            s.execute("CREATE TABLE IF NOT EXISTS stats.users_both (id uuid PRIMARY KEY, "
                      "nationality text, gender text, registered text)")
        finally:
            s.shutdown()
        own_sink = f"""      sink:
        cql:
          contact_points: [127.0.0.1:{self.cport}]
          keyspace: stats
          table: users_both
"""
        config, topic, group = self.job_file("both", parts, "users_both_counts", own_sink)
        users = self.users[3000:]
        proc = self.feed_kill9_restart(config, topic, group, parts, users)
        self.far_everywhere(topic, parts, 3)
        self.wait_caught_up(proc, groups=(group,), topic=topic, parts=parts)
        got = self.compare_soon("users_both_counts", users)
        s = self.cluster.connect()
        try:
            rows = list(s.execute("SELECT id, nationality, gender FROM stats.users_both"))
        finally:
            s.shutdown()
        want = {u["id"]: (u["nat"], u["gender"]) for _, u in users}
        for p in range(parts):
            want[str(uuid.UUID(int=300 + p))] = ("ZZ", "x")
        self.assertEqual({str(r.id): (r.nationality, r.gender) for r in rows}, want)
        self.assertIn("window checkpoint restored", proc.log_text())
        proc.stop()
        # the restarted process's final line: every record in went out
        # through the job's own sink, none failed (nothing dead-lettered)
        last = re.findall(r"job both: in (\d+) out (\d+) dropped 0 failed (\d+) "
                          r"dead-lettered (\d+)", proc.log_text())
        self.assertTrue(last, proc.log_text()[-3000:])
        n_in, n_out, failed, dead = map(int, last[-1])
        self.assertEqual((n_out, failed, dead), (n_in, 0, 0))
        log(f"window + own sink, 3 partitions, kill -9 at a third: {len(got)} count rows == "
            f"counts computed here, {len(rows)} rows == distinct users, no dead letter")

    def test_5_scale_out(self):
        # Three processes in one group split 6 partitions; each partition is
        # counted where it is assigned. One process is killed (-9) at a
        # third; its partitions move to the other two (after the session
        # timeout), which load their checkpoint rows and go on.
        parts = 6
        config, topic, group = self.job_file("scale", parts, "users_scale")
        users = self.users
        procs = [Processor(config) for _ in range(3)]
        try:
            # every process has its share before the users arrive
            deadline = time.monotonic() + 30
            while sum("assigned" in p.log_text() for p in procs) < 3:
                self.assertLess(time.monotonic(), deadline,
                                "\n".join(p.log_text()[-2000:] for p in procs))
                time.sleep(0.05)
            feeder, errors = self.feeder(users, topic)
            try:
                deadline = time.monotonic() + 30
                while sum(self.offsets(group, topic, parts)[0]) < len(users) / 3:
                    for p in procs:
                        self.assertTrue(p.alive(), p.log_text()[-4000:])
                    self.assertLess(time.monotonic(), deadline, procs[0].log_text()[-4000:])
                    time.sleep(0.01)
                victim = procs.pop(1)
                victim.kill9()
            finally:
                feeder.join()
            self.assertEqual(errors, [])
            self.wait_caught_up(procs[0], timeout=60, groups=(group,), topic=topic, parts=parts)
            self.far_everywhere(topic, parts, 5)
            self.wait_caught_up(procs[0], timeout=30, groups=(group,), topic=topic, parts=parts)
            got = self.compare_soon("users_scale", users)
            # the survivors took the victim's partitions over from its rows
            taken = {}
            for p in procs:
                taken.update(self.restored(p.log_text()))
            self.assertTrue(taken, "no survivor restored a checkpoint row:\n"
                            + procs[0].log_text()[-3000:])
            s = self.cluster.connect()
            try:
                rows = [r for r in s.execute(
                    "SELECT src, TTL(count) AS ttl FROM stats.spate_window_partials")
                    if r.src.startswith(topic + "/")]
            finally:
                s.shutdown()
            srcs = {r.src for r in rows}
            self.assertEqual(srcs, {f"{topic}/{p}" for p in range(parts)})
            # written with the default retention (7 days) as their TTL
            ttls = {r.ttl for r in rows}
            self.assertTrue(all(t is not None and 7 * 86400 - 3600 < t <= 7 * 86400
                                for t in ttls), ttls)
        finally:
            for p in procs:
                p.stop()
        log(f"3 processes over {parts} partitions, one killed -9 at a third: {len(got)} rows == "
            f"counts computed here (sums of {len(srcs)} partitions' partials); survivors "
            f"restored {sorted(taken)}")

    def test_6_older_checkpoint_refused(self):
        # A checkpoint row of the one-row-per-job format cannot be split
        # into partitions: the job stops with an error saying what to do,
        # instead of counting afresh behind the user's back.
        config, topic, group = self.job_file("legacy", 1, "users_legacy")
        s = self.cluster.connect()
        try:
            s.execute("CREATE TABLE IF NOT EXISTS stats.spate_window_state "
                      "(id text PRIMARY KEY, state blob)")
            s.execute("INSERT INTO stats.spate_window_state (id, state) VALUES (%s, %s)",
                      (f"{group}/legacy", b"SWN1"))
        finally:
            s.shutdown()
        proc = Processor(config)
        rc = proc.proc.wait(timeout=60)
        txt = proc.log_text()
        self.assertEqual(rc, 1, txt[-3000:])
        self.assertIn(f"holds checkpoint {group}/legacy of an older spate", txt)
        self.assertIn("new consumer group and TRUNCATE stats.users_legacy", txt)
        log("a checkpoint row of the older one-row-per-job format: exit 1, "
            "'... new consumer group and TRUNCATE ...'")


if __name__ == "__main__":
    unittest.main(verbosity=2)

# test_cql_write.py — the write path of `spate cql` (INSERT, UPDATE, DELETE,
# BATCH, TRUNCATE, lightweight transactions, counters) through
# python3-cassandra 3.25, the DataStax driver (Debian's package, seen only
# by /usr/bin/python3). What was written is read back with SELECT through
# the same driver.
#
#   Writes       one server for the class, one session (protocol v4):
#                upserts and last-write-wins by USING TIMESTAMP and by the
#                driver's client timestamps; TTL (ttl(), expiry, the
#                table's default_time_to_live); null vs UNSET_VALUE in
#                prepared statements; set / map / list operations; DELETE
#                of columns, elements, rows, clustering ranges and
#                partitions; static columns; counters (statements and a
#                counter batch); IF NOT EXISTS / IF EXISTS / IF c = v with
#                the driver's was_applied and the returned row; logged,
#                unlogged and conditional BatchStatements (atomic: a bad
#                statement writes nothing); now() / uuid() /
#                toTimestamp(now()); TRUNCATE; Cassandra's error messages
#
# The server is `spate cql` from $SPATE on a free loopback port with a data
# directory under TMPDIR, stopped by its pid (tearDownModule kills whatever
# is left). KEEP_TMP=1 keeps the directory and the log.
import datetime
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

from cassandra import InvalidRequest
from cassandra.cluster import Cluster
from cassandra.query import (UNSET_VALUE, BatchStatement, BatchType, SimpleStatement)

SPATE = os.environ.get("SPATE")
if not SPATE:
    sys.exit("SPATE must name the spate binary")

PORT_RE = re.compile(r"listening on 127\.0\.0\.1:(\d+) \(CQL")
TMPDIR = tempfile.mkdtemp(prefix="spate_cql_write_")
STARTED = []  # every Popen this file started; only these are ever signalled

logging.basicConfig(level=logging.ERROR)


def tearDownModule():
    for proc in STARTED:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if os.environ.get("KEEP_TMP"):
        print(f"kept {TMPDIR}", file=sys.stderr)
    else:
        shutil.rmtree(TMPDIR, ignore_errors=True)


def log(msg):
    print("    checked: " + msg, flush=True)


class CqlServer:
    """One `spate cql` process on a free port."""

    def __init__(self, name):
        self.data_dir = os.path.join(TMPDIR, name + "-data")
        self.log_path = os.path.join(TMPDIR, name + ".log")
        self.proc = None
        self.port = None

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def start(self, timeout=15.0):
        with open(self.log_path, "wb") as logf:
            self.proc = subprocess.Popen(
                [SPATE, "cql", "--listen", "127.0.0.1:0", "--data-dir", self.data_dir],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=logf)
        STARTED.append(self.proc)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = PORT_RE.search(self.log_text())
            if m:
                self.port = int(m.group(1))
                return self
            if self.proc.poll() is not None:
                raise AssertionError(f"spate cql exited {self.proc.returncode}:\n"
                                     + self.log_text())
            time.sleep(0.05)
        raise AssertionError("spate cql did not report its port:\n" + self.log_text())

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Writes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = CqlServer("writes").start()
        cls.cluster = Cluster(["127.0.0.1"], port=cls.server.port, protocol_version=4,
                              connect_timeout=10)
        cls.s = cls.cluster.connect()
        cls.s.default_timeout = 30
        cls.s.execute("CREATE KEYSPACE w WITH replication = "
                      "{'class': 'SimpleStrategy', 'replication_factor': 1}")
        cls.s.set_keyspace("w")

    @classmethod
    def tearDownClass(cls):
        cls.cluster.shutdown()
        cls.server.stop()
        if cls.server.proc.returncode not in (0, -signal.SIGTERM):
            raise AssertionError(f"spate cql exited {cls.server.proc.returncode}:\n"
                                 + cls.server.log_text())

    def one(self, q, *args):
        rows = list(self.s.execute(q, args or None))
        return rows[0] if rows else None

    def invalid(self, q, msg, args=None):
        with self.assertRaises(InvalidRequest) as cm:
            self.s.execute(q, args)
        self.assertIn(msg, str(cm.exception))

    # ---- upserts and timestamps ----

    def test_upsert_lww(self):
        s = self.s
        s.execute("CREATE TABLE lww (k int PRIMARY KEY, v text)")
        s.execute("INSERT INTO lww (k, v) VALUES (1, 'a') USING TIMESTAMP 1000")
        s.execute("INSERT INTO lww (k, v) VALUES (1, 'old') USING TIMESTAMP 999")
        row = self.one("SELECT v, writetime(v) FROM lww WHERE k = 1")
        self.assertEqual(row.v, "a")
        self.assertEqual(row.writetime_v, 1000)
        s.execute("UPDATE lww USING TIMESTAMP 2000 SET v = 'b' WHERE k = 1")
        self.assertEqual(self.one("SELECT v FROM lww WHERE k = 1").v, "b")
        # A prepared INSERT: the driver sends its own client timestamp.
        ins = s.prepare("INSERT INTO lww (k, v) VALUES (?, ?)")
        before = int(time.time() * 1e6)
        s.execute(ins, (2, "x"))
        wt = self.one("SELECT writetime(v) AS wt FROM lww WHERE k = 2").wt
        self.assertTrue(before - 5_000_000 <= wt <= int(time.time() * 1e6) + 5_000_000, wt)
        st = SimpleStatement("INSERT INTO lww (k, v) VALUES (3, 'z')")
        st.timestamp = None
        s.execute("INSERT INTO lww (k, v) VALUES (3, 'z') USING TIMESTAMP 5")
        s.execute("INSERT INTO lww (k, v) VALUES (3, 'y') USING TIMESTAMP 4")
        self.assertEqual(self.one("SELECT v FROM lww WHERE k = 3").v, "z")
        log("upserts ordered by USING TIMESTAMP and client timestamps")

    def test_ttl(self):
        s = self.s
        s.execute("CREATE TABLE ttl (k int PRIMARY KEY, v int, w int) "
                  "WITH default_time_to_live = 1000")
        s.execute("INSERT INTO ttl (k, v) VALUES (1, 1) USING TTL 100")
        t = self.one("SELECT ttl(v) AS t FROM ttl WHERE k = 1").t
        self.assertTrue(95 <= t <= 100, t)
        s.execute("INSERT INTO ttl (k, w) VALUES (2, 2)")
        t = self.one("SELECT ttl(w) AS t FROM ttl WHERE k = 2").t
        self.assertTrue(990 <= t <= 1000, t)
        s.execute("INSERT INTO ttl (k, w) VALUES (3, 3) USING TTL 0")
        self.assertIsNone(self.one("SELECT ttl(w) AS t FROM ttl WHERE k = 3").t)
        s.execute("INSERT INTO ttl (k, v) VALUES (4, 4) USING TTL 1")
        time.sleep(2.2)
        self.assertIsNone(self.one("SELECT * FROM ttl WHERE k = 4"))
        self.invalid("INSERT INTO ttl (k, v) VALUES (5, 5) USING TTL -1",
                     "A TTL must be greater or equal to 0, but was -1")
        self.invalid("INSERT INTO ttl (k, v) VALUES (5, 5) USING TTL 630720001",
                     "ttl is too large. requested (630720001) maximum (630720000)")
        log("TTL, default_time_to_live, TTL 0, expiry")

    def test_null_and_unset(self):
        s = self.s
        s.execute("CREATE TABLE nu (k int PRIMARY KEY, a int, b int)")
        ins = s.prepare("INSERT INTO nu (k, a, b) VALUES (?, ?, ?)")
        s.execute(ins, (1, 10, 20))
        s.execute(ins, (1, None, UNSET_VALUE))
        row = self.one("SELECT a, b FROM nu WHERE k = 1")
        self.assertIsNone(row.a)
        self.assertEqual(row.b, 20)
        # INSERT keeps an all-null row alive (its marker); UPDATE does not.
        s.execute("INSERT INTO nu (k, a) VALUES (2, null)")
        self.assertIsNotNone(self.one("SELECT * FROM nu WHERE k = 2"))
        s.execute("UPDATE nu SET a = 1 WHERE k = 3")
        s.execute("DELETE a FROM nu WHERE k = 3")
        self.assertIsNone(self.one("SELECT * FROM nu WHERE k = 3"))
        self.invalid(s.prepare("INSERT INTO nu (k, a) VALUES (?, ?)"),
                     "Invalid null value in condition for column k", (None, 1))
        log("null writes a tombstone, unset writes nothing, UPDATE has no row marker")

    # ---- collections ----

    def test_collections(self):
        s = self.s
        s.execute("CREATE TABLE coll (k int PRIMARY KEY, s set<text>, m map<text, int>, "
                  "l list<int>, f frozen<set<int>>)")
        s.execute("INSERT INTO coll (k, s, m, l, f) VALUES (1, {'b', 'a'}, {'x': 1}, [1, 2], "
                  "{3, 1, 2})")
        s.execute("UPDATE coll SET s = s + {'c'}, m['y'] = 2, l = l + [3] WHERE k = 1")
        s.execute("UPDATE coll SET s = s - {'a'}, m = m - {'x'}, l = [0] + l WHERE k = 1")
        row = self.one("SELECT s, m, l, f FROM coll WHERE k = 1")
        self.assertEqual(sorted(row.s), ["b", "c"])
        self.assertEqual(dict(row.m), {"y": 2})
        self.assertEqual(list(row.l), [0, 1, 2, 3])
        self.assertEqual(sorted(row.f), [1, 2, 3])
        s.execute("UPDATE coll SET l[1] = 10 WHERE k = 1")
        s.execute("DELETE l[0], m['y'] FROM coll WHERE k = 1")
        s.execute("UPDATE coll SET l = l - [3] WHERE k = 1")
        row = self.one("SELECT m, l FROM coll WHERE k = 1")
        self.assertEqual(list(row.l), [10, 2])
        self.assertIsNone(row.m)
        ins = s.prepare("UPDATE coll SET s = ? WHERE k = ?")
        s.execute(ins, ({"only"}, 1))
        self.assertEqual(set(self.one("SELECT s FROM coll WHERE k = 1").s), {"only"})
        self.invalid("UPDATE coll SET l[7] = 1 WHERE k = 1",
                     "List index 7 out of bound, list has size 2")
        log("set add/remove, map put/remove, list append/prepend/index/remove, overwrite")

    # ---- deletes ----

    def test_deletes(self):
        s = self.s
        s.execute("CREATE TABLE del (k int, c int, v int, w int, PRIMARY KEY (k, c))")
        ins = s.prepare("INSERT INTO del (k, c, v, w) VALUES (?, ?, ?, ?)")
        for k in (1, 2):
            for c in range(10):
                s.execute(ins, (k, c, c, c))
        s.execute("DELETE v FROM del WHERE k = 1 AND c = 0")
        s.execute("DELETE FROM del WHERE k = 1 AND c = 1")
        s.execute("DELETE FROM del WHERE k = 1 AND c >= 7")
        s.execute("DELETE FROM del WHERE k = 1 AND c > 2 AND c <= 4")
        rows = list(s.execute("SELECT c, v, w FROM del WHERE k = 1"))
        self.assertEqual([r.c for r in rows], [0, 2, 5, 6])
        self.assertIsNone(rows[0].v)
        self.assertEqual(rows[0].w, 0)
        s.execute("DELETE FROM del WHERE k = 1")
        self.assertEqual(list(s.execute("SELECT * FROM del WHERE k = 1")), [])
        self.assertEqual(len(list(s.execute("SELECT * FROM del WHERE k = 2"))), 10)
        self.invalid("DELETE v FROM del WHERE k = 2",
                     "DELETE statements must restrict all PRIMARY KEY columns with equality "
                     "relations in order to delete non static columns")
        self.invalid("DELETE v FROM del WHERE k = 2 AND c > 1",
                     "Range deletions are not supported for specific columns")
        log("column, row, range and partition deletions")

    def test_static(self):
        s = self.s
        s.execute("CREATE TABLE st (k int, c int, s text static, v int, PRIMARY KEY (k, c))")
        s.execute("INSERT INTO st (k, s) VALUES (1, 'shared')")
        s.execute("INSERT INTO st (k, c, v) VALUES (1, 1, 1)")
        s.execute("INSERT INTO st (k, c, v) VALUES (1, 2, 2)")
        rows = list(s.execute("SELECT c, s, v FROM st WHERE k = 1"))
        self.assertEqual([(r.c, r.s) for r in rows], [(1, "shared"), (2, "shared")])
        s.execute("UPDATE st SET s = 'new' WHERE k = 1")
        self.assertEqual({r.s for r in s.execute("SELECT s FROM st WHERE k = 1")}, {"new"})
        self.invalid("UPDATE st SET s = 'x' WHERE k = 1 AND c = 1",
                     "Invalid restrictions on clustering columns since the UPDATE statement "
                     "modifies only static columns")
        log("static columns written at the partition level")

    # ---- counters ----

    def test_counters(self):
        s = self.s
        s.execute("CREATE TABLE ctr (k int PRIMARY KEY, n counter)")
        s.execute("UPDATE ctr SET n = n + 5 WHERE k = 1")
        s.execute("UPDATE ctr SET n = n - 2 WHERE k = 1")
        inc = s.prepare("UPDATE ctr SET n = n + ? WHERE k = ?")
        s.execute(inc, (10, 1))
        b = BatchStatement(batch_type=BatchType.COUNTER)
        b.add(inc, (100, 1))
        b.add(inc, (1000, 1))
        b.add(inc, (1, 2))
        s.execute(b)
        self.assertEqual(self.one("SELECT n FROM ctr WHERE k = 1").n, 1113)
        self.assertEqual(self.one("SELECT n FROM ctr WHERE k = 2").n, 1)
        self.invalid("INSERT INTO ctr (k, n) VALUES (3, 1)",
                     "INSERT statements are not allowed on counter tables, use UPDATE instead")
        self.invalid("UPDATE ctr SET n = 1 WHERE k = 1",
                     "Cannot set the value of counter column n (counters can only be "
                     "incremented/decremented, not set)")
        bad = BatchStatement(batch_type=BatchType.LOGGED)
        bad.add(inc, (1, 1))
        self.invalid(bad, "Cannot include a counter statement in a logged batch")
        log("counter increments, decrements and a counter batch")

    # ---- lightweight transactions ----

    def test_lwt(self):
        s = self.s
        s.execute("CREATE TABLE lwt (k int, c int, v text, PRIMARY KEY (k, c))")
        r = s.execute("INSERT INTO lwt (k, c, v) VALUES (1, 1, 'a') IF NOT EXISTS")
        self.assertTrue(r.was_applied)
        r = s.execute("INSERT INTO lwt (k, c, v) VALUES (1, 1, 'b') IF NOT EXISTS")
        self.assertFalse(r.was_applied)
        row = r.one()
        self.assertEqual((row.k, row.c, row.v), (1, 1, "a"))
        r = s.execute("UPDATE lwt SET v = 'c' WHERE k = 1 AND c = 1 IF v = 'zzz'")
        self.assertFalse(r.was_applied)
        self.assertEqual(r.one().v, "a")
        self.assertTrue(s.execute("UPDATE lwt SET v = 'c' WHERE k = 1 AND c = 1 IF v = 'a'")
                        .was_applied)
        self.assertFalse(s.execute("UPDATE lwt SET v = 'x' WHERE k = 1 AND c = 9 IF EXISTS")
                         .was_applied)
        self.assertTrue(s.execute("DELETE FROM lwt WHERE k = 1 AND c = 1 IF EXISTS").was_applied)
        self.assertFalse(s.execute("DELETE FROM lwt WHERE k = 1 AND c = 1 IF EXISTS").was_applied)
        # Prepared, with markers in the condition.
        upd = s.prepare("UPDATE lwt SET v = ? WHERE k = ? AND c = ? IF v = ?")
        s.execute("INSERT INTO lwt (k, c, v) VALUES (2, 1, 'p')")
        self.assertTrue(s.execute(upd, ("q", 2, 1, "p")).was_applied)
        self.assertFalse(s.execute(upd, ("r", 2, 1, "p")).was_applied)
        # A conditional batch: all or nothing.
        b = BatchStatement()
        b.add(SimpleStatement("INSERT INTO lwt (k, c, v) VALUES (2, 2, 'new') IF NOT EXISTS"))
        b.add(SimpleStatement("UPDATE lwt SET v = 'x' WHERE k = 2 AND c = 1 IF v = 'nope'"))
        self.assertFalse(s.execute(b).was_applied)
        self.assertIsNone(self.one("SELECT * FROM lwt WHERE k = 2 AND c = 2"))
        self.invalid("UPDATE lwt USING TIMESTAMP 5 SET v = 'a' WHERE k = 1 AND c = 1 IF EXISTS",
                     "Cannot provide custom timestamp for conditional updates")
        log("IF NOT EXISTS / IF EXISTS / IF v = ..., [applied] rows, conditional batch")

    # ---- batches ----

    def test_batch(self):
        s = self.s
        s.execute("CREATE TABLE b1 (k int PRIMARY KEY, v int)")
        s.execute("CREATE TABLE b2 (k int, c int, v int, PRIMARY KEY (k, c))")
        ins1 = s.prepare("INSERT INTO b1 (k, v) VALUES (?, ?)")
        ins2 = s.prepare("INSERT INTO b2 (k, c, v) VALUES (?, ?, ?)")
        b = BatchStatement()
        b.add(ins1, (1, 1))
        b.add(ins2, (1, 2, 3))
        b.add("DELETE FROM b1 WHERE k = %s", (9,))
        s.execute(b)
        self.assertEqual(self.one("SELECT v FROM b1 WHERE k = 1").v, 1)
        self.assertEqual(self.one("SELECT v FROM b2 WHERE k = 1 AND c = 2").v, 3)
        # One bad statement: nothing of the batch is written.
        b = BatchStatement(batch_type=BatchType.UNLOGGED)
        b.add(ins1, (5, 5))
        b.add(SimpleStatement("INSERT INTO b2 (k, v) VALUES (5, 5)"))
        self.invalid(b, "Some clustering keys are missing: c")
        self.assertIsNone(self.one("SELECT * FROM b1 WHERE k = 5"))
        s.execute("BEGIN BATCH INSERT INTO b1 (k, v) VALUES (6, 6); "
                  "UPDATE b1 SET v = 7 WHERE k = 7; APPLY BATCH")
        self.assertEqual(self.one("SELECT v FROM b1 WHERE k = 7").v, 7)
        log("logged, unlogged and text batches; atomic on error")

    def test_batch_warnings(self):
        s = self.s
        s.execute("CREATE TABLE bw (k int PRIMARY KEY, v text)")
        ins = s.prepare("INSERT INTO bw (k, v) VALUES (?, ?)")

        def warnings(b):
            f = s.execute_async(b)
            f.result()
            return f.warnings or []

        b = BatchStatement(batch_type=BatchType.UNLOGGED)
        for i in range(12):
            b.add(ins, (i, "x"))
        self.assertEqual(warnings(b), [
            "Unlogged batch covering 12 partitions detected against table [w.bw]. You should "
            "use a logged batch for atomicity, or asynchronous writes for performance."])
        b = BatchStatement(batch_type=BatchType.UNLOGGED)
        for i in range(10):
            b.add(ins, (i % 3, "x"))
        self.assertEqual(warnings(b), [])  # 3 partitions: under Cassandra's threshold of 10
        b = BatchStatement()
        for i in range(3):
            b.add(ins, (i, "y" * 3000))
        w = warnings(b)
        self.assertEqual(len(w), 1)
        self.assertRegex(w[0], r"^Batch for \[w\.bw\] is of size \d+, exceeding specified "
                               r"threshold of 5120 by \d+\.$")
        b = BatchStatement(batch_type=BatchType.UNLOGGED)
        for i in range(3):  # over 5 KiB but one partition: never warned about (Cassandra 3.6 on)
            b.add(ins, (0, "z" * 3000))
        self.assertEqual(warnings(b), [])
        self.assertEqual(self.one("SELECT count(*) FROM bw").count, 12)
        log("batch warnings: unlogged over 10 partitions, size over 5 KiB over partitions "
            "(none for one partition)")

    # ---- functions, truncate, errors ----

    def test_functions(self):
        s = self.s
        s.execute("CREATE TABLE fn (k int PRIMARY KEY, id uuid, tu timeuuid, ts timestamp)")
        s.execute("INSERT INTO fn (k, id, tu, ts) VALUES (1, uuid(), now(), toTimestamp(now()))")
        row = self.one("SELECT id, tu, ts FROM fn WHERE k = 1")
        self.assertEqual(row.id.version, 4)
        self.assertEqual(row.tu.version, 1)
        now = datetime.datetime.utcnow()
        self.assertLess(abs((row.ts - now).total_seconds()), 60)
        self.invalid("INSERT INTO fn (k, ts) VALUES (2, now())",
                     "Type error: cannot assign result of function system.now (type timeuuid) "
                     "to ts (type timestamp)")
        log("uuid(), now(), toTimestamp(now())")

    def test_truncate(self):
        s = self.s
        s.execute("CREATE TABLE tr (k int PRIMARY KEY, v int)")
        for k in range(5):
            s.execute("INSERT INTO tr (k, v) VALUES (%s, %s)", (k, k))
        s.execute("TRUNCATE tr")
        self.assertEqual(list(s.execute("SELECT * FROM tr")), [])
        log("TRUNCATE")

    def test_errors(self):
        s = self.s
        s.execute("CREATE TABLE er (k int, c int, v int, PRIMARY KEY (k, c))")
        cases = [
            ("INSERT INTO er (k, v) VALUES (1, 1)", "Some clustering keys are missing: c"),
            ("INSERT INTO er (c, v) VALUES (1, 1)", "Some partition key parts are missing: k"),
            ("UPDATE er SET v = 1 WHERE k = 1 AND c = 1 AND v = 1",
             "Non PRIMARY KEY columns found in where clause: v"),
            ("UPDATE er SET nope = 1 WHERE k = 1 AND c = 1", "Undefined column name nope"),
            ("UPDATE er SET k = 1 WHERE k = 1 AND c = 1", "PRIMARY KEY part k found in SET part"),
            ("INSERT INTO er (k, c, v) VALUES (1, 1, 'x')",
             "Invalid STRING constant (x) for \"v\" of type int"),
            ("UPDATE er SET v = 1 WHERE k = 1 AND c > 1",
             "Slice restrictions are not supported on the clustering columns in UPDATE statements"),
        ]
        for q, msg in cases:
            self.invalid(q, msg)
        log(f"{len(cases)} refusals with Cassandra's messages")


if __name__ == "__main__":
    unittest.main(verbosity=2)

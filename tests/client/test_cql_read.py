# test_cql_read.py — the read path of `spate cql` (SELECT on user tables)
# through python3-cassandra 3.25, the DataStax driver (Debian's package,
# seen only by /usr/bin/python3). Data goes in with INSERT through the
# same driver.
#
#   Reads        one server for the class, one session:
#                paging with a small fetch_size over a scan of many
#                partitions, a partition, a reversed slice, an IN and a
#                LIMIT (every row exactly once, in order); token() scans
#                that split the ring into ranges and add up to the table;
#                IN on the partition key (key order, duplicates dropped)
#                and on clustering columns; ORDER BY DESC; ALLOW FILTERING
#                (and the refusal without it); prepared statements paging
#                (EXECUTE with skip_metadata); static columns and
#                collections as the driver decodes them; count(*)
#
# The server is `spate cql` from $SPATE on a free loopback port with a data
# directory under TMPDIR, stopped by its pid (tearDownModule kills whatever
# is left). KEEP_TMP=1 keeps the directory and the log.
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

from cassandra import InvalidRequest
from cassandra.cluster import Cluster
from cassandra.metadata import Murmur3Token
from cassandra.query import SimpleStatement

SPATE = os.environ.get("SPATE")
if not SPATE:
    sys.exit("SPATE must name the spate binary")

PORT_RE = re.compile(r"listening on 127\.0\.0\.1:(\d+) \(CQL")
TMPDIR = tempfile.mkdtemp(prefix="spate_cql_read_")
STARTED = []  # every Popen this file started; only these are ever signalled

logging.basicConfig(level=logging.ERROR)

ALLOW_FILTERING_MSG = (
    "Cannot execute this query as it might involve data filtering and thus may have "
    "unpredictable performance. If you want to execute this query despite the performance "
    "unpredictability, use ALLOW FILTERING")

MIN_TOKEN = -(2 ** 63)
MAX_TOKEN = 2 ** 63 - 1


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


def token(pk_int):
    """The Murmur3 token of an int partition key, as the driver computes it."""
    return Murmur3Token.from_key(pk_int.to_bytes(4, "big", signed=True)).value


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


class Reads(unittest.TestCase):
    NPART = 60  # partitions of `big`; partition p holds p % 5 rows

    @classmethod
    def setUpClass(cls):
        cls.server = CqlServer("reads").start()
        cls.cluster = Cluster(["127.0.0.1"], port=cls.server.port, protocol_version=4)
        cls.s = cls.cluster.connect()
        s = cls.s
        s.execute("CREATE KEYSPACE rd WITH replication = "
                  "{'class': 'SimpleStrategy', 'replication_factor': 1}")
        s.set_keyspace("rd")
        s.execute("CREATE TABLE big (pk int, ck int, v text, PRIMARY KEY (pk, ck))")
        s.execute("CREATE TABLE st (pk int, ck int, s text static, v int, "
                  "PRIMARY KEY (pk, ck))")
        s.execute("CREATE TABLE coll (pk int PRIMARY KEY, l list<int>, m map<text, int>, "
                  "t set<text>)")
        ins = s.prepare("INSERT INTO big (pk, ck, v) VALUES (?, ?, ?)")
        cls.rows = []
        for p in range(cls.NPART):
            for c in range(p % 5):
                s.execute(ins, (p, c, f"v{p}.{c}"))
                cls.rows.append((p, c, f"v{p}.{c}"))
        # the order of a scan: token, then clustering
        cls.rows.sort(key=lambda r: (token(r[0]), r[1]))

    @classmethod
    def tearDownClass(cls):
        cls.cluster.shutdown()
        cls.server.stop()

    def paged(self, query, params=None, fetch_size=3):
        """Every row of a paged query, checking each page's size."""
        stmt = SimpleStatement(query, fetch_size=fetch_size) if isinstance(query, str) else query
        if not isinstance(query, str):
            stmt.fetch_size = fetch_size
        rs = self.s.execute(stmt, params)
        out, pages = [], 0
        while True:
            page = list(rs.current_rows)
            self.assertLessEqual(len(page), fetch_size)
            out.extend(page)
            pages += 1
            if not rs.has_more_pages:
                break
            self.assertEqual(len(page), fetch_size)
            rs.fetch_next_page()
        return out, pages

    def test_scan_paging(self):
        want = [tuple(r) for r in self.rows]
        for fs in (1, 2, 7, 50, 1000):
            got, pages = self.paged("SELECT pk, ck, v FROM big", fetch_size=fs)
            self.assertEqual([tuple(r) for r in got], want)
            self.assertEqual(pages, max(1, -(-len(want) // fs)))
        log(f"a scan of {len(want)} rows in {self.NPART} partitions, fetch_size 1..1000: "
            "every row once, token order")

    def test_partition_and_slices(self):
        got, _ = self.paged("SELECT ck FROM big WHERE pk = 4", fetch_size=1)
        self.assertEqual([r.ck for r in got], [0, 1, 2, 3])
        got, _ = self.paged("SELECT ck FROM big WHERE pk = 4 ORDER BY ck DESC", fetch_size=3)
        self.assertEqual([r.ck for r in got], [3, 2, 1, 0])
        got, _ = self.paged("SELECT ck FROM big WHERE pk = 9 AND ck >= 1 AND ck < 3 "
                            "ORDER BY ck DESC", fetch_size=1)
        self.assertEqual([r.ck for r in got], [2, 1])
        got, _ = self.paged("SELECT ck FROM big WHERE pk = 9 AND ck IN (3, 0, 2)", fetch_size=2)
        self.assertEqual([r.ck for r in got], [0, 2, 3])
        got, _ = self.paged("SELECT ck FROM big WHERE pk = 9 AND ck IN (3, 0, 2) "
                            "ORDER BY ck DESC", fetch_size=2)
        self.assertEqual([r.ck for r in got], [3, 2, 0])
        log("a partition, slices, clustering IN, ORDER BY DESC, paged")

    def test_in_partition_key(self):
        got, _ = self.paged("SELECT pk, ck FROM big WHERE pk IN (19, 3, 14, 3, 5)",
                            fetch_size=2)
        want = [(p, c) for p in (3, 14, 19) for c in range(p % 5)]
        self.assertEqual([(r.pk, r.ck) for r in got], want)
        q = self.s.prepare("SELECT pk, ck FROM big WHERE pk IN ? AND ck > ?")
        got, _ = self.paged(q, ([19, 3, 14], 1), fetch_size=1)
        self.assertEqual([(r.pk, r.ck) for r in got],
                         [(p, c) for p in (3, 14, 19) for c in range(2, p % 5)])
        got, _ = self.paged("SELECT pk, ck FROM big WHERE pk IN (19, 3, 14) LIMIT 5",
                            fetch_size=2)
        self.assertEqual([(r.pk, r.ck) for r in got], want[:5])
        got, _ = self.paged("SELECT pk, ck FROM big WHERE pk IN (19, 3, 14) "
                            "PER PARTITION LIMIT 1", fetch_size=1)
        self.assertEqual([(r.pk, r.ck) for r in got], [(3, 0), (14, 0), (19, 0)])
        # IN + ORDER BY: unpaged only (as Cassandra)
        rows = self.s.execute(SimpleStatement(
            "SELECT pk, ck FROM big WHERE pk IN (3, 4) ORDER BY ck DESC", fetch_size=None))
        self.assertEqual([(r.pk, r.ck) for r in rows],
                         [(4, 3), (3, 2), (4, 2), (3, 1), (4, 1), (3, 0), (4, 0)])
        with self.assertRaises(InvalidRequest) as cm:
            self.s.execute(SimpleStatement(
                "SELECT pk, ck FROM big WHERE pk IN (3, 4) ORDER BY ck DESC", fetch_size=10))
        self.assertIn("Cannot page queries with both ORDER BY and a IN restriction",
                      str(cm.exception))
        log("IN on the partition key: key order, duplicates dropped, LIMIT, PER PARTITION "
            "LIMIT, ORDER BY unpaged")

    def test_token_ranges(self):
        bounds = [MIN_TOKEN, -(2 ** 62), 0, 2 ** 62, MAX_TOKEN]
        seen = []
        q = self.s.prepare("SELECT pk, ck, token(pk) FROM big "
                           "WHERE token(pk) > ? AND token(pk) <= ?")
        for lo, hi in zip(bounds, bounds[1:]):
            got, _ = self.paged(q, (lo, hi), fetch_size=4)
            for r in got:
                self.assertTrue(lo < r[2] <= hi)
                self.assertEqual(r[2], token(r.pk))
            seen.extend((r.pk, r.ck) for r in got)
        # MIN_TOKEN itself is no key's token: the ranges cover the ring
        self.assertEqual(seen, [(r[0], r[1]) for r in self.rows])
        got, _ = self.paged("SELECT pk FROM big WHERE token(pk) >= %s" % token(7), fetch_size=5)
        self.assertEqual([r.pk for r in got],
                         [r[0] for r in self.rows if token(r[0]) >= token(7)])
        log("token() ranges (prepared, paged) add up to the table in token order")

    def test_allow_filtering(self):
        with self.assertRaises(InvalidRequest) as cm:
            self.s.execute("SELECT pk FROM big WHERE v = 'v7.1'")
        self.assertIn(ALLOW_FILTERING_MSG, str(cm.exception))
        with self.assertRaises(InvalidRequest) as cm:
            self.s.execute("SELECT pk FROM big WHERE ck = 1")
        self.assertIn(ALLOW_FILTERING_MSG, str(cm.exception))
        got, _ = self.paged("SELECT pk, ck FROM big WHERE v = 'v7.1' ALLOW FILTERING",
                            fetch_size=1)
        self.assertEqual([(r.pk, r.ck) for r in got], [(7, 1)])
        got, _ = self.paged("SELECT pk, ck FROM big WHERE ck = 3 ALLOW FILTERING",
                            fetch_size=4)
        self.assertEqual([(r.pk, r.ck) for r in got],
                         [(r[0], r[1]) for r in self.rows if r[1] == 3])
        got, _ = self.paged("SELECT pk, ck FROM big WHERE pk > 50 AND v != 'v53.0' "
                            "ALLOW FILTERING", fetch_size=3)
        self.assertEqual([(r.pk, r.ck) for r in got],
                         [(r[0], r[1]) for r in self.rows if r[0] > 50 and r[2] != "v53.0"])
        log("ALLOW FILTERING on regular, clustering and partition key columns; refused "
            "without it")

    def test_prepared_paging_and_count(self):
        q = self.s.prepare("SELECT ck, v FROM big WHERE pk = ?")
        got, pages = self.paged(q, (24,), fetch_size=1)
        self.assertEqual([(r.ck, r.v) for r in got], [(c, f"v24.{c}") for c in range(4)])
        self.assertEqual(pages, 4)
        self.assertEqual(self.s.execute("SELECT count(*) FROM big").one()[0], len(self.rows))
        self.assertEqual(self.s.execute("SELECT count(*) FROM big WHERE pk = 24").one()[0], 4)
        got = list(self.s.execute("SELECT DISTINCT pk FROM big"))
        self.assertEqual([r.pk for r in got],
                         sorted({r[0] for r in self.rows}, key=token))
        log("prepared + paged (EXECUTE, skip_metadata), count(*), DISTINCT")

    def test_statics_and_collections(self):
        s = self.s
        s.execute("INSERT INTO st (pk, ck, s, v) VALUES (1, 1, 'one', 10)")
        s.execute("INSERT INTO st (pk, ck, v) VALUES (1, 2, 20)")
        s.execute("INSERT INTO st (pk, s) VALUES (2, 'two')")
        rows = list(s.execute("SELECT pk, ck, s, v FROM st WHERE pk IN (1, 2)"))
        self.assertEqual([tuple(r) for r in rows],
                         [(1, 1, "one", 10), (1, 2, "one", 20), (2, None, "two", None)])
        s.execute("INSERT INTO coll (pk, l, m, t) VALUES (1, [3, 1, 2], {'a': 1, 'b': 2}, "
                  "{'y', 'x'})")
        s.execute("UPDATE coll SET l = l + [4], m['c'] = 3 WHERE pk = 1")
        r = s.execute("SELECT l, m, t FROM coll WHERE pk = 1").one()
        self.assertEqual(list(r.l), [3, 1, 2, 4])
        self.assertEqual(dict(r.m), {"a": 1, "b": 2, "c": 3})
        self.assertEqual(sorted(r.t), ["x", "y"])
        r = s.execute("SELECT pk FROM coll WHERE m CONTAINS KEY 'c' ALLOW FILTERING").one()
        self.assertEqual(r.pk, 1)
        log("static columns and a static-only partition; list/map/set as the driver "
            "decodes them")


if __name__ == "__main__":
    unittest.main(verbosity=2)

# test_cql_python.py — `spate cql` driven by python3-cassandra 3.25 (the
# DataStax driver, Debian's package, seen only by /usr/bin/python3) with
# DEFAULT Cluster options, as the seed's spark_stream.py uses it: protocol
# negotiation from DSE_V2 down to v4, full schema metadata, token-aware
# routing, client-side timestamps.
#
#   SeedAndDriver   one server for the whole class:
#                   connect; the seed's DDL verbatim (twice); table and
#                   keyspace metadata; the seed's own INSERT; prepared
#                   inserts routed by token; logged/unlogged/text batches;
#                   paging; a round trip of every type (prepared and as
#                   literals; list/set/map of each, frozen too; nulls and
#                   unset); last-write-wins with USING TIMESTAMP and with
#                   the driver's client timestamps; TTL expiry; INSERT IF
#                   NOT EXISTS; schema-change events seen by a second
#                   cluster; errors with Cassandra's codes and messages;
#                   protocol v3; the v5 and v2 refusals
#   Restart         data and schema survive a clean restart; a session
#                   opened before it carries on (re-preparing)
#
# Every server runs `spate cql` from $SPATE on a free loopback port with a
# data directory under TMPDIR, and is stopped by its pid (tearDownModule
# kills whatever is left). KEEP_TMP=1 keeps the directory and the logs.
import datetime
import decimal
import logging
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

from cassandra import AlreadyExists, OperationTimedOut
from cassandra.cluster import Cluster, NoHostAvailable
from cassandra.metadata import Murmur3Token
from cassandra.query import UNSET_VALUE, BatchStatement, BatchType, SimpleStatement
from cassandra.util import Date, Time

SPATE = os.environ.get("SPATE")
if not SPATE:
    sys.exit("SPATE must name the spate binary")

PORT_RE = re.compile(r"listening on 127\.0\.0\.1:(\d+) \(CQL")
TMPDIR = tempfile.mkdtemp(prefix="spate_cql_test_")
STARTED = []  # every Popen this file started; only these are ever signalled

# The driver's downgrade warnings and the "no load_balancing_policy" notice
# are expected with default options; errors still show.
logging.basicConfig(level=logging.ERROR)

# The seed's statements (spark_stream.py create_keyspace / create_table /
# insert_data), byte for byte: multi-line, leading whitespace, trailing ';'.
SEED_KEYSPACE = """
        CREATE KEYSPACE IF NOT EXISTS spark_streams
        WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '1'};
    """
SEED_TABLE = """
    CREATE TABLE IF NOT EXISTS spark_streams.created_users (
        id UUID PRIMARY KEY,
        first_name TEXT,
        last_name TEXT,
        gender TEXT,
        address TEXT,
        post_code TEXT,
        email TEXT,
        username TEXT,
        registered_date TEXT,
        phone TEXT,
        picture TEXT);
    """
SEED_INSERT = """
            INSERT INTO spark_streams.created_users(id, first_name, last_name, gender, address, 
                post_code, email, username, dob, registered_date, phone, picture)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        """
USER_TEXT_COLS = ["first_name", "last_name", "gender", "address", "post_code", "email",
                  "username", "registered_date", "phone", "picture"]

TEST_KEYSPACE_DDL = ("CREATE KEYSPACE IF NOT EXISTS spate_test WITH replication = "
                     "{'class': 'SimpleStrategy', 'replication_factor': 1}")


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
    """One `spate cql` process, restartable on the same data dir."""

    def __init__(self, name, args=()):
        self.name = name
        self.args = list(args)
        self.data_dir = os.path.join(TMPDIR, name + "-data")
        self.proc = None
        self.port = None
        self.log_path = None
        self.starts = 0

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def start(self, port=0, timeout=15.0):
        """Starts the server on `port` (0: any) and waits for its port line.
        A fixed port may be briefly busy after a stop: retried until timeout."""
        deadline = time.monotonic() + timeout
        while True:
            self.starts += 1
            self.log_path = os.path.join(TMPDIR, f"{self.name}.{self.starts}.log")
            with open(self.log_path, "wb") as logf:
                proc = subprocess.Popen(
                    [SPATE, "cql", "--listen", f"127.0.0.1:{port}", "--data-dir", self.data_dir,
                     *self.args],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=logf)
            STARTED.append(proc)
            while time.monotonic() < deadline:
                m = PORT_RE.search(self.log_text())
                if m:
                    self.proc, self.port = proc, int(m.group(1))
                    if port:
                        assert self.port == port, f"asked for port {port}, got {self.port}"
                    return self
                if proc.poll() is not None:
                    break
                time.sleep(0.05)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
                raise AssertionError(f"spate cql did not report its port within {timeout} s:\n"
                                     + self.log_text())
            if port == 0 or time.monotonic() >= deadline:
                raise AssertionError(f"spate cql exited {proc.returncode} at start:\n"
                                     + self.log_text())
            time.sleep(0.2)

    def stop_checked(self):
        """SIGTERM; the exit status must be 0 within 20 s."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("spate cql did not exit within 20 s of SIGTERM")
        if rc != 0:
            raise AssertionError(f"spate cql exit status after SIGTERM: {rc}\n" + self.log_text())

    def cluster(self, **kw):
        """A Cluster with default options but for what kw overrides."""
        return Cluster(["127.0.0.1"], port=self.port, **kw)


# ---- errors ----

def error_of(exc):
    """(code, message) of a server error as the driver raised it: the
    protocol exceptions carry .code/.message; the validation ones
    (InvalidRequest, Unauthorized, ...) only their text, which names both."""
    if hasattr(exc, "code") and hasattr(exc, "message") and isinstance(exc.code, int):
        return exc.code, exc.message
    text = str(exc)
    m = re.search(r'code=([0-9a-fA-F]{4}) \[[^\]]*\] message="(.*)"$', text, re.S)
    if not m:
        raise AssertionError(f"not a server error: {exc!r}")
    return int(m.group(1), 16), m.group(2)


# ---- raw frames (protocol version checks) ----

def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise AssertionError(f"connection closed after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


def read_string(body, off):
    (n,) = struct.unpack_from(">H", body, off)
    return body[off + 2:off + 2 + n].decode("utf-8"), off + 2 + n


def closed_by_peer(sock, timeout=5.0):
    sock.settimeout(timeout)
    try:
        data = sock.recv(4096)
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
    if data:
        raise AssertionError(f"expected the connection closed, got {data[:64]!r}")
    return True


# ---- values ----

def norm(v):
    """A returned or sent value in a form that compares by content: the
    driver returns Date/Time/SortedSet/OrderedMapSerializedKey."""
    if isinstance(v, Date):
        return ("date", v.days_from_epoch)
    if isinstance(v, datetime.date) and not isinstance(v, datetime.datetime):
        return ("date", Date(v).days_from_epoch)
    if isinstance(v, Time):
        return ("time", v.nanosecond_time)
    if isinstance(v, datetime.time):
        return ("time", Time(v).nanosecond_time)
    if isinstance(v, (set, frozenset)) or type(v).__name__ == "SortedSet":
        return ("set", frozenset(norm(x) for x in v))
    if isinstance(v, dict) or type(v).__name__ == "OrderedMapSerializedKey":
        return ("map", frozenset((norm(k), norm(x)) for k, x in v.items()))
    if isinstance(v, (list, tuple)):
        return ("list", tuple(norm(x) for x in v))
    return v


T0 = datetime.datetime(2024, 2, 29, 23, 59, 58, 123000)
# (name, CQL type, three distinct values); the first two become the
# collection elements. Values are exact in their type (float: binary32).
TYPES = [
    ("uuid", "uuid", [uuid.UUID("12345678-1234-4567-89ab-0123456789ab"), uuid.uuid4(),
                      uuid.UUID(int=0)]),
    ("timeuuid", "timeuuid", [uuid.uuid1(), uuid.UUID("e5c4a6e0-1d2b-11ee-8000-000000000001"),
                              uuid.uuid1()]),
    ("text", "text", ["héllo wörld ✓ 𝄞", "it's \"quoted\"", ""]),
    ("ascii", "ascii", ["plain ascii", "it's", "~!@#$%^&*()"]),
    ("varchar", "varchar", ["varchar ✓", "b", "c"]),
    ("int", "int", [2147483647, -2147483648, 0]),
    ("bigint", "bigint", [9223372036854775807, -9223372036854775808, 1]),
    ("smallint", "smallint", [32767, -32768, 7]),
    ("tinyint", "tinyint", [127, -128, 0]),
    ("varint", "varint", [2**100 + 1, -(2**70), 0]),
    ("decimal", "decimal", [decimal.Decimal("-12345678901234567890.0123456789"),
                            decimal.Decimal("1E+3"), decimal.Decimal("0.5")]),
    ("boolean", "boolean", [True, False, True]),
    ("float", "float", [1.5, -2.25, float(2**127)]),
    ("double", "double", [3.141592653589793, -1e308, 5e-324]),
    ("timestamp", "timestamp", [T0, datetime.datetime(1960, 1, 1, 0, 0, 0, 1000),
                                datetime.datetime(1970, 1, 1)]),
    ("date", "date", [datetime.date(1969, 7, 20), datetime.date(2038, 1, 19),
                      datetime.date(1900, 1, 1)]),
    ("time", "time", [datetime.time(13, 14, 15, 123456), Time(1), datetime.time(0, 0)]),
    ("blob", "blob", [bytes(range(256)), b"", b"\x00"]),
    ("inet", "inet", ["10.1.2.3", "2001:db8::1", "::1"]),
]


def types_table_columns():
    """[(column, CQL type as declared, CQL type as system_schema spells it)]"""
    cols = []
    for name, t, _ in TYPES:
        st = "text" if t == "varchar" else t  # varchar is an alias of text
        cols += [
            (f"s_{name}", t, st),
            (f"l_{name}", f"list<{t}>", f"list<{st}>"),
            (f"st_{name}", f"set<{t}>", f"set<{st}>"),
            (f"m_{name}", f"map<{t}, {t}>", f"map<{st}, {st}>"),
            (f"fl_{name}", f"frozen<list<{t}>>", f"frozen<list<{st}>>"),
            (f"fs_{name}", f"frozen<set<{t}>>", f"frozen<set<{st}>>"),
            (f"fm_{name}", f"frozen<map<text, {t}>>", f"frozen<map<text, {st}>>"),
        ]
    cols += [
        ("n_list_map", "list<frozen<map<text, int>>>", "list<frozen<map<text, int>>>"),
        ("n_map_set", "map<text, frozen<set<int>>>", "map<text, frozen<set<int>>>"),
        ("n_frozen", "frozen<list<frozen<list<bigint>>>>", "frozen<list<frozen<list<bigint>>>>"),
    ]
    return cols


def types_row(shift):
    """{column: value} for the types table; shift picks which values."""
    row = {}
    for name, _, vals in TYPES:
        a, b, c = vals[shift % 3], vals[(shift + 1) % 3], vals[(shift + 2) % 3]
        row[f"s_{name}"] = a
        row[f"l_{name}"] = [a, b, a]
        row[f"st_{name}"] = {a, b} if norm(a) != norm(b) else {a}
        row[f"m_{name}"] = {a: b, c: a}
        row[f"fl_{name}"] = [c, b]
        row[f"fs_{name}"] = {c}
        row[f"fm_{name}"] = {"x": a, "y": c}
    row["n_list_map"] = [{"a": 1, "b": 2}, {}, {"c": -3}]
    row["n_map_set"] = {"odd": {1, 3, 5}, "even": {2, 4}}
    row["n_frozen"] = [[1, 2**40], [], [-(2**63)]]
    return row


def expect_empty_collection(v):
    """An empty non-frozen collection reads back as null, as in Cassandra."""
    return v is None or len(v) == 0


class SeedAndDriver(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = CqlServer("main").start()
        cls.cluster = cls.srv.cluster()  # default options, as the seed
        cls.session = cls.cluster.connect()
        cls.session.default_timeout = 20
        cls.session.execute(SEED_KEYSPACE)
        cls.session.execute(SEED_TABLE)
        cls.session.execute(TEST_KEYSPACE_DDL)

    @classmethod
    def tearDownClass(cls):
        cls.cluster.shutdown()
        cls.srv.stop_checked()

    def expect_error(self, query, code, message, params=None, session=None):
        """Runs query; it must fail with code and message (a str: equal; a
        compiled regex: matching from the start)."""
        s = session or self.session
        with self.assertRaises(Exception) as cm:
            s.execute(query, params)
        got_code, got_msg = error_of(cm.exception)
        self.assertEqual(got_code, code,
                         f"{query!r}: code 0x{got_code:04x} ({got_msg}), want 0x{code:04x}")
        if isinstance(message, str):
            self.assertEqual(got_msg, message, query)
        else:
            self.assertRegex(got_msg, message, query)
        return cm.exception

    # ---- connect, the seed's DDL, metadata ----

    def test_connect_default_options(self):
        self.assertEqual(self.cluster.protocol_version, 4)
        hosts = self.cluster.metadata.all_hosts()
        self.assertEqual(len(hosts), 1)
        h = hosts[0]
        self.assertTrue(h.is_up)
        self.assertEqual((h.datacenter, h.rack), ("datacenter1", "rack1"))
        self.assertTrue(h.release_version.startswith("3."), h.release_version)
        self.assertEqual(self.cluster.metadata.cluster_name, "spate")
        self.assertEqual(self.cluster.metadata.partitioner,
                         "org.apache.cassandra.dht.Murmur3Partitioner")
        self.assertIsNotNone(self.cluster.metadata.token_map, "token metadata")
        for ks in ("system", "system_schema", "spark_streams"):
            self.assertIn(ks, self.cluster.metadata.keyspaces)
        row = self.session.execute("SELECT cluster_name, data_center FROM system.local").one()
        self.assertEqual((row.cluster_name, row.data_center), ("spate", "datacenter1"))
        log("default Cluster(): v4 negotiated, one host up, system keyspaces and token map")

    def test_seed_ddl_verbatim_and_metadata(self):
        # Run again: IF NOT EXISTS on existing objects is a no-op, not an error.
        for stmt in (SEED_KEYSPACE, SEED_TABLE):
            rs = self.session.execute(stmt)
            self.assertEqual(list(rs), [])
        # Without IF NOT EXISTS: Already_exists 0x2400 naming the object.
        with self.assertRaises(AlreadyExists) as cm:
            self.session.execute(SEED_TABLE.replace("IF NOT EXISTS ", ""))
        self.assertEqual((cm.exception.keyspace, cm.exception.table),
                         ("spark_streams", "created_users"))
        with self.assertRaises(AlreadyExists) as cm:
            self.session.execute(SEED_KEYSPACE.replace("IF NOT EXISTS ", ""))
        self.assertEqual(cm.exception.keyspace, "spark_streams")

        ks = self.cluster.metadata.keyspaces["spark_streams"]
        self.assertEqual(type(ks.replication_strategy).__name__, "SimpleStrategy")
        self.assertEqual(ks.replication_strategy.replication_factor, 1)
        self.assertTrue(ks.durable_writes)
        t = ks.tables["created_users"]
        self.assertEqual(list(t.columns), ["id"] + sorted(USER_TEXT_COLS))
        self.assertEqual(t.columns["id"].cql_type, "uuid")
        for c in USER_TEXT_COLS:
            self.assertEqual(t.columns[c].cql_type, "text", c)
        self.assertEqual([c.name for c in t.partition_key], ["id"])
        self.assertEqual(t.clustering_key, [])
        # The metadata renders back to a CREATE TABLE naming every column.
        cql = t.export_as_string()
        for c in ["id"] + USER_TEXT_COLS:
            self.assertIn(f"    {c} ", cql)
        log("the seed's DDL verbatim (twice); keyspace and 11-column table metadata; 0x2400")

    def test_seed_insert_data(self):
        # The seed's insert_data() names a `dob` column its table lacks:
        # Cassandra refuses it, and so must we.
        user = [uuid.uuid4()] + [f"{c}-v" for c in USER_TEXT_COLS[:7]] + ["1990-01-01"] + \
               [f"{c}-v" for c in USER_TEXT_COLS[7:]]
        self.expect_error(SEED_INSERT, 0x2200, "Undefined column name dob", params=user)
        # Without dob, the same client-side interpolated statement works.
        fixed = SEED_INSERT.replace("username, dob,", "username,").replace("%s, " * 11, "%s, " * 10, 1)
        uid = uuid.uuid4()
        vals = [uid] + [f"{c} of {uid} 'quoted' ✓" for c in USER_TEXT_COLS]
        self.session.execute(fixed, vals)
        row = self.session.execute("SELECT * FROM spark_streams.created_users WHERE id = %s",
                                   [uid]).one()
        self.assertIsNotNone(row)
        self.assertEqual(row.id, uid)
        for c, v in zip(USER_TEXT_COLS, vals[1:]):
            self.assertEqual(getattr(row, c), v)
        log("the seed's insert_data: 0x2200 'Undefined column name dob'; without dob it round-trips")

    # ---- prepared statements, routing ----

    def test_prepared_inserts_token_aware(self):
        cols = ["id"] + USER_TEXT_COLS
        ins = self.session.prepare(
            f"INSERT INTO spark_streams.created_users ({', '.join(cols)}) "
            f"VALUES ({', '.join('?' * len(cols))})")
        self.assertEqual(ins.routing_key_indexes, [0])
        # The partition key bound last still routes (pk_indexes in PREPARED).
        ins2 = self.session.prepare(
            "INSERT INTO spark_streams.created_users (first_name, last_name, id) VALUES (?, ?, ?)")
        self.assertEqual(ins2.routing_key_indexes, [2])
        sel = self.session.prepare("SELECT * FROM spark_streams.created_users WHERE id = ?")
        self.assertEqual(sel.routing_key_indexes, [0])
        self.assertEqual([c.name for c in sel.column_metadata], ["id"])  # the bind markers
        self.assertEqual([c[2] for c in sel.result_metadata], ["id"] + sorted(USER_TEXT_COLS))

        users = {}
        futures = []
        for i in range(200):
            uid = uuid.uuid4()
            users[uid] = [uid] + [f"{c}-{i}" for c in USER_TEXT_COLS]
            bound = ins.bind(users[uid])
            self.assertEqual(bound.routing_key, uid.bytes)
            futures.append(self.session.execute_async(bound))
        for f in futures:
            f.result()
        host = self.cluster.metadata.all_hosts()[0]
        self.assertEqual(self.cluster.metadata.get_replicas("spark_streams", uid.bytes), [host])
        for uid, vals in users.items():
            row = self.session.execute(sel, [uid]).one()
            self.assertIsNotNone(row, uid)
            self.assertEqual(list(row), [vals[0]] + [vals[1 + USER_TEXT_COLS.index(c)]
                                                     for c in sorted(USER_TEXT_COLS)])
        # Named markers, bound by name (NAMES_FOR_VALUES is not used by the
        # driver: it orders them itself from the PREPARED metadata).
        named = self.session.prepare(
            "INSERT INTO spark_streams.created_users (id, first_name) VALUES (:id, :fn)")
        uid = uuid.uuid4()
        self.session.execute(named, {"fn": "named", "id": uid})
        self.assertEqual(self.session.execute(sel, [uid]).one().first_name, "named")
        # The server's token is the driver's Murmur3 of the routing key.
        tok = Murmur3Token.hash_fn(uid.bytes)
        rows = list(self.session.execute(
            "SELECT id FROM spark_streams.created_users WHERE token(id) >= %s AND token(id) <= %s",
            [tok, tok]))
        self.assertEqual([r.id for r in rows], [uid])
        log("200 async prepared inserts with routing keys; named markers; token(id) = Murmur3")

    # ---- batches ----

    def test_batches(self):
        s = self.session
        s.execute("CREATE TABLE IF NOT EXISTS spate_test.batch_a (k int PRIMARY KEY, v text)")
        s.execute("CREATE TABLE IF NOT EXISTS spate_test.batch_b "
                  "(p int, c int, v text, PRIMARY KEY (p, c))")
        ins_a = s.prepare("INSERT INTO spate_test.batch_a (k, v) VALUES (?, ?)")
        ins_b = s.prepare("INSERT INTO spate_test.batch_b (p, c, v) VALUES (?, ?, ?)")

        logged = BatchStatement(batch_type=BatchType.LOGGED)
        for i in range(10):
            logged.add(ins_a, (i, f"a{i}"))
            logged.add(ins_b, (1, i, f"b{i}"))
        logged.add(SimpleStatement("INSERT INTO spate_test.batch_a (k, v) VALUES (%s, %s)"),
                   (100, "simple in batch"))
        s.execute(logged)
        unlogged = BatchStatement(batch_type=BatchType.UNLOGGED)
        for i in range(10):
            unlogged.add(ins_b, (2, i, f"u{i}"))
        s.execute(unlogged)

        self.assertEqual(sorted((r.k, r.v) for r in s.execute("SELECT * FROM spate_test.batch_a")),
                         sorted([(i, f"a{i}") for i in range(10)] + [(100, "simple in batch")]))
        self.assertEqual([(r.c, r.v) for r in s.execute(
            "SELECT c, v FROM spate_test.batch_b WHERE p = 1")], [(i, f"b{i}") for i in range(10)])
        self.assertEqual([(r.c, r.v) for r in s.execute(
            "SELECT c, v FROM spate_test.batch_b WHERE p = 2")], [(i, f"u{i}") for i in range(10)])

        # Text batches: mixed INSERT/UPDATE/DELETE with a batch-wide timestamp.
        s.execute("""
            BEGIN BATCH USING TIMESTAMP 1000000
              INSERT INTO spate_test.batch_a (k, v) VALUES (200, 'text batch');
              UPDATE spate_test.batch_a SET v = 'updated' WHERE k = 0;
              DELETE FROM spate_test.batch_a WHERE k = 1;
            APPLY BATCH;""")
        # Its timestamp (1 s after the epoch) is older than the writes above:
        # the UPDATE and the DELETE lose, the new row is there.
        got = {r.k: r.v for r in s.execute("SELECT k, v FROM spate_test.batch_a")}
        self.assertEqual((got.get(200), got.get(0), got.get(1)), ("text batch", "a0", "a1"))
        self.assertEqual(s.execute("SELECT writetime(v) FROM spate_test.batch_a WHERE k = 200")
                         .one()[0], 1000000)
        s.execute("BEGIN UNLOGGED BATCH "
                  "UPDATE spate_test.batch_a SET v = 'now' WHERE k = 0; "
                  "DELETE FROM spate_test.batch_a WHERE k = 1; APPLY BATCH")
        got = {r.k: r.v for r in s.execute("SELECT k, v FROM spate_test.batch_a")}
        self.assertEqual(got.get(0), "now")
        self.assertNotIn(1, got)

        # Only INSERT, UPDATE and DELETE belong in a batch.
        bad = BatchStatement()
        bad.add(SimpleStatement("SELECT * FROM spate_test.batch_a"))
        self.expect_error(bad, 0x2200,
                          "Invalid statement in batch: only UPDATE, INSERT and DELETE "
                          "statements are allowed.")
        log("logged/unlogged BATCH of prepared+simple statements; text batches with USING TIMESTAMP")

    # ---- paging ----

    def test_paging(self):
        s = self.session
        s.execute("CREATE TABLE IF NOT EXISTS spate_test.pages "
                  "(p int, c int, v text, PRIMARY KEY (p, c))")
        ins = s.prepare("INSERT INTO spate_test.pages (p, c, v) VALUES (?, ?, ?)")
        want = {(p, c) for p in range(7) for c in range(5)}
        for f in [s.execute_async(ins, (p, c, f"{p}/{c}")) for p, c in want]:
            f.result()

        # A full scan, 4 rows a page: every row exactly once.
        rs = s.execute(SimpleStatement("SELECT p, c, v FROM spate_test.pages", fetch_size=4))
        self.assertEqual(len(rs.current_rows), 4)
        self.assertTrue(rs.has_more_pages)
        seen, pages = [], 0
        while True:
            pages += 1
            self.assertLessEqual(len(rs.current_rows), 4)
            seen += [(r.p, r.c, r.v) for r in rs.current_rows]
            if not rs.has_more_pages:
                break
            rs.fetch_next_page()
        self.assertEqual(len(seen), len(want), "rows seen more than once or missing")
        self.assertEqual({(p, c) for p, c, _ in seen}, want)
        self.assertTrue(all(v == f"{p}/{c}" for p, c, v in seen))
        self.assertGreaterEqual(pages, 9)
        # Within a partition: clustering order, page by page.
        rows = list(s.execute(SimpleStatement("SELECT c FROM spate_test.pages WHERE p = 3",
                                              fetch_size=2)))
        self.assertEqual([r.c for r in rows], [0, 1, 2, 3, 4])
        # A saved paging state resumes in another session (it is opaque and
        # not tied to the connection).
        st = SimpleStatement("SELECT p, c FROM spate_test.pages", fetch_size=10)
        first = s.execute(st)
        state = first.paging_state
        self.assertIsNotNone(state)
        other = self.cluster.connect()
        try:
            rest = []
            rs = other.execute(st, paging_state=state)
            while True:
                rest += [(r.p, r.c) for r in rs.current_rows]
                if not rs.has_more_pages:
                    break
                rs.fetch_next_page()
        finally:
            other.shutdown()
        self.assertEqual(sorted([(r.p, r.c) for r in first.current_rows] + rest), sorted(want))
        # Prepared, with LIMIT across pages.
        sel = s.prepare("SELECT p, c FROM spate_test.pages LIMIT 11")
        sel.fetch_size = 3
        self.assertEqual(len(list(s.execute(sel))), 11)
        # count(*) is a bigint named count.
        rs = s.execute("SELECT count(*) FROM spate_test.pages")
        self.assertEqual(rs.column_names, ["count"])
        self.assertEqual(rs.column_types[0].typename, "bigint")
        self.assertEqual(rs.one()[0], len(want))
        self.assertEqual(s.execute("SELECT count(*) FROM spate_test.pages WHERE p = 2").one()[0], 5)
        log(f"paging: {len(want)} rows in {pages} pages of 4, each once; resumed state; "
            "LIMIT; count(*)")

    # ---- every type ----

    def test_types_roundtrip(self):
        s = self.session
        cols = types_table_columns()
        s.execute("CREATE TABLE IF NOT EXISTS spate_test.everything (k int PRIMARY KEY, "
                  + ", ".join(f"{c} {t}" for c, t, _ in cols) + ")")
        t = self.cluster.metadata.keyspaces["spate_test"].tables["everything"]
        self.assertEqual(len(t.columns), len(cols) + 1)
        for c, _, schema_type in cols:
            self.assertEqual(t.columns[c].cql_type, schema_type, c)
        names = [c for c, _, _ in cols]

        # 1: bound values (prepared); 2: literals (the driver interpolates);
        # 3, 4: the other values of each type; 5: nulls.
        ins = s.prepare(f"INSERT INTO spate_test.everything (k, {', '.join(names)}) "
                        f"VALUES (?{', ?' * len(names)})")
        rows = {1: types_row(0), 2: types_row(0), 3: types_row(1), 4: types_row(2)}
        s.execute(ins, [1] + [rows[1][c] for c in names])
        s.execute(f"INSERT INTO spate_test.everything (k, {', '.join(names)}) "
                  f"VALUES (%s{', %s' * len(names)})", [2] + [rows[2][c] for c in names])
        s.execute(ins, [3] + [rows[3][c] for c in names])
        s.execute(f"INSERT INTO spate_test.everything (k, {', '.join(names)}) "
                  f"VALUES (%s{', %s' * len(names)})", [4] + [rows[4][c] for c in names])
        s.execute(ins, [5] + [None] * len(names))

        sel = s.prepare("SELECT * FROM spate_test.everything WHERE k = ?")
        for k, want in rows.items():
            got = s.execute(sel, [k]).one()
            self.assertIsNotNone(got, f"row {k}")
            got = got._asdict()
            for c in names:
                w = want[c]
                if isinstance(w, (list, set, dict)) and not c.startswith("f") and not w:
                    self.assertTrue(expect_empty_collection(got[c]), f"row {k} {c}: {got[c]!r}")
                else:
                    self.assertEqual(norm(got[c]), norm(w), f"row {k} column {c}")
        got = s.execute(sel, [5]).one()._asdict()
        self.assertEqual({c: got[c] for c in names}, {c: None for c in names})
        # The same values read by an unprepared SELECT (text query, v4 Rows).
        got = s.execute("SELECT * FROM spate_test.everything WHERE k = 2").one()._asdict()
        for c in names:
            self.assertEqual(norm(got[c]), norm(rows[2][c]), f"unprepared read of {c}")

        # UNSET leaves a column as it was; null deletes it.
        upd = s.prepare("UPDATE spate_test.everything SET s_text = ?, s_int = ? WHERE k = ?")
        s.execute(upd, [UNSET_VALUE, None, 1])
        got = s.execute(sel, [1]).one()
        self.assertEqual(got.s_text, rows[1]["s_text"])
        self.assertIsNone(got.s_int)
        # Special floating values, by literal and by value.
        s.execute("INSERT INTO spate_test.everything (k, s_double, s_float) "
                  "VALUES (6, Infinity, -Infinity)")
        s.execute(ins.bind([7] + [UNSET_VALUE] * len(names)))
        s.execute("UPDATE spate_test.everything SET s_double = %s, s_float = %s WHERE k = 7",
                  [float("nan"), float("inf")])
        r6 = s.execute(sel, [6]).one()
        r7 = s.execute(sel, [7]).one()
        self.assertEqual((r6.s_double, r6.s_float), (float("inf"), float("-inf")))
        self.assertTrue(r7.s_double != r7.s_double and r7.s_float == float("inf"))
        log(f"{len(cols)} columns of {len(TYPES)} types (list/set/map, frozen, nested): "
            "metadata, prepared and literal round trips, nulls, unset, NaN/Infinity")

    # ---- last write wins ----

    def test_lww_using_timestamp(self):
        s = self.session
        s.execute("CREATE TABLE IF NOT EXISTS spate_test.lww (k int PRIMARY KEY, v text, w text)")
        q = "SELECT v, writetime(v) FROM spate_test.lww WHERE k = %s"
        s.execute("INSERT INTO spate_test.lww (k, v) VALUES (1, 'new') USING TIMESTAMP 2000")
        s.execute("INSERT INTO spate_test.lww (k, v) VALUES (1, 'old') USING TIMESTAMP 1000")
        self.assertEqual(tuple(s.execute(q, [1]).one()), ("new", 2000))
        s.execute("UPDATE spate_test.lww USING TIMESTAMP 1500 SET v = 'older' WHERE k = 1")
        self.assertEqual(tuple(s.execute(q, [1]).one()), ("new", 2000))
        s.execute("UPDATE spate_test.lww USING TIMESTAMP 3000 SET v = 'newest' WHERE k = 1")
        self.assertEqual(tuple(s.execute(q, [1]).one()), ("newest", 3000))
        # Equal timestamps: the greater value wins, whatever the order.
        s.execute("INSERT INTO spate_test.lww (k, v) VALUES (2, 'b') USING TIMESTAMP 5000")
        s.execute("INSERT INTO spate_test.lww (k, v) VALUES (2, 'a') USING TIMESTAMP 5000")
        s.execute("INSERT INTO spate_test.lww (k, v) VALUES (3, 'a') USING TIMESTAMP 5000")
        s.execute("INSERT INTO spate_test.lww (k, v) VALUES (3, 'b') USING TIMESTAMP 5000")
        self.assertEqual(s.execute(q, [2]).one().v, "b")
        self.assertEqual(s.execute(q, [3]).one().v, "b")
        # Deletes: an older tombstone loses, an equal one wins.
        s.execute("DELETE v FROM spate_test.lww USING TIMESTAMP 4999 WHERE k = 2")
        self.assertEqual(s.execute(q, [2]).one().v, "b")
        s.execute("DELETE v FROM spate_test.lww USING TIMESTAMP 5000 WHERE k = 2")
        # The row stays (the INSERTs' row marker is live), without v.
        self.assertEqual(tuple(s.execute(q, [2]).one()), (None, None))
        # A row deleted at 9000 does not come back through an insert at 8000;
        # one at 9001 does, and only with what it wrote.
        s.execute("INSERT INTO spate_test.lww (k, v, w) VALUES (4, 'x', 'y') USING TIMESTAMP 100")
        s.execute("DELETE FROM spate_test.lww USING TIMESTAMP 9000 WHERE k = 4")
        s.execute("INSERT INTO spate_test.lww (k, v) VALUES (4, 'zombie') USING TIMESTAMP 8000")
        self.assertIsNone(s.execute(q, [4]).one())
        s.execute("INSERT INTO spate_test.lww (k, v) VALUES (4, 'alive') USING TIMESTAMP 9001")
        row = s.execute("SELECT v, w FROM spate_test.lww WHERE k = 4").one()
        self.assertEqual((row.v, row.w), ("alive", None))
        # A bound timestamp.
        ins = s.prepare("INSERT INTO spate_test.lww (k, v) VALUES (?, ?) USING TIMESTAMP ?")
        s.execute(ins, [5, "late", 20000])
        s.execute(ins, [5, "early", 10000])
        self.assertEqual(tuple(s.execute(q, [5]).one()), ("late", 20000))
        log("LWW by USING TIMESTAMP: newer wins, ties to the greater value, tombstones win ties")

    def test_lww_client_timestamps(self):
        # The driver sends its own timestamp with every request (flag 0x20);
        # the server must use it, not its clock. A generator we control:
        ts = {"next": 0}
        cl = self.srv.cluster(timestamp_generator=lambda: ts["next"])
        try:
            s = cl.connect()
            s.execute("CREATE TABLE IF NOT EXISTS spate_test.client_ts "
                      "(k int PRIMARY KEY, v text)")
            ins = s.prepare("INSERT INTO spate_test.client_ts (k, v) VALUES (?, ?)")
            q = "SELECT v, writetime(v) FROM spate_test.client_ts WHERE k = %s"
            ts["next"] = 10_000_000
            s.execute(ins, [1, "second"])
            ts["next"] = 5_000_000  # "earlier", though sent later
            s.execute(ins, [1, "first"])
            s.execute("INSERT INTO spate_test.client_ts (k, v) VALUES (1, 'first too')")
            self.assertEqual(tuple(s.execute(q, [1]).one()), ("second", 10_000_000))
            # A batch carries its timestamp too.
            ts["next"] = 7_000_000
            b = BatchStatement(batch_type=BatchType.UNLOGGED)
            b.add(ins, (1, "batch"))
            b.add(ins, (2, "batch"))
            s.execute(b)
            self.assertEqual(tuple(s.execute(q, [1]).one()), ("second", 10_000_000))
            self.assertEqual(tuple(s.execute(q, [2]).one()), ("batch", 7_000_000))
            # USING TIMESTAMP overrides the client's.
            ts["next"] = 50_000_000
            s.execute("INSERT INTO spate_test.client_ts (k, v) VALUES (2, 'explicit') "
                      "USING TIMESTAMP 8000000")
            self.assertEqual(tuple(s.execute(q, [2]).one()), ("explicit", 8_000_000))
        finally:
            cl.shutdown()
        # The default generator: microseconds of the client's clock.
        before = int(time.time() * 1e6)
        self.session.execute("INSERT INTO spate_test.client_ts (k, v) VALUES (3, 'now')")
        after = int(time.time() * 1e6)
        wt = self.session.execute("SELECT writetime(v) FROM spate_test.client_ts WHERE k = 3").one()[0]
        self.assertTrue(before <= wt <= after, (before, wt, after))
        log("client-side timestamps (QUERY, EXECUTE, BATCH) decide LWW; USING TIMESTAMP overrides")

    # ---- TTL ----

    def test_ttl(self):
        s = self.session
        s.execute("CREATE TABLE IF NOT EXISTS spate_test.ttl "
                  "(k int PRIMARY KEY, v text, w text, l list<int>)")
        s.execute("INSERT INTO spate_test.ttl (k, v, w) VALUES (1, 'gone', 'soon') USING TTL 2")
        s.execute("INSERT INTO spate_test.ttl (k, v, w) VALUES (2, 'stays', 'here')")
        s.execute("UPDATE spate_test.ttl USING TTL 2 SET w = 'short', l = [1, 2] WHERE k = 2")
        ins = s.prepare("INSERT INTO spate_test.ttl (k, v) VALUES (?, ?) USING TTL ?")
        s.execute(ins, [3, "bound ttl", 2])
        s.execute(ins, [4, "long ttl", 3600])
        row = s.execute("SELECT v, ttl(v), ttl(w) FROM spate_test.ttl WHERE k = 1").one()
        self.assertEqual(row[0], "gone")
        self.assertIn(row[1], (1, 2))
        self.assertIn(row[2], (1, 2))
        self.assertIsNone(s.execute("SELECT ttl(v) FROM spate_test.ttl WHERE k = 2").one()[0])
        self.assertGreater(s.execute("SELECT ttl(v) FROM spate_test.ttl WHERE k = 4").one()[0], 3500)
        time.sleep(3.2)
        self.assertIsNone(s.execute("SELECT * FROM spate_test.ttl WHERE k = 1").one())
        self.assertIsNone(s.execute("SELECT * FROM spate_test.ttl WHERE k = 3").one())
        row = s.execute("SELECT v, w, l FROM spate_test.ttl WHERE k = 2").one()
        self.assertEqual((row.v, row.w, row.l), ("stays", None, None))
        self.assertEqual(s.execute("SELECT v FROM spate_test.ttl WHERE k = 4").one().v, "long ttl")
        self.assertEqual(sorted(r.k for r in s.execute("SELECT k FROM spate_test.ttl")), [2, 4])
        self.assertEqual(s.execute("SELECT count(*) FROM spate_test.ttl").one()[0], 2)
        log("TTL: rows and single cells expire (USING TTL, bound TTL); ttl() reports it")

    # ---- lightweight transactions ----

    def test_insert_if_not_exists(self):
        s = self.session
        s.execute("CREATE TABLE IF NOT EXISTS spate_test.lwt (k int PRIMARY KEY, v text, n int)")
        rs = s.execute("INSERT INTO spate_test.lwt (k, v, n) VALUES (1, 'first', 1) IF NOT EXISTS")
        self.assertTrue(rs.was_applied)
        self.assertEqual(rs.column_names, ["[applied]"])
        self.assertEqual(list(rs.one()), [True])
        rs = s.execute("INSERT INTO spate_test.lwt (k, v, n) VALUES (1, 'second', 2) IF NOT EXISTS")
        self.assertFalse(rs.was_applied)
        self.assertEqual(rs.column_names[0], "[applied]")
        row = rs.one()
        self.assertEqual((row[0], row.k, row.v, row.n), (False, 1, "first", 1))
        self.assertEqual(tuple(s.execute("SELECT v, n FROM spate_test.lwt WHERE k = 1").one()),
                         ("first", 1))
        ins = s.prepare("INSERT INTO spate_test.lwt (k, v) VALUES (?, ?) IF NOT EXISTS")
        self.assertTrue(s.execute(ins, [2, "p"]).was_applied)
        self.assertFalse(s.execute(ins, [2, "q"]).was_applied)
        self.assertEqual(s.execute("SELECT v FROM spate_test.lwt WHERE k = 2").one().v, "p")
        # A row that expired or was deleted no longer exists.
        s.execute("DELETE FROM spate_test.lwt WHERE k = 2")
        self.assertTrue(s.execute(ins, [2, "again"]).was_applied)
        log("INSERT IF NOT EXISTS: [applied] true, then false with the existing row")

    # ---- schema-change events ----

    def test_schema_change_events(self):
        other = self.srv.cluster()
        try:
            other.connect()
            self.assertNotIn("events_tbl", other.metadata.keyspaces["spate_test"].tables)
            self.session.execute("CREATE TABLE spate_test.events_tbl (k int PRIMARY KEY, v text)")
            deadline = time.monotonic() + 15
            while "events_tbl" not in other.metadata.keyspaces["spate_test"].tables:
                self.assertLess(time.monotonic(), deadline,
                                "a second Cluster never saw the new table (SCHEMA_CHANGE event)")
                time.sleep(0.1)
            self.assertEqual(list(other.metadata.keyspaces["spate_test"].tables["events_tbl"]
                                  .columns), ["k", "v"])
            self.session.execute("CREATE KEYSPACE spate_events WITH replication = "
                                 "{'class': 'SimpleStrategy', 'replication_factor': 1}")
            self.session.execute("DROP TABLE spate_test.events_tbl")
            while ("events_tbl" in other.metadata.keyspaces["spate_test"].tables
                   or "spate_events" not in other.metadata.keyspaces):
                self.assertLess(time.monotonic(), deadline, "drop/create keyspace not seen")
                time.sleep(0.1)
            self.session.execute("DROP KEYSPACE spate_events")
            while "spate_events" in other.metadata.keyspaces:
                self.assertLess(time.monotonic(), deadline, "DROP KEYSPACE not seen")
                time.sleep(0.1)
        finally:
            other.shutdown()
        log("a second Cluster's metadata follows CREATE/DROP TABLE and KEYSPACE by events")

    # ---- errors ----

    def test_errors(self):
        s = self.session
        s.execute("CREATE TABLE IF NOT EXISTS spate_test.errs (k int PRIMARY KEY, v text, n int)")
        # Syntax errors: 0x2000 with the line:column of the offending token.
        self.expect_error("SELECT * FORM spate_test.errs", 0x2000,
                          "line 1:9 mismatched input 'FORM' expecting K_FROM (SELECT * [FORM]...)")
        self.expect_error("SELECT *\n  FROM spate_test.errs\n  WHER k = 1", 0x2000,
                          re.compile(r"line 3:2 "))
        self.expect_error("INSERT INTO spate_test.errs (k, v) VALUES (1, 'x'", 0x2000,
                          re.compile(r"line 1:\d+ "))
        # Invalid queries: 0x2200.
        self.expect_error("SELECT * FROM nosuch_ks.t", 0x2200, "Keyspace nosuch_ks does not exist")
        self.expect_error("INSERT INTO nosuch_ks.t (k) VALUES (1)", 0x2200,
                          "Keyspace nosuch_ks does not exist")
        self.expect_error("SELECT * FROM spate_test.nosuch", 0x2200, "unconfigured table nosuch")
        self.expect_error("INSERT INTO spate_test.nosuch (k) VALUES (1)", 0x2200,
                          "unconfigured table nosuch")
        self.expect_error("USE nosuch_ks", 0x2200, "Keyspace 'nosuch_ks' does not exist")
        self.expect_error("INSERT INTO spate_test.errs (k, nope) VALUES (1, 2)", 0x2200,
                          "Undefined column name nope")
        self.expect_error("SELECT nope FROM spate_test.errs", 0x2200, "Undefined column name nope")
        self.expect_error("INSERT INTO spate_test.errs (k, n) VALUES (1, 'x')", 0x2200,
                          'Invalid STRING constant (x) for "n" of type int')
        self.expect_error("INSERT INTO spate_test.errs (v) VALUES ('x')", 0x2200,
                          "Some partition key parts are missing: k")
        self.expect_error("SELECT * FROM spate_test.errs WHERE v = 'x'", 0x2200,
                          "Cannot execute this query as it might involve data filtering and thus "
                          "may have unpredictable performance. If you want to execute this query "
                          "despite the performance unpredictability, use ALLOW FILTERING")
        self.expect_error("CREATE TABLE spate_test.nopk (a int, b int)", 0x2200,
                          "No PRIMARY KEY specifed (exactly one required)")
        self.expect_error("SELECT * FROM errs", 0x2200,
                          "No keyspace has been specified. USE a keyspace, or explicitly "
                          "specify keyspace.tablename")
        # Writes to the system keyspaces: Unauthorized 0x2100.
        self.expect_error("INSERT INTO system.local (key) VALUES ('x')", 0x2100,
                          "system keyspace is not user-modifiable.")
        # Every error left the connection usable.
        self.assertEqual(s.execute("SELECT count(*) FROM spate_test.errs").one()[0], 0)
        # USE, then unqualified names.
        ks = self.cluster.connect("spate_test")
        try:
            ks.execute("INSERT INTO errs (k, v) VALUES (1, 'via USE')")
            self.assertEqual(ks.execute("SELECT v FROM errs WHERE k = 1").one().v, "via USE")
        finally:
            ks.shutdown()
        log("errors: 0x2000 with line:column, 0x2200 (keyspace/table/column/type/key), 0x2100")

    # ---- protocol versions ----

    def test_protocol_v3(self):
        cl = self.srv.cluster(protocol_version=3)
        try:
            s = cl.connect()
            self.assertEqual(cl.protocol_version, 3)
            s.execute("CREATE TABLE IF NOT EXISTS spate_test.v3 "
                      "(p int, c int, tags set<text>, m map<text, bigint>, PRIMARY KEY (p, c))")
            ins = s.prepare("INSERT INTO spate_test.v3 (p, c, tags, m) VALUES (?, ?, ?, ?)")
            for c in range(7):
                s.execute(ins, [1, c, {f"t{c}", "x"}, {"c": c, "neg": -c * 2**40}])
            rows = list(s.execute(SimpleStatement("SELECT * FROM spate_test.v3 WHERE p = 1",
                                                  fetch_size=3)))
            self.assertEqual([r.c for r in rows], list(range(7)))
            for r in rows:
                self.assertEqual(set(r.tags), {f"t{r.c}", "x"})
                self.assertEqual(dict(r.m), {"c": r.c, "neg": -r.c * 2**40})
            self.assertIn("v3", cl.metadata.keyspaces["spate_test"].tables)
        finally:
            cl.shutdown()
        log("Cluster(protocol_version=3): DDL, prepared collections, paging")

    def test_protocol_refusals(self):
        want = "Invalid or unsupported protocol version (%d); supported versions are (3/v3, 4/v4)"
        # v5 (and python's DSE versions): ERROR 0x000A in a v4 response frame
        # on the request's stream, then the connection closes.
        for ver in (5, 0x41, 0x42):
            with socket.create_connection(("127.0.0.1", self.srv.port), timeout=5) as sock:
                sock.sendall(struct.pack(">BBhBi", ver, 0, 0x0102, 0x05, 0))  # OPTIONS
                hdr = recv_exact(sock, 9)
                v, flags, stream, op, n = struct.unpack(">BBhBi", hdr)
                self.assertEqual((v, stream, op), (0x84, 0x0102, 0x00), f"version {ver}")
                body = recv_exact(sock, n)
                (code,) = struct.unpack_from(">i", body)
                msg, _ = read_string(body, 4)
                self.assertEqual((code, msg), (0x000A, want % ver))
                self.assertTrue(closed_by_peer(sock))
        # v2: the answer in a v2 frame (8-byte header, 1-byte stream).
        with socket.create_connection(("127.0.0.1", self.srv.port), timeout=5) as sock:
            sock.sendall(struct.pack(">BBbBi", 0x02, 0, 7, 0x01, 0))  # STARTUP, empty
            v, flags, stream, op, n = struct.unpack(">BBbBi", recv_exact(sock, 8))
            self.assertEqual((v, stream, op), (0x82, 7, 0x00))
            body = recv_exact(sock, n)
            (code,) = struct.unpack_from(">i", body)
            msg, _ = read_string(body, 4)
            self.assertEqual((code, msg), (0x000A, want % 2))
            self.assertTrue(closed_by_peer(sock))
        # A driver pinned to v5 gets the refusal and does not connect (and
        # logs it: expected here, so not shown).
        cl = self.srv.cluster(protocol_version=5)
        quiet = logging.getLogger("cassandra.cluster")
        level = quiet.level
        quiet.setLevel(logging.CRITICAL)
        try:
            with self.assertRaises(NoHostAvailable) as cm:
                cl.connect()
            self.assertIn("ProtocolError returned from server while using explicitly set "
                          "client protocol_version 5", str(cm.exception))
        finally:
            cl.shutdown()
            quiet.setLevel(level)
        # v4 on the same server still works (nothing was left behind).
        self.assertEqual(self.session.execute("SELECT key FROM system.local").one().key, "local")
        log("v5/0x41/0x42 refused in a 0x84 frame, v2 in a 0x82 frame (0x000A); "
            "Cluster(protocol_version=5) fails")


class Restart(unittest.TestCase):
    def test_restart_keeps_data_and_schema(self):
        srv = CqlServer("restart").start()
        cl = srv.cluster()
        s = cl.connect()
        s.default_timeout = 20
        s.execute(SEED_KEYSPACE)
        s.execute(SEED_TABLE)
        s.execute(TEST_KEYSPACE_DDL)
        s.execute("CREATE TABLE spate_test.events (p text, at timestamp, n bigint, "
                  "tags set<text>, PRIMARY KEY (p, at)) WITH CLUSTERING ORDER BY (at DESC)")
        s.execute("CREATE TABLE spate_test.dropped (k int PRIMARY KEY)")
        s.execute("DROP TABLE spate_test.dropped")
        cols = ["id"] + USER_TEXT_COLS
        ins = s.prepare(f"INSERT INTO spark_streams.created_users ({', '.join(cols)}) "
                        f"VALUES ({', '.join('?' * len(cols))})")
        users = {}
        for i in range(300):
            uid = uuid.uuid4()
            users[uid] = [f"{c}-{i}" for c in USER_TEXT_COLS]
            s.execute(ins, [uid] + users[uid])
        gone = next(iter(users))
        s.execute("DELETE FROM spark_streams.created_users WHERE id = %s", [gone])
        del users[gone]
        ev = s.prepare("INSERT INTO spate_test.events (p, at, n, tags) VALUES (?, ?, ?, ?)")
        for i in range(20):
            s.execute(ev, ["a", T0 + datetime.timedelta(seconds=i), i, {f"t{i}"}])
        before_cols = {t: [(c.name, c.cql_type) for c in
                           cl.metadata.keyspaces[k].tables[t].columns.values()]
                       for k, t in (("spark_streams", "created_users"), ("spate_test", "events"))}

        port = srv.port
        srv.stop_checked()
        srv.start(port=port)

        # A new cluster sees the same schema and data.
        cl2 = srv.cluster()
        try:
            s2 = cl2.connect()
            s2.default_timeout = 20
            md = cl2.metadata
            self.assertIn("spark_streams", md.keyspaces)
            self.assertNotIn("dropped", md.keyspaces["spate_test"].tables)
            for k, t in (("spark_streams", "created_users"), ("spate_test", "events")):
                self.assertEqual([(c.name, c.cql_type) for c in
                                  md.keyspaces[k].tables[t].columns.values()], before_cols[t])
            self.assertEqual([c.name for c in md.keyspaces["spate_test"].tables["events"]
                              .clustering_key], ["at"])
            got = {r.id: [getattr(r, c) for c in USER_TEXT_COLS]
                   for r in s2.execute("SELECT * FROM spark_streams.created_users")}
            self.assertEqual(got, users)
            rows = list(s2.execute("SELECT at, n, tags FROM spate_test.events WHERE p = 'a'"))
            self.assertEqual([r.n for r in rows], list(range(19, -1, -1)))
            self.assertEqual(set(rows[0].tags), {"t19"})
            # The seed's DDL again: still a no-op.
            s2.execute(SEED_KEYSPACE)
            s2.execute(SEED_TABLE)
        finally:
            cl2.shutdown()
        # The session opened before the restart reconnects by itself; its
        # prepared statement is unknown to the new process (Unprepared
        # 0x2500), which the driver answers by preparing again.
        deadline = time.monotonic() + 30
        uid = uuid.uuid4()
        while True:
            try:
                s.execute(ins, [uid] + USER_TEXT_COLS)
                break
            except (NoHostAvailable, OperationTimedOut):
                self.assertLess(time.monotonic(), deadline, "the old session never reconnected")
                time.sleep(0.5)
        self.assertEqual(s.execute("SELECT first_name FROM spark_streams.created_users "
                                   "WHERE id = %s", [uid]).one().first_name, "first_name")
        cl.shutdown()
        srv.stop_checked()
        log("restart after SIGTERM: 299 rows, a deleted row, a dropped table, schema metadata "
            "intact; a session from before re-prepares and goes on")


if __name__ == "__main__":
    unittest.main(verbosity=2)

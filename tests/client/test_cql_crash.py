# test_cql_crash.py — durability of `spate cql` as a Cassandra user sees it,
# through python3-cassandra 3.25 (/usr/bin/python3).
#
#   BatchCommitLog   `--commitlog-sync batch`: a stream of acknowledged
#                    writes (prepared INSERTs and UNLOGGED BATCHes of them,
#                    WINDOW requests in flight) is cut by kill -9 of the
#                    server; after a restart on the same data directory
#                    every acknowledged write is there with its values, and
#                    the table holds at least as many rows as were
#                    acknowledged. Twice: the second round runs on a data
#                    directory that was itself recovered.
#   PeriodicCommitLog  the default mode: after a clean SIGTERM (which
#                    fsyncs) and a restart, every write is there.
#
# Servers are started from $SPATE on free loopback ports, data under
# TMPDIR, and are signalled only by their own pid.
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

from cassandra.cluster import Cluster
from cassandra.concurrent import execute_concurrent_with_args
from cassandra.query import BatchStatement, BatchType

SPATE = os.environ.get("SPATE")
if not SPATE:
    sys.exit("SPATE must name the spate binary")

PORT_RE = re.compile(r"listening on 127\.0\.0\.1:(\d+) \(CQL")
TMPDIR = tempfile.mkdtemp(prefix="spate_cql_crash_")
STARTED = []  # every Popen this file started; only these are ever signalled

# The driver logs every failed request and reconnection attempt after the
# kill; those are the point of the test.
logging.basicConfig(level=logging.CRITICAL)

KEYSPACE = ("CREATE KEYSPACE IF NOT EXISTS spark_streams WITH replication = "
            "{'class': 'SimpleStrategy', 'replication_factor': '1'}")
TABLE = """CREATE TABLE IF NOT EXISTS spark_streams.created_users (
        id UUID PRIMARY KEY, first_name TEXT, last_name TEXT, gender TEXT, address TEXT,
        post_code TEXT, email TEXT, username TEXT, registered_date TEXT, phone TEXT,
        picture TEXT)"""
COLS = ["id", "first_name", "last_name", "gender", "address", "post_code", "email", "username",
        "registered_date", "phone", "picture"]
INSERT = (f"INSERT INTO spark_streams.created_users ({', '.join(COLS)}) "
          f"VALUES ({', '.join('?' * len(COLS))})")

WINDOW = 32          # requests in flight
BATCH_EVERY = 8      # every 8th request is an UNLOGGED BATCH ...
BATCH_ROWS = 5       # ... of 5 inserts
KILL_AFTER = 1500    # acknowledged rows before the kill
WRITE_LIMIT_S = 30   # the stream stops by itself after this long


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

    def start(self, timeout=30.0):
        """Starts on a free port and waits for the port line (a restart
        after kill -9 replays the commit log first)."""
        self.starts += 1
        self.log_path = os.path.join(TMPDIR, f"{self.name}.{self.starts}.log")
        with open(self.log_path, "wb") as logf:
            proc = subprocess.Popen(
                [SPATE, "cql", "--listen", "127.0.0.1:0", "--data-dir", self.data_dir,
                 *self.args],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=logf)
        STARTED.append(proc)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = PORT_RE.search(self.log_text())
            if m:
                self.proc, self.port = proc, int(m.group(1))
                return self
            if proc.poll() is not None:
                raise AssertionError(f"spate cql exited {proc.returncode} at start:\n"
                                     + self.log_text())
            time.sleep(0.05)
        proc.kill()
        proc.wait()
        raise AssertionError(f"spate cql did not report its port within {timeout} s:\n"
                             + self.log_text())

    def stop_checked(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("spate cql did not exit within 20 s of SIGTERM")
        if rc != 0:
            raise AssertionError(f"spate cql exit status after SIGTERM: {rc}\n" + self.log_text())

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        return self.proc.wait(timeout=10)

    def cluster(self):
        return Cluster(["127.0.0.1"], port=self.port, protocol_version=4)


def row_values(uid):
    """The values written for id uid: derived from it, so a reader can
    check them without a record of what was sent."""
    h = uid.hex
    return [uid] + [f"{c}:{h}" for c in COLS[1:]]


class Stream:
    """Writes rows with up to WINDOW requests in flight until stop() or
    the time limit; records which ids were acknowledged. Requests are
    single INSERTs or UNLOGGED BATCHes of BATCH_ROWS INSERTs."""

    def __init__(self, session):
        self.session = session
        self.ins = session.prepare(INSERT)
        self.lock = threading.Lock()
        self.slots = threading.Semaphore(WINDOW)
        self.acked = []     # ids whose request was answered without error
        self.failed = 0     # requests that errored (in flight at the kill, or after)
        self.first_error = None
        self.sent_rows = 0
        self.inflight = 0
        self.stopping = threading.Event()

    def _done(self, _result, ids):
        with self.lock:
            self.acked.extend(ids)
            self.inflight -= 1
        self.slots.release()

    def _error(self, exc, _ids):
        with self.lock:
            self.failed += 1
            self.first_error = self.first_error or exc
            self.inflight -= 1
        self.slots.release()

    def run(self):
        n = 0
        deadline = time.monotonic() + WRITE_LIMIT_S
        while not self.stopping.is_set() and time.monotonic() < deadline:
            if not self.slots.acquire(timeout=0.2):
                continue
            n += 1
            if n % BATCH_EVERY == 0:
                ids = [uuid.uuid4() for _ in range(BATCH_ROWS)]
                stmt = BatchStatement(batch_type=BatchType.UNLOGGED)
                for uid in ids:
                    stmt.add(self.ins, row_values(uid))
            else:
                ids = [uuid.uuid4()]
                stmt = self.ins.bind(row_values(ids[0]))
            with self.lock:
                self.inflight += 1
                self.sent_rows += len(ids)
            try:
                f = self.session.execute_async(stmt, timeout=10)
            except Exception as e:  # e.g. NoHostAvailable raised at once
                self._error(e, ids)
                continue
            f.add_callbacks(self._done, self._error, callback_args=(ids,), errback_args=(ids,))
        # Wait for every outstanding request to be answered or to fail.
        for _ in range(WINDOW):
            self.slots.acquire(timeout=15)


def check_all_there(test, srv, acked, at_most):
    """Every id in acked is in the table with its values; the row count is
    at least len(acked) and at most at_most."""
    cl = srv.cluster()
    try:
        s = cl.connect()
        s.default_timeout = 30
        sel = s.prepare("SELECT * FROM spark_streams.created_users WHERE id = ?")
        results = execute_concurrent_with_args(s, sel, [(uid,) for uid in acked],
                                               concurrency=64, raise_on_first_error=True)
        missing = []
        for uid, (ok, rs) in zip(acked, results):
            test.assertTrue(ok, rs)
            row = rs.one()
            if row is None:
                missing.append(uid)
                continue
            test.assertEqual([getattr(row, c) for c in COLS], row_values(uid))
        test.assertEqual(missing[:10], [], f"{len(missing)} of {len(acked)} acknowledged "
                                           "writes lost")
        count = s.execute("SELECT count(*) FROM spark_streams.created_users").one()[0]
        test.assertGreaterEqual(count, len(acked))
        test.assertLessEqual(count, at_most)
        return count
    finally:
        cl.shutdown()


class BatchCommitLog(unittest.TestCase):
    def test_kill9_mid_stream_loses_no_acknowledged_write(self):
        srv = CqlServer("batch", ["--commitlog-sync", "batch"]).start()
        acked, sent = [], 0
        for rnd in (1, 2):
            cl = srv.cluster()
            try:
                s = cl.connect()
                s.execute(KEYSPACE)
                s.execute(TABLE)
                stream = Stream(s)
                writer = threading.Thread(target=stream.run)
                writer.start()
                deadline = time.monotonic() + WRITE_LIMIT_S
                while True:
                    with stream.lock:
                        n, inflight = len(stream.acked), stream.inflight
                    if stream.failed:  # before the kill: the server refused a write
                        stream.stopping.set()
                        writer.join(60)
                        self.fail(f"a write failed before the kill: {stream.first_error!r}")
                    if (n >= KILL_AFTER and inflight > 0) or time.monotonic() > deadline:
                        break
                    time.sleep(0.002)
                inflight_at_kill = inflight
                srv.kill9()  # the writer is still sending
                stream.stopping.set()
                writer.join(60)
                self.assertFalse(writer.is_alive(), "the writer did not stop")
            finally:
                cl.shutdown()
            self.assertGreaterEqual(len(stream.acked), KILL_AFTER,
                                    f"only {len(stream.acked)} writes acknowledged in "
                                    f"{WRITE_LIMIT_S} s:\n" + srv.log_text()[-2000:])
            acked += stream.acked
            sent += stream.sent_rows
            srv.start()
            count = check_all_there(self, srv, acked, sent)
            log(f"round {rnd}: kill -9 with {inflight_at_kill} requests in flight; "
                f"{len(acked)} acknowledged rows all back after restart ({count} rows, "
                f"{sent} sent, {stream.failed} requests failed)")
        srv.stop_checked()


class PeriodicCommitLog(unittest.TestCase):
    def test_clean_shutdown_keeps_everything(self):
        srv = CqlServer("periodic").start()
        cl = srv.cluster()
        try:
            s = cl.connect()
            s.execute(KEYSPACE)
            s.execute(TABLE)
            stream = Stream(s)
            writer = threading.Thread(target=stream.run)
            writer.start()
            while len(stream.acked) < KILL_AFTER and writer.is_alive() and not stream.failed:
                time.sleep(0.01)
            stream.stopping.set()
            writer.join(60)
            self.assertFalse(writer.is_alive(), "the writer did not stop")
            self.assertEqual(stream.failed, 0, f"a write failed: {stream.first_error!r}")
        finally:
            cl.shutdown()
        srv.stop_checked()  # SIGTERM: the commit log is synced before exit
        srv.start()
        count = check_all_there(self, srv, stream.acked, stream.sent_rows)
        self.assertEqual(count, len(stream.acked))
        srv.stop_checked()
        log(f"periodic mode: {count} rows written, SIGTERM, restart: all there")


if __name__ == "__main__":
    unittest.main(verbosity=2)

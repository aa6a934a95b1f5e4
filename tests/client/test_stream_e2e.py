# test_stream_e2e.py — `spate stream` end to end: spate randomuser →
# spate fetch → users_created (spate broker, confluent_kafka) → spate stream
# → spark_streams.created_users (spate cql, read back with python3-cassandra).
#
#   Stream.test_1_stream_dlq_commit
#       N1 users + a known number of malformed messages (not JSON, missing
#       id, bad UUID) over 6 partitions; the job's rows == distinct users;
#       the dead-letter topic holds exactly the malformed messages, with the
#       original bytes and spate.error/topic/partition/offset/job headers;
#       the group's committed offsets == the end offsets (lag 0); SIGTERM
#       exits 0; /metrics serves the counts as Prometheus text
#   Stream.test_2_kill9_restart
#       N more users (half of them after the kill); the processor is
#       killed (-9) mid-stream and restarted: exact row count again, lag 0
#   Stream.test_3_two_processes_one_killed
#       two processors in one group over a 6-partition topic, one killed
#       midway (half of the users produced after that): the other takes its
#       partitions over, exact row count, lag 0
#   Stream.test_4_refusals
#       an invalid file is refused with FILE:LINE (the postgres sink, once
#       refused here, is tested by test_stream_pg.py)
#   Stream.test_5_file_and_stdout_sinks
#       the JSON-lines file sink and the stdout sink: every record once
#   Stream.test_6_broker_kill9
#       a broker of its own is killed (-9) mid-stream and restarted on the
#       same port and data dir; the processor, never restarted, recovers by
#       itself (and streams the half produced after the restart): exact
#       row count, lag 0
#   Stream.test_7_store_kill9
#       the same with a spate cql of its own (--commitlog-sync batch, so an
#       acknowledged row is on disk) killed -9 and restarted; the second
#       half is produced while it is down
#   Stream.test_8_three_processes_one_killed
#       three processors in one group over six partitions (2 each), one
#       killed midway: the two others take its partitions over (3 each),
#       exact row count, lag 0
#   Stream.test_9_record_shapes
#       records of four column lists, interleaved in runs, into one table
#       (no select): every row holds exactly its record's fields; records
#       with a field that is not a column name or not a column of the
#       table are dead-lettered
#   Stream.test_10_commit_when_caught_up
#       commit_interval_ms 20 s: offsets are committed as soon as the job
#       has caught up (well before 20 s), and again after more records
#   Stream.test_11_partition_batches
#       a table with a compound partition key and a clustering column;
#       rows of 12 partitions interleaved, some rows written twice: the
#       rows of a partition go as unlogged batches (/metrics counts them),
#       every row is stored with its last record's value, and rows with a
#       null clustering value (their batch refused as Invalid, then each
#       row sent alone) are the only dead letters
#   Stream.test_12_batch_bytes
#       the same with batch_bytes 70 (two of these rows, never three):
#       every batch holds two rows
#
# Every server runs from $SPATE on a free loopback port with its data under
# a temp dir and is stopped by pid (tearDownModule kills what is left).
# Sizes: test_1 streams N1 = 100 000 users (the proof) against the
# plain build; under ASan (make test runs this file twice) N1 = N. The
# other tests use N = 20 000 (SPATE_LONG_TESTS=1: 100 000 everywhere).
# KEEP_TMP=1 keeps the temp dir.
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
import unittest
import urllib.request
import uuid

from cassandra.cluster import Cluster
from confluent_kafka.admin import AdminClient, NewTopic

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from streamtest import (BROKER_RE, CQL_RE, SPATE, STARTED, TMPDIR,  # noqa: E402,F401
                        Processor, free_port, log, read, start_server, tearDownModule)
import streamtest  # noqa: E402

N = 100000 if os.environ.get("SPATE_LONG_TESTS") == "1" else 20000
ASAN = "/asan/" in SPATE  # the ASan build is ~5x slower
N1 = N if ASAN else max(N, 100000)
logging.basicConfig(level=logging.ERROR)


ASSIGNED_RE = re.compile(r"job \S+: assigned (\d+) partition")


def last_assigned(processor):
    """How many partitions the processor's latest assignment gave it."""
    got = ASSIGNED_RE.findall(processor.log_text())
    return int(got[-1]) if got else None


class Server:
    """One spate server (`spate broker` or `spate cql`) that can be killed
    and restarted on the same port and data dir."""

    def __init__(self, name, args, port_re):
        self.name, self.args, self.port_re = name, list(args), port_re
        self.proc, self.port, self.starts = None, 0, 0

    def start(self, timeout=20.0):
        """Starts on self.port (0 at first: any); a port just freed by a
        kill may be busy for a moment, so a failed start is retried."""
        deadline = time.monotonic() + timeout
        while True:
            self.starts += 1
            try:
                proc, port, _ = start_server(
                    f"{self.name}.{self.starts}",
                    [*self.args, "--listen", f"127.0.0.1:{self.port}"], self.port_re,
                    timeout=max(1.0, deadline - time.monotonic()))
            except AssertionError:
                if self.port == 0 or time.monotonic() >= deadline:
                    raise
                time.sleep(0.2)
                continue
            if self.port:
                assert port == self.port, (port, self.port)
            self.proc, self.port = proc, port
            return self

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)


PIPELINE = streamtest.JOB_HEAD + """\
      sink:
        cql:
          contact_points: [127.0.0.1:{cql_port}]
          keyspace: spark_streams
          table: {table}
          create: true
          concurrency: 64
      dead_letter:
        topic: {topic}_dlq
      delivery:
        max_in_flight: 5000
        commit_interval_ms: 200
"""


class Stream(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.broker, cls.bport, cls.blog = start_server(
            "broker", ["broker", "--listen", "127.0.0.1:0", "--data-dir",
                       os.path.join(TMPDIR, "broker-data")], BROKER_RE)
        cls.cql, cls.cport, cls.clog = start_server(
            "cql", ["cql", "--listen", "127.0.0.1:0", "--data-dir",
                    os.path.join(TMPDIR, "cql-data")], CQL_RE)
        cls.bootstrap = f"127.0.0.1:{cls.bport}"
        # Users as the scheduler's fetch task makes them: spate fetch
        # against a spate randomuser this test starts.
        cls.users = streamtest.fetch_users("e2e", N1 + N, 300)
        assert len(cls.users) == N1 + N, len(cls.users)
        cls.ids = [json.loads(u)["id"] for u in cls.users]
        cls.session_cluster = Cluster(["127.0.0.1"], port=cls.cport)
        cls.admin = AdminClient({"bootstrap.servers": cls.bootstrap})
        for t in ("users_created", "users_scale"):
            cls.admin.create_topics([NewTopic(t, num_partitions=6, replication_factor=1)])[t] \
                .result(10)

    @classmethod
    def tearDownClass(cls):
        cls.session_cluster.shutdown()

    # ---- helpers ----

    def pipeline(self, name, **kw):
        kw.setdefault("bootstrap", self.bootstrap)
        kw.setdefault("cql_port", self.cport)
        kw.setdefault("cols", ", ".join(streamtest.SEED_COLS))
        path = os.path.join(TMPDIR, name + ".yaml")
        with open(path, "w") as f:
            f.write(PIPELINE.format(**kw))
        return path

    def produce(self, topic, values, bootstrap=None):
        unflushed, failed = streamtest.produce(bootstrap or self.bootstrap, topic,
                                               ((k, v, None) for k, v in values), 20, 1000)
        self.assertEqual(unflushed, 0)
        self.assertEqual(failed, [])

    def user_msgs(self, lo, hi):
        return [(self.ids[i].encode(), self.users[i]) for i in range(lo, hi)]

    def offsets(self, topic, group, bootstrap=None):
        """(committed, end) of the topic's 6 partitions."""
        return streamtest.offsets(bootstrap or self.bootstrap, topic, group, 6)

    def wait_caught_up(self, topic, group, procs, timeout=120, bootstrap=None):
        deadline = time.monotonic() + timeout
        while True:
            committed, end = self.offsets(topic, group, bootstrap)
            if committed == end:
                return committed
            for p in procs:
                self.assertTrue(p.alive(), "spate stream exited:\n" + p.log_text())
            if time.monotonic() > deadline:
                self.fail(f"committed {committed} != end {end} after {timeout} s\n"
                          + "\n".join(p.log_text()[-3000:] for p in procs))
            time.sleep(0.25)

    def wait_progress(self, topic, group, at_least, procs, timeout=60, bootstrap=None):
        deadline = time.monotonic() + timeout
        while sum(self.offsets(topic, group, bootstrap)[0]) < at_least:
            for p in procs:
                self.assertTrue(p.alive(), "spate stream exited:\n" + p.log_text())
            if time.monotonic() > deadline:
                self.fail("no progress\n" + "\n".join(p.log_text()[-3000:] for p in procs))
            time.sleep(0.05)

    def rows(self, table, port=None):
        cluster = self.session_cluster if port is None else Cluster(["127.0.0.1"], port=port)
        try:
            s = cluster.connect()
            try:
                return s.execute(f"SELECT count(*) FROM spark_streams.{table}").one()[0]
            finally:
                s.shutdown()
        finally:
            if port is not None:
                cluster.shutdown()

    def one_partition_job(self, name, extra, table=None, cql="create: true"):
        """A 1-partition topic NAME and a job NAME from it (group g_NAME)
        into spark_streams.TABLE (default NAME_users; CQL: more settings of
        the sink, a YAML flow mapping's entries), with EXTRA (YAML lines of
        the job, indented 6) added: the path of its file."""
        self.admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])[name] \
            .result(10)
        path = os.path.join(TMPDIR, name + ".yaml")
        with open(path, "w") as f:
            f.write(f"""stream:
  jobs:
    - name: {name}
      source:
        kafka: {{bootstrap: {self.bootstrap}, topics: [{name}], group: g_{name},
                 start: earliest}}
      sink:
        cql: {{contact_points: [127.0.0.1:{self.cport}], keyspace: spark_streams,
               table: {table or name + "_users"}, {cql}}}
{extra}""")
        return path

    def dlq(self, topic, want):
        """Every message of the dead-letter topic (1 partition, auto-created)."""
        return streamtest.read_dlq(self.bootstrap, topic)

    # ---- tests ----

    def test_1_stream_dlq_commit(self):
        malformed = ([(b"bad-json-%d" % i, b"{not json %d" % i) for i in range(5)]
                     + [(b"no-id-%d" % i, json.dumps({"first_name": "x", "last_name": "y",
                                                       "email": "e", "username": "u%d" % i})
                         .encode()) for i in range(5)]
                     + [(b"bad-uuid-%d" % i, json.dumps({"id": "not-a-uuid-%d" % i,
                                                         "first_name": "x", "last_name": "y",
                                                         "email": "e", "username": "u"})
                         .encode()) for i in range(5)])
        msgs = self.user_msgs(0, N1)
        # the malformed ones spread among the users
        for k, m in enumerate(malformed):
            msgs.insert((k + 1) * (N1 // (len(malformed) + 1)), m)
        self.produce("users_created", msgs)
        t0 = time.monotonic()
        mport = free_port()
        proc = Processor(self.pipeline("p1", job="created_users", topic="users_created",
                                       group="e2e", table="created_users"),
                         ["--metrics", f"127.0.0.1:{mport}"])
        committed = self.wait_caught_up("users_created", "e2e", [proc])
        secs = time.monotonic() - t0
        self.assertEqual(sum(committed), N1 + len(malformed))
        log(f"{N1 + len(malformed)} messages streamed in {secs:.1f} s "
            f"({(N1 + len(malformed)) / secs:.0f}/s); committed == end offsets on 6 partitions")
        time.sleep(1.2)  # one metrics refresh
        text = urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=5) \
            .read().decode()
        self.assertIn(f'spate_stream_records_in_total{{job="created_users"}} {N1 + 15}', text)
        self.assertIn(f'spate_stream_records_out_total{{job="created_users"}} {N1}', text)
        self.assertIn('spate_stream_records_dead_lettered_total{job="created_users"} 15', text)
        self.assertRegex(text, r'spate_stream_lag\{job="created_users",topic="users_created",'
                               r'partition="\d"\} 0')
        self.assertIn('spate_stream_sink_latency_seconds_count{job="created_users"} ' + str(N1),
                      text)
        # one row per partition (id): never a batch
        self.assertIn('spate_stream_sink_batches_total{job="created_users"} 0', text)
        # librdkafka 2.0 (Debian 12) needs the fetch nudger while the job
        # drains a backlog bigger than its prefetch (stream_fetch.c)
        nudges = re.search(r'spate_stream_fetch_nudges_total\{job="created_users"\} (\d+)', text)
        self.assertIsNotNone(nudges, text)
        self.assertGreater(int(nudges.group(1)), 0)
        log(f"/metrics: in, out, dead-lettered, lag 0, latency histogram, "
            f"{nudges.group(1)} fetch nudges")
        proc.stop()
        self.assertIn("job created_users: in", proc.log_text())
        self.assertEqual(self.rows("created_users"), len(set(self.ids[:N1])))
        log(f"rows == distinct users ({len(set(self.ids[:N1]))})")
        dl = self.dlq("users_created_dlq", len(malformed))
        self.assertEqual(len(dl), len(malformed))
        by_key = {m.key(): m for m in dl}
        self.assertEqual(set(by_key), {k for k, _ in malformed})
        for key, value in malformed:
            m = by_key[key]
            self.assertEqual(m.value(), value)  # the original bytes
            h = dict(m.headers())
            self.assertEqual(h["spate.topic"], b"users_created")
            self.assertEqual(h["spate.job"], b"created_users")
            self.assertIn(int(h["spate.partition"]), range(6))
            self.assertGreaterEqual(int(h["spate.offset"]), 0)
            err = h["spate.error"].decode()
            if key.startswith(b"bad-json"):
                self.assertIn("json", err.lower())
            elif key.startswith(b"no-id"):
                self.assertEqual(err, "required field 'id' is missing")
            else:
                self.assertIn("is not a UUID", err)
        log("dead-letter topic == the 15 malformed messages, original bytes, spate.* headers")

    def test_2_kill9_restart(self):
        # The second half goes in after the kill: the job is fast enough
        # to commit everything between two polls of the test.
        self.produce("users_created", self.user_msgs(N1, N1 + N // 2))
        cfg = self.pipeline("p2", job="created_users", topic="users_created", group="e2e",
                            table="created_users")
        before = sum(self.offsets("users_created", "e2e")[0])
        proc = Processor(cfg)
        self.wait_progress("users_created", "e2e", before + N // 4, [proc])
        proc.kill9()
        mid = sum(self.offsets("users_created", "e2e")[0])
        self.produce("users_created", self.user_msgs(N1 + N // 2, N1 + N))
        log(f"killed -9 after {mid - before} of {N} new messages were committed "
            f"({N // 2} produced after the kill)")
        proc = Processor(cfg)
        self.wait_caught_up("users_created", "e2e", [proc])
        proc.stop()
        self.assertEqual(self.rows("created_users"), len(set(self.ids)))
        log(f"restarted: rows == distinct users ({len(set(self.ids))}), lag 0")

    def test_3_two_processes_one_killed(self):
        # Half before and half after the kill: were all of a's records
        # produced first, a fast `a` could commit all of its partitions
        # before the kill and `b` would never need to take them over.
        self.produce("users_scale", self.user_msgs(0, N // 2))
        cfg = self.pipeline("p3", job="scale", topic="users_scale", group="scale",
                            table="scale_users")
        a, b = Processor(cfg), Processor(cfg)
        deadline = time.monotonic() + 30
        while not ("assigned 3 partitions" in a.log_text()
                   and "assigned 3 partitions" in b.log_text()):
            self.assertLess(time.monotonic(), deadline,
                            "the two processors did not split 6 partitions\n"
                            + a.log_text() + b.log_text())
            time.sleep(0.05)
        self.wait_progress("users_scale", "scale", N // 5, [a, b])  # of the first N/2
        a.kill9()
        self.produce("users_scale", self.user_msgs(N // 2, N))
        log("two processors split the 6 partitions 3/3; one killed -9 midway")
        self.wait_caught_up("users_scale", "scale", [b])
        self.assertEqual(last_assigned(b), 6)
        b.stop()
        self.assertEqual(self.rows("scale_users"), len(set(self.ids[:N])))
        log(f"the survivor took all 6 over: rows == distinct users ({len(set(self.ids[:N]))})")

    def test_5_file_and_stdout_sinks(self):
        """The JSON-lines file sink (fsync'd before the commit) and the stdout
        sink: every record once, as the program made it, and lag 0."""
        topic = "to_files"
        self.admin.create_topics([NewTopic(topic, num_partitions=6, replication_factor=1)])[topic] \
            .result(10)
        n = 500
        self.produce(topic, self.user_msgs(0, n) + [(b"bad", b"{not json")])
        out = os.path.join(TMPDIR, "file_sink.jsonl")
        for kind, sink in (("file", "file: {path: %s}" % out), ("stdout", "stdout: {}")):
            path = os.path.join(TMPDIR, kind + "_sink.yaml")
            with open(path, "w") as f:
                f.write(f"""stream:
  jobs:
    - name: {kind}s
      source:
        kafka: {{bootstrap: {self.bootstrap}, topics: [{topic}], group: g_{kind}, start: earliest}}
      transform:
        - map: {{select: [id, email]}}
      sink:
        {sink}
      dead_letter: {{topic: {topic}_dlq_{kind}}}
      delivery: {{commit_interval_ms: 200}}
""")
            logp = os.path.join(TMPDIR, kind + "_sink.log")
            outp = os.path.join(TMPDIR, kind + "_sink.out")
            with open(logp, "wb") as lf, open(outp, "wb") as of:
                proc = subprocess.Popen([SPATE, "stream", "--config", path], stdout=of, stderr=lf)
                STARTED.append(proc)
                deadline = time.time() + 60
                while time.time() < deadline:
                    committed, end = self.offsets(topic, "g_" + kind)
                    if sum(committed) == sum(end) == n + 1:
                        break
                    time.sleep(0.2)
                proc.send_signal(signal.SIGTERM)
                self.assertEqual(proc.wait(30), 0, read(logp))
            committed, end = self.offsets(topic, "g_" + kind)
            self.assertEqual((sum(committed), sum(end)), (n + 1, n + 1))
            lines = read(out if kind == "file" else outp).splitlines()
            recs = [json.loads(line) for line in lines]
            self.assertEqual(len(recs), n)
            self.assertEqual({r["id"] for r in recs}, set(self.ids[:n]))
            self.assertTrue(all(set(r) == {"id", "email"} for r in recs))
        log("file and stdout sinks: every record once, offsets committed")

    def test_4_refusals(self):
        path = os.path.join(TMPDIR, "invalid.yaml")
        with open(path, "w") as f:
            f.write("stream:\n  jobs:\n    - name: j\n      source: {kafka: {topics: t}}\n"
                    "      sink: {stdout: {}}\n")
        r = subprocess.run([SPATE, "stream", "--config", path], capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertRegex(r.stderr.decode(), re.escape(path) + r":4: ")
        log("an invalid file refused with FILE:LINE")

    def crash_server_mid_stream(self, which):
        """test_6/test_7: N users into a 6-partition topic, one processor;
        once a quarter is committed the broker (which="broker") or the
        store (which="store") is killed -9 and restarted a second later on
        the same port and data dir (the second half of the users is
        produced while the store is down, or once the broker is back). The
        processor is not touched: it must still be running, catch up (lag
        0) and leave exactly the distinct users as rows."""
        bootstrap, cql_port = self.bootstrap, self.cport
        if which == "broker":
            server = Server("broker_k", ["broker", "--data-dir",
                                         os.path.join(TMPDIR, "broker_k-data")], BROKER_RE)
            server.start()
            bootstrap = f"127.0.0.1:{server.port}"
        else:
            server = Server("cql_k", ["cql", "--commitlog-sync", "batch", "--data-dir",
                                      os.path.join(TMPDIR, "cql_k-data")], CQL_RE)
            server.start()
            cql_port = server.port
        topic, group, table = f"users_{which}_k", f"{which}_k", f"{which}_k_users"
        admin = AdminClient({"bootstrap.servers": bootstrap})
        admin.create_topics([NewTopic(topic, num_partitions=6, replication_factor=1)])[topic] \
            .result(10)
        del admin  # its handle would log the broker's death below
        # Half now, half once the server is down (the store) or back (the
        # broker): the kill always lands mid-stream, and the second half
        # proves the job goes on by itself.
        self.produce(topic, self.user_msgs(0, N // 2), bootstrap)
        cfg = self.pipeline(f"p_{which}_k", job=f"{which}_k", topic=topic, group=group,
                            table=table, bootstrap=bootstrap, cql_port=cql_port)
        proc = Processor(cfg)
        self.wait_progress(topic, group, N // 4, [proc], bootstrap=bootstrap)
        mid = sum(self.offsets(topic, group, bootstrap)[0])
        server.kill9()
        if which == "store":
            self.produce(topic, self.user_msgs(N // 2, N), bootstrap)
        time.sleep(1.0)
        self.assertTrue(proc.alive(), f"spate stream exited with the {which} down:\n"
                        + proc.log_text())
        server.start()
        if which == "broker":
            self.produce(topic, self.user_msgs(N // 2, N), bootstrap)
        log(f"{which} killed -9 after {mid} of {N} messages were committed, "
            f"restarted on port {server.port}")
        t0 = time.monotonic()
        self.wait_caught_up(topic, group, [proc], bootstrap=bootstrap)
        secs = time.monotonic() - t0
        proc.stop()
        self.assertEqual(self.rows(table, cql_port), len(set(self.ids[:N])))
        log(f"the same processor caught up {secs:.1f} s after the restart: "
            f"rows == distinct users ({len(set(self.ids[:N]))}), lag 0")
        self.assertEqual(server.stop(), 0)

    def test_6_broker_kill9(self):
        self.crash_server_mid_stream("broker")

    def test_7_store_kill9(self):
        self.crash_server_mid_stream("store")

    def test_8_three_processes_one_killed(self):
        topic = "users_scale3"
        self.admin.create_topics([NewTopic(topic, num_partitions=6, replication_factor=1)])[topic] \
            .result(10)
        self.produce(topic, self.user_msgs(0, N // 2))  # the rest after the kill
        cfg = self.pipeline("p8", job="scale3", topic=topic, group="scale3",
                            table="scale3_users")
        procs = [Processor(cfg) for _ in range(3)]
        deadline = time.monotonic() + 40
        while [last_assigned(p) for p in procs] != [2, 2, 2]:
            self.assertLess(time.monotonic(), deadline,
                            "the three processors did not split 6 partitions 2/2/2\n"
                            + "".join(p.log_text() for p in procs))
            time.sleep(0.05)
        self.wait_progress(topic, "scale3", N // 5, procs)  # of the first N/2
        mid = sum(self.offsets(topic, "scale3")[0])
        procs[0].kill9()
        self.produce(topic, self.user_msgs(N // 2, N))
        log(f"three processors split the 6 partitions 2/2/2; one killed -9 after {mid} of {N}")
        self.wait_caught_up(topic, "scale3", procs[1:])
        self.assertEqual([last_assigned(p) for p in procs[1:]], [3, 3])
        for p in procs[1:]:
            p.stop()
        self.assertEqual(self.rows("scale3_users"), len(set(self.ids[:N])))
        log(f"the two survivors took its partitions over (3/3): rows == distinct users "
            f"({len(set(self.ids[:N]))}), lag 0")

    def test_9_record_shapes(self):
        """Records of several column lists, interleaved, into one table: each
        row holds its own record's fields (the sink keeps one prepared INSERT
        per list and takes the last one first); a field that is not a column
        name or not a column of the table dead-letters its record. The flat
        path takes exactly the records after the first of each run of one
        shape (spate_stream_records_flat_total)."""
        topic = "shapes"
        shapes = [lambda i: {"first_name": f"a{i}"},
                  lambda i: {"last_name": f"b{i}", "email": f"e{i}"},
                  lambda i: {"first_name": f"c{i}", "last_name": f"d{i}"},
                  lambda i: {"first_name": f"f{i}", "last_name": f"g{i}", "email": f"h{i}"}]
        want, msgs = {}, []
        for i in range(400):
            u = str(uuid.uuid4())
            # runs of one shape, then switches, in a fixed but uneven order
            rec = {"id": u, **shapes[(i // 3 + i // 7) % 4](i)}
            want[u] = rec
            msgs.append((u.encode(), json.dumps(rec).encode()))
        bad = [{"id": str(uuid.uuid4()), "first,name": "x"},
               {"id": str(uuid.uuid4()), "first_name": "x", "first_namex": "y"},
               {"id": str(uuid.uuid4()), "first_name": "x", "": "y"}]
        for k, rec in enumerate(bad):
            msgs.insert(50 + 100 * k, (b"bad", json.dumps(rec).encode()))
        # right after the first record ({id, first_name}): names one letter
        # longer and shorter than its last column
        near = [{"id": str(uuid.uuid4()), "first_namex": "y"},
                {"id": str(uuid.uuid4()), "first_nam": "y"}]
        for k, rec in enumerate(near):
            msgs.insert(1 + k, (b"bad", json.dumps(rec).encode()))
        bad += near
        path = self.one_partition_job(topic, """      transform:
        - map: {require: [id]}
      dead_letter: {topic: shapes_dlq}
      delivery: {commit_interval_ms: 200}
""")
        self.produce(topic, msgs)
        mport = streamtest.free_port()
        proc = Processor(path, ["--metrics", f"127.0.0.1:{mport}"])
        deadline = time.monotonic() + 60
        while sum(streamtest.offsets(self.bootstrap, topic, "g_" + topic, 1)[0]) < len(msgs):
            self.assertTrue(proc.alive(), proc.log_text())
            self.assertLess(time.monotonic(), deadline, proc.log_text()[-3000:])
            time.sleep(0.1)
        # The flat path (docs/stream.md, Cost) takes exactly the records of
        # a run of one shape after its first (that shape's statement is
        # then the last one used); a new shape, and every bad record, go
        # the general way. The rows below are checked field by field
        # either way.
        shape_of = [(i // 3 + i // 7) % 4 for i in range(400)]
        want_flat = sum(1 for i in range(1, 400) if shape_of[i] == shape_of[i - 1])
        flat = None
        while flat != want_flat:
            self.assertLess(time.monotonic(), deadline,
                            f"flat path count {flat}, want {want_flat}")
            text = urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics",
                                          timeout=5).read().decode()
            m = re.search(r'^spate_stream_records_flat_total\{job="shapes"\} (\d+)$', text, re.M)
            flat = int(m.group(1)) if m else -1
            time.sleep(0.3)
        proc.stop()
        s = self.session_cluster.connect()
        try:
            got = {str(r.id): r for r in s.execute(
                "SELECT id, first_name, last_name, email FROM spark_streams.shapes_users")}
        finally:
            s.shutdown()
        self.assertEqual(set(got), set(want))
        for u, rec in want.items():
            r = got[u]
            self.assertEqual((r.first_name, r.last_name, r.email),
                             (rec.get("first_name"), rec.get("last_name"), rec.get("email")), u)
        dead = self.dlq(topic + "_dlq", len(bad))
        self.assertEqual(sorted(json.loads(m.value())["id"] for m in dead),
                         sorted(b["id"] for b in bad))
        log(f"{len(want)} records of 4 column lists stored field by field ({flat} by the "
            f"flat path); {len(bad)} with bad field names dead-lettered")

    def test_10_commit_when_caught_up(self):
        """commit_interval_ms 20 s: the job commits as soon as it has caught
        up (here within a tenth of the interval), not 20 s later; and again
        when it has caught up with more records."""
        topic = "caught_up"
        path = self.one_partition_job(topic, "      delivery: {commit_interval_ms: 20000}\n")
        self.produce(topic, self.user_msgs(0, 200))
        t0 = time.monotonic()
        proc = Processor(path)
        while streamtest.offsets(self.bootstrap, topic, "g_caught_up", 1)[0] != [200]:
            self.assertTrue(proc.alive(), proc.log_text())
            self.assertLess(time.monotonic() - t0, 15,
                            "no commit before the 20 s interval\n" + proc.log_text()[-3000:])
            time.sleep(0.1)
        took = time.monotonic() - t0
        self.produce(topic, self.user_msgs(200, 300))
        t1 = time.monotonic()  # the interval's commit would come 20 s after the last one
        while streamtest.offsets(self.bootstrap, topic, "g_caught_up", 1)[0] != [300]:
            self.assertTrue(proc.alive(), proc.log_text())
            self.assertLess(time.monotonic() - t1, 15,
                            "no commit after the second batch\n" + proc.log_text()[-3000:])
            time.sleep(0.1)
        proc.stop()
        self.assertEqual(self.rows("caught_up_users"), len(set(self.ids[:300])))
        log(f"commit_interval_ms 20 s: caught up and committed {took:.1f} s after start, "
            "and again after more records")

    def readings_job(self, topic, cql):
        """Rows of 12 partitions of a table with a clustering column, some
        written twice, three with a null clustering value, through a job
        with the CQL sink settings CQL: (batches, rows in batches) from
        /metrics, after checking every row holds its last record's value
        and the bad rows alone are dead-lettered."""
        s = self.session_cluster.connect()
        try:
            s.execute("CREATE KEYSPACE IF NOT EXISTS spark_streams WITH replication = "
                      "{'class': 'SimpleStrategy', 'replication_factor': '1'}")
            s.execute(f"CREATE TABLE spark_streams.{topic} (sensor text, day int, seq int, "
                      "v text, PRIMARY KEY ((sensor, day), seq))")
        finally:
            s.shutdown()
        want, msgs = {}, []
        parts = [(f"s{k % 4}", k // 4) for k in range(12)]  # 12 partitions (sensor, day)
        for seq in range(50):
            for sensor, day in parts:  # interleaved: every partition in every run
                rec = {"sensor": sensor, "day": day, "seq": seq, "v": f"{sensor}/{day}/{seq}"}
                want[(sensor, day, seq)] = rec["v"]
                msgs.append((sensor.encode(), json.dumps(rec).encode()))
                if seq % 10 == 3:  # the same row again, right after: the later value wins
                    rec = dict(rec, v=rec["v"] + "+")
                    want[(sensor, day, seq)] = rec["v"]
                    msgs.append((sensor.encode(), json.dumps(rec).encode()))
        bad = []
        for k in range(3):  # a null clustering value, amid its partition's rows
            rec = {"sensor": "s1", "day": 1, "seq": None, "v": f"bad{k}"}
            bad.append(rec)
            msgs.insert(100 + 200 * k, (b"s1", json.dumps(rec).encode()))
        path = self.one_partition_job(topic, f"""      dead_letter: {{topic: {topic}_dlq}}
      delivery: {{commit_interval_ms: 200}}
""", table=topic, cql=cql)
        self.produce(topic, msgs)
        mport = free_port()
        proc = Processor(path, ["--metrics", f"127.0.0.1:{mport}"])
        deadline = time.monotonic() + 60
        while sum(streamtest.offsets(self.bootstrap, topic, "g_" + topic, 1)[0]) < len(msgs):
            self.assertTrue(proc.alive(), proc.log_text())
            self.assertLess(time.monotonic(), deadline, proc.log_text()[-3000:])
            time.sleep(0.1)
        time.sleep(1.2)  # one metrics refresh
        text = urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=5) \
            .read().decode()
        proc.stop()
        counts = [int(re.search(r'spate_stream_sink_%s_total\{job="%s"\} (\d+)' % (f, topic),
                                text).group(1)) for f in ("batches", "batched_rows")]
        s = self.session_cluster.connect()
        try:
            got = {(r.sensor, r.day, r.seq): r.v
                   for r in s.execute(f"SELECT sensor, day, seq, v FROM spark_streams.{topic}")}
        finally:
            s.shutdown()
        # (with `timestamps: server` one row kept its first value: the rows
        # of a refused batch are sent again after the later record's batch)
        diff = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
        self.assertEqual(diff, {}, f"rows (stored, want) of {len(diff)} rows")
        self.assertEqual(len(got), len(want))
        dead = self.dlq(topic + "_dlq", len(bad))
        self.assertEqual(sorted(json.loads(m.value())["v"] for m in dead),
                         sorted(b["v"] for b in bad))
        for m in dead:
            self.assertIn("null", dict(m.headers())["spate.error"].decode())
        log(f"{topic} ({cql}): {len(want)} rows of 12 partitions, {counts[1]} of them in "
            f"{counts[0]} unlogged batches; rows written twice hold the later value; "
            f"{len(bad)} rows with a null clustering value dead-lettered alone")
        return counts

    def test_11_partition_batches(self):
        """Rows of one partition go as unlogged batches of up to batch_rows;
        a later record of a row already in a batch goes in a later request
        (and wins); a batch refused as Invalid is split, so only its bad
        rows are dead-lettered."""
        batches, batched = self.readings_job("readings", "batch_rows: 8")
        # most rows went in batches of 2..8 rows
        self.assertGreater(batches, 0)
        self.assertGreaterEqual(batched, 2 * batches)
        self.assertLessEqual(batched, 8 * batches)
        self.assertGreater(batched, 600 // 2)

    def test_12_batch_bytes(self):
        """batch_bytes closes a batch: rows here bind 26 to 34 bytes each
        (values with their 4-byte lengths), so 70 bytes hold two, never
        three."""
        batches, batched = self.readings_job("readings_small", "batch_bytes: 70")
        self.assertGreater(batches, 0)
        self.assertEqual(batched, 2 * batches)

if __name__ == "__main__":
    unittest.main(verbosity=2)

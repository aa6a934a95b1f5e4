# test_broker_python.py — `spate broker` driven by confluent-kafka-python.
#
# Starts the real spate binary ($SPATE) as `spate broker --listen
# 127.0.0.1:0 --data-dir <temp dir>` (one broker per test group, each with
# its own data directory), reads the port it bound from its log line
# "listening on 127.0.0.1:PORT (Kafka protocol; ...", and checks, with
# python3-confluent-kafka 1.7.0 (librdkafka 2.0.2) and raw sockets:
#   1. a 5000-message round trip (keys, headers, acks=all, linger.ms=5) on a
#      3-partition topic made by AdminClient.create_topics, read back by a
#      Consumer with assign() (no group protocol: the broker has none):
#      every message once, per-partition order, offsets = delivery reports;
#   2. CreateTopics/DeleteTopics through AdminClient and their errors
#      (TOPIC_ALREADY_EXISTS, INVALID_REPLICATION_FACTOR,
#      INVALID_TOPIC_EXCEPTION (librdkafka: TOPIC_EXCEPTION), UNKNOWN_TOPIC_OR_PART);
#   3. acks=0 and acks=1 producers (topics auto-created by Metadata);
#   4. kill -9 of the broker while an acks=all producer streams: after a
#      restart on the same port and data directory every acknowledged
#      message is at its acknowledged offset, once;
#   5. a torn tail (garbage appended to the active segment) is cut at
#      start-up and logged, and the log continues at the right offset;
#   6. hostile bytes on raw sockets (bad sizes, unknown API key, unsupported
#      versions, lying array counts, truncated frames) leave the broker
#      serving, and ApiVersions v4 gets the KIP-511 v0-layout answer;
#   7. a Fetch long poll: a consumer at the end gets a message produced
#      a second later.
# Every broker is stopped with SIGTERM and must exit 0 (except the one the
# crash test kills); only the processes started here are ever signalled.
#
# Uses the Python standard library plus python3-confluent-kafka (Debian's,
# seen only by /usr/bin/python3). Run by ctest (client.test_broker_python),
# or by hand:
#
#   cd /work/main && cmake --build build -j2 --target spate
#   SPATE=$PWD/build/spate /usr/bin/python3 tests/client/test_broker_python.py -v
#
# Set KEEP_TMP=1 to keep the data directories and broker logs. Exits
# non-zero when a check fails.
import glob
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from confluent_kafka import (OFFSET_BEGINNING, OFFSET_END, Consumer, KafkaError,
                             KafkaException, Producer, TopicPartition)
from confluent_kafka.admin import AdminClient, NewTopic

from kafkatest import *  # noqa: F401,F403 — shared broker helpers (kafkatest.py)



def parse_api_versions_v0(resp):
    """resp = the frame after its size: corr, error, [key, min, max]."""
    corr, err, n = struct.unpack(">ihi", resp[:10])
    entries = [struct.unpack(">hhh", resp[10 + 6 * i:16 + 6 * i]) for i in range(n)]
    return corr, err, n, entries


# ---- tests ----

class BrokerCase(unittest.TestCase):
    """A group sharing one broker, stopped with SIGTERM (exit 0) at the end."""
    broker = None
    broker_args = ()

    @classmethod
    def setUpClass(cls):
        cls.broker = Broker(cls.__name__).start(args=cls.broker_args)

    @classmethod
    def tearDownClass(cls):
        if cls.broker and cls.broker.alive():
            cls.broker.stop_checked()
            log(f"{cls.__name__}: broker exited 0 on SIGTERM")


class T1RoundTrip(BrokerCase):
    def test_5000_messages_keys_headers_three_partitions(self):
        b, topic, n = self.broker, "roundtrip", 5000
        create_topic(b, topic, 3)

        def value(i):
            return (b"value-%d|" % i) * (1 + i % 17)

        def headers(i):
            return [("idx", b"%d" % i), ("kind", b"even" if i % 2 == 0 else b"odd"),
                    ("idx", b"again-%d" % i)]  # a repeated header name

        reports, errors = {}, []

        def dr(err, msg):
            i = int(msg.key().split(b"-")[1])
            if err is not None:
                errors.append((i, err))
            else:
                reports[i] = (msg.partition(), msg.offset())

        p = Producer(client_conf(b, {"acks": "all", "linger.ms": 5}))
        produce_all(p, topic, ({"key": b"key-%d" % i, "value": value(i),
                                "headers": headers(i)} for i in range(n)), dr)
        self.assertEqual(p.flush(30), 0, "flush left messages undelivered")
        self.assertEqual(errors, [])
        self.assertEqual(len(reports), n)
        parts_used = {pp for pp, _ in reports.values()}
        self.assertEqual(parts_used, {0, 1, 2}, "the partitioner should spread 5000 keys")
        log(f"5000 delivery reports, no errors, partitions {sorted(parts_used)}")

        got, hw, cerrs = consume_to_end(b, topic, [0, 1, 2])
        self.assertEqual(sum(hw.values()), n, f"high watermarks {hw}")
        seen = set()
        for part, msgs in got.items():
            idxs = []
            for k, m in enumerate(msgs):
                i = int(m.key().split(b"-")[1])
                self.assertNotIn(i, seen, f"message {i} consumed twice")
                seen.add(i)
                idxs.append(i)
                self.assertEqual((m.partition(), m.offset()), reports[i],
                                 f"message {i}: offset differs from its delivery report")
                self.assertEqual(m.offset(), k, f"partition {part}: offsets not contiguous")
                self.assertEqual(m.value(), value(i))
                self.assertEqual(m.headers(), headers(i))
                self.assertEqual(m.topic(), topic)
            self.assertEqual(idxs, sorted(idxs), f"partition {part}: not in produce order")
            self.assertEqual(len(msgs), hw[part])
        self.assertEqual(seen, set(range(n)), "messages missing")
        log(f"all 5000 read back once, in order, offsets/keys/headers/values intact "
            f"(per partition {[len(got[x]) for x in (0, 1, 2)]}; consumer errors: {cerrs})")


class T2Admin(BrokerCase):
    def assert_kafka_error(self, future, code):
        with self.assertRaises(KafkaException) as cm:
            future.result(10)
        err = cm.exception.args[0]
        self.assertEqual(err.code(), code, f"got {err}")
        return err

    def test_create_list_delete_and_errors(self):
        a = admin_for(self.broker)
        t = "admin-topic"
        self.assertIsNone(a.create_topics([NewTopic(t, num_partitions=4,
                                                    replication_factor=1)])[t].result(10))
        md = a.list_topics(timeout=5)
        self.assertIn(t, md.topics)
        self.assertIsNone(md.topics[t].error)
        self.assertEqual(sorted(md.topics[t].partitions), [0, 1, 2, 3])
        for pm in md.topics[t].partitions.values():
            self.assertEqual(pm.leader, 1)
            self.assertEqual(pm.replicas, [1])
            self.assertEqual(pm.isrs, [1])
        log("create_topics (4 partitions) then list_topics shows it, leader/replicas/isr = [1]")

        e = self.assert_kafka_error(
            a.create_topics([NewTopic(t, num_partitions=4, replication_factor=1)])[t],
            KafkaError.TOPIC_ALREADY_EXISTS)
        log(f"creating it again: {e.name()}")

        e = self.assert_kafka_error(
            a.create_topics([NewTopic("rf3", num_partitions=1, replication_factor=3)])["rf3"],
            KafkaError.INVALID_REPLICATION_FACTOR)
        self.assertNotIn("rf3", a.list_topics(timeout=5).topics)
        log(f"replication_factor=3: {e.name()}, not created")

        e = self.assert_kafka_error(
            a.create_topics([NewTopic("bad/name", num_partitions=1,
                                      replication_factor=1)])["bad/name"],
            KafkaError.TOPIC_EXCEPTION)  # INVALID_TOPIC_EXCEPTION (17) in Kafka's names
        self.assertNotIn("bad/name", a.list_topics(timeout=5).topics)
        log(f"name 'bad/name': {e.name()}")

        self.assertIsNone(a.delete_topics([t])[t].result(10))
        self.assertNotIn(t, a.list_topics(timeout=5).topics)
        self.assertEqual(glob.glob(os.path.join(self.broker.data_dir, t + "-*")), [],
                         "partition directories left after delete")
        log("delete_topics: gone from list_topics and from the data directory")

        e = self.assert_kafka_error(a.delete_topics(["no-such-topic"])["no-such-topic"],
                                    KafkaError.UNKNOWN_TOPIC_OR_PART)
        log(f"deleting a missing topic: {e.name()}")

        # A deleted name can be used again, and starts empty.
        a.create_topics([NewTopic(t, num_partitions=2, replication_factor=1)])[t].result(10)
        md = a.list_topics(timeout=5)
        self.assertEqual(sorted(md.topics[t].partitions), [0, 1])
        got, hw, _ = consume_to_end(self.broker, t, [0, 1], settle=0)
        self.assertEqual(hw, {0: 0, 1: 0})
        log("the deleted name is created again, with 2 empty partitions")


class T3Acks(BrokerCase):
    def run_acks(self, acks, n=1000):
        b, topic = self.broker, f"acks-{acks}"  # auto-created by the producer's Metadata
        reports, errors = [], []

        def dr(err, msg):
            (errors if err else reports).append((int(msg.value()), msg.offset()))

        p = Producer(client_conf(b, {"acks": acks, "linger.ms": 5}))
        produce_all(p, topic, ({"value": b"%d" % i} for i in range(n)), dr)
        self.assertEqual(p.flush(30), 0)
        self.assertEqual(errors, [])
        self.assertEqual(len(reports), n)
        if acks == "1":
            self.assertEqual(sorted(o for _, o in reports), list(range(n)))
        # acks=0: flush() returns once the requests are written to the
        # socket, and with Nagle (librdkafka's default) and no response to
        # ack them, the last ones may reach the broker ~40 ms later.
        got, hw, _ = consume_to_end(b, topic, [0], want=n)
        vals = [int(m.value()) for m in got[0]]
        self.assertEqual(hw[0], n)
        self.assertEqual(vals, list(range(n)))
        log(f"acks={acks}: {n} messages delivered and read back in order")

    def test_acks_0(self):
        self.run_acks("0")

    def test_acks_1(self):
        self.run_acks("1")


class T4Crash(unittest.TestCase):
    def test_kill9_during_acks_all_stream(self):
        b = Broker("T4Crash").start()
        self.addCleanup(lambda: b.alive() and b.stop_checked())
        topic = "crash"
        create_topic(b, topic, 1)
        port = b.port

        acked, ack_time, failed, client_errors = {}, {}, {}, []
        produced = [0]

        def dr(err, msg):
            i = int(msg.value())
            if err is None:
                acked[i] = msg.offset()
                ack_time[i] = time.monotonic()
            else:
                failed[i] = err

        p = Producer(client_conf(b, {
            "acks": "all", "enable.idempotence": False, "max.in.flight": 1,
            "linger.ms": 2, "retries": 1000000, "retry.backoff.ms": 100,
            "reconnect.backoff.ms": 50, "reconnect.backoff.max.ms": 300,
            "message.timeout.ms": 30000, "error_cb": client_errors.append,
        }))

        def stream():
            i, end = 0, time.monotonic() + 3.0
            while time.monotonic() < end:
                for _ in range(10):
                    p.produce(topic, value=b"%d" % i, on_delivery=dr)
                    i += 1
                p.poll(0.005)
            produced[0] = i

        th = threading.Thread(target=stream)
        th.start()
        time.sleep(1.2)
        kill_time = time.monotonic()
        rc = b.kill9()
        self.assertEqual(rc, -signal.SIGKILL)
        n_before = len([1 for t in list(ack_time.values()) if t < kill_time])
        time.sleep(0.2)
        b.start(port=port)  # same port and data dir, so the client reconnects
        log(f"SIGKILL after {n_before} acks; restarted on port {port}")
        th.join()
        self.assertEqual(p.flush(40), 0, "flush left messages undelivered")
        n = produced[0]
        acked_before = {i for i, t in ack_time.items() if t < kill_time}
        acked_after = set(acked) - acked_before
        self.assertGreater(len(acked_before), 0, "nothing was acknowledged before the kill")
        self.assertGreater(len(acked_after), 0, "nothing was acknowledged after the restart")

        got, hw, _ = consume_to_end(b, topic, [0], timeout=30)
        entries = [(m.offset(), int(m.value())) for m in got[0]]
        offsets = [o for o, _ in entries]
        self.assertEqual(offsets, list(range(hw[0])), "offsets repeated or missing")
        at = dict(entries)
        # Acknowledged messages: each at its acknowledged offset.
        by_offset = {}
        for i, o in acked.items():
            self.assertNotIn(o, by_offset, f"offset {o} acknowledged for {by_offset.get(o)} and {i}")
            by_offset[o] = i
            self.assertEqual(at.get(o), i, f"acknowledged message {i} is not at its offset {o}")
        acked_in_log = [by_offset[o] for o in sorted(by_offset)]
        self.assertEqual(acked_in_log, sorted(acked_in_log),
                         "acknowledged messages out of produce order")
        # No duplicates, except what a non-idempotent retry may leave: a batch
        # written but not acknowledged when the broker died and sent again
        # after the restart (acknowledged then, at a higher offset). Messages
        # acknowledged before the kill were never resent: exactly once.
        count = {}
        for o, i in entries:
            self.assertTrue(0 <= i < n, f"offset {o} holds {i}, never produced")
            count.setdefault(i, []).append(o)
        residue = 0
        for i, offs in count.items():
            if len(offs) == 1:
                continue
            self.assertNotIn(i, acked_before,
                             f"message {i}, acknowledged before the kill, is at offsets {offs}")
            self.assertIn(i, acked_after, f"unacknowledged message {i} is at offsets {offs}")
            self.assertEqual(len(offs), 2, f"message {i} at offsets {offs}")
            self.assertEqual(max(offs), acked[i],
                             f"message {i}: the extra copy is after the acknowledged one")
            residue += 1
        log(f"{n} produced, {len(acked)} acknowledged ({len(acked_before)} before the kill), "
            f"{len(failed)} failed, log of {hw[0]}: every acknowledged message once at its "
            f"offset, in order; {residue} resent copies of in-flight messages")
        b.stop_checked()


class T5TornTail(unittest.TestCase):
    def test_garbage_tail_is_cut(self):
        b = Broker("T5TornTail").start()
        self.addCleanup(lambda: b.alive() and b.stop_checked())
        topic = "torn"
        create_topic(b, topic, 1)
        reports = []
        p = Producer(client_conf(b, {"acks": "all", "linger.ms": 5}))
        produce_all(p, topic, ({"value": b"torn-%d" % i} for i in range(100)),
                    lambda err, msg: reports.append((err, msg.offset())))
        self.assertEqual(p.flush(20), 0)
        self.assertEqual(sorted(o for e, o in reports if e is None), list(range(100)))
        del p  # no client left reconnecting to the stopped broker
        b.stop_checked()

        logs = sorted(glob.glob(os.path.join(b.data_dir, f"{topic}-0", "*.log")),
                      key=lambda f: int(os.path.basename(f).split(".")[0]))
        self.assertTrue(logs, "no segment files")
        seg = logs[-1]
        size = os.path.getsize(seg)
        with open(seg, "ab") as f:
            f.write(bytes(random.Random(37).randrange(256) for _ in range(37)))
        log(f"appended 37 garbage bytes to {os.path.basename(seg)} ({size} bytes)")

        b.start()
        cut = [ln for ln in b.log_text().splitlines() if "cut" in ln]
        self.assertTrue(cut, "no log line mentions the cut:\n" + b.log_text())
        self.assertEqual(os.path.getsize(seg), size, "the segment was not cut back")
        log("restart logged: " + cut[0].strip())

        got, hw, _ = consume_to_end(b, topic, [0])
        self.assertEqual(hw[0], 100)
        self.assertEqual([m.value() for m in got[0]], [b"torn-%d" % i for i in range(100)])
        self.assertEqual([m.offset() for m in got[0]], list(range(100)))
        reports.clear()
        p = Producer(client_conf(b, {"acks": "all"}))
        p.produce(topic, value=b"after", on_delivery=lambda e, m: reports.append((e, m.offset())))
        self.assertEqual(p.flush(20), 0)
        self.assertEqual(reports, [(None, 100)])
        got, hw, _ = consume_to_end(b, topic, [0])
        self.assertEqual(hw[0], 101)
        self.assertEqual(got[0][-1].value(), b"after")
        log("all 100 messages readable; the next message got offset 100")
        b.stop_checked()


class T6BadInput(BrokerCase):
    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.broker.port), timeout=5)
        self.addCleanup(s.close)
        return s

    def assert_serving(self, what):
        self.assertTrue(self.broker.alive(), f"broker died after: {what}\n"
                        + self.broker.log_text())
        md = admin_for(self.broker).list_topics(timeout=5)
        self.assertIn(1, md.brokers)
        # ... and a plain ApiVersions v0 on a fresh connection works.
        s = self.connect()
        s.sendall(request(18, 0, 7))
        corr, err, _, entries = parse_api_versions_v0(recv_frame(s))
        self.assertEqual((corr, err), (7, 0))
        self.assertIn((0, 0, 7), entries)  # Produce from v0: librdkafka#4956 (see kafka_api.c)
        s.close()

    def test_hostile_frames(self):
        rnd = random.Random(6)
        cases = [
            # (name, bytes, the broker must close the connection itself)
            ("4 random bytes then close", bytes(rnd.randrange(256) for _ in range(4)), False),
            ("frame size 0x7fffffff", struct.pack(">i", 0x7FFFFFFF) + b"x" * 16, True),
            ("frame size 3", struct.pack(">i", 3) + b"abc", True),
            ("api_key 9999", request(9999, 0, 1), True),
            ("Produce v99", request(0, 99, 2, b"\x00" * 32), True),
            ("Metadata v1 claiming 1,000,000 topics",
             request(3, 1, 3, struct.pack(">ih", 1000000, 1) + b"a"), True),
            ("truncated frame (size 100, 50 sent)", struct.pack(">i", 100) + b"\x00" * 50, False),
            ("negative frame size", struct.pack(">i", -5), True),
        ]
        for name, data, must_close in cases:
            with self.subTest(name):
                s = self.connect()
                s.sendall(data)
                if must_close:
                    self.assertTrue(closed_by_peer(s), f"{name}: connection left open")
                s.close()
                self.assert_serving(name)
                log(f"{name}: " + ("closed by the broker, " if must_close else "")
                    + "broker still serves")

    def test_api_versions_v4(self):
        s = self.connect()
        body = b"\x05spate\x041.0\x00"  # compact strings + tags, as a v3+ client sends
        s.sendall(request(18, 4, 42, body, tags=True))
        resp = recv_frame(s)
        corr, err, n, entries = parse_api_versions_v0(resp)
        self.assertEqual(corr, 42)
        self.assertEqual(err, 35, "UNSUPPORTED_VERSION")
        self.assertEqual(len(resp), 10 + 6 * n, "not the v0 layout (no header tags, "
                         "no throttle_time_ms)")
        self.assertIn((18, 0, 3), entries)
        log(f"ApiVersions v4: error 35, v0 layout, entries {entries}")
        # The connection stays usable: the client retries with a version we know.
        s.sendall(request(18, 3, 43, body, tags=True))
        resp = recv_frame(s)
        self.assertEqual(struct.unpack(">ih", resp[:6]), (43, 0))
        log("the same connection then gets an ApiVersions v3 answer")
        self.assert_serving("ApiVersions v4")


class T7LongPoll(BrokerCase):
    def test_consumer_at_end_gets_late_message(self):
        b, topic = self.broker, "longpoll"
        create_topic(b, topic, 1)
        p = Producer(client_conf(b, {"acks": "all"}))
        for i in range(3):
            p.produce(topic, value=b"old-%d" % i)
        self.assertEqual(p.flush(10), 0)

        # fetch.wait.max.ms well above 5 s: the message arrives in time only
        # if the broker answers the waiting Fetch when data is appended.
        c = Consumer(client_conf(b, {"group.id": "spate-test-longpoll",
                                     "enable.auto.commit": False,
                                     "fetch.wait.max.ms": 10000}))
        sent_at = []

        def late():
            time.sleep(1.0)
            sent_at.append(time.monotonic())
            p.produce(topic, value=b"late")
            p.flush(10)

        try:
            c.assign([TopicPartition(topic, 0, OFFSET_END)])
            th = threading.Thread(target=late)
            start = time.monotonic()
            th.start()
            got = None
            while got is None and time.monotonic() < start + 7.0:
                m = c.poll(0.1)
                if m is not None and not m.error():
                    got = m
            arrived = time.monotonic()
            th.join()
        finally:
            c.close()
        self.assertIsNotNone(got, "no message within 7 s")
        self.assertEqual(got.value(), b"late", "OFFSET_END should skip the 3 old messages")
        self.assertEqual(got.offset(), 3)
        self.assertLess(arrived - sent_at[0], 5.0)
        log(f"message produced after 1 s arrived {arrived - sent_at[0]:.3f} s later "
            f"(fetch.wait.max.ms=10000)")


def sendfile_conf(mode):
    path = os.path.join(TMPDIR, f"sendfile-{mode}.yaml")
    with open(path, "w") as f:
        f.write(f"broker:\n  fetch_sendfile: {mode}\n")
    return ("--config", path)


class BigFetch:
    """The same big Fetch through both of the broker's send paths."""

    def test_big_fetch_to_a_slow_reader(self):
        """A Fetch answer far larger than the socket buffers (records go out
        by sendfile): the client reads nothing for a while, so the broker's
        send stops at EAGAIN, then reads it all. The rest of the answer must
        follow as the client drains it (a connection waiting only for input
        there would hang until the client gave up)."""
        b, topic = self.broker, "bigfetch"
        create_topic(b, topic, 1)
        p = Producer(client_conf(b, {"linger.ms": 50, "batch.size": 1000000}))
        value = b"v" * 10000
        for i in range(3000):  # ~30 MB
            while True:
                try:
                    p.produce(topic, value=value)
                    break
                except BufferError:
                    p.poll(0.05)
        self.assertEqual(p.flush(30), 0)
        # Fetch v4: replica, max_wait, min_bytes, max_bytes, isolation,
        # [topic, [partition, fetch_offset, partition_max_bytes]]
        body = struct.pack(">iiiib", -1, 0, 0, 64 << 20, 0) + struct.pack(">i", 1)
        body += struct.pack(">h", len(topic)) + topic.encode()
        body += struct.pack(">iiqi", 1, 0, 0, 64 << 20)
        s = socket.create_connection(("127.0.0.1", b.port), timeout=10)
        try:
            s.sendall(request(1, 4, 77, body))
            time.sleep(1.0)  # let the broker fill every buffer and block
            head = recv_exact(s, 4)
            (size,) = struct.unpack(">i", head)
            self.assertGreater(size, 25 << 20)
            buf = bytearray()
            while len(buf) < size:
                chunk = s.recv(min(1 << 20, size - len(buf)))
                self.assertTrue(chunk, "connection closed")
                buf += chunk
        finally:
            s.close()
        corr, throttle, ntopics = struct.unpack(">iii", buf[:12])
        self.assertEqual((corr, ntopics), (77, 1))
        off = 12 + 2 + len(topic)
        nparts, part, err, hwm = struct.unpack(">iihq", buf[off:off + 18])
        self.assertEqual((nparts, part, err, hwm), (1, 0, 0, 3000))
        off += 18 + 8 + 4  # last stable offset, aborted transactions (0)
        (rlen,) = struct.unpack(">i", buf[off:off + 4])
        self.assertEqual(off + 4 + rlen, size, "records end the answer")
        # The records are whole RecordBatches, back to back, up to offset 3000.
        at, last = off + 4, -1
        while at < size:
            base, blen = struct.unpack(">qi", buf[at:at + 12])
            (delta,) = struct.unpack(">i", buf[at + 23:at + 27])
            self.assertEqual(base, last + 1)
            last = base + delta
            at += 12 + blen
        self.assertEqual((at, last), (size, 2999))
        log(f"one Fetch answer of {size >> 20} MiB read after a 1 s pause")



class T8BigFetchSendfile(BigFetch, BrokerCase):
    broker_args = sendfile_conf("always")  # records by sendfile(2), even on loopback


class T8BigFetchCopy(BigFetch, BrokerCase):
    broker_args = sendfile_conf("never")  # records read into the answer


def tearDownModule():
    for proc in STARTED:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if os.environ.get("KEEP_TMP"):
        print(f"kept {TMPDIR}", file=sys.stderr)
    else:
        shutil.rmtree(TMPDIR, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()

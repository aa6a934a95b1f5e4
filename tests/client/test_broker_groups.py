# test_broker_groups.py — consumer groups on `spate broker`, driven by
# librdkafka (python3-confluent-kafka 1.7, Debian's, seen only by
# /usr/bin/python3) and kcat -G, plus a few raw-protocol checks of the
# group APIs' error codes.
#
# Each test class starts its own broker ($SPATE broker --listen
# 127.0.0.1:0 --data-dir <tmp>), reads the port from its "listening on
# 127.0.0.1:PORT (Kafka protocol" log line, and stops it with SIGTERM,
# asserting exit status 0. The restart test also kills one with SIGKILL.
#
#   cd /work/main && cmake -S . -B build && cmake --build build -j2
#   SPATE=$PWD/build/spate /usr/bin/python3 tests/client/test_broker_groups.py -v
import os
import struct
import subprocess
import sys
import time
import unittest

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from brokerproc import Broker, conf, request, s16  # noqa: E402


def consumer(broker, group, **kw):
    c = conf(broker, **{"group.id": group, "session.timeout.ms": 6000,
                        "heartbeat.interval.ms": 500, "enable.auto.commit": False,
                        "auto.offset.reset": "earliest"})
    c.update(kw)
    return Consumer(c)


def create_topic(broker, name, parts):
    admin = AdminClient(conf(broker))
    fs = admin.create_topics([NewTopic(name, parts, 1)], operation_timeout=10)
    fs[name].result(timeout=10)


def produce(broker, topic, n, parts, prefix="m"):
    p = Producer(conf(broker, **{"linger.ms": 5}))
    for i in range(n):
        p.produce(topic, value=("%s-%d" % (prefix, i)).encode(), partition=i % parts)
        if i % 500 == 0:
            p.poll(0)
    assert p.flush(15) == 0


def poll_until(consumers, cond, timeout, sink=None):
    """Polls every consumer round-robin until cond() holds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for c in consumers:
            msgs = c.consume(100, 0.05)
            for m in msgs:
                if m.error():
                    continue
                if sink is None:
                    raise AssertionError("unexpected message while waiting")
                sink(c, m)
        if cond():
            return True
    return False


class GroupBase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.broker = Broker("spate-groups-")
        cls.broker.start()

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop_and_cleanup()


class TestRebalance(GroupBase):
    def test_three_consumers_split_then_take_over(self):
        b, topic, group = self.broker, "six", "g-six"
        create_topic(b, topic, 6)
        produce(b, topic, 3000, 6)
        cs = [consumer(b, group, **{"client.id": "c%d" % i}) for i in range(3)]
        for c in cs:
            c.subscribe([topic])

        seen = {}        # (partition, offset) -> value
        committed = {}   # partition -> offset committed (next to read)
        dups = []

        def sink(c, m):
            key = (m.partition(), m.offset())
            if key in seen:
                # Re-delivery is only allowed above the committed offset.
                dups.append(key)
                self.assertGreaterEqual(m.offset(), committed.get(m.partition(), 0),
                                        "message %r re-read below its commit" % (key,))
            seen[key] = m.value()

        def commit(c):
            try:
                res = c.commit(asynchronous=False)
            except Exception as e:  # nothing to commit / rebalance in progress
                if "NO_OFFSET" in str(e) or "REBALANCE" in str(e):
                    return
                if "ILLEGAL_GENERATION" in str(e) or "UNKNOWN_MEMBER" in str(e):
                    return
                raise
            for tp in res or []:
                if tp.offset >= 0 and tp.error is None:
                    committed[tp.partition] = max(committed.get(tp.partition, 0), tp.offset)

        def parts(c):
            return sorted(tp.partition for tp in c.assignment())

        # Join: the partitions are split 2/2/2 with no overlap.
        def split():
            a = [parts(c) for c in cs]
            return all(len(x) == 2 for x in a) and sorted(sum(a, [])) == list(range(6))

        ok = poll_until(cs, split, 40, sink=lambda c, m: sink(c, m))
        self.assertTrue(ok, "assignments: %r" % [parts(c) for c in cs])

        # Consume about half, committing after each batch.
        deadline = time.time() + 30
        while len(seen) < 1500 and time.time() < deadline:
            for c in cs:
                msgs = [m for m in c.consume(100, 0.05) if not m.error()]
                for m in msgs:
                    sink(c, m)
                if msgs:
                    commit(c)
        self.assertGreaterEqual(len(seen), 1500)
        for c in cs:
            commit(c)

        # One leaves: the other two take over all six partitions.
        gone = cs.pop()
        gone.close()

        def taken_over():
            a = [parts(c) for c in cs]
            return all(len(x) == 3 for x in a) and sorted(sum(a, [])) == list(range(6))

        def sink_commit(c, m):
            sink(c, m)

        ok = poll_until(cs, taken_over, 40, sink=sink_commit)
        self.assertTrue(ok, "assignments after close: %r" % [parts(c) for c in cs])

        deadline = time.time() + 40
        while len(seen) < 3000 and time.time() < deadline:
            for c in cs:
                msgs = [m for m in c.consume(200, 0.05) if not m.error()]
                for m in msgs:
                    sink(c, m)
                if msgs:
                    commit(c)
        self.assertEqual(len(seen), 3000)
        self.assertEqual({v for v in seen.values()}, {b"m-%d" % i for i in range(3000)})
        # Every message was seen, but a commit refused during the rebalance
        # means some partition is re-read from its last commit: keep
        # consuming and committing until the commits reach the ends.
        ends = {p: 500 for p in range(6)}
        deadline = time.time() + 30
        while time.time() < deadline:
            for c in cs:
                for m in c.consume(200, 0.05):
                    if not m.error():
                        sink(c, m)
                commit(c)
            got = cs[0].committed([TopicPartition(topic, p) for p in range(6)], timeout=10)
            if {tp.partition: tp.offset for tp in got} == ends:
                break
        self.assertEqual({tp.partition: tp.offset for tp in got}, ends)
        self.assertEqual(len(seen), 3000)

        # ListGroups/DescribeGroups (librdkafka's legacy list_groups) see it.
        admin = AdminClient(conf(b))
        groups = {g.id: g for g in admin.list_groups(timeout=10)}
        self.assertIn(group, groups)
        g = groups[group]
        self.assertEqual(g.state, "Stable")
        self.assertEqual(g.protocol_type, "consumer")
        self.assertEqual(sorted(m.client_id for m in g.members), ["c0", "c1"])
        for m in g.members:
            self.assertTrue(m.client_host.startswith("/127.0.0.1"), m.client_host)
            self.assertGreater(len(m.assignment), 0)
        for c in cs:
            c.close()
        groups = {g.id: g for g in admin.list_groups(timeout=10)}
        self.assertEqual(groups[group].state, "Empty")


class TestCommitResume(GroupBase):
    def test_resume_at_committed_offset(self):
        b, topic, group = self.broker, "resume", "g-resume"
        create_topic(b, topic, 1)
        produce(b, topic, 100, 1)
        c = consumer(b, group)
        c.subscribe([topic])
        got = []
        deadline = time.time() + 30
        while len(got) < 40 and time.time() < deadline:
            got += [m for m in c.consume(10, 0.2) if not m.error()]
        self.assertGreaterEqual(len(got), 40)
        c.commit(offsets=[TopicPartition(topic, 0, 37)], asynchronous=False)
        c.close()

        c = consumer(b, group)
        c.subscribe([topic])
        first = None
        deadline = time.time() + 30
        while first is None and time.time() < deadline:
            m = c.poll(0.2)
            if m is not None and not m.error():
                first = m
        c.close()
        self.assertIsNotNone(first)
        self.assertEqual(first.offset(), 37)
        self.assertEqual(first.value(), b"m-37")

    def test_simple_consumer_commit_without_membership(self):
        # assign() + commit: generation -1, empty member id (kafka-broker.md §6.19).
        b, topic, group = self.broker, "simple", "g-simple"
        create_topic(b, topic, 2)
        c = consumer(b, group)
        c.assign([TopicPartition(topic, 0), TopicPartition(topic, 1)])
        c.commit(offsets=[TopicPartition(topic, 1, 5)], asynchronous=False)
        got = c.committed([TopicPartition(topic, 0), TopicPartition(topic, 1)], timeout=10)
        self.assertEqual([tp.offset for tp in got], [-1001, 5])  # -1001: none committed
        c.close()


class TestDurability(unittest.TestCase):
    def setUp(self):
        self.broker = Broker("spate-groups-")
        self.broker.start()

    def tearDown(self):
        self.broker.cleanup()

    def committed(self, topic, group):
        c = consumer(self.broker, group)
        got = c.committed([TopicPartition(topic, 0)], timeout=15)
        c.close()
        return got[0].offset

    def commit(self, topic, group, off):
        c = consumer(self.broker, group)
        c.assign([TopicPartition(topic, 0)])
        c.commit(offsets=[TopicPartition(topic, 0, off)], asynchronous=False)
        c.close()

    def test_offsets_survive_restart_and_kill9(self):
        b, topic, group = self.broker, "durable", "g-durable"
        create_topic(b, topic, 1)
        produce(b, topic, 100, 1)
        self.commit(topic, group, 42)
        self.assertEqual(b.stop(), 0)
        b.start()
        self.assertEqual(self.committed(topic, group), 42)

        self.commit(topic, group, 77)  # returns once the broker answered
        b.kill9()
        b.start()
        self.assertEqual(self.committed(topic, group), 77)

        # Many commits (the log is appended to and replayed: last one wins).
        c = consumer(b, group)
        c.assign([TopicPartition(topic, 0)])
        for off in range(1, 60):
            c.commit(offsets=[TopicPartition(topic, 0, off)], asynchronous=False)
        c.close()
        b.kill9()
        b.start()
        self.assertEqual(self.committed(topic, group), 59)
        self.assertEqual(b.stop(), 0)


class TestKcat(GroupBase):
    def test_kcat_group_mode(self):
        b, topic = self.broker, "kcatg"
        create_topic(b, topic, 3)
        produce(b, topic, 60, 3, prefix="k")
        out = subprocess.run(
            ["kcat", "-b", b.addr, "-X", "broker.address.family=v4", "-X",
             "auto.offset.reset=earliest", "-G", "g-kcat", topic, "-c", "60", "-q",
             "-f", "%s\n"],
            capture_output=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr.decode(errors="replace"))
        lines = out.stdout.decode().split()
        self.assertEqual(sorted(lines), sorted("k-%d" % i for i in range(60)))


# ---- raw protocol: error codes the clients above do not reach ----

class TestProtocol(GroupBase):
    def test_find_coordinator(self):
        r = request(self.broker.port, 10, 2, s16("g") + b"\x00")
        thr, err = struct.unpack(">ih", r[:6])
        self.assertEqual(err, 0)
        self.assertTrue(r.endswith(struct.pack(">i", self.broker.port)))
        r = request(self.broker.port, 10, 2, s16("txn") + b"\x01")
        self.assertEqual(struct.unpack(">h", r[4:6])[0], 15)  # COORDINATOR_NOT_AVAILABLE

    def join_v0(self, session, member=""):
        body = (s16("g-raw") + struct.pack(">i", session) + s16(member) + s16("consumer") +
                struct.pack(">i", 1) + s16("range") + struct.pack(">i", 3) + b"abc")
        return request(self.broker.port, 11, 0, body)

    def test_join_sync_heartbeat_leave(self):
        port = self.broker.port
        r = self.join_v0(1000)
        self.assertEqual(struct.unpack(">h", r[:2])[0], 26)  # INVALID_SESSION_TIMEOUT
        # v4 without a member id: MEMBER_ID_REQUIRED with a "<client_id>-<uuid>" id.
        body = (s16("g-raw4") + struct.pack(">ii", 10000, 10000) + s16("") + s16("consumer") +
                struct.pack(">i", 1) + s16("range") + struct.pack(">i", 0))
        r = request(port, 11, 4, body)
        self.assertEqual(struct.unpack(">h", r[4:6])[0], 79)
        self.assertRegex(r.decode(errors="replace"), r"test-[0-9a-f-]{36}")
        # v0 join of a fresh group: one member, generation 1, it leads.
        r = self.join_v0(10000)
        err, gen = struct.unpack(">hi", r[:6])
        self.assertEqual((err, gen), (0, 1))
        off = 6
        proto_len = struct.unpack(">h", r[off:off + 2])[0]
        self.assertEqual(r[off + 2:off + 2 + proto_len], b"range")
        off += 2 + proto_len
        ll = struct.unpack(">h", r[off:off + 2])[0]
        leader = r[off + 2:off + 2 + ll].decode()
        off += 2 + ll
        ml = struct.unpack(">h", r[off:off + 2])[0]
        member = r[off + 2:off + 2 + ml].decode()
        self.assertEqual(leader, member)
        # Heartbeat before sync is fine; wrong generation / member are not.
        hb = lambda g, m: struct.unpack(">h", request(port, 12, 0, s16("g-raw") +
                                                      struct.pack(">i", g) + s16(m))[:2])[0]
        self.assertEqual(hb(1, member), 0)
        self.assertEqual(hb(5, member), 22)   # ILLEGAL_GENERATION
        self.assertEqual(hb(1, "nobody"), 25)  # UNKNOWN_MEMBER_ID
        # SyncGroup from the leader returns its own assignment.
        body = (s16("g-raw") + struct.pack(">i", 1) + s16(member) + struct.pack(">i", 1) +
                s16(member) + struct.pack(">i", 4) + b"ASGN")
        r = request(port, 14, 0, body)
        self.assertEqual(r, struct.pack(">hi", 0, 4) + b"ASGN")
        # LeaveGroup empties the group.
        r = request(port, 13, 0, s16("g-raw") + s16(member))
        self.assertEqual(struct.unpack(">h", r[:2])[0], 0)
        self.assertEqual(hb(2, member), 25)

    def test_offset_fetch_unknown(self):
        # v5, all topics (null): an unknown group has none; a named partition is -1.
        r = request(self.broker.port, 9, 5, s16("nobody") + struct.pack(">i", -1))
        self.assertEqual(r, struct.pack(">iih", 0, 0, 0))
        r = request(self.broker.port, 9, 5, s16("nobody") + struct.pack(">i", 1) + s16("t") +
                    struct.pack(">ii", 1, 3))
        self.assertEqual(r, struct.pack(">ii", 0, 1) + s16("t") +
                         struct.pack(">iiqi", 1, 3, -1, -1) + s16("") + struct.pack(">hh", 0, 0))


if __name__ == "__main__":
    unittest.main()

# test_broker_admin.py — topic configs, DescribeConfigs, CreatePartitions and
# DeleteGroups on `spate broker`, driven by librdkafka's AdminClient
# (python3-confluent-kafka 1.7, Debian's, seen only by /usr/bin/python3);
# DeleteGroups, which that AdminClient lacks, by a raw request.
#
# The test starts its own broker ($SPATE broker --listen 127.0.0.1:0
# --data-dir <tmp>), reads the port from its "listening on 127.0.0.1:PORT
# (Kafka protocol" log line, restarts it once (same port and data dir) and
# stops it with SIGTERM, asserting exit status 0.
#
#   cd /work/main && cmake -S . -B build && cmake --build build -j2
#   SPATE=$PWD/build/spate /usr/bin/python3 tests/client/test_broker_admin.py -v
import os
import struct
import sys
import time
import unittest

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (AdminClient, ConfigResource, ConfigSource, NewPartitions,
                                   NewTopic)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from brokerproc import Broker, conf, request, s16  # noqa: E402


def delete_groups(port, *groups):
    """DeleteGroups v0: {group: error_code}."""
    body = struct.pack(">i", len(groups)) + b"".join(s16(g) for g in groups)
    r = request(port, 42, 0, body)
    thr, n = struct.unpack(">ii", r[:8])
    off, out = 8, {}
    for _ in range(n):
        ln = struct.unpack(">h", r[off:off + 2])[0]
        name = r[off + 2:off + 2 + ln].decode()
        off += 2 + ln
        out[name] = struct.unpack(">h", r[off:off + 2])[0]
        off += 2
    return out


class TestAdmin(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.broker = Broker("spate-admin-")
        cls.broker.start()

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop_and_cleanup()

    def admin(self):
        # Kept: a handle destroyed before its futures complete fails them.
        if getattr(self, "_admin_port", None) != self.broker.port or not hasattr(self, "_admin"):
            self._admin = AdminClient(conf(self.broker))
            self._admin_port = self.broker.port
        return self._admin

    def create(self, name, parts=1, config=None):
        fs = self.admin().create_topics([NewTopic(name, parts, 1, config=config or {})],
                                        operation_timeout=10)
        return fs[name].result(timeout=10)

    def create_error(self, name, config):
        with self.assertRaises(KafkaException) as cm:
            self.create(name, config=config)
        return cm.exception.args[0]

    def describe(self, name):
        res = ConfigResource(ConfigResource.Type.TOPIC, name)
        fs = self.admin().describe_configs([res])
        return fs[res].result(timeout=10)

    def produce_one(self, topic, size, partition=0):
        p = Producer(conf(self.broker, **{"linger.ms": 0, "message.max.bytes": 100000}))
        errs = []
        p.produce(topic, value=b"x" * size, partition=partition,
                  on_delivery=lambda err, msg: errs.append(err))
        self.assertEqual(p.flush(15), 0)
        return errs[0]

    def test_topic_configs_partitions_restart(self):
        topic = "cfg"
        self.create(topic, config={"retention.ms": "60000", "max.message.bytes": "2000"})
        cfg = self.describe(topic)
        self.assertEqual(cfg["retention.ms"].value, "60000")
        self.assertEqual(cfg["max.message.bytes"].value, "2000")
        self.assertEqual(cfg["retention.ms"].source, ConfigSource.DYNAMIC_TOPIC_CONFIG.value)
        self.assertEqual(cfg["segment.bytes"].value, str(1 << 30))
        self.assertEqual(cfg["segment.bytes"].source, ConfigSource.DEFAULT_CONFIG.value)
        self.assertTrue(cfg["segment.bytes"].is_default)
        self.assertFalse(cfg["retention.ms"].is_default)

        # The per-topic max.message.bytes, not the broker's, bounds a batch.
        err = self.produce_one(topic, 5000)
        self.assertIsNotNone(err)
        self.assertEqual(err.code(), KafkaError.MSG_SIZE_TOO_LARGE)
        self.assertIsNone(self.produce_one(topic, 1000))
        self.create("cfg-plain")  # the broker's 1 MB limit
        self.assertIsNone(self.produce_one("cfg-plain", 5000))

        # Partitions: grow to 4, produce to the new one; shrinking is refused.
        a = self.admin()
        a.create_partitions([NewPartitions(topic, 4)])[topic].result(timeout=10)
        md = self.admin().list_topics(topic, timeout=10)
        self.assertEqual(len(md.topics[topic].partitions), 4)
        self.assertIsNone(self.produce_one(topic, 100, partition=3))
        with self.assertRaises(KafkaException) as cm:
            a.create_partitions([NewPartitions(topic, 2)])[topic].result(timeout=10)
        self.assertEqual(cm.exception.args[0].code(), KafkaError.INVALID_PARTITIONS)
        self.assertIn("higher than the requested 2", cm.exception.args[0].str())
        # validate_only changes nothing.
        a.create_partitions([NewPartitions(topic, 6)], validate_only=True)[topic].result(10)
        md = self.admin().list_topics(topic, timeout=10)
        self.assertEqual(len(md.topics[topic].partitions), 4)

        # Both survive a restart.
        rc = self.broker.stop()
        self.assertEqual(rc, 0)
        self.broker.start()
        self._admin = AdminClient(conf(self.broker))
        cfg = self.describe(topic)
        self.assertEqual(cfg["retention.ms"].value, "60000")
        self.assertEqual(cfg["max.message.bytes"].value, "2000")
        md = self.admin().list_topics(topic, timeout=10)
        self.assertEqual(len(md.topics[topic].partitions), 4)
        err = self.produce_one(topic, 5000, partition=3)
        self.assertIsNotNone(err)
        self.assertEqual(err.code(), KafkaError.MSG_SIZE_TOO_LARGE)

    def test_config_errors(self):
        e = self.create_error("cfg-compact", {"cleanup.policy": "compact,shrink"})
        self.assertEqual(e.code(), KafkaError.INVALID_CONFIG)
        self.assertIn("cleanup.policy", e.str())
        e = self.create_error("cfg-unknown", {"no.such.config": "1"})
        self.assertEqual(e.code(), KafkaError.INVALID_CONFIG)
        self.assertIn("no.such.config", e.str())
        e = self.create_error("cfg-bad", {"retention.ms": "soon"})
        self.assertEqual(e.code(), KafkaError.INVALID_CONFIG)
        e = self.create_error("cfg-isr", {"min.insync.replicas": "2"})
        self.assertEqual(e.code(), KafkaError.INVALID_CONFIG)
        # None of them was created.
        md = self.admin().list_topics(timeout=10)
        for t in ("cfg-compact", "cfg-unknown", "cfg-bad", "cfg-isr"):
            self.assertNotIn(t, md.topics)
        with self.assertRaises(KafkaException) as cm:
            self.describe("no-such-topic")
        self.assertEqual(cm.exception.args[0].code(), KafkaError.UNKNOWN_TOPIC_OR_PART)

    def test_describe_broker(self):
        res = ConfigResource(ConfigResource.Type.BROKER, "1")
        cfg = self.admin().describe_configs([res])[res].result(timeout=10)
        self.assertEqual(cfg["message.max.bytes"].value, "1048588")
        self.assertEqual(cfg["auto.create.topics.enable"].value, "true")
        self.assertEqual(cfg["num.partitions"].value, "1")

    def test_delete_groups(self):
        topic, group = "dg", "g-dg"
        self.create(topic)
        self.assertIsNone(self.produce_one(topic, 10))
        c = Consumer(conf(self.broker, **{"group.id": group, "enable.auto.commit": False,
                                          "auto.offset.reset": "earliest",
                                          "session.timeout.ms": 6000}))
        c.subscribe([topic])
        deadline = time.time() + 20
        msg = None
        while time.time() < deadline and msg is None:
            m = c.poll(0.2)
            if m is not None and not m.error():
                msg = m
        self.assertIsNotNone(msg)
        c.commit(message=msg, asynchronous=False)
        # A live member: NON_EMPTY_GROUP; unknown group: GROUP_ID_NOT_FOUND.
        self.assertEqual(delete_groups(self.broker.port, group, "g-none"),
                         {group: 68, "g-none": 69})
        c.close()
        self.assertEqual(delete_groups(self.broker.port, group), {group: 0})
        c2 = Consumer(conf(self.broker, **{"group.id": group, "enable.auto.commit": False}))
        tp = c2.committed([TopicPartition(topic, 0)], timeout=10)
        self.assertLess(tp[0].offset, 0)
        c2.close()
        self.assertEqual(delete_groups(self.broker.port, group), {group: 69})


if __name__ == "__main__":
    unittest.main()

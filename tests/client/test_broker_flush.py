# test_broker_flush.py — per-topic flush policy (flush.messages, flush.ms)
# on `spate broker`, configured through librdkafka's AdminClient
# (python3-confluent-kafka, Debian's, seen only by /usr/bin/python3).
#
# The broker runs with --log-level debug, where every fsync of a partition
# is logged as "TOPIC-P: fsynced N records (REASON)"; the test reads those
# lines to see when and why each partition was synced:
#   1. flush.messages=5, flush.ms huge: 12 single-record produces (acks=1)
#      give exactly two syncs of 5 records for flush.messages, and the last 2
#      records stay unsynced;
#   2. flush.ms=100: one record is synced for flush.ms within a few seconds;
#   3. a topic without overrides uses the broker's flush_interval_ms (1000)
#      and no count limit; DescribeConfigs reports both values and sources;
#   4. acks=all on the durable broker is still synced by the group commit.
#
#   SPATE=$PWD/build/spate /usr/bin/python3 tests/client/test_broker_flush.py -v
import os
import re
import sys
import time
import unittest

from confluent_kafka import Producer
from confluent_kafka.admin import ConfigResource, ConfigSource, NewTopic

from kafkatest import *  # noqa: F401,F403 — shared broker helpers (kafkatest.py)

SYNC_RE = re.compile(r"kafka: (\S+)-(\d+): fsynced (\d+) records \(([^)]+)\)")


class TestFlushPolicy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.broker = Broker("flush").start(args=("--log-level", "debug"))
        cls.admin = admin_for(cls.broker)

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop_checked()

    def create(self, name, config):
        fs = self.admin.create_topics([NewTopic(name, 1, 1, config=config)])
        fs[name].result(10)

    def produce(self, topic, n, acks="1"):
        p = Producer(client_conf(self.broker, {"acks": acks, "linger.ms": 0}))
        for i in range(n):
            p.produce(topic, value=b"v%d" % i)
            self.assertEqual(p.flush(10), 0)  # one record per request

    def syncs(self, topic):
        return [(int(m.group(3)), m.group(4)) for m in SYNC_RE.finditer(self.broker.log_text())
                if m.group(1) == topic]

    def wait_syncs(self, topic, n, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s = self.syncs(topic)
            if len(s) >= n:
                return s
            time.sleep(0.05)
        return self.syncs(topic)

    def test_flush_messages(self):
        self.create("fm", {"flush.messages": "5", "flush.ms": "600000"})
        self.produce("fm", 12)
        time.sleep(1.5)  # longer than the broker's flush interval: it must not sync fm
        self.assertEqual(self.syncs("fm"), [(5, "flush.messages"), (5, "flush.messages")])

    def test_flush_ms(self):
        self.create("fms", {"flush.ms": "100"})
        self.produce("fms", 1)
        self.assertEqual(self.wait_syncs("fms", 1), [(1, "flush.ms")])

    def test_defaults_and_describe(self):
        self.create("fdef", {})
        self.produce("fdef", 3)
        self.assertEqual(self.wait_syncs("fdef", 1), [(3, "flush.ms")])
        res = ConfigResource(ConfigResource.Type.TOPIC, "fdef")
        cfg = self.admin.describe_configs([res])[res].result(10)
        self.assertEqual(cfg["flush.ms"].value, "1000")
        self.assertEqual(cfg["flush.ms"].source, ConfigSource.DEFAULT_CONFIG.value)
        self.assertEqual(cfg["flush.messages"].value, str(2**63 - 1))
        self.create("fset", {"flush.messages": "7"})
        res = ConfigResource(ConfigResource.Type.TOPIC, "fset")
        cfg = self.admin.describe_configs([res])[res].result(10)
        self.assertEqual(cfg["flush.messages"].value, "7")
        self.assertEqual(cfg["flush.messages"].source, ConfigSource.DYNAMIC_TOPIC_CONFIG.value)
        with self.assertRaises(Exception) as cm:
            self.create("fbad", {"flush.messages": "0"})
        self.assertIn("flush.messages", str(cm.exception))

    def test_acks_all_group_commit(self):
        self.create("fall", {"flush.ms": "600000"})
        self.produce("fall", 2, acks="all")
        self.assertEqual(self.wait_syncs("fall", 2), [(1, "group commit"), (1, "group commit")])


if __name__ == "__main__":
    unittest.main()

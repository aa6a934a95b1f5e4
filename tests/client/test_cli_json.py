# test_cli_json.py — `spate topics describe --json` and `spate groups
# describe --json` against spate broker, with python3-confluent-kafka
# producing and committing known numbers. The JSON is the admin client's
# structured collector (kafka_client.c) printed as is: the same numbers
# `spate up` shows as "kafka" (the high watermarks summed) and "lag".
#
#   Json.test_topics_describe
#       3 partitions holding 5, 3 and 0 messages (and a second topic):
#       the exact JSON (ids, leader, replicas, isr, low, high) for both, in
#       the order named; an unknown topic: exit 1, nothing on stdout
#   Json.test_group_committed
#       offsets 2 and 3 committed on partitions 0 and 1 (none on 2) of a
#       topic holding 5, 3, 0 by a consumer that never joins: state Empty,
#       no members, exactly those two offsets with log_end 5 / 3 and lag
#       3 / 0; after more messages on partitions 1 and 2, partition 1's lag
#       follows and partition 2 is still not listed
#   Json.test_group_member
#       a subscribed consumer: Stable, one member with its client id and
#       the assignment decoded as "jt:0,1,2"
#   Json.test_usage
#       --json elsewhere is a usage error (exit 2); an unknown group exits 1
#
#   SPATE=$PWD/build/spate /usr/bin/python3 tests/client/test_cli_json.py -v
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafkatest import *  # noqa: E402,F401,F403  (Broker, SPATE, tearDownModule, ...)


def spate(*args, want=0):
    p = subprocess.run([SPATE, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    out, err = p.stdout.decode(), p.stderr.decode()
    assert p.returncode == want, f"spate {' '.join(args)}: exit {p.returncode}, want {want}\n" \
                                 f"stdout: {out}\nstderr: {err}"
    return out, err


def produce(broker, topic, counts):
    """counts: {partition: n}; n messages to each, acknowledged."""
    p = Producer(client_conf(broker, {"acks": "all"}))
    failed = []
    for part, n in counts.items():
        for i in range(n):
            p.produce(topic, value=b"m%d" % i, partition=part,
                      on_delivery=lambda e, m: e and failed.append(e))
    assert p.flush(20) == 0, "messages left unacknowledged"
    assert not failed, failed


class Json(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.b = Broker("json").start(args=("--no-auto-create",))
        create_topic(cls.b, "jt", 3)
        create_topic(cls.b, "jt-one", 1)
        produce(cls.b, "jt", {0: 5, 1: 3})
        cls.k = ("--bootstrap", cls.b.bootstrap, "--timeout", "10000")

    @classmethod
    def tearDownClass(cls):
        cls.b.stop_checked()

    def describe_group(self, group):
        out, _ = spate("groups", "describe", group, "--json", *self.k)
        self.assertTrue(out.endswith("}\n") and out.count("\n") == 1, out)
        return json.loads(out)

    def test_topics_describe(self):
        out, _ = spate("topics", "describe", "jt", "jt-one", "--json", *self.k)
        self.assertEqual(out.count("\n"), 1, "one line of JSON")

        def part(i, high):
            return {"partition": i, "leader": 1, "replicas": [1], "isr": [1], "low": 0,
                    "high": high}
        self.assertEqual(json.loads(out), [
            {"topic": "jt", "partition_count": 3, "replication_factor": 1,
             "partitions": [part(0, 5), part(1, 3), part(2, 0)]},
            {"topic": "jt-one", "partition_count": 1, "replication_factor": 1,
             "partitions": [part(0, 0)]},
        ])
        log("describe --json: exact partitions and watermarks 5, 3, 0 of jt, then jt-one")
        # The text and the JSON come from one collector: same numbers.
        text, _ = spate("topics", "describe", "jt", *self.k)
        self.assertIn("\tTopic: jt\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1\tLow: 0\tHigh: 5\n",
                      text)
        self.assertIn("\tPartition: 2\tLeader: 1\tReplicas: 1\tIsr: 1\tLow: 0\tHigh: 0\n", text)
        out, err = spate("topics", "describe", "jt", "no-such", "--json", *self.k, want=1)
        self.assertEqual(out, "")
        self.assertIn("unknown topic 'no-such'", err)
        log("describe --json of an unknown topic: exit 1, nothing printed")

    def test_group_committed(self):
        create_topic(self.b, "jc", 3)  # its own topic: messages are added below
        produce(self.b, "jc", {0: 5, 1: 3})
        c = Consumer(client_conf(self.b, {"group.id": "jg", "enable.auto.commit": False}))
        try:
            c.commit(offsets=[TopicPartition("jc", 0, 2), TopicPartition("jc", 1, 3)],
                     asynchronous=False)
        finally:
            c.close()
        g = self.describe_group("jg")
        self.assertEqual(g["group"], "jg")
        self.assertEqual(g["state"], "Empty")
        self.assertEqual(g["members"], [])
        self.assertEqual(g["coordinator"]["id"], 1)
        self.assertEqual(g["coordinator"]["port"], self.b.port)
        self.assertEqual(g["offsets"], [
            {"topic": "jc", "partition": 0, "committed": 2, "log_end": 5, "lag": 3},
            {"topic": "jc", "partition": 1, "committed": 3, "log_end": 3, "lag": 0},
        ])
        log("groups describe --json: Empty, committed 2/3 against log end 5/3, lag 3/0")
        # The text shows the same rows.
        text, _ = spate("groups", "describe", "jg", *self.k)
        rows = [line.split() for line in text.splitlines() if line.startswith("jc ")]
        self.assertEqual(rows, [["jc", "0", "2", "5", "3"], ["jc", "1", "3", "3", "0"]])
        produce(self.b, "jc", {1: 4, 2: 6})
        g = self.describe_group("jg")
        self.assertEqual(g["offsets"], [
            {"topic": "jc", "partition": 0, "committed": 2, "log_end": 5, "lag": 3},
            {"topic": "jc", "partition": 1, "committed": 3, "log_end": 7, "lag": 4},
        ])
        log("after 4 more messages on partition 1 its lag is 4; partition 2 (no commit) "
            "is not listed")

    def test_group_member(self):
        c = Consumer(client_conf(self.b, {"group.id": "jm", "client.id": "json-member",
                                          "session.timeout.ms": 6000,
                                          "auto.offset.reset": "earliest"}))
        try:
            assigned = []
            c.subscribe(["jt"], on_assign=lambda cons, parts: assigned.extend(parts))
            deadline = time.monotonic() + 30
            while not assigned and time.monotonic() < deadline:
                c.poll(0.2)
            self.assertTrue(assigned, "the consumer was never assigned partitions")
            g = self.describe_group("jm")
            self.assertEqual(g["state"], "Stable")
            self.assertEqual(g["protocol_type"], "consumer")
            self.assertEqual(len(g["members"]), 1, g)
            m = g["members"][0]
            self.assertEqual(m["client_id"], "json-member")
            self.assertEqual(m["assignment"], "jt:0,1,2")
            self.assertTrue(m["member_id"].startswith("json-member"), m)
            self.assertTrue(m["host"].startswith("/127.0.0.1"), m)
        finally:
            c.close()
        log("a subscribed consumer: Stable, one member assigned jt:0,1,2")

    def test_usage(self):
        _, err = spate("topics", "list", "--json", *self.k, want=2)
        self.assertIn("unknown option '--json'", err)
        spate("groups", "list", "--json", *self.k, want=2)
        out, err = spate("groups", "describe", "no-such-group", "--json", *self.k, want=1)
        self.assertEqual(out, "")
        self.assertIn("unknown group", err)
        log("--json on list: usage error; unknown group: exit 1")


if __name__ == "__main__":
    unittest.main(verbosity=2)

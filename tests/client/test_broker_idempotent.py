# test_broker_idempotent.py — idempotent producers on `spate broker`:
# InitProducerId v0-1 and Produce's sequence checks (src/kafka/kafka_producer.c).
#
# Starts the real spate binary ($SPATE) as `spate broker --listen
# 127.0.0.1:0 --data-dir <temp dir>`, reads the port from its log line
# "listening on 127.0.0.1:PORT (Kafka protocol; ...", and checks, with
# python3-confluent-kafka 1.7.0 (librdkafka 2.0.2) and raw sockets:
#   1. a confluent-kafka Producer with enable.idempotence=True sends 20000
#      messages to a 1-partition topic: flush() == 0, and a consumer reads
#      exactly 20000, in order, each once;
#   2. raw frames: InitProducerId v0 and v1 give distinct producer ids; a
#      hand-made RecordBatch v2 (CRC-32C computed here) at sequence 0 sent
#      twice gets the same base offset both times and is stored once; a
#      3-record batch follows; a gap → OUT_OF_ORDER_SEQUENCE_NUMBER (45);
#      an unknown producer not at sequence 0 → 45; a new epoch must start
#      at 0 (45), then an older epoch → INVALID_PRODUCER_EPOCH (47); a
#      non-null transactional_id → COORDINATOR_NOT_AVAILABLE (15);
#   3. a duplicate across a restart: sequence 0 sent, broker stopped with
#      SIGTERM and restarted on the same port and data directory, the same
#      batch again → same offset, one copy; then sequence 1 → next offset;
#      a new InitProducerId after the restart never reuses an id;
#   4. kill -9 of the broker while an idempotent confluent-kafka producer
#      streams, restart on the same port and data directory: the consumer
#      sees every acknowledged message exactly once, at its acknowledged
#      offset, in order, and no message twice.
# Every broker is stopped with SIGTERM and must exit 0 (except the one the
# crash test kills); only the processes started here are ever signalled.
#
# Run by ctest (client.test_broker_idempotent), or by hand:
#
#   cd /work/main && cmake --build build -j2 --target spate
#   SPATE=$PWD/build/spate /usr/bin/python3 tests/client/test_broker_idempotent.py -v
#
# Set KEEP_TMP=1 to keep the data directories and broker logs.
import os
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

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from kafkatest import *  # noqa: F401,F403 — shared broker helpers (kafkatest.py)



# ---- RecordBatch v2 by hand ----

def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC32C_TABLE = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = CRC32C_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def varint(n):
    z = (n << 1) ^ (n >> 63)  # zigzag
    out = b""
    while True:
        if z < 0x80:
            return out + bytes([z])
        out += bytes([(z & 0x7F) | 0x80])
        z >>= 7


def record(offset_delta, value):
    body = (b"\x00" + varint(0) + varint(offset_delta) + varint(-1)
            + varint(len(value)) + value + varint(0))
    return varint(len(body)) + body


def record_batch(pid, epoch, seq, values, ts=1700000000000):
    records = b"".join(record(i, v) for i, v in enumerate(values))
    n = len(values)
    after_crc = struct.pack(">hiqqqhii", 0, n - 1, ts, ts, pid, epoch, seq, n) + records
    crc = crc32c(after_crc)
    length = 4 + 1 + 4 + len(after_crc)  # leader epoch, magic, crc, rest
    return struct.pack(">qiibI", 0, length, -1, 2, crc) + after_crc


def init_producer_id(sock, version=1, corr=1, txn_id=None):
    """Returns (error, producer_id, epoch)."""
    body = (struct.pack(">h", -1) if txn_id is None
            else struct.pack(">h", len(txn_id)) + txn_id) + struct.pack(">i", 60000)
    sock.sendall(request(22, version, corr, body))
    resp = recv_frame(sock)
    rcorr, throttle, err, pid, epoch = struct.unpack(">iihqh", resp)
    assert rcorr == corr, (rcorr, corr)
    return err, pid, epoch


def produce(sock, topic, batch, corr=2, acks=-1):
    """Produce v7 of one batch to partition 0: returns (error, base_offset)."""
    t = topic.encode()
    body = (struct.pack(">hhi", -1, acks, 10000) + struct.pack(">i", 1)
            + struct.pack(">h", len(t)) + t + struct.pack(">i", 1)
            + struct.pack(">ii", 0, len(batch)) + batch)
    sock.sendall(request(0, 7, corr, body))
    resp = recv_frame(sock)
    rcorr, ntopics = struct.unpack(">ii", resp[:8])
    assert rcorr == corr and ntopics == 1, (rcorr, ntopics)
    (nlen,) = struct.unpack(">h", resp[8:10])
    pos = 10 + nlen
    nparts, idx, err, base = struct.unpack(">iihq", resp[pos:pos + 18])
    assert nparts == 1 and idx == 0
    return err, base


def connect(broker):
    s = socket.create_connection(("127.0.0.1", broker.port), timeout=10)
    return s


def log_values(broker, topic):
    got, hw, errors = consume_to_end(broker, topic, [0])
    return [(m.offset(), m.value()) for m in got[0]], hw[0]


# ---- tests ----

class T1Idempotent20000(unittest.TestCase):
    def test_20000_messages_once_in_order(self):
        b = Broker("T1").start()
        self.addCleanup(lambda: b.alive() and b.stop_checked())
        topic = "idem"
        create_topic(b, topic, 1)
        acked, failed = {}, []

        def dr(err, msg):
            if err is None:
                acked[int(msg.value())] = msg.offset()
            else:
                failed.append(err)

        p = Producer(client_conf(b, {"enable.idempotence": True, "linger.ms": 5,
                                     "batch.num.messages": 500}))
        produce_all(p, topic, ({"value": b"%d" % i} for i in range(20000)), dr)
        self.assertEqual(p.flush(30), 0)
        self.assertEqual(failed, [])
        self.assertEqual(len(acked), 20000)
        got, hw, errors = consume_to_end(b, topic, [0])
        values = [int(m.value()) for m in got[0]]
        self.assertEqual(hw[0], 20000)
        self.assertEqual(values, list(range(20000)), "not exactly 20000 once, in order")
        self.assertEqual([m.offset() for m in got[0]], list(range(20000)))
        for i, o in acked.items():
            self.assertEqual(o, i)
        log("20000 idempotent messages: flush() == 0, each once in order at its acked offset")
        b.stop_checked()


class T2RawSequences(unittest.TestCase):
    def test_duplicates_gaps_epochs(self):
        b = Broker("T2").start()
        self.addCleanup(lambda: b.alive() and b.stop_checked())
        topic = "raw"
        create_topic(b, topic, 1)
        s = connect(b)
        self.addCleanup(s.close)
        err0, pid0, ep0 = init_producer_id(s, version=0, corr=7)
        err, pid, epoch = init_producer_id(s, version=1, corr=8)
        self.assertEqual((err0, ep0, err, epoch), (0, 0, 0, 0))
        self.assertGreaterEqual(pid0, 0)
        self.assertNotEqual(pid0, pid)
        err, _, _ = init_producer_id(s, corr=9, txn_id=b"txn")
        self.assertEqual(err, 15, "transactional_id: COORDINATOR_NOT_AVAILABLE")
        log(f"InitProducerId v0/v1: producer ids {pid0}, {pid}; transactional → 15")

        b0 = record_batch(pid, 0, 0, [b"a"])
        self.assertEqual(produce(s, topic, b0), (0, 0))
        self.assertEqual(produce(s, topic, b0), (0, 0), "duplicate: same offset")
        self.assertEqual(produce(s, topic, b0, acks=1), (0, 0))
        self.assertEqual(produce(s, topic, record_batch(pid, 0, 5, [b"x"]))[0], 45, "gap")
        self.assertEqual(produce(s, topic, record_batch(pid, 0, 0, [b"a", b"b"]))[0], 45,
                         "same first sequence, other last: not a duplicate")
        b1 = record_batch(pid, 0, 1, [b"b", b"c", b"d"])
        self.assertEqual(produce(s, topic, b1), (0, 1))
        self.assertEqual(produce(s, topic, b1), (0, 1), "3-record duplicate")
        self.assertEqual(produce(s, topic, b0), (0, 0), "older retained duplicate")
        self.assertEqual(produce(s, topic, record_batch(pid, 0, 4, [b"e"])), (0, 4))
        self.assertEqual(produce(s, topic, record_batch(pid0, 0, 3, [b"y"]))[0], 45,
                         "unknown producer not at sequence 0")
        self.assertEqual(produce(s, topic, record_batch(pid, 1, 5, [b"y"]))[0], 45,
                         "new epoch not at sequence 0")
        self.assertEqual(produce(s, topic, record_batch(pid, 1, 0, [b"f"])), (0, 5))
        self.assertEqual(produce(s, topic, record_batch(pid, 0, 5, [b"z"]))[0], 47,
                         "older epoch")
        self.assertEqual(produce(s, topic, record_batch(pid, 1, 1, [b"g"])), (0, 6))
        entries, hw = log_values(b, topic)
        self.assertEqual(hw, 7)
        self.assertEqual(entries, list(enumerate([b"a", b"b", b"c", b"d", b"e", b"f", b"g"])))
        log("duplicates answered with their original offsets, stored once; "
            "gap/unknown/new-epoch-not-0 → 45, older epoch → 47")
        s.close()
        b.stop_checked()


class T3RestartDuplicate(unittest.TestCase):
    def test_duplicate_across_restart(self):
        b = Broker("T3").start()
        self.addCleanup(lambda: b.alive() and b.stop_checked())
        topic = "restart"
        create_topic(b, topic, 1)
        s = connect(b)
        err, pid, epoch = init_producer_id(s)
        self.assertEqual(err, 0)
        b0 = record_batch(pid, 0, 0, [b"r0", b"r1"])
        self.assertEqual(produce(s, topic, b0), (0, 0))
        s.close()
        port = b.port
        b.stop_checked()
        b.start(port=port)
        s = connect(b)
        self.addCleanup(s.close)
        self.assertEqual(produce(s, topic, b0), (0, 0), "duplicate after a restart")
        self.assertEqual(produce(s, topic, record_batch(pid, 0, 2, [b"r2"])), (0, 2))
        self.assertEqual(produce(s, topic, record_batch(pid, 0, 9, [b"r9"]))[0], 45)
        err, pid2, _ = init_producer_id(s, corr=5)
        self.assertEqual(err, 0)
        self.assertGreater(pid2, pid, "a producer id was reused after the restart")
        entries, hw = log_values(b, topic)
        self.assertEqual(entries, [(0, b"r0"), (1, b"r1"), (2, b"r2")])
        log(f"after SIGTERM + restart: the retried batch got offset 0 again, the next "
            f"offset 2; new producer id {pid2} > {pid}")
        s.close()
        b.stop_checked()


class T4Kill9IdempotentStream(unittest.TestCase):
    def test_kill9_during_idempotent_stream(self):
        b = Broker("T4").start()
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
            "enable.idempotence": True, "linger.ms": 2,
            "reconnect.backoff.ms": 50, "reconnect.backoff.max.ms": 300,
            "message.timeout.ms": 60000, "error_cb": client_errors.append,
        }))

        def stream():
            i, end = 0, time.monotonic() + 3.0
            while time.monotonic() < end:
                for _ in range(10):
                    try:
                        p.produce(topic, value=b"%d" % i, on_delivery=dr)
                    except BufferError:
                        p.poll(0.05)
                        continue
                    i += 1
                p.poll(0.005)
            produced[0] = i

        th = threading.Thread(target=stream)
        th.start()
        time.sleep(1.2)
        kill_time = time.monotonic()
        self.assertEqual(b.kill9(), -signal.SIGKILL)
        time.sleep(0.2)
        b.start(port=port)
        th.join()
        self.assertEqual(p.flush(60), 0, "flush left messages undelivered")
        n = produced[0]
        acked_before = {i for i, t in ack_time.items() if t < kill_time}
        self.assertGreater(len(acked_before), 0, "nothing was acknowledged before the kill")
        self.assertGreater(len(acked) - len(acked_before), 0, "nothing acknowledged after")
        fatal = [e for e in client_errors if e.fatal()]
        self.assertEqual(fatal, [], "fatal idempotence errors")

        got, hw, _ = consume_to_end(b, topic, [0], timeout=30)
        entries = [(m.offset(), int(m.value())) for m in got[0]]
        self.assertEqual([o for o, _ in entries], list(range(hw[0])))
        values = [v for _, v in entries]
        self.assertEqual(len(values), len(set(values)), "a message is in the log twice")
        at = dict(entries)
        for i, o in acked.items():
            self.assertEqual(at.get(o), i, f"acknowledged message {i} is not at its offset {o}")
        self.assertEqual(values, sorted(values), "messages out of produce order")
        self.assertEqual(set(acked), set(range(n)) - set(failed))
        log(f"{n} produced, {len(acked)} acknowledged ({len(acked_before)} before the kill), "
            f"{len(failed)} failed; log of {hw[0]}: every acknowledged message once, in order")
        b.stop_checked()


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

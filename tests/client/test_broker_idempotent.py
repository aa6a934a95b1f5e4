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

SPATE = os.environ.get("SPATE")
if not SPATE:
    sys.exit("SPATE must name the spate binary")

PORT_RE = re.compile(r"listening on 127\.0\.0\.1:(\d+) \(Kafka protocol;")
TMPDIR = tempfile.mkdtemp(prefix="spate_broker_idem_")
STARTED = []  # every Popen this file started; only these are ever signalled


def log(msg):
    print("    checked: " + msg, flush=True)


# ---- brokers ----

class Broker:
    """One `spate broker` process (restartable on the same data dir)."""

    def __init__(self, name):
        self.name = name
        self.data_dir = os.path.join(TMPDIR, name + "-data")
        self.proc = None
        self.port = None
        self.log_path = None
        self.starts = 0

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.port}"

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def start(self, port=0, timeout=10.0):
        """Starts the broker on `port` (0: any) and waits for its port line.
        A fixed port may be briefly busy after a kill: retried until timeout."""
        deadline = time.monotonic() + timeout
        while True:
            self.starts += 1
            self.log_path = os.path.join(TMPDIR, f"{self.name}.{self.starts}.log")
            with open(self.log_path, "wb") as logf:
                proc = subprocess.Popen(
                    [SPATE, "broker", "--listen", f"127.0.0.1:{port}",
                     "--data-dir", self.data_dir],
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
            if proc.poll() is None:  # no port line in time
                proc.kill()
                proc.wait()
                raise AssertionError(f"broker did not report its port within {timeout} s:\n"
                                     + self.log_text())
            if port == 0 or time.monotonic() >= deadline:
                raise AssertionError(f"broker exited {proc.returncode} at start:\n"
                                     + self.log_text())
            time.sleep(0.2)  # e.g. the port is still busy: try again

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM, wait; returns the exit status."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("broker did not exit within 20 s of SIGTERM")

    def stop_checked(self):
        rc = self.stop()
        if rc != 0:
            raise AssertionError(f"broker exit status after SIGTERM: {rc}\n" + self.log_text())

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        return self.proc.wait(timeout=10)


def client_conf(broker, extra=None):
    conf = {"bootstrap.servers": broker.bootstrap, "broker.address.family": "v4"}
    conf.update(extra or {})
    return conf


def admin_for(broker):
    return AdminClient(client_conf(broker))


def create_topic(broker, name, partitions):
    admin = admin_for(broker)  # kept until the result is in: its handle serves the future
    fs = admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
    fs[name].result(10)


def produce_all(producer, topic, items, on_delivery, poll_every=200):
    """items: iterable of dicts of produce() keyword arguments."""
    for n, kw in enumerate(items):
        while True:
            try:
                producer.produce(topic, on_delivery=on_delivery, **kw)
                break
            except BufferError:
                producer.poll(0.05)
        if n % poll_every == 0:
            producer.poll(0)


def consume_to_end(broker, topic, partitions, timeout=20.0, settle=0.5, extra=None, want=0):
    """Reads partitions of topic from the beginning up to the high watermark
    each had when called (plus whatever arrives within `settle` seconds
    after that, to catch duplicates); with `want`, first waits (up to
    timeout) for the high watermarks to add up to at least want. Returns
    ({partition: [Message]}, {partition: high watermark}, [non-EOF errors])."""
    conf = client_conf(broker, {
        "group.id": f"spate-test-{topic}",  # needed by the client; groups are never joined
        "enable.auto.commit": False,
        "enable.partition.eof": False,
    })
    conf.update(extra or {})
    c = Consumer(conf)
    errors = []
    try:
        deadline = time.monotonic() + timeout
        while True:
            hw = {}
            for p in partitions:
                lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
                hw[p] = hi
            if sum(hw.values()) >= want or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        got = {p: [] for p in partitions}

        def done():
            return all((got[p][-1].offset() + 1 if got[p] else 0) >= hw[p] for p in partitions)

        while not done() and time.monotonic() < deadline:
            m = c.poll(0.2)
            if m is None:
                continue
            if m.error():
                errors.append(m.error())
                continue
            got[m.partition()].append(m)
        end = time.monotonic() + settle
        while time.monotonic() < end:
            m = c.poll(0.1)
            if m is not None and not m.error():
                got[m.partition()].append(m)
    finally:
        c.close()
    return got, hw, errors


# ---- raw Kafka frames ----

def frame(payload):
    return struct.pack(">i", len(payload)) + payload


def request(api_key, version, corr, body=b"", client_id=b"spate-test", tags=False):
    hdr = struct.pack(">hhih", api_key, version, corr, len(client_id)) + client_id
    if tags:
        hdr += b"\x00"  # request header v2: empty tagged fields
    return frame(hdr + body)


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise AssertionError(f"connection closed after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


def recv_frame(sock):
    (size,) = struct.unpack(">i", recv_exact(sock, 4))
    return recv_exact(sock, size)


def closed_by_peer(sock, timeout=5.0):
    """True when the broker closes the connection (EOF or reset) within
    timeout without sending anything first."""
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

# kafkatest.py — helpers shared by the Python broker tests (not a test: ctest
# runs tests/client/test_*.py only). A test file imports them with
# `from kafkatest import *`; the script's own folder is on sys.path.
#
#   Broker          one `spate broker` process on port 0 (or a fixed port),
#                   restartable on the same data dir, stopped by pid
#   client_conf, admin_for, create_topic, produce_all, consume_to_end
#                   confluent-kafka helpers
#   frame, request, recv_exact, recv_frame, closed_by_peer
#                   raw Kafka frames over a socket
#
# STARTED lists every process started here, and TMPDIR holds their data and
# logs; tearDownModule (imported with the rest, or a test file's own) stops
# the former and removes the latter (KEEP_TMP=1 keeps it).
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

from confluent_kafka import (OFFSET_BEGINNING, OFFSET_END, Consumer, KafkaError,
                             KafkaException, Producer, TopicPartition)
from confluent_kafka.admin import AdminClient, NewTopic

SPATE = os.environ.get("SPATE")
if not SPATE:
    sys.exit("SPATE must name the spate binary")

PORT_RE = re.compile(r"listening on 127\.0\.0\.1:(\d+) \(Kafka protocol;")
TMPDIR = tempfile.mkdtemp(prefix="spate_broker_test_")
STARTED = []  # every Popen this file started; only these are ever signalled


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

    def start(self, port=0, timeout=10.0, args=()):
        """Starts the broker on `port` (0: any) and waits for its port line.
        A fixed port may be briefly busy after a kill: retried until timeout."""
        deadline = time.monotonic() + timeout
        while True:
            self.starts += 1
            self.log_path = os.path.join(TMPDIR, f"{self.name}.{self.starts}.log")
            with open(self.log_path, "wb") as logf:
                proc = subprocess.Popen(
                    [SPATE, "broker", "--listen", f"127.0.0.1:{port}",
                     "--data-dir", self.data_dir, *args],
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

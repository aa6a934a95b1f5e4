# streamtest.py — helpers shared by the `spate stream` client tests
# (test_stream_e2e.py, test_stream_pg.py, test_stream_window.py,
# test_stream_metrics.py); not a test: ctest runs tests/client/test_*.py only.
# Built on kafkatest.py (not folded into it: these helpers are for
# `spate stream` jobs, which the broker tests importing kafkatest never
# run): one TMPDIR, one STARTED list and one tearDownModule (a test file
# imports it from here or from kafkatest) for everything, and SPATE must be
# set (kafkatest exits otherwise).
#
#   free_port()                 a loopback port free right now
#   read(path)                  a log file as text (bad UTF-8 replaced)
#   start_server(name, args, port_re)
#                               `spate <args>` logging to TMPDIR/<name>.log,
#                               waits for its port line: (proc, port, log)
#   BROKER_RE, CQL_RE           the port lines of `spate broker` / `spate cql`
#   Processor(config, args)     one `spate stream --config <config>` process
#                               logging to TMPDIR/stream.<n>.log; stop()
#                               (SIGTERM, must exit 0 within 60 s), kill9()
#   produce(bootstrap, topic, msgs, linger_ms, poll_every)
#                               (key, value, partition-or-None) triples to a
#                               topic with an idempotent producer (polled
#                               every poll_every messages): (messages left
#                               unflushed after 30 s, delivery errors)
#   offsets(bootstrap, topic, group, parts)
#                               ([committed], [end]) of partitions 0..parts-1
#   read_dlq(bootstrap, topic)  every message of a 1-partition topic (20 s)
#   fetch_users(seed, count, timeout)
#                               `count` users as the scheduler's fetch task
#                               makes them: `spate fetch` against a `spate
#                               randomuser` started (and stopped) here;
#                               the JSON lines as bytes, in order
#   SEED_COLS                   the seed table's columns, as the jobs select them
#   JOB_SOURCE, JOB_HEAD        pipeline YAML: a job's name and source block;
#                               a file's head with one such job mapping users
#                               to SEED_COLS (the test appends its sink)
#
# Every process started here is appended to STARTED and stopped by pid only.
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafkatest import (PORT_RE, SPATE, STARTED, TMPDIR, log,  # noqa: E402,F401
                       tearDownModule)

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402

BROKER_RE = PORT_RE
CQL_RE = re.compile(r"listening on 127\.0\.0\.1:(\d+) \(CQL")


# The seed table's columns, as the stream tests' jobs select them.
SEED_COLS = ["id", "first_name", "last_name", "gender", "address", "post_code", "email",
             "username", "dob", "registered_date", "phone", "picture"]

# A job's name and source as the stream tests write them: a topic read in
# a consumer group that notices a dead member within seconds. str.format
# fields: job, bootstrap, topic, group. The test appends the rest of the
# job (six spaces in).
JOB_SOURCE = """
    - name: {job}
      source:
        kafka:
          bootstrap: {bootstrap}
          topics: [{topic}]
          group: {group}
          start: earliest
          properties:
            session.timeout.ms: 6000
            heartbeat.interval.ms: 500
"""

# The head of a pipeline file with one such job mapping users to the seed
# table's columns; fields as JOB_SOURCE's and cols (", ".join(SEED_COLS)
# or a subset). The test appends the job's sink, dead_letter and delivery.
JOB_HEAD = """
log_level: info
stream:
  jobs:""" + JOB_SOURCE + """\
      transform:
        - map:
            require: [id, first_name, last_name, email, username]
            cast:
              id: uuid
              post_code: text
            select: [{cols}]
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def start_server(name, args, port_re, timeout=20.0):
    """Starts `spate <args>` and waits for its port line; (proc, port, log)."""
    log_path = os.path.join(TMPDIR, name + ".log")
    with open(log_path, "wb") as logf:
        proc = subprocess.Popen([SPATE, *args], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=logf)
    STARTED.append(proc)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = port_re.search(read(log_path))
        if m:
            return proc, int(m.group(1)), log_path
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError(f"{name} did not start:\n" + read(log_path))


class Processor:
    """One `spate stream` process."""
    count = 0

    def __init__(self, config, args=()):
        Processor.count += 1
        self.log_path = os.path.join(TMPDIR, f"stream.{Processor.count}.log")
        with open(self.log_path, "wb") as logf:
            self.proc = subprocess.Popen([SPATE, "stream", "--config", config, *args],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=logf)
        STARTED.append(self.proc)

    def log_text(self):
        return read(self.log_path)

    def alive(self):
        return self.proc.poll() is None

    def catches_sigterm(self):
        """True once the process has its SIGTERM handler (SigCgt bit 15):
        a SIGTERM before that kills it outright, as any program."""
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("SigCgt:"):
                        return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
        except OSError:
            pass
        return False

    def stop(self):
        """SIGTERM; must exit 0 within 60 s."""
        deadline = time.monotonic() + 30
        while not self.catches_sigterm() and self.alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("spate stream did not exit within 60 s of SIGTERM\n"
                                 + self.log_text())
        if rc != 0:
            raise AssertionError(f"spate stream exit status {rc} after SIGTERM\n"
                                 + self.log_text())

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)


def produce(bootstrap, topic, msgs, linger_ms, poll_every):
    """Produces (key, value, partition or None) triples; returns (how many
    were still unflushed after 30 s, delivery errors): a test asserts both
    are nothing."""
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": linger_ms,
                  "enable.idempotence": True})
    failed = []

    def dr(err, msg):
        if err:
            failed.append(err)
    for i, (key, value, partition) in enumerate(msgs):
        kw = {} if partition is None else {"partition": partition}
        while True:
            try:
                p.produce(topic, key=key, value=value, on_delivery=dr, **kw)
                break
            except BufferError:
                p.poll(0.05)
        if i % poll_every == 0:
            p.poll(0)
    return p.flush(30), failed


def offsets(bootstrap, topic, group, parts):
    """([committed], [end]) of partitions 0..parts-1 (no commit: 0)."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                  "enable.auto.commit": False})
    try:
        tps = [TopicPartition(topic, p) for p in range(parts)]
        committed = c.committed(tps, timeout=10)
        end = [c.get_watermark_offsets(tp, timeout=10)[1] for tp in tps]
        return [max(tp.offset, 0) for tp in committed], end
    finally:
        c.close()


def read_dlq(bootstrap, topic):
    """Every message of a dead-letter topic (1 partition, auto-created),
    read from offset 0 up to its end offset (20 s at most)."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "dlq-reader",
                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    try:
        tp = TopicPartition(topic, 0, 0)
        end = c.get_watermark_offsets(tp, timeout=10)[1]
        c.assign([tp])
        got = []
        deadline = time.monotonic() + 20
        while len(got) < end and time.monotonic() < deadline:
            m = c.poll(0.2)
            if m is not None and not m.error():
                got.append(m)
        return got
    finally:
        c.close()


def fetch_users(seed, count, timeout):
    """`count` users from `spate fetch` against a `spate randomuser` on a
    free port (seed `seed`), written to TMPDIR/users.jsonl: its lines."""
    rport = free_port()
    ru = subprocess.Popen([SPATE, "randomuser", "--listen", f"127.0.0.1:{rport}",
                           "--log-level", "warn"], stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    STARTED.append(ru)
    deadline = time.monotonic() + 10
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{rport}/health", timeout=1).read()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    path = os.path.join(TMPDIR, "users.jsonl")
    subprocess.run([SPATE, "fetch", "--url", f"http://127.0.0.1:{rport}/api/?seed={seed}",
                    "--count", str(count), "--out", path, "--log-level", "warn"],
                   check=True, timeout=timeout)
    ru.terminate()
    ru.wait()
    with open(path, "rb") as f:
        return [line.rstrip(b"\n") for line in f if line.strip()]

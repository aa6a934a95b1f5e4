# brokerproc.py — helpers shared by test_broker_admin.py and
# test_broker_groups.py (not a test: ctest runs tests/client/test_*.py
# only). A test file imports them with `from brokerproc import ...`; the
# script's own folder is on sys.path. SPATE must be set (exits otherwise).
#
#   Broker(prefix)  one `spate broker` process on port 0, its data dir a
#                   mkdtemp(prefix=prefix); restartable on the same port and
#                   data dir; stop() (SIGTERM, returns the exit status),
#                   kill9(), cleanup() (kills it if still running, removes
#                   the dir), stop_and_cleanup() (a test class's teardown:
#                   stop(), exit status must be 0, then cleanup()). It
#                   signals only the process it started, by its Popen (pid);
#                   a broker log line with "malformed" or "not supported"
#                   fails the stop
#   conf            confluent-kafka config for a Broker (IPv4)
#   request, recv_exact, s16
#                   raw Kafka requests (v0-style header) over a socket
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

SPATE = os.environ.get("SPATE")
if not SPATE:
    sys.exit("SPATE must name the spate binary")

PORT_RE = re.compile(r"listening on 127\.0\.0\.1:(\d+) \(Kafka protocol")


class Broker:
    """One `spate broker` process; restartable on the same port and data dir."""

    def __init__(self, prefix):
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.port = 0
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [SPATE, "broker", "--listen", "127.0.0.1:%d" % self.port, "--data-dir",
             os.path.join(self.dir, "data"), "--log-level", "info"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.lines = []
        deadline = time.time() + 10
        while time.time() < deadline:
            line = self.proc.stderr.readline().decode(errors="replace")
            if not line:
                break
            self.lines.append(line)
            m = PORT_RE.search(line)
            if m:
                self.port = int(m.group(1))
                # Keep draining stderr so the broker never blocks on it.
                self.drain = threading.Thread(target=self._drain, args=(self.proc,), daemon=True)
                self.drain.start()
                return
        raise AssertionError("broker did not start:\n" + "".join(self.lines))

    def _drain(self, proc):
        for line in proc.stderr:
            self.lines.append(line.decode(errors="replace"))

    @property
    def addr(self):
        return "127.0.0.1:%d" % self.port

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=20)
        self._reap()
        return rc

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=20)
        self._reap()

    def _reap(self):
        self.drain.join(5)  # it ends at EOF, after the broker's last line
        self.proc.stderr.close()
        self.proc = None
        # A request the broker could not parse would be hidden by client
        # retries: none may have happened.
        bad = [l for l in self.lines if "malformed" in l or "not supported" in l]
        assert not bad, "broker complained:\n" + "".join(bad)

    def cleanup(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()
            self.proc.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def stop_and_cleanup(self):
        """A test class's teardown: stops the broker if it is running (its exit
        status must be 0), then cleanup() whatever happened."""
        try:
            if self.proc:
                rc = self.stop()
                assert rc == 0, "broker exit status %d:\n%s" % (rc, "".join(self.lines))
        finally:
            self.cleanup()


def conf(broker, **kw):
    c = {"bootstrap.servers": broker.addr, "broker.address.family": "v4"}
    c.update(kw)
    return c


def request(port, key, ver, body, corr=7):
    """One raw request; returns the response body (after the correlation id)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        hdr = struct.pack(">hhih", key, ver, corr, 4) + b"test"
        msg = hdr + body
        s.sendall(struct.pack(">i", len(msg)) + msg)
        n = struct.unpack(">i", recv_exact(s, 4))[0]
        data = recv_exact(s, n)
        assert struct.unpack(">i", data[:4])[0] == corr
        return data[4:]
    finally:
        s.close()


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise AssertionError("connection closed")
        buf += chunk
    return buf


def s16(x):
    x = x.encode()
    return struct.pack(">h", len(x)) + x

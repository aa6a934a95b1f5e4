# test_cql_auth.py — spate cql with PasswordAuthenticator (users from the
# config file), driven by the DataStax Python driver (python3-cassandra):
# the right password logs in; a wrong one and no credentials are refused
# with Cassandra's answers; a request before logging in is a protocol
# error; without users, AUTH_RESPONSE is refused.
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

from cassandra import AuthenticationFailed
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import Cluster, NoHostAvailable

SPATE = os.environ.get("SPATE") or sys.exit("SPATE must name the spate binary")
PORT_RE = re.compile(r"listening on 127\.0\.0\.1:(\d+) \(CQL native protocol")
TMPDIR = tempfile.mkdtemp(prefix="spate_cql_auth_")
STARTED = []


def start_server(name, config_text):
    cfg = os.path.join(TMPDIR, name + ".yaml")
    with open(cfg, "w") as f:
        f.write(config_text)
    logp = os.path.join(TMPDIR, name + ".log")
    logf = open(logp, "wb")
    proc = subprocess.Popen([SPATE, "cql", "--config", cfg, "--listen", "127.0.0.1:0",
                             "--data-dir", os.path.join(TMPDIR, name)],
                            stdout=logf, stderr=logf)
    STARTED.append(proc)
    deadline = time.time() + 10
    while time.time() < deadline:
        with open(logp, "rb") as f:
            m = PORT_RE.search(f.read().decode("utf-8", "replace"))
        if m:
            return proc, int(m.group(1)), logp
        if proc.poll() is not None:
            raise AssertionError("spate cql exited: " + open(logp).read())
        time.sleep(0.05)
    raise AssertionError("spate cql did not start")


def tearDownModule():
    for p in STARTED:
        if p.poll() is None:
            p.terminate()
            p.wait(10)
    shutil.rmtree(TMPDIR, ignore_errors=True)


def frame(opcode, body, stream=1, version=4):
    return struct.pack(">BBhBI", version, 0, stream, opcode, len(body)) + body


def string_map(d):
    out = struct.pack(">H", len(d))
    for k, v in d.items():
        out += struct.pack(">H", len(k)) + k.encode() + struct.pack(">H", len(v)) + v.encode()
    return out


def recv_frame(s):
    hdr = b""
    while len(hdr) < 9:
        chunk = s.recv(9 - len(hdr))
        if not chunk:
            raise AssertionError("connection closed")
        hdr += chunk
    n = struct.unpack(">I", hdr[5:9])[0]
    body = b""
    while len(body) < n:
        body += s.recv(n - len(body))
    return hdr[4], body


def error_of(body):
    code = struct.unpack(">i", body[:4])[0]
    n = struct.unpack(">H", body[4:6])[0]
    return code, body[6:6 + n].decode()


class Auth(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.proc, cls.port, cls.log = start_server(
            "auth", "cql:\n  users:\n    cassandra: s3cret\n    app: 'p@ss: word'\n")

    def cluster(self, user=None, password=None):
        kw = {}
        if user is not None:
            kw["auth_provider"] = PlainTextAuthProvider(user, password)
        return Cluster(["127.0.0.1"], port=self.port, **kw)

    def test_right_password(self):
        for user, pw in (("cassandra", "s3cret"), ("app", "p@ss: word")):
            c = self.cluster(user, pw)
            s = c.connect()
            self.assertEqual(s.execute("SELECT cluster_name FROM system.local").one()[0], "spate")
            c.shutdown()

    def test_wrong_password_and_unknown_user(self):
        for user, pw in (("cassandra", "wrong"), ("nobody", "s3cret"), ("cassandra", "")):
            c = self.cluster(user, pw)
            with self.assertRaises(NoHostAvailable) as cm:
                c.connect()
            err = list(cm.exception.errors.values())[0]
            self.assertIsInstance(err, AuthenticationFailed)
            self.assertIn("code=0100 [Bad credentials]", str(err))
            self.assertIn(f"Provided username {user} and/or password are incorrect", str(err))
            c.shutdown()
        with open(self.log, "rb") as f:
            self.assertIn(b"login refused for user 'nobody'", f.read())

    def test_no_credentials(self):
        c = self.cluster()
        with self.assertRaises(NoHostAvailable) as cm:
            c.connect()
        self.assertIn("requires authentication", str(cm.exception))
        c.shutdown()

    def test_cqlsh(self):
        addr = f"127.0.0.1:{self.port}"
        q = "SELECT cluster_name FROM system.local;"
        r = subprocess.run([SPATE, "cqlsh", addr, "-u", "cassandra", "-p", "s3cret", "-e", q],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("spate", r.stdout)
        env = dict(os.environ, SPATE_CQL_PASSWORD="p@ss: word")
        r = subprocess.run([SPATE, "cqlsh", addr, "-u", "app", "-e", q], capture_output=True,
                           text=True, timeout=30, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = subprocess.run([SPATE, "cqlsh", addr, "-u", "cassandra", "-p", "nope", "-e", q],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn("Provided username cassandra and/or password are incorrect", r.stderr)
        r = subprocess.run([SPATE, "cqlsh", addr, "-e", q], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn("asks for authentication", r.stderr)

    def test_raw_sequence(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        s.sendall(frame(0x01, string_map({"CQL_VERSION": "3.0.0"})))
        op, body = recv_frame(s)
        self.assertEqual(op, 0x03)  # AUTHENTICATE
        n = struct.unpack(">H", body[:2])[0]
        self.assertEqual(body[2:2 + n], b"org.apache.cassandra.auth.PasswordAuthenticator")
        # A query before logging in is refused; the connection stays usable.
        q = b"SELECT * FROM system.local"
        s.sendall(frame(0x07, struct.pack(">I", len(q)) + q + struct.pack(">HB", 1, 0), stream=2))
        op, body = recv_frame(s)
        self.assertEqual(op, 0x00)
        self.assertEqual(error_of(body), (0x000A, "Unexpected message QUERY, expecting AUTH_RESPONSE"))
        # A token that is not SASL PLAIN.
        s.sendall(frame(0x0F, struct.pack(">i", 3) + b"abc", stream=3))
        op, body = recv_frame(s)
        self.assertEqual(op, 0x00)
        self.assertEqual(error_of(body)[0], 0x000A)
        tok = b"\x00cassandra\x00s3cret"
        s.sendall(frame(0x0F, struct.pack(">i", len(tok)) + tok, stream=4))
        op, body = recv_frame(s)
        self.assertEqual(op, 0x10)  # AUTH_SUCCESS, null token
        self.assertEqual(body, struct.pack(">i", -1))
        s.close()


class NoAuth(unittest.TestCase):
    def test_auth_response_refused(self):
        proc, port, _ = start_server("noauth", "cql:\n  cluster_name: open\n")
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(frame(0x01, string_map({"CQL_VERSION": "3.0.0"})))
        self.assertEqual(recv_frame(s)[0], 0x02)  # READY
        tok = b"\x00cassandra\x00cassandra"
        s.sendall(frame(0x0F, struct.pack(">i", len(tok)) + tok, stream=2))
        op, body = recv_frame(s)
        self.assertEqual(op, 0x00)
        self.assertEqual(error_of(body),
                         (0x000A, "Unexpected message AUTH_RESPONSE, authentication is not enabled"))
        s.close()
        c = Cluster(["127.0.0.1"], port=port)
        self.assertEqual(c.connect().execute("SELECT cluster_name FROM system.local").one()[0], "open")
        c.shutdown()

    def test_bad_config(self):
        cfg = os.path.join(TMPDIR, "bad.yaml")
        with open(cfg, "w") as f:
            f.write("cql:\n  users:\n    - cassandra\n")
        r = subprocess.run([SPATE, "cql", "--config", cfg], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("bad.yaml:2: key 'users'", r.stderr)
        self.assertIn("expected a map of user: password", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)

# zktest.py — a private ZooKeeper standalone server for a test (not a
# test: ctest runs tests/client/test_*.py only).
#
#   available()              java and Debian's zookeeper jars are installed
#                            (skip the test if not)
#   zk = ZooKeeper(tmpdir)   tmpdir/zk/{zoo.cfg,data,zk.log}, a free
#                            loopback client port zk.port
#   zk.start() / zk.stop()   the server started with java (waits until
#                            "srvr" shows it serving) / stopped by pid
#                            (SIGTERM, then SIGKILL); restartable
#   zk.hosts                 "127.0.0.1:PORT" (what a client connects to)
#   zk.four(cmd)             a four-letter command ("ruok", "srvr", "cons",
#                            "dump"), its reply as text
#   zk.log()                 the end of the server's log
#
# The server is QuorumPeerMain's standalone twin ZooKeeperServerMain, run
# straight from the Debian package's jars (/usr/share/java/zookeeper.jar,
# whose manifest Class-Path names the jars it needs) plus an slf4j binding
# so the log goes to zk.log. No systemd, no /etc/zookeeper, no /var/lib:
# everything lives in the test's temp dir. The admin server (Jetty, port
# 8080) is disabled; the 4lw commands the helper uses are whitelisted.
#
# A server still running when the Python process exits (a test that failed
# between start and stop) is stopped then, by pid (atexit).
import atexit
import os
import shutil
import signal
import socket
import subprocess
import time

JAVA = os.environ.get("JAVA", "/usr/bin/java")
ZK_JAR = os.environ.get("ZK_JAR", "/usr/share/java/zookeeper.jar")
_SLF4J = [
    "/usr/share/java/slf4j-simple.jar",  # logs to stderr → zk.log
    "/usr/share/java/slf4j-nop.jar",
]
_RUNNING = []  # every ZooKeeper started and not stopped yet


@atexit.register
def _stop_all():
    for zk in list(_RUNNING):
        zk.stop()


def available():
    return os.access(JAVA, os.X_OK) and os.path.exists(ZK_JAR)


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class ZooKeeper:
    def __init__(self, tmpdir, tick_ms=500):
        self.dir = os.path.join(tmpdir, "zk")
        self.data = os.path.join(self.dir, "data")
        os.makedirs(self.data, exist_ok=True)
        self.cfg = os.path.join(self.dir, "zoo.cfg")
        self.log_path = os.path.join(self.dir, "zk.log")
        self.port = _free_port()
        self.hosts = f"127.0.0.1:{self.port}"
        self.proc = None
        # tickTime bounds the session timeouts the server grants
        # (2 to 20 ticks): 500 ms lets a test ask for 2-10 s sessions.
        with open(self.cfg, "w") as f:
            f.write(f"tickTime={tick_ms}\n"
                    f"dataDir={self.data}\n"
                    f"clientPort={self.port}\n"
                    "clientPortAddress=127.0.0.1\n"
                    "maxClientCnxns=0\n"
                    "admin.enableServer=false\n"
                    "4lw.commands.whitelist=ruok,srvr,stat,cons,dump,mntr\n"
                    "preAllocSize=1024\n"
                    "snapCount=100000\n"
                    "forceSync=no\n")

    def _classpath(self):
        cp = [ZK_JAR]
        for j in _SLF4J:
            if os.path.exists(j):
                cp.append(j)
                break
        return ":".join(cp)

    def start(self, timeout=30):
        logf = open(self.log_path, "ab")
        cmd = [JAVA, "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
               "-Dzookeeper.jmx.log4j.disable=true", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
               "-cp", self._classpath(), "org.apache.zookeeper.server.ZooKeeperServerMain", self.cfg]
        self.proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.dir)
        logf.close()
        _RUNNING.append(self)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"zookeeper exited with {self.proc.returncode}: {self.log()}")
            try:
                # "ruok" says imok as soon as the port is open; "srvr"
                # shows Mode: only once requests are served.
                if "Mode:" in self.four("srvr", timeout=1.0):
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise AssertionError(f"zookeeper did not answer within {timeout}s: {self.log()}")

    def four(self, cmd, timeout=5.0):
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            s.sendall(cmd.encode())
            chunks = []
            while True:
                b = s.recv(65536)
                if not b:
                    break
                chunks.append(b)
        return b"".join(chunks).decode(errors="replace")

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        if self in _RUNNING:
            _RUNNING.remove(self)

    def log(self, tail=4000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-tail:].decode(errors="replace")
        except OSError:
            return ""

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

# pgtest.py — a private PostgreSQL 15 for a test (not a test: ctest runs
# tests/client/test_*.py only).
#
#   available()             PostgreSQL 15 and psql are installed (skip if not)
#   pg = Postgres(tmpdir)   initdb into tmpdir/pg/pgdata (trust auth, UTF8,
#                           locale C, no fsync), a free loopback port pg.port,
#                           the unix socket in pg.dir (= tmpdir/pg)
#   pg.start() / pg.stop()  postgres started (waits until it answers) /
#                           stopped by pid (SIGINT: fast shutdown);
#                           restartable on the same data dir and port
#   pg.url                  postgresql://postgres@127.0.0.1:PORT/postgres
#                           (superuser postgres, database postgres)
#   pg.psql(sql)            runs sql with psql (-X -A -t -q, ON_ERROR_STOP),
#                           the output's text (AssertionError on failure);
#                           pg.scalar(sql) the same, stripped: one value
#   pg.log()                the end of the server's log (for failure messages)
#
# A server still running when the Python process exits (a test that
# failed between start and stop) is stopped then, by pid (atexit).
#
# When the test runs as root, everything runs as the `postgres` user
# (runuser), which then owns the data dir. Binaries come from
# /usr/lib/postgresql/15/bin (PG_BIN overrides).
import atexit
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time

PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")
_RUNNING = []  # every Postgres started and not stopped yet


@atexit.register
def _stop_all():
    for pg in list(_RUNNING):
        pg.stop()


def available():
    return os.path.exists(os.path.join(PG_BIN, "postgres")) and shutil.which("psql") is not None


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Postgres:
    def __init__(self, tmpdir):
        self.dir = os.path.join(tmpdir, "pg")
        os.makedirs(self.dir, exist_ok=True)
        self.data = os.path.join(self.dir, "pgdata")
        self.log_path = os.path.join(self.dir, "postgres.log")
        self.port = _free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.proc = None
        self.as_user = []
        self.popen_user = {}
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            os.chmod(tmpdir, os.stat(tmpdir).st_mode | 0o711)  # postgres must reach self.dir
            self.as_user = ["runuser", "-u", "postgres", "--"]
            # The postmaster itself is our child (runuser would not pass
            # SIGINT on), so it is stopped by its own pid.
            self.popen_user = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
        subprocess.run(self.as_user + [os.path.join(PG_BIN, "initdb"), "-D", self.data,
                                       "-U", "postgres", "--auth=trust", "-E", "UTF8",
                                       "--no-sync", "--locale=C"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)

    def start(self, timeout=30):
        logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [os.path.join(PG_BIN, "postgres"), "-D", self.data,
                            "-p", str(self.port), "-c", "listen_addresses=127.0.0.1",
                            "-c", f"unix_socket_directories={self.dir}",
                            "-c", "fsync=off", "-c", "synchronous_commit=off",
                            "-c", "full_page_writes=off"],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, **self.popen_user)
        logf.close()
        _RUNNING.append(self)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("postgres did not start:\n" + self.log())
            r = subprocess.run(["psql", "-X", "-h", self.dir, "-p", str(self.port), "-U",
                                "postgres", "-d", "postgres", "-c", "select 1"],
                               capture_output=True)
            if r.returncode == 0:
                return
            time.sleep(0.1)
        raise AssertionError("postgres did not answer:\n" + self.log())

    def stop(self):
        """Fast shutdown (SIGINT to the postmaster, by pid)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self in _RUNNING:
            _RUNNING.remove(self)

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-4000:]
        except OSError:
            return ""

    def psql(self, sql):
        r = subprocess.run(["psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1",
                            "-h", self.dir, "-p", str(self.port), "-U", "postgres",
                            "-d", "postgres", "-c", sql],
                           capture_output=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError(f"psql {sql!r}: {r.stderr.decode()}")
        return r.stdout.decode()

    def scalar(self, sql):
        return self.psql(sql).strip()

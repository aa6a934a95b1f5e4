# test_stream_pg.py — `spate stream` into a real PostgreSQL 15 (the
# postgres sink, libpq): users (spate randomuser → spate fetch) produced to
# a spate broker with confluent_kafka, a job users_created → table
# created_users (id uuid primary key, text columns, gender varchar(6)),
# read back with psql. Both sink modes, each on its own topic and table:
#
#   PgSink.test_1_upsert / test_2_copy, each in four steps:
#     1. N users with two bad rows among them (gender 40 characters long:
#        SQLSTATE 22001; a username a CHECK constraint refuses: 23514)
#        and one with text to escape (tab, newline, backslash, a literal
#        \N, quotes, UTF-8, a JSON null), stored exactly as sent;
#        rows == distinct users, committed == end offsets; the dead-letter
#        topic holds exactly the bad rows, original bytes, their reasons
#        naming the SQLSTATE
#     2. the same N users produced again (a replay): the row count is
#        unchanged, every row still equal to its user
#     3. N new users, the processor killed -9 mid-stream and restarted:
#        exact row count (the replay of what was in flight is idempotent)
#     4. N new users after the 2N stored ones again, PostgreSQL stopped
#        mid-stream and started again 1 s later: the job reconnects by
#        itself and sends again what was in flight, exact row count, lag 0
#   PgSink.test_3_order_after_failure
#     200 keys written 30 times each on one partition with a bad row near
#     the end (batches after it in flight when it fails): in both modes every
#     key ends with its last write, and the bad row is the dead letter
#   PgSink.test_4_create
#     `create: true` against an empty database, three jobs on one topic:
#     upsert with `select` and `cast: {id: uuid}` (id uuid, the rest text),
#     copy with a select and a two-column key (both text), and no transform
#     at all (the seed's columns, id text); the tables' columns, types and
#     primary keys read back from information_schema, every row exact after
#     a replay; a restart finds the tables there (IF NOT EXISTS) and goes
#     on; `spate validate` refuses create without key with file:line, and a
#     key the records lack stops the job at start
#   PgSink.test_5_reserved_words (both modes)
#     a table with columns "user", "order", "end", "group" (quoted in the
#     DDL) receives 300 records keyed so (some spelled "User", "ORDER":
#     folded to lower case); among them {"id", "ID"} (two keys, one column)
#     and two records with a field the table lacks (SQLSTATE 42703 from the
#     statement's Parse / the COPY) are the only dead letters, with their
#     reasons; exact rows, committed == end (no endless retry), and 100
#     more records after them are stored too
#   PgSink.test_6_many_shapes (both modes)
#     100 distinct column lists (records omitting different optional
#     fields), three rounds of them: more than the 64 statements kept, so
#     the least recently used ones are evicted (DEALLOCATE) and made again;
#     all 300 rows stored exactly, no dead letter, no failed batch
#
# Every process runs from $SPATE (or PostgreSQL's own binaries, through
# pgtest.py) on a free loopback port with its data under a temp dir and is
# stopped by pid. N = 4000 (SPATE_LONG_TESTS=1: 40000). KEEP_TMP=1 keeps
# the temp dir. Skipped when PostgreSQL 15 is not installed.
import json
import os
import re
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafkatest import (TMPDIR, Broker, log, tearDownModule)  # noqa: E402,F401
from streamtest import Processor  # noqa: E402
import streamtest  # noqa: E402
import pgtest  # noqa: E402

from confluent_kafka import Consumer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

SPATE = os.environ["SPATE"]
N = 40000 if os.environ.get("SPATE_LONG_TESTS") == "1" else 4000
PARTS = 6
COLS = streamtest.SEED_COLS

TABLE = """CREATE TABLE {table} (id uuid PRIMARY KEY, first_name text, last_name text,
  gender varchar(6), address text, post_code text, email text,
  username text CHECK (username <> 'forbidden'), dob text,
  registered_date text, phone text, picture text)"""

PIPELINE = streamtest.JOB_HEAD + """\
      sink:
        postgres:
          url: {url}
          table: {table}
          key: [id]
          mode: {mode}
      dead_letter:
        topic: {topic}_dlq
      delivery:
        max_in_flight: {max_in_flight}
        commit_interval_ms: 200
        backoff_ms: 50
        backoff_max_ms: 500
"""


@unittest.skipUnless(pgtest.available(), "PostgreSQL 15 is not installed")
class PgSink(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = pgtest.Postgres(TMPDIR)
        cls.pg.start()
        cls.broker = Broker("broker").start()
        cls.bootstrap = cls.broker.bootstrap
        # Users as the scheduler's fetch task makes them.
        cls.users = streamtest.fetch_users("pg", 3 * N, 120)
        assert len(cls.users) == 3 * N, len(cls.users)
        cls.recs = [json.loads(u) for u in cls.users]
        cls.admin = AdminClient({"bootstrap.servers": cls.bootstrap})

    @classmethod
    def tearDownClass(cls):
        cls.pg.stop()

    # ---- helpers ----

    def produce(self, topic, values):
        unflushed, failed = streamtest.produce(self.bootstrap, topic,
                                               ((k, v, None) for k, v in values), 20, 1000)
        self.assertEqual(unflushed, 0)
        self.assertEqual(failed, [])

    def user_msgs(self, lo, hi):
        return [(self.recs[i]["id"].encode(), self.users[i]) for i in range(lo, hi)]

    def offsets(self, topic, group):
        """(committed, end) per partition."""
        return streamtest.offsets(self.bootstrap, topic, group, PARTS)

    def wait_caught_up(self, topic, group, proc, timeout=40):
        deadline = time.monotonic() + timeout
        while True:
            committed, end = self.offsets(topic, group)
            if committed == end:
                return sum(committed)
            self.assertTrue(proc.alive(), "spate stream exited:\n" + proc.log_text())
            if time.monotonic() > deadline:
                self.fail(f"committed {committed} != end {end} after {timeout} s\n"
                          + proc.log_text()[-4000:] + "\npostgres:\n" + self.pg.log())
            time.sleep(0.1)

    def wait_progress(self, topic, group, at_least, proc, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            done = sum(self.offsets(topic, group)[0])
            if done >= at_least:
                return done
            self.assertTrue(proc.alive(), "spate stream exited:\n" + proc.log_text())
            if time.monotonic() > deadline:
                self.fail("no progress\n" + proc.log_text()[-4000:])
            time.sleep(0.02)

    def count(self, table):
        return int(self.pg.scalar(f"SELECT count(*) FROM {table}"))

    def check_rows(self, table, lo, hi):
        """The table holds exactly users [0, hi) minus none, each equal to
        its last record (users [lo, hi) checked column by column)."""
        want = {}
        for r in self.recs[:hi]:
            want[r["id"]] = r
        self.assertEqual(self.count(table), len(want))
        out = self.pg.psql(f"SELECT row_to_json(t) FROM {table} t")
        got = {}
        for line in out.splitlines():
            row = json.loads(line)
            got[row["id"]] = row
        self.assertEqual(set(got), set(want))
        for r in self.recs[lo:hi]:
            row = got[r["id"]]
            for c in COLS:
                self.assertEqual(row[c], r.get(c), f"{r['id']} column {c}")
        return len(want)

    def dlq(self, topic):
        """Every message of the dead-letter topic (1 partition, auto-created)."""
        return streamtest.read_dlq(self.bootstrap, topic)

    # ---- the four steps, for one mode ----

    def run_mode(self, mode):
        topic, table, group = f"users_created_{mode}", f"created_users_{mode}", f"pg_{mode}"
        self.admin.create_topics([NewTopic(topic, num_partitions=PARTS,
                                           replication_factor=1)])[topic].result(10)
        self.pg.psql(TABLE.format(table=table))
        cfg, cfg_wide = (os.path.join(TMPDIR, f"{mode}{i}.yaml") for i in (1, 2))
        for path, max_in_flight in ((cfg, 2000), (cfg_wide, 20000)):
            with open(path, "w") as f:
                f.write(PIPELINE.format(job="created_users", bootstrap=self.bootstrap,
                                        topic=topic, group=group, cols=", ".join(COLS),
                                        url=self.pg.url, table=table, mode=mode,
                                        max_in_flight=max_in_flight))

        # 1. N users and one bad row in the middle
        bad = dict(self.recs[0], id="00000000-0000-4000-8000-00000000bad0", gender="x" * 40)
        bad_msg = (b"bad-row", json.dumps(bad).encode())
        # a CHECK constraint: in copy mode only the INSERT from the staging
        # table sees it, which does not say which row (the batch is redone
        # one row per transaction to find it)
        bad2 = dict(self.recs[2], id="00000000-0000-4000-8000-00000000bad2", username="forbidden")
        bad2_msg = (b"bad-check", json.dumps(bad2).encode())
        # and one whose text needs escaping (COPY's text format, parameters)
        odd = dict(self.recs[1], id="00000000-0000-4000-8000-0000000000dd",
                   first_name="tab\there", last_name="line\nbreak\\back\\slash\r",
                   address="\\N", phone=None, username="ünïcødé 😀",
                   email="quote'\"; DROP TABLE x; --")
        msgs = self.user_msgs(0, N)
        msgs.insert(N // 2, bad_msg)
        msgs.insert(3 * N // 4, bad2_msg)
        msgs.insert(N // 3, (b"odd-row", json.dumps(odd).encode()))
        self.produce(topic, msgs)
        t0 = time.monotonic()
        proc = Processor(cfg)
        self.assertEqual(self.wait_caught_up(topic, group, proc), N + 3)
        secs = time.monotonic() - t0
        proc.stop()
        out = self.pg.psql(f"SELECT row_to_json(t) FROM {table} t WHERE id = '{odd['id']}'")
        self.assertEqual(json.loads(out), {c: odd.get(c) for c in COLS})
        self.pg.psql(f"DELETE FROM {table} WHERE id = '{odd['id']}'")
        log(f"{mode}: tabs, newlines, backslashes, \\N, quotes, UTF-8 and null stored as sent")
        rows = self.check_rows(table, 0, N)
        log(f"{mode}: {N + 3} messages in {secs:.1f} s (with the group join); "
            f"rows == distinct users ({rows}), every column equal")
        dl = self.dlq(topic + "_dlq")
        self.assertEqual(sorted((m.key(), m.value()) for m in dl), [bad2_msg, bad_msg])
        errs = {m.key(): dict(m.headers())["spate.error"].decode() for m in dl}
        self.assertTrue(errs[b"bad-row"].startswith("postgres sink: SQLSTATE 22001: "),
                        errs[b"bad-row"])
        self.assertTrue(errs[b"bad-check"].startswith("postgres sink: SQLSTATE 23514: "),
                        errs[b"bad-check"])
        log(f"{mode}: the two bad rows are the dead letters: {errs[b'bad-row'][:90]} / "
            f"{errs[b'bad-check'][:60]}")

        # 2. the same users again
        self.produce(topic, self.user_msgs(0, N))
        proc = Processor(cfg)
        self.assertEqual(self.wait_caught_up(topic, group, proc), 2 * N + 3)
        proc.stop()
        self.assertEqual(self.check_rows(table, 0, N), rows)
        self.assertEqual(len(self.dlq(topic + "_dlq")), 2)
        log(f"{mode}: the replay of {N} users left {rows} rows")

        # 3. kill -9 mid-stream, restart. Half of the users go in after
        #    the kill: the job can store all it has before the test sees a
        #    first commit, and the restarted job must still have work.
        before = 2 * N + 3
        self.produce(topic, self.user_msgs(N, N + N // 2))
        proc = Processor(cfg)
        done = self.wait_progress(topic, group, before + 1, proc)
        proc.kill9()
        mid = sum(self.offsets(topic, group)[0])
        self.produce(topic, self.user_msgs(N + N // 2, 2 * N))
        log(f"{mode}: killed -9 after {mid - before} of {N} new messages were committed"
            f" (first commit seen at {done - before}; {N // 2} produced after the kill)")
        proc = Processor(cfg)
        self.wait_caught_up(topic, group, proc)
        proc.stop()
        rows = self.check_rows(table, N, 2 * N)
        log(f"{mode}: restarted: rows == distinct users ({rows}), lag 0")

        # 4. PostgreSQL restarted mid-stream: N new users after the 2N
        #    already stored again (a longer stream to stop it in, and a
        #    wider window, so that batches are in flight when it stops)
        before = sum(self.offsets(topic, group)[0])
        self.produce(topic, self.user_msgs(0, 3 * N))
        proc = Processor(cfg_wide)
        self.wait_progress(topic, group, before + 1, proc)
        self.pg.stop()
        down = sum(self.offsets(topic, group)[0]) - before
        time.sleep(1.0)
        self.pg.start()
        # N more (replayed) messages after the restart: whether or not the
        # stream was still running when the server stopped (on a fast run
        # it may have drained already), these can only be stored through a
        # new connection
        self.produce(topic, self.user_msgs(0, N))
        self.assertEqual(self.wait_caught_up(topic, group, proc), before + 4 * N)
        self.assertTrue(proc.alive())
        text = proc.log_text()
        proc.stop()
        rows = self.check_rows(table, 0, 3 * N)
        self.assertIn("PostgreSQL reconnected", text)
        resent = max([int(x) for x in re.findall(r"; (\d+) rows in flight to send again", text)]
                     or [0])
        log(f"{mode}: PostgreSQL stopped after {down} of {3 * N} messages ({resent} rows "
            f"were in flight), started 1 s later: the job reconnected by itself, "
            f"rows == distinct users ({rows}), lag 0")
        self.assertEqual(len(self.dlq(topic + "_dlq")), 2)

    def test_1_upsert(self):
        self.run_mode("upsert")

    def test_2_copy(self):
        self.run_mode("copy")

    def test_3_order_after_failure(self):
        """The last write of a key wins even when an earlier batch failed
        while later ones were in flight: 200 keys updated 30 times each on
        one partition, a bad row among the last ones (a later batch would
        write every key again and hide a wrong order)."""
        for mode in ("upsert", "copy"):
            topic, table, group = f"order_{mode}", f"order_{mode}", f"order_{mode}"
            self.admin.create_topics([NewTopic(topic, num_partitions=1,
                                               replication_factor=1)])[topic].result(10)
            self.pg.psql(f"CREATE TABLE {table} (id uuid PRIMARY KEY, n int, gender varchar(6))")
            ids = [r["id"] for r in self.recs[:200]]
            msgs = [(ids[i % 200].encode(), json.dumps({"id": ids[i % 200], "n": i}).encode())
                    for i in range(6000)]
            msgs.insert(5200, (b"bad", json.dumps({"id": ids[0], "n": -1,
                                                   "gender": "x" * 40}).encode()))
            self.produce(topic, msgs)
            cfg = os.path.join(TMPDIR, f"order_{mode}.yaml")
            with open(cfg, "w") as f:
                f.write(f"""stream:
  jobs:
    - name: order
      source:
        kafka: {{bootstrap: {self.bootstrap}, topics: [{topic}], group: {group},
                start: earliest}}
      sink: {{postgres: {{url: '{self.pg.url}', table: {table}, key: [id], mode: {mode}}}}}
      dead_letter: {{topic: {topic}_dlq}}
      delivery: {{max_in_flight: 20000, commit_interval_ms: 200}}
""")
            proc = Processor(cfg)
            self.assertEqual(self.wait_caught_up_1(topic, group, proc), 6001)
            proc.stop()
            got = dict(line.split("|") for line in
                       self.pg.psql(f"SELECT id, n FROM {table}").splitlines())
            self.assertEqual(got, {ids[k]: str(5800 + k) for k in range(200)})
            self.assertEqual([m.key() for m in self.dlq(topic + "_dlq")], [b"bad"])
        log("upsert and copy: after a failed batch, every key holds its last write")

    def test_4_create(self):
        """create: true makes each job's table from its final record shape."""
        db = "created"
        self.pg.psql(f"CREATE DATABASE {db}")
        url = self.pg.url.rsplit("/", 1)[0] + "/" + db

        def psql(sql):
            r = subprocess.run(["psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1",
                                "-h", self.pg.dir, "-p", str(self.pg.port), "-U", "postgres",
                                "-d", db, "-c", sql], capture_output=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            return r.stdout.decode()

        self.assertEqual(psql("SELECT count(*) FROM information_schema.tables "
                              "WHERE table_schema = 'public'").strip(), "0")
        topic = "create_src"
        self.admin.create_topics([NewTopic(topic, num_partitions=3,
                                           replication_factor=1)])[topic].result(10)
        cfg = os.path.join(TMPDIR, "create.yaml")
        job = """    - name: {name}
      source:
        kafka: {{bootstrap: {bootstrap}, topics: [{topic}], group: {name}, start: earliest}}
{transform}      sink:
        postgres: {{url: '{url}', table: {table}, key: [{key}], mode: {mode}, create: true}}
      delivery: {{commit_interval_ms: 200}}
"""
        jobs = [
            ("cr_upsert", "cr_upsert", "id", "upsert",
             "      transform:\n        - map:\n            cast: {id: uuid}\n"
             f"            select: [{', '.join(COLS)}]\n"),
            ("cr_copy", "cr_copy", "username, email", "copy",
             "      transform:\n        - map: {select: [username, email, gender]}\n"),
            ("cr_seed", "cr_seed", "id", "upsert", ""),
        ]
        with open(cfg, "w") as f:
            f.write("stream:\n  jobs:\n")
            for name, table, key, mode, transform in jobs:
                f.write(job.format(name=name, bootstrap=self.bootstrap, topic=topic, url=url,
                                   table=table, key=key, mode=mode, transform=transform))
        M = 300
        # M users, then the first half again (a replay): M distinct rows
        msgs = self.user_msgs(0, M) + self.user_msgs(0, M // 2)
        self.produce(topic, msgs)
        proc = Processor(cfg)
        for name, *_ in jobs:
            self.assertEqual(self.wait_caught_up_n(topic, name, 3, proc), len(msgs))
        proc.stop()

        def columns(table):
            return [tuple(line.split("|")) for line in psql(
                "SELECT column_name, data_type FROM information_schema.columns "
                f"WHERE table_name = '{table}' ORDER BY ordinal_position").splitlines()]

        def primary_key(table):
            return psql("SELECT k.column_name FROM information_schema.table_constraints c "
                        "JOIN information_schema.key_column_usage k "
                        "ON k.constraint_name = c.constraint_name "
                        "AND k.table_name = c.table_name "
                        f"WHERE c.table_name = '{table}' AND c.constraint_type = 'PRIMARY KEY' "
                        "ORDER BY k.ordinal_position").split()

        self.assertEqual(columns("cr_upsert"),
                         [("id", "uuid")] + [(c, "text") for c in COLS[1:]])
        self.assertEqual(primary_key("cr_upsert"), ["id"])
        self.assertEqual(columns("cr_copy"),
                         [("username", "text"), ("email", "text"), ("gender", "text")])
        self.assertEqual(primary_key("cr_copy"), ["username", "email"])
        self.assertEqual(columns("cr_seed"), [(c, "text") for c in COLS])
        self.assertEqual(primary_key("cr_seed"), ["id"])
        log("create: true made cr_upsert (id uuid, 11 text columns), cr_copy (username, "
            "email, gender text; PRIMARY KEY (username, email)) and cr_seed (12 text "
            "columns, PRIMARY KEY (id)), read back from information_schema")

        def rows(table):
            out = psql(f"SELECT row_to_json(t) FROM {table} t")
            return [json.loads(line) for line in out.splitlines()]

        def check(m):
            recs = self.recs[:m]
            for table in ("cr_upsert", "cr_seed"):
                got = {r["id"]: r for r in rows(table)}
                self.assertEqual(len(got), m, table)
                self.assertEqual(got, {r["id"]: {c: r.get(c) for c in COLS} for r in recs},
                                 table)
            want = {}
            for r in recs:
                want[(r["username"], r["email"])] = {c: r.get(c) for c in
                                                     ("username", "email", "gender")}
            got = rows("cr_copy")
            self.assertEqual(len(got), len(want))
            self.assertEqual({(r["username"], r["email"]): r for r in got}, want)
            return len(want)

        n_copy = check(M)
        log(f"create: {len(msgs)} messages ({M} users, half of them twice): {M} rows in "
            f"cr_upsert and cr_seed, {n_copy} in cr_copy, every column equal")

        # a restart: the tables exist (IF NOT EXISTS), the jobs go on
        more = self.user_msgs(M, M + 100)
        self.produce(topic, more)
        proc = Processor(cfg)
        for name, *_ in jobs:
            self.assertEqual(self.wait_caught_up_n(topic, name, 3, proc),
                             len(msgs) + len(more))
        text = proc.log_text()
        proc.stop()
        self.assertIn('CREATE TABLE IF NOT EXISTS cr_upsert ("id" uuid, "first_name" text', text)
        check(M + 100)
        log("create: restarted on the existing tables, 100 more users stored exactly")

        # refused: create without key (file:line), and a key not in the records
        bad = os.path.join(TMPDIR, "create_bad.yaml")
        with open(bad, "w") as f:
            f.write(f"""stream:
  jobs:
    - name: nokey
      source: {{kafka: {{topics: [{topic}]}}}}
      sink:
        postgres:
          url: '{url}'
          table: t_nokey
          mode: copy
          create: true
""")
        r = subprocess.run([SPATE, "validate", bad], capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr.decode().strip(),
                         f"{bad}:10: key 'create': create: true needs 'key' (the created "
                         "table's primary key)")
        with open(bad, "w") as f:
            f.write("stream:\n  jobs:\n" + job.format(
                name="missing", bootstrap=self.bootstrap, topic=topic, url=url,
                table="t_missing", key="nope", mode="upsert",
                transform="      transform: [{map: {select: [id, email]}}]\n"))
        r = subprocess.run([SPATE, "stream", "--config", bad], capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 1, r.stderr.decode())
        self.assertIn("job missing: postgres sink: create: key column 'nope' is not in the "
                      "job's records (its last map step's select)", r.stderr.decode())
        self.assertEqual(psql("SELECT count(*) FROM information_schema.tables "
                              "WHERE table_name = 't_missing'").strip(), "0")
        log("create: validate refuses it without key (file:line); a key the records lack "
            "stops the job at start, no table made")

    def one_partition_job(self, name, mode, table):
        """A topic of one partition and a job (name) from it into table."""
        topic = group = name
        self.admin.create_topics([NewTopic(topic, num_partitions=1,
                                           replication_factor=1)])[topic].result(10)
        cfg = os.path.join(TMPDIR, f"{name}.yaml")
        with open(cfg, "w") as f:
            f.write(f"""stream:
  jobs:
    - name: {name}
      source:
        kafka: {{bootstrap: {self.bootstrap}, topics: [{topic}], group: {group},
                start: earliest}}
      sink: {{postgres: {{url: '{self.pg.url}', table: {table}, key: [id], mode: {mode}}}}}
      dead_letter: {{topic: {topic}_dlq}}
      delivery: {{max_in_flight: 20000, commit_interval_ms: 200, backoff_ms: 50,
                  backoff_max_ms: 200}}
""")
        return topic, cfg

    @staticmethod
    def uid(n):
        return f"00000000-0000-4000-8000-{n:012x}"

    def test_5_reserved_words(self):
        """Fields named as reserved words are columns; case-insensitive
        duplicate keys and unknown columns are dead letters, not an endless
        retry."""
        for mode in ("upsert", "copy"):
            table = f"kw_{mode}"
            self.pg.psql(f'CREATE TABLE {table} (id uuid PRIMARY KEY, "user" text, '
                         f'"order" int, "end" text, "group" text)')
            topic, cfg = self.one_partition_job(f"kw_{mode}", mode, table)
            base = 0x5000 if mode == "upsert" else 0x6000
            want = {}
            msgs = []
            for i in range(300):
                rec = {"id": self.uid(base + i), "user": f"u{i}", "order": i,
                       "end": "e" * (i % 5), "group": f"g{i % 7}"}
                if i % 10 == 3:  # spelled otherwise: folded to the same columns
                    rec = {"ID": rec["id"], "User": rec["user"], "ORDER": i,
                           "End": rec["end"], "gRoUp": rec["group"]}
                msgs.append((b"k%d" % i, json.dumps(rec).encode()))
                want[self.uid(base + i)] = (f"u{i}", str(i), "e" * (i % 5), f"g{i % 7}")
            dup = (b"dup-id", json.dumps({"id": self.uid(base + 999), "ID": self.uid(base + 998),
                                          "user": "dup"}).encode())
            nope1 = (b"nope-1", json.dumps({"id": self.uid(base + 997), "user": "n",
                                            "nope": 1}).encode())
            nope2 = (b"nope-2", json.dumps({"id": self.uid(base + 996), "user": "n",
                                            "nope": 2}).encode())
            msgs.insert(250, nope2)
            msgs.insert(100, dup)
            msgs.insert(50, nope1)
            self.produce(topic, msgs)
            proc = Processor(cfg)
            self.assertEqual(self.wait_caught_up_1(topic, topic, proc), 303)
            # the job goes on after them
            more = []
            for i in range(300, 400):
                more.append((b"k%d" % i, json.dumps({"id": self.uid(base + i), "user": f"u{i}",
                                                     "order": i, "end": "", "group": "x"}).encode()))
                want[self.uid(base + i)] = (f"u{i}", str(i), "", "x")
            self.produce(topic, more)
            self.assertEqual(self.wait_caught_up_1(topic, topic, proc), 403)
            text = proc.log_text()
            proc.stop()
            got = {}
            for line in self.pg.psql(f'SELECT id, "user", "order", "end", "group" '
                                     f'FROM {table}').splitlines():
                f = line.split("|")
                got[f[0]] = tuple(f[1:])
            self.assertEqual(len(got), 400)
            self.assertEqual(got, want)
            dl = self.dlq(topic + "_dlq")
            self.assertEqual(sorted((m.key(), m.value()) for m in dl),
                             sorted([dup, nope1, nope2]))
            errs = {m.key(): dict(m.headers())["spate.error"].decode() for m in dl}
            self.assertEqual(errs[b"dup-id"], "postgres sink: fields 'id' and 'ID' are one "
                             "column (names are folded to lower case)")
            for k in (b"nope-1", b"nope-2"):
                self.assertTrue(errs[k].startswith(
                    'postgres sink: SQLSTATE 42703: column "nope" '), errs[k])
            self.assertNotIn("42601", text)
            log(f"{mode}: columns user/order/end/group filled by 400 records (some spelled "
                f"User/ORDER/End); dead letters: {errs[b'dup-id'][:50]}... / "
                f"{errs[b'nope-1'][:70]}, the job went on")

    def test_6_many_shapes(self):
        """More distinct column lists than statements kept: all stored."""
        opt = [f"f{c}" for c in range(10)]
        for mode in ("upsert", "copy"):
            table = f"shapes_{mode}"
            self.pg.psql(f"CREATE TABLE {table} (id uuid PRIMARY KEY, "
                         + ", ".join(f"{c} text" for c in opt) + ")")
            topic, cfg = self.one_partition_job(f"shapes_{mode}", mode, table)
            base = 0x7000 if mode == "upsert" else 0x8000
            shapes = [[c for b, c in enumerate(opt) if (m + 1) >> b & 1] for m in range(100)]
            self.assertEqual(len({tuple(x) for x in shapes}), 100)
            msgs, want = [], {}
            for rnd in range(3):
                for m, cols in enumerate(shapes):
                    n = base + rnd * 100 + m
                    rec = {"id": self.uid(n)}
                    rec.update({c: f"{c}-{n}" for c in cols})
                    msgs.append((b"s%d" % n, json.dumps(rec).encode()))
                    want[self.uid(n)] = {c: rec.get(c) for c in opt}
            self.produce(topic, msgs)
            proc = Processor(cfg)
            self.assertEqual(self.wait_caught_up_1(topic, topic, proc), 300)
            text = proc.log_text()
            proc.stop()
            got = {}
            for line in self.pg.psql(f"SELECT row_to_json(t) FROM {table} t").splitlines():
                row = json.loads(line)
                got[row.pop("id")] = row
            self.assertEqual(len(got), 300)
            self.assertEqual(got, want)
            if topic + "_dlq" in self.admin.list_topics(timeout=10).topics:
                self.assertEqual(self.dlq(topic + "_dlq"), [])
            self.assertNotIn("PostgreSQL batch of", text)  # no batch failed
            log(f"{mode}: 3 rounds of 100 distinct column lists (64 statements kept): "
                f"300 rows stored exactly, no dead letter, no failed batch")

    def wait_caught_up_n(self, topic, group, parts, proc, timeout=40):
        c = Consumer({"bootstrap.servers": self.bootstrap, "group.id": group,
                      "enable.auto.commit": False})
        try:
            tps = [TopicPartition(topic, p) for p in range(parts)]
            deadline = time.monotonic() + timeout
            while True:
                committed = [max(tp.offset, 0) for tp in c.committed(tps, timeout=10)]
                end = [c.get_watermark_offsets(tp, timeout=10)[1] for tp in tps]
                if committed == end:
                    return sum(committed)
                self.assertTrue(proc.alive(), "spate stream exited:\n" + proc.log_text())
                self.assertLess(time.monotonic(), deadline, proc.log_text()[-3000:])
                time.sleep(0.1)
        finally:
            c.close()

    def wait_caught_up_1(self, topic, group, proc, timeout=40):
        c = Consumer({"bootstrap.servers": self.bootstrap, "group.id": group,
                      "enable.auto.commit": False})
        try:
            tp = TopicPartition(topic, 0)
            deadline = time.monotonic() + timeout
            while True:
                committed = max(c.committed([tp], timeout=10)[0].offset, 0)
                end = c.get_watermark_offsets(tp, timeout=10)[1]
                if committed == end:
                    return committed
                self.assertTrue(proc.alive(), "spate stream exited:\n" + proc.log_text())
                self.assertLess(time.monotonic(), deadline, proc.log_text()[-3000:])
                time.sleep(0.1)
        finally:
            c.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)

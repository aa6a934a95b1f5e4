#!/usr/bin/python3
# stream_py_job.py — the job a user would otherwise write in Python: the
# seed's Spark job (Kafka topic users_created → spark_streams.created_users)
# with confluent-kafka and cassandra-driver, done carefully, as the baseline
# of bench/run_stream.sh.
#
#   Kafka (consumer group, no auto-commit)
#     │ consume() up to BATCH messages
#     ▼
#   json.loads → the seed's eleven columns (id as a UUID + ten text) + dob
#     │ a message that is not a JSON object with a UUID id is counted as
#     │ bad and skipped (the seed's from_json would give nulls)
#     ▼
#   execute_concurrent_with_args(prepared INSERT, CONCURRENCY in flight)
#     │ every row of the batch acknowledged
#     ▼
#   consumer.commit(offsets of the batch)  — after the writes, so a crash
#   replays (at-least-once; the upsert by id makes the replay harmless)
#
# Differences from the Spark job, all in its favour: offsets are committed
# (the seed never did), dob is kept, and nothing runs but this process.
#
# Usage: stream_py_job.py --bootstrap HOST:PORT --topic T --group G
#          --cql HOST:PORT [--keyspace spark_streams] [--table created_users]
#          [--batch 1000] [--concurrency 128]
# Runs until SIGTERM/SIGINT; then closes the consumer (leaving the group)
# and prints "py job: N rows, B bad" on stderr.
import argparse
import json
import signal
import sys
import uuid

from cassandra.cluster import Cluster
from cassandra.concurrent import execute_concurrent_with_args
from confluent_kafka import Consumer

COLUMNS = ["id", "first_name", "last_name", "gender", "address", "post_code", "email",
           "username", "dob", "registered_date", "phone", "picture"]


def row_of(value):
    """The table row of one message (a tuple in COLUMNS order), or None
    when the message is not a user with a UUID id."""
    try:
        rec = json.loads(value)
        row = [uuid.UUID(rec["id"])]
    except (ValueError, KeyError, TypeError):
        return None
    for col in COLUMNS[1:]:
        v = rec.get(col)
        row.append(None if v is None else str(v))
    return tuple(row)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--cql", required=True)
    ap.add_argument("--keyspace", default="spark_streams")
    ap.add_argument("--table", default="created_users")
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=128)
    a = ap.parse_args()

    host, port = a.cql.rsplit(":", 1)
    cluster = Cluster([host], port=int(port), protocol_version=4)
    session = cluster.connect()
    session.execute(f"CREATE KEYSPACE IF NOT EXISTS {a.keyspace} WITH replication = "
                    "{'class': 'SimpleStrategy', 'replication_factor': '1'}")
    session.execute(f"CREATE TABLE IF NOT EXISTS {a.keyspace}.{a.table} (id uuid PRIMARY KEY, "
                    + ", ".join(f"{c} text" for c in COLUMNS[1:]) + ")")
    insert = session.prepare(f"INSERT INTO {a.keyspace}.{a.table} ({', '.join(COLUMNS)}) "
                             f"VALUES ({', '.join('?' for _ in COLUMNS)})")

    consumer = Consumer({"bootstrap.servers": a.bootstrap, "group.id": a.group,
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    consumer.subscribe([a.topic])
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    rows_total = bad = 0
    try:
        while not stop:
            msgs = consumer.consume(a.batch, 0.2)
            if not msgs:
                continue
            rows = []
            for m in msgs:
                if m.error():
                    continue
                r = row_of(m.value())
                if r is None:
                    bad += 1
                else:
                    rows.append(r)
            results = execute_concurrent_with_args(session, insert, rows,
                                                   concurrency=a.concurrency,
                                                   raise_on_first_error=True)
            rows_total += len(results)
            consumer.commit(asynchronous=False)  # the batch's offsets, now that it is stored
    finally:
        consumer.close()
        cluster.shutdown()
    print(f"py job: {rows_total} rows, {bad} bad", file=sys.stderr)


if __name__ == "__main__":
    main()

# test_stream_metrics.py — `spate stream --metrics` with several jobs in
# one process: GET /metrics must be valid Prometheus text (exposition
# format 0.0.4), read with a strict parser written here (promtool is not
# installed):
#
#   - every family's HELP and TYPE once, both before its first sample
#   - the samples of a family contiguous (no family comes back later)
#   - every sample named after its family (counters: the name itself;
#     histograms: _bucket, _sum, _count), labels well formed, values numbers
#   - per histogram series: le ascending, counts cumulative, the last le
#     "+Inf", _count == the +Inf bucket, _sum present
#
# Two jobs, alpha (topic m_alpha, 2 partitions, a dead-letter topic) and
# beta (topic m_beta, 3 partitions, a filter), into JSON-lines files, from a
# spate broker. After known numbers of records the counts of each job are
# exact: alpha in 43 = 40 stored + 3 malformed (failed, dead-lettered);
# beta in 25 = 20 stored + 5 dropped by the filter; lag 0 on every
# partition of each; latency _count == records stored.
#
# Every process runs from $SPATE on free loopback ports under a temp dir and
# is stopped by pid. KEEP_TMP=1 keeps the temp dir.
import json
import os
import re
import signal
import subprocess
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafkatest import (STARTED, TMPDIR, Broker, create_topic, log,  # noqa: E402,F401
                       tearDownModule)

from streamtest import free_port  # noqa: E402
from confluent_kafka import Producer  # noqa: E402

SPATE = os.environ["SPATE"]

PIPELINE = """
log_level: info
stream:
  jobs:
    - name: alpha
      source:
        kafka: {{bootstrap: {bootstrap}, topics: [m_alpha], group: m_alpha, start: earliest}}
      sink:
        file: {{path: {alpha_out}}}
      dead_letter:
        topic: m_alpha_dlq
      delivery: {{commit_interval_ms: 200}}
    - name: beta
      source:
        kafka: {{bootstrap: {bootstrap}, topics: [m_beta], group: m_beta, start: earliest}}
      transform:
        - filter: n >= 5
      sink:
        file: {{path: {beta_out}}}
      delivery: {{commit_interval_ms: 200}}
"""

NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
SUFFIXES = {"counter": ("",), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count"),
            "summary": ("", "_sum", "_count"), "untyped": ("",)}


def parse_labels(text, where):
    """'{a="x",b="y"}' (without the braces) → list of (name, value)."""
    labels, pos = [], 0
    while pos < len(text):
        m = LABEL_RE.match(text, pos)
        if not m:
            raise AssertionError(f"{where}: bad labels at {text[pos:]!r}")
        labels.append((m.group(1), m.group(2)))
        pos = m.end()
        if pos < len(text):
            if text[pos] != ",":
                raise AssertionError(f"{where}: expected ',' in labels at {text[pos:]!r}")
            pos += 1
    names = [k for k, _ in labels]
    if len(names) != len(set(names)):
        raise AssertionError(f"{where}: a label repeated: {names}")
    return labels


def parse_value(s, where):
    if s in ("+Inf", "-Inf", "NaN"):
        return float(s.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", s):
        raise AssertionError(f"{where}: {s!r} is not a number")
    return float(s)


def parse_strict(text):
    """Parses exposition text strictly; returns {family: {"type", "help",
    "samples": [(name, {label: value}, float)]}} (samples in order).
    Raises AssertionError on anything the format forbids."""
    assert text.endswith("\n"), "the text must end with a newline"
    fams = {}
    done = set()  # families whose samples are over
    current = None  # the family whose samples are being read

    def family(name, where):
        if name in done:
            raise AssertionError(f"{where}: family {name} appears again after other families")
        return fams.setdefault(name, {"type": None, "help": None, "samples": []})

    def switch_to(name, where):
        nonlocal current
        if current is not None and current != name:
            done.add(current)
        f = family(name, where)
        current = name
        return f

    for lineno, line in enumerate(text.split("\n")[:-1], 1):
        where = f"line {lineno} ({line!r})"
        if line == "":
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                assert NAME_RE.fullmatch(name), f"{where}: bad metric name"
                f = switch_to(name, where)
                if f["samples"]:
                    raise AssertionError(f"{where}: {parts[1]} after the family's samples")
                key = parts[1].lower()
                if f[key] is not None:
                    raise AssertionError(f"{where}: second {parts[1]} for {name}")
                if key == "type":
                    assert len(parts) == 4 and parts[3] in SUFFIXES, f"{where}: bad TYPE"
                    f["type"] = parts[3]
                else:
                    assert len(parts) == 4 and parts[3], f"{where}: empty HELP"
                    f["help"] = parts[3]
            continue  # other comments are allowed anywhere
        m = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?", line)
        assert m, f"{where}: not a sample line"
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        # the family: the current one if the name is one of its series
        fam = None
        for cand in ([current] if current else []) + list(fams):
            t = fams[cand]["type"] or "untyped"
            if any(name == cand + sfx for sfx in SUFFIXES[t]):
                fam = cand
                break
        if fam is None:
            raise AssertionError(f"{where}: sample of no declared family")
        f = switch_to(fam, where)
        if f["type"] is None or f["help"] is None:
            raise AssertionError(f"{where}: sample before its family's HELP and TYPE")
        f["samples"].append((name, dict(parse_labels(labels, where)), parse_value(value, where)))
    for name, f in fams.items():
        assert f["type"] and f["help"], f"family {name} lacks HELP or TYPE"
        if f["type"] == "histogram":
            check_histogram(name, f["samples"])
    return fams


def check_histogram(name, samples):
    """Per series (labels without le): buckets ascending in le, cumulative,
    ending with +Inf; _count == +Inf bucket; _sum present once."""
    series = {}
    for sname, labels, value in samples:
        key = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        s = series.setdefault(key, {"buckets": [], "sum": [], "count": []})
        if sname == name + "_bucket":
            assert "le" in labels, f"{name}{key}: bucket without le"
            s["buckets"].append((parse_value(labels["le"], name), value))
        elif sname == name + "_sum":
            s["sum"].append(value)
        else:
            s["count"].append(value)
    for key, s in series.items():
        b = s["buckets"]
        assert b, f"{name}{key}: no buckets"
        les = [le for le, _ in b]
        assert les == sorted(les) and len(set(les)) == len(les), f"{name}{key}: le not ascending"
        assert les[-1] == float("inf"), f"{name}{key}: the last bucket is not +Inf"
        counts = [c for _, c in b]
        assert counts == sorted(counts), f"{name}{key}: buckets not cumulative: {counts}"
        assert len(s["sum"]) == 1 and len(s["count"]) == 1, f"{name}{key}: _sum/_count"
        assert s["count"][0] == counts[-1], f"{name}{key}: _count != +Inf bucket"


def lines_in(path):
    try:
        with open(path, "rb") as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


class StrictParser(unittest.TestCase):
    """The parser itself refuses what the format forbids (so that the
    real test below can fail)."""

    OK = ("# HELP a_total A.\n# TYPE a_total counter\na_total{job=\"x\"} 1\n"
          "a_total{job=\"y\"} 2\n# HELP h H.\n# TYPE h histogram\n"
          "h_bucket{le=\"0.1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 0.3\nh_count 2\n")

    def test_accepts_valid(self):
        fams = parse_strict(self.OK)
        self.assertEqual([v for _, _, v in fams["a_total"]["samples"]], [1.0, 2.0])

    def test_refuses(self):
        bad = {
            "repeated family": self.OK + "# HELP a_total A.\n# TYPE a_total counter\n"
                                         "a_total{job=\"z\"} 3\n",
            "split samples": self.OK + "a_total{job=\"z\"} 3\n",
            "sample before TYPE": "# HELP a_total A.\na_total 1\n# TYPE a_total counter\n",
            "not cumulative": "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\n"
                              "h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
            "no +Inf": "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_sum 1\n"
                       "h_count 2\n",
            "bad label": "# HELP a A.\n# TYPE a gauge\na{job=x} 1\n",
        }
        for what, text in bad.items():
            with self.assertRaises(AssertionError, msg=what):
                parse_strict(text)


class TwoJobs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.broker = Broker("broker").start()

    def test_two_jobs_one_family_each(self):
        bootstrap = self.broker.bootstrap
        create_topic(self.broker, "m_alpha", 2)
        create_topic(self.broker, "m_beta", 3)
        p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
        alpha = [json.dumps({"id": i, "who": "alpha"}).encode() for i in range(40)]
        for k, i in enumerate((7, 21, 33)):  # malformed ones among them
            alpha.insert(i, b"{not json %d" % k)
        beta = [json.dumps({"n": i}).encode() for i in range(25)]  # n < 5: dropped
        for i, v in enumerate(alpha):
            p.produce("m_alpha", key=b"a%d" % i, value=v)
        for i, v in enumerate(beta):
            p.produce("m_beta", key=b"b%d" % i, value=v)
        self.assertEqual(p.flush(30), 0)

        alpha_out = os.path.join(TMPDIR, "alpha.jsonl")
        beta_out = os.path.join(TMPDIR, "beta.jsonl")
        cfg = os.path.join(TMPDIR, "metrics.yaml")
        with open(cfg, "w") as f:
            f.write(PIPELINE.format(bootstrap=bootstrap, alpha_out=alpha_out, beta_out=beta_out))
        mport = free_port()
        log_path = os.path.join(TMPDIR, "stream.log")
        with open(log_path, "wb") as logf:
            proc = subprocess.Popen([SPATE, "stream", "--config", cfg,
                                     "--metrics", f"127.0.0.1:{mport}"],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=logf)
        STARTED.append(proc)

        def proc_log():
            with open(log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")

        want = {
            ("spate_stream_records_in_total", "alpha"): 43,
            ("spate_stream_records_out_total", "alpha"): 40,
            ("spate_stream_records_dropped_total", "alpha"): 0,
            ("spate_stream_records_failed_total", "alpha"): 3,
            ("spate_stream_records_dead_lettered_total", "alpha"): 3,
            ("spate_stream_in_flight", "alpha"): 0,
            ("spate_stream_records_in_total", "beta"): 25,
            ("spate_stream_records_out_total", "beta"): 20,
            ("spate_stream_records_dropped_total", "beta"): 5,
            ("spate_stream_records_failed_total", "beta"): 0,
            ("spate_stream_records_dead_lettered_total", "beta"): 0,
            ("spate_stream_in_flight", "beta"): 0,
            ("spate_stream_sink_latency_seconds_count", "alpha"): 40,
            ("spate_stream_sink_latency_seconds_count", "beta"): 20,
        }
        parts = {"alpha": ("m_alpha", 2), "beta": ("m_beta", 3)}

        def values(fams):
            got = {}
            for fam in fams.values():
                for name, labels, v in fam["samples"]:
                    if set(labels) == {"job"}:
                        got[(name, labels["job"])] = v
            return got

        def lags(fams):
            return sorted((s[1]["job"], s[1]["topic"], s[1]["partition"], s[2])
                          for s in fams["spate_stream_lag"]["samples"])

        want_lags = sorted((job, t, str(i), 0.0) for job, (t, n) in parts.items()
                           for i in range(n))
        try:
            deadline = time.monotonic() + 60
            while True:
                self.assertIsNone(proc.poll(), "spate stream exited:\n" + proc_log())
                text = None
                try:
                    resp = urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=5)
                    ctype = resp.headers.get("Content-Type", "")
                    text = resp.read().decode()
                except OSError:
                    pass
                if text is not None:
                    self.assertTrue(ctype.startswith("text/plain; version=0.0.4"), ctype)
                    fams = parse_strict(text)  # strict on every scrape, early ones too
                    got = values(fams)
                    if (all(got.get(k) == v for k, v in want.items())
                            and lags(fams) == want_lags):
                        break
                if time.monotonic() > deadline:
                    self.fail(f"metrics never reached the expected counts:\n{text}\n"
                              + proc_log()[-3000:])
                time.sleep(0.3)
            self.assertEqual(lines_in(alpha_out), 40)
            self.assertEqual(lines_in(beta_out), 20)
            # each family once, with one sample per job (both jobs in each)
            for name in ("spate_stream_records_in_total", "spate_stream_records_out_total",
                         "spate_stream_records_dropped_total",
                         "spate_stream_records_failed_total",
                         "spate_stream_records_dead_lettered_total", "spate_stream_in_flight"):
                self.assertEqual(sorted(s[1]["job"] for s in fams[name]["samples"]),
                                 ["alpha", "beta"], name)
            self.assertEqual(text.count("# TYPE spate_stream_records_in_total counter\n"), 1)
            self.assertEqual(text.count("# TYPE spate_stream_sink_latency_seconds histogram\n"),
                             1)
            self.assertEqual(fams["spate_stream_sink_latency_seconds"]["type"], "histogram")
            self.assertEqual(fams["spate_stream_lag"]["type"], "gauge")
            log("/metrics with two jobs: each family's HELP/TYPE once, samples contiguous, "
                "histograms cumulative to +Inf with _sum/_count")
            log("alpha: in 43 out 40 failed 3 dead-lettered 3; beta: in 25 out 20 dropped 5; "
                "lag 0 on 2 + 3 partitions; latency _count == stored")
        finally:
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(timeout=60)
        self.assertEqual(rc, 0, proc_log())


if __name__ == "__main__":
    unittest.main(verbosity=2)

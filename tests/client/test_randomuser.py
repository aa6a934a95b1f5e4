# test_randomuser.py — `spate randomuser` driven by real HTTP clients.
#
# Starts the real spate binary ($SPATE) as `spate randomuser --listen
# 127.0.0.1:0 --threads 2`, reads the port it bound from its log line, and
# checks it against the randomuser.me 1.4 API as documented in
# docs/compatibility.md and seed-reference.md §6: the shape and type of every
# field (500 users, all nationalities), seeds and pages, the query parameters
# (results, nat, gender, inc/exc, noinfo, password, callback, dl), the csv,
# yaml and xml formats, HTTP behaviour (paths, methods, HEAD, keep-alive,
# concurrency), hostile input the server must survive, fault injection
# (--error-rate, --empty-rate, --rate-limit, --latency, --config) and start-up
# errors (a config typo, a bad --listen, a port in use). Fault tests start
# their own servers; every server is stopped through its own Popen only.
#
# Uses the Python standard library plus python3-yaml (Debian's, seen only by
# /usr/bin/python3). Run by ctest (client.test_randomuser), or by hand:
#
#   cd /work/main && cmake -S . -B build -DSPATE_VARIANTS=OFF && cmake --build build -j2
#   SPATE=$PWD/build/spate /usr/bin/python3 tests/client/test_randomuser.py -v
#
# Exits non-zero when a check fails.
import csv
import datetime as dt
import hashlib
import http.client
import io
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

import yaml

SPATE = os.environ.get("SPATE")
if not SPATE:
    sys.exit("SPATE must name the spate binary")

KEYS = ["gender", "name", "location", "email", "login", "dob", "registered",
        "phone", "cell", "id", "picture", "nat"]
NATS = {"AU", "BR", "CA", "CH", "DE", "DK", "ES", "FI", "FR", "GB", "IE", "IN",
        "IR", "MX", "NL", "NO", "NZ", "RS", "TR", "UA", "US"}
STRING_POSTCODE = {"GB", "CA", "NO"}
NULL_ID = {"IR", "NZ", "TR", "UA"}
UH_OH = ("Uh oh, something has gone wrong. Please tweet us @randomapi about the "
         "issue. Thank you.")
PORT_RE = re.compile(r"listening on http://127\.0\.0\.1:(\d+)/api/")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
COORD_RE = re.compile(r"^-?\d+\.\d{4}$")
OFFSET_RE = re.compile(r"^(0:00|[+-]\d{1,2}:\d{2})$")
PICTURE_RE = re.compile(
    r"^https://randomuser\.me/api/portraits/(?P<kind>(?:med/|thumb/)?)(?P<sex>men|women)/(?P<n>\d+)\.jpg$")
# Bounds of the 1.4 generator (seed-reference.md §6), in ms since the epoch.
DATA_EPOCH_MS = 1653344189000  # 2022-05-23T22:16:29Z, the generator's "now"
DOB_MIN_MS = -800000000000
DOB_MAX_MS = DATA_EPOCH_MS - 21 * 365 * 86400000
REG_MIN_MS = 1016688461000  # 2002-03-21

TMPDIR = tempfile.mkdtemp(prefix="spate_ru_test_")
SERVER = None  # the module's server: (Popen, port, log path)


def log(msg):
    print("    checked: " + msg, flush=True)


# ---- servers ----

def start_server(*args, name="ru"):
    """Starts `spate randomuser --listen 127.0.0.1:0 ARGS`; returns (Popen, port, log)."""
    path = os.path.join(TMPDIR, f"{name}.{len(os.listdir(TMPDIR))}.log")
    errf = open(path, "wb")
    proc = subprocess.Popen([SPATE, "randomuser", "--listen", "127.0.0.1:0", *args],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errf)
    errf.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with open(path, encoding="utf-8", errors="replace") as f:
            m = PORT_RE.search(f.read())
        if m:
            return proc, int(m.group(1)), path
        if proc.poll() is not None:
            raise RuntimeError(f"spate randomuser {args} exited with {proc.returncode}: "
                               + open(path, errors="replace").read())
        time.sleep(0.05)
    stop_server(proc)
    raise RuntimeError(f"spate randomuser {args} did not report its port within 10 s: "
                       + open(path, errors="replace").read())


def stop_server(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def setUpModule():
    global SERVER
    SERVER = start_server("--threads", "2", name="main")


def tearDownModule():
    if SERVER:
        stop_server(SERVER[0])


# ---- clients ----

def request(path, method="GET", port=None, headers=None, timeout=30):
    """One request on a fresh connection: (status, headers dict lower-cased, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port or SERVER[1], timeout=timeout)
    try:
        conn.request(method, path, headers=headers or {})
        r = conn.getresponse()
        body = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body
    finally:
        conn.close()


def get_json(query="", path="/api/", port=None):
    status, hdrs, body = request(path + ("?" + query if query else ""), port=port)
    if status != 200:
        raise AssertionError(f"GET {path}?{query}: HTTP {status}: {body[:300]!r}")
    return json.loads(body.decode("utf-8"))


def raw_exchange(payload, close_after_send=False, timeout=5.0, port=None):
    """Sends raw bytes; returns what the server answers before it closes or
    goes quiet (b"" if close_after_send)."""
    s = socket.create_connection(("127.0.0.1", port or SERVER[1]), timeout=timeout)
    try:
        try:
            s.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            return b""
        if close_after_send:
            return b""
        out = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
                if b"\r\n\r\n" in out and _complete(out):
                    break
        except (socket.timeout, ConnectionResetError):
            pass
        return out
    finally:
        s.close()


def _complete(data):
    """True when DATA holds a whole response with a Content-Length (or none)."""
    head, _, rest = data.partition(b"\r\n\r\n")
    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    if m:
        return len(rest) >= int(m.group(1))
    return b"transfer-encoding: chunked" not in head.lower() or rest.endswith(b"0\r\n\r\n")


def whole_years(start, end):
    """Whole years from START to END, as dayjs diff(…, 'years')."""
    y = end.year - start.year
    if (end.month, end.day, end.hour, end.minute, end.second, end.microsecond) < \
            (start.month, start.day, start.hour, start.minute, start.second, start.microsecond):
        y -= 1
    return y


def parse_date(s):
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)


def ms(d):
    return round(d.timestamp() * 1000)


def hashes_ok(login):
    data = (login["password"] + login["salt"]).encode("utf-8")
    return (login["md5"] == hashlib.md5(data).hexdigest()
            and login["sha1"] == hashlib.sha1(data).hexdigest()
            and login["sha256"] == hashlib.sha256(data).hexdigest())


class Base(unittest.TestCase):
    maxDiff = 2000

    def assert_alive(self, after):
        status, _, body = request("/health", timeout=10)
        self.assertEqual((status, json.loads(body)), (200, {"status": "ok"}),
                         f"/health after {after}")
        status, _, body = request("/api/?results=1", timeout=10)
        self.assertEqual(status, 200, f"GET /api/ after {after}")
        self.assertEqual(len(json.loads(body)["results"]), 1)


# ---- 1. shape and types ----

class T1Shape(Base):
    def test_shape_and_types_500_users(self):
        """every field of 500 users (all nats) has the 1.4 shape and type"""
        before = dt.datetime.now(dt.timezone.utc)
        doc = get_json("results=500")
        after = dt.datetime.now(dt.timezone.utc)
        info = doc["info"]
        ctx = f"(seed {info.get('seed')!r})"
        self.assertEqual(list(doc), ["results", "info"])
        self.assertEqual(set(info), {"seed", "results", "page", "version"})
        self.assertIsInstance(info["seed"], str)
        self.assertIs(type(info["results"]), int)
        self.assertIs(type(info["page"]), int)
        self.assertEqual((info["results"], info["page"], info["version"]), (500, 1, "1.4"))
        users = doc["results"]
        self.assertEqual(len(users), 500)
        nats = set()
        for i, u in enumerate(users):
            where = f"user {i} {ctx}: {json.dumps(u, ensure_ascii=False)[:400]}"
            self.assertEqual(list(u), KEYS, where)
            nat = u["nat"]
            nats.add(nat)
            self.assertIn(nat, NATS, where)
            self.assertIn(u["gender"], ("male", "female"), where)
            self.assertEqual(list(u["name"]), ["title", "first", "last"], where)
            for k in ("title", "first", "last"):
                self.assertIsInstance(u["name"][k], str, where)
                self.assertTrue(u["name"][k], where)
            loc = u["location"]
            self.assertEqual(list(loc), ["street", "city", "state", "country", "postcode",
                                         "coordinates", "timezone"], where)
            self.assertEqual(list(loc["street"]), ["number", "name"], where)
            self.assertIs(type(loc["street"]["number"]), int, where)
            self.assertTrue(1 <= loc["street"]["number"] <= 9999, where)
            for k in ("city", "state", "country"):
                self.assertIsInstance(loc[k], str, where)
            self.assertIsInstance(loc["street"]["name"], str, where)
            pc = loc["postcode"]
            if nat in STRING_POSTCODE:
                self.assertIs(type(pc), str, where)
                self.assertTrue(pc, where)
            else:
                self.assertIs(type(pc), int, where)
                lo, hi = {"AU": (200, 9999), "CH": (1000, 9999)}.get(nat, (10000, 99999))
                self.assertTrue(lo <= pc <= hi, f"postcode {pc} out of {lo}..{hi}: {where}")
            co = loc["coordinates"]
            self.assertEqual(list(co), ["latitude", "longitude"], where)
            for k, lim in (("latitude", 90), ("longitude", 180)):
                self.assertIs(type(co[k]), str, where)
                self.assertRegex(co[k], COORD_RE, where)
                self.assertTrue(-lim <= float(co[k]) <= lim, where)
            tz = loc["timezone"]
            self.assertEqual(list(tz), ["offset", "description"], where)
            self.assertRegex(tz["offset"], OFFSET_RE, where)
            self.assertIsInstance(tz["description"], str, where)
            self.assertTrue(u["email"].isascii(), where)
            self.assertTrue(u["email"].endswith("@example.com"), where)
            self.assertGreater(len(u["email"]), len("@example.com"), where)
            lg = u["login"]
            self.assertEqual(list(lg), ["uuid", "username", "password", "salt", "md5", "sha1",
                                        "sha256"], where)
            self.assertEqual(uuid.UUID(lg["uuid"]).version, 4, where)
            self.assertEqual(str(uuid.UUID(lg["uuid"])), lg["uuid"], where)
            self.assertIsInstance(lg["username"], str, where)
            self.assertIsInstance(lg["password"], str, where)
            self.assertRegex(lg["salt"], r"^[A-Za-z0-9]{8}$", where)
            self.assertTrue(hashes_ok(lg), "digests are not md5/sha1/sha256(password+salt): " + where)
            for k, lo_ms, hi_ms in (("dob", DOB_MIN_MS, DOB_MAX_MS),
                                    ("registered", REG_MIN_MS, DATA_EPOCH_MS)):
                self.assertEqual(list(u[k]), ["date", "age"], where)
                self.assertRegex(u[k]["date"], DATE_RE, where)
                d = parse_date(u[k]["date"])
                self.assertTrue(lo_ms <= ms(d) <= hi_ms, f"{k}.date out of range: {where}")
                self.assertIs(type(u[k]["age"]), int, where)
                self.assertIn(u[k]["age"], {whole_years(d, before), whole_years(d, after)},
                              f"{k}.age is not the whole years to today: {where}")
            self.assertTrue(1944 <= parse_date(u["dob"]["date"]).year <= 2001, where)
            self.assertTrue(dt.datetime(2002, 3, 21, tzinfo=dt.timezone.utc)
                            <= parse_date(u["registered"]["date"])
                            < dt.datetime(2022, 5, 24, tzinfo=dt.timezone.utc), where)
            self.assertIsInstance(u["phone"], str, where)
            self.assertIsInstance(u["cell"], str, where)
            self.assertEqual(list(u["id"]), ["name", "value"], where)
            self.assertIsInstance(u["id"]["name"], str, where)
            if nat in NULL_ID:
                self.assertIsNone(u["id"]["value"], where)
            else:
                self.assertIsInstance(u["id"]["value"], str, where)
                self.assertTrue(u["id"]["value"], where)
            pic = u["picture"]
            self.assertEqual(list(pic), ["large", "medium", "thumbnail"], where)
            numbers = set()
            for k, kind in (("large", ""), ("medium", "med/"), ("thumbnail", "thumb/")):
                m = PICTURE_RE.match(pic[k])
                self.assertTrue(m, where)
                self.assertEqual(m.group("kind"), kind, where)
                self.assertEqual(m.group("sex"), "men" if u["gender"] == "male" else "women", where)
                numbers.add(int(m.group("n")))
            self.assertEqual(len(numbers), 1, where)
            self.assertTrue(0 <= numbers.pop() <= 99, where)
        self.assertEqual(nats, NATS, f"not every nat drawn in 500 users {ctx}")
        log("500 users: 12 keys in order, every field's type and range, digests, ages, "
            "dates, id/postcode per nat, pictures, info block; all 21 nats drawn")


# ---- 2. seeds ----

class T2Seeds(Base):
    def test_same_seed_same_users(self):
        """same seed/page/results/nat twice gives identical results"""
        q = "seed=spate-test&results=20&page=3&nat=de,fr,ua"
        a, b = get_json(q), get_json(q)
        self.assertEqual(a, b)
        self.assertEqual(a["info"], {"seed": "spate-test", "results": 20, "page": 3,
                                     "version": "1.4"})
        log("seed+page+results+nat repeated gives the same document")

    def test_page_two_differs(self):
        """page=2 gives other users than page 1"""
        p1 = get_json("seed=abc&results=10")
        p2 = get_json("seed=abc&results=10&page=2")
        u1 = {u["login"]["uuid"] for u in p1["results"]}
        u2 = {u["login"]["uuid"] for u in p2["results"]}
        self.assertFalse(u1 & u2, "page 2 repeats users of page 1")
        self.assertEqual(p2["info"]["page"], 2)
        log("page=2 gives a disjoint set of users")

    def test_random_seed_reproduces(self):
        """without seed, info.seed is 16 hex chars and reproduces the users"""
        a = get_json("results=5")
        seed = a["info"]["seed"]
        self.assertRegex(seed, r"^[a-f0-9]{16}$")
        b = get_json("results=5&seed=" + seed)
        self.assertEqual(a["results"], b["results"])
        c = get_json("results=5")
        self.assertNotEqual(c["info"]["seed"], seed)
        log(f"random seed {seed} is 16 hex chars and reproduces its users")

    def test_pretty_same_document(self):
        """format=pretty parses to the same document as compact JSON"""
        compact_status, _, compact = request("/api/?seed=pp&results=4")
        pretty_status, hdrs, pretty = request("/api/?seed=pp&results=4&format=pretty")
        self.assertEqual((compact_status, pretty_status), (200, 200))
        self.assertEqual(json.loads(pretty), json.loads(compact))
        self.assertIn(b"\n", pretty)
        self.assertNotEqual(pretty, compact)
        self.assertEqual(hdrs["content-type"], "application/json; charset=utf-8")
        log("format=pretty is indented and parses to the compact document")


# ---- 3. parameters ----

class T3Params(Base):
    def test_results_out_of_range(self):
        """results=0, -5, 5001, abc give 1 result"""
        for v in ("0", "-5", "5001", "abc", "", "2.5"):
            doc = get_json("results=" + v)
            self.assertEqual(len(doc["results"]), 1, f"results={v}")
            self.assertEqual(doc["info"]["results"], 1, f"results={v}")
        log("results=0/-5/5001/abc/''/2.5 give 1 user")

    def test_results_5000_streams(self):
        """results=5000 gives 5000 users in complete JSON"""
        status, hdrs, body = request("/api/?results=5000", timeout=60)
        self.assertEqual(status, 200)
        doc = json.loads(body.decode("utf-8"))
        self.assertEqual(len(doc["results"]), 5000)
        self.assertEqual(doc["info"]["results"], 5000)
        self.assertEqual(len({u["login"]["uuid"] for u in doc["results"]}), 5000)
        log(f"results=5000: {len(body)} bytes of complete JSON, 5000 distinct users")

    def test_nat_list(self):
        """nat=gb,FR gives only GB and FR"""
        doc = get_json("nat=gb,FR&results=100")
        nats = {u["nat"] for u in doc["results"]}
        self.assertEqual(nats, {"GB", "FR"})
        doc = get_json("nationality=ua&results=10")
        self.assertEqual({u["nat"] for u in doc["results"]}, {"UA"})
        log("nat=gb,FR gives both and only GB and FR; nationality=ua works")

    def test_nat_one_invalid(self):
        """nat=us,zz (one invalid code) ignores the list"""
        doc = get_json("nat=us,zz&results=200")
        nats = {u["nat"] for u in doc["results"]}
        self.assertGreater(len(nats), 5, nats)
        log(f"nat=us,zz gives {len(nats)} distinct nats in 200 users")

    def test_gender(self):
        """gender=female gives only women; with a seed it is ignored"""
        doc = get_json("gender=female&results=100")
        self.assertEqual({u["gender"] for u in doc["results"]}, {"female"})
        self.assertTrue(all(u["name"]["title"] != "Mr" for u in doc["results"]))
        doc = get_json("gender=female&seed=x&results=100")
        self.assertEqual({u["gender"] for u in doc["results"]}, {"female", "male"})
        log("gender=female: all female; gender=female&seed=x: both genders")

    def test_inc_exc_noinfo(self):
        """inc, exc and noinfo select fields"""
        doc = get_json("inc=name,nat&results=5")
        for u in doc["results"]:
            self.assertEqual(list(u), ["name", "nat"])
        doc = get_json("exc=login&results=5")
        for u in doc["results"]:
            self.assertEqual(list(u), [k for k in KEYS if k != "login"])
        doc = get_json("noinfo&results=3")
        self.assertEqual(list(doc), ["results"])
        self.assertEqual(len(doc["results"]), 3)
        log("inc=name,nat keeps only those; exc=login drops login; noinfo drops info")

    def test_password_charsets(self):
        """password=upper,lower,number,10-12 and special,32"""
        doc = get_json("password=upper,lower,number,10-12&results=50&inc=login")
        for u in doc["results"]:
            self.assertRegex(u["login"]["password"], r"^[A-Za-z0-9]{10,12}$")
            self.assertTrue(hashes_ok(u["login"]), u["login"])
        status, _, body = request("/api/?password=special,32&results=50&inc=login")
        self.assertEqual(status, 200)
        doc = json.loads(body.decode("utf-8"))
        for u in doc["results"]:
            pw = u["login"]["password"]
            self.assertEqual(len(pw), 32, pw)
            self.assertFalse(re.search(r"[A-Za-z0-9]", pw), pw)
            self.assertTrue(hashes_ok(u["login"]), u["login"])
        log("password charsets and lengths obeyed, special chars escaped, digests right")

    def test_callback(self):
        """callback=cb wraps the JSON (JSONP)"""
        status, hdrs, body = request("/api/?callback=cb&results=2&seed=jp")
        self.assertEqual(status, 200)
        text = body.decode("utf-8").strip()
        self.assertTrue(text.startswith("cb("), text[:50])
        inner = text[3:].rstrip(";").rstrip()
        self.assertTrue(inner.endswith(")"), text[-50:])
        self.assertEqual(json.loads(inner[:-1]), get_json("results=2&seed=jp"))
        log("callback=cb: cb( JSON ) with the same document inside")

    def test_download(self):
        """dl gives Content-Disposition: attachment"""
        for q in ("dl", "download", "dl&format=csv"):
            status, hdrs, _ = request("/api/?results=1&" + q)
            self.assertEqual(status, 200)
            self.assertTrue(hdrs.get("content-disposition", "").startswith("attachment"), (q, hdrs))
        status, hdrs, _ = request("/api/?results=1")
        self.assertNotIn("content-disposition", hdrs)
        log("dl / download send Content-Disposition: attachment")


# ---- 4. formats ----

class T4Formats(Base):
    N = 25

    def test_csv(self):
        """format=csv: dotted header, N rows, the JSON document's values"""
        q = f"seed=fmt&results={self.N}"
        status, hdrs, body = request("/api/?format=csv&" + q)
        self.assertEqual(status, 200)
        self.assertEqual(hdrs["content-type"], "text/csv; charset=utf-8")
        rows = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
        header, data = rows[0], rows[1:]
        self.assertTrue(",".join(header).startswith("gender,name.title,name.first"), header)
        self.assertEqual(len(data), self.N)
        self.assertTrue(all(len(r) == len(header) for r in data))
        doc = get_json(q)
        col = {h: i for i, h in enumerate(header)}
        for row, u in zip(data, doc["results"]):
            self.assertEqual(row[col["name.first"]], u["name"]["first"])
            self.assertEqual(row[col["location.postcode"]], str(u["location"]["postcode"]))
            self.assertEqual(row[col["login.sha256"]], u["login"]["sha256"])
            self.assertEqual(row[col["nat"]], u["nat"])
        log(f"csv: {len(header)} dotted columns, {self.N} rows equal to the JSON users")

    def test_yaml(self):
        """format=yaml loads to the JSON document"""
        q = f"seed=fmt&results={self.N}"
        status, hdrs, body = request("/api/?format=yaml&" + q)
        self.assertEqual(status, 200)
        self.assertEqual(hdrs["content-type"], "text/yaml; charset=utf-8")
        doc = yaml.safe_load(body.decode("utf-8"))
        want = json.loads(json.dumps(get_json(q)))
        self.assertEqual(doc, want)
        log("yaml: safe_load gives the JSON document (types included)")

    def test_xml(self):
        """format=xml: root user, N results, UTF-8 names"""
        q = f"seed=fmt&results={self.N}&nat=ua"
        status, hdrs, body = request("/api/?format=xml&" + q)
        self.assertEqual(status, 200)
        self.assertEqual(hdrs["content-type"], "application/xml; charset=utf-8")
        root = ET.fromstring(body)
        self.assertEqual(root.tag, "user")
        results = root.findall("results")
        self.assertEqual(len(results), self.N)
        self.assertEqual(root.findtext("info/version"), "1.4")
        doc = get_json(q)
        first = doc["results"][0]["name"]["first"]
        self.assertFalse(first.isascii(), first)
        self.assertEqual(results[0].findtext("name/first"), first)
        for x, u in zip(results, doc["results"]):
            self.assertEqual(x.findtext("login/uuid"), u["login"]["uuid"])
            self.assertEqual(x.findtext("location/timezone/description"),
                             u["location"]["timezone"]["description"])
        log(f"xml: <user> with {self.N} <results>, version 1.4, UTF-8 name {first!r}")

    def test_json_content_type(self):
        """format=json (and an unknown format) answer application/json"""
        for q in ("", "format=json", "fmt=json", "format=bogus"):
            status, hdrs, body = request("/api/?results=1&" + q)
            self.assertEqual(status, 200)
            self.assertEqual(hdrs["content-type"], "application/json; charset=utf-8", q)
            json.loads(body)
        log("json / fmt=json / unknown format: application/json; charset=utf-8")


# ---- 5. HTTP behaviour ----

class T5Http(Base):
    def test_health(self):
        status, hdrs, body = request("/health")
        self.assertEqual((status, json.loads(body)), (200, {"status": "ok"}))
        log("/health: 200 {\"status\":\"ok\"}")

    def test_paths(self):
        """/api/1.4/, /api/1.4, /api work; /api/1.3/ and /nope are 404 JSON"""
        for p in ("/api/", "/api", "/api/1.4/", "/api/1.4"):
            status, hdrs, body = request(p + "?results=2")
            self.assertEqual(status, 200, p)
            self.assertEqual(len(json.loads(body)["results"]), 2, p)
        for p in ("/api/1.3/", "/nope", "/api/1.4/x", "/"):
            status, hdrs, body = request(p)
            self.assertEqual(status, 404, p)
            err = json.loads(body)
            self.assertIsInstance(err.get("error"), str, p)
            self.assertTrue(err["error"], p)
        log("/api/, /api, /api/1.4/, /api/1.4 serve users; /api/1.3/, /nope: 404 {error}")

    def test_methods(self):
        """POST /api/ is 405; HEAD /api/ is 200 without a body"""
        status, hdrs, body = request("/api/", method="POST")
        self.assertEqual(status, 405)
        self.assertIn("error", json.loads(body))
        status, hdrs, body = request("/api/?results=3", method="HEAD")
        self.assertEqual((status, body), (200, b""))
        # http.client never reads a HEAD body: look at the raw bytes too.
        raw = raw_exchange(b"HEAD /api/?results=3 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        head, sep, rest = raw.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200"), raw[:100])
        self.assertEqual((sep, rest), (b"\r\n\r\n", b""))
        log("POST /api/: 405; HEAD /api/: 200 and no body bytes")

    # Regression: responses used to be queued on libmicrohttpd's first
    # handler call, which made every response "Connection: close".
    def test_keep_alive(self):
        """50 requests on one keep-alive connection"""
        conn = http.client.HTTPConnection("127.0.0.1", SERVER[1], timeout=10)
        try:
            local = None
            for i in range(50):
                conn.request("GET", f"/api/?results=2&seed=ka{i}")
                name = conn.sock.getsockname()  # the socket this request went out on
                if local is None:
                    local = name
                self.assertEqual(name, local, f"request {i} needed a new connection")
                r = conn.getresponse()
                body = r.read()
                self.assertEqual(r.status, 200, i)
                self.assertEqual(json.loads(body)["info"]["seed"], f"ka{i}")
                self.assertNotEqual((r.getheader("Connection") or "").lower(), "close",
                                    f"response {i} to an HTTP/1.1 request says Connection: close")
        finally:
            conn.close()
        log("50 requests on one keep-alive connection: all 200, one socket")

    def test_concurrent_clients(self):
        """20 threads x 20 requests of results=50"""
        failures = []

        def client(n):
            conn = http.client.HTTPConnection("127.0.0.1", SERVER[1], timeout=30)
            try:
                for i in range(20):
                    conn.request("GET", "/api/?results=50")
                    r = conn.getresponse()
                    body = r.read()
                    if r.status != 200:
                        failures.append((n, i, r.status))
                        continue
                    if len(json.loads(body)["results"]) != 50:
                        failures.append((n, i, "not 50 results"))
            except Exception as e:  # noqa: BLE001 — report any failure
                failures.append((n, repr(e)))
            finally:
                conn.close()

        threads = [threading.Thread(target=client, args=(n,)) for n in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertFalse(any(t.is_alive() for t in threads), "clients hung")
        self.assertEqual(failures, [])
        log("20 concurrent clients x 20 requests of 50 users: all 200 with valid JSON")


# ---- 6. hostile input ----

class T6Hostile(Base):
    def test_long_random_query(self):
        """a 7000-character query of random percent-encoded bytes"""
        rng = random.Random(7000)
        q = "".join("%%%02X" % rng.randrange(256) for _ in range(2333)) + "x"
        self.assertEqual(len(q), 7000)
        status, hdrs, body = request("/api/?" + q, timeout=10)
        self.assertIn(status, (200, 400, 414, 431), body[:200])
        if status == 200:
            json.loads(body.decode("utf-8"))
        self.assert_alive("a 7000-character random query")
        log(f"7000-char random query: HTTP {status}; server still answers")

    def test_garbage_then_close(self):
        rng = random.Random(1)
        raw_exchange(bytes(rng.randrange(256) for _ in range(4096)), close_after_send=True)
        raw_exchange(b"\x00\xff\r\n\r\n" * 100, close_after_send=True)
        self.assert_alive("garbage bytes then close")
        log("garbage bytes then close: server still answers")

    def test_no_http_version(self):
        out = raw_exchange(b"GET /api/?results=1\r\n\r\n", timeout=3)
        self.assertTrue(out == b"" or out.startswith(b"HTTP/"), out[:100])
        self.assert_alive("a request line without HTTP version")
        log(f"request line without version: answered {out[:12]!r}; server still answers")

    def test_huge_header(self):
        req = (b"GET /api/?results=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\nX-Big: "
               + b"a" * 100 * 1024 + b"\r\n\r\n")
        out = raw_exchange(req, timeout=5)
        self.assertTrue(out == b"" or out.startswith(b"HTTP/1.1 "), out[:100])
        self.assert_alive("a 100 KB header")
        log(f"100 KB header: answered {out[:12]!r}; server still answers")

    def test_bad_percent_escapes(self):
        req = b"GET /api/?results=%zz%%%00&nat=%ff HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
        out = raw_exchange(req, timeout=5)
        self.assertTrue(out.startswith(b"HTTP/1.1 "), out[:100])
        if out.startswith(b"HTTP/1.1 200"):
            body = out.partition(b"\r\n\r\n")[2]
            if b"transfer-encoding: chunked" not in out.partition(b"\r\n\r\n")[0].lower():
                doc = json.loads(body)
                self.assertEqual(len(doc["results"]), 1)
        self.assert_alive("bad percent escapes")
        log(f"results=%zz%%%00&nat=%ff: answered {out[:12]!r}; server still answers")

    def test_half_open_connections(self):
        socks = []
        try:
            for _ in range(200):
                socks.append(socket.create_connection(("127.0.0.1", SERVER[1]), timeout=5))
            # while they are all open, a normal client is still served
            self.assert_alive("200 idle connections (still open)")
        finally:
            for s in socks:
                s.close()
        self.assert_alive("200 connections opened and closed silently")
        log("200 silent connections: served while open and after close")

    def test_short_body(self):
        req = (b"POST /api/ HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n"
               + b"0123456789")
        raw_exchange(req, close_after_send=True)
        req = (b"GET /api/ HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n"
               + b"0123456789")
        raw_exchange(req, close_after_send=True)
        self.assert_alive("Content-Length 1000000 with 10 bytes sent")
        log("Content-Length: 1000000 then 10 bytes and close: server still answers")


# ---- 7. fault injection and start-up errors ----

class T7Faults(Base):
    def test_error_rate(self):
        proc, port, _ = start_server("--error-rate", "1", "--error-status", "502", name="err")
        try:
            for _ in range(3):
                status, hdrs, body = request("/api/?results=1", port=port)
                self.assertEqual(status, 502)
                self.assertEqual(json.loads(body), {"error": UH_OH})
            status, _, _ = request("/health", port=port)
            self.assertEqual(status, 200)
        finally:
            stop_server(proc)
        log("--error-rate 1 --error-status 502: 502 {\"error\": \"Uh oh...\"}")

    def test_empty_rate(self):
        proc, port, _ = start_server("--empty-rate", "1", name="empty")
        try:
            doc = get_json("results=7", port=port)
            self.assertEqual(doc["results"], [])
            self.assertEqual(doc["info"]["results"], 7)
        finally:
            stop_server(proc)
        log("--empty-rate 1: 200 with results [] and info.results 7")

    def test_rate_limit(self):
        proc, port, _ = start_server("--rate-limit", "100", "--rate-window", "60", name="rl")
        try:
            s1, _, _ = request("/api/?results=60", port=port)
            s2, _, b2 = request("/api/?results=60", port=port)
            self.assertEqual((s1, s2), (200, 200))
            self.assertEqual(len(json.loads(b2)["results"]), 60)
            s3, h3, b3 = request("/api/?results=60", port=port)
            self.assertEqual(s3, 429)
            ra = h3.get("retry-after", "")
            self.assertRegex(ra, r"^\d+$")
            self.assertTrue(1 <= int(ra) <= 60, ra)
            self.assertIn("120 users", json.loads(b3)["error"])
        finally:
            stop_server(proc)
        log(f"--rate-limit 100: 200, 200 (crossing), then 429 Retry-After {ra} '120 users'")

    def test_latency(self):
        proc, port, _ = start_server("--latency", "300", name="lat")
        try:
            t0 = time.monotonic()
            get_json("results=1", port=port)
            took = time.monotonic() - t0
            self.assertGreaterEqual(took, 0.3)
        finally:
            stop_server(proc)
        log(f"--latency 300: a request took {took:.3f} s")

    def test_config_file(self):
        path = os.path.join(TMPDIR, "faults.yaml")
        with open(path, "w") as f:
            f.write("randomuser:\n  faults:\n    error_rate: 1\n    error_status: 500\n")
        proc, port, _ = start_server("--config", path, name="conf")
        try:
            status, _, body = request("/api/?results=1", port=port)
            self.assertEqual(status, 500)
            self.assertEqual(json.loads(body), {"error": UH_OH})
        finally:
            stop_server(proc)
        log("--config with faults.error_rate 1, error_status 500: 500")

    def run_spate(self, *args, timeout=10):
        proc = subprocess.Popen([SPATE, "randomuser", *args], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_server(proc)
            out, err = proc.communicate()
            self.fail(f"spate randomuser {args} kept running: {err.decode(errors='replace')}")
        return proc.returncode, err.decode("utf-8", errors="replace")

    def test_config_typo(self):
        path = os.path.join(TMPDIR, "typo.yaml")
        with open(path, "w") as f:
            f.write("# a typo on line 4\nrandomuser:\n  faults:\n    eror_rate: 1\n")
        rc, err = self.run_spate("--listen", "127.0.0.1:0", "--config", path)
        self.assertEqual(rc, 2, err)
        self.assertIn(f"{path}:4: key 'eror_rate': unknown setting", err)
        log("config typo: exit 2, 'FILE:4: key 'eror_rate': unknown setting'")

    def test_bad_listen(self):
        rc, err = self.run_spate("--listen", "127.0.0.1:notaport")
        self.assertEqual(rc, 2, err)
        self.assertIn("--listen", err)
        log("--listen 127.0.0.1:notaport: exit 2")

    def test_port_in_use(self):
        holder = socket.socket()
        try:
            holder.bind(("127.0.0.1", 0))
            holder.listen(1)
            port = holder.getsockname()[1]
            rc, err = self.run_spate("--listen", f"127.0.0.1:{port}")
            self.assertEqual(rc, 1, err)
            self.assertTrue(err.strip(), "no error message")
        finally:
            holder.close()
        log(f"port {port} in use: exit 1 with {err.strip().splitlines()[-1]!r}")


if __name__ == "__main__":
    try:
        unittest.main(verbosity=2)
    finally:
        import shutil
        shutil.rmtree(TMPDIR, ignore_errors=True)

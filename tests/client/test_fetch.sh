#!/usr/bin/env bash
# test_fetch.sh — `spate fetch` against the real `spate randomuser` server,
# checked with curl and /usr/bin/python3.
#
# Each fault configuration gets its own server on a free port; every
# server's pid is remembered and exactly those pids are killed on exit.
# Run by ctest with SPATE (the binary) and SPATE_SRC set.
set -euo pipefail

: "${SPATE:?SPATE must point to the spate binary}"
PY=/usr/bin/python3
tmp=$(mktemp -d)
pids=()

cleanup() {
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT

fail() { # fail NAME EXPECTED GOT [FILE...]
    local name=$1 want=$2 got=$3
    shift 3
    echo "not ok - $name"
    echo "  expected: $want"
    echo "  got:      $got"
    for f in "$@"; do
        [ -f "$f" ] || continue
        echo "  --- $f:"
        head -c 3000 "$f" | sed 's/^/  | /'
    done
    exit 1
}
ok() { echo "ok - $1"; }

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server NAME [randomuser options...]: sets PORT and SERVER_PID.
start_server() {
    local name=$1
    shift
    PORT=$(free_port)
    "$SPATE" randomuser --listen "127.0.0.1:$PORT" --log-level warn "$@" \
        >"$tmp/server_$name.log" 2>&1 &
    SERVER_PID=$!
    pids+=("$SERVER_PID")
    local _
    for _ in $(seq 100); do
        if curl -sf --max-time 1 "http://127.0.0.1:$PORT/health" 2>/dev/null | grep -q '"ok"'; then
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null ||
            fail "start server $name" "a running server on port $PORT" "it exited" "$tmp/server_$name.log"
        sleep 0.1
    done
    fail "start server $name" "/health answering within 10 s on port $PORT" "no answer" \
        "$tmp/server_$name.log"
}

stop_server() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
}

# run NAME ARGS...: runs spate fetch (bounded by timeout), sets RC; output in
# $tmp/NAME.out and $tmp/NAME.err.
run() {
    local name=$1
    shift
    RC=0
    timeout 120 "$SPATE" fetch "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || RC=$?
}

expect_rc() { # expect_rc NAME WANT
    [ "$RC" -eq "$2" ] || fail "$1" "exit status $2" "exit status $RC" "$tmp/$1.err" "$tmp/$1.out"
}

expect_err() { # expect_err NAME PATTERN (extended regex, in stderr)
    grep -Eq -- "$2" "$tmp/$1.err" || fail "$1" "stderr matching /$2/" "something else" "$tmp/$1.err"
}

lines() { wc -l <"$1" | tr -d ' '; }

# Validates formatted records: KEYS in order, post_code a string, id a UUID.
cat >"$tmp/check_records.py" <<'EOF'
import json, re, sys
KEYS = ["id", "first_name", "last_name", "gender", "address", "post_code", "email",
        "username", "dob", "registered_date", "phone", "picture"]
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
path, want = sys.argv[1], int(sys.argv[2])
lines = open(path, encoding="utf-8").read().splitlines()
if len(lines) != want:
    sys.exit(f"{len(lines)} lines, want {want}")
for n, line in enumerate(lines, 1):
    rec = json.loads(line)
    if list(rec) != KEYS:
        sys.exit(f"line {n}: keys {list(rec)}, want {KEYS}")
    for k in KEYS:
        if not isinstance(rec[k], str):
            sys.exit(f"line {n}: {k} is {type(rec[k]).__name__}, want str")
    if not UUID.match(rec["id"]):
        sys.exit(f"line {n}: id {rec['id']!r} is not a version-5 UUID")
EOF

# Pairs formatted and raw records of the same seeded fetch line by line.
cat >"$tmp/check_pairs.py" <<'EOF'
import json, sys, uuid
fmt = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
raw = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
if len(fmt) != len(raw) or not fmt:
    sys.exit(f"{len(fmt)} formatted vs {len(raw)} raw lines")
for n, (f, r) in enumerate(zip(fmt, raw), 1):
    want_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "urn:spate:user:" + r["login"]["uuid"]))
    loc = r["location"]
    want = {
        "id": want_id, "first_name": r["name"]["first"], "last_name": r["name"]["last"],
        "gender": r["gender"],
        "address": f"{loc['street']['number']} {loc['street']['name']}, {loc['city']}, "
                   f"{loc['state']}, {loc['country']}",
        "post_code": str(loc["postcode"]), "email": r["email"],
        "username": r["login"]["username"], "dob": r["dob"]["date"],
        "registered_date": r["registered"]["date"], "phone": r["phone"],
        "picture": r["picture"]["medium"],
    }
    if f != want:
        sys.exit(f"line {n}:\n  got  {f}\n  want {want}")
ids = [f["id"] for f in fmt]
if len(set(ids)) != len(ids):
    sys.exit(f"duplicate users across pages: {len(ids) - len(set(ids))} repeated ids")
EOF

# ---- a healthy server ----
start_server plain
base="http://127.0.0.1:$PORT/api/"

run basic --url "$base" --count 12 --batch 5
expect_rc basic 0
msg=$("$PY" "$tmp/check_records.py" "$tmp/basic.out" 12 2>&1) ||
    fail "12 users in batches of 5" "12 valid records" "$msg" "$tmp/basic.out"
expect_err basic '^fetch: 12 users in 3 requests \(0 retries, 0 empty\)'
ok "fetch --count 12 --batch 5 writes 12 records with the 12 keys in order"

run seeded_fmt --url "${base}?seed=abc" --count 12 --batch 5
expect_rc seeded_fmt 0
run seeded_raw --url "${base}?seed=abc" --count 12 --batch 5 --raw
expect_rc seeded_raw 0
[ "$(lines "$tmp/seeded_raw.out")" = 12 ] ||
    fail "raw seeded fetch" "12 lines" "$(lines "$tmp/seeded_raw.out")" "$tmp/seeded_raw.out"
msg=$("$PY" "$tmp/check_pairs.py" "$tmp/seeded_fmt.out" "$tmp/seeded_raw.out" 2>&1) ||
    fail "formatted vs raw" "each record = format_data(raw) with id uuid5(URL, urn:spate:user:+login.uuid)" \
        "$msg"
ok "seeded fetch: id = uuid5(NAMESPACE_URL, urn:spate:user:+login.uuid), fields match raw, pages advance"

run seeded_again --url "${base}?seed=abc" --count 12 --batch 5
cmp -s "$tmp/seeded_fmt.out" "$tmp/seeded_again.out" ||
    fail "seeded fetch is reproducible" "identical output" "different output" "$tmp/seeded_again.out"
ok "a seeded fetch repeated gives the same users"

run outfile --url="$base" --count=7 --batch=3 --out="$tmp/users.jsonl"
expect_rc outfile 0
[ ! -s "$tmp/outfile.out" ] || fail "--out FILE" "nothing on stdout" "$(lines "$tmp/outfile.out") lines"
msg=$("$PY" "$tmp/check_records.py" "$tmp/users.jsonl" 7 2>&1) ||
    fail "--out FILE" "7 valid records in the file" "$msg" "$tmp/users.jsonl"
ok "--out FILE (and --opt=value forms) writes the records to the file"

run results_in_url --url "${base}?results=1&nat=gb" --count 4 --batch 4
expect_rc results_in_url 0
expect_err results_in_url 'fetch: 4 users in 1 request '
"$PY" - "$tmp/results_in_url.out" <<'EOF' || fail "URL with results= and nat=" "4 GB users in one request" "see above"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 4, len(recs)
assert all(r["address"].endswith("United Kingdom") for r in recs), recs
EOF
ok "results= in the URL is replaced by the batch size; other parameters kept"

run help --help
expect_rc help 0
grep -q -- '--count' "$tmp/help.out" || fail "--help" "usage on stdout" "$(cat "$tmp/help.out")"
ok "--help prints usage and exits 0"
stop_server

# ---- every request fails with 503 ----
start_server e503 --error-rate 1
run e503 --url "http://127.0.0.1:$PORT/api/" --count 5 --retries 2
expect_rc e503 1
expect_err e503 '/api/\?results=5: HTTP 503 after 3 tries'
expect_err e503 'fetch: 0 users in 3 requests \(2 retries'
ok "HTTP 503 on every try: exit 1 after --retries 2 (3 tries), naming URL and status"
stop_server

# ---- a 4xx other than 429 is not retried ----
start_server e404 --error-rate 1 --error-status 404
run e404 --url "http://127.0.0.1:$PORT/api/" --count 5 --retries 3
expect_rc e404 1
expect_err e404 'HTTP 404'
expect_err e404 'fetch: 0 users in 1 request \(0 retries'
ok "HTTP 404: exit 1 at once, no retry"
stop_server

# ---- rate limited: 10 users per client per 2 s window ----
start_server ratelimit --rate-limit 10 --rate-window 2
run ratelimit --url "http://127.0.0.1:$PORT/api/" --count 30 --batch 10
expect_rc ratelimit 0
msg=$("$PY" "$tmp/check_records.py" "$tmp/ratelimit.out" 30 2>&1) ||
    fail "rate limited fetch" "30 valid records" "$msg" "$tmp/ratelimit.out"
grep -Eq 'fetch: 30 users in [0-9]+ requests \([1-9][0-9]* retr(y|ies)' "$tmp/ratelimit.err" ||
    fail "rate limited fetch" "at least one retry after 429" "$(tail -1 "$tmp/ratelimit.err")"
expect_err ratelimit 'HTTP 429'
ok "HTTP 429 with Retry-After: fetch waits and still gets all 30 users"
stop_server

# ---- the 2026 outage: empty results ----
start_server empty --empty-rate 1
run empty --url "http://127.0.0.1:$PORT/api/" --count 5 --retries 1
expect_rc empty 1
expect_err empty 'empty results after 2 tries'
expect_err empty 'fetch: 0 users in 2 requests \(1 retry, 2 empty\)'
ok "empty results on every try: exit 1 saying so"
stop_server

# ---- nothing listening ----
dead=$(free_port)
run dead --url "http://127.0.0.1:$dead/api/" --count 5 --retries 1
expect_rc dead 1
expect_err dead "127.0.0.1:$dead/api/\\?results=5: connection error"
ok "a dead port: exit 1 with a connection error"

# ---- usage errors ----
run unknown --url "http://127.0.0.1:$dead/api/" --count 5 --bogus
expect_rc unknown 2
expect_err unknown "unknown option '--bogus'"
ok "an unknown option exits 2"

run nourl --count 5
expect_rc nourl 2
expect_err nourl '--url is required'
ok "a missing --url exits 2"

run nocount --url "http://127.0.0.1:$dead/api/"
expect_rc nocount 2
expect_err nocount '--count is required'
ok "a missing --count exits 2"

run badbatch --url "http://127.0.0.1:$dead/api/" --count 5 --batch 5001
expect_rc badbatch 2
expect_err badbatch "--batch: '5001' is not in the range"
run novalue --url "http://127.0.0.1:$dead/api/" --count
expect_rc novalue 2
expect_err novalue '--count needs a value'
ok "bad or missing option values exit 2"

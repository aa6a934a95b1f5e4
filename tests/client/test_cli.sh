#!/usr/bin/env bash
# The spate command line as a user meets it: help, version, exit codes
# (0 success, 1 run-time failure, 2 usage error), clear messages for
# unknown commands and options, and configuration errors that name
# file:line and the key.
set -euo pipefail
source "$SPATE_TESTLIB/lib.sh"

expect_exit() { # expect_exit CODE DESCRIPTION -- command...
  local want=$1 what=$2; shift 3
  set +e
  "$@" >"$TMP/out" 2>"$TMP/err"
  local got=$?
  set -e
  [ "$got" = "$want" ] || { cat "$TMP/out" "$TMP/err" >&2; fail "$what: exit $got, want $want"; }
  ok "$what (exit $want)"
}
expect_text() { # expect_text FILE TEXT DESCRIPTION
  grep -qF -- "$2" "$TMP/$1" || { cat "$TMP/out" "$TMP/err" >&2; fail "$3: no '$2' in $1"; }
}

expect_exit 0 "spate help" -- "$SPATE" help
expect_text out "randomuser" "help lists randomuser"
expect_text out "fetch" "help lists fetch"
expect_exit 0 "spate --help" -- "$SPATE" --help
expect_exit 2 "spate with no command" -- "$SPATE"
expect_text err "usage: spate" "usage on stderr"
expect_exit 0 "spate version" -- "$SPATE" version
grep -qE '^spate [0-9]+\.[0-9]+\.[0-9]+$' "$TMP/out" || fail "version line: $(cat "$TMP/out")"
expect_exit 2 "unknown command" -- "$SPATE" frobnicate
expect_text err "unknown command 'frobnicate'" "unknown command named"
expect_exit 0 "spate help randomuser" -- "$SPATE" help randomuser
expect_text out "--listen" "randomuser help shows --listen"
expect_exit 0 "spate randomuser --help" -- "$SPATE" randomuser --help
expect_exit 0 "spate fetch --help" -- "$SPATE" fetch --help
expect_exit 2 "spate help of an unknown command" -- "$SPATE" help nope
expect_exit 2 "unknown option" -- "$SPATE" randomuser --bogus 1
expect_text err "unknown option '--bogus'" "unknown option named"
expect_text err "Try 'spate randomuser --help'" "hint to --help"
expect_exit 2 "option without its value" -- "$SPATE" randomuser --threads
expect_exit 2 "non-numeric value" -- "$SPATE" randomuser --threads many
expect_text err "--threads: 'many' is not an integer" "bad value named"
expect_exit 2 "out-of-range value" -- "$SPATE" randomuser --error-rate 1.5
expect_exit 2 "bad address" -- "$SPATE" randomuser --listen nowhere
expect_exit 2 "bad log level" -- "$SPATE" randomuser --log-level loud --print results=1

# --print works without a server and --opt=value is accepted
expect_exit 0 "randomuser --print" -- "$SPATE" randomuser --print=results=2\&seed=cli\&format=csv
[ "$(wc -l <"$TMP/out")" = 3 ] || fail "--print csv: want header + 2 rows"
ok "--print gives a CSV header and 2 rows"

# Configuration errors name file:line and the key
cat >"$TMP/bad.yaml" <<'YAML'
randomuser:
  listen: 127.0.0.1:0
  faults:
    error_rate: 0.5
    rate_limit: lots
YAML
expect_exit 2 "config with a bad value" -- "$SPATE" randomuser --config "$TMP/bad.yaml"
expect_text err "$TMP/bad.yaml:5: key 'rate_limit': expected an integer, got 'lots'" "config error names file:line:key"
printf 'randomuser:\n  threds: 2\n' >"$TMP/typo.yaml"
expect_exit 2 "config with an unknown key" -- "$SPATE" randomuser --config "$TMP/typo.yaml"
expect_text err "$TMP/typo.yaml:2: key 'threds': unknown setting" "typo named"
printf 'randomuser: [unclosed\n' >"$TMP/syntax.yaml"
expect_exit 2 "config with a YAML syntax error" -- "$SPATE" randomuser --config "$TMP/syntax.yaml"
expect_text err "$TMP/syntax.yaml:" "syntax error names the file"
expect_exit 2 "missing config file" -- "$SPATE" randomuser --config "$TMP/none.yaml"
expect_text err "cannot open" "missing file explained"

# The three servers read their files' common part (log_level, the
# section's keys, listen) alike: each error names file:line and the key
for srv in randomuser broker cql; do
  printf 'log_level: loud\n%s:\n  listen: 127.0.0.1:0\n' "$srv" >"$TMP/common.yaml"
  expect_exit 2 "$srv: bad log_level in the file" -- "$SPATE" "$srv" --config "$TMP/common.yaml"
  expect_text err "$TMP/common.yaml:1: key 'log_level': expected debug" "$srv: log_level named"
  printf '%s:\n  listen: nowhere\n' "$srv" >"$TMP/common.yaml"
  expect_exit 2 "$srv: bad listen in the file" -- "$SPATE" "$srv" --config "$TMP/common.yaml"
  expect_text err "$TMP/common.yaml:2: key 'listen': 'nowhere'" "$srv: listen named"
  printf 'extra: 1\n%s:\n  listen: 127.0.0.1:0\n' "$srv" >"$TMP/common.yaml"
  expect_exit 2 "$srv: unknown top-level key" -- "$SPATE" "$srv" --config "$TMP/common.yaml"
  expect_text err "$TMP/common.yaml:1: key 'extra': unknown setting" "$srv: extra named"
done

# A server started from a valid config answers as configured
printf 'randomuser:\n  threads: 1\n  faults:\n    error_rate: 1\n    error_status: 500\n' >"$TMP/good.yaml"
start_randomuser --config "$TMP/good.yaml"
code=$(curl -s -o /dev/null -w '%{http_code}' "$RU_URL/api/")
[ "$code" = 500 ] || fail "configured error_status: got $code"
ok "config file applied (error_status 500)"
# SIGTERM stops it cleanly with exit 0
kill -TERM "$RU_PID"
set +e; wait "$RU_PID"; rc=$?; set -e
[ "$rc" = 0 ] || fail "randomuser exit after SIGTERM: $rc"
grep -q "shutting down" "$RU_LOG" || fail "no shutdown log line"
ok "SIGTERM: clean exit 0"

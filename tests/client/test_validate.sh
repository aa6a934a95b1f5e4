#!/usr/bin/env bash
# spate validate: the example pipeline passes; a broken file lists every
# problem as FILE:LINE: message on stderr and exits 2; a missing file is an
# error too.
set -euo pipefail
. "$SPATE_TESTLIB/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

out=$("$SPATE" validate "$SPATE_SRC/examples/pipeline.yaml")
[ "$out" = "$SPATE_SRC/examples/pipeline.yaml: ok (1 job: created_users)" ] || fail "example: $out"
ok "examples/pipeline.yaml validates"

cat >"$tmp/bad.yaml" <<'YAML'
stream:
  jobs:
    - name: x
      sourc: {}
      transform:
        - map:
            filter: "age >< 3"
YAML
rc=0
"$SPATE" validate "$tmp/bad.yaml" 2>"$tmp/err" || rc=$?
[ "$rc" = 2 ] || fail "exit status $rc, want 2"
grep -q "^$tmp/bad.yaml:4: key 'sourc': unknown setting" "$tmp/err" || fail "no typo error: $(cat "$tmp/err")"
grep -q "^$tmp/bad.yaml:3: 'source' is required" "$tmp/err" || fail "no missing-source error: $(cat "$tmp/err")"
grep -q "^$tmp/bad.yaml:7:" "$tmp/err" || fail "no filter error at line 7: $(cat "$tmp/err")"
ok "a broken file: every error with file:line, exit 2"

rc=0
"$SPATE" validate "$tmp/none.yaml" 2>"$tmp/err" || rc=$?
[ "$rc" = 2 ] || fail "missing file: exit $rc"
grep -q "none.yaml" "$tmp/err" || fail "missing file not named"
ok "a missing file is an error"

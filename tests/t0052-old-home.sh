#!/bin/sh
# t0052 - a home written by an earlier release opens and migrates:
# tests/fixtures/home-v1.tar (made by the release of 2026-11-30 with
# tests/fixtures/make-home-v1.sh) is opened by this binary, its schema
# brought to this release's, its items, follows and key kept, and it
# publishes on above its seq; a subscriber accepts what it serves.
. "$(dirname "$0")/lib.sh"
plan 9
cd "$T"
P=$(port_base)
tar xf "$SRC/tests/fixtures/home-v1.tar"
F=$(ls home/repos)
v0=$(sqlite3 home/state.db 'PRAGMA user_version')
seq0=$(sqlite3 home/state.db "SELECT seq FROM manifests WHERE publisher = '$F'")
k --home fresh init --name 別府市 --lg-code 442020 >/dev/null
latest=$(sqlite3 fresh/state.db 'PRAGMA user_version')

check "config check accepts the old config" k --home home config check
check "kairan status opens the old home" k --home home status
v1=$(sqlite3 home/state.db 'PRAGMA user_version')
diag "schema version $v0 in the fixture, $v1 after opening, $latest in a new home"
check "its schema is migrated to this release's" test "$v1" = "$latest"
check "the identity is the same" test "$(k --home home id --fingerprint)" = "$F"
check "its item is still there" k --home home show 422126/case/all-staff-trial
check "its follows are still there" sh -c "\"$KAIRAN\" --home home peers | grep -q tcp://127.0.0.1:7420"
check "every object and signature verifies" k --home home verify --full
item 422126 after-upgrade 更新後の事例 >new.md
k --home home publish new.md >/dev/null 2>&1
seq1=$(sqlite3 home/state.db "SELECT seq FROM manifests WHERE publisher = '$F'")
diag "seq $seq0 in the fixture, $seq1 after a publish with this release"
check "it publishes above its old seq" test "$seq1" -gt "$seq0"
serve home "$P" $((P + 1))
k --home sub init --name 香川県 --lg-code 370002 >/dev/null
k --home sub follow "tcp://127.0.0.1:$P" --publisher "$F" >/dev/null
k --home sub sync --timeout 10 >/dev/null 2>&1
check "a subscriber on this release accepts the old home's history and the new item" \
	sh -c "\"$KAIRAN\" --home sub show 422126/case/all-staff-trial >/dev/null && \"$KAIRAN\" --home sub show 422126/case/after-upgrade >/dev/null"

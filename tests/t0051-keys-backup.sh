#!/bin/sh
# t0051 - keys and homes: `key export` (encrypted PKCS#8) and `key import`
# (a wrong passphrase says so and writes nothing); `backup` of a node while
# it serves and publishes, `restore` into a new machine's directory, and
# the restored node publishing on at the next seq, accepted by a
# subscriber; restore onto an existing home refuses and changes nothing.
. "$(dirname "$0")/lib.sh"
plan 20
cd "$T"
P=$(port_base)
seq_of() { sqlite3 "$1/state.db" "SELECT seq FROM manifests WHERE publisher = '$2'"; }

k --home mitoyo init --name 三豊市 --lg-code 372081 >/dev/null
F=$(k --home mitoyo id --fingerprint)
k --home mitoyo publish "$SRC/deploy/samples/372081" >/dev/null
serve mitoyo "$P" $((P + 1))
k --home town init --name 西海市 --lg-code 422126 >/dev/null
k --home town follow "tcp://127.0.0.1:$P" --publisher "$F" >/dev/null
k --home town sync --timeout 10 >/dev/null

# 1. keys
echo 'kagawa-mitoyo 2026 passphrase' >pass
echo 'not the passphrase' >wrong
echo short >short
check_fails "export refuses a passphrase under 8 characters" k --home mitoyo key export --passphrase-file short -o k0.pem
check "and wrote nothing" test ! -e k0.pem
check "key export writes the keys encrypted" k --home mitoyo key export --passphrase-file pass -o keys.pem
check "as two encrypted PKCS#8 blocks, mode 0600, no plain key in it" \
	sh -c "test \$(grep -c 'BEGIN ENCRYPTED PRIVATE KEY' keys.pem) = 2 && ! grep -q 'BEGIN PRIVATE KEY' keys.pem && test \$(stat -c %a keys.pem) = 600"
check "openssl reads it with the passphrase, as PKCS#8" \
	sh -c "openssl pkey -in keys.pem -passin file:pass -noout"
k --home newkey key import keys.pem --passphrase-file wrong --name 三豊市 --lg-code 372081 2>err; rc=$?
sed 's/^/# /' err
check "a wrong passphrase says so" sh -c "test $rc = 1 && grep -q 'keys.pem: wrong passphrase' err"
check "and writes nothing" sh -c "test ! -e newkey && ! ls -d newkey.* 2>/dev/null"
k --home newkey key import keys.pem --passphrase-file pass --name 三豊市 --lg-code 372081 >/dev/null 2>&1
check "import with the passphrase makes a home with the same identity (both keys)" \
	sh -c "test \"\$(\"$KAIRAN\" --home newkey id --fingerprint)\" = $F && cmp mitoyo/keys/node.ed25519 newkey/keys/node.ed25519 &&
		cmp mitoyo/keys/node.x25519 newkey/keys/node.x25519"
check_fails "import refuses a home that exists" k --home town key import keys.pem --passphrase-file pass --name 三豊市 --lg-code 372081

# 2. a backup while serving and publishing
mkdir -p more/cases
( i=1; while [ $i -le 4 ]; do item 372081 during-$i "バックアップ中の公開$i" >more/cases/during-$i.md
	"$KAIRAN" --home mitoyo publish more >/dev/null 2>&1; i=$((i + 1)); done ) &
publoop=$!
wait_for 20 sh -c "test \"\$(sqlite3 mitoyo/state.db \"SELECT seq FROM manifests WHERE publisher = '$F'\")\" -ge 3"
k --home mitoyo backup during >backup1.out 2>&1; rc=$?
wait "$publoop"
sed 's/^/# /' backup1.out
check "backup while the node serves and publishes" test "$rc" = 0
k --home restored-during restore during >/dev/null 2>&1
check "that backup restores and verifies in full (every object, signature, head)" \
	k --home restored-during verify --full

seq0=$(seq_of mitoyo "$F")
t0=$(now_ms)
check "backup of the serving node" k --home mitoyo backup bk
diag "backup of a serving node: $(( $(now_ms) - t0 )) ms, $(du_kb bk) KB; $(cat "$T/last.out")"
check "the backup says what it holds" grep -q "^seq = $seq0$" bk/BACKUP
check_fails "backup refuses a directory that exists" k --home mitoyo backup bk

# the old machine is gone; the backup goes onto a new one
kill "$PID_mitoyo"; wait "$PID_mitoyo" 2>/dev/null
mkdir newmachine
before=$(state_fingerprint town)
k --home town restore bk 2>err; rc=$?
check "restore onto an existing home refuses" sh -c "test $rc = 1 && grep -q 'already a kairan home; nothing was changed' err"
check "and changes nothing there" test "$before" = "$(state_fingerprint town)"
check "restore into the new machine's directory" k --home newmachine/mitoyo restore bk
serve newmachine/mitoyo $((P + 4)) $((P + 5))
item 372081 after-restore 復元後の事例 >after.md
k --home newmachine/mitoyo publish after.md >pub.out 2>&1
seq1=$(seq_of newmachine/mitoyo "$F")
diag "seq $seq0 at the backup; $seq1 signed by the restored node"
check "the restored node publishes at the next seq" test "$seq1" = $((seq0 + 1))
k --home town unfollow "tcp://127.0.0.1:$P" >/dev/null
k --home town follow "tcp://127.0.0.1:$((P + 4))" --publisher "$F" >/dev/null
k --home town sync --timeout 10 >sync.out 2>&1
check "a subscriber accepts it" sh -c "\"$KAIRAN\" --home town show 372081/case/after-restore >/dev/null && test \"\$(sqlite3 town/state.db \"SELECT seq FROM manifests WHERE publisher = '$F'\")\" = $seq1"
check "and quarantined nothing" test "$(sqlite3 town/state.db 'SELECT count(*) FROM quarantine')" = 0

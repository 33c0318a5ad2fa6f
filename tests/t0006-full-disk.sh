#!/bin/sh
# t0006 - a full disk: publish and sync fail with a clear error, change
# nothing, and work once space is back. Needs a small tmpfs (root); skips
# otherwise.
. "$(dirname "$0")/lib.sh"
cd "$T"
mkdir disk
if ! mount -t tmpfs -o size=2m tmpfs disk 2>/dev/null; then
	echo "1..0 # SKIP cannot mount a small tmpfs here (needs root)"
	exit 0
fi
trap 'umount "$T/disk" 2>/dev/null; cleanup' EXIT
plan 9
P=$(port_base)

mkdir big
for i in 1 2 3; do
	{ item 372081 "f$i" "大きな事例 $i"; head -c 30000 /dev/urandom | base64; } >big/f$i.md
done
k --home disk/pub init --name 三豊市 --lg-code 372081 >/dev/null
FPR=$(k --home disk/pub id --fingerprint)
k --home disk/pub publish "$SRC/deploy/samples/372081" >/dev/null
fill() { # fill KB: leave about KB kilobytes free
	free=$(df -k disk | tail -1 | awk '{ print $4 }')
	dd if=/dev/zero of=disk/filler bs=1k count=$((free - $1)) 2>/dev/null || true
}
before=$(state_fingerprint disk/pub)

fill 40
k --home disk/pub publish big 2>err; rc=$?
check "publish on a nearly full disk fails" test $rc = 1
check "and says the disk is full" grep -q 'disk is full' err
check "and changes nothing" test "$before" = "$(state_fingerprint disk/pub)"
rm -f disk/filler
check "with space back, verify passes" k --home disk/pub verify
check "and the same publish works" k --home disk/pub publish big

# A subscriber whose disk fills while it fetches.
k --home pubsrc init --name 西海市 --lg-code 422126 >/dev/null
SFPR=$(k --home pubsrc id --fingerprint)
k --home pubsrc publish "$SRC/deploy/samples/142018" >/dev/null 2>&1 || true
cp -r big big2
sed -i 's/372081/422126/g' big2/*.md
k --home pubsrc publish big2 >/dev/null
serve pubsrc $P $((P + 1))
k --home disk/sub init --name 戸田市 --lg-code 112241 >/dev/null
k --home disk/sub follow tcp://127.0.0.1:$P --publisher "$SFPR" >/dev/null
sbefore=$(state_fingerprint disk/sub)
fill 100
k --home disk/sub sync --timeout 5 2>syncerr; rc=$?
rm -f disk/filler
check "sync onto a full disk fails, saying so" sh -c "test $rc = 1 && grep -q -i 'disk' syncerr"
check "a full local disk is not blamed on the peer (no quarantine)" \
	test "$(sqlite3 disk/sub/state.db "SELECT count(*) FROM quarantine")" = 0
check "and leaves the subscriber's refs and state unchanged" test "$sbefore" = "$(state_fingerprint disk/sub)"
check "with space back, sync converges" k --home disk/sub sync --timeout 5

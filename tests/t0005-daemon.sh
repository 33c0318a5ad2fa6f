#!/bin/sh
# t0005 - the daemon: re-signing before expiry, beacons repairing a lost
# announcement, one pack build for many subscribers, unfollow, clean shutdown
. "$(dirname "$0")/lib.sh"
plan 11
cd "$T"
P=$(port_base)

k --home pub init --name 三豊市 --lg-code 372081 >/dev/null
FPR=$(k --home pub id --fingerprint)
# Short-lived manifests: valid 6 s, re-signed when fewer than 5 s remain.
sed -i 's/^manifest_ttl = .*/manifest_ttl = 6/; s/^resign_before = .*/resign_before = 5/; s/^beacon_ms = .*/beacon_ms = 300/' pub/config
item 372081 one 一つ目 >one.md
k --home pub publish one.md >/dev/null
serve pub $P $((P + 1))
seq_of() { sqlite3 "$1/state.db" "SELECT seq FROM manifests WHERE publisher='$FPR'"; }
seq_above() { test "$(seq_of "$1")" -gt "$2"; }
s0=$(seq_of pub)
check "the daemon re-signs its manifest before it expires" wait_for 5 seq_above pub "$s0"

for t in a b c; do
	k --home town-$t init --name 町$t --lg-code 024121 >/dev/null
	sed -i 's/^beacon_ms = .*/beacon_ms = 300/' town-$t/config
	k --home town-$t follow tcp://127.0.0.1:$P --publisher "$FPR" >/dev/null
done
serve town-a $((P + 10)) $((P + 11))
serve town-b $((P + 12)) $((P + 13))
serve town-c $((P + 14)) $((P + 15))
check "three towns hold the item" wait_for 5 sh -c "for t in a b c; do \"$KAIRAN\" --home town-\$t show 372081/case/one || exit 1; done"
s1=$(seq_of town-a)
check "subscribers follow the re-signed manifests" wait_for 5 seq_above town-a "$s1"

# A lost announcement: publish while the control socket is out of reach, so
# the daemon does not announce; the beacon digest changes and towns ask.
mv pub/control.sock pub/control.away
item 372081 quiet 静かな公開 >quiet.md
k --home pub publish quiet.md >quiet.out
mv pub/control.away pub/control.sock
check "publish says no node was reached" grep -q 'no node is running' quiet.out
check "beacons bring the item to every town anyway" wait_for 5 sh -c "for t in a b c; do \"$KAIRAN\" --home town-\$t show 372081/case/quiet || exit 1; done"

item 372081 shared 共有の事例 >shared.md
k --home pub publish shared.md >/dev/null
check "a new item reaches all three" wait_for 5 sh -c "for t in a b c; do \"$KAIRAN\" --home town-\$t show 372081/case/shared || exit 1; done"

check "unfollow removes the peer" k --home town-c unfollow tcp://127.0.0.1:$P
k --home town-c peers >peers.out
check "peers lists none" grep -q 'no peers' peers.out

kill -TERM $PID_pub
wait $PID_pub; rc=$?
check "SIGTERM shuts the daemon down cleanly (exit 0)" test $rc = 0
check "and removes its control socket" test ! -e pub/control.sock
builds=$(sed -n 's/.*pack cache: \([0-9]*\) builds, \([0-9]*\) hits.*/\1 \2/p' pub.log | tail -1)
diag "publisher's pack cache: $builds (builds hits)"
check "subscribers asking for the same update shared one pack build" test "$(echo $builds | cut -d' ' -f2)" -ge 2

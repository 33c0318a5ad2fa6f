#!/bin/sh
# t0089 - a town whose fetch failed for a reason that passes tries again by
# itself: its hub has the new publication but cannot serve its objects for
# a while (here: the hub's pack files are moved away and back; in the
# 500-town soak: the hub answered busy for longer than the fetch timeout).
# Once the hub can serve again, the town catches up at a following beacon
# with no new publication. (The soak found 492 of 500 towns stuck behind:
# each had recorded the hub's digest from a snapshot whose fetch failed, so
# the beacons, digest unchanged, never asked again.)
. "$(dirname "$0")/lib.sh"
plan 5
cd "$T"
P=$(port_base)
PUB=tcp://127.0.0.1:$P
HUB=tcp://127.0.0.1:$((P + 2))

k --home pub init --name 三豊市 --lg-code 372081 >/dev/null
FPR=$(k --home pub id --fingerprint)
item 372081 first 最初の事例 >first.md
k --home pub publish first.md >/dev/null
serve pub $P $((P + 1))
k --home hub init --name 香川県 --lg-code 370002 >/dev/null
sed -i "s/^web = .*/web = off/" hub/config
sed -i 's/^beacon_ms = .*/beacon_ms = 1000/' hub/config
k --home hub follow "$PUB" --publisher "$FPR" >/dev/null
serve hub $((P + 2)) $((P + 3))
k --home town init --name 西海市 --lg-code 422126 >/dev/null
sed -i "s/^web = .*/web = off/" town/config
k --home town follow "$HUB" --publisher "$FPR" >/dev/null
serve town $((P + 4)) $((P + 5))
check "the town replicates the first item through the hub" wait_for 15 k --home town show 372081/case/first

seq_of() { sqlite3 "$1/state.db" "SELECT seq FROM manifests WHERE publisher = '$FPR'" 2>/dev/null; }
OBJ=hub/repos/$FPR/cases.git/objects
fails() { grep -c "peer $HUB: publisher ${FPR%"${FPR#????????????????}"}…" town.log; }
kill -STOP "$PID_town"
item 372081 second 二つ目の事例 >second.md
k --home pub publish second.md >/dev/null
wait_for 15 sh -c "test \"\$(sqlite3 hub/state.db \"SELECT seq FROM manifests WHERE publisher = '$FPR'\")\" = $(seq_of pub)"
sleep 0.5
# The hub holds the new seq but cannot serve its objects.
mkdir away
mv "$OBJ"/pack "$OBJ"/[0-9a-f][0-9a-f] away/ 2>/dev/null
mkdir "$OBJ"/pack
f0=$(fails)
kill -CONT "$PID_town"
# the announcement's fetch fails, then a beacon's snapshot fetch fails too
wait_for 20 sh -c "test \$(grep -c 'peer $HUB: publisher' town.log) -ge $((f0 + 2))"
sleep 2
n=$(( $(fails) - f0 ))
diag "the town's fetches from the hub that failed while it could not serve: $n"
check "the town's fetches failed while the hub could not serve (announcement and a snapshot)" test "$n" -ge 2
check "and it did not take the new seq" test "$(seq_of town)" != "$(seq_of pub)"
rmdir "$OBJ"/pack
mv away/* "$OBJ"/
r0=$(now_ms)
check "once the hub serves again, the town catches up by itself within 10 s" \
	wait_for 10 k --home town show 372081/case/second
diag "caught up $(( $(now_ms) - r0 )) ms after the hub could serve again, with no new publication"
check "the town daemon still runs" kill -0 "$PID_town"

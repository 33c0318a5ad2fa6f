#!/bin/sh
# t0089 - a town whose fetch failed for a reason that passes tries again by
# itself, less and less often, and comes back when the peer recovers.
#
# Snapshots: the hub holds a new seq but cannot serve its objects (its
# pack files moved away; in the 500-town soak: the hub answered busy for
# longer than the fetch timeout) while it beacons five times a second.
# Once the hub can serve again, the town catches up with no new
# publication. (The soak found 492 of 500 towns stuck behind: each had
# recorded the hub's digest from a snapshot whose fetch had failed, so
# the beacons, digest unchanged, never asked again.) Each beacon then
# asked for a snapshot again and logged a warning, for as long as the hub
# failed; now the town asks again after 1, 2, 4, 8... beacon intervals,
# up to 30 s.
# Down: a followed peer that does not answer is tried again after 3, 6,
# 12, then every 15 s, not every 3 s.
. "$(dirname "$0")/lib.sh"
plan 7
cd "$T"
P=$(port_base)
PUB=tcp://127.0.0.1:$P
HUB=tcp://127.0.0.1:$((P + 2))
DEAD=tcp://127.0.0.1:$((P + 9))

k --home pub init --name 三豊市 --lg-code 372081 >/dev/null
FPR=$(k --home pub id --fingerprint)
item 372081 first 最初の事例 >first.md
k --home pub publish first.md >/dev/null
serve pub $P $((P + 1))
k --home hub init --name 香川県 --lg-code 370002 >/dev/null
sed -i "s/^web = .*/web = off/" hub/config
sed -i 's/^beacon_ms = .*/beacon_ms = 200/' hub/config
k --home hub follow "$PUB" --publisher "$FPR" >/dev/null
serve hub $((P + 2)) $((P + 3))
k --home town init --name 西海市 --lg-code 422126 >/dev/null
sed -i "s/^web = .*/web = off/" town/config
sed -i 's/^timeout_ms = .*/timeout_ms = 500/' town/config
k --home town follow "$HUB" --publisher "$FPR" >/dev/null
k --home town follow "$DEAD" --publisher "$FPR" >/dev/null 2>&1
serve town $((P + 4)) $((P + 5))
t_start=$(now_ms)
check "the town replicates the first item through the hub" wait_for 15 k --home town show 372081/case/first

seq_of() { sqlite3 "$1/state.db" "SELECT seq FROM manifests WHERE publisher = '$FPR'" 2>/dev/null; }
OBJ=hub/repos/$FPR/cases.git/objects
fails() { grep -c "peer $HUB: publisher" town.log; }
kill -STOP "$PID_town"
item 372081 second 二つ目の事例 >second.md
k --home pub publish second.md >/dev/null
wait_for 15 sh -c "test \"\$(sqlite3 hub/state.db \"SELECT seq FROM manifests WHERE publisher = '$FPR'\")\" = $(seq_of pub)"
sleep 0.5
# The hub holds the new seq but cannot serve its objects, for 10 s (50 beacons).
mkdir away
mv "$OBJ"/pack "$OBJ"/[0-9a-f][0-9a-f] away/ 2>/dev/null
mkdir "$OBJ"/pack
f0=$(fails)
kill -CONT "$PID_town"
sleep 10
n=$(( $(fails) - f0 ))
diag "the town's fetches from the hub that failed in 10 s of 50 beacons: $n (one a beacon before the backoff)"
check "the town asked again, but not at every beacon (2 to 12 failed fetches in 10 s)" \
	test "$n" -ge 2 -a "$n" -le 12
check "and said that it waits longer between attempts" grep -q "snapshots in a row failed; asking again in" town.log
check "and did not take the new seq" test "$(seq_of town)" != "$(seq_of pub)"
rmdir "$OBJ"/pack
mv away/* "$OBJ"/
r0=$(now_ms)
check "once the hub serves again, the town catches up by itself within 35 s" \
	wait_for 35 k --home town show 372081/case/second
diag "caught up $(( $(now_ms) - r0 )) ms after the hub could serve again, with no new publication"

# The peer where nothing listens: attempts at 0, 3, 9, 21, 36 s..., not every 3 s.
el=$(( ($(now_ms) - t_start) / 1000 ))
d=$(grep -c "peer $DEAD: .*did not answer" town.log)
diag "attempts to reach the peer that never answers in ${el} s: $d (every 3 s before: $((el / 3 + 1)))"
check "a peer that is down is tried less and less often" test "$d" -ge 2 -a "$d" -le $((el / 4 + 1))
check "the town daemon still runs" kill -0 "$PID_town"

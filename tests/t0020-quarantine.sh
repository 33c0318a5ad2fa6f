#!/bin/sh
# t0020 - a hostile hub that knows the publisher's key floods a running town
# with re-signed updates it must refuse (a new seq every 150 ms, each a 1 MB
# pack whose head commit is signed by another key, plus beacons that ask
# for snapshots in between). The town keeps answering, counts the refusals
# in a bounded quarantine, removes every refused pack, fetches each refused
# manifest at most once, warns in its log once (not once per refusal), and
# still takes the honest publisher afterwards.
. "$(dirname "$0")/lib.sh"
plan 14
cd "$T"
P=$(port_base)
EP=tcp://127.0.0.1:$P
TOWN=tcp://127.0.0.1:$((P + 2))

k --home pub init --name 三豊市 --lg-code 372081 >/dev/null
FPR=$(k --home pub id --fingerprint)
k --home pub publish "$SRC/deploy/samples/372081" >/dev/null
k --home town init --name 西海市 --lg-code 422126 >/dev/null
k --home town follow "$EP" --publisher "$FPR" >/dev/null

"$TOOLS/hostile" --home pub --listen "$EP" --announce "tcp://127.0.0.1:$((P + 1))" --mode honest 2>/dev/null &
HPID=$!
sleep 0.3
k --home town sync --timeout 5 >/dev/null 2>&1
kill $HPID; wait $HPID 2>/dev/null
PACKS=town/repos/$FPR/cases.git/objects/pack
packs() { ls "$PACKS" | grep -c '\.pack$'; }
packs0=$(packs)
q() { sqlite3 town/state.db "$1"; }

# The hub turns hostile; the town runs as a daemon.
"$TOOLS/hostile" --home pub --listen "$EP" --announce "tcp://127.0.0.1:$((P + 1))" --flood 150 --flood-kb 1024 \
	2>hostile.log &
HPID=$!
_pids="$_pids $HPID"
sleep 0.3
serve town $((P + 2)) $((P + 3))
du0=$(du_kb town)
hello_fail=0 probes=0 dumax=$du0 packmax=0
t0=$(now_ms)
while [ $(( $(now_ms) - t0 )) -lt 15000 ]; do
	sleep 1
	probes=$((probes + 1))
	hello_ok "$TOWN" >/dev/null 2>&1 || hello_fail=$((hello_fail + 1))
	d=$(du_kb town); [ "$d" -gt "$dumax" ] && dumax=$d
	n=$(packs); [ "$n" -gt "$packmax" ] && packmax=$n
done
# The hub stops signing new manifests but goes on beaconing: the last one is
# offered again at every beacon. Wait until the town has worked through
# what it was sent, then watch a few seconds of re-offers.
kill -USR1 $HPID
fetchcount() { grep -c 'hostile: fetch' hostile.log; }
quiet() { a=$(fetchcount); sleep 2; [ "$a" = "$(fetchcount)" ]; }
wait_for 40 quiet
f1=$(fetchcount) s1=$(grep -c 'hostile: snapshot' hostile.log)
sleep 4
f2=$(fetchcount) s2=$(grep -c 'hostile: snapshot' hostile.log)
floods=$(grep -c 'flood: seq' hostile.log)
rows=$(q "SELECT count(*) FROM quarantine")
refusals=$(q "SELECT coalesce(sum(count), 0) FROM quarantine")
du1=$(du_kb town)
fd_deleted=$(deleted_files "$PID_town")
diag "flood: $floods manifests signed and announced, $f1 packs fetched (1 MB each), $((refusals - f2)) re-offers refused from memory"
diag "after the flood: $((s2 - s1)) snapshots of the last refused manifest in 4 s, $((f2 - f1)) fetches"
diag "quarantine: $rows row(s) holding $refusals refusal(s) (cap 1000 rows)"
diag "town home: $du0 KB before, $dumax KB at most during, $du1 KB after (bound: +8192 KB; without removal ~$f1 MB)"
diag "cases packs: $packs0 before, $packmax at most during, $(packs) after; deleted files still open: $fd_deleted"
diag "hello answered within 100 ms at $((probes - hello_fail)) of $probes probes"

check "the flood happened (over 40 manifests, over 20 packs fetched)" test "$floods" -gt 40 -a "$f1" -gt 20
check "a second client's hello is answered within 100 ms throughout" test "$hello_fail" = 0
check "each refused manifest is fetched at most once" test "$f1" -le "$floods"
check "the same refused manifest re-offered at each beacon is not fetched again" \
	test $((s2 - s1)) -ge 2 -a "$f2" = "$f1"
check "quarantine stays bounded: one row per kind of refusal, counting repeats" test "$rows" -le 3 -a "$refusals" -gt "$f2"
check "disk stays bounded: the home grew by less than 8 MB" test $((dumax - du0)) -lt 8192 -a $((du1 - du0)) -lt 8192
check "no refused pack is left in objects/pack" test "$(packs)" = "$packs0"
check "and none is held open by the daemon" test "$fd_deleted" -le 2
check "nothing was applied" sh -c "test \"\$(sqlite3 town/state.db \"SELECT seq FROM manifests WHERE publisher = '$FPR'\")\" = 1"
qlines=$(grep -c 'rejected (quarantined)' town.log)
diag "log: $qlines 'rejected (quarantined)' line(s) for $refusals refusals"
check "the log warns once per peer and publisher, not once per refusal" test "$qlines" -le 2 -a "$refusals" -gt 10
k --home town status >status.out
check "status shows the refusals counted" grep -q 'times, first' status.out

# The honest publisher comes back on the same endpoint with a new item.
kill $HPID 2>/dev/null; wait $HPID 2>/dev/null
mkdir -p more/cases
item 372081 after-flood 洪水の後の事例 >more/cases/after-flood.md
k --home pub publish more >/dev/null
serve pub $P $((P + 1))
check "the town still accepts the honest publisher afterwards" wait_for 30 k --home town show 372081/case/after-flood
check "and verify --full passes on the town" k --home town verify --full
check "the town daemon is still running" kill -0 "$PID_town"

#!/bin/sh
# t0084 - a town that fell behind catches up in one step: announcements of
# one publisher that wait for a replication worker are folded into the
# newest, so the town applies the newest manifest once instead of every seq
# it missed (the 500-town soak saw towns one seq per ~7 s behind, applying
# each in turn). The town is stopped (SIGSTOP) while the publisher
# publishes ten times; the announcements wait in its socket and all arrive
# at once when it goes on.
. "$(dirname "$0")/lib.sh"
plan 4
cd "$T"
P=$(port_base)
N=10

k --home pub init --name 三豊市 --lg-code 372081 >/dev/null
FPR=$(k --home pub id --fingerprint)
item 372081 first 最初の事例 >first.md
k --home pub publish first.md >/dev/null
serve pub $P $((P + 1))
k --home town init --name 西海市 --lg-code 422126 >/dev/null
sed -i "s/^web = .*/web = off/" town/config
k --home town follow tcp://127.0.0.1:$P --publisher "$FPR" >/dev/null
serve town $((P + 2)) $((P + 3))
check "the town replicates the first item" wait_for 10 k --home town show 372081/case/first
applied() { grep -c "publisher ${FPR%"${FPR#????????????????}"}…: seq .* verified and applied" town.log; }
a0=$(applied)

kill -STOP "$PID_town"
i=1
while [ $i -le $N ]; do
	item 372081 "n$i" "追いつく事例 第${i}号" >"n$i.md"
	k --home pub publish "n$i.md" >/dev/null
	i=$((i + 1))
done
seq_pub=$(sqlite3 pub/state.db "SELECT seq FROM manifests WHERE publisher = '$FPR'")
kill -CONT "$PID_town"
check "the town catches up to the last item" wait_for 20 k --home town show "372081/case/n$N"
check "the town holds the publisher's last seq ($seq_pub)" sh -c \
	"test \"\$(sqlite3 town/state.db \"SELECT seq FROM manifests WHERE publisher = '$FPR'\")\" = $seq_pub"
sleep 1
n=$(( $(applied) - a0 ))
diag "$N publications while stopped: the town applied $n manifest(s) to catch up (one per seq before: $N)"
check "announcements waiting for a worker are folded: at most 3 applies for $N seqs" test "$n" -le 3

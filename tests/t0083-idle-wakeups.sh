#!/bin/sh
# t0083 - an idle town costs (almost) nothing: a serving town that follows a
# publisher and has nothing to do wakes only for beacons (its own and its
# peer's), not on timers of every thread (the serve loop's tick, the ZAP
# handler's, each worker's). Counted as voluntary context switches of all
# its threads (/proc/PID/task/*/status) over 10 s, after the repos it
# opened for its first replication went idle (REPO_IDLE_MS, 30 s). And it
# still reacts at once: a new client's Hello (the ZAP handler asleep
# without a timeout), an announcement, SIGTERM.
. "$(dirname "$0")/lib.sh"
plan 5
cd "$T"
P=$(port_base)
# Generous for a loaded machine (this code: ~1.5 a second); the old code
# made 13-33 a second (a 1 s tick in every worker, 0.2 s in ZAP, 0.5 s in the loop).
BOUND=${IDLE_WAKEUPS_BOUND:-60}

# vcs PID: voluntary context switches of all its threads so far
vcs() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^voluntary_ctxt_switches:/ { s += $2 } END { print s + 0 }'; }
# per_thread PID: "tid name switches" per thread
per_thread() {
	for t in /proc/"$1"/task/*; do
		echo "${t##*/} $(cat "$t/comm" 2>/dev/null | tr ' ' _) $(awk '/^voluntary_ctxt_switches:/ { print $2 }' "$t/status" 2>/dev/null)"
	done
}
# ticks PID: CPU time (utime + stime) in clock ticks
ticks() { awk '{ print $14 + $15 }' /proc/"$1"/stat; }

k --home pub init --name 三豊市 --lg-code 372081 >/dev/null
FPR=$(k --home pub id --fingerprint)
item 372081 first 最初の事例 >first.md
k --home pub publish first.md >/dev/null
serve pub $P $((P + 1))
k --home town init --name 西海市 --lg-code 422126 >/dev/null
# the web pages have their own threads (node/web.c); this is about the node's
sed -i "s/^web = .*/web = off/" town/config
k --home town follow tcp://127.0.0.1:$P --publisher "$FPR" >/dev/null
serve town $((P + 2)) $((P + 3))
check "the town replicates the first item" wait_for 10 k --home town show 372081/case/first
TOWN=$PID_town

# Repos opened for that replication are closed 30 s after their last use;
# until then the threads holding them tidy once a second.
sleep "${IDLE_SETTLE:-33}"
per_thread $TOWN >pt0
v0=$(vcs $TOWN) c0=$(ticks $TOWN) t0=$(now_ms)
sleep 10
v1=$(vcs $TOWN) c1=$(ticks $TOWN) t1=$(now_ms)
per_thread $TOWN >pt1
hz=$(getconf CLK_TCK)
n=$((v1 - v0)) ms=$((t1 - t0))
diag "idle town: $n wakeups in $ms ms ($(awk "BEGIN { printf \"%.1f\", $n * 1000 / $ms }")/s), $(awk "BEGIN { printf \"%.2f\", ($c1 - $c0) * 100000 / $hz / $ms }")% of a core, $(ls /proc/$TOWN/task | wc -l) threads (bound $BOUND wakeups)"
diag "per thread (tid name switches): $(join pt0 pt1 2>/dev/null | awk '$5 - $3 > 0 { printf "%s %s %d; ", $1, $2, $5 - $3 }')"
check "an idle town wakes at most $BOUND times in 10 s ($n)" test "$n" -le "$BOUND"

# A second client's Hello: its CURVE handshake goes through the ZAP handler.
EP="tcp://127.0.0.1:$((P + 2))"
check "a new client's Hello is answered within 100 ms" hello_ok "$EP"

item 372081 second 二つ目の事例 >second.md
a0=$(now_ms)
k --home pub publish second.md >/dev/null
check "an announcement reaches the idle town within 3 s" wait_for 3 k --home town show 372081/case/second
diag "announcement to replica: $(( $(now_ms) - a0 )) ms"

s0=$(now_ms)
kill -TERM $TOWN
# gone or a zombie (this shell has not reaped it yet)
stopped() { ! kill -0 $TOWN 2>/dev/null || grep -q ') Z' /proc/$TOWN/stat 2>/dev/null; }
rc=none
if wait_for 5 stopped; then
	s1=$(now_ms)
	wait $TOWN
	rc=$?
else
	s1=$(now_ms)
fi
diag "SIGTERM to exit: $((s1 - s0)) ms (exit $rc)"
check "SIGTERM stops the idle town cleanly within 2 s" test "$rc" = 0 -a $((s1 - s0)) -le 2000

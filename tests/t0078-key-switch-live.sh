#!/bin/sh
# t0078 - a member's key rotation while its daemon runs: 丸亀市's node keeps
# serving; when the board's version rotating its key is applied on it, the
# daemon restarts itself in place (same PID, same endpoints), signs with the
# new key from then on, and a town that follows it as a daemon takes the
# continued seq and the next publication without anyone restarting
# anything. Real nodes, real sockets.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/boardlib.sh"
plan 11
cd "$T"
P=$(port_base)

fed_nodes kagawa takamatsu kanonji marugame mitoyo
OLD=$(k --home marugame id --fingerprint)
fed_members marugame mitoyo

item 372021 a 丸亀市の交換前の事例 >a.md
k --home marugame publish a.md -m before >/dev/null
serve marugame $(($P + 6)) $(($P + 7))
PID=$PID_marugame
k --home mitoyo join "tcp://127.0.0.1:$(($P + 6))" --federation "$FED" >/dev/null
serve mitoyo $(($P + 8)) $(($P + 9))
wait_for 20 found mitoyo 丸亀市の交換前の事例
S=$(seq_of mitoyo "$OLD")
diag "the old key's last seq at the town: $S"

fed_rotate marugame "$OLD"

# Applied on 丸亀市's node while its daemon runs.
t0=$(now_ms)
check "丸亀市 applies the rotation with its daemon running" k --home marugame federation apply v3.kfm
signs_new() { test "$(k --home marugame id --fingerprint)" = "$NEW" && test -S marugame/control.sock; }
check "the node signs as the new key without being restarted by hand" wait_for 15 signs_new
diag "switched $(( $(now_ms) - t0 )) ms after the apply"
check "the daemon is the same process (PID $PID)" sh -c "kill -0 $PID && tr '\\0' ' ' </proc/$PID/cmdline | grep -q 'marugame serve'"
check "its log says it restarted itself for the new key" grep -q "restarting itself to sign with the new key" marugame.log
check "the seq continues under the new key" test "$(seq_of marugame "$NEW")" = $((S + 1))
# Commands run while it restarts (the checks above) may make the switch first: the
# daemon then takes the keys they made, never its stale old ones.
check "the restarted daemon listens as the new key" wait_for 10 grep -q "$(echo "$NEW" | cut -c1-16)…): listening" marugame.log

# The town learns version 3 (from the file: its only peer is the node whose transport key changed).
k --home mitoyo federation apply v3.kfm >/dev/null
check "the town daemon takes the new key's first manifest: seq $((S + 1))" \
	wait_for 30 sh -c "test \"\$(sqlite3 mitoyo/state.db \"SELECT seq FROM manifests WHERE publisher = '$NEW'\")\" = $((S + 1))"
item 372021 b 丸亀市の交換後の事例 >b.md
check "丸亀市 publishes through its running daemon under the new key" k --home marugame publish b.md -m after
check "the town daemon takes it" wait_for 30 found mitoyo 丸亀市の交換後の事例
check "at seq $((S + 2))" test "$(seq_of mitoyo "$NEW")" = $((S + 2))
check "and 丸亀市's daemon is still PID $PID" kill -0 "$PID"

#!/bin/sh
# t0009 - search across peers: three nodes answer from their own indexes,
# one is stopped; results come from the live ones, the stopped one is
# reported, and hits held locally and remotely are merged.
. "$(dirname "$0")/lib.sh"
plan 9
cd "$T"
P=$(port_base)

n=0
for code in 372081 141500 442020; do
	k --home n$code init --name "団体$code" --lg-code $code >/dev/null
	k --home n$code publish "$SRC/deploy/samples/$code" >/dev/null
	serve n$code $((P + 2 * n)) $((P + 2 * n + 1))
	n=$((n + 1))
done
k --home town init --name 西海市 --lg-code 422126 >/dev/null
n=0
for code in 372081 141500 442020; do
	k --home town follow tcp://127.0.0.1:$((P + 2 * n)) --publisher "$(k --home n$code id --fingerprint)" >/dev/null
	n=$((n + 1))
done

k --home town search --remote ごみ >r1.out
check "a remote hit is found on the peer that holds it" grep -q '372081/case/gomi-chatbot-poc' r1.out
check "and says which publisher to follow to get it" grep -q "kairan follow tcp://127.0.0.1:$P --publisher" r1.out
check "all three peers answered" grep -q 'this node and 3 of 3 peer(s) answered' r1.out

kill $PID_n442020; wait $PID_n442020 2>/dev/null
t0=$(now_ms)
k --home town search --remote --deadline 500 議会答弁 >r2.out; rc=$?
t1=$(now_ms)
check "with one peer stopped the search still succeeds" test $rc = 0
check "results come from the live peers" grep -q '141500/case/gikai-toben-cotomi' r2.out
check "the stopped peer is reported" grep -q "tcp://127.0.0.1:$((P + 4)).*did not answer" r2.out
check "a dead peer costs only the deadline ($((t1 - t0)) ms)" test $((t1 - t0)) -lt 1500

# Held here and on a peer: one hit, from both.
k --home town sync --timeout 5 >/dev/null 2>&1
k --home town search --remote --json ごみ >r3.json
check "a hit held locally and remotely appears once" test "$(grep -o '"id":"372081/case/gomi-chatbot-poc"' r3.json | wc -l)" = 1
check "and names both sources" grep -q '"sources":"this node, 団体372081"' r3.json

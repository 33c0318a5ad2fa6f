#!/bin/sh
# t0002 - hub -> town, catch-up, relay (hub -> relay -> town), sync exit codes
. "$(dirname "$0")/lib.sh"
plan 14
cd "$T"
P=$(port_base)

k --home pub init --name 三豊市 --lg-code 372081 >/dev/null
FPR=$(k --home pub id --fingerprint)
item 372081 first 最初の事例 >first.md
k --home pub publish first.md >/dev/null
serve pub $P $((P + 1))

# A town that serves, following the publisher directly.
k --home town init --name 西海市 --lg-code 422126 >/dev/null
k --home town follow tcp://127.0.0.1:$P --publisher "$FPR" >/dev/null
serve town $((P + 2)) $((P + 3))
check "town gets the first item" wait_for 5 k --home town show 372081/case/first

item 372081 second 二つ目の事例 >second.md
t0=$(now_ms)
k --home pub publish second.md >/dev/null
wait_for 5 k --home town show 372081/case/second; t1=$(now_ms)
check "a published item is verified on the serving town within 2 s ($((t1 - t0)) ms)" test $((t1 - t0)) -lt 2000

# Five publications while a second town is down, then it catches up.
for i in 1 2 3 4 5; do item 372081 batch-$i "まとめて公開 $i" >b$i.md; k --home pub publish b$i.md >/dev/null; done
k --home late init --name 別府市 --lg-code 442020 >/dev/null
k --home late follow tcp://127.0.0.1:$P --publisher "$FPR" >/dev/null
serve late $((P + 4)) $((P + 5))
check "a town started after five publications catches up" wait_for 5 k --home late show 372081/case/batch-5
check "its replica has every commit" test "$(git -C late/repos/$FPR/cases.git rev-list --count main)" = 7

# Relay: a hub that mirrors, and a town that pins only the original publisher.
k --home hub init --name 香川県 --lg-code 370002 >/dev/null
k --home hub follow tcp://127.0.0.1:$P --publisher "$FPR" >/dev/null
serve hub $((P + 6)) $((P + 7))
k --home far init --name おいらせ町 --lg-code 024121 >/dev/null
k --home far follow tcp://127.0.0.1:$((P + 6)) --publisher "$FPR" >/dev/null
serve far $((P + 8)) $((P + 9))
check "hub -> relay -> town: the far town has the publisher's items" wait_for 5 k --home far show 372081/case/batch-5
item 372081 relayed 中継された事例 >relayed.md
k --home pub publish relayed.md >/dev/null
check "a new item reaches the far town through the relay" wait_for 5 k --home far show 372081/case/relayed
k --home far status --json >far.json
check "status names the relay as where it came from and seq 8" sh -c "grep -q 'tcp://127.0.0.1:$((P + 6))' far.json && grep -q '\"seq\":8' far.json"
check "the far town's manifest is the publisher's, byte for byte" test \
	"$(sqlite3 far/state.db "SELECT hex(signed) FROM manifests WHERE publisher='$FPR'")" = \
	"$(sqlite3 pub/state.db "SELECT hex(signed) FROM manifests WHERE publisher='$FPR'")"
k --home far allowed-signers >signers
check "stock git verifies the far town's replica" git -C far/repos/$FPR/cases.git \
	-c gpg.format=ssh -c gpg.ssh.allowedSignersFile=$T/signers verify-commit main
check "kairan verify passes on the far town" k --home far verify

# One-shot sync.
k --home once init --name 戸田市 --lg-code 112241 >/dev/null
k --home once follow tcp://127.0.0.1:$((P + 6)) --publisher "$FPR" >/dev/null
check "sync catches up without a daemon" k --home once sync --timeout 5
check "and has the latest item" k --home once show 372081/case/relayed
k --home once follow tcp://127.0.0.1:$((P + 40)) --publisher "$FPR" >/dev/null
check_fails "sync exits non-zero when a peer is unreachable" k --home once sync --timeout 1
k --home once peers >peers.out
check "peers shows the unreachable peer's error" grep -q 'did not answer' peers.out

#!/bin/sh
# t0004 - kill -9 the subscriber at random points during fetch and apply
# until 20 syncs died mid-way (at most 60 rounds); after restarting it
# converges, git fsck is clean and kairan verify passes.
. "$(dirname "$0")/lib.sh"
KILLS=20
plan 6
cd "$T"
P=$(port_base)

k --home pub init --name 三豊市 --lg-code 372081 >/dev/null
FPR=$(k --home pub id --fingerprint)
batch() { # batch N: N new items of about 4 KB
	mkdir -p b$1
	i=0
	while [ $i -lt $2 ]; do
		{ item 372081 "r$1-$i" "実証 $1-$i"; yes 'ごみ出し案内の回答精度を確かめるため、品目ごとに質問を用意して試した。' | head -40; } >b$1/x$i.md
		i=$((i + 1))
	done
	k --home pub publish b$1 >/dev/null
}
batch 0 200
serve pub $P $((P + 1))
k --home town init --name 西海市 --lg-code 422126 >/dev/null
k --home town follow tcp://127.0.0.1:$P --publisher "$FPR" >/dev/null

# Calibrate: the fastest of three uninterrupted syncs of a batch.
D=999999
for c in 97 98 99; do
	batch $c 300
	t0=$(now_ms)
	k --home town sync --timeout 10 >/dev/null 2>&1
	d=$(( $(now_ms) - t0 ))
	[ $d -lt $D ] && D=$d
done
D=$(( D * 3 / 4 ))
diag "kills land at random points within the first $D ms of a sync of a 300-item batch"
killed=0
r=1
while [ $killed -lt $KILLS ] && [ $r -le 60 ]; do
	batch $r 300
	"$KAIRAN" --home town sync --timeout 10 >/dev/null 2>&1 &
	pid=$!
	sleep "$(awk "BEGIN { print $(shuf -i 1-$D -n 1) / 1000 }")"
	if kill -9 $pid 2>/dev/null; then killed=$((killed + 1)); fi
	wait $pid 2>/dev/null
	r=$((r + 1))
done
r=$((r - 1))
diag "killed $killed of $r syncs mid-way"
check "$KILLS syncs were killed mid-way" test $killed -ge $KILLS
check "after restarting, sync converges" wait_for 15 k --home town sync --timeout 10
check "the town has the last item" k --home town show "372081/case/r$r-299"
check "the replica's head is the publisher's" test \
	"$(git -C town/repos/$FPR/cases.git rev-parse main)" = "$(git -C pub/repos/$FPR/cases.git rev-parse main)"
check "git fsck --full is clean" git -C town/repos/$FPR/cases.git fsck --full --no-dangling
check "kairan verify passes" k --home town verify

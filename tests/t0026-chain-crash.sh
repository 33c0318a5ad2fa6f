#!/bin/sh
# t0026 - kill -9 while the membership chain grows (DESIGN §6: a restart, a
# crash mid-apply or a copy of the home keeps the chain consistent). Twenty
# rounds: `federation apply` killed at a random moment, and a daemon killed
# at a random moment while it receives the new version from its peer. After
# each kill the chain on disk is a valid prefix of the board's chain, byte
# for byte, never a mix, and the node opens it and catches up.
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-20}
plan $((ROUNDS * 3 + 3))
cd "$T"
P=$(port_base)

mk() {
	k --home "$1" init --name "$2" --lg-code "$3" >/dev/null
	sed -i -e "s|^listen = .*|listen = tcp://127.0.0.1:$(($P + $4))|" \
		-e "s|^announce = .*|announce = tcp://127.0.0.1:$(($P + $4 + 1))|" \
		-e "s|^web = .*|web = off|" -e "s|^beacon_ms = .*|beacon_ms = 300|" "$1/config"
	k --home "$1" id --json >"$1.json"
}
ms() { awk -v m="$1" 'BEGIN { srand(); printf "%.3f\n", (rand() * m) / 1000 }'; }
# prefix HOME: the chain files of HOME are versions 1..n of the board's (ver/,
# the files as signed), byte for byte; prints n
prefix() {
	python3 - "$1" ver <<'PY' || return 1
import os, re, sys
home, ref = sys.argv[1], sys.argv[2]
d = os.path.join(home, 'federation', 'chain')
names = sorted(f for f in os.listdir(d) if re.fullmatch(r'\d{6}\.kfm', f)) if os.path.isdir(d) else []
for i, f in enumerate(names, 1):
    if f != '%06d.kfm' % i:
        sys.exit('%s: %s where version %d was expected' % (home, f, i))
    if open(os.path.join(d, f), 'rb').read() != open(os.path.join(ref, f), 'rb').read():
        sys.exit('%s: %s differs from the board\'s' % (home, f))
print(len(names))
PY
}
shown() { "$KAIRAN" --home "$1" federation show --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])'; }

mk kagawa 香川県 370002 0
mk mitoyo 三豊市 372081 2
mk copy 高松市 372013 4
k --home kagawa federation create --name 香川県生成AI連携 --threshold 1 --board kagawa.json -o v1.kfm >/dev/null
k --home kagawa federation sign v1.kfm --yes >/dev/null
check "genesis applied" k --home kagawa federation apply v1.kfm
mkdir ver
cp v1.kfm ver/000001.kfm
FED=$(k --home kagawa federation show --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["federation"])')
# the town is not a member of this one-seat federation: the board's node admits it (DESIGN §6 transport)
k --home kagawa admit mitoyo.json >/dev/null
serve kagawa $P $(($P + 1))
check "a town joins" k --home mitoyo join "tcp://127.0.0.1:$P" --federation "$FED"
serve mitoyo $(($P + 2)) $(($P + 3))

# How long one apply takes here: the kill lands at a random moment within 1.5 times that.
k --home kagawa federation propose --renew -o probe.kfm >/dev/null
k --home kagawa federation sign probe.kfm --yes >/dev/null
rm -rf copy/federation; cp -r kagawa/federation copy/
t0=$(now_ms); k --home copy federation apply probe.kfm >/dev/null; APPLY_MS=$(( $(now_ms) - t0 ))
rm -f probe.kfm
killed_apply=0 killed_recv=0 apply_old=0 apply_new=0 recv_old=0 recv_new=0
for r in $(seq 1 $ROUNDS); do
	v=$((r + 1))
	k --home kagawa federation propose --renew -o v$v.kfm >/dev/null
	k --home kagawa federation sign v$v.kfm --yes >/dev/null
	cp v$v.kfm "ver/$(printf %06d $v).kfm"
	# 1. kill -9 during `federation apply` (on a copy of the board's home)
	rm -rf copy/federation
	cp -r kagawa/federation copy/
	"$KAIRAN" --home copy federation apply v$v.kfm >/dev/null 2>&1 &
	a=$!
	sleep "$(ms $((APPLY_MS * 3 / 2)))"
	kill -9 $a 2>/dev/null && killed_apply=$((killed_apply + 1))
	wait $a 2>/dev/null
	n=$(prefix copy) && s=$(shown copy) && [ "$n" -ge $((v - 1)) ] && [ "$n" -le $v ] && [ "$s" = "$n" ] &&
		if [ "$n" = $v ]; then apply_new=$((apply_new + 1)); else apply_old=$((apply_old + 1)); fi &&
		ok "round $r: apply killed: the chain is versions 1..$n, opened as $s" ||
		not_ok "round $r: apply killed: not a valid prefix (files $n, opened ${s:-?})"
	# 2. kill -9 the town's daemon while the new version reaches it
	k --home kagawa federation apply v$v.kfm >/dev/null
	sleep "$(ms 300)"
	kill -9 "$PID_mitoyo" 2>/dev/null && killed_recv=$((killed_recv + 1))
	wait "$PID_mitoyo" 2>/dev/null
	n=$(prefix mitoyo) && s=$(shown mitoyo) && [ "$n" -ge $((v - 1)) ] && [ "$n" -le $v ] && [ "$s" = "$n" ] &&
		if [ "$n" = $v ]; then recv_new=$((recv_new + 1)); else recv_old=$((recv_old + 1)); fi &&
		ok "round $r: receiver killed: the chain is versions 1..$n, opened as $s" ||
		not_ok "round $r: receiver killed: not a valid prefix (files $n, opened ${s:-?})"
	# 3. restarted, it catches up from its peer
	rm -f mitoyo/control.sock
	serve mitoyo $(($P + 2)) $(($P + 3))
	wait_for 15 sh -c "test \"\$(\"\$KAIRAN\" --home mitoyo federation show --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"version\"])')\" = $v" &&
		ok "round $r: restarted, the town catches up to version $v" || not_ok "round $r: restarted, the town catches up to version $v"
done
diag "one apply takes $APPLY_MS ms here; kill -9 hit a running apply in $killed_apply of $ROUNDS rounds: $apply_old left the old version, $apply_new the new one"
diag "kill -9 of the receiving daemon in $killed_recv rounds: $recv_old before it installed the new version, $recv_new after"
check "no version was ever set aside as refused" sh -c "! ls mitoyo/federation/chain copy/federation/chain | grep -q refused"

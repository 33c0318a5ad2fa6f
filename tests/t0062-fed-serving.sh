#!/bin/sh
# t0062 - a federation's nodes keep serving when one peer does not answer
# or one client asks for a lot (DESIGN §6, §5):
#  1. a hub replicates its members in parallel: with one member's endpoint
#     dead (it accepts TCP and never speaks) and two alive, a live member's
#     new item reaches the hub in well under the dead peer's timeout_ms;
#  2. Membership requests are answered off the serve loop: while clients
#     keep asking a node for its whole 1,000-version chain, a second
#     client's Hello is answered within 100 ms.
# Real nodes, real sockets on 127.0.0.1.
. "$(dirname "$0")/lib.sh"
plan 7
cd "$T"
P=$(port_base)
TIMEOUT_MS=12000

mk() {
	k --home "$1" init --name "$2" --lg-code "$3" >/dev/null
	sed -i -e "s|^listen = .*|listen = tcp://127.0.0.1:$(($P + $4))|" \
		-e "s|^announce = .*|announce = tcp://127.0.0.1:$(($P + $4 + 1))|" \
		-e "s|^web = .*|web = off|" -e "s|^beacon_ms = .*|beacon_ms = 300|" \
		-e "s|^timeout_ms = .*|timeout_ms = $TIMEOUT_MS|" "$1/config"
	k --home "$1" id --json >"$1.json"
}
found() { k --home "$1" search "$2" --json | grep -q "\"title\":\"$2\""; }
pub() { # pub HOME SLUG TITLE
	lg=$(sed -n 's/^lg_code = //p' "$1/config")
	item "$lg" "$2" "$3" >"$1-$2.md"
	k --home "$1" publish "$1-$2.md" -m "$3" >/dev/null
}

# ---- 1. the hub: one dead member, two live ones
mk kagawa 香川県 370002 0
mk hub 丸亀市 372021 2
mk takamatsu 高松市 372013 4
mk sanuki さぬき市 372064 6
mk dead 坂出市 372030 8
k --home kagawa federation create --name 香川県生成AI連携 --threshold 1 --board kagawa.json -o g.kfm >/dev/null
k --home kagawa federation sign g.kfm --yes >/dev/null
k --home kagawa federation apply g.kfm >/dev/null
k --home kagawa federation propose --add-member hub.json --role hub --add-member takamatsu.json \
	--add-member sanuki.json --add-member dead.json -o v2.kfm >/dev/null
k --home kagawa federation sign v2.kfm --yes >/dev/null
k --home kagawa federation apply v2.kfm >/dev/null
for n in hub takamatsu sanuki; do for v in g v2; do k --home $n federation apply $v.kfm >/dev/null; done; done
pub takamatsu t1 高松市の最初の事例
pub sanuki s1 さぬき市の最初の事例
# 坂出市's endpoint takes TCP connections and never says a word
"$TOOLS/flood" "tcp://127.0.0.1:$(($P + 8))" --mode silent --seconds 80 >/dev/null 2>&1 &
_pids="$_pids $!"
serve kagawa $P $(($P + 1))
serve takamatsu $(($P + 4)) $(($P + 5))
serve sanuki $(($P + 6)) $(($P + 7))
serve hub $(($P + 2)) $(($P + 3))
check "the hub takes both live members' items despite the dead one" \
	wait_for 40 sh -c "\"\$KAIRAN\" --home hub search 高松市の最初の事例 --json | grep -q 高松市の最初の事例 &&
		\"\$KAIRAN\" --home hub search さぬき市の最初の事例 --json | grep -q さぬき市の最初の事例"
for round in 1 2; do
	t0=$(now_ms)
	pub takamatsu t2-$round "高松市の新しい事例$round"
	wait_for 30 found hub "高松市の新しい事例$round"
	dt=$(( $(now_ms) - t0 ))
	diag "round $round: a live member's new item reached the hub in $dt ms (the dead peer's timeout_ms: $TIMEOUT_MS ms)"
	check "round $round: in well under the dead peer's timeout ($dt ms < $((TIMEOUT_MS / 2)) ms)" test "$dt" -lt $((TIMEOUT_MS / 2))
done
check "the hub reports the dead member, not silent" sh -c "\"\$KAIRAN\" --home hub peers | grep -q '127.0.0.1:$(($P + 8))'"

# ---- 2. a 1,000-version chain asked for again and again
k --home chain init --name 香川県 --lg-code 370002 >/dev/null
sed -i -e "s|^listen = .*|listen = tcp://127.0.0.1:$(($P + 20))|" -e "s|^announce = .*|announce = tcp://127.0.0.1:$(($P + 21))|" \
	-e "s|^web = .*|web = off|" chain/config
"$TOOLS/fedgen" chain 1000
FED=$(k --home chain federation show --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["federation"])')
k --home client init --name 三豊市 --lg-code 372081 >/dev/null
k --home client id --json >client.json
k --home chain admit client.json >/dev/null
serve chain $(($P + 20)) $(($P + 21))
EP=tcp://127.0.0.1:$(($P + 20))
export KAIRAN_TOOL_HOME=client
check "the chain node answers a Hello when idle" "$TOOLS/probe" hello "$EP" --count 5 --within 100
diag "idle: $(cat "$T/last.out")"
"$TOOLS/flood" "$EP" --mode membership --federation "$FED" --seconds 8 --conns 4 --inflight 2 >flood.out 2>&1 &
FLOOD=$!
sleep 2
check "while 4 clients fetch the whole chain, a second client's Hello is answered within 100 ms" \
	"$TOOLS/probe" hello "$EP" --count 5 --within 100
diag "during: $(cat "$T/last.out")"
wait $FLOOD
diag "$(cat flood.out)"
check "the chain requests were answered" sh -c "grep -q 'answered=[1-9]' flood.out && grep -q 'errors=0' flood.out"
unset KAIRAN_TOOL_HOME

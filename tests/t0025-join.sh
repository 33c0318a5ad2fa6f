#!/bin/sh
# t0025 - a federation at work (DESIGN §6): a 3-member board (2 of 3), a hub
# and two towns. The board creates and signs; the hub and the towns join by
# the federation id alone; a member added later reaches both towns with no
# fingerprint typed; a compromised and a retired key have their effect on
# view and search; a wrong id or a broken chain is refused and changes
# nothing. Real nodes, real sockets on 127.0.0.1.
. "$(dirname "$0")/lib.sh"
plan 29
cd "$T"
P=$(port_base)

# name lg_code port-offset
mk() {
	k --home "$1" init --name "$2" --lg-code "$3" >/dev/null
	sed -i -e "s|^listen = .*|listen = tcp://127.0.0.1:$(($P + $4))|" \
		-e "s|^announce = .*|announce = tcp://127.0.0.1:$(($P + $4 + 1))|" \
		-e "s|^web = .*|web = off|" -e "s|^beacon_ms = .*|beacon_ms = 300|" "$1/config"
	k --home "$1" id --json >"$1.json"
}
ep() { echo "tcp://127.0.0.1:$(($P + $1))"; }
start() { serve "$1" $(($P + $2)) $(($P + $2 + 1)); }
fpr() { k --home "$1" id --fingerprint; }
pub() { # pub HOME SLUG TITLE
	lg=$(sed -n 's/^lg_code = //p' "$1/config")
	item "$lg" "$2" "$3" >"$1-$2.md"
	k --home "$1" publish "$1-$2.md" -m "$3" >/dev/null
}
found() { k --home "$1" search "$2" --json | grep -q "\"title\":\"$2\""; }
grep_out() { pat=$1; shift; "$@" | grep -q -- "$pat"; }
not() { ! "$@"; }
chain() { find "$1/federation" -type f 2>/dev/null | sort | xargs -r sha256sum; }

mk kagawa 香川県 370002 0
mk takamatsu 高松市 372013 2
mk kanonji 観音寺市 372056 4
mk marugame 丸亀市 372021 6
mk sakaide 坂出市 372030 8
mk sanuki さぬき市 372064 10
mk mitoyo 三豊市 372081 12
mk zentsuji 善通寺市 372048 14

# The ceremony: genesis by three board members, signed by two of them.
k --home kagawa federation create --name 香川県生成AI連携 --threshold 2 \
	--board kagawa.json --board takamatsu.json --board kanonji.json -o g.kfm >/dev/null
k --home kagawa federation sign g.kfm --yes >/dev/null
k --home takamatsu federation sign g.kfm --yes >/dev/null
check "board: genesis applied with 2 of 3 signatures" k --home kagawa federation apply g.kfm
board_apply() { for b in takamatsu kanonji; do k --home $b federation apply "$1" >/dev/null; done; }
board_apply g.kfm
FED=$(k --home kagawa federation show --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["federation"])')
# Version 2: a hub, a member and the two towns (the board adds a town, then it joins;
# the transport admits members only, DESIGN §6).
k --home kagawa federation propose --add-member marugame.json --role hub --add-member sanuki.json \
	--add-member mitoyo.json --add-member zentsuji.json -o v2.kfm >/dev/null
k --home kanonji federation sign v2.kfm --yes >/dev/null
k --home kagawa federation sign v2.kfm --yes >/dev/null
check "board: version 2 (a hub, a member, two towns) applied" k --home kagawa federation apply v2.kfm
board_apply v2.kfm
pub kagawa guide1 香川県の生成AI利用指針
pub sanuki case1 さぬき市の議事録要約
start kagawa 0
start takamatsu 2
start kanonji 4
start sanuki 10

# Joining: refusals first, each changing nothing.
before=$(chain mitoyo; sqlite3 mitoyo/state.db 'SELECT * FROM peers')
WRONG=$(echo "$FED" | tr 0-9a-f 1-9a-f0 | cut -c1-64)
check_fails "join with a wrong federation id is refused" k --home mitoyo join "$(ep 0)" --federation "$WRONG"
grep -q 'does not hold federation' "$T/last.out" && ok "and says why" || { not_ok "and says why"; sed 's/^/# /' "$T/last.out"; }
check "and nothing changed" test "$before" = "$(chain mitoyo; sqlite3 mitoyo/state.db 'SELECT * FROM peers')"

# A node that serves a broken chain (version 2 signed by one board member only).
mk liar 東かがわ市 372072 16
cp -r kagawa/federation liar/federation
k --home kagawa federation propose --add-member sakaide.json -o bad3.kfm >/dev/null
k --home kagawa federation sign bad3.kfm --yes >/dev/null
cp bad3.kfm liar/federation/chain/000003.kfm
python3 - liar/federation/verified <<'PY'
import sys, hashlib
p = sys.argv[1]
v, h, fid = open(p).read().split()
d = open(p.replace('verified', 'chain/000003.kfm'), 'rb').read()
open(p, 'w').write('3 %s %s\n' % (hashlib.sha256(d).hexdigest(), fid))
PY
start liar 16
check_fails "join through a node serving a chain that breaks the rule is refused" \
	k --home mitoyo join "$(ep 16)" --federation "$FED"
grep -q 'refused.*1 of 2' "$T/last.out" && ok "and names the missing signatures" || { not_ok "and names the missing signatures"; sed 's/^/# /' "$T/last.out"; }
check "and nothing changed" test "$before" = "$(chain mitoyo; sqlite3 mitoyo/state.db 'SELECT * FROM peers')"

# The hub joins through a board node, then serves every member.
check "hub: joins by the federation id" k --home marugame join "$(ep 0)" --federation "$FED"
check "hub: follows every member at its endpoint" grep_out "$(ep 10)" k --home marugame peers
start marugame 6
t0=$(now_ms)
check "towns: 三豊市 joins through the hub" k --home mitoyo join "$(ep 6)" --federation "$FED"
check "towns: 善通寺市 joins through the hub, Kagawa only" k --home zentsuji join "$(ep 6)" --federation "$FED" --pref 37
start mitoyo 12
start zentsuji 14
wait_for 20 found mitoyo さぬき市の議事録要約 && ok "a member's item reaches 三豊市 with no fingerprint typed" || not_ok "a member's item reaches 三豊市 with no fingerprint typed"
wait_for 20 found zentsuji 香川県の生成AI利用指針 && ok "a board member's item reaches 善通寺市" || not_ok "a board member's item reaches 善通寺市"
diag "join to both towns holding the items: $(( $(now_ms) - t0 )) ms"
check "no follow was typed in the towns" test -z "$(sqlite3 mitoyo/state.db 'SELECT * FROM follows')$(sqlite3 zentsuji/state.db 'SELECT * FROM follows')"
check "peers shows the federation" grep_out '香川県生成AI連携' k --home mitoyo peers
check "status shows the federation, version and freshness" grep_out 'federation 香川県生成AI連携 version 2, current until' k --home mitoyo status

# Version 3 adds 坂出市; its publications reach both towns through the hub.
start sakaide 8
pub sakaide case1 坂出市の窓口案内
k --home kagawa federation propose --add-member sakaide.json -o v3.kfm >/dev/null
k --home kagawa federation sign v3.kfm --yes >/dev/null
k --home takamatsu federation sign v3.kfm --yes >/dev/null
t0=$(now_ms)
check "board: version 3 (坂出市 added) applied and announced" k --home kagawa federation apply v3.kfm
board_apply v3.kfm
wait_for 30 found mitoyo 坂出市の窓口案内 && ok "the new member's item reaches 三豊市" || not_ok "the new member's item reaches 三豊市"
wait_for 30 found zentsuji 坂出市の窓口案内 && ok "and 善通寺市" || not_ok "and 善通寺市"
diag "version 3 applied to the new member's item in both towns: $(( $(now_ms) - t0 )) ms"
check "the towns hold version 3" grep_out '"version":3' k --home mitoyo federation show --json

# Version 4: さぬき市 retired; 坂出市 compromised since a moment ago. 坂出市's key
# publishes after that moment: what the towns receive after it leaves the view.
SINCE=$(date +%s)
sleep 1
pub sakaide case2 坂出市の偽の案内
wait_for 30 found mitoyo 坂出市の偽の案内 && ok "the item published after the compromise arrives first" || not_ok "the item published after the compromise arrives first"
KAIRAN_NOW=$SINCE k --home kagawa federation propose --revoke "$(fpr sakaide)" --reason compromised \
	--revoke "$(fpr sanuki)" --reason retired -o v4.kfm >/dev/null
k --home kagawa federation sign v4.kfm --yes >/dev/null
k --home kanonji federation sign v4.kfm --yes >/dev/null
check "board: version 4 (one compromised, one retired) applied" k --home kagawa federation apply v4.kfm
wait_for 30 not found mitoyo 坂出市の偽の案内 &&
	ok "the compromised key's item received after since leaves search" || not_ok "the compromised key's item received after since leaves search"
check "its item received before since stays (the view goes back to that state)" found mitoyo 坂出市の窓口案内
hub_view() { found marugame 坂出市の窓口案内 && not found marugame 坂出市の偽の案内; }
check "the same on the hub" hub_view
check "a retired member's earlier item stays" found mitoyo さぬき市の議事録要約
pub sanuki case2 さぬき市の引退後の案内
wait_for 10 grep_out 'was retired on' k --home marugame status &&
	ok "the hub refuses the retired key's new manifest and says why" || { not_ok "the hub refuses the retired key's new manifest and says why"; k --home marugame status | sed 's/^/# /'; }
k --home mitoyo sync --timeout 5 >/dev/null 2>&1
check_fails "a retired key publishes nothing new" found mitoyo さぬき市の引退後の案内

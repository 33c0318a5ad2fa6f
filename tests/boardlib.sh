# tests/boardlib.sh - a federation at work for t0055-t0057, t0064, t0065: a
# 2-of-3 board (香川県 as the hub, 高松市, 観音寺市) and three towns (三豊市,
# 丸亀市, 坂出市), all real nodes on 127.0.0.1. The hub follows every node;
# every node follows every other publisher through the hub (DESIGN §5 relay).
# Source after lib.sh, then call board_setup. Also the fixtures several
# federation tests share (t0027, t0045, t0061, t0064, t0065, t0077-t0079).
NODES="kagawa takamatsu kanonji mitoyo marugame sakaide"

board_setup() {
	P=$(port_base)
	k --home kagawa init --name 香川県 --lg-code 370002 >/dev/null
	k --home takamatsu init --name 高松市 --lg-code 372013 >/dev/null
	k --home kanonji init --name 観音寺市 --lg-code 372056 >/dev/null
	k --home mitoyo init --name 三豊市 --lg-code 372081 >/dev/null
	k --home marugame init --name 丸亀市 --lg-code 372021 >/dev/null
	k --home sakaide init --name 坂出市 --lg-code 372030 >/dev/null
	for n in $NODES; do
		k --home $n id --json >$n.json
		eval "FPR_$n=$(k --home $n id --fingerprint)"
	done
	k --home kagawa federation create --name 香川県生成AI連携 --threshold 2 \
		--board kagawa.json --board takamatsu.json --board kanonji.json -o g.kfm >/dev/null
	k --home kagawa federation sign g.kfm --yes >/dev/null
	k --home takamatsu federation sign g.kfm --yes >/dev/null
	for n in $NODES; do k --home $n federation apply g.kfm >/dev/null; done
	# the towns are not members of this federation: the hub admits them (DESIGN §6 transport)
	for t in mitoyo marugame sakaide; do k --home kagawa admit $t.json >/dev/null; done
	i=0
	for n in $NODES; do
		# each node's pages on a port of its own (WEB_<node>), only on 127.0.0.1
		sed -i "s|^web = .*|web = http://127.0.0.1:$((P + 20 + i))|" $n/config
		eval "WEB_$n=http://127.0.0.1:$((P + 20 + i))"
		serve $n $((P + i)) $((P + i + 1))
		i=$((i + 2))
	done
	HUB=tcp://127.0.0.1:$P
	i=2
	for n in takamatsu kanonji mitoyo marugame sakaide; do
		k --home kagawa follow tcp://127.0.0.1:$((P + i)) --publisher "$(eval echo \$FPR_$n)" >/dev/null
		i=$((i + 2))
	done
	for n in takamatsu kanonji mitoyo marugame sakaide; do
		args=""
		for o in $NODES; do [ $o = $n ] || args="$args --publisher $(eval echo \$FPR_$o)"; done
		k --home $n follow $HUB $args >/dev/null
	done
}

# has HOME ID: the node holds the item (show succeeds)
has() { "$KAIRAN" --home "$1" show "$2" >/dev/null 2>&1; }
# shows HOME ID TEXT: kairan show ID prints TEXT (fixed string)
shows() { "$KAIRAN" --home "$1" show "$2" 2>&1 | grep -qF -- "$3"; }

# verify_all HOME COLLECTION: stock git verify-commit on every commit of
# every COLLECTION repo the node holds; prints the number verified, fails on any refusal.
verify_all() {
	"$KAIRAN" --home "$1" allowed-signers >"$T/signers.$1"
	n=0
	for r in "$1"/repos/*/"$2".git; do
		[ -d "$r" ] || continue
		for c in $(git -C "$r" rev-list main); do
			git -C "$r" -c gpg.format=ssh -c gpg.ssh.allowedSignersFile="$T/signers.$1" verify-commit "$c" \
				>/dev/null 2>&1 || { echo "refused: $r $c"; return 1; }
			n=$((n + 1))
		done
	done
	echo "$n"
	[ "$n" -gt 0 ]
}

# fed_node HOME NAME LGCODE N: a node listening on P+N and announcing on
# P+N+1 (P=$(port_base), set by the test), no web pages; its identity card
# in HOME.json. found HOME TITLE: a search on HOME finds the item titled
# TITLE; hits HOME TITLE: how many times.
fed_node() {
	k --home "$1" init --name "$2" --lg-code "$3" >/dev/null
	sed -i -e "s|^listen = .*|listen = tcp://127.0.0.1:$(($P + $4))|" \
		-e "s|^announce = .*|announce = tcp://127.0.0.1:$(($P + $4 + 1))|" \
		-e "s|^web = .*|web = off|" "$1/config"
	k --home "$1" id --json >"$1.json"
}
# fed_nodes HOME...: a fed_node for each of the homes kagawa (香川県), takamatsu,
# kanonji, marugame, mitoyo and sakaide named, on P+0, P+2, ... in the order given
fed_nodes() {
	_i=0
	for _h in "$@"; do
		case $_h in
		kagawa) fed_node kagawa 香川県 370002 $_i ;;
		takamatsu) fed_node takamatsu 高松市 372013 $_i ;;
		kanonji) fed_node kanonji 観音寺市 372056 $_i ;;
		marugame) fed_node marugame 丸亀市 372021 $_i ;;
		mitoyo) fed_node mitoyo 三豊市 372081 $_i ;;
		sakaide) fed_node sakaide 坂出市 372030 $_i ;;
		*) echo "fed_nodes: no municipality for home $_h" >&2; return 1 ;;
		esac
		_i=$((_i + 2))
	done
}
found() { k --home "$1" search "$2" --json | grep -q "\"title\":\"$2\""; }
hits() { k --home "$1" search "$2" --json | grep -o "\"title\":\"$2\"" | wc -l; }
# fed_id HOME: the id of the federation HOME holds
fed_id() { k --home "$1" federation show --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["federation"])'; }
# seq_of HOME PUBLISHER: the seq of PUBLISHER's manifest HOME holds (empty: none)
seq_of() { sqlite3 "$1/state.db" "SELECT seq FROM manifests WHERE publisher = '$2'"; }

# fed_rotate HOME OLD: HOME (a member whose key is OLD) makes its next key
# (new.json; NEW is its fingerprint); version 3 (v3.kfm) rotating OLD to it,
# signed by kagawa and takamatsu, is applied on kagawa
fed_rotate() {
	k --home "$1" key rotate -o new.json >/dev/null 2>&1
	NEW=$(python3 -c 'import json; print(json.load(open("new.json"))["fingerprint"])')
	k --home kagawa federation propose --rotate "$2" new.json -o v3.kfm >/dev/null
	k --home kagawa federation sign v3.kfm --yes >/dev/null
	k --home takamatsu federation sign v3.kfm --yes >/dev/null
	k --home kagawa federation apply v3.kfm >/dev/null
}

# fed_members MEMBER...: 香川県生成AI連携 (g.kfm) with the fed_node homes
# kagawa, takamatsu and kanonji as its 2-of-3 board; version 2 (v2.kfm)
# adds each MEMBER (a fed_node home); both versions are applied on the
# board and on the first MEMBER. FED is the federation's id.
fed_members() {
	k --home kagawa federation create --name 香川県生成AI連携 --threshold 2 \
		--board kagawa.json --board takamatsu.json --board kanonji.json -o g.kfm >/dev/null
	k --home kagawa federation sign g.kfm --yes >/dev/null
	k --home takamatsu federation sign g.kfm --yes >/dev/null
	for n in kagawa takamatsu kanonji "$1"; do k --home $n federation apply g.kfm >/dev/null; done
	_add=""
	for m in "$@"; do _add="$_add --add-member $m.json"; done
	k --home kagawa federation propose $_add -o v2.kfm >/dev/null
	k --home kanonji federation sign v2.kfm --yes >/dev/null
	k --home kagawa federation sign v2.kfm --yes >/dev/null
	for n in kagawa takamatsu kanonji "$1"; do k --home $n federation apply v2.kfm >/dev/null; done
	FED=$(fed_id kagawa)
}

# guideline_g1: g1.md, 三豊市's AI guideline 372081/guideline/ai-guideline 1.0.0
guideline_g1() {
	cat >g1.md <<'ITEM'
---
kind: guideline
id: 372081/guideline/ai-guideline
title: 三豊市生成AI利用ガイドライン
publisher: {lg_code: "372081", name: 三豊市}
version: 1.0.0
edition: 第1版
published: 2024-06-01
updated: 2024-07-01
license: PDL-1.0
confidentiality: 機密性1
domains: [庁内一般業務]
---
本文：生成AIの利用にあたり、機密性2以上の情報はプロンプトに入力しない。
ITEM
}

# qa_card: the card of 三豊市's dataset 372081/dataset/madoguchi-qa in
# ds/madoguchi-qa/README.md (the test writes its rows, data/qa.jsonl)
qa_card() {
	mkdir -p ds/madoguchi-qa/data
	cat >ds/madoguchi-qa/README.md <<'CARD'
---
kind: dataset
id: 372081/dataset/madoguchi-qa
title: 市民窓口 Q&A
publisher: {lg_code: "372081", name: 三豊市}
version: 1.0.0
published: 2024-06-01
updated: 2024-06-01
license: CC-BY-4.0
confidentiality: 機密性1
language: [ja]
domains: [住民窓口業務]
---
市民窓口でよくある質問と回答。
CARD
}

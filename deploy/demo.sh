#!/bin/sh
# deploy/demo.sh - `make demo`: a whole federation on one machine.
#
# Each node runs in its own network namespace (ip netns) with its own address
# on a bridge (krdemo0, 10.74.0.0/24; the host is 10.74.0.1, so a browser on
# this machine opens every node's pages):
#
#   board (2 of 3)  高松市 .11  丸亀市 .12  坂出市 .13
#   hub             香川県 .10 (relays every member's publications)
#   towns           三豊市 .21  観音寺市 .22  善通寺市 .23  琴平町 .24 (人口1万未満)
#
# It forms the federation with the real ceremony (create, sign on two board
# nodes, apply, add the members, join), publishes the samples, then tours:
# a town publishes a case, a second town finds it searching in Japanese, the
# board endorses it, a third town reports adopting it — printing the page of
# each step. Every step is checked; a step without its effect stops the demo
# with the reason. Namespaces, bridge and processes are removed on exit.
#
#   sh deploy/demo.sh KAIRAN [--no-wait]     (root; make demo runs it)
#
# --no-wait ends after the tour instead of serving until Ctrl-C (the test).
set -eu
K=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
WAIT=1
[ "${2:-}" = --no-wait ] && WAIT=0
SRC=$(cd "$(dirname "$0")" && pwd)
DIR=${KAIRAN_DEMO_DIR:-$PWD/var/demo}
NET=10.74.0
BR=krdemo0

say() { printf '%s\n' "$*"; }
step() { printf '\n== %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "make demo はノードごとにネットワーク名前空間を作るため root 権限が必要です（sudo make demo）。
demo: make demo needs root: it creates one network namespace per node."
command -v ip >/dev/null || die "ip コマンドがありません（apt-get install iproute2）。 / the ip command is missing (apt-get install iproute2)."
ip netns list 2>/dev/null | grep -q '^krdemo-' && die "前回のデモの名前空間が残っています。ip netns list で krdemo- を確かめ、ip netns del で消してください。 / namespaces krdemo-* from an earlier demo still exist."
ip link show $BR >/dev/null 2>&1 && die "ブリッジ $BR が既にあります（前回のデモが残っています）。ip link del $BR で消してください。 / bridge $BR exists."

# name lg_code role address
NODES="高松市:372013:board:11 丸亀市:372021:board:12 坂出市:372030:board:13 香川県:370002:hub:10
三豊市:372081:member:21 観音寺市:372056:member:22 善通寺市:372048:member:23 琴平町:374032:member:24"
field() { echo "$1" | cut -d: -f"$2"; }
node_of() { for n in $NODES; do [ "$(field "$n" 1)" = "$1" ] && { echo "$n"; return; }; done; die "no node $1"; }
addr() { echo "$NET.$(field "$(node_of "$1")" 4)"; }
ns() { echo "krdemo-$(field "$(node_of "$1")" 2)"; }
home() { echo "$DIR/$(field "$(node_of "$1")" 2)"; }
kn() { who=$1; shift; ip netns exec "$(ns "$who")" "$K" --home "$(home "$who")" "$@"; }
web() { echo "http://$(addr "$1"):7480$2"; }
# wait_for SECONDS COMMAND...: bounded polling
wait_for() { t=$(( $1 * 5 )); shift; while [ $t -gt 0 ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; t=$((t - 1)); done; return 1; }

pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for n in $NODES; do ip netns del "krdemo-$(field "$n" 2)" 2>/dev/null || true; done
	ip link del $BR 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "ネットワーク: ブリッジ $BR ($NET.1/24) と、ノードごとの名前空間"
ip link add $BR type bridge
ip addr add $NET.1/24 dev $BR
ip link set $BR up
for n in $NODES; do
	code=$(field "$n" 2); a=$NET.$(field "$n" 4)
	ip netns add "krdemo-$code"
	ip link add "kd$code" type veth peer name eth0 netns "krdemo-$code"
	ip link set "kd$code" master $BR up
	ip -n "krdemo-$code" addr add "$a/24" dev eth0
	ip -n "krdemo-$code" link set eth0 up
	ip -n "krdemo-$code" link set lo up
	say "  $(field "$n" 1)（$code, $(field "$n" 3)）: $a"
done

step "ノードの初期化（$DIR）"
rm -rf "$DIR"
mkdir -p "$DIR/cards"
for n in $NODES; do
	name=$(field "$n" 1); code=$(field "$n" 2); a=$NET.$(field "$n" 4)
	kn "$name" init --name "$name" --lg-code "$code" >/dev/null
	sed -i "s|^listen = .*|listen = tcp://$a:7420|; s|^announce = .*|announce = tcp://$a:7421|; s|^web = .*|web = http://$a:7480|; s|^beacon_ms = .*|beacon_ms = 500|" \
		"$(home "$name")/config"
	kn "$name" id --json >"$DIR/cards/$code.json"
	say "  $name: 鍵 $(kn "$name" id --fingerprint | cut -c1-16)…"
done

step "連携の設立: 理事会3名のうち2名の署名（federation create → sign ×2 → apply）"
C=$DIR/cards
kn 高松市 federation create --name 香川県生成AI連携 --threshold 2 \
	--board "$C/372013.json" --board "$C/372021.json" --board "$C/372030.json" -o "$DIR/v1.kfm" >/dev/null
kn 高松市 federation sign "$DIR/v1.kfm" --yes | sed 's/^/  /'
kn 丸亀市 federation sign "$DIR/v1.kfm" --yes >/dev/null
kn 高松市 federation apply "$DIR/v1.kfm" | sed 's/^/  /'
kn 丸亀市 federation apply "$DIR/v1.kfm" >/dev/null
kn 坂出市 federation apply "$DIR/v1.kfm" >/dev/null
FED=$(kn 高松市 federation show --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["federation"])')
say "  連携ID: $FED"

step "会員の追加: ハブ（香川県）と4つの市町（federation propose → sign ×2 → apply）"
kn 高松市 federation propose --add-member "$C/370002.json" --role hub \
	--add-member "$C/372081.json" --add-member "$C/372056.json" \
	--add-member "$C/372048.json" --add-member "$C/374032.json" -o "$DIR/v2.kfm" >/dev/null
kn 丸亀市 federation sign "$DIR/v2.kfm" --yes | sed 's/^/  /'
kn 坂出市 federation sign "$DIR/v2.kfm" --yes >/dev/null
for b in 高松市 丸亀市 坂出市; do kn $b federation apply "$DIR/v2.kfm" >/dev/null; done

step "各ノードの起動"
for n in $NODES; do
	name=$(field "$n" 1)
	ip netns exec "$(ns "$name")" "$K" --home "$(home "$name")" serve 2>>"$(home "$name").log" &
	pids="$pids $!"
done
for n in $NODES; do
	name=$(field "$n" 1)
	wait_for 10 kn "$name" status || die "$name のノードが起動しません（$(home "$name").log を見てください）"
done
say "  8ノードが起動しました。"

step "参加: ハブは理事会のノードから、市町はハブから、連携IDだけで（kairan join）"
kn 香川県 join "tcp://$(addr 高松市):7420" --federation "$FED" 2>>"$(home 香川県).log" | sed 's/^/  /'
for b in 高松市 丸亀市 坂出市; do
	kn "$b" join "tcp://$(addr 香川県):7420" --federation "$FED" >/dev/null 2>>"$(home "$b").log"
	say "  $b（理事会）: ハブ経由で全会員の公開を受け取ります"
done
for t in 三豊市 観音寺市 善通寺市 琴平町; do
	kn "$t" join "tcp://$(addr 香川県):7420" --federation "$FED" >/dev/null 2>>"$(home "$t").log"
	say "  $t: 参加しました（公開鍵の指紋は一度も入力していません）"
done

step "見本の公開: 香川県（ひな型・データセット）と三豊市（事例・ガイドライン）"
kn 香川県 publish "$SRC/samples/370002" -m "見本" >/dev/null
kn 三豊市 publish "$SRC/samples/372081" -m "見本" >/dev/null
wait_for 60 kn 琴平町 show 370002/guideline/ai-guideline-template ||
	die "香川県のひな型が琴平町に届きません"
say "  琴平町に届きました: $(web 琴平町 /items/370002/guideline/ai-guideline-template)"

CASE=372081/case/gomi-chatbot-poc
step "1. 三豊市が事例を公開する"
kn 三豊市 show $CASE >/dev/null || die "三豊市に事例 $CASE がありません"
say "  三豊市の事例: $(web 三豊市 /items/$CASE)"

step "2. 琴平町（人口1万未満）の職員が「ごみ」で検索して見つける"
wait_for 60 sh -c "ip netns exec $(ns 琴平町) '$K' --home '$(home 琴平町)' search ごみ --kind case | grep -q '$CASE'" ||
	die "琴平町の検索「ごみ」（事例）に三豊市の事例が出ません"
kn 琴平町 search ごみ --kind case | sed 's/^/  /' | head -12
say "  検索ページ: $(web 琴平町 '/search?q=%E3%81%94%E3%81%BF&kind=case')"

step "3. 理事会が推奨する（高松市・丸亀市の2名 = しきい値）"
V=$(sed -n 's/^version: *//p' "$SRC/samples/372081/cases/gomi-chatbot-poc.md")
for b in 高松市 丸亀市; do
	wait_for 60 kn $b show $CASE || die "$b に三豊市の事例が届きません"
done
kn 高松市 endorse $CASE --version "$V" --verdict 推奨 -m "小規模自治体でも再現しやすい" >/dev/null
kn 丸亀市 endorse $CASE --version "$V" --verdict 推奨 -m "費用対効果の記録が丁寧" >/dev/null
wait_for 60 sh -c "ip netns exec $(ns 琴平町) '$K' --home '$(home 琴平町)' show $CASE | grep -q 'ボードの判定: 推奨'" ||
	die "琴平町で理事会の推奨（ボードの判定: 推奨）が見えません"
say "  琴平町から見た推奨: $(web 琴平町 /items/$CASE)"

step "4. 観音寺市が採用を報告する"
kn 観音寺市 adopt $CASE --version "$V" --status 採用 -m "問合せの多い分別区分から試行" >/dev/null
wait_for 60 sh -c "ip netns exec $(ns 三豊市) '$K' --home '$(home 三豊市)' status | grep -q '採用 1、'" ||
	die "三豊市の status に観音寺市の採用報告が出ません"
kn 琴平町 show $CASE | grep -E 'ボードの判定|利用報告' | sed 's/^/  /'
kn 三豊市 status | grep -E '採用' | sed 's/^/  /'
say "  三豊市から見た利用報告: $(web 三豊市 /items/$CASE)"

step "デモの全段階を確認しました"
say "  連携の会員と理事会: $(web 琴平町 /federation)"
if [ $WAIT = 1 ]; then
	say "  各ノードはこのまま動いています。ブラウザで上のURLを開いてください。Ctrl-C で終了し、名前空間を片付けます。"
	wait
fi

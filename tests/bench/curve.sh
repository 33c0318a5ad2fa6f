#!/bin/sh
# tests/bench/curve.sh - `make bench`, transport section: one hub (a kairan
# node), N subscribers (default 500) over CURVE, one new item, time until all
# N verified it; then the same run in plain TCP (transport = plain), same
# machine, same run. The subscribers are real sockets in one process
# (benchsub curvefan: each its own CURVE key, SUB + DEALER to the hub; each
# checks the signed manifest, fetches the pack and checks its trailer), not
# N kairan processes: 500 of those do not fit beside the hub here.
set -eu
: "${KAIRAN:?run through make bench}" "${TOOLS:?run through make bench}"
K=$KAIRAN
B=$(mktemp -d /tmp/kairan-bench-curve.XXXXXX)
P=${BENCH_CURVE_PORT:-33000}
N=${BENCH_CURVE_SUBSCRIBERS:-500}
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$B"; }
trap cleanup EXIT INT TERM
cd "$B"
item() { # item SLUG
	printf -- '---\nkind: case\nid: 372081/case/%s\ntitle: 配信測定 %s\npublisher: {lg_code: "372081", name: 測定}\nversion: 1.0.0\npublished: 2024-06-01\nupdated: 2024-06-01\nlicense: PDL-1.0\nconfidentiality: 機密性1\ndomains: [住民問合せ対応]\nai_uses: [対話生成]\nsources: [{title: 測定用, issuer: 測定}]\n---\n' "$1" "$1"
	yes "住民からの問合せに生成AIで回答案を作り、職員が確認してから返信した。$1" | head -c 4000
	echo
}
"$K" --home pub init --name 三豊市 --lg-code 372081 >/dev/null
"$K" --home hub init --name 香川県 --lg-code 370002 >/dev/null
sed -i 's|^web = .*|web = off|' pub/config hub/config   # init writes a web line; a second one is refused
FPR=$("$K" --home pub id --fingerprint)
item seed >seed.md
"$K" --home pub publish seed.md >/dev/null
"$K" --home hub follow tcp://127.0.0.1:$P --publisher "$FPR" >/dev/null

run() { # run curve|plain: prints "MS VERIFIED FETCHED FIRST-MANIFEST-MS LAST-MANIFEST-MS CONNECT-MS HUB-RSS-KB"
	for h in pub hub; do
		sed -i '/^transport = /d' $h/config
		[ "$1" = plain ] && echo "transport = plain" >>$h/config
	done
	"$K" --home pub serve --listen tcp://127.0.0.1:$P --announce tcp://127.0.0.1:$((P + 1)) 2>>pub.log & pp=$!
	"$K" --home hub serve --listen tcp://127.0.0.1:$((P + 2)) --announce tcp://127.0.0.1:$((P + 3)) 2>>hub.log & hp=$!
	pids="$pids $pp $hp"
	i=0; while ! "$K" --home hub show 372081/case/seed >/dev/null 2>&1 && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	sleep 1
	hk=$("$K" --home hub id --json | sed -n 's/.*"transport_key":"\([0-9a-f]*\)".*/\1/p')
	item "fan-$1" >"fan-$1.md"
	out=$("$TOOLS/benchsub" curvefan "$K" pub "fan-$1.md" tcp://127.0.0.1:$((P + 2)) \
		"tcp://127.0.0.1:$((P + 3))#$hk" "$N" "$1" || true)
	hub_rss=$(awk '/VmRSS/ { print $2 }' /proc/$hp/status)
	kill $pp $hp; wait $pp $hp 2>/dev/null || true
	echo "$out $hub_rss"
	[ -n "${BENCH_CURVE_DEBUG:-}" ] && { echo "$1: $out" >&2; grep -v "verified and applied" hub.log | tail -20 >&2; }
}
set -- $(run curve)
c_ms=$1 c_n=$2 c_man=$5 c_conn=$6 c_rss=$7
set -- $(run plain)
p_ms=$1 p_n=$2 p_man=$5 p_conn=$6 p_rss=$7
echo "one hub, $N subscribers (sockets in one process, each its own key; manifest checked, pack fetched and checked):"
echo "  CURVE: all verified one new item in $c_ms ms ($c_n of $N; the last got the hub's announcement at $c_man ms), hub RSS $c_rss kB  [target <= 2000 ms]"
echo "  plain TCP, same run: $p_ms ms ($p_n of $N; last announcement at $p_man ms), hub RSS $p_rss kB"
echo "  connecting the $N subscribers' $((2 * N)) sockets before that: CURVE $c_conn ms (handshakes + ZAP), plain $p_conn ms"
echo "  CURVE / plain: $(awk "BEGIN { if ($p_ms > 0) printf \"%.2f\", $c_ms / $p_ms; else print \"n/a\" }") x  [target <= 1.3 x]"

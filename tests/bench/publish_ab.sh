#!/bin/sh
# tests/bench/publish_ab.sh - make bench section 1 (publish -> verified
# replica, `kairan publish` included) for two kairan binaries in the same
# run, taking turns, so a change is measured against its anchor under the
# same load:
#
#   sh tests/bench/publish_ab.sh BEFORE_KAIRAN AFTER_KAIRAN [ROUNDS] [PUBLISHES]
#
# Each round, each binary in turn: a new publisher and a new town, both
# serving, then PUBLISHES (default 50) single-item publishes of 4 KB items
# timed by benchsub (tests/tools/benchsub.c), on a collection that holds
# BENCH_SEED_ITEMS items first (default 1). Prints each round's p50 and
# the announcement -> verified p50, then the medians of the rounds.
set -eu
A=${1:?before binary} Bk=${2:?after binary} R=${3:-5} N=${4:-50} S=${BENCH_SEED_ITEMS:-1}
: "${TOOLS:=$(cd "$(dirname "$0")/../.." && pwd)/build/tests}"
B=$(mktemp -d /tmp/kairan-pubab.XXXXXX)
P=${BENCH_PORT:-31200}
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$B"; }
trap cleanup EXIT INT TERM
cd "$B"
item() { # item CODE SLUG BYTES (as tests/bench/run.sh)
	printf -- '---\nkind: case\nid: %s/case/%s\ntitle: 性能測定用の事例 %s\npublisher: {lg_code: "%s", name: 測定}\nversion: 1.0.0\npublished: 2024-06-01\nupdated: 2024-06-01\nlicense: PDL-1.0\nconfidentiality: 機密性1\ndomains: [住民問合せ対応]\nai_uses: [対話生成]\nsources: [{title: 測定用, issuer: 測定}]\n---\n' "$1" "$2" "$2" "$1"
	yes "住民からの問合せに生成AIで回答案を作り、職員が確認してから返信した。$2" | head -c "$3"
	echo
}
zk() { "$1" --home "$2" id --json | sed -n 's/.*"transport_key":"\([0-9a-f]*\)".*/\1/p'; }
med() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
# one K: p50 of publish -> verified, and of announcement -> verified
one() {
	K=$1 d=$2
	mkdir "$d" && cd "$d"
	"$K" --home pub init --name 三豊市 --lg-code 372081 >/dev/null
	sed -i "s/^web = .*/web = off/" pub/config
	FPR=$("$K" --home pub id --fingerprint)
	mkdir seed
	i=0; while [ $i -lt "$S" ]; do item 372081 "seed-$i" 4000 >seed/s$i.md; i=$((i + 1)); done
	"$K" --home pub publish seed >/dev/null
	"$K" --home pub serve --listen "tcp://127.0.0.1:$P" --announce "tcp://127.0.0.1:$((P + 1))" 2>>pub.log &
	p1=$!
	"$K" --home town init --name 西海市 --lg-code 422126 >/dev/null
	sed -i "s/^web = .*/web = off/" town/config
	"$K" --home town follow "tcp://127.0.0.1:$P" --publisher "$FPR" >/dev/null
	"$K" --home town serve --listen "tcp://127.0.0.1:$((P + 2))" --announce "tcp://127.0.0.1:$((P + 3))" 2>>town.log &
	p2=$!
	pids="$pids $p1 $p2"
	n=0; while [ "$(sqlite3 town/state.db "SELECT count(*) FROM items WHERE publisher = '$FPR'" 2>/dev/null)" != "$S" ] && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
	sleep 1
	mkdir lat
	i=0; while [ $i -lt "$N" ]; do item 372081 "lat-$i" 4000 >lat/lat-$i.md; i=$((i + 1)); done
	set -- $("$TOOLS/benchsub" latency "$K" pub "tcp://127.0.0.1:$((P + 3))#$(zk "$K" town)" "$N" lat \
	    "tcp://127.0.0.1:$((P + 1))#$(zk "$K" pub)")
	kill $p1 $p2; wait $p1 $p2 2>/dev/null || true
	cd "$B"
	echo "$2 $5"
}
r=0
while [ $r -lt "$R" ]; do
	x=$(one "$A" a$r) y=$(one "$Bk" b$r)
	echo "round $((r + 1)): before p50 ${x% *} ms (announce -> verified ${x#* }); after p50 ${y% *} ms (${y#* })"
	echo "${x% *}" >>a.p50; echo "${y% *}" >>b.p50; echo "${x#* }" >>a.rep; echo "${y#* }" >>b.rep
	r=$((r + 1))
done
echo "publish -> verified replica, median of $R rounds of $N: before $(med <a.p50) ms (announce -> verified $(med <a.rep)), after $(med <b.p50) ms ($(med <b.rep))"

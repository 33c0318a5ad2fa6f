#!/bin/sh
# tests/bench/firstsync_ab.sh - make bench section 4 (first sync of 10,000
# files beside git clone --mirror over git://) for two kairan binaries in
# the same run, interleaved, so a change is measured against its anchor
# under the same load:
#
#   sh tests/bench/firstsync_ab.sh BEFORE_KAIRAN AFTER_KAIRAN [ROUNDS]
#
# Each round: a fresh town syncs with BEFORE, one with AFTER, and git
# clones the same repository. Prints wall ms, CPU ms (user+sys of the sync
# process) and the ratio to the same round's git clone, then the medians.
# The publisher is made by BEFORE (its repository is what both fetch);
# BENCH_PUBLISHER=DIR reuses one kept by an earlier run (BENCH_KEEP=DIR).
set -eu
A=${1:?before binary} Bk=${2:?after binary} R=${3:-3}
B=$(mktemp -d /tmp/kairan-fsab.XXXXXX)
P=${BENCH_PORT:-31100}
N=${BENCH_FILES:-10000}
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$B"; }
trap cleanup EXIT INT TERM
cd "$B"
now() { echo $(( $(date +%s%N) / 1000000 )); }
item() { # item CODE SLUG BYTES (as tests/bench/run.sh)
	printf -- '---\nkind: case\nid: %s/case/%s\ntitle: 性能測定用の事例 %s\npublisher: {lg_code: "%s", name: 測定}\nversion: 1.0.0\npublished: 2024-06-01\nupdated: 2024-06-01\nlicense: PDL-1.0\nconfidentiality: 機密性1\ndomains: [住民問合せ対応]\nai_uses: [対話生成]\nsources: [{title: 測定用, issuer: 測定}]\n---\n' "$1" "$2" "$2" "$1"
	yes "住民からの問合せに生成AIで回答案を作り、職員が確認してから返信した。$2" | head -c "$3"
	echo
}
if [ -n "${BENCH_PUBLISHER:-}" ]; then
	cp -a "$BENCH_PUBLISHER" bigpub   # a publisher home made by an earlier run (kept with BENCH_KEEP=DIR)
else
	mkdir big
	i=0; while [ $i -lt "$N" ]; do item 142018 "big-$i" 1650 >big/b$i.md; i=$((i + 1)); done
	"$A" --home bigpub init --name 横須賀市 --lg-code 142018 >/dev/null
	"$A" --home bigpub publish big >/dev/null
	[ -z "${BENCH_KEEP:-}" ] || cp -a bigpub "$BENCH_KEEP"
fi
FPR=$("$A" --home bigpub id --fingerprint)
REPO=bigpub/repos/$FPR/cases.git
git -C "$REPO" repack -adq
echo "collection: $(git -C "$REPO" ls-tree -r main | wc -l) files, $(git -C "$REPO" ls-tree -r -l main | awk '{ s += $4 } END { printf "%.1f MB", s / 1e6 }') of content; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$A" --home bigpub serve --listen "tcp://127.0.0.1:$P" --announce "tcp://127.0.0.1:$((P + 1))" 2>>bigpub.log &
pids="$pids $!"
git daemon --reuseaddr --export-all --base-path="$B/bigpub/repos" --listen=127.0.0.1 --port=$((P + 8)) 2>/dev/null &
pids="$pids $!"
sleep 1

# sync BIN HOME: prints "wall_ms cpu_ms"
sync1() {
	"$1" --home "$2" init --name 別府市 --lg-code 442020 >/dev/null
	"$1" --home "$2" follow "tcp://127.0.0.1:$P" --publisher "$FPR" >/dev/null
	t0=$(now)
	/usr/bin/time -f '%U %S' -o "$2.time" "$1" --home "$2" sync --timeout 120 >"$2.out" 2>&1 || { cat "$2.out" >&2; exit 1; }
	t1=$(now)
	echo "$((t1 - t0)) $(awk '{ printf "%d", ($1 + $2) * 1000 }' "$2.time")"
}
gitclone() {
	a=$(now); git clone -q --mirror "git://127.0.0.1:$((P + 8))/$FPR/cases.git" "$1"; b=$(now)
	echo $((b - a))
}
: >before.txt; : >after.txt; : >git.txt
r=0
while [ $r -lt "$R" ]; do
	g=$(gitclone "clone$r.git")
	if [ $((r % 2)) = 0 ]; then x=$(sync1 "$A" "a$r"); y=$(sync1 "$Bk" "b$r")
	else y=$(sync1 "$Bk" "b$r"); x=$(sync1 "$A" "a$r"); fi
	echo "$x $g" >>before.txt; echo "$y $g" >>after.txt; echo "$g" >>git.txt
	n=$(sqlite3 "b$r/state.db" "SELECT count(*) FROM items WHERE publisher = '$FPR'")
	m=$(sqlite3 "a$r/state.db" "SELECT count(*) FROM items WHERE publisher = '$FPR'")
	echo "round $((r + 1)): git clone --mirror $g ms; before: sync ${x% *} ms wall, ${x#* } ms CPU ($m rows); after: sync ${y% *} ms wall, ${y#* } ms CPU ($n rows)"
	rm -rf "a$r" "b$r" "clone$r.git"
	r=$((r + 1))
done
med() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
gm=$(med <git.txt)
for w in before after; do
	wall=$(cut -d' ' -f1 $w.txt | med); cpu=$(cut -d' ' -f2 $w.txt | med)
	ratio=$(awk '{ print $1 / $3 }' $w.txt | med)
	echo "first sync ($w, median of $R): kairan sync $wall ms wall, $cpu ms CPU; git clone --mirror over git:// $gm ms; $(printf '%.2f' "$ratio") x  [target <= 1.2 x]"
done

#!/bin/sh
# t0082 - a first sync of 5,000 items in one apply. All or nothing: when the
# 5,000th item (in tree order) is over what the town accepts
# (policy.accept.max_item_bytes), the sync is refused and state.db and search
# are exactly as before. With the limit raised the same first sync applies
# all of it, search returns exactly what a substring oracle says for random
# substrings.
. "$(dirname "$0")/lib.sh"
plan 9
cd "$T"
P=$(port_base)
EP=tcp://127.0.0.1:$P
N=5000

k --home pub init --name 三豊市 --lg-code 372081 >/dev/null
FPR=$(k --home pub id --fingerprint)
# N items, each with its own words (a few of them shared), so search has something to tell apart
mkdir -p a
awk -v n=$N 'BEGIN {
	split("ごみ 窓口 観光 防災 子育て 福祉 税務 道路 水道 教育 保健 広報 選挙 消防 農業 漁業", w, " ")
	split("案内 相談 申請 点検 予約 通知 集計 翻訳 要約 検索", v, " ")
	for (i = 0; i < n; i++) {
		f = sprintf("a/bulk-%05d.md", i)
		a = w[i % 16 + 1]; b = v[int(i / 16) % 10 + 1]; c = w[int(i / 160) % 16 + 1]
		printf "---\nkind: case\nid: 372081/case/bulk-%05d\ntitle: %sの%sを試した事例 %d\n", i, a, b, i >f
		printf "publisher: {lg_code: \"372081\", name: 三豊市}\nversion: 1.0.0\npublished: 2024-06-01\n" >f
		printf "updated: 2024-06-01\nlicense: PDL-1.0\nconfidentiality: 機密性1\ndomains: [住民問合せ対応]\n" >f
		printf "ai_uses: [対話生成]\nsources: [{title: 資料%d, issuer: 三豊市}]\n---\n", i >f
		for (k = 0; k < 12; k++)
			printf "%s課の%sについて、生成AIで%sの下書きを作り職員が確かめた。第%d版の%d。\n", c, a, b, i, k >f
		close(f)
	}
}'
# the last in tree order grows past what the town accepts (policy.accept.max_item_bytes = 3000; the others ~1.7 KB)
yes 福祉課の窓口について、生成AIで案内の下書きを作り職員が確かめた。 | head -40 >>a/bulk-$(printf %05d $((N - 1))).md
k --home pub publish a >/dev/null 2>&1
BAD=$(sqlite3 pub/state.db "SELECT path FROM items ORDER BY path LIMIT 1 OFFSET $((N - 1))")
diag "the ${N}th item in tree order: $BAD ($(wc -c <a/bulk-$(printf %05d $((N - 1))).md) bytes)"
serve pub "$P" $((P + 1))

# the town holds something of its own before: it must still be there, searchable, after the refusal
k --home town init --name 西海市 --lg-code 422126 >/dev/null
mkdir -p t
item 422126 own 防災訓練の案内を要約した事例 >t/own.md
k --home town publish t >/dev/null
k --home town follow "$EP" --publisher "$FPR" >/dev/null
echo 'policy.accept.max_item_bytes = 3000' >>town/config
state_fingerprint town >before.fp
k --home town search --json 防災 >before.search

t0=$(now_ms)
k --home town sync --timeout 60 >sync.out 2>&1; rc=$?
t1=$(now_ms)
diag "refused sync of $N items: $((t1 - t0)) ms (exit $rc)"
check "a first sync whose ${N}th item fails a check is refused (exit $rc)" test "$rc" = 1
sqlite3 town/state.db 'SELECT reason FROM quarantine' >reason
diag "quarantined: $(head -c 300 reason)"
check "the quarantine names the item and the reason" sh -c "grep -F '$BAD' reason | grep -q max_item_bytes"
sqlite3 town/state.db 'DELETE FROM quarantine; DELETE FROM rejected' # (the refusal's own record; the rest must be untouched)
state_fingerprint town >after.fp
check "state.db holds exactly what it held before (manifests, heads, items)" cmp before.fp after.fp
k --home town search --json 防災 >after.search
check "search answers exactly as before" cmp before.search after.search
check "no row of the refused collection is in state.db" test "$(sqlite3 town/state.db "SELECT count(*) FROM items WHERE publisher = '$FPR'")" = 0

sed -i 's/^policy.accept.max_item_bytes = 3000$/policy.accept.max_item_bytes = 1048576/' town/config
t0=$(now_ms)
check "with the limit raised, the same first sync applies all of it" k --home town sync --timeout 60
t1=$(now_ms)
n=$(sqlite3 town/state.db "SELECT count(*) FROM items WHERE publisher = '$FPR'")
diag "first sync of $N items ($(du -sk a | cut -f1) KB): $((t1 - t0)) ms wall, load $(cut -d' ' -f1 /proc/loadavg)"
check "all $N items are rows ($n)" test "$n" = $N
"$TOOLS/searchoracle" town 400 82 >oracle.out; rc=$?
diag "$(tail -1 oracle.out)"
check "400 random substrings: search returns exactly the items that contain them" test $rc = 0
check "the town's own item is still found" sh -c "\"\$KAIRAN\" --home town search 防災訓練の案内 | grep -q 422126/case/own"

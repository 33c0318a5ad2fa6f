#!/bin/sh
# t0092 - the bulk write of a large apply (kr_state_items_put: item rows and
# their FTS5 entries without the per-row triggers) gives exactly the search
# of row-by-row writes. Town "small" receives 600 items in applies of 50
# (row by row, through the triggers), town "bulk" in one first sync (bulk);
# then 100 of them change and 5 are withdrawn, again in pieces for one and
# at once for the other (the bulk path replacing rows, deleting their old
# index entries). Both must answer every query byte for byte alike, the
# bulk town must equal a substring oracle, its triggers and FTS5 settings
# must be as before, and a first sync killed (-9) at random moments must
# leave nothing or everything, with the triggers in place.
. "$(dirname "$0")/lib.sh"
plan 12
cd "$T"
P=$(port_base)
EP=tcp://127.0.0.1:$P

k --home pub init --name 三豊市 --lg-code 372081 >/dev/null
FPR=$(k --home pub id --fingerprint)
# gen DIR FROM TO VERSION: items FROM..TO-1, words varying by item and by version
gen() {
	mkdir -p "$1"
	awk -v d="$1" -v from="$2" -v to="$3" -v ver="$4" 'BEGIN {
		split("ごみ 窓口 観光 防災 子育て 福祉 税務 道路 水道 教育 保健 広報 選挙 消防 農業 漁業", w, " ")
		split("案内 相談 申請 点検 予約 通知 集計 翻訳 要約 検索", v, " ")
		for (i = from; i < to; i++) {
			f = sprintf("%s/bulk-%05d.md", d, i)
			a = w[i % 16 + 1]; b = v[int(i / 16) % 10 + 1]; c = w[int(i / 160) % 16 + 1]
			if (ver != "1.0.0") { b = "改訂" b; c = "ｶﾞｲﾄﾞ" }
			printf "---\nkind: case\nid: 372081/case/bulk-%05d\ntitle: %sの%sを試した事例 %d\n", i, a, b, i >f
			printf "publisher: {lg_code: \"372081\", name: 三豊市}\nversion: %s\npublished: 2024-06-01\n", ver >f
			if (ver != "1.0.0")
				printf "version_notes: 本文を改訂\n" >f
			printf "updated: 2024-06-0%d\nlicense: PDL-1.0\nconfidentiality: 機密性1\ndomains: [住民問合せ対応]\n", (i % 9) + 1 >f
			printf "ai_uses: [対話生成]\nsources: [{title: 資料%d, issuer: 三豊市}]\n---\n", i >f
			printf "%s\n", ver == "1.0.0" ? "旧版の本文。" : "新版の本文。" >f
			for (k = 0; k < 6 + i % 7; k++)
				printf "%s課の%sについて、生成AIで%sの下書きを作り職員が確かめた。第%d版のAI%d。\n", c, a, b, i, k >f
			close(f)
		}
	}'
}
serve pub "$P" $((P + 1))
for h in small bulk; do
	k --home $h init --name 西海市 --lg-code 422126 >/dev/null
	k --home $h follow "$EP" --publisher "$FPR" >/dev/null
done

# 600 items in 12 publishes of 50; "small" syncs after each (applies of 50 rows: row by row)
ok=1; b=0
while [ $b -lt 12 ]; do
	gen p$b $((b * 50)) $((b * 50 + 50)) 1.0.0
	k --home pub publish p$b >/dev/null 2>&1 || ok=0
	k --home small sync --timeout 60 >/dev/null 2>&1 || ok=0
	b=$((b + 1))
done
check "600 items published in 12 pieces and synced piece by piece" test $ok = 1
t0=$(now_ms)
k --home bulk sync --timeout 60 >/dev/null 2>&1; rc=$?
t1=$(now_ms)
diag "first sync of 600 items in one apply (bulk): $((t1 - t0)) ms wall"
check "the same 600 items in one first sync (exit $rc)" test "$rc" = 0

# queries of every shape the search takes: 1, 2 and more characters, two words, a phrase, OR, NOT, a facet, Latin
QUERIES='ご 窓 窓口 防災 子育て 生成AI 下書きを作り 窓口 相談 "職員が確かめた" 観光 OR 水道 -ごみ 福祉 AI ai1 がいど 改訂 資料12'
same() { # same HOME1 HOME2: every query answers byte for byte alike
	for q in $QUERIES; do
		"$KAIRAN" --home "$1" search --json --limit 50 "$q" >"$1.q" 2>&1
		"$KAIRAN" --home "$2" search --json --limit 50 "$q" >"$2.q" 2>&1
		cmp -s "$1.q" "$2.q" || { echo "query $q differs:"; diff "$1.q" "$2.q" | head -5; return 1; }
	done
	for q in 窓口 防災; do
		"$KAIRAN" --home "$1" search --json --since 2024-06-05 "$q" >"$1.q" 2>&1
		"$KAIRAN" --home "$2" search --json --since 2024-06-05 "$q" >"$2.q" 2>&1
		cmp -s "$1.q" "$2.q" || { echo "query $q --since differs"; return 1; }
	done
}
check "row by row and in bulk: every query answers byte for byte alike" same small bulk
triggers() { sqlite3 "$1/state.db" "SELECT group_concat(name || ':' || length(sql), ' ') FROM (SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name)"; }
diag "triggers after the bulk write: $(triggers bulk)"
check "the FTS5 triggers are back, word for word" test "$(triggers bulk)" = "$(triggers small)"
check "FTS5's write buffer is back to its default" \
	test "$(sqlite3 bulk/state.db "SELECT coalesce((SELECT v FROM items_fts_config WHERE k = 'hashsize'), 1048576)")" = 1048576
fts() { sqlite3 "$1/state.db" "SELECT count(DISTINCT segid) || ' ' || coalesce((SELECT v FROM items_fts_config WHERE k = 'automerge'), 4)
	|| ' ' || coalesce((SELECT v FROM items_fts_config WHERE k = 'crisismerge'), 16) FROM items_fts_idx"; }
diag "index segments, automerge, crisismerge: first sync $(fts bulk), row by row $(fts small)"
check "the first sync left the index as one segment, FTS5's merge settings as before" test "$(fts bulk)" = "1 4 16"

# 100 items change (new words, version 1.0.1) and 5 are withdrawn: "small" in pieces of 50, "bulk" at once
ok=1
for b in 0 1; do
	gen u$b $((100 + b * 50)) $((150 + b * 50)) 1.0.1
	k --home pub publish u$b >/dev/null 2>&1 || ok=0
	k --home small sync --timeout 60 >/dev/null 2>&1 || ok=0
done
for i in 00003 00104 00250 00499 00599; do
	k --home pub withdraw 372081/case/bulk-$i -m 'test' >/dev/null 2>&1 || ok=0
done
k --home small sync --timeout 60 >/dev/null 2>&1 || ok=0
check "100 changed and 5 withdrawn, synced in pieces" test $ok = 1
check "the same changes in one apply (bulk: rows replaced, their old index entries removed)" \
	k --home bulk sync --timeout 60
check "row by row and in bulk, after the changes: every query answers byte for byte alike" same small bulk
hits() { "$KAIRAN" --home bulk search --json --limit 1 "$1" | sed -n 's/.*"total": *\([0-9]*\).*/\1/p'; }
diag "旧版 (old text) in $(hits 旧版) items, 新版 (new text) in $(hits 新版)"
check "the old text of the 100 replaced rows is out of the index (旧版 in 496 items, 新版 in 99)" \
	test "$(hits 旧版) $(hits 新版)" = "496 99"
"$TOOLS/searchoracle" bulk 300 92 >oracle.out; rc=$?
diag "$(tail -1 oracle.out)"
check "300 random substrings: search returns exactly the items that contain them" test $rc = 0

# a first sync killed at random moments: nothing or everything, triggers in place
n=$(sqlite3 bulk/state.db "SELECT count(*) FROM items WHERE publisher = '$FPR'")
bad=0; r=0; seen=""
while [ $r -lt 6 ]; do
	k --home crash$r init --name 西海市 --lg-code 422126 >/dev/null
	k --home crash$r follow "$EP" --publisher "$FPR" >/dev/null
	"$KAIRAN" --home crash$r sync --timeout 60 >/dev/null 2>&1 &
	sp=$!
	sleep "0.$(( (r * 37 + 11) % 90 + 5 ))"
	kill -9 $sp 2>/dev/null; wait $sp 2>/dev/null
	c=$(sqlite3 crash$r/state.db "SELECT count(*) FROM items WHERE publisher = '$FPR'")
	seen="$seen $c"
	[ "$c" = 0 ] || [ "$c" = "$n" ] || bad=1
	[ "$(triggers crash$r)" = "$(triggers small)" ] || bad=1
	r=$((r + 1))
done
diag "rows after each kill -9: $seen (of $n)"
check "each killed first sync left nothing or everything, and the triggers" test $bad = 0

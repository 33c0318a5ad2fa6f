#!/bin/sh
# t0099 - item bodies deflated with a preset dictionary (issue 13: index
# size): the first large write of a home (a publish or a first sync of 64
# items or more) makes one dictionary from its bodies, in the same
# transaction; every body written afterwards, in bulk or one at a time,
# is a plain zlib stream that names it (FDICT and its Adler-32), which
# Python's zlib reads with the dictionary from body_dicts to exactly the
# item's text; together smaller than the bodies deflated alone; and the
# search (matches, snippets, a substring oracle, reindex) reads them. A
# home whose bodies deflate to a tenth alone (one sentence repeated) gets
# no dictionary: it would cost zlib more than it could save.
. "$(dirname "$0")/lib.sh"
plan 13
cd "$T"
P=$(port_base)

# 80 cases of one town: shared phrasing, each with its own numbers and one word of its own
nouns="住民 問合せ ごみ 分別 収集日 議会 答弁 子育て 窓口 防災 避難所 福祉 介護 保育所 広報紙 議事録 翻訳 アンケート 水道 選挙"
mkdir -p many
i=0
for a in $nouns; do
	for b in 要約 下書き 分析 案内; do
		{
			item 422126 "dict-$i" "${a}の${b}を生成AIで試した事例 第${i}回"
			echo "担当課では${a}に関する${b}を生成AIで作成し、職員が根拠を確かめてから公開した。"
			echo "試行期間は令和6年${i}月から3か月で、対象は${a}の${b}に限った。削減時間は月$((i * 3 + 7))時間だった。"
			echo "個人情報を入力しない運用とし、誤答は担当者が確認して修正した。固有語その${i}番を記録する。"
			echo "住民からの問合せ${i}件のうち、回答案をそのまま使えたのは$((i % 9 + 1))割だった。"
		} >many/dict-$i.md
		i=$((i + 1))
	done
done
k --home pub init --name 阿波町 --lg-code 422126 >/dev/null
check "80 items publish in one go" k --home pub publish many
check "that write made one dictionary, at most 32 KB" \
	test "$(sqlite3 pub/state.db 'SELECT count(*) || " " || (length(dict) <= 32768) FROM body_dicts')" = "1 1"

# the stored bodies, read by Python's zlib (not kairan) with the dictionary kairan stored
cat >bodies.py <<'EOF'
import sqlite3, sys, zlib
db = sqlite3.connect(sys.argv[1])
dicts = {i: d for i, d in db.execute("SELECT id, dict FROM body_dicts")}
named = alone = stored = 0
for item, body in db.execute("SELECT id, body FROM items WHERE typeof(body) = 'blob' ORDER BY n"):
    want = int.from_bytes(body[:4], "little")
    z = body[4:]
    if not z[1] & 0x20:
        continue                                    # deflated without a dictionary
    dictid = int.from_bytes(z[2:6], "big")
    if dictid not in dicts:
        print("dangling dictionary", dictid, "in", item); sys.exit(1)
    d = zlib.decompressobj(zdict=dicts[dictid])
    text = d.decompress(z) + d.flush()
    if len(text) != want or not d.eof or d.unused_data:
        print("not exactly its length:", item, len(text), want); sys.exit(1)
    slug = item.rsplit("/", 1)[1]
    if len(sys.argv) > 2 and "固有語その%s番" % slug.split("-")[1] not in text.decode():
        print("not its text:", item); sys.exit(1)
    named += 1
    stored += len(z)
    alone += len(zlib.compress(text, 1))
print(named, stored, alone)
EOF
python3 bodies.py pub/state.db check >pub.bodies; rc=$?
diag "publisher: $(cat pub.bodies) (bodies naming the dictionary, their stored bytes, deflated alone)"
check "every body names the dictionary and inflates with it to exactly its own text" \
	sh -c "test $rc = 0 && test \"\$(cut -d' ' -f1 pub.bodies)\" = 80"
check "together smaller than the same bodies deflated alone" \
	sh -c "set -- \$(cat pub.bodies); test \$2 -lt \$3"
check "a word only one body has finds it, with the word in the snippet" \
	sh -c "test \"\$(\"$KAIRAN\" --home pub search --json 固有語その37番 | grep -c '\"422126/case/dict-37\"')\" = 1 && \"$KAIRAN\" --home pub search 固有語その37番 | grep -q '【固有語その37番'"

# one item more, written row by row (a single publish): it uses the same dictionary
{
	item 422126 one-more "議会答弁の下書きを生成AIで試した事例 追加"
	echo "担当課では議会答弁に関する下書きを生成AIで作成し、職員が根拠を確かめてから公開した。"
	echo "試行期間は令和7年4月から3か月で、対象は議会答弁の下書きに限った。すだち醤油という語はこの事例だけにある。"
	echo "個人情報を入力しない運用とし、誤答は担当者が確認して修正した。"
} >one-more.md
check "a single publish afterwards" k --home pub publish one-more.md
check "its body names the same dictionary (81 bodies do), and search finds its word" \
	sh -c "test \"\$(python3 bodies.py pub/state.db | cut -d' ' -f1)\" = 81 && \
	test \"\$(\"$KAIRAN\" --home pub search --json すだち醤油 | grep -c one-more)\" = 1"

# a town's first sync makes the town's own dictionary
serve pub $P $((P + 1))
k --home town init --name 豊田市 --lg-code 232114 >/dev/null
k --home town follow tcp://127.0.0.1:$P --publisher "$(k --home pub id --fingerprint)" >/dev/null
check "the town's first sync" k --home town sync --timeout 10
python3 bodies.py town/state.db >town.bodies; rc=$?
diag "town: $(cat town.bodies); dictionaries: $(sqlite3 town/state.db 'SELECT count(*) FROM body_dicts')"
check "the town's bodies name the dictionary it made, none dangling" \
	sh -c "test $rc = 0 && test \"\$(cut -d' ' -f1 town.bodies)\" = 81 && test \"\$(sqlite3 town/state.db 'SELECT count(*) FROM body_dicts')\" = 1"
"$TOOLS/searchoracle" town 300 99 >oracle.out; rc=$?
diag "$(tail -1 oracle.out)"
check "300 random substrings: the town's search returns exactly the items that contain them" test $rc = 0
check "reindex answers alike" sh -c "\"$KAIRAN\" --home town reindex >/dev/null && \
	test \"\$(\"$KAIRAN\" --home town search --json 固有語その37番 | grep -c dict-37)\" = 1 && \"$TOOLS/searchoracle\" town 100 7 >/dev/null"

# bodies that deflate well alone: no dictionary, plain zlib streams
mkdir -p same
i=0
while [ $i -lt 70 ]; do
	{ item 422126 "same-$i" "同じ文の事例 $i"; yes "住民からの問合せに生成AIで回答案を作り、職員が確認してから返信した。$i" | head -c 1650; echo; } >same/s$i.md
	i=$((i + 1))
done
k --home rep init --name 阿波町 --lg-code 422126 >/dev/null
check "70 repetitive items publish in one go" k --home rep publish same
check "no dictionary was made, and the bodies are plain zlib streams" \
	test "$(sqlite3 rep/state.db "SELECT (SELECT count(*) FROM body_dicts) || ' ' || count(*) FROM items WHERE typeof(body) = 'blob' AND hex(substr(body, 5, 2)) = '7801'")" = "0 70"

#!/bin/sh
# t0045 - a dataset's Q&A rows are searchable units: each row is indexed
# as an item DATASET-ID#ROW with the card's facets and the row's
# question, answer, alternate questions and keywords as text; a hit names
# the dataset, the row id and its 出典; `show DATASET-ID#ROW` prints it.
# Rows follow edits, card changes, withdrawal, replication and reindex,
# and the substring oracle agrees with search over items and rows alike.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/boardlib.sh"
plan 24
cd "$T"
P=$(port_base)

k --home pub init --name 三豊市 --lg-code 372081 >/dev/null
FPR=$(k --home pub id --fingerprint)
qa_card
cat >ds/madoguchi-qa/data/qa.jsonl <<'ROWS'
{"id": "r01", "question": "住民票の写しはどこで取れますか？", "answer": "本庁の市民課か各支所で、マイナンバーカードがあればコンビニでも取れます。", "alt_questions": ["住民票はどこでもらえる？"], "keywords": ["住民票", "コンビニ交付"], "source": {"issuer": "三豊市", "title": "窓口案内"}, "updated": "2024-06-01"}
{"id": "r02", "question": "粗大ごみの出し方は？", "answer": "電話で申し込み、処理券を貼って出してください。", "alt_questions": ["大きな家具はどう捨てる？ヤマモモ台の場合"], "keywords": ["クヌギ回収"], "source": {"issuer": "三豊市環境衛生課"}, "updated": "2024-06-01"}
ROWS
k --home pub publish ds/madoguchi-qa/README.md >/dev/null

s() { k --home pub search "$@" --json; }
check "a word only in a row's answer finds the row" sh -c "\"$KAIRAN\" --home pub search 処理券 --json | grep -q '\"id\":\"372081/dataset/madoguchi-qa#r02\"'"
check "a word only in an alternate question finds it" sh -c "\"$KAIRAN\" --home pub search ヤマモモ台 --json | grep -q 'madoguchi-qa#r02'"
check "a word only in its keywords finds it" sh -c "\"$KAIRAN\" --home pub search クヌギ回収 --json | grep -q 'madoguchi-qa#r02'"
check "and only that row" sh -c "\"$KAIRAN\" --home pub search 処理券 --json | grep -q '\"total\":1,'"
k --home pub search 処理券 >hit
sed 's/^/# /' hit
check "the hit names the dataset and row, its words and its 出典" sh -c "grep -q '^372081/dataset/madoguchi-qa#r02  Q&A r02' hit &&
	grep -q '【処理券】' hit && grep -q '出典：三豊市環境衛生課「市民窓口 Q&A」' hit"
check "a word of a row's question finds it" sh -c "\"$KAIRAN\" --home pub search 粗大ごみの出し方 --json | grep -q 'madoguchi-qa#r02'"
check "rows carry the card's facets (kind, prefecture, domain)" sh -c "
	\"$KAIRAN\" --home pub search 処理券 --kind dataset --pref 香川 --domain 住民窓口業務 --json | grep -q 'madoguchi-qa#r02'"
k --home pub show '372081/dataset/madoguchi-qa#r01' >row
check "show DATASET-ID#ROW prints the row with its 出典" sh -c "grep -q '^Q: 住民票の写しはどこで取れますか？' row &&
	grep -q '^A: 本庁の市民課' row && grep -q '住民票はどこでもらえる？' row &&
	grep -q '^出典：三豊市「市民窓口 Q&A」、CC-BY-4.0' row && grep -q '\"id\": \"r01\"' row"
check_fails "show of a row that does not exist fails" k --home pub show '372081/dataset/madoguchi-qa#r99'
check "status counts the dataset as one item, not its rows" sh -c "\"$KAIRAN\" --home pub status | grep -q 'datasets .* 1 item(s)'"

# the row changes (and so does the card's version)
sed -i 's/処理券を貼って/シールを貼って/' ds/madoguchi-qa/data/qa.jsonl
sed -i 's/^version: 1.0.0/version: 1.0.1\nversion_notes: 粗大ごみの案内を直した/' ds/madoguchi-qa/README.md
k --home pub publish ds/madoguchi-qa/README.md >/dev/null
check "an edited row: the old word no longer finds it" sh -c "\"$KAIRAN\" --home pub search 処理券 --json | grep -q '\"total\":0,'"
check "the new word does, at the card's new version" sh -c "\"$KAIRAN\" --home pub search シールを貼って --json | grep -q '\"version\":\"1.0.1\"'"

# only the card changes: rows follow its version and title
sed -i 's/^version: 1.0.1/version: 1.1.0/; s/^title: 市民窓口 Q&A/title: 市民窓口 Q\&A（改訂）/; s/^version_notes: .*/version_notes: 題名を改めた/' ds/madoguchi-qa/README.md
k --home pub publish ds/madoguchi-qa/README.md >/dev/null
check "a card-only change moves its rows to the new version and 出典" sh -c "
	\"$KAIRAN\" --home pub search クヌギ回収 --json | grep -q '\"version\":\"1.1.0\"' &&
	\"$KAIRAN\" --home pub search クヌギ回収 | grep -q '出典：三豊市環境衛生課「市民窓口 Q&A（改訂）」'"

# a row removed
sed -i '/"id": "r02"/d' ds/madoguchi-qa/data/qa.jsonl
sed -i 's/^version: 1.1.0/version: 1.1.1/; s/^version_notes: .*/version_notes: 粗大ごみの行を外した/' ds/madoguchi-qa/README.md
k --home pub publish ds/madoguchi-qa/README.md >/dev/null
check "a removed row is no longer found" sh -c "\"$KAIRAN\" --home pub search クヌギ回収 --json | grep -q '\"total\":0,'"
check_fails "nor shown" k --home pub show '372081/dataset/madoguchi-qa#r02'
check "the other row still is" sh -c "\"$KAIRAN\" --home pub search コンビニ交付 --json | grep -q 'madoguchi-qa#r01'"

# the samples too, then another node replicates
k --home board init --name 香川県 --lg-code 370002 >/dev/null
k --home board publish "$SRC/deploy/samples/370002" >/dev/null
BFPR=$(k --home board id --fingerprint)
check "a sample dataset row is found by a word only it holds" sh -c "\"$KAIRAN\" --home board search キャップ --json | grep -q '370002/dataset/gomi-qa#q001'"
serve pub $P $((P + 1))
serve board $((P + 4)) $((P + 5))
k --home town init --name 西海市 --lg-code 422126 >/dev/null
k --home town follow tcp://127.0.0.1:$P --publisher "$FPR" >/dev/null
k --home town follow tcp://127.0.0.1:$((P + 4)) --publisher "$BFPR" >/dev/null
k --home town sync --timeout 10 >/dev/null 2>&1
check "a following node indexes the rows it receives" sh -c "\"$KAIRAN\" --home town search コンビニ交付 --json | grep -q 'madoguchi-qa#r01' &&
	\"$KAIRAN\" --home town search キャップ --json | grep -q 'gomi-qa#q001'"
check "and shows them" sh -c "\"$KAIRAN\" --home town show '370002/dataset/gomi-qa#q001' | grep -q '^出典：香川県「ごみ出し案内 Q&A（県内共通のひな型）」'"
n=$(k --home town search ごみ --kind dataset --json | sed -n 's/.*"total":\([0-9]*\).*/\1/p')
diag "ごみ --kind dataset: $n hit(s) on the town"
check "rows are counted in the search facets" sh -c "test $n -gt 1 && \"$KAIRAN\" --home town search ごみ --kind dataset --json | grep -q '\"kind\":{\"dataset\":$n}.*\"prefecture\":{\"37\":$n}'"
rows=$(sqlite3 town/state.db "SELECT count(*) FROM items WHERE path LIKE '%#%'")
diag "rows indexed on the town: $rows"
check "reindex rebuilds the rows" sh -c "\"$KAIRAN\" --home town reindex >/dev/null &&
	test \"\$(sqlite3 town/state.db \"SELECT count(*) FROM items WHERE path LIKE '%#%'\")\" = $rows &&
	\"$KAIRAN\" --home town search コンビニ交付 --json | grep -q 'madoguchi-qa#r01'"
"$TOOLS/searchoracle" town 1500 11 >oracle.out; rc=$?
tail -1 oracle.out | sed 's/^/# /'
check "the substring oracle agrees with search over items and rows" test $rc = 0
check "withdrawing the dataset removes its rows" sh -c "\"$KAIRAN\" --home pub withdraw 372081/dataset/madoguchi-qa -m 改訂中 >/dev/null &&
	\"$KAIRAN\" --home pub search コンビニ交付 --json | grep -q '\"total\":0,' &&
	test \"\$(sqlite3 pub/state.db \"SELECT count(*) FROM items\")\" = 0"
check "verify passes" k --home pub verify

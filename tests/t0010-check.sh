#!/bin/sh
# t0010 - kairan check: publish's checks without publishing, on every shipped
# sample and on refusals (one per rule family), with the same messages.
. "$(dirname "$0")/lib.sh"
plan 12
cd "$T"

ok_all=1
for dir in "$SRC"/deploy/samples/*/; do
	code=$(basename "$dir")
	k --home h$code init --name "団体$code" --lg-code "$code" >/dev/null
	k --home h$code check "$dir" >out.$code 2>&1 || { ok_all=0; sed 's/^/# /' out.$code; }
done
check "every shipped sample passes check on its publisher's node" test $ok_all = 1


sed 's/住民問合せ対応/住民問い合わせ対応/' "$SRC/deploy/samples/372081/cases/gomi-chatbot-poc.md" >near.md
k --home h372081 check near.md 2>err; rc=$?
check "a near-miss vocabulary value is refused (exit 1)" test $rc = 1
check "and the message suggests the closest value" grep -q "did you mean '住民問合せ対応'" err
k --home h372081 check --json near.md >near.json
check "--json names file, line, level and rule" grep -q '"file":"near.md","line":11,"level":"block","rule":"domains"' near.json

sed 's/^outcome: 見送り/outcome: 保留/' "$SRC/deploy/samples/372081/cases/gomi-chatbot-poc.md" >outcome.md
check_fails "an outcome outside the closed list is refused" k --home h372081 check outcome.md
sed '/^sources:/,/^---/{/^---/!d}' "$SRC/deploy/samples/372081/cases/gomi-chatbot-poc.md" >nosrc.md
check_fails "a case without sources is refused" k --home h372081 check nosrc.md
sed 's/{{原稿}}/{{本文}}/' "$SRC/deploy/samples/062081/prompts/bunsho/kouhou-osirase.md" >prompt.md
k --home h062081 check prompt.md >/dev/null 2>err
check "a prompt using an undeclared {{variable}} is refused" grep -q 'uses {{本文}} but variables does not declare it' err

# A dataset's JSONL rows: valid JSON, required fields, unique ids, no personal information.
mkdir -p ds/datasets/bad/data
sed 's/gomi-qa/bad/' "$SRC/deploy/samples/370002/datasets/gomi-qa/README.md" >ds/datasets/bad/README.md
printf '%s\n' '{"id":"a","question":"Q","answer":"A","source":{"issuer":"県"},"updated":"2024-07-01"}' \
	'{"id":"a","question":"Q2","answer":"担当 090-1234-5678","source":{"issuer":"県"},"updated":"2024-07-01"}' \
	'not json' >ds/datasets/bad/data/qa.jsonl
k --home h370002 check ds/datasets/bad 2>err; rc=$?
check "a bad dataset is refused (exit 1)" test $rc = 1
check "rows are named: malformed JSON, duplicate id" sh -c "grep -q 'qa.jsonl:3: row 3 is not a JSON object' err && grep -q 'id \"a\" is used by more than one row' err"
check "personal information in a row blocks" grep -q 'qa.jsonl:2: row 2: mobile or IP phone number' err

# publish runs exactly the same checks and refuses the same way
k --home h372081 check near.md 2>check.err
k --home h372081 publish near.md 2>publish.err
check "publish refuses with the same message" test "$(sed 's/kairan: check: //' check.err | head -1)" = "$(sed 's/kairan: publish: //' publish.err | head -1)"
check "and publishes nothing" test "$(sqlite3 h372081/state.db 'SELECT count(*) FROM manifests')" = 0

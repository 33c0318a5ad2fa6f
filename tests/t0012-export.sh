#!/bin/sh
# t0012 - export a Q&A dataset for RAG tools: Dify CSV re-parsed by a real
# CSV parser (sqlite3's), LangChain JSONL, plain JSONL; each row attributed.
. "$(dirname "$0")/lib.sh"
plan 9
cd "$T"

k --home board init --name 香川県 --lg-code 370002 >/dev/null
k --home board publish "$SRC/deploy/samples/370002" >/dev/null
# a second dataset whose rows hold commas, quotes and line breaks
mkdir -p tricky/datasets/tricky/data
sed 's/gomi-qa/tricky/; s/^title: .*/title: 引用符と改行の試験/' "$SRC/deploy/samples/370002/datasets/gomi-qa/README.md" >tricky/datasets/tricky/README.md
printf '%s\n' '{"id":"t1","question":"カンマ, と \"引用符\" は？","answer":"一行目\n二行目, 三つ目","source":{"issuer":"香川県"},"updated":"2024-07-01"}' \
	'{"id":"t2","question":"普通の質問","answer":"普通の回答","source":{"issuer":"香川県"},"updated":"2024-07-01"}' \
	>tricky/datasets/tricky/data/qa.jsonl
k --home board publish tricky >/dev/null

k --home board export 370002/dataset/gomi-qa --format dify-csv -o gomi.csv 2>/dev/null
check "dify-csv starts with a UTF-8 BOM and the header question,answer" sh -c "head -c 19 gomi.csv | od -An -tx1 | tr -d ' \n' | grep -q '^efbbbf7175657374696f6e2c616e73776572'"
check "a CSV parser reads all 40 rows back" test "$(sqlite3 :memory: '.import --csv gomi.csv t' 'SELECT count(*) FROM t')" = 40
k --home board export 370002/dataset/tricky --format dify-csv -o tricky.csv 2>/dev/null
sqlite3 :memory: '.import --csv tricky.csv t' "SELECT question FROM t WHERE rowid = 1" >q.out
check "commas and quotes survive RFC 4180 quoting" grep -qx 'カンマ, と "引用符" は？' q.out
check "line breaks inside an answer survive" test "$(sqlite3 :memory: '.import --csv tricky.csv t' "SELECT instr(answer, char(10) || '二行目, 三つ目') > 0 FROM t WHERE rowid = 1")" = 1
check "every answer carries the 出典 line" test "$(sqlite3 :memory: '.import --csv gomi.csv t' "SELECT count(*) FROM t WHERE answer LIKE '%出典：香川県「ごみ出し案内 Q&A（県内共通のひな型）」、CC-BY-4.0'")" = 40

k --home board export 370002/dataset/gomi-qa --format langchain >lc.jsonl 2>/dev/null
check "langchain: 40 documents of page_content and flat metadata" sh -c "test \$(wc -l <lc.jsonl) = 40 &&
	test \"\$(sqlite3 :memory: \"SELECT count(*) FROM json_each('[' || replace(trim(readfile('lc.jsonl'), char(10)), char(10), ',') || ']')
	WHERE json_extract(value, '\$.page_content') LIKE 'Q: %' AND json_type(value, '\$.metadata.source_issuer') = 'text'
	AND json_extract(value, '\$.metadata.attribution') LIKE '出典：%'\")\" = 40"
k --home board export 370002/dataset/gomi-qa >plain.jsonl 2>/dev/null
check "jsonl: the rows as published plus attribution" test "$(grep -c '"attribution":"出典：' plain.jsonl)" = 40
check_fails "exporting something that is not a dataset fails clearly" k --home board export 370002/guideline/ai-guideline-template
k --home board export 370002/dataset/gomi-qa --format pdf 2>err; rc=$?
check "an unknown format is a usage error" sh -c "test $rc = 2 && grep -q 'jsonl, dify-csv, langchain or hf' err"

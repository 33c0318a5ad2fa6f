#!/bin/sh
# t0076 - machine output does not follow the locale (issue 14 part 3): under
# ja_JP.UTF-8 and under C, search --json, the exports (dify-csv, langchain,
# jsonl), status/id/peers/log --json and check --json of a clean item are
# byte for byte the same, while the human output of the same commands is
# Japanese in one and English in the other (so the locale did take effect).
. "$(dirname "$0")/lib.sh"
plan 6
cd "$T"

JA=ja_JP.UTF-8
k --home b init --name 香川県 --lg-code 370002 >/dev/null
k --home b publish "$SRC/deploy/samples/370002" >/dev/null
mkdir -p clean/cases
item 370002 clean-case 試験の事例 >clean/cases/clean-case.md

run() { # run LOCALE TAG: every machine output into out.TAG/
	mkdir -p "out.$2"
	for q in ごみ チャットボット '"ごみ出し" OR 資源' 存在しない語句; do
		LC_ALL=$1 "$KAIRAN" --home b search --json --limit 1000 "$q"
	done >"out.$2/search.json" 2>&1
	LC_ALL=$1 "$KAIRAN" --home b search --json --kind dataset ごみ >"out.$2/search-kind.json" 2>&1
	LC_ALL=$1 "$KAIRAN" --home b export 370002/dataset/gomi-qa --format dify-csv -o "out.$2/dify.csv" >/dev/null 2>&1
	LC_ALL=$1 "$KAIRAN" --home b export 370002/dataset/gomi-qa --format langchain >"out.$2/langchain.jsonl" 2>/dev/null
	LC_ALL=$1 "$KAIRAN" --home b export 370002/dataset/gomi-qa >"out.$2/plain.jsonl" 2>/dev/null
	LC_ALL=$1 "$KAIRAN" --home b status --json >"out.$2/status.json" 2>&1
	LC_ALL=$1 "$KAIRAN" --home b id --json >"out.$2/id.json" 2>&1
	LC_ALL=$1 "$KAIRAN" --home b peers --json >"out.$2/peers.json" 2>&1
	LC_ALL=$1 "$KAIRAN" --home b log --json >"out.$2/log.json" 2>&1
	LC_ALL=$1 "$KAIRAN" --home b check --json clean >"out.$2/check.json" 2>&1
	# human output of the same commands, for contrast
	LC_ALL=$1 "$KAIRAN" --home b status >"human.$2" 2>&1
	LC_ALL=$1 "$KAIRAN" --home b check clean >>"human.$2" 2>&1
}
run C c
run $JA ja

files=$(cd out.c && ls | wc -l)
bytes=$(cat out.c/* | wc -c)
diag "$files machine outputs, $bytes bytes under C"
check "search --json is byte-identical under $JA and C" sh -c "cmp out.c/search.json out.ja/search.json && cmp out.c/search-kind.json out.ja/search-kind.json && grep -q '\"total\":[1-9]' out.c/search.json"
check "export dify-csv, langchain and jsonl are byte-identical" sh -c "cmp out.c/dify.csv out.ja/dify.csv && cmp out.c/langchain.jsonl out.ja/langchain.jsonl && cmp out.c/plain.jsonl out.ja/plain.jsonl && test -s out.c/dify.csv"
check "status, id, peers, log and check --json are byte-identical" sh -c "for f in status id peers log check; do cmp out.c/\$f.json out.ja/\$f.json || exit 1; done"
check "every machine output is identical (none left out)" diff -r out.c out.ja
check "the human output did switch: Japanese under $JA" sh -c "grep -q '確認した項目 1 件' human.ja && grep -q '発行 ' human.ja"
check "and English under C" sh -c "grep -q '1 item(s) checked' human.c && grep -q 'issued ' human.c"

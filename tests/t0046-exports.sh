#!/bin/sh
# t0046 - exports that real tools keep intact: Hugging Face cards with the
# Hub's licence ids (accepted on input, written on output; PDL as other +
# license_name + license_link), data_files checked to exist, and the
# LangChain JSONL read by LangChain's own JSONLinesLoader (npm, installed by
# make deps) keeping the 出典 line in the text and a stable id per row.
. "$(dirname "$0")/lib.sh"
plan 16
cd "$T"

k --home board init --name 香川県 --lg-code 370002 >/dev/null
CARD=$SRC/deploy/samples/370002/datasets/gomi-qa
# card NAME 'license lines' [data_files line]: a copy of the sample dataset with other licence lines
card() {
	mkdir -p "$1/datasets/$1/data"
	cp "$CARD/data/qa.jsonl" "$1/datasets/$1/data/qa.jsonl"
	awk -v lic="$2" -v df="${3:-}" -v slug="$1" '
		/^license:/ { n = split(lic, l, "|"); for (i = 1; i <= n; i++) print l[i]; next }
		/^id:/ { print "id: 370002/dataset/" slug; next }
		df != "" && /data_files:/ { print "    data_files: " df; next }
		{ print }' "$CARD/README.md" >"$1/datasets/$1/README.md"
}

# --- licences as the Hub names them are accepted --------------------------------
card hubcc 'license: cc-by-4.0'
check "license: cc-by-4.0 (the Hub's id) passes check" k --home board check hubcc
card hubcc0 'license: cc0-1.0'
check "license: cc0-1.0 passes check" k --home board check hubcc0
card hubpdl 'license: other|license_name: pdl-1.0|license_link: https://www.digital.go.jp/resources/open_data/public_data_license_v1.0'
check "license: other + license_name: pdl-1.0 + license_link passes check" k --home board check hubpdl
card nolink 'license: other|license_name: pdl-1.0'
k --home board check nolink >/dev/null 2>err; rc=$?
check "license: other without license_link is refused, saying what to add" sh -c "test $rc = 1 && grep -q 'README.md:[0-9]*: license: other needs license_link' err"
card noname 'license: other'
k --home board check noname >/dev/null 2>err; rc=$?
check "license: other without license_name is refused" sh -c "test $rc = 1 && grep -q 'needs license_name (pdl-1.0)' err"
card mit 'license: mit'
k --home board check mit >/dev/null 2>err; rc=$?
check "a licence outside the policy is still refused, by line" sh -c "test $rc = 1 && grep -q \"README.md:9: license 'mit' is not allowed\" err"

# --- data_files must name files that travel with the card ---------------------------
card missing 'license: cc-by-4.0' '[{split: train, path: data/train.jsonl}]'
k --home board check missing >/dev/null 2>err; rc=$?
check "a data_files path that does not exist fails check, naming line, path and what exists" sh -c "
	test $rc = 1 && grep -q \"README.md:17: data_files path 'data/train.jsonl' matches no file beside the card (it has: data/qa.jsonl)\" err"
diag "$(head -1 err)"
card globbed 'license: cc-by-4.0' '"data/*.jsonl"'
check "a data_files glob that matches passes" k --home board check globbed
card noglob 'license: cc-by-4.0' '[{split: train, path: ["data/*.csv"]}]'
check_fails "a data_files glob that matches nothing fails" k --home board check noglob
check_fails "publish refuses it too" k --home board publish missing

# --- the Hub's form on output --------------------------------------------------------------
k --home board publish "$SRC/deploy/samples/370002" hubpdl >/dev/null 2>&1
k --home board export 370002/dataset/gomi-qa --format hf -o hf-cc 2>/dev/null
k --home board export 370002/dataset/hubpdl --format hf -o hf-pdl 2>/dev/null
cat >hub.py <<'PY'
import sys, yaml
# licence ids of the Hugging Face Hub (huggingface.co/docs/hub/repositories-licenses), the ones kairan uses
HUB = {"cc-by-4.0", "cc0-1.0", "other"}
d = sys.argv[1]
text = open(d + "/README.md", encoding="utf-8").read()
assert text.startswith("---\n"), "no front matter"
card = yaml.safe_load(text.split("---\n")[1])
lic = card["license"]
assert lic in HUB, "licence %r is not a Hub id" % lic
if lic == "other":
    assert card.get("license_name") == "pdl-1.0" and card["license_link"].startswith("https://"), card
import os
for c in card["configs"]:
    for f in c["data_files"]:
        p = f["path"] if isinstance(f, dict) else f
        assert os.path.exists(os.path.join(d, p)), "data_files %s missing" % p
print(lic, card.get("license_name", ""), sum(1 for _ in open(os.path.join(d, "data/qa.jsonl"))))
PY
check "export --format hf: the card says license: cc-by-4.0, its data_files exist (YAML parsed by PyYAML)" sh -c "python3 hub.py hf-cc | grep -qx 'cc-by-4.0  40'"
check "a PDL card is written as other + license_name: pdl-1.0 + license_link" sh -c "python3 hub.py hf-pdl | grep -qx 'other pdl-1.0 40'"
check "the exported folder is accepted by kairan check as it is (Hub ids on input)" k --home board check hf-pdl

# --- LangChain's own loader --------------------------------------------------------------
k --home board export 370002/dataset/gomi-qa --format langchain -o lc.jsonl 2>/dev/null
t0=$(now_ms)
node "$SRC/tests/node/langchain_load.mjs" "$T/lc.jsonl" >docs.jsonl 2>lc.err || sed 's/^/# /' lc.err
diag "JSONLinesLoader read $(wc -l <docs.jsonl) documents in $(( $(now_ms) - t0 )) ms"
check "JSONLinesLoader keeps the 出典 line in every document's text" test "$(sqlite3 :memory: "SELECT count(*) FROM json_each('[' || replace(trim(readfile('docs.jsonl'), char(10)), char(10), ',') || ']')
	WHERE json_extract(value, '\$.text') LIKE 'Q: %' AND json_extract(value, '\$.text') LIKE '%' || char(10) || '出典：香川県「ごみ出し案内 Q&A（県内共通のひな型）」、CC-BY-4.0'")" = 40
check "every document has the id DATASET-ID#ROW-ID" test "$(sqlite3 :memory: "SELECT count(DISTINCT json_extract(value, '\$.id')) FROM json_each('[' || replace(trim(readfile('docs.jsonl'), char(10)), char(10), ',') || ']')
	WHERE json_extract(value, '\$.id') GLOB '370002/dataset/gomi-qa#q[0-9][0-9][0-9]'")" = 40
# edit one row's answer and publish again: the ids stay, only that text changes
sed '1s/キャップとラベルを外し/ラベルをはがし/' "$CARD/data/qa.jsonl" >edited.jsonl
mkdir -p re/datasets/gomi-qa/data && sed 's/^version: 1.0.0/version: 1.0.1\nversion_notes: 一行目の回答を直した/' "$CARD/README.md" >re/datasets/gomi-qa/README.md
cp edited.jsonl re/datasets/gomi-qa/data/qa.jsonl
k --home board publish re >/dev/null 2>&1
k --home board export 370002/dataset/gomi-qa --format langchain -o lc2.jsonl 2>/dev/null
node "$SRC/tests/node/langchain_load.mjs" "$T/lc2.jsonl" >docs2.jsonl 2>>lc.err
check "re-exported after an edit: the same ids, one text changed" sh -c "
	test \"\$(sed 's/\"text\".*//' docs.jsonl)\" = \"\$(sed 's/\"text\".*//' docs2.jsonl)\" &&
	test \$(diff docs.jsonl docs2.jsonl | grep -c '^>') = 1"

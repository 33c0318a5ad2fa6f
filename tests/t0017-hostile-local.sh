#!/bin/sh
# t0017 - the files t0016 serves from a hostile peer, given to `kairan check`
# and `kairan publish` on the publisher's own machine: an error naming the
# file (and line), quickly, never a crash, and nothing published. And CR or
# CRLF line ends as a real editor writes them: accepted, numbered like LF,
# published and replicated.
. "$(dirname "$0")/lib.sh"
plan 36
cd "$T"
P=$(port_base)

k --home pub init --name 三豊市 --lg-code 372081 >/dev/null
k --home pub publish "$SRC/deploy/samples/372081" >/dev/null
before=$(state_fingerprint pub)

fm() { # fm KIND SLUG: valid front matter lines of the publisher's own item
	printf -- '---\nkind: %s\nid: 372081/%s/%s\ntitle: 題\npublisher: {lg_code: "372081", name: 三豊市}\n' "$1" "$1" "$2"
	printf 'version: 1.0.0\npublished: 2024-06-01\nupdated: 2024-06-01\nlicense: PDL-1.0\n'
	printf 'confidentiality: 機密性1\ndomains: [広報]\nai_uses: [文書作成]\n'
}
mkdir bad
printf -- '---\r' >bad/cr.md
printf -- '---\r\n\r\n\r' >bad/crlf.md
{ fm prompt braces; printf -- '---\n'; awk 'BEGIN { for (i = 0; i < 30000; i++) printf "{{"; print "}}" }'; } >bad/braces.md
{ fm case nested; printf 'x: '; awk 'BEGIN { for (i = 0; i < 200000; i++) printf "["; print "" }'; printf -- '---\n本文\n'; } >bad/nested.md
{ fm case flow; printf 'x: '; awk 'BEGIN { for (i = 0; i < 15000; i++) printf "{a: "; print "" }'; printf -- '---\n本文\n'; } >bad/flow.md
{ fm case anchors; printf 'x: ['; awk 'BEGIN { for (i = 0; i < 6000; i++) printf "&a%d x, ", i; print "]" }'; printf -- '---\n本文\n'; } >bad/anchors.md
{ fm case vocab | sed '/^domains:/d'; printf 'domains: ['; awk 'BEGIN { for (i = 0; i < 4000; i++) printf "%s不明%d", i ? ", " : "", i; print "]" }'
  printf 'sources: [{title: 資料, issuer: 三豊市}]\n---\n本文\n'; } >bad/vocab.md

try() { # try FILE PATTERN: check and publish refuse it, saying so, quickly
	t0=$(now_ms)
	k --home pub check "bad/$1" >check.out 2>&1
	rc=$?
	t1=$(now_ms)
	diag "$1: check answered in $((t1 - t0)) ms (exit $rc)"
	check "check $1: exit 1, not a crash (exit $rc), in under 5 s" test "$rc" = 1 -a $((t1 - t0)) -lt 5000
	check "check $1: says '$2'" grep -q -- "$2" check.out
	grep -q -- "$2" check.out || sed 's/^/#   /' check.out | head -5
	k --home pub publish "bad/$1" >publish.out 2>&1
	rc=$?
	check "publish $1: refused (exit $rc), nothing published" sh -c \
		"test $rc = 1 && grep -q 'nothing was published' publish.out"
}
try cr.md "bad/cr.md: line 1: front matter is not closed"
try crlf.md "bad/crlf.md: line 1: front matter is not closed"
try braces.md "bad/braces.md:14: the prompt uses {{}} but variables does not declare it"
try nested.md "bad/nested.md: line 13: front matter is longer than 65536 bytes"
try flow.md "bad/flow.md: line 13: front matter is nested more than 32 levels deep"
try anchors.md "bad/anchors.md: line 13: front matter uses more than 100 YAML anchors"
try vocab.md "bad/vocab.md: … and 3900 more findings in this file"
check "vocab.md: 100 findings are listed, then the count" test "$(grep -c '\[domains\]' check.out)" = 100

t0=$(now_ms)
k --home pub publish bad >publish.out 2>&1
rc=$?
t1=$(now_ms)
diag "publish of the whole directory: $((t1 - t0)) ms"
check "publish of the directory is refused as a whole (exit $rc)" sh -c "test $rc = 1 && grep -q 'nothing was published' publish.out"
check "nothing the publisher holds changed" test "$before" = "$(state_fingerprint pub)"

# A dataset whose rows end in bare CRs: refused by name, not read as one row.
mkdir -p ds/data
cat >ds/README.md <<'EOF'
---
kind: dataset
id: 372081/dataset/cr-rows
title: 改行の壊れたデータ
publisher: {lg_code: "372081", name: 三豊市}
version: 1.0.0
published: 2024-06-01
updated: 2024-06-01
license: CC-BY-4.0
confidentiality: 機密性1
language: [ja]
---
説明
EOF
printf '{"id":"1","question":"q","answer":"a","source":{"issuer":"三豊市"},"updated":"2024-06-01"}\r{"id":"2"}\r' >ds/data/rows.jsonl
k --home pub check ds/README.md >check.out 2>&1
rc=$?
check "a dataset with bare-CR rows: check exits 1 (exit $rc)" test "$rc" = 1
check "and names the file, row and the bare CR" grep -q 'ds/data/rows.jsonl:1: row 1 contains a bare CR' check.out

# Line ends as editors write them: CR (old Mac) and CRLF (Windows) are line
# ends, numbered as LF, everywhere from check to a subscriber's index.
item 372081 cr-ends 改行がCRの事例 | tr '\n' '\r' >cr-ends.md
item 372081 crlf-ends 改行がCRLFの事例 | sed 's/$/\r/' >crlf-ends.md
check "an item with CR line ends passes check" k --home pub check cr-ends.md
check "an item with CRLF line ends passes check" k --home pub check crlf-ends.md
sed 's/機密性1/機密性2/' cr-ends.md >cr-conf.md
k --home pub check cr-conf.md >check.out 2>&1
check "a finding in a CR file names the line an editor shows (10)" grep -q 'cr-conf.md:10: confidentiality 機密性2' check.out
printf '個人番号 1234 5678 9018 の記載\r' >>cr-ends.md
k --home pub check cr-ends.md >check.out 2>&1
check "the PII scan numbers CR lines the same way (line 17)" grep -q 'cr-ends.md:17: マイナンバー' check.out
item 372081 cr-ends 改行がCRの事例 | tr '\n' '\r' >cr-ends.md
check "both publish" k --home pub publish cr-ends.md crlf-ends.md
serve pub $P $((P + 1))
k --home town init --name 西海市 --lg-code 422126 >/dev/null
k --home town follow tcp://127.0.0.1:$P --publisher "$(k --home pub id --fingerprint)" >/dev/null
check "a subscriber accepts them" k --home town sync --timeout 10
check "and shows the CR item" k --home town show 372081/case/cr-ends
check "and the CRLF item" k --home town show 372081/case/crlf-ends
k --home town search 改行 >search.out
check "search finds both on the subscriber" sh -c "grep -q 'cr-ends' search.out && grep -q 'crlf-ends' search.out"
check "kairan verify passes on the subscriber" k --home town verify

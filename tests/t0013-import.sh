#!/bin/sh
# t0013 - import case records from a spreadsheet: Shift_JIS/CP932 as
# Japanese Excel writes it, UTF-8 with and without a BOM; the files pass
# check and publish, the values survive the round trip, bad rows are
# listed with the reason.
. "$(dirname "$0")/lib.sh"
plan 10
cd "$T"

k --home h init --name 三豊市 --lg-code 372081 >/dev/null
printf '%s\r\n' 'スラッグ,タイトル,分野,AI用途,導入方式,段階,結果,指標,単位,目標,実績,人口,本文,出典,出典発行者' \
	'"chat-poc","問合せ対応チャットボットの実証（ＡＩ）","住民問合せ対応、環境・エネルギー","対話生成","webサービス","結果確認","見送り","正答率","%","99","94.1","62000","想定質問で正答率を測った。
目標に届かず見送り。","実証結果","三豊市"' \
	'"summary","会議録の要約","庁内一般業務","情報抽出・要約","webサービス","PoC","見送った","","","","","","確認の手間が残った。","試行結果","三豊市"' >cases.utf8.csv
iconv -f UTF-8 -t CP932 cases.utf8.csv >cases.sjis.csv
check "the CP932 file really is not UTF-8" sh -c "! iconv -f UTF-8 -t UTF-8 cases.sjis.csv >/dev/null 2>&1"

k --home h import cases.sjis.csv --kind case -o sjis --separator 、 --confidentiality 機密性1 --license PDL-1.0 >out 2>err; rc=$?
check "a refused row makes import exit 1" test $rc = 1
check "the refused row is named with the reason and the nearest value" grep -q "cases.sjis.csv row 3: outcome '見送った' is not allowed: did you mean '見送り'" err
check "the good row became a case file that passes check" k --home h check sjis
check "and publishes" k --home h publish sjis
check "the values survive the round trip (CP932 -> item -> show)" sh -c "\"$KAIRAN\" --home h show 372081/case/chat-poc > shown &&
	grep -q '問合せ対応チャットボットの実証（ＡＩ）' shown && grep -q 'achieved: 94.1' shown && grep -q '^目標に届かず見送り。' shown"
check "search finds it" sh -c "\"$KAIRAN\" --home h search ＡＩ チャットボット | grep -q 372081/case/chat-poc"

printf '\357\273\277' >bom.csv; cat cases.utf8.csv >>bom.csv
k --home h import bom.csv --kind case -o bom --separator 、 --confidentiality 機密性1 --license PDL-1.0 >/dev/null 2>&1
check "UTF-8 with a BOM gives the same file" cmp -s sjis/chat-poc.md bom/chat-poc.md
printf '%s\r\n' '識別,件名,分類,使い方,出典,出典発行者' 'x1,別名の列,観光,対話生成,資料,美祢市' >mapped.csv
k --home h import mapped.csv --kind case -o mapped --map '識別=slug,分類=domains,使い方=ai_uses' --confidentiality 機密性1 --license PDL-1.0 >/dev/null 2>&1
check "--map maps other headers" sh -c "grep -q 'domains: \[\"観光\"\]' mapped/x1.md && grep -q 'title: \"別名の列\"' mapped/x1.md"
printf 'a,b\r\n\377\376\375,x\r\n' >garbage.csv
k --home h import garbage.csv --kind case 2>err; rc=$?
check "a file in neither encoding gets a clear error" sh -c "test $rc = 1 && grep -q 'neither UTF-8 nor Shift_JIS/CP932' err"

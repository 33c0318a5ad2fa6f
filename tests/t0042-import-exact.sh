#!/bin/sh
# t0042 - import never bends a value: a CP932 sheet written the way Excel
# writes it (CRLF, quoted line breaks, 62,000, 35%, 令和6年6月1日,
# 2024/6/1, full-width digits, ①, 髙, 﨑, ～) imports with every value
# exact, field by field; importing the edited sheet (rows moved, one cell
# changed) bumps exactly the changed row; every unreadable cell is an
# error naming row, column and value, and nothing is written for it.
. "$(dirname "$0")/lib.sh"
plan 47
cd "$T"
FX=$SRC/tests/fixtures

k --home h init --name 三豊市 --lg-code 372081 >/dev/null
check "the fixture is CP932, not UTF-8" sh -c "! iconv -f UTF-8 -t UTF-8 $FX/import-excel.csv >/dev/null 2>&1"
check "its rows end in CRLF and a cell holds a line break" sh -c "
	iconv -f CP932 -t UTF-8 $FX/import-excel.csv | grep -c \$(printf '\r\$') | grep -qx 4 &&
	iconv -f CP932 -t UTF-8 $FX/import-excel.csv | grep -q '^環境・エネルギー\",'"

k --home h import $FX/import-excel.csv --kind case -o out >imp.out 2>imp.err; rc=$?
check "the sheet imports (exit 0, no refused row)" sh -c "test $rc = 0 && grep -q '3 case file(s) written to out/; 0 row(s) refused' imp.out"
C2=out/takasaki-chat.md
C3=$(ls out/case-*.md 2>/dev/null | head -1)
C4=out/yes.md
diag "row 3 has no ID: its id comes from its title: $C3"

# field by field (each line exactly as the front matter holds it)
f() { check "$1: $2" grep -qxF -- "$2" "$1"; }
f $C2 'title: "髙﨑①号 問合せチャットボット"'
f $C2 'published: 2024-06-01'
f $C2 'updated: 2024-06-01'
f $C2 'population: {value: 62000}'
f $C2 '  - {name: "正答率", unit: "%", target: 99, achieved: 35}'
f $C2 'domains: ["住民問合せ対応", "環境・エネルギー"]'
f $C2 'lessons: ["小さく始め、早く測る。", "職員の確認、記録、共有を続ける。"]'
f $C2 'license: "PDL-1.0"'
f $C2 'confidentiality: "機密性1"'
f $C2 '目標に届かず見送り。'
f $C3 'title: "会議録の要約（R6）"'
f $C3 'published: 2024-06-01'
f $C3 'updated: 2024-06-10'
f $C3 'population: {value: 62000}'
f $C3 '  - {name: "削減時間", unit: "時間", target: 1500, achieved: 1200}'
f $C3 'license: "CC-BY-4.0"'
f $C4 'title: "1.10"'
f $C4 'id: 372081/case/yes'
f $C4 'published: 2019-04-30'
f $C4 'updated: 2019-05-01'
f $C4 '"引用"と～波ダッシュ、﨑。'

check "the files pass check" k --home h check out
check "and publish" k --home h publish out
check "show gives the values back (CP932 -> item -> signed file)" sh -c "
	\"$KAIRAN\" --home h show 372081/case/takasaki-chat >shown &&
	grep -qxF 'title: \"髙﨑①号 問合せチャットボット\"' shown && grep -qxF 'population: {value: 62000}' shown"
check "search finds the row by a word of its title" sh -c "\"$KAIRAN\" --home h search 髙﨑 | grep -q 372081/case/takasaki-chat"

# the same sheet again: the same items, nothing new
k --home h import $FX/import-excel.csv --kind case -o again >again.out 2>&1
check "importing the same sheet again gives the same files" sh -c "cmp -s $C2 again/takasaki-chat.md && cmp -s $C3 again/$(basename "$C3") && cmp -s $C4 again/yes.md"
check "and says every row is unchanged since published" grep -q '3 unchanged since published, 0 new version(s)' again.out
check "so publish has nothing to do" sh -c "\"$KAIRAN\" --home h publish again | grep -q 'nothing to publish'"

# the edited sheet: rows in another order, one cell changed (1,200時間 -> 1,300時間)
k --home h import $FX/import-excel-edited.csv --kind case -o edited >ed.out 2>ed.err; rc=$?
check "a changed row without a reason is refused, naming the row and what to do" sh -c "test $rc = 1 &&
	grep -q 'import-excel-edited.csv row 3: the row changed since 372081/case/$(basename "$C3" .md) 1.0.0 was published: say why in a 改訂理由 column or with --notes' ed.err"
k --home h import $FX/import-excel-edited.csv --kind case -o edited --notes '実績を更新した' >ed.out 2>ed.err; rc=$?
cat ed.out | sed 's/^/# /'
check "with --notes it imports" test $rc = 0
check "exactly the changed row gets a new version" sh -c "grep -c 'changed: version' ed.out | grep -qx 1 &&
	grep -q 'row 3: 372081/case/$(basename "$C3" .md) changed: version 1.0.0 -> 1.0.1' ed.out &&
	grep -q '2 unchanged since published, 1 new version(s)' ed.out"
check "the moved rows keep their files byte for byte" sh -c "cmp -s $C2 edited/takasaki-chat.md && cmp -s $C4 edited/yes.md"
check "the changed one says version 1.0.1, why, and the new value" sh -c "
	grep -qxF 'version: \"1.0.1\"' edited/$(basename "$C3") && grep -qxF 'version_notes: \"実績を更新した\"' edited/$(basename "$C3") &&
	grep -qxF '  - {name: \"削減時間\", unit: \"時間\", target: 1500, achieved: 1300}' edited/$(basename "$C3")"
check "publishing it moves only that item" sh -c "\"$KAIRAN\" --home h publish edited >pub.out &&
	\"$KAIRAN\" --home h show 372081/case/$(basename "$C3" .md) | grep -qxF 'version: \"1.0.1\"' &&
	\"$KAIRAN\" --home h show 372081/case/takasaki-chat | grep -qxF 'version: \"1.0.0\"'"

# cells that cannot be read exactly
printf '%s\r\n' 'ID,タイトル,分野,AI用途,指標,単位,目標,実績,人口,公開日,更新日,出典,機密性,ライセンス' \
	'bad-a,読めない人口,観光,対話生成,正答率,%,99,90,6万2千,2024/6/1,2024/6/1,資料,機密性1,PDL-1.0' \
	'bad-b,二桁の年,観光,対話生成,正答率,%,99,90,62000,24/6/1,2023/2/29,資料,機密性1,PDL-1.0' \
	'bad-c,区切りの誤り,観光,対話生成,正答率,%,約100,"1,20",62000,2024/6/1,2024/6/1,資料,機密性1,PDL-1.0' \
	'bad-d,単位の食い違い,観光,対話生成,正答率,%,99,90時間,"62,000.5",令和元年4月30日,2024/6/1,資料,機密性1,PDL-1.0' \
	'bad-e,機密性なし,観光,対話生成,正答率,%,99,90,62000,2024/6/1,2024/6/1,資料,,PDL-1.0' >bad.csv
k --home h import bad.csv --kind case -o bad >bad.out 2>bad.err; rc=$?
sed 's/^/# /' bad.err
check "unreadable cells make import exit 1 and write nothing" sh -c "test $rc = 1 && test ! -e bad && grep -q '0 case file(s) written to bad/; 5 row(s) refused' bad.out"
e() { check "error names row, column and value: $1" grep -qF -- "$1" bad.err; }
e "bad.csv row 2: column I '人口': '6万2千' is not a number"
e "bad.csv row 3: column J '公開日': '24/6/1' has a two-digit year"
e "bad.csv row 3: column K '更新日': '2023/2/29' is not a day of the calendar"
e "bad.csv row 4: column G '目標': '約100' is not a number"
e "bad.csv row 4: column H '実績': '1,20' has a thousands separator in the wrong place"
e "bad.csv row 5: column H '実績': '90時間' is in 時間 but the unit is '%'"
e "bad.csv row 5: column I '人口': '62,000.5' must be a whole number"
e "bad.csv row 5: column J '公開日': '令和元年4月30日' is not a day of 令和"
e "bad.csv row 6: the row does not state its confidentiality"

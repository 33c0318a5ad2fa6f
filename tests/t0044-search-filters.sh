#!/bin/sh
# t0044 - search filters are checked against the closed vocabularies
# (CONTENT.md) with the nearest value for a slip, instead of answering 0
# hits; --pref takes the number or the name (37, 香川県, 香川); --since
# takes the date forms import takes, each giving the same answer.
. "$(dirname "$0")/lib.sh"
plan 20
cd "$T"

k --home h init --name 三豊市 --lg-code 372081 >/dev/null
mkdir items
item 372081 old-case 古いチャットボットの実証 >items/old.md
item 372081 new-case 新しいチャットボットの実証 >items/new.md
sed -i 's/^published: 2024-06-01/published: 2024-08-01/; s/^updated: 2024-06-01/updated: 2024-08-01/; s/^domains: .*/domains: [子ども・子育て]/' items/new.md
k --home h publish items >/dev/null

refused() { # refused DESCRIPTION EXPECTED-MESSAGE ARGS...
	d=$1 m=$2; shift 2
	k --home h search チャットボット "$@" >out 2>err; rc=$?
	check "$d" sh -c "test $rc = 2 && grep -qF -- \"$m\" err && ! grep -q 'hit(s)' out"
}
refused "--kind cases suggests case" "--kind: kind 'cases' is not one of the values: did you mean 'case'?" --kind cases
refused "--domain 子育て suggests 子ども・子育て" "did you mean '子ども・子育て'?" --domain 子育て
refused "--outcome 見送った suggests 見送り" "did you mean '見送り'?" --outcome 見送った
refused "--ai-use with a slip suggests the value" "did you mean '対話生成'?" --ai-use 対話生
refused "--deployment lists the values" "(allowed: webサービス, 組織向けプラットフォーム" --deployment saas
refused "--population-band lists the bands" "(allowed: <1万, 1-5万, 5-20万, 20万+)" --population-band 10万
refused "--pref 香川件 suggests 香川県" "prefecture '香川件' is not known: did you mean 香川県 (37)?" --pref 香川件
refused "--pref 48 is out of range" "not a number from 01 (北海道) to 47 (沖縄県)" --pref 48
refused "--since with no such day" "'2024/2/30' is not a day of the calendar" --since 2024/2/30
refused "--since with a two-digit year" "two-digit year" --since 24/7/1
refused "--publisher with a wrong check digit names the right code" "did you mean 372081?" --publisher 372082
refused "--limit with junk" "--limit takes 1 to 1000" --limit 10x

hits() { k --home h search チャットボット "$@" --json | sed -n 's/.*"total":\([0-9]*\).*/\1/p'; }
check "unfiltered: both items" test "$(hits)" = 2
for p in 37 香川県 香川 ３７; do
	check "--pref $p finds both" test "$(hits --pref $p)" = 2
done
check "--pref 13 finds none (and says so without an error)" test "$(hits --pref 東京)" = 0
for d in 2024-07-01 2024/7/1 2024年7月1日 令和6年7月1日 R6.7.1; do
	n=$(hits --since $d)
	[ "$n" = 1 ] || diag "--since $d: $n"
	echo "$n" >>since.counts
done
check "--since takes 2024-07-01, 2024/7/1, 2024年7月1日, 令和6年7月1日, R6.7.1 with one answer (1)" sh -c "sort -u since.counts | tr -d '\n' | grep -qx 1"
check "--domain 子ども・子育て finds the one item" test "$(hits --domain 子ども・子育て)" = 1

#!/bin/sh
# t0080 - the render cache follows what changed, with real nodes: 香川県
# (370002, a board member) serves the pages and follows 三豊市 (372081),
# 豊田市 (232114) and 高松市 (372013, the other board member; 1 of 2 signs
# an endorsement into a verdict). A new version of 三豊市's case replicated
# while its page is asked for all the time: the next answer after the node
# applied it shows the new version and its 版の履歴 (never the old page),
# while 豊田市's page, another prefecture, stays cached (X-Kairan-Cache:
# hit) and unchanged. An endorsement arriving from 高松市 changes the
# board verdict on the page at once.
. "$(dirname "$0")/lib.sh"
plan 11
cd "$T"
P=$(port_base)
A=372081/case/t80-gomi
B=232114/case/t80-kosodate
k --home kagawa init --name 香川県 --lg-code 370002 >/dev/null
k --home takamatsu init --name 高松市 --lg-code 372013 >/dev/null
k --home mitoyo init --name 三豊市 --lg-code 372081 >/dev/null
k --home toyota init --name 豊田市 --lg-code 232114 >/dev/null
for n in kagawa takamatsu; do k --home $n id --json >$n.json; done
k --home kagawa federation create --name 香川県生成AI連携 --threshold 1 --board kagawa.json --board takamatsu.json \
	-o g.kfm >/dev/null
k --home kagawa federation sign g.kfm --yes >/dev/null
k --home takamatsu federation sign g.kfm --yes >/dev/null
for n in kagawa takamatsu; do k --home $n federation apply g.kfm >/dev/null; done
item 372081 t80-gomi ごみ出し案内の実証 'edition: 第1版' >a1.md
item 232114 t80-kosodate 子育て相談の要約 >b.md
k --home mitoyo publish a1.md >/dev/null
k --home toyota publish b.md >/dev/null
sed -i "s|^web = .*|web = http://127.0.0.1:$((P + 9))|" kagawa/config
W=http://127.0.0.1:$((P + 9))
serve takamatsu "$P" $((P + 1))
serve mitoyo $((P + 2)) $((P + 3))
serve toyota $((P + 4)) $((P + 5))
serve kagawa $((P + 6)) $((P + 7))
k --home kagawa follow tcp://127.0.0.1:$((P + 2)) --publisher "$(k --home mitoyo id --fingerprint)" >/dev/null
k --home kagawa follow tcp://127.0.0.1:$((P + 4)) --publisher "$(k --home toyota id --fingerprint)" >/dev/null
k --home kagawa follow tcp://127.0.0.1:$P --publisher "$(k --home takamatsu id --fingerprint)" >/dev/null
k --home takamatsu follow tcp://127.0.0.1:$((P + 2)) --publisher "$(k --home mitoyo id --fingerprint)" >/dev/null
check "香川県 holds both cases and 高松市 holds 三豊市's" wait_for 40 sh -c "
	\"$KAIRAN\" --home kagawa show $A && \"$KAIRAN\" --home kagawa show $B && \"$KAIRAN\" --home takamatsu show $A"
wait_for 10 curl -sf "$W/"

# fetch PATH FILE: the body in FILE, X-Kairan-Cache on stdout
fetch() { curl -s -D "$2.h" -o "$2" "$W/items/$1" && tr -d '\r' <"$2.h" | sed -n 's/^X-Kairan-Cache: //p'; }
fetch $A a0.html >/dev/null
c=$(fetch $A a1.html)
check "a page asked again is served from the render cache (X-Kairan-Cache: $c)" test "$c" = hit
check "三豊市's page: 第1版, one version, ボードの判定 未推奨" sh -c "grep -q '1.0.0（第1版）\|第1版' a1.html &&
	grep -q '1件の版' a1.html && grep -q 'ボードの判定: 未推奨' a1.html"
fetch $B b0.html >/dev/null

# 三豊市 publishes 第2版 while its page is asked for every 0.1 s (busy) and
# 豊田市's every second; once the node has applied it, the next answer must
# be the new page.
item 372081 t80-gomi ごみ出し案内の実証 'edition: 第2版
version_notes: 回答の出典を明記した' | sed 's/^version: 1.0.0/version: 2.0.0/' >a2.md
( j=0; while [ $j -lt 600 ] && [ ! -e stop ]; do
	curl -s -o /dev/null "$W/items/$A"
	[ $((j % 10)) -eq 0 ] && curl -s -o /dev/null "$W/items/$B"
	sleep 0.1; j=$((j + 1)); done ) &
poller=$!
sleep 1
k --home mitoyo publish a2.md >/dev/null
i=0 seen=0
while [ $i -lt 600 ]; do
	if "$KAIRAN" --home kagawa show $A 2>/dev/null | grep -q '2.0.0'; then
		seen=1
		fetch $A a2.html >a2.cache
		break
	fi
	sleep 0.05
	i=$((i + 1))
done
touch stop
wait $poller
diag "第2版 applied on 香川県 about $((i * 5 / 100)) s after it was published (the page busy meanwhile; first answer after: $(cat a2.cache))"
check "the node applied 第2版" test $seen = 1
check "the first answer after it shows 第2版 (the page was busy: never the old one)" sh -c "grep -q '第2版' a2.html &&
	grep -q '2.0.0' a2.html"
check "its 版の履歴 lists both versions with the diff link and the reason" sh -c "grep -q '2件の版' a2.html &&
	grep -q '前の版との差分' a2.html && grep -q '回答の出典を明記した' a2.html"
sleep 0.6
c=$(fetch $B b1.html)
check "豊田市's page (another prefecture) stayed in the render cache: X-Kairan-Cache $c" test "$c" = hit
check "and reads as before" cmp b0.html b1.html
c=$(fetch $A a3.html)
check "三豊市's new page is cached in turn ($c): 第2版, ボードの判定 未推奨" sh -c "test '$c' = hit && grep -q '2件の版' a3.html &&
	grep -q 'ボードの判定: 未推奨' a3.html"

# 高松市 endorses 第2版: the verdict changes on the next answer.
rm -f stop
( j=0; while [ $j -lt 600 ] && [ ! -e stop ]; do curl -s -o /dev/null "$W/items/$A"; sleep 0.1; j=$((j + 1)); done ) &
poller=$!
sleep 1
k --home takamatsu endorse $A --verdict 推奨 >/dev/null
i=0 seen=0
while [ $i -lt 600 ]; do
	if "$KAIRAN" --home kagawa show $A 2>/dev/null | grep -q 'ボードの判定: 推奨'; then
		seen=1
		fetch $A a4.html >a4.cache
		break
	fi
	sleep 0.05
	i=$((i + 1))
done
touch stop
wait $poller
diag "the endorsement applied on 香川県 about $((i * 5 / 100)) s after it was written (first answer after: $(cat a4.cache))"
check "the endorsement reached 香川県" test $seen = 1
check "the first answer after it shows ボードの判定: 推奨 and the endorsement" sh -c "
	grep -q 'ボードの判定: 推奨（この版を推奨した委員 1人 / 必要 1人）' a4.html && grep -q 'この版への推奨' a4.html"

#!/bin/sh
# t0086 - one render per page and version, with real nodes: 香川県
# (370002) serves the pages and follows 三豊市 (372081). After a
# replicated change, twenty requests at once of the search page (not busy)
# and of an item's page cost one render (X-Kairan-Cache: one miss, the
# others wait for it and get it: hit), and every one of them shows the
# change. While the search page is busy and 三豊市 keeps publishing, an
# answer lags what the node applied by about a second at most (stale
# answers say so; the page says at what time it was read). An item's
# 版の履歴 on its first open after four replicated versions is the same
# list of commits as git's own log of its file.
. "$(dirname "$0")/lib.sh"
plan 12
cd "$T"
P=$(port_base)
W=http://127.0.0.1:$((P + 9))
Q='q=%E3%81%94%E3%81%BF'                  # ごみ
H=372081/case/t86-hist
k --home mitoyo init --name 三豊市 --lg-code 372081 >/dev/null
k --home kagawa init --name 香川県 --lg-code 370002 >/dev/null
item 372081 t86-first ごみ出し案内の実証 >first.md
item 372081 t86-hist ごみ収集の問合せ 'edition: 第1版' >h1.md
k --home mitoyo publish first.md h1.md >/dev/null
sed -i "s|^web = .*|web = http://127.0.0.1:$((P + 9))|" kagawa/config
serve mitoyo "$P" $((P + 1))
serve kagawa $((P + 2)) $((P + 3))
k --home kagawa follow tcp://127.0.0.1:$P --publisher "$(k --home mitoyo id --fingerprint)" >/dev/null
applied() { "$KAIRAN" --home kagawa show "$1" 2>/dev/null | grep -q "$2"; }
check "香川県 holds 三豊市's cases" wait_for 40 applied $H 'version: 1.0.0'
wait_for 10 curl -sf "$W/"

# fetch URL FILE: the body in FILE, X-Kairan-Cache on stdout
fetch() { curl -s -D "$2.h" -o "$2" "$W$1" && tr -d '\r' <"$2.h" | sed -n 's/^X-Kairan-Cache: //p'; }
# burst N URL PREFIX: N requests at once; their cache headers, one a line, in PREFIX.cache
burst() {
	_i=0 _b=""
	while [ $_i -lt "$1" ]; do fetch "$2" "$3.$_i" >"$3.$_i.c" & _b="$_b $!"; _i=$((_i + 1)); done
	for _p in $_b; do wait "$_p"; done
	cat "$3".*.c >"$3.cache"
}
count() { grep -c "^$1\$" "$2" || true; }

# --- 版の履歴 on first open, after four versions replicated one by one ---
for v in 2 3 4; do
	item 372081 t86-hist ごみ収集の問合せ "edition: 第${v}版
version_notes: 第${v}版の改訂" | sed "s/^version: 1.0.0/version: $v.0.0/" >h$v.md
	k --home mitoyo publish h$v.md >/dev/null
	wait_for 40 applied $H "version: $v.0.0"
done
fetch /items/$H hist.html >hist.cache
sed -n '/<h2>版の履歴<\/h2>/,/<\/table>/p' hist.html | grep -o '<code>[0-9a-f]*</code>' | sed 's/<[^>]*>//g' >page.log
repo=$(ls -d kagawa/repos/*/cases.git | head -1)
git -C "$repo" log --format=%H -- '*t86-hist*' | cut -c1-10 >git.log
diag "版の履歴 on first open ($(cat hist.cache)): $(tr '\n' ' ' <page.log); git log: $(tr '\n' ' ' <git.log)"
check "an item's 版の履歴 on first open lists its 4 versions, the commits of git log of its file" sh -c "
	test \$(wc -l <git.log) = 4 && cmp page.log git.log && grep -q '4件の版' hist.html &&
	grep -q '第4版の改訂' hist.html && grep -q '第2版の改訂' hist.html"

# --- the search page after a change, nobody asking meanwhile: 20 requests, 1 render ---
c0=$(fetch "/search?$Q" s0.html)
c1=$(fetch "/search?$Q" s1.html)
check "the search page is kept (miss, then $c1) and says when it was read" sh -c "
	test '$c0' = miss && test '$c1' = hit && grep -q '時点の内容です' s1.html"
item 372081 t86-new 新しいごみ分別の事例 >new.md
k --home mitoyo publish new.md >/dev/null
check "the new case reached 香川県" wait_for 40 applied 372081/case/t86-new 'title:'
sleep 0.6                                 # the page is not busy: nobody asked for 0.5 s
burst 20 "/search?$Q" sb
diag "20 requests of the search page at once after the change: $(count miss sb.cache) miss, $(count hit sb.cache) hit, $(count stale sb.cache) stale"
check "20 requests at once of the changed search page: one render" test "$(count miss sb.cache)" = 1
check "and all 20 answers show the new case" sh -c "test \$(grep -l 't86-new' sb.[0-9]* | grep -cv '\.c$') = 20"

# --- an item's page after a change: 20 requests, 1 render, none older ---
item 372081 t86-hist ごみ収集の問合せ 'edition: 第5版
version_notes: 第5版の改訂' | sed 's/^version: 1.0.0/version: 5.0.0/' >h5.md
k --home mitoyo publish h5.md >/dev/null
check "第5版 reached 香川県" wait_for 40 applied $H 'version: 5.0.0'
burst 20 /items/$H ib
diag "20 requests of the item page at once after 第5版: $(count miss ib.cache) miss, $(count hit ib.cache) hit, $(count stale ib.cache) stale"
check "20 requests at once of the changed item page: one render, never a stale answer" sh -c "
	test $(count miss ib.cache) = 1 && test $(count stale ib.cache) = 0"
check "and all 20 show 第5版 and its 5 versions" sh -c "test \$(grep -l '5件の版' ib.[0-9]* | grep -cv '\.c$') = 20"

# --- a busy search page while 三豊市 keeps publishing: it lags by a second at most ---
rm -f stop
( while [ ! -e stop ]; do fetch "/search?$Q" busy.html >>busy.cache; sleep 0.02; done ) &
poller=$!
i=1
while [ $i -le 6 ]; do
	item 372081 t86-live-$i "ごみの問合せ 続報$i" >live.md
	k --home mitoyo publish live.md >/dev/null
	sleep 0.3
	i=$((i + 1))
done
wait_for 40 applied 372081/case/t86-live-6 'title:'
a=$(date +%s%N)
wait_for 10 sh -c "curl -s '$W/search?$Q' | grep -q t86-live-6"
b=$(date +%s%N)
touch stop
wait $poller
lag=$(( (b - a) / 1000000 ))
diag "busy search page: $(count hit busy.cache) hit, $(count stale busy.cache) stale, $(count miss busy.cache) miss; it showed the last case $lag ms after 香川県 applied it (bound 2000 ms)"
check "the busy search page showed the last case within 2 s of its arrival" test "$lag" -le 2000
check "the busy page was answered from the cache while 三豊市 published (hit or stale, at most a few misses)" sh -c "
	test $(count miss busy.cache) -le 3 && test $(( $(count hit busy.cache) + $(count stale busy.cache) )) -ge 5"
check "香川県 answered every request and logged no failed render" sh -c "! grep -q 'rendering .* again' kagawa.log"

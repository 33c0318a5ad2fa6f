#!/bin/sh
# t0066 - search filters checked the same way on every path (issue 12):
# the CLI, the web search page and /api/search refuse an unknown kind,
# domain or prefecture with the near miss named (cases -> case, 子育て ->
# 子ども・子育て; in Japanese on the page, as JSON on the API), and take
# --until / until= in every date form --since takes (2024-07-01, 2024/7/1,
# 令和6年6月1日, R6.6.1, full-width digits). One real node.
. "$(dirname "$0")/lib.sh"
plan 27
cd "$T"
P=$(port_base)
k --home pub init --name 三豊市 --lg-code 372081 >/dev/null
sed -i "s|^web = .*|web = http://127.0.0.1:$((P + 2))|" pub/config
W=http://127.0.0.1:$((P + 2))
case_md() { # case_md SLUG UPDATED
	cat <<ITEM
---
kind: case
id: 372081/case/$1
title: 子育て相談のチャットボット（$1）
publisher: {lg_code: "372081", name: 三豊市}
version: 1.0.0
published: 2024-01-10
updated: $2
license: PDL-1.0
confidentiality: 機密性1
domains: [子ども・子育て]
ai_uses: [対話生成]
stage: 導入
outcome: 本格導入
deployment: webサービス
sources: [{title: 子育て相談の記録, issuer: 三豊市}]
---
子育て相談の問い合わせにチャットボットで答えた。
ITEM
}
case_md early 2024-05-31 >a.md
case_md june 2024-06-01 >b.md
case_md later 2024-07-15 >c.md
for f in a.md b.md c.md; do k --home pub publish $f >/dev/null || echo "# publish $f failed"; done
serve pub $P $((P + 1))
wait_for 10 curl -sf "$W/"

ids() { "$KAIRAN" --home pub search 子育て "$@" --json | /usr/bin/python3 -c "
import json, sys; print(' '.join(sorted(h['id'].split('/')[-1] for h in json.load(sys.stdin)['hits'])))"; }
check "three cases, one search" test "$(ids)" = "early june later"

# --until in every form --since takes
for u in 2024-06-01 2024/6/1 令和6年6月1日 R6.6.1 ２０２４年６月１日 令和６年６月１日; do
	check "--until $u: updated on or before 2024-06-01" test "$(ids --until $u)" = "early june"
done
check "--since and --until together" test "$(ids --since 2024/6/1 --until 令和6年7月1日)" = "june"
check_fails "--until after --since only: refused when since is later" k --home pub search 子育て --since 2024-07-01 --until 2024-06-01
cp "$T/last.out" e1.out
check "and says so" grep -q 'is after --until' e1.out
check_fails "--until that is no date is refused" k --home pub search 子育て --until 令和6年13月1日
cp "$T/last.out" e2.out
check "naming the option and the value" grep -q -- "--until: '令和6年13月1日'" e2.out

# filters: the CLI names the near miss
check_fails "--kind cases is refused" k --home pub search 子育て --kind cases
cp "$T/last.out" e3.out
check "with the suggestion case" grep -q "did you mean 'case'" e3.out
check_fails "--domain 子育て is refused" k --home pub search チャットボット --domain 子育て
cp "$T/last.out" e4.out
check "with the suggestion 子ども・子育て" grep -q "did you mean '子ども・子育て'" e4.out

# /api/search: the same checks, as JSON errors
api() { curl -s -o api.json -w '%{http_code}' -G "$W/api/search" --data-urlencode q=子育て "$@"; }
check "/api/search kind=cases: 400" test "$(api --data-urlencode kind=cases)" = 400
check "a JSON error naming the parameter and the value meant, in Japanese" /usr/bin/python3 -c "
import json; d = json.load(open('api.json'))
assert d['parameter'] == 'kind' and d['value'] == 'cases' and d['suggestion'] == 'case' and 'もしかして「case」' in d['error'], d"
check "/api/search domain=子育て: 400 suggesting 子ども・子育て" sh -c "
	test \"\$(curl -s -o d.json -w '%{http_code}' -G $W/api/search --data-urlencode q=チャットボット --data-urlencode domain=子育て)\" = 400 &&
	grep -q '\"suggestion\":\"子ども・子育て\"' d.json"
check "/api/search pref=香川県 is taken (not ignored): all three" sh -c "
	test \"\$(curl -s -o p.json -w '%{http_code}' -G $W/api/search --data-urlencode q=子育て --data-urlencode pref=香川県)\" = 200 &&
	grep -q '\"total\":3' p.json"
check "/api/search pref=香港 is refused" sh -c "
	test \"\$(curl -s -o p2.json -w '%{http_code}' -G $W/api/search --data-urlencode q=子育て --data-urlencode pref=香港)\" = 400"
c=$(api --data-urlencode until=令和6年6月1日)
check "/api/search until=令和6年6月1日: two" sh -c "test $c = 200 && grep -q '\"total\":2' api.json"
c=$(api --data-urlencode until=２０２４/６/１)
check "/api/search until=２０２４/６/１ (full-width digits): two" sh -c "test $c = 200 && grep -q '\"total\":2' api.json"

# the search page: a 400 that says it in Japanese, with a link to the value meant
page() { curl -s -o page.html -w '%{http_code}' -G "$W/search" --data-urlencode q=子育て "$@"; }
check "the page with kind=cases is a 400" test "$(page --data-urlencode kind=cases)" = 400
check "saying 種類「cases」… もしかして「case」ですか？ with a link" sh -c "
	grep -q '種類「cases」は使える値ではありません。もしかして「case」ですか？' page.html && grep -q 'kind=case' page.html"
c=$(page --data-urlencode domain=子育て)
check "the page with domain=子育て suggests 子ども・子育て" sh -c "test $c = 400 && grep -q 'もしかして「子ども・子育て」ですか？' page.html"
c=$(page --data-urlencode until=令和6年6月1日)
check "the page with until=令和6年6月1日 finds two" sh -c "test $c = 200 && grep -q '2件' page.html && ! grep -q '（later）' page.html"
diag "until forms checked: 2024-06-01 2024/6/1 令和6年6月1日 R6.6.1 ２０２４年６月１日 令和６年６月１日 (CLI), 令和6年6月1日 ２０２４/６/１ (API, page)"

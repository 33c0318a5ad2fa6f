#!/bin/sh
# t0070 - Q&A rows do not flood the ranking (issue 12 follow-up): the rows
# of one dataset take at most 3 places (its 3 best), the last of them says
# how many other rows of that dataset matched, the total and the facets
# still count every row, and --all-rows (web: rows=all) ranks them all.
# On the web fixture: ごみ (40 gomi-qa rows) and 試験用 (250 big-qa rows).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/weblib.sh"
plan 14
cd "$T"
P=$(port_base)
web_publishers "$P"
web_town "$P"

# j QUERY [search options]: kairan search --json on the town, into ans.json
j() { q=$1; shift; k --home town search --json "$@" "$q" >ans.json; }
py() { python3 -c "import json; d = json.load(open('ans.json')); h = d['hits']
$1"; }

j ごみ
py "print('# ごみ, first page:', d['total'], 'hit(s),', d['rows_folded'], 'row(s) folded');
[print('#  ', x['id'], x.get('more_rows', '')) for x in h]"
check "ごみ: 三豊市's guideline is on the first page" py "
assert len(h) == min(10, d['total'] - d['rows_folded']) and any(x['id'] == '372081/guideline/ai-guideline' for x in h), [x['id'] for x in h]"
check "and so are 三豊市's case and the gomi-qa card itself" py "
ids = [x['id'] for x in h]; assert '372081/case/gomi-chatbot-poc' in ids and '370002/dataset/gomi-qa' in ids, ids"
check "at most 3 rows of the gomi-qa dataset on it" py "
assert 1 <= sum(1 for x in h if x['id'].startswith('370002/dataset/gomi-qa#')) <= 3, [x['id'] for x in h]"
j ごみ --all-rows --limit 1000
all_total=$(py "print(d['total'])")
all_rows=$(py "print(sum(1 for x in h if x['id'].startswith('370002/dataset/gomi-qa#')))")
best3=$(py "print(' '.join([x['id'] for x in h if x['id'].startswith('370002/dataset/gomi-qa#')][:3]))")
j ごみ --limit 1000
diag "ごみ: $all_total match(es), $all_rows of them gomi-qa rows; the dataset's best three: $best3"
check "the total counts every row: the same with and without --all-rows" py "assert d['total'] == $all_total and $all_rows > 3, d['total']"
check "the 3 rows ranked are the dataset's 3 best (--all-rows order)" py "
assert ' '.join(x['id'] for x in h if x['id'].startswith('370002/dataset/gomi-qa#')) == '$best3'"
check "the last of them carries the others' number ($all_rows - 3), and rows_folded says it too" py "
r = [x for x in h if x['id'].startswith('370002/dataset/gomi-qa#')]
assert r[-1]['more_rows'] == $all_rows - 3 and all('more_rows' not in x for x in r[:-1]), r
assert d['rows_folded'] == $all_rows - 3 and len(h) == d['total'] - d['rows_folded'], (d['rows_folded'], len(h))"
check "--all-rows ranks every row" sh -c "\"$KAIRAN\" --home town search --json --all-rows --limit 1000 ごみ >all.json &&
	python3 -c \"import json; d = json.load(open('all.json')); assert len(d['hits']) == d['total'] == $all_total and d['rows_folded'] == 0\""
check "facet counts are the same either way" sh -c "
	k1=\$(sed 's/.*\"facets\"://' ans.json); k2=\$(sed 's/.*\"facets\"://' all.json); test \"\$k1\" = \"\$k2\""

j 試験用 --kind dataset
check "試験用: 250 big-qa rows, 3 ranked, the third says 247 more; kind facet dataset 250" py "
assert d['total'] == 250 and len(h) == 3 and h[2]['more_rows'] == 247 and d['facets']['kind'] == {'dataset': 250}, d"
k --home town search 試験用 >text.out
sed -n '1,4p;/同じデータセット/p;/hit(s)/p' text.out | sed 's/^/# /'
check "the text output names the folded rows and --all-rows" sh -c "grep -q '… 同じデータセットの他の247行 (every row: --all-rows)' text.out &&
	grep -q '^250 hit(s) (247 more Q&A row(s) folded under their datasets; every row: --all-rows)' text.out"

get "/search?q=%E3%81%94%E3%81%BF" >s.html
check "web 検索 ごみ: the guideline on page 1, a link to the other rows with rows=all" sh -c "
	grep -q 'href=\"/items/372081/guideline/ai-guideline\"' s.html &&
	grep -q 'href=\"/search?q=%E3%81%94%E3%81%BF&amp;rows=all\">同じデータセットの他の$((all_rows - 3))行</a>' s.html &&
	grep -q '「ごみ」：${all_total}件' s.html"
get "/search?q=%E3%81%94%E3%81%BF&rows=all&page=2" >s2.html
n2=$(grep -c 'class="hit"' s2.html)
check "rows=all pages through every row (page 2 has $n2 hits), and says so as a removable condition" sh -c "
	test $n2 -ge 1 && grep -q 'Q&amp;Aの行：すべて表示' s2.html"
get "/search?q=%E8%A9%A6%E9%A8%93%E7%94%A8" >s3.html
check "web 試験用: one page (3 ranked rows), not 25 pages of one dataset" sh -c "
	test \$(grep -c 'class=\"hit\"' s3.html) = 3 && ! grep -q 'page=2' s3.html"
"$TOOLS/searchoracle" town 600 70 >oracle.out; rc=$?
tail -1 oracle.out | sed 's/^/# /'
check "the substring oracle (every row ranked) still agrees with search" test $rc = 0

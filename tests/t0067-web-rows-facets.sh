#!/bin/sh
# t0067 - the search page's ai_use, deployment and popband facets count what
# kairan search --json counts; a dataset row has a page of its own
# (/items/DATASET-ID/rows/ROW: a '#' in a link would open the dataset) used
# by the search page, /api/search and Dify's metadata; Dify's /retrieval
# returns rows as records and fills top_k even where rows outnumber items.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/weblib.sh"
plan 12
cd "$T"
P=$(port_base)
web_publishers "$P"
web_town "$P" "web.retrieval_keys = town-dify-key"
# three of the town's own cases mention 試験 once, deep in a long body: the
# 250 rows of big-qa (試験 in question, answer and category) outrank them
mkdir -p own/cases
for n in 1 2 3; do
	{ printf -- '---\nkind: case\nid: 232114/case/shiken-%d\ntitle: 窓口案内の改善 %d\npublisher: {lg_code: "232114", name: 豊田市}\n' $n $n
	  printf 'version: 1.0.0\npublished: 2024-06-01\nupdated: 2024-06-01\nlicense: PDL-1.0\nconfidentiality: 機密性1\n'
	  printf 'domains: [住民問合せ対応]\nai_uses: [対話生成]\nsources: [{title: 測定, issuer: 豊田市}]\n---\n'
	  i=0; while [ $i -lt 30 ]; do echo "窓口の案内文を生成AIで作り、職員が確認してから掲示した。"; i=$((i + 1)); done
	  echo "最後に小さな試験運用をした。"; } >own/cases/shiken-$n.md
done
k --home town publish own >/dev/null
wait_for 20 sh -c "\"$KAIRAN\" --home town search --json --kind case 試験 | grep -q shiken-3"
D=$SRC/tests/tools/dify_retrieval.py
ask() { python3 "$D" "$WEB" "$@" >ans.json; }
py() { python3 -c "import json; d = json.load(open('ans.json')); s, b = d['status'], d['body']; r = b.get('records', [])
$1"; }

# --- facets ------------------------------------------------------------------
k --home town search --json --limit 1 ごみ >cli.json
get "/search?q=%E3%81%94%E3%81%BF" >search.html
check "the search page counts ai_use, deployment and popband as kairan search --json does" python3 -c "
import json, re, html
cli = json.load(open('cli.json'))['facets']
page = {}
for f, v, n in re.findall(r'<span class=\"count\" data-facet=\"([^\"]*)\" data-value=\"([^\"]*)\">（(\d+)件）', open('search.html').read()):
	page.setdefault(f, {})[html.unescape(v)] = int(n)
for f in ('ai_use', 'deployment', 'popband', 'kind', 'outcome', 'domain'):
	assert page.get(f, {}) == cli[f], (f, page.get(f), cli[f])
assert cli['ai_use'] and cli['popband'], cli
"
diag "facets of ごみ (page = CLI): $(python3 -c "import json; f = json.load(open('cli.json'))['facets']; print('ai_use', f['ai_use'], 'deployment', f['deployment'], 'popband', f['popband'])")"
get "/search?q=%E3%81%94%E3%81%BF&ai_use=%E5%AF%BE%E8%A9%B1%E7%94%9F%E6%88%90" >narrow.html
k --home town search --json --limit 1 --ai-use 対話生成 ごみ >cli2.json
check "a counted facet link narrows as the CLI does (ai_use 対話生成)" python3 -c "
import json, re
t = json.load(open('cli2.json'))['total']
m = re.search(r'：(\d+)件', open('narrow.html').read())
assert m and int(m.group(1)) == t, (m and m.group(1), t)"

# --- a row's own page ----------------------------------------------------------
get "/api/search?q=%E7%B2%97%E5%A4%A7%E3%81%94%E3%81%BF%20%E7%94%B3%E8%BE%BC" >api.json
check "/api/search gives a row hit the row's own url, not DATASET-ID#ROW" python3 -c "
import json
h = [x for x in json.load(open('api.json'))['hits'] if x['id'] == '370002/dataset/gomi-qa#q002']
assert h and h[0]['url'] == '$WEB/items/370002/dataset/gomi-qa/rows/q002', h"
check "kairan search --json keeps its fields (no url: the CLI has no server)" sh -c "! k --home town search --json 粗大ごみ | grep -q '\"url\"'" 
get /items/370002/dataset/gomi-qa/rows/q002 >row.html
check "the row's page shows that row, marked in the dataset viewer" sh -c "test \"\$(cat $T/status)\" = 200 &&
	grep -q '：行 q002</h1>' row.html && grep -q '粗大ごみはどうやって申し込みますか' row.html &&
	grep -q '<tr class=\"current\" aria-current=\"true\" id=\"row-2\">' row.html"
get /items/370002/dataset/big-qa/rows/r250 >row250.html
check "a row past the first page opens the viewer's page that holds it (r250: page 3)" sh -c "
	grep -q 'id=\"row-250\"' row250.html && grep -q '250行中 201–250行目' row250.html"
get /items/370002/dataset/gomi-qa/rows/no-such-row >norow.html
check "an unknown row is a Japanese 404" sh -c "test \"\$(cat $T/status)\" = 404 && grep -q 'その行はこのデータセットにありません' norow.html"
get "/search?q=%E7%B2%97%E5%A4%A7%E3%81%94%E3%81%BF%20%E7%94%B3%E8%BE%BC" >rowhit.html
check "the search page links a row hit to the row's page (no '#' in any item link)" sh -c "
	grep -q 'href=\"/items/370002/dataset/gomi-qa/rows/q002\"' rowhit.html && ! grep -q 'href=\"/items/[^\"]*#' rowhit.html"

# --- Dify: rows are records, top_k is filled ---------------------------------------
ask town-dify-key all 試験 45 0
check "all, 試験, top_k 45: 45 records (rows are records, none dropped), each with content" py "
assert s == 200 and len(r) == 45 and all(x['content'] for x in r), (s, len(r))
rows = [x for x in r if x['metadata']['kind'] == 'dataset_row']
assert rows and all('/rows/' in x['metadata']['url'] and '#' not in x['metadata']['url'] for x in rows), rows[:1]
"
diag "試験, top_k 45: $(python3 -c "import json; r = json.load(open('ans.json'))['body']['records']; n = sum(x['metadata']['kind'] == 'dataset_row' for x in r); print(len(r), 'records,', n, 'rows,', len(r) - n, 'others')")"
check "a row record's url opens that row" sh -c "
	u=\$(python3 -c \"import json; print([x for x in json.load(open('ans.json'))['body']['records'] if x['metadata']['kind'] == 'dataset_row'][0]['metadata']['url'])\")
	curl -s \"\$u\" | grep -q 'aria-current=\"true\"'"
ask town-dify-key all 試験 3 0 '{"logical_operator": "and", "conditions": [{"name": ["kind"], "comparison_operator": "is", "value": "case"}]}'
check "250 rows outranking them do not hide the 3 cases a condition asks for" py "
assert s == 200 and len(r) == 3 and all(x['metadata']['kind'] == 'case' for x in r), [x['metadata'].get('id') for x in r]"
ask town-dify-key dataset 試験 100 0
check "knowledge_id dataset, top_k 100: 100 records from the index (card and rows)" py "
assert s == 200 and len(r) == 100, len(r)"

#!/bin/sh
# t0031 - endpoints for software on a real node: /api/search gives exactly
# `kairan search --json`, /api/items, downloads in every export format with
# their Content-Type and file name, the CKAN action API driven the way
# ckanext-harvest drives it (paging until an empty page, then only what was
# modified since the last run), the DCAT catalog read the way ckanext-dcat
# reads it (HEAD, then hydra:next), each distribution's size and SHA-256,
# and the signed manifest each dataset links.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/weblib.sh"
plan 24
cd "$T"
P=$(port_base)
OLD=1735689600   # 2025-01-01: when the board's own datasets last changed

# 香川県 publishes 130 generated datasets and the sample one, back in 2025
k --home kagawa init --name 香川県 --lg-code 370002 >/dev/null
i=1
while [ $i -le 130 ]; do
	d=gen/datasets/ds-$(printf %03d $i)
	mkdir -p $d/data
	sed "s/gomi-qa/ds-$(printf %03d $i)/; s/^title: .*/title: 生成したデータセット $i/" \
		"$SRC/deploy/samples/370002/datasets/gomi-qa/README.md" >$d/README.md
	printf '{"id":"a","question":"質問%d","answer":"回答","source":{"issuer":"香川県"},"updated":"2024-07-01"}\n' $i >$d/data/qa.jsonl
	i=$((i + 1))
done
KAIRAN_NOW=$OLD k --home kagawa publish "$SRC/deploy/samples/370002" gen >/dev/null
k --home mitoyo init --name 三豊市 --lg-code 372081 >/dev/null
k --home mitoyo publish "$SRC/deploy/samples/372081" >/dev/null
web_serve mitoyo "$P" $((P + 1)) --web off
k --home kagawa follow tcp://127.0.0.1:$P --publisher "$(k --home mitoyo id --fingerprint)" >/dev/null
WEB=http://127.0.0.1:$((P + 9))
web_serve kagawa $((P + 2)) $((P + 3)) --web "$WEB"
check "the board node serves its web pages and has synced 三豊市" wait_for 10 sh -c "\"$KAIRAN\" --home kagawa search --json --limit 1000 ごみ | grep -q gomi-chatbot-poc"

# same_json: web.json is cli.json plus each hit's "url", its page here
# (/items/ID, a dataset row's /items/DATASET-ID/rows/ROW)
same_json() { python3 -c "
import json, urllib.parse
c, w = json.load(open('cli.json')), json.load(open('web.json'))
for h in w['hits']:
	d, _, row = h['id'].partition('#')
	assert h.pop('url') == '$WEB/items/' + d + ('/rows/' + urllib.parse.quote(row, safe='') if row else ''), h
assert c == w, (c, w)"; }
for q in ごみ 'チャットボット 正答率' 子育て; do
	k --home kagawa search --json "$q" >cli.json
	curl -s "$WEB/api/search?q=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$q")" >web.json
	check "/api/search?q=$q is exactly kairan search --json, with each hit's url" same_json
done
k --home kagawa search --json --limit 3 --outcome 見送り AI >cli.json
curl -s "$WEB/api/search?q=AI&limit=3&outcome=%E8%A6%8B%E9%80%81%E3%82%8A" >web.json
check "and with filters and a limit" same_json
get /api/items/372081/case/gomi-chatbot-poc >item.json
check "/api/items gives the item's fields, front matter and versions as JSON" python3 -c "
import json; d = json.load(open('item.json'))
assert d['id'] == '372081/case/gomi-chatbot-poc' and d['outcome'] == '見送り', d
assert d['front_matter']['metrics'][0]['achieved'] == 94.1 and d['headline'] == '正答率 94.1% / 目標 99%'
assert d['attribution'].startswith('出典：三豊市') and len(d['versions']) == 1 and d['manifest']['stale'] is False"
get /api/items/372081/case/nothing >/dev/null
check "an unknown item is a 404 in JSON" sh -c "test \"\$(cat '$T/status')\" = 404 && grep -qi '^content-type: application/json' '$T/headers'"

get /items/370002/dataset/gomi-qa/export/dify-csv >web.csv
k --home kagawa export 370002/dataset/gomi-qa --format dify-csv -o cli.csv 2>/dev/null
check "the Dify CSV download is byte for byte kairan export's" cmp web.csv cli.csv
check "served as text/csv with its file name" sh -c "grep -qi '^content-type: text/csv; charset=utf-8' '$T/headers' &&
	grep -qi '^content-disposition: attachment; filename=\"370002-gomi-qa-dify.csv\"' '$T/headers'"
get /items/370002/dataset/gomi-qa/export/langchain >web.jsonl
k --home kagawa export 370002/dataset/gomi-qa --format langchain -o cli.jsonl 2>/dev/null
check "the LangChain download too, as application/jsonl" sh -c "cmp web.jsonl cli.jsonl &&
	grep -qi '^content-type: application/jsonl' '$T/headers' && grep -qi 'filename=\"370002-gomi-qa-langchain.jsonl\"' '$T/headers'"
get /items/370002/dataset/gomi-qa/export/pdf >/dev/null
check "an unknown format is a 404" test "$(status)" = 404

python3 "$SRC/tests/tools/ckan_harvest.py" "$WEB" >full.json 2>err; rc=$?
diag "full harvest: $(python3 -c "import json; d=json.load(open('full.json')); print(len(d['ids']), 'datasets in', d['requests'], 'requests')" 2>/dev/null)"
check "ckanext-harvest's full run pages 100 at a time until an empty page (131 in 3 requests)" sh -c "test $rc = 0 &&
	python3 -c \"import json; d=json.load(open('full.json')); assert len(d['ids']) == 131 == len(set(d['ids'])) and d['requests'] == 3, d['requests']\""
SINCE=$(date -u +%Y-%m-%dT%H:%M:%S)
mkdir -p new/datasets/mitoyo-qa/data
sed 's/370002/372081/g; s/gomi-qa/mitoyo-qa/; s/name: 香川県/name: 三豊市/; s/^title: .*/title: 三豊市のごみ出し Q\&A/' \
	"$SRC/deploy/samples/370002/datasets/gomi-qa/README.md" >new/datasets/mitoyo-qa/README.md
sed 's/香川県/三豊市/g' "$SRC/deploy/samples/370002/datasets/gomi-qa/data/qa.jsonl" | head -5 >new/datasets/mitoyo-qa/data/qa.jsonl
k --home mitoyo publish new >/dev/null
check "三豊市 publishes a dataset; the board receives it" wait_for 10 sh -c "curl -s '$WEB/api/3/action/package_list' | grep -q 372081-mitoyo-qa"
python3 "$SRC/tests/tools/ckan_harvest.py" "$WEB" --since "$SINCE" >incr.json 2>err; rc=$?
check "the incremental run (fq=metadata_modified:[… TO *]) gets only what changed since" sh -c "test $rc = 0 &&
	python3 -c \"import json; d=json.load(open('incr.json')); assert d['names'] == ['372081-mitoyo-qa'], d\""

get /api/3/action/package_list >list.json
check "package_list names every dataset" python3 -c "import json; d=json.load(open('list.json')); assert d['success'] and len(d['result']) == 132 and '370002-gomi-qa' in d['result']"
get "/api/3/action/package_show?id=370002-gomi-qa" >show.json
check "package_show by name: resources with format, size and sha256, licence, organization" python3 -c "
import json; p = json.load(open('show.json'))['result']
assert p['name'] == '370002-gomi-qa' and p['license_id'] == 'cc-by-4.0' and p['organization']['name'] == '370002'
r = {x['format'] + ':' + x['url'].rsplit('/', 1)[1]: x for x in p['resources']}
assert set(r) == {'JSONL:jsonl', 'CSV:dify-csv', 'JSONL:langchain'}, r.keys()
assert all(len(x['hash']) == 64 and x['size'] > 0 for x in p['resources'])
assert {e['key'] for e in p['extras']} >= {'kairan_id', 'signed_manifest', 'attribution'}"
get "/api/3/action/package_show?id=370002%2Fdataset%2Fgomi-qa" >show2.json
check "package_show by kairan id gives the same package" python3 -c "import json; a=json.load(open('show.json')); b=json.load(open('show2.json')); assert a == b"
get "/api/3/action/package_show?id=nothing" >nf.json
check "package_show of an unknown id is CKAN's 404 envelope" sh -c "test \"\$(cat '$T/status')\" = 404 && python3 -c \"
import json; d=json.load(open('nf.json')); assert d['success'] is False and d['error']['__type'] == 'Not Found Error'\""
get "/api/3/action/package_search?rows=x" >bad.json
check "rows that is not a number is a 409 Validation Error" sh -c "test \"\$(cat '$T/status')\" = 409 && grep -q '\"rows\":\[\"Invalid integer\"\]' bad.json"
get "/api/3/action/package_search?fq=metadata_modified:%5Bnot-a-date%20TO%20*%5D" >bad2.json
check "a malformed fq is a 409 Search Query Error, never a 500" sh -c "test \"\$(cat '$T/status')\" = 409 && grep -q 'Search Query Error' bad2.json"
get /api/3/action/package_search -X POST -H 'Content-Type: application/json' -d '{"q":"ごみ","rows":5}' >post.json
check "POST with a JSON body (as ckanapi sends) searches too" python3 -c "
import json; d=json.load(open('post.json')); assert d['success'] and d['result']['count'] >= 1 and any(p['name'] == '370002-gomi-qa' for p in d['result']['results'])"
get /api/3/action/package_delete >/dev/null
check "an unknown or writing action is refused (400)" test "$(status)" = 400

python3 "$SRC/tests/tools/dcat_harvest.py" "$WEB/catalog.jsonld" >dcat.json 2>err; rc=$?
diag "DCAT: $(cat dcat.json 2>/dev/null | cut -c1-120) $(cat err)"
check "ckanext-dcat's reader pages the catalog (HEAD, hydra:next) through all 132 datasets, every distribution's size and SHA-256 right" sh -c "
	test $rc = 0 && python3 -c \"import json; d=json.load(open('dcat.json')); assert d['pages'] == 2 and d['datasets'] == 132 and d['checked'] == 396, d\""
m=$(python3 -c "import json; print([u for u in json.load(open('dcat.json'))['manifests'] if u.endswith('$(k --home mitoyo id --fingerprint)')][0])")
curl -s "$m" | sha256sum | cut -c1-64 >got
sqlite3 kagawa/state.db "SELECT hex(signed) FROM manifests WHERE publisher = '$(k --home mitoyo id --fingerprint)'" | xxd -r -p | sha256sum | cut -c1-64 >want
check "the manifest a dataset links is the publisher's signed manifest, byte for byte" cmp got want

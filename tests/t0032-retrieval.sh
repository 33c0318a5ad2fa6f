#!/bin/sh
# t0032 - Dify's External Knowledge API on a real town node, with requests
# shaped exactly as Dify sends them (tests/tools/dify_retrieval.py): the
# registration probe, each knowledge_id scope, top_k and score_threshold,
# metadata_condition, 出典 in every record, and Dify's error codes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/weblib.sh"
plan 20
cd "$T"
P=$(port_base)
web_publishers "$P"
web_town "$P" "web.retrieval_keys = town-dify-key other-key"
D=$SRC/tests/tools/dify_retrieval.py
ask() { python3 "$D" "$WEB" "$@" >ans.json; }
py() { python3 -c "import json; d = json.load(open('ans.json')); s, b = d['status'], d['body']; r = b.get('records', [])
$1"; }

ask town-dify-key register
check "Dify's registration probe (key, no body) is not refused as 403/404/502" py "assert s not in (403, 404, 502), s"
ask wrong-key register
check "a wrong key at registration is a 403, as Dify expects" py "assert s == 403 and b['error_code'] == 1002, d"

ask town-dify-key all 粗大ごみはどうやって申し込みますか 3 0.5
check "a resident's question finds the Q&A row that answers it, first" py "
assert s == 200 and r[0]['metadata']['id'] == '370002/dataset/gomi-qa#q002', r[0]
assert r[0]['content'].startswith('Q: 粗大ごみはどうやって申し込みますか') and r[0]['score'] == 1.0"
check "every record has content, a score in 0..1, a title and metadata (an object) with 出典" py "
assert r and all(isinstance(x['content'], str) and 0 <= x['score'] <= 1 and x['title'] and isinstance(x['metadata'], dict)
	and x['metadata']['出典'].startswith('出典：') for x in r)"
check "records come best first, none under score_threshold, at most top_k" py "
sc = [x['score'] for x in r]; assert sc == sorted(sc, reverse=True) and min(sc) >= 0.5 and len(r) <= 3, sc"
ask town-dify-key case 'ごみのチャットボットの正答率' 5 0
check "knowledge_id case: 三豊市's case first, its outcome and figure in the content" py "
assert r[0]['metadata']['id'] == '372081/case/gomi-chatbot-poc', r[0]['metadata']
assert '結果：見送り' in r[0]['content'] and '正答率 94.1%' in r[0]['content'] and all(x['metadata']['kind'] == 'case' for x in r)"
ask town-dify-key guideline 住民向けに使う場合の確認 5 0
check "knowledge_id guideline: guidelines only, with their edition in 出典" py "
assert r and all(x['metadata']['kind'] == 'guideline' for x in r) and '（第2版）' in r[0]['metadata']['出典'], r"
ask town-dify-key prompt 文書の要約 5 0
check "knowledge_id prompt: prompts only (there are none here: an empty list)" py "assert s == 200 and r == [], b"
ask town-dify-key dataset ペットボトルのキャップ 5 0
check "knowledge_id dataset: rows of the datasets, never cases" py "
assert r and all(x['metadata']['kind'] in ('dataset_row', 'dataset') for x in r) and r[0]['metadata']['row_id'] == 'q001', r[0]"
ask town-dify-key 372081 ごみ 10 0
check "knowledge_id 372081 (a publisher's code): that publisher's items only" py "
assert r and all(x['metadata']['lg_code'] == '372081' for x in r), [x['metadata']['lg_code'] for x in r]"
ask town-dify-key 372081 ごみ 10 0 '{"logical_operator": "and", "conditions": [{"name": ["kind"], "comparison_operator": "is", "value": "guideline"}]}'
check "metadata_condition filters on record metadata" py "assert r and all(x['metadata']['kind'] == 'guideline' for x in r), r"
ask town-dify-key all ごみ 2 0
check "top_k bounds the answer" py "assert len(r) == 2"
ask town-dify-key all ごみ 10 0.999
check "a high score_threshold keeps only full matches" py "assert all(x['score'] >= 0.999 for x in r)"
ask town-dify-key endorsed ごみ 5 0
check "knowledge_id endorsed is known: nothing is endorsed yet, so no records" py "assert s == 200 and r == [], d"
ask town-dify-key consultation ごみ 5 0
check "knowledge_id consultation is known and empty" py "assert s == 200 and r == [], d"
ask town-dify-key no-such-knowledge ごみ 5 0
check "an unknown knowledge_id is Dify's 2001" py "assert s == 404 and b['error_code'] == 2001, d"
ask town-dify-key 999999 ごみ 5 0
check "a code with nothing published here is 2001 too" py "assert s == 404 and b['error_code'] == 2001, d"
ask - raw 'Token town-dify-key' '{"knowledge_id":"all","query":"ごみ","retrieval_setting":{"top_k":1,"score_threshold":0}}'
check "an Authorization header that is not 'Bearer KEY' is Dify's 1001 (403)" py "assert s == 403 and b['error_code'] == 1001, d"
ask - raw 'Bearer town-dify-key' '{"knowledge_id": "all", "query": '
check "a malformed body is a 400 with a message, never a 500" py "assert s == 400 and b['error_code'] == 1003, d"
ask - raw 'Bearer town-dify-key' '{"knowledge_id":"all","query":"<script>alert(1)</script>ごみ","retrieval_setting":{"top_k":3,"score_threshold":0}}'
check "a hostile query is answered as plain JSON records" py "assert s == 200 and isinstance(r, list), d"

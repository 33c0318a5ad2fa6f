#!/bin/sh
# t0030 - the web pages of a real town node: Japanese pages without script,
# search with the CLI's engine and facets, an item with its field table,
# 出典, signature verdict and 版の履歴, the character diff, the dataset
# viewer, security headers, and bad input (unknown paths and ids, ../,
# invalid UTF-8, oversized requests, hostile content) as inert text.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/weblib.sh"
plan 31
cd "$T"
P=$(port_base)
web_publishers "$P"
web_town "$P"
check "the town synced all three publishers and serves its pages" test "$(curl -s -o /dev/null -w '%{http_code}' "$WEB/")" = 200

get / >recent.html
check "新着 is Japanese HTML (lang=ja, h1 新着) listing what arrived" sh -c "grep -q '<html lang=\"ja\">' recent.html &&
	grep -q '<h1>新着</h1>' recent.html && grep -q '/items/372081/case/gomi-chatbot-poc' recent.html &&
	grep -q '/items/370002/dataset/big-qa' recent.html && grep -q '最新（署名の有効期限' recent.html"
check "every page carries CSP default-src 'self' with frame-ancestors 'none', and nosniff" sh -c "
	grep -qi \"^content-security-policy: default-src 'self'; frame-ancestors 'none'\" '$T/headers' &&
	grep -qi '^x-content-type-options: nosniff' '$T/headers'"
check "no page needs or carries a script" sh -c "! grep -qi '<script' recent.html"

get "/search?q=%E3%81%94%E3%81%BF" >search.html
check "検索 ごみ finds the 三豊市 case with its outcome and headline" sh -c "grep -q 'href=\"/items/372081/case/gomi-chatbot-poc\"' search.html &&
	grep -q '見送り' search.html && grep -q '正答率 94.1% / 目標 99%' search.html"
n_cli=$(k --home town search --json --limit 1000 ごみ | sed -n 's/.*"total":\([0-9]*\).*/\1/p')
check "the page counts what kairan search counts ($n_cli)" grep -q "「ごみ」：${n_cli}件" search.html
check "every facet of kairan search is offered as a link" sh -c "for f in kind outcome domain pref ai_use deployment popband publisher; do
	grep -q \"href=\\\"/search?q=%E3%81%94%E3%81%BF&amp;\$f=\" search.html || { echo missing \$f; exit 1; }; done"
get "/search?q=%E3%83%81%E3%83%A3%E3%83%83%E3%83%88%E3%83%9C%E3%83%83%E3%83%88&outcome=%E8%A6%8B%E9%80%81%E3%82%8A" >facet.html
want=$(k --home town search --json --limit 1000 --outcome 見送り チャットボット | grep -o '"id":"[^"]*"' | sort | tr '\n' ' ')
got=$(grep -o 'class="hit"><h3><a href="/items/[^"]*"' facet.html | sed 's/.*href="\/items\//"id":"/' | sort | tr '\n' ' ')
check "a facet link narrows exactly as --outcome does" test "$got" = "$want"
get "/search?q=%22%E3%81%94%E3%81%BF" >bad.html
check "a malformed query (unbalanced quote) is explained, not an error" sh -c "test \"\$(cat '$T/status')\" = 200 && grep -q '検索語を読み取れませんでした' bad.html"

get "/search?q=%E3%82%AC%E3%82%A4%E3%83%89%E3%83%A9%E3%82%A4%E3%83%B3" >noout.html
check "a search whose hits have no outcome (ガイドライン) renders, without an empty 結果 facet" sh -c "test \"\$(cat '$T/status')\" = 200 &&
	grep -q 'ai-guideline' noout.html && ! grep -q '<h3>結果</h3>' noout.html"

get /items/372081/case/gomi-chatbot-poc >case.html
check "the item page shows outcome and headline" sh -c "grep -q '<dd class=\"outcome\">見送り</dd>' case.html && grep -q '正答率 94.1% / 目標 99%' case.html"
check "front matter as a field table, body rendered from Markdown" sh -c "grep -q '<th scope=\"row\">結果<span class=\"key\">outcome</span></th>' case.html &&
	grep -q '<h3>背景</h3>' case.html"
check "signature and freshness verdict, 出典 line, 版の履歴" sh -c "grep -q '署名と鮮度' case.html && grep -q 'の署名：有効' case.html &&
	grep -q '出典：三豊市「ごみ出し案内チャットボットの実証' case.html && grep -q '<h2>版の履歴</h2>' case.html"

get /items/372081/guideline/ai-guideline >guide.html
check "the guideline lists both editions, newest first, with a diff link" sh -c "grep -q '第2版（1.1.0）' guide.html && grep -q '第1版（1.0.0）' guide.html &&
	grep -q 'href=\"/items/372081/guideline/ai-guideline/diff?a=' guide.html"
get /items/372081/guideline/ai-guideline/diff >diff.html
k --home town diff 372081/guideline/ai-guideline >diff.txt
check "the diff marks the changed sentence character by character, as kairan diff does" sh -c "
	grep -q '書き加え<ins><span class=\"vh\">（追加）</span>、住民向け利用の確認手順を追加し</ins>た' diff.html &&
	grep -q '書き加え{+、住民向け利用の確認手順を追加し+}た' diff.txt"
check "and the whole added section as added lines" grep -q '<ins><span class="vh">（追加）</span>## 5 住民向けに使う場合</ins>' diff.html
get "/items/372081/guideline/ai-guideline/diff?a=0000000&b=1111111" >/dev/null
check "an unknown version in the diff is a 404" test "$(status)" = 404

get /items/370002/dataset/big-qa/rows >rows1.html
check "the dataset viewer shows 100 rows a page, each row's id linking to its own page" sh -c "test \$(grep -o '<tr><th scope=\"row\"><a href=\"/items/370002/dataset/big-qa/rows/r[0-9]*\">r[0-9]*' rows1.html | wc -l) = 100 &&
	grep -q '250行中 1–100行目' rows1.html"
get "/items/370002/dataset/big-qa/rows?page=3" >rows3.html
check "page 3 holds rows 201-250" sh -c "grep -q '250行中 201–250行目' rows3.html && grep -q '>r250</a></th>' rows3.html && ! grep -q '>r200</a></th>' rows3.html"
get "/items/370002/dataset/gomi-qa/rows?q=%E7%B2%97%E5%A4%A7" >filter.html
want=$(grep -c '粗大' "$SRC/deploy/samples/370002/datasets/gomi-qa/data/qa.jsonl")
check "the filter keeps the rows that mention 粗大 ($want)" grep -q "${want}行中 1–${want}行目（絞り込み後）" filter.html

get /items/999999/case/none >nf.html
check "an unknown id is a Japanese 404 page" sh -c "test \"\$(cat '$T/status')\" = 404 && grep -q '<html lang=\"ja\">' nf.html && grep -q 'その項目はこのノードにありません' nf.html"
get /no/such/page >nf2.html
check "an unknown path is a Japanese 404 page" sh -c "test \"\$(cat '$T/status')\" = 404 && grep -q 'ページが見つかりません' nf2.html"
get "/items/../../../../etc/passwd" >dots.html
check "../ in a path is a 404 and reads nothing" sh -c "test \"\$(cat '$T/status')\" = 404 && ! grep -q 'root:' dots.html"
get "/static/../state.db" >/dev/null
check "no file outside the pages is reachable" test "$(status)" = 404
get "/search?q=%FF%FE" >utf8.html
check "invalid UTF-8 in a query is a 400 page in Japanese" sh -c "test \"\$(cat '$T/status')\" = 400 && grep -q '不正なUTF-8' utf8.html"
get "/search?q=a%00b" >/dev/null
check "a NUL in a query is refused too" test "$(status)" = 400
get /search -X DELETE >/dev/null
check "a write method is a 405 naming the allowed ones" sh -c "test \"\$(cat '$T/status')\" = 405 && grep -qi '^allow: GET, HEAD' '$T/headers'"
head -c 200000 /dev/zero | tr '\0' a >big.body
get /retrieval -X POST -H 'Content-Type: application/json' --data-binary @big.body >/dev/null
check "an oversized body is refused with 413 before it is read" test "$(status)" = 413
long=$(head -c 80000 /dev/zero | tr '\0' a)
code=$(curl -s -o /dev/null -w '%{http_code}' "$WEB/search?q=$long")
check "an oversized request line is refused ($code), never a 500" sh -c "test $code -ge 400 && test $code -lt 500"

get "/items/142018/case/xss-probe" >xss.html
check "a hostile publisher's script tags, attributes and links stay text" sh -c "
	! grep -qi '<script' xss.html && ! grep -qiE '<(img|iframe)|<[^>]*[[:space:]]on[a-z]+=' xss.html &&
	! grep -qi 'href=\"javascript:' xss.html && grep -q '&lt;script&gt;window.__xss=1&lt;/script&gt;攻撃テスト&quot; onmouseover=&quot;' xss.html"
get "/search?q=%3Cscript%3Ewindow.__xss%3D1%3C%2Fscript%3E%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E" >qxss.html
check "a hostile query is echoed only as text" sh -c "! grep -qi '<script' qxss.html && ! grep -qi '<img' qxss.html &&
	grep -q 'value=\"&lt;script&gt;window.__xss=1&lt;/script&gt;&quot;&gt;&lt;img' qxss.html"

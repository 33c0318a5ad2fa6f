#!/bin/sh
# t0087 - search stays exact where it is fastest to cut corners: 1-, 2- and
# longer queries, with and without a facet filter, over a few thousand
# generated items that mix ごみ, ゴミ and half-width ｺﾞﾐ, full-width and ASCII
# digits, and common and rare characters. Each query's total and its outcome,
# domain and kind counts must equal an independent count (Python's NFKC,
# case folding and katakana -> hiragana over state.db's title, body and front
# matter, with digits and Latin letters as whole words), and random
# substrings must find exactly the items that contain them (searchoracle).
. "$(dirname "$0")/lib.sh"
plan 6
cd "$T"
N=3000

k --home h init --name 三豊市 --lg-code 372081 >/dev/null
mkdir -p a
awk -v n=$N 'BEGIN {
	split("ごみ ゴミ ｺﾞﾐ 粗大ごみ 窓口 観光 防災 子育て 福祉 税務 道路 水道 教育 保健 広報 選挙 議会 答弁 介護 翻訳", w, " ")
	split("案内 相談 申請 点検 予約 通知 集計 要約 検索 収集 分別 回収", v, " ")
	split("本格導入 継続実証 見送り 中止", o, " ")
	split("住民問合せ対応 庁内一般業務 子ども・子育て 広報 防災・減災 福祉・介護 観光", d, " ")
	split("２０２４ 2024 １２ 12 ３ 令和６", num, " ")
	seed = 87
	for (i = 0; i < n; i++) {
		seed = (seed * 1103515245 + 12345) % 2147483648; r = int(seed / 65536)
		f = sprintf("a/x-%05d.md", i)
		a = w[r % 20 + 1]; b = v[int(r / 20) % 12 + 1]; c = w[int(r / 240) % 20 + 1]
		m = num[int(r / 4800) % 6 + 1]
		printf "---\nkind: case\nid: 372081/case/x-%05d\ntitle: %sの%sを試した事例 第%s回\n", i, a, b, m >f
		printf "publisher: {lg_code: \"372081\", name: 三豊市}\nversion: 1.0.0\npublished: 2024-06-01\n" >f
		printf "updated: 2024-06-01\nlicense: PDL-1.0\nconfidentiality: 機密性1\n" >f
		printf "domains: [%s]\nai_uses: [対話生成]\noutcome: %s\n", d[i % 7 + 1], o[int(i / 7) % 4 + 1] >f
		printf "sources: [{title: %s年度の資料%d, issuer: 三豊市}]\n---\n", m, i % 97 >f
		for (k = 0; k < 1 + i % 5; k++)
			printf "%s課の%sについて%s年%d月に生成AIで%sの下書きを作り、職員が確かめた。\n", c, a, m, 1 + (i + k) % 12, b >f
		close(f)
	}
}'
k --home h publish a >/dev/null
check "$N items are indexed" test "$(sqlite3 h/state.db 'SELECT count(*) FROM items')" = $N

"$TOOLS/searchoracle" h 300 87 >oracle.out; rc=$?
diag "$(tail -1 oracle.out)"
check "300 random substrings (1-5 characters): search returns exactly the items that contain them, and pairs of words rank alike however their IDFs are counted" test $rc = 0

# count.py: the independent count, one line per query: QUERY|FILTER|TOTAL|KINDS|OUTCOMES|DOMAINS
cat >count.py <<'PY'
import json, sqlite3, sys, unicodedata, zlib

def cjk(c):
    o = ord(c)
    return (0x3041 <= o <= 0x309F or 0x30A0 <= o <= 0x30FA or o == 0x30FC or o in (0x3005, 0x3006, 0x3007)
            or 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x3134F)

def word(c):
    return not cjk(c) and unicodedata.category(c)[0] in 'LNM'

def norm(s):
    s = unicodedata.normalize('NFKC', s or '').casefold()
    return ''.join(chr(ord(c) - 0x60) if 0x30A1 <= ord(c) <= 0x30F6 or ord(c) in (0x30FD, 0x30FE) else c for c in s)

def has(hay, needle):
    i = hay.find(needle)
    while i >= 0:
        e = i + len(needle)
        if not (word(needle[0]) and i > 0 and word(hay[i - 1])) and not (word(needle[-1]) and e < len(hay) and word(hay[e])):
            return True
        i = hay.find(needle, i + 1)
    return False

db = sqlite3.connect(sys.argv[1])
dicts = dict(db.execute('SELECT id, dict FROM body_dicts'))

def text(v):  # a stored body: long ones are deflated (4 bytes of length, then zlib, maybe with a preset dictionary)
    if not isinstance(v, bytes):
        return v
    z = v[4:]
    d = zlib.decompressobj(zdict=dicts[int.from_bytes(z[2:6], 'big')]) if z[1] & 0x20 else zlib.decompressobj()
    return (d.decompress(z) + d.flush()).decode()

rows = [(norm(t), norm(text(b)), norm(m), k, o, dm) for t, b, m, k, o, dm in
        db.execute('SELECT title, body, meta, kind, outcome, domains FROM items')]
for line in sys.stdin:
    q, flt = line.rstrip('\n').split('|')
    terms = [norm(t) for t in q.split()]
    total, kinds, outs, doms = 0, {}, {}, {}
    for t, b, m, k, o, dm in rows:
        if flt and o != flt:
            continue
        if not all(has(t, x) or has(b, x) or has(m, x) for x in terms):
            continue
        total += 1
        kinds[k] = kinds.get(k, 0) + 1
        if o:
            outs[o] = outs.get(o, 0) + 1
        for x in (dm or '').split('\n'):
            if x:
                doms[x] = doms.get(x, 0) + 1
    print('%s|%s|%d|%s|%s|%s' % (q, flt, total, sorted(kinds.items()), sorted(outs.items()), sorted(doms.items())))
PY
cat >got.py <<'PY'
import json, sys
q, flt = sys.argv[1], sys.argv[2]
d = json.load(sys.stdin)
f = d['facets']
print('%s|%s|%d|%s|%s|%s' % (q, flt, d['total'], sorted(f['kind'].items()), sorted(f['outcome'].items()),
      sorted(f['domain'].items())))
PY
QUERIES="市 ご ゴ ｺﾞ み ごみ ゴミ ｺﾞﾐ 粗大ごみ 粗大ゴミ ２０２４ 2024 １２ 12 ３ 令和６ 回 を試 案内 の下書きを作 第12回
ごみ_案内 ゴミ_収集_職員 市_の"
for q in $QUERIES; do
	q=$(echo "$q" | tr _ ' ')
	for f in "" 見送り; do
		echo "$q|$f" >>want.in
		if [ -n "$f" ]; then
			k --home h search --json "$q" --outcome "$f"
		else
			k --home h search --json "$q"
		fi | /usr/bin/python3 got.py "$q" "$f" >>got
	done
done
/usr/bin/python3 count.py h/state.db <want.in >want
nq=$(wc -l <want)
cut -d'|' -f1-3 want >want.totals
cut -d'|' -f1-3 got >got.totals
diag "$nq queries; e.g. $(grep '^ごみ|見送り|' got)"
check "the totals equal the independent count ($nq queries, 1 to 7 characters, with and without --outcome)" \
	cmp want.totals got.totals
check "and so do the kind, outcome and domain counts" diff want got
# same A B FILTER: queries A and B gave the same total and counts
same() { test "$(grep "^$1|$3|" got | cut -d'|' -f3-)" = "$(grep "^$2|$3|" got | cut -d'|' -f3-)"; }
folded() { same ごみ ゴミ '' && same ごみ ｺﾞﾐ '' && same ごみ ゴミ 見送り && same ご ｺﾞ '' && same 粗大ごみ 粗大ゴミ ''; }
check "ごみ, ゴミ and ｺﾞﾐ find the same items, with and without a filter (kana and width folded)" folded
digits() { same ２０２４ 2024 '' && same １２ 12 見送り && test "$(grep '^2024||' got | cut -d'|' -f3)" -gt 0; }
check "２０２４ finds what 2024 finds, and something (full-width digits folded)" digits

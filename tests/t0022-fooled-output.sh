#!/bin/sh
# t0022 - a node cannot be made to show a lie: a hostile peer answers
# searches with hits it made up under a real publisher's name, with a real
# item under a forged title, with terminal escapes and bidi overrides in
# every field and a 2,000-byte title. The town holds the real item (synced
# from its publisher): it shows that one as verified with its own title,
# every other hit as 未検証 from that peer, no control byte reaches stdout,
# and the long title costs only itself. Then a Dify CSV export with
# formula-like cells, read back with python3's csv module.
. "$(dirname "$0")/lib.sh"
plan 19
cd "$T"
P=$(port_base)
FAKE=tcp://127.0.0.1:$((P + 2))
# a byte that must never reach a terminal: C0 (but \n, \t), DEL, C1, bidi controls
CTRL='[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\x8e\x8f\xaa-\xae]|\xe2\x81[\xa6-\xa9]|\xd8\x9c'
no_ctrl() { ! LC_ALL=C grep -qP "$CTRL" "$1"; }
esc_count() { od -An -tx1 -v "$1" | tr ' ' '\n' | grep -c '^1b$'; }

k --home pub init --name テスト団体 --lg-code 372081 >/dev/null
PUB=$(k --home pub id --fingerprint)
mkdir -p items/cases
item 372081 real-item ごみ出し案内の実証 >items/cases/real-item.md
printf '\n二行目\033[31m赤い字\033[0m と \342\200\256反転\n' >>items/cases/real-item.md
k --home pub publish items -m "$(printf 'ごみ案内\033]0;pwned\007\033[2J を公開')" >/dev/null
serve pub "$P" $((P + 1))

OTHER=$(printf 'cd%.0s' $(seq 32))
cat >hits.tsv <<EOF
372081/case/fake-news	$PUB	1.0.0	case	テスト団体	372081	偽の成功事例（正答率99%）	ごみ 正答率99%を達成した
372081/case/real-item	$PUB	1.0.0	case	テスト団体	372081	\x1b]0;pwned\x07\x1b[31m改ざんされた題名	ごみ 改ざん
372081/case/real-item	$PUB	9.9.9	case	テスト団体	372081	新しい版と称する題名	ごみ 新版
999999/case/bidi	$OTHER	1.0.0	case	\x1b[2J偽の団体	999999	\xe2\x80\xaeexe.txt\xc2\x9b31m題名\x7f\xe2\x81\xa6	ごみ\x1b[1A上書き\r偽
372081/case/long	$PUB	1.0.0	case	テスト団体	372081	@2000@a	ごみ 長い題名
EOF
sent_esc=$(grep -o '\\x1b' hits.tsv | wc -l)
"$TOOLS/fakepeer" --listen "$FAKE" --hits hits.tsv --name '\x1b[31mevil\x1b[0m peer\xe2\x80\xae' 2>fake.log &
_pids="$_pids $!"

k --home town init --name 西海市 --lg-code 422126 >/dev/null
k --home town follow tcp://127.0.0.1:$P --publisher "$PUB" >/dev/null
k --home town follow "$FAKE" --publisher "$OTHER" >/dev/null
k --home town sync --timeout 5 >sync.out 2>&1
check "the town holds the real item, synced from its publisher" k --home town show 372081/case/real-item
k --home town peers >peers.out
k --home town status >status.out
names_clean() { no_ctrl sync.out && no_ctrl peers.out && no_ctrl status.out && grep -qF '([31mevil[0m peer)' peers.out; }
check "sync, peers and status show the peer's name without its escapes" names_clean

k --home town search --remote ごみ >out.txt 2>err.txt; rc=$?
check "search --remote succeeds" test $rc = 0
check "both peers answered" grep -q 'this node and 2 of 2 peer(s) answered' out.txt
diag "ESC bytes: the peer sent $sent_esc, stdout holds $(esc_count out.txt), stderr $(esc_count err.txt)"
check "no control character or bidi override reaches stdout" no_ctrl out.txt
check "nor stderr" no_ctrl err.txt

under() { grep -A1 -F "$1" out.txt | sed -n 2p; } # the line under a hit's first line
fake_labelled() { under '372081/case/fake-news  ' | grep -q "^  未検証 (unverified), from peer $FAKE"; }
fake_attributed() { under '372081/case/fake-news  ' | grep -q '^  テスト団体 (372081) ·'; }
real_verified() { under '372081/case/real-item  ごみ出し案内の実証' | grep -q '^  テスト団体 (372081) · case 1.0.0'; }
newer_labelled() { under '372081/case/real-item  新しい版と称する題名' | grep -q '^  未検証 (unverified)'; }
check "a fabricated hit under a real publisher is shown as 未検証, from that peer" fake_labelled
check_fails "and never under the publisher's name as if verified" fake_attributed
check "the real item is verified and shown with the title this node holds" real_verified
check_fails "the peer's forged title for it is not shown at all" grep -q 改ざんされた題名 out.txt
check "a version this node does not hold is 未検証" newer_labelled
long=$(grep -F '372081/case/long  ' out.txt | head -1)
diag "the 2,000-byte title is shown as $(printf '%s' "$long" | wc -c) bytes (cut at 1,024 bytes of title)"
long_cut() { printf '%s' "$long" | grep -q 'aaaa…$' && test "$(printf '%s' "$long" | wc -c)" -lt 1100; }
check "a 2,000-byte title does not drop the peer's answer: the hit is there, cut" long_cut
check "the peer's name is shown without its escape sequences" grep -qF "$FAKE ([31mevil[0m peer): 5 hit(s)" out.txt

k --home town search --remote --json ごみ >out.json 2>/dev/null
check "--json output holds no raw control character either" no_ctrl out.json
cat >judge.py <<'EOF'
import json, sys
pub, fake = sys.argv[1], sys.argv[2]
d = json.load(open("out.json"))
hits = {(h["id"], h["version"]): h for h in d["hits"]}
ok = True
def need(cond, what):
    global ok
    if not cond:
        print("# not so:", what); ok = False
real = hits[("372081/case/real-item", "1.0.0")]
need(real["verified"] is True and real["publisher"] == pub and real["title"] == "ごみ出し案内の実証", "real item verified")
for key in [("372081/case/fake-news", "1.0.0"), ("372081/case/real-item", "9.9.9"), ("999999/case/bidi", "1.0.0"),
            ("372081/case/long", "1.0.0")]:
    h = hits[key]
    need(h["verified"] is False and "publisher" not in h and "publisher_name" not in h, "%s unverified, no publisher field" % (key,))
    need(h["from_peer"] == fake and h["status"].startswith("未検証"), "%s from the fake peer" % (key,))
need(hits[("372081/case/fake-news", "1.0.0")]["claimed_publisher"] == pub, "the claim is kept as a claim")
need(len(hits[("372081/case/long", "1.0.0")]["title"].encode()) <= 1027, "long title cut")
print("%d verified, %d unverified" % (sum(h["verified"] for h in d["hits"]), sum(not h["verified"] for h in d["hits"])))
sys.exit(0 if ok else 1)
EOF
check "--json: verified only for the held item; the rest carry claimed_* and from_peer, no publisher" \
	python3 judge.py "$PUB" "$FAKE"
diag "$(python3 judge.py "$PUB" "$FAKE" | tail -1)"

k --home town show 372081/case/real-item >show.out
show_clean() { no_ctrl show.out && grep -qxF '二行目[31m赤い字[0m と 反転' show.out; }
check "show strips the item's escapes and bidi override, keeps its lines" show_clean
k --home town log "$PUB/cases" >log.out
log_clean() { no_ctrl log.out && grep -qF 'ごみ案内]0;pwned[2J を公開' log.out; }
check "log strips the escapes of a commit message" log_clean

# Dify CSV: cells a spreadsheet would run as formulas are neutralised (OWASP).
k --home board init --name 香川県 --lg-code 370002 >/dev/null
mkdir -p ds/datasets/formulas/data
sed 's/gomi-qa/formulas/; s/^title: .*/title: 数式のような行/' "$SRC/deploy/samples/370002/datasets/gomi-qa/README.md" >ds/datasets/formulas/README.md
printf '%s\n' \
	'{"id":"f1","question":"=HYPERLINK(\"http://example.invalid/\",\"詳しくはこちら\")","answer":"=1+1","source":{"issuer":"香川県"},"updated":"2024-07-01"}' \
	'{"id":"f2","question":"+SUM(A1:A3)","answer":"-2 を返します","source":{"issuer":"香川県"},"updated":"2024-07-01"}' \
	'{"id":"f3","question":"@SUM(A1)","answer":"\tタブで始まる","source":{"issuer":"香川県"},"updated":"2024-07-01"}' \
	'{"id":"f4","question":"＝全角の等号","answer":"普通の回答","source":{"issuer":"香川県"},"updated":"2024-07-01"}' \
	'{"id":"f5","question":"普通の質問 = 1","answer":"普通の回答 -","source":{"issuer":"香川県"},"updated":"2024-07-01"}' \
	>ds/datasets/formulas/data/qa.jsonl
k --home board publish ds >/dev/null
k --home board export 370002/dataset/formulas --format dify-csv -o f.csv 2>/dev/null
cat >cells.py <<'EOF'
import csv, sys
rows = list(csv.reader(open("f.csv", encoding="utf-8-sig", newline="")))
cells = [c for r in rows[1:] for c in r]
risky = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r") or c.startswith("＝")]
print("%d rows, %d cells, %d starting like a formula, %d neutralised with '" % (
    len(rows) - 1, len(cells), len(risky), sum(c.startswith("'") for c in cells)))
ok = (len(rows) == 6 and not risky and rows[1][0] == "'=HYPERLINK(\"http://example.invalid/\",\"詳しくはこちら\")"
      and rows[5][0] == "普通の質問 = 1" and rows[4][0] == "'＝全角の等号" and rows[3][1].startswith("'\tタブ"))
sys.exit(0 if ok else 1)
EOF
check "dify-csv: no cell starts like a formula; =HYPERLINK(...) is read back as text with a leading '" python3 cells.py
diag "$(python3 cells.py)"
check "dify-csv: ordinary cells are unchanged" python3 -c "import csv; r = list(csv.reader(open('f.csv', encoding='utf-8-sig'))); assert r[5][1].startswith('普通の回答 -'), r[5]"

#!/bin/sh
# t0077 - a town joins its federation for some kinds only (issue 8 §3,
# `kairan join … --kind K`): 丸亀市 publishes a case and a prompt; 三豊市
# joins through it with --kind case and holds the case, not the prompt,
# although it verified the whole signed manifest; the prompts collection
# is never reported missing, behind or quarantined; status and peers say
# the filter. A bad kind is refused naming it and the allowed values,
# nothing changed. Joining again with --kind case --kind prompt fetches the
# prompt at the same seq (no new publication). Then the running daemon of
# a second town takes a new publication through the same filter. Real
# nodes, real sockets.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/boardlib.sh"
plan 26
cd "$T"
P=$(port_base)

quarantined() { sqlite3 "$1/state.db" "SELECT count(*) FROM quarantine"; }
tree() { find "$1/federation" "$1/follows" -type f 2>/dev/null | sort | xargs sha256sum; state_fingerprint "$1"; }
prompt() {
	sed -e "s|062081|$1|g" -e "s|南陽市|丸亀市|" -e "s|faq-taiwa|$2|" -e "s|よくある質問への回答案|$3|" \
		"$SRC/tests/fuzz/corpus/item/prompt.md"
}

fed_node kagawa 香川県 370002 0
fed_node takamatsu 高松市 372013 2
fed_node kanonji 観音寺市 372056 4
fed_node marugame 丸亀市 372021 6
fed_node mitoyo 三豊市 372081 8
fed_node sakaide 坂出市 372030 10
MARU=$(k --home marugame id --fingerprint)

fed_members marugame mitoyo sakaide

item 372021 c1 丸亀市の窓口事例 >c1.md
prompt 372021 faq-maru 丸亀市の問合せプロンプト >p1.md
check "丸亀市 publishes a case and a prompt" k --home marugame publish c1.md p1.md -m first
serve marugame $(($P + 6)) $(($P + 7))
EP=tcp://127.0.0.1:$(($P + 6))

# Bad input: a kind outside the closed vocabulary; nothing changes.
k --home mitoyo status >/dev/null 2>&1
before=$(tree mitoyo)
check_fails "join --kind cases is refused" k --home mitoyo join "$EP" --federation "$FED" --kind cases
grep -q "cases" "$T/last.out" && grep -q "allowed: case" "$T/last.out" && grep -q "prompt" "$T/last.out" &&
	ok "the message names the kind and the allowed values" ||
	{ not_ok "the message names the kind and the allowed values"; sed 's/^/# /' "$T/last.out"; }
check "and nothing was changed (chain, joins, follows, state)" test "$before" = "$(tree mitoyo)"
check "join --help says --kind" sh -c "'$KAIRAN' --home mitoyo join --help | grep -q -- '--kind K'"

# The town joins for cases only.
check "三豊市 joins for cases only" k --home mitoyo join "$EP" --federation "$FED" --kind case
cp "$T/last.out" join.out
check "join says the filter" grep -q "kinds case only" join.out
check "the case is held" found mitoyo 丸亀市の窓口事例
check_fails "the prompt is not" found mitoyo 丸亀市の問合せプロンプト
check "its collection was not fetched" test ! -e "mitoyo/repos/$MARU/prompts.git" -a -d "mitoyo/repos/$MARU/cases.git"
S=$(seq_of mitoyo "$MARU")
check "the whole manifest was verified and recorded (seq $S)" test -n "$S"
k --home mitoyo sync >sync.out 2>&1
check "a sync fetches nothing more and fails nothing" grep -q "0 applied, 1 up to date, 0 rejected, 0 failed" sync.out
check "nothing is quarantined" test "$(quarantined mitoyo)" = 0
k --home mitoyo status >status.out 2>&1
check "status says the filter" grep -q "joined through $EP for kinds case only" status.out
check_fails "status lists no prompts collection (never missing or behind)" grep -q "prompts" status.out
k --home mitoyo status --json >status.json
check "status --json carries the kinds" python3 -c "
import json; s = json.load(open('status.json'))
j = s['joined'][0]; assert j['kinds'] == 'case', j
p = [x for x in s['publishers'] if x['publisher'] == '$MARU'][0]
assert [c['collection'] for c in p['collections']] == ['cases'], p"
k --home mitoyo peers >peers.out 2>&1
check "peers says the filter" grep -q "kinds replicated: case only" peers.out
k --home mitoyo peers --json >peers.json
check "peers --json carries the kinds" python3 -c "
import json; p = json.load(open('peers.json'))
assert any(x.get('kinds') == 'case' for x in p), p"

# Widen: the prompts arrive with no new publication.
check "joining again with --kind case --kind prompt" k --home mitoyo join "$EP" --federation "$FED" --kind case --kind prompt
cp "$T/last.out" widen.out
check "the prompt arrives" found mitoyo 丸亀市の問合せプロンプト
check "at the same seq ($S): no publication was needed" test "$(seq_of mitoyo "$MARU")" = "$S"
bytes=$(sed -n 's/.*(\([0-9]*\) bytes).*/\1/p' widen.out | tail -1)
diag "bytes fetched by the widening: ${bytes:-?}"
check "still nothing quarantined" test "$(quarantined mitoyo)" = 0

# A daemon with the filter: 坂出市 joins for prompts only, runs, and takes a new
# publication of 丸亀市 through its replication worker.
k --home sakaide federation apply g.kfm >/dev/null
k --home sakaide federation apply v2.kfm >/dev/null
check "坂出市 joins for prompts only" k --home sakaide join "$EP" --federation "$FED" --kind prompt
serve sakaide $(($P + 10)) $(($P + 11))
item 372021 c2 丸亀市の二件目の事例 >c2.md
prompt 372021 faq-maru2 丸亀市の二つ目のプロンプト >p2.md
k --home marugame publish c2.md p2.md -m second >/dev/null
wait_for 20 found sakaide 丸亀市の二つ目のプロンプト
check "the running 坂出市 holds the new prompt" found sakaide 丸亀市の二つ目のプロンプト
check_fails "and no case" found sakaide 丸亀市の二件目の事例
check "and no cases collection, nothing quarantined" sh -c \
	"test ! -e sakaide/repos/$MARU/cases.git && test \$(sqlite3 sakaide/state.db 'SELECT count(*) FROM quarantine') = 0"

#!/bin/sh
# t0077 - a town joins its federation for some kinds only (issue 8 §3,
# `kairan join … --kind K`): 丸亀市 publishes a case and a prompt; 三豊市
# joins through it with --kind case and holds the case, not the prompt,
# although it verified the whole signed manifest; the prompts collection
# is never reported missing, behind or quarantined; status and peers say
# the filter. A bad kind is refused naming it and the allowed values,
# nothing changed. Joining again with --kind case --kind prompt fetches the
# prompt at the same seq (no new publication). Then the running daemon of
# a second town takes a new publication through the same filter. Narrowing
# the filter again keeps what is held, and status (and --json) calls those
# collections 対象外 (not followed) instead of giving an old sync time. A
# town downstream of the filtered one (観音寺市) is offered whole manifests
# whose left-out collections the filtered town answers "not held here":
# not a failure there (sync exits 0, nothing quarantined); the peers that
# hold them serve them, by sync and between daemons. Real nodes, real
# sockets.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/boardlib.sh"
plan 39
cd "$T"
P=$(port_base)

quarantined() { sqlite3 "$1/state.db" "SELECT count(*) FROM quarantine"; }
tree() { find "$1/federation" "$1/follows" -type f 2>/dev/null | sort | xargs sha256sum; state_fingerprint "$1"; }
prompt() {
	sed -e "s|062081|$1|g" -e "s|南陽市|丸亀市|" -e "s|faq-taiwa|$2|" -e "s|よくある質問への回答案|$3|" \
		"$SRC/tests/fuzz/corpus/item/prompt.md"
}

fed_nodes kagawa takamatsu kanonji marugame mitoyo sakaide
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

# Narrowing keeps what is held; status calls it 対象外 (not followed), not "synced …".
check "三豊市 narrows its filter to cases again" k --home mitoyo join "$EP" --federation "$FED" --kind case
prompt 372021 faq-maru3 丸亀市の三つ目のプロンプト >p3.md
k --home marugame publish p3.md -m third >/dev/null
k --home mitoyo sync >/dev/null 2>&1
check "the prompt it held is kept" found mitoyo 丸亀市の問合せプロンプト
check_fails "a new prompt is not fetched" found mitoyo 丸亀市の三つ目のプロンプト
k --home mitoyo status >narrow.out 2>&1
check "status shows the prompts held as 対象外, with no sync time; cases as synced" sh -c \
	"grep -q '^  prompts .*対象外 (not followed' narrow.out && ! grep -q '^  prompts .*synced' narrow.out &&
	grep -q '^  cases .*synced' narrow.out || { cat narrow.out; exit 1; }"
k --home mitoyo status --json >narrow.json
check "status --json says so: prompts followed false, cases true" python3 -c "
import json; s = json.load(open('narrow.json'))
p = [x for x in s['publishers'] if x['publisher'] == '$MARU'][0]
f = {c['collection']: c['followed'] for c in p['collections']}
assert f == {'cases': True, 'prompts': False}, f
assert all(c['followed'] for x in s['publishers'] if x['own'] for c in x['collections']), s"

# Downstream of the filtered town: it offers 丸亀市's whole manifest but holds
# no new prompts; 観音寺市 joins through it. A fetch of what it left out is
# answered "not held here": left to the peers that hold it, not a failure.
serve mitoyo $(($P + 8)) $(($P + 9))
MEP=tcp://127.0.0.1:$(($P + 8))
k --home kanonji join "$MEP" --federation "$FED" >down-join.out 2>&1
check "観音寺市 syncs from the filtered town with exit 0" k --home kanonji sync
cp "$T/last.out" down.out
check "its sync says the peer does not hold all of it, left to others; nothing failed" sh -c \
	"grep -q '^$MEP: 1 manifest(s) name collections it does not hold' down.out &&
	grep -q '0 rejected, 0 failed' down.out && grep -q 'not taken from it: collection prompts: not held there' down.out"
nothing_taken() { test "$(quarantined kanonji)" = 0 && test -z "$(seq_of kanonji "$MARU")"; }
check "nothing quarantined at 観音寺市, nothing of 丸亀市 taken from there" nothing_taken
check "観音寺市 joins through 丸亀市 too" k --home kanonji join "$EP" --federation "$FED"
check "a sync with both peers exits 0" k --home kanonji sync
took() { found kanonji "$1" && found kanonji "$2" && test "$(seq_of kanonji "$MARU")" = "$(seq_of marugame "$MARU")"; }
check "観音寺市 holds the new prompt and the case, at 丸亀市's seq" took 丸亀市の三つ目のプロンプト 丸亀市の窓口事例
# The same with daemons: the filtered town's relayed announcement and 丸亀市's own reach 観音寺市.
serve kanonji $(($P + 4)) $(($P + 5))
item 372021 c4 丸亀市の四件目の事例 >c4.md
prompt 372021 faq-maru4 丸亀市の四つ目のプロンプト >p4.md
k --home marugame publish c4.md p4.md -m fourth >/dev/null
check "the running 観音寺市 takes the new case and prompt" wait_for 30 took 丸亀市の四件目の事例 丸亀市の四つ目のプロンプト
check_fails "and logs no failed apply" grep -q "not applied" kanonji.log
diag "announcements of the filtered town left to 丸亀市 in 観音寺市's log: $(grep -c 'not taken from it' kanonji.log)"

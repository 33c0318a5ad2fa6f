#!/bin/sh
# t0015 - policy as text: the compiled-in defaults (policies/default.policy),
# per-node overrides in the config, the same engine on publish and receipt.
. "$(dirname "$0")/lib.sh"
plan 12
cd "$T"
P=$(port_base)

# A publisher that loosens its own policy is still refused by subscribers.
k --home pub init --name 三豊市 --lg-code 372081 >/dev/null
FPR=$(k --home pub id --fingerprint)
k --home pub publish "$SRC/deploy/samples/372081" >/dev/null
serve pub $P $((P + 1))
k --home town init --name 西海市 --lg-code 422126 >/dev/null
k --home town follow tcp://127.0.0.1:$P --publisher "$FPR" >/dev/null
k --home town sync --timeout 5 >/dev/null
echo 'policy.publish.confidentiality = 機密性1 機密性2' >>pub/config
item 372081 internal 内部の検討 | sed 's/機密性1/機密性2/' >internal.md
check "the publisher's own override lets it publish 機密性2" k --home pub publish internal.md
before=$(state_fingerprint town)
check_fails "a subscriber on the default policy refuses the update" k --home town sync --timeout 5
check "quarantined with the reason" sh -c "sqlite3 town/state.db 'SELECT reason FROM quarantine' | grep -q 'confidentiality 機密性2 may not be published'"
check "and nothing applied" test "$before" = "$(state_fingerprint town)"

# A town that accepts only cases.
k --home p2 init --name 南陽市 --lg-code 062081 >/dev/null
k --home p2 publish "$SRC/deploy/samples/062081" >/dev/null
serve p2 $((P + 2)) $((P + 3))
k --home casesonly init --name 別府市 --lg-code 442020 >/dev/null
echo 'policy.accept.kinds = case' >>casesonly/config
k --home casesonly follow tcp://127.0.0.1:$((P + 2)) --publisher "$(k --home p2 id --fingerprint)" >/dev/null
k --home casesonly sync --timeout 5 >/dev/null 2>&1
check "a town accepting only cases refuses prompts" sh -c "sqlite3 casesonly/state.db 'SELECT reason FROM quarantine' | grep -q 'does not accept prompt items'"

# PII levels are policy.
k --home chk init --name 三豊市 --lg-code 372081 >/dev/null
printf '%s\n' "$(item 372081 addr 住所の例)" | sed 's/^本文：.*/本文：窓口は本町1-2-3 にある。/' >addr.md
k --home chk check addr.md >out 2>&1; rc=$?
check "an address warns by default" sh -c "test $rc = 0 && grep -q 'warning: street address' out"
echo 'policy.pii.address = block' >>chk/config
check_fails "policy.pii.address = block makes it block" k --home chk check addr.md
sed -i 's/^policy.pii.address = block$/policy.pii.address = off/' chk/config
k --home chk check addr.md >out 2>&1
check "off removes the finding" sh -c "! grep -q pii.address out"

echo 'policy.publish.bogus = 1' >>town/config
k --home town status 2>err; rc=$?
check "an unknown policy key is an error naming it" sh -c "test $rc = 1 && grep -q \"unknown policy setting 'publish.bogus'\" err"

# A board publishes for the municipalities it lists.
k --home board init --name 香川県 --lg-code 370002 >/dev/null
echo 'policy.publish.co_publishers = 372081' >>board/config
item 372081 by-board 県が代わりに公開する事例 >b1.md
item 372030 not-listed 一覧にない町の事例 >b2.md
check "a board publishes for a listed municipality" k --home board publish b1.md
k --home board publish b2.md 2>err
check "and not for one it does not list" grep -q 'policy.publish.co_publishers' err
serve board $((P + 4)) $((P + 5))
k --home btown init --name 丸亀市 --lg-code 372021 >/dev/null
k --home btown follow tcp://127.0.0.1:$((P + 4)) --publisher "$(k --home board id --fingerprint)" >/dev/null
k --home btown sync --timeout 5 >/dev/null
check "a town accepts the board's items for its own prefecture" k --home btown show 372081/case/by-board

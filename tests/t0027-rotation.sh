#!/bin/sh
# t0027 - a member's key rotated (DESIGN §6): the board replaces 丸亀市's key;
# the town continues the same collection under the new key without fetching
# it again, shows each item once, and stock `git verify-commit` passes on
# the commits from before and after the rotation with the file written by
# `kairan allowed-signers` (valid-before / valid-after windows).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/boardlib.sh"
plan 24
cd "$T"
P=$(port_base)

fed_node kagawa 香川県 370002 0
fed_node marugame 丸亀市 372021 2
fed_node marugame2 丸亀市 372021 2          # the same town's new key, same endpoint
fed_node mitoyo 三豊市 372081 4
fed_node zentsuji 善通寺市 372048 6
OLD=$(k --home marugame id --fingerprint)
NEW=$(k --home marugame2 id --fingerprint)

k --home kagawa federation create --name 香川県生成AI連携 --threshold 1 --board kagawa.json --expires-days 1 -o v1.kfm >/dev/null
k --home kagawa federation sign v1.kfm --yes >/dev/null
k --home kagawa federation apply v1.kfm >/dev/null
k --home kagawa federation propose --add-member marugame.json --add-member mitoyo.json --add-member zentsuji.json \
	--expires-days 1 -o v2.kfm >/dev/null
k --home kagawa federation sign v2.kfm --yes >/dev/null
k --home kagawa federation apply v2.kfm >/dev/null
for v in v1 v2; do k --home marugame federation apply $v.kfm >/dev/null; done
FED=$(fed_id kagawa)

item 372021 a 丸亀市の交換前の事例 >a.md
k --home marugame publish a.md -m before >/dev/null
serve marugame $(($P + 2)) $(($P + 3))
check "the town joins through 丸亀市" k --home mitoyo join "tcp://127.0.0.1:$(($P + 2))" --federation "$FED"
check "and holds its item under the old key" found mitoyo 丸亀市の交換前の事例

# The board rotates the key; 丸亀市 moves its repositories to the new key.
sleep 1
k --home kagawa federation propose --rotate "$OLD" marugame2.json --expires-days 1 -o v3.kfm >/dev/null
k --home kagawa federation sign v3.kfm --yes >/dev/null
check "board: version 3 (rotation) applied" k --home kagawa federation apply v3.kfm
k --home marugame federation apply v3.kfm >/dev/null
# The town takes version 3 as a file: the only node it talks to is the one whose
# keys (signing and transport) changed, so the old document cannot reach it there.
k --home mitoyo federation apply v3.kfm >/dev/null
kill "$PID_marugame"; wait "$PID_marugame" 2>/dev/null
mkdir -p "marugame2/repos/$NEW"
cp -r "marugame/repos/$OLD/cases.git" "marugame2/repos/$NEW/"
cp -r marugame/federation marugame2/
sleep 1
item 372021 b 丸亀市の交換後の事例 >b.md
check "the new key publishes on top of the old history" k --home marugame2 publish b.md -m after
serve marugame2 $(($P + 2)) $(($P + 3))

k --home mitoyo sync >sync.out 2>&1
check "the town syncs: version 3 and the new key's manifest" grep -q 'applied' sync.out
check "the collection was continued, not fetched again" grep -q 'continued from its previous key' sync.out
bytes=$(sed -n 's/.*(\([0-9]*\) bytes).*/\1/p' sync.out | tail -1)
full=$(du -sb "marugame/repos/$OLD/cases.git/objects" | cut -f1)
diag "bytes fetched after the rotation: $bytes (the old history's objects: $full bytes)"
R=mitoyo/repos/$NEW/cases.git
check "both items are there, each once" sh -c "test \$(\"\$KAIRAN\" --home mitoyo search 丸亀市 --json | grep -o '\"title\":\"丸亀市の交換[前後]の事例\"' | sort -u | wc -l) = 2 && test $(hits mitoyo 丸亀市の交換前の事例) = 1"

# A town that never held the old key's collection takes the whole history:
# the commits before the rotation by the old key, after it by the new one.
check "a town joining after the rotation verifies the history across it" \
	k --home zentsuji join "tcp://127.0.0.1:$(($P + 2))" --federation "$FED"
both() { found zentsuji 丸亀市の交換前の事例 && found zentsuji 丸亀市の交換後の事例; }
check "and shows the items from before and after" both

k --home mitoyo allowed-signers >signers
check "allowed-signers bounds the old key with valid-before" grep -q "^$OLD namespaces=\"git\",valid-before=" signers
check "and starts the new key with valid-after" grep -q "^$NEW namespaces=\"git\",valid-after=" signers
before=$(git -C "$R" rev-list main | tail -1)
after=$(git -C "$R" rev-parse main)
check "git verify-commit passes on the commit from before the rotation" \
	git -C "$R" -c gpg.ssh.allowedSignersFile="$T/signers" verify-commit "$before"
check "and on the commit from after it" \
	git -C "$R" -c gpg.ssh.allowedSignersFile="$T/signers" verify-commit "$after"
grep -v "^$OLD" signers >signers-no-old
check_fails "without the old key's line the old commit does not verify" \
	git -C "$R" -c gpg.ssh.allowedSignersFile="$T/signers-no-old" verify-commit "$before"

# A follow whose endpoint never serves that publisher is reported, not silent.
KFPR=$(k --home kagawa id --fingerprint)
k --home mitoyo follow "tcp://127.0.0.1:$(($P + 2))" --publisher "$KFPR" >/dev/null
check_fails "sync fails on a followed publisher the peer never serves" k --home mitoyo sync
grep -q "does not serve publisher $KFPR" "$T/last.out" && ok "and names it" || { not_ok "and names it"; sed 's/^/# /' "$T/last.out"; }
check "status says so" sh -c "\"\$KAIRAN\" --home mitoyo status | grep -q 'does not serve publisher(s) followed through it: $KFPR'"
check "peers says so" sh -c "\"\$KAIRAN\" --home mitoyo peers | grep -q 'does not serve (followed through it, never received): $KFPR'"
k --home mitoyo unfollow "tcp://127.0.0.1:$(($P + 2))" --publisher "$KFPR" >/dev/null
k --home mitoyo sync >/dev/null 2>&1

# The newest version expires: the town is read-only for the federation, loses nothing,
# and takes the members' publications again once the board renews it.
item 372021 c 丸亀市の期限切れ中の事例 >c.md
k --home marugame2 publish c.md -m during >/dev/null
LATER=$(( $(date +%s) + 2 * 86400 ))
check_fails "with the newest version expired, sync applies nothing new" env KAIRAN_NOW=$LATER "$KAIRAN" --home mitoyo sync
grep -q 'stale since' "$T/last.out" && ok "and says the federation is stale since when" || { not_ok "and says the federation is stale since when"; sed 's/^/# /' "$T/last.out"; }
check "status shows stale since" sh -c "KAIRAN_NOW=$LATER \"\$KAIRAN\" --home mitoyo status | grep -q 'stale since'"
check "nothing held is lost" sh -c "KAIRAN_NOW=$LATER \"\$KAIRAN\" --home mitoyo search 丸亀市の交換前の事例 --json | grep -q '\"title\":\"丸亀市の交換前の事例\"'"
KAIRAN_NOW=$LATER k --home kagawa federation propose --renew --expires-days 30 -o v4.kfm >/dev/null
KAIRAN_NOW=$LATER k --home kagawa federation sign v4.kfm --yes >/dev/null
KAIRAN_NOW=$LATER k --home kagawa federation apply v4.kfm >/dev/null
KAIRAN_NOW=$LATER k --home marugame2 federation apply v4.kfm >/dev/null
check "renewed (version 4 after an expired version 3), sync applies again" env KAIRAN_NOW=$LATER "$KAIRAN" --home mitoyo sync
check "and the item published meanwhile arrives" sh -c "KAIRAN_NOW=$LATER \"\$KAIRAN\" --home mitoyo search 丸亀市の期限切れ中の事例 --json | grep -q '\"title\":\"丸亀市の期限切れ中の事例\"'"

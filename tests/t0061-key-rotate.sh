#!/bin/sh
# t0061 - a member rotates its own key (DESIGN §6, publisher side): 丸亀市
# runs `kairan key rotate`, a 2-of-3 board signs the rotation, and once the
# version carrying it is applied on 丸亀市's node it signs with the new key:
# the same collections continue (no re-download by the town), seq continues
# (old seq + 1, never 1), the old key is kept under keys/retired/, and stock
# `git verify-commit` passes on commits from before and after. Bad input: a
# rotation the board has not applied yet is reported as pending; a lost or
# damaged new key file switches nothing. Real nodes, real sockets.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/boardlib.sh"
plan 31
cd "$T"
P=$(port_base)

tree() { find "$1/repos" "$1/keys" "$1/manifests" -type f | sort | xargs sha256sum; sqlite3 "$1/state.db" \
	"SELECT publisher, seq, hex(signed) FROM manifests ORDER BY 1; SELECT * FROM heads ORDER BY 1, 2; SELECT *, hex(body) FROM items ORDER BY 1, 2, 3;"; }

fed_nodes kagawa takamatsu kanonji marugame mitoyo
OLD=$(k --home marugame id --fingerprint)

fed_members marugame mitoyo

item 372021 a 丸亀市の交換前の事例 >a.md
k --home marugame publish a.md -m before >/dev/null
item 372021 a2 丸亀市の交換前の二件目 >a2.md
k --home marugame publish a2.md -m before2 >/dev/null
serve marugame $(($P + 6)) $(($P + 7))
check "the town joins through 丸亀市" k --home mitoyo join "tcp://127.0.0.1:$(($P + 6))" --federation "$FED"
check "and holds its items under the old key" found mitoyo 丸亀市の交換前の事例
S=$(seq_of mitoyo "$OLD")
diag "the old key's last seq at the town: $S"

# 丸亀市 makes its next key; nothing switches yet.
check "key rotate makes the next key and its ID for the board" k --home marugame key rotate -o new.json
NEW=$(python3 -c 'import json; print(json.load(open("new.json"))["fingerprint"])')
check "the ID is a new key of the same municipality" sh -c "test '$NEW' != '$OLD' && grep -q '\"lg_code\":\"372021\"' new.json"
check "the node still signs with the old key" test "$(k --home marugame id --fingerprint)" = "$OLD"
check_fails "rotate again while the board has not applied it is refused" k --home marugame key rotate
grep -q "pending: the membership this node holds (version 2) does not rotate it yet" "$T/last.out" &&
	grep -q "federation propose --rotate $OLD" "$T/last.out" && ok "and says what is pending and what to do" ||
	{ not_ok "and says what is pending and what to do"; sed 's/^/# /' "$T/last.out"; }
check_fails "a second -o never overwrites the ID file" k --home marugame key rotate --id -o new.json
check "--id writes the pending key's ID again" k --home marugame key rotate --id -o again.json
check "the same key" grep -q "\"fingerprint\":\"$NEW\"" again.json

# The board: 2 of 3 sign the rotation.
k --home kagawa federation propose --rotate "$OLD" new.json -o v3.kfm >/dev/null
k --home kagawa federation sign v3.kfm --yes >/dev/null
k --home takamatsu federation sign v3.kfm --yes >/dev/null
check "board: version 3 (rotation, 2 of 3) applied" k --home kagawa federation apply v3.kfm

# A lost new key file, and a damaged one: the rotation switches nothing.
kill "$PID_marugame"; wait "$PID_marugame" 2>/dev/null
cp -a marugame lost
rm lost/keys/rotate.ed25519 lost/control.sock 2>/dev/null
before=$(tree lost)
k --home lost federation apply v3.kfm >/dev/null 2>&1
k --home lost status >/dev/null 2>&1
check "with keys/rotate.ed25519 lost, the node still signs as the old key" test "$(k --home lost id --fingerprint)" = "$OLD"
check "and its keys, repositories, manifests and state are unchanged" test "$before" = "$(tree lost)"
cp -a marugame damaged
rm -f damaged/control.sock
head -c 40 marugame/keys/rotate.ed25519 >damaged/keys/rotate.ed25519
k --home damaged federation apply v3.kfm >/dev/null 2>&1
check "a damaged new key switches nothing" test "$(k --home damaged id --fingerprint)" = "$OLD"
check_fails "key rotate says the new key cannot be read" k --home damaged key rotate
grep -q "rotate.ed25519 cannot be read" "$T/last.out" && ok "and names the file" ||
	{ not_ok "and names the file"; sed 's/^/# /' "$T/last.out"; }

# 丸亀市 applies version 3: from now on it signs with the new key.
check "丸亀市 applies version 3" k --home marugame federation apply v3.kfm
check "and signs as the new key" test "$(k --home marugame id --fingerprint)" = "$NEW"
check "the old key is kept, retired" test -f "marugame/keys/retired/$OLD.ed25519" -a ! -e marugame/keys/rotate.ed25519
check "its own search shows each item once" test "$(hits marugame 丸亀市の交換前の事例)" = 1
MS=$(seq_of marugame "$NEW")
check "its first manifest under the new key continues the seq ($S + 1 = $MS)" test "$MS" = $((S + 1))
serve marugame $(($P + 6)) $(($P + 7))

# The town takes version 3 as a file (the only node it talks to is the one whose
# transport key changed), then syncs.
k --home mitoyo federation apply v3.kfm >/dev/null
k --home mitoyo sync >sync.out 2>&1
check "the town accepts the new key's first manifest" test "$(seq_of mitoyo "$NEW")" = $((S + 1))
check "the collection was continued, not fetched again" grep -q 'continued from its previous key' sync.out
bytes=$(sed -n 's/.*(\([0-9]*\) bytes).*/\1/p' sync.out | tail -1)
full=$(du -sb "marugame/repos/$OLD/cases.git/objects" | cut -f1)
diag "bytes fetched at the rotation: ${bytes:-0} (the old history's objects: $full bytes)"

item 372021 b 丸亀市の交換後の事例 >b.md
check "the new key publishes on top of the old history" k --home marugame publish b.md -m after
k --home mitoyo sync >sync2.out 2>&1
check "the town takes it: seq $((S + 2))" test "$(seq_of mitoyo "$NEW")" = $((S + 2))
check "both items are there, each once" sh -c "test $(hits mitoyo 丸亀市の交換前の事例) = 1 && test $(hits mitoyo 丸亀市の交換後の事例) = 1"

R=mitoyo/repos/$NEW/cases.git
k --home mitoyo allowed-signers >signers
before=$(git -C "$R" rev-list main | tail -1)
after=$(git -C "$R" rev-parse main)
check "git verify-commit passes on the commit from before the rotation" \
	git -C "$R" -c gpg.ssh.allowedSignersFile="$T/signers" verify-commit "$before"
check "and on the commit from after it" \
	git -C "$R" -c gpg.ssh.allowedSignersFile="$T/signers" verify-commit "$after"
k --home marugame allowed-signers >own-signers
check "丸亀市's own allowed-signers verifies its history too" \
	git -C "marugame/repos/$NEW/cases.git" -c gpg.ssh.allowedSignersFile="$T/own-signers" verify-commit "$before"

# Outside any federation: --now switches at once, seq continuing.
fed_node solo 善通寺市 372048 10
item 372048 s 善通寺市の事例 >s.md
k --home solo publish s.md -m s >/dev/null
SS=$(seq_of solo "$(k --home solo id --fingerprint)")
check "key rotate --now outside a federation switches at once" k --home solo key rotate --now -o solo-new.json
SN=$(k --home solo id --fingerprint)
check "seq continues under the new key ($SS + 1)" test "$(seq_of solo "$SN")" = $((SS + 1))

#!/bin/sh
# t0007 - many small updates: packs and loose objects are consolidated, and
# everything stays verifiable by kairan and by stock git. A consolidated
# history keeps its delta chains to git's 50 (each version of the
# collection's tree is a delta against the one before: 70 versions were one
# chain of 70, which every read of the head resolved). A consolidation
# copies what the packs hold as it is, and reads what git itself packed
# (offset deltas, after an administrator's git gc) as before.
. "$(dirname "$0")/lib.sh"
plan 13
cd "$T"
P=$(port_base)

k --home pub init --name 三豊市 --lg-code 372081 >/dev/null
FPR=$(k --home pub id --fingerprint)
item 372081 first 最初 >first.md
k --home pub publish first.md >/dev/null
serve pub $P $((P + 1))
k --home town init --name 西海市 --lg-code 422126 >/dev/null
k --home town follow tcp://127.0.0.1:$P --publisher "$FPR" >/dev/null
serve town $((P + 2)) $((P + 3))
wait_for 5 k --home town show 372081/case/first

# updates_to N: one-item publishes small-$i .. small-N, each waited for on the town
updates_to() {
	while [ $i -le "$1" ]; do
		item 372081 "small-$i" "小さな更新 $i" >s.md
		k --home pub publish s.md >/dev/null
		wait_for 5 k --home town show "372081/case/small-$i" || break
		i=$((i + 1))
	done
}
i=1
updates_to 70
check "70 single-item updates all replicated" k --home town show 372081/case/small-70
packs=$(ls town/repos/$FPR/cases.git/objects/pack/*.pack | wc -l)
check "the town's collection was consolidated ($packs packs after 71 fetches)" test "$packs" -le 17
loose=$(find pub/repos/$FPR/cases.git/objects/?? -type f 2>/dev/null | wc -l)
check "the publisher's loose objects were packed ($loose left)" test "$loose" -le 256
# longest: the longest delta chain in a repository's packs (git verify-pack)
longest() { for x in "$1"/objects/pack/*.idx; do git verify-pack -v "$x"; done | awk '$4 ~ /^[0-9]+$/ && NF >= 7 && $6 > m { m = $6 } END { print m + 0 }'; }
# (the publishing node consolidates on its own thread once publishes pause:
# its pack of deltas within seconds; read again while a consolidation
# replaces the packs a listing named)
has_deltas() { chain=$(longest "$1"); test "$chain" -gt 0; }
wait_for 10 has_deltas pub/repos/$FPR/cases.git || true
p=$chain
wait_for 10 has_deltas town/repos/$FPR/cases.git || true
t=$chain
check "the town's delta chains are at most 50 long (longest $t)" test "$t" -le 50 -a "$t" -gt 0
check "the publisher's delta chains are at most 50 long (longest $p)" test "$p" -le 50 -a "$p" -gt 0
check "git fsck --full is clean on the town" git -C town/repos/$FPR/cases.git fsck --full --no-dangling
check "git fsck --full is clean on the publisher" git -C pub/repos/$FPR/cases.git fsck --full --no-dangling
check "kairan verify passes on the town" k --home town verify
check "kairan verify passes on the publisher" k --home pub verify
k --home late init --name 別府市 --lg-code 442020 >/dev/null
k --home late follow tcp://127.0.0.1:$P --publisher "$FPR" >/dev/null
check "a new town's first sync after consolidation works" sh -c "\"$KAIRAN\" --home late sync --timeout 5 && \"$KAIRAN\" --home late show 372081/case/small-70"

# --- 11-13: consolidated again over a pack git wrote (git gc: offset deltas) ---
kill "$PID_town"; wait "$PID_town" 2>/dev/null
git -C town/repos/$FPR/cases.git gc -q --prune=now
diag "after git gc: $(ls town/repos/$FPR/cases.git/objects/pack/*.pack | wc -l) pack(s), $(git verify-pack -v town/repos/$FPR/cases.git/objects/pack/*.idx | awk 'NF >= 7' | wc -l) deltas"
serve town $((P + 2)) $((P + 3))
updates_to 95
packs=$(ls town/repos/$FPR/cases.git/objects/pack/*.pack | wc -l)
check "25 more updates over git's pack replicated and consolidated ($packs packs)" \
	sh -c "\"\$KAIRAN\" --home town show 372081/case/small-95 && test $packs -le 17"
check "git fsck --full is clean on the town after that" git -C town/repos/$FPR/cases.git fsck --full --no-dangling
check "kairan verify passes on it" k --home town verify

#!/bin/sh
# t0101 - a consolidation packs the newest part of the history, not all of
# it (issue 13: memory and time that stay flat over a long uptime). Each
# consolidation writes one layer, listed oldest first in the repository's
# kairan-layers file, and keeps the layers below that hold at least twice
# what it takes in. A layer list that does not match the packs (a pack
# gone, a damaged line) makes the next consolidation a whole-history one,
# as before layers. Stock git reads every repository whole throughout.
. "$(dirname "$0")/lib.sh"
plan 13
cd "$T"
P=$(port_base)

k --home pub init --name 三豊市 --lg-code 372081 >/dev/null
FPR=$(k --home pub id --fingerprint)
mkdir seed
n=0; while [ $n -lt 300 ]; do item 372081 "seed-$n" "最初の事例 $n" >seed/s$n.md; n=$((n + 1)); done
k --home pub publish seed >/dev/null
serve pub $P $((P + 1))
k --home town init --name 西海市 --lg-code 422126 >/dev/null
k --home town follow tcp://127.0.0.1:$P --publisher "$FPR" >/dev/null
serve town $((P + 2)) $((P + 3))
wait_for 10 k --home town show 372081/case/seed-299
TR=town/repos/$FPR/cases.git
PR=pub/repos/$FPR/cases.git

# updates_to N: one-item publishes small-$i .. small-N, each waited for on the town
updates_to() {
	while [ $i -le "$1" ]; do
		item 372081 "small-$i" "小さな更新 $i" >s.md
		k --home pub publish s.md >/dev/null
		wait_for 5 k --home town show "372081/case/small-$i" || break
		i=$((i + 1))
	done
}
layers() { test -f "$1/kairan-layers" && wc -l <"$1/kairan-layers" || echo 0; }
has_layers() { test "$(layers "$1")" -ge "$2"; }
# every listed pack is there, and each top is an ancestor of the next and of main
layers_sound() {
	prev=""
	while read -r pack top; do
		test -f "$1/objects/pack/$pack.pack" -a -f "$1/objects/pack/$pack.idx" || { echo "missing $pack"; return 1; }
		[ -z "$prev" ] || git -C "$1" merge-base --is-ancestor "$prev" "$top" || { echo "$prev not before $top"; return 1; }
		prev=$top
	done <"$1/kairan-layers"
	git -C "$1" merge-base --is-ancestor "$prev" main
}
longest() { for x in "$1"/objects/pack/*.idx; do git verify-pack -v "$x"; done | awk '$4 ~ /^[0-9]+$/ && NF >= 7 && $6 > m { m = $6 } END { print m + 0 }'; }

# --- 1-3: the first consolidation packs the whole history: one layer ---
i=1
updates_to 20
wait_for 10 has_layers $TR 1 || true
check "20 updates replicated, and the town's first consolidation wrote one layer ($(layers $TR) listed)" \
	sh -c "\"\$KAIRAN\" --home town show 372081/case/small-20 && test $(layers $TR) = 1"
bottom=$(head -n 1 $TR/kairan-layers | cut -d' ' -f1)
check "the layer is the whole history: git finds the repository whole" git -C $TR fsck --strict --no-dangling
check "the listed layer is the pack it names, with main at or after its top" layers_sound $TR

# --- 4-7: the next consolidations keep the layer below and add one above ---
updates_to 60
wait_for 10 has_layers $TR 2 || true
diag "town: $(tr '\n' '|' <$TR/kairan-layers); $(ls $TR/objects/pack/*.pack | wc -l) packs"
npacks=$(ls $TR/objects/pack/*.pack | wc -l)
check "40 more updates: the town's consolidations added layers ($(layers $TR) listed) and removed what they replaced ($npacks packs)" \
	test "$(layers $TR)" -ge 2 -a "$npacks" -le $(($(layers $TR) + 16))
check "and kept the first, the 300-item history, as it was" \
	sh -c "head -n 1 $TR/kairan-layers | grep -q '^$bottom ' && test -f $TR/objects/pack/$bottom.pack"
check "the layers are sound: each top before the next, main after the last" layers_sound $TR
t=$(longest $TR)
check "git fsck is clean on the town, its delta chains at most 50 (longest $t)" \
	sh -c "git -C $TR fsck --strict --no-dangling && test $t -le 50"

# --- 8-9: the publisher's own collection consolidates in layers too ---
wait_for 10 has_layers $PR 1 || true
check "the publisher's collection has layers too ($(layers $PR) listed), and they are sound" layers_sound $PR
check "kairan verify passes on the town and on the publisher" sh -c "\"\$KAIRAN\" --home town verify && \"\$KAIRAN\" --home pub verify"

# --- 10-11: a list that names a pack that is gone: the next consolidation is whole ---
kill "$PID_town"; wait "$PID_town" 2>/dev/null
printf 'pack-0000000000000000000000000000000000000000 %s\n' "$(git -C $TR rev-parse main)" >>$TR/kairan-layers
serve town $((P + 2)) $((P + 3))
updates_to 80
# the whole history in a new first layer (later ones may follow it by the time this looks)
new_bottom() { ! grep -q pack-0000 $TR/kairan-layers && ! head -n 1 $TR/kairan-layers | grep -q "^$bottom "; }
wait_for 10 new_bottom || true
check "a list naming a missing pack: the next consolidation packs the whole history in a new first layer" \
	sh -c "! grep -q pack-0000 $TR/kairan-layers && ! head -n 1 $TR/kairan-layers | grep -q '^$bottom ' && git -C $TR fsck --strict --no-dangling"
check "the town holds the last item" k --home town show 372081/case/small-80

# --- 12-13: a damaged list: the same ---
kill "$PID_town"; wait "$PID_town" 2>/dev/null
printf 'not a layer\n' >$TR/kairan-layers
serve town $((P + 2)) $((P + 3))
updates_to 100
wait_for 10 sh -c "grep -q '^pack-' $TR/kairan-layers" || true
check "a damaged list: replaced by a sound one on the next consolidation" layers_sound $TR
check "git fsck and kairan verify pass on the town after all of it" \
	sh -c "git -C $TR fsck --strict --no-dangling && \"\$KAIRAN\" --home town verify && \"\$KAIRAN\" --home town show 372081/case/small-100"

#!/bin/sh
# c3 - upgrade in place: a town's home served by the old release
# (KAIRAN_OLD), its node stopped and this release's (KAIRAN) started on the
# same home, which goes on receiving: the packs, state.db and the
# kairan-layers list the old binary wrote are taken as they are, and this
# release's consolidation keeps the old one's layer under its own. Then the
# publisher is upgraded the same way, and publishes on to the upgraded town
# and to a second town left on the old release. Every step is checked by
# show, the end by verify --full and by stock git (git fsck --strict) on
# every repository of the homes.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib.sh"
plan 18
cd "$T"
P=$(compat_port)

home_init "$KAIRAN_OLD" pub 三豊市 372081
FPR=$(ko --home pub id --fingerprint)
PR=pub/repos/$FPR/cases.git
mkdir seed
# 600 items: the tree (24 KB) is over 8 KiB, so announced packs are thin
n=0; while [ $n -lt 600 ]; do item 372081 "seed-$n" "最初の事例 $n" >seed/s$n.md; n=$((n + 1)); done
ko --home pub publish seed >/dev/null
serve_by "$KAIRAN_OLD" pub "$P" $((P + 1))
for t in town old; do
	home_init "$KAIRAN_OLD" $t 西海市 422126
	ko --home $t follow "tcp://127.0.0.1:$P" --publisher "$FPR" >/dev/null
done
serve_by "$KAIRAN_OLD" town $((P + 2)) $((P + 3))
serve_by "$KAIRAN_OLD" old $((P + 4)) $((P + 5))
wait_for 30 has_item "$KAIRAN_OLD" town 372081/case/seed-599
wait_for 30 has_item "$KAIRAN_OLD" old 372081/case/seed-599
wait_for 10 subscribed town $((P + 1))
wait_for 10 subscribed old $((P + 1))
TR=town/repos/$FPR/cases.git

# publish_to N: one-item publishes upd-$i .. upd-N by the publisher's binary (PUBK),
# handed to its running node, each waited for on both towns; counts those the first
# town applied from the packs announced with them (inl, from 0 at each call)
i=1 PUBK=$KAIRAN_OLD
publish_to() {
	inl=0
	while [ $i -le "$1" ]; do
		item 372081 "upd-$i" "更新の事例 $i" >u.md
		"$PUBK" --home pub publish u.md >/dev/null
		s=$(seq_of pub "$FPR")
		for t in town old; do
			wait_for 10 seq_is $t "$FPR" "$s" || {
				diag "update $i (seq $s) did not reach $t; nodes running:$(for h in pub town old; do alive $h && printf ' %s' $h; done)"
				return 1
			}
		done
		case $(applied_line town "$s") in *"1 of them from the announcement"*) inl=$((inl + 1)) ;; esac
		i=$((i + 1))
	done
}
has_layers() { test "$(layers "$1")" -ge "$2"; }

# --- 1-2: the old town receives, and consolidates --------------------------------------
publish_to 20
check "20 updates reach both old towns (upd-20 shown)" has_item "$KAIRAN_OLD" town 372081/case/upd-20
wait_for 10 has_layers "$TR" 1 || true
bottom=$(head -n 1 "$TR/kairan-layers" 2>/dev/null | cut -d' ' -f1)
check "the old town consolidated in layers ($(layers "$TR") listed, $(packs "$TR") packs)" test -n "$bottom"
# ... and has packs that no consolidation took in yet
publish_to 24
v0=$(sqlite3 town/state.db 'PRAGMA user_version')
packs0=$(packs "$TR")

# --- 3-9: the town upgraded in place -----------------------------------------------------------
check "the old town's node stops cleanly (SIGTERM, exit 0)" stop town
check "this release reads the old town's home (kairan status)" k --home town status
serve town $((P + 2)) $((P + 3))
diag "state.db schema version $v0 written by the old release, $(sqlite3 town/state.db 'PRAGMA user_version') after this release opened it; $packs0 packs, $(layers "$TR") layer(s)"
holds_all() { has_item "$KAIRAN" town 372081/case/upd-24 && has_item "$KAIRAN" town 372081/case/seed-0; }
check "this release's node starts on it and still holds every item" holds_all
wait_for 10 subscribed town $((P + 1))
publish_to 48
check "24 more updates from the old publisher reach the upgraded town (upd-48 shown)" \
	has_item "$KAIRAN" town 372081/case/upd-48
check "at least 20 of them from the packs announced with them ($inl)" test "$inl" -ge 20
wait_for 10 has_layers "$TR" 2 || true
check "this release's consolidation added a layer above the old one's ($(layers "$TR") listed, $(packs "$TR") packs)" \
	test "$(layers "$TR")" -ge 2
bottom_kept() { head -n 1 "$1/kairan-layers" | grep -q "^$2 " && test -f "$1/objects/pack/$2.pack"; }
check "and kept the old release's layer as it was, at the bottom" bottom_kept "$TR" "$bottom"

# --- 10-13: the publisher upgraded in place ----------------------------------------------------
check "the old publisher's node stops cleanly" stop pub
serve pub "$P" $((P + 1))
PUBK=$KAIRAN
# (the towns' subscriptions reconnect by themselves: most updates still come with their announcements)
players0=$(cat "$PR/kairan-layers" 2>/dev/null)
pbottom=$(head -n 1 "$PR/kairan-layers" 2>/dev/null | cut -d' ' -f1)
publish_to 72
both_have() { has_item "$KAIRAN" town 372081/case/upd-72 && has_item "$KAIRAN_OLD" old 372081/case/upd-72; }
check "this release's node on the old publisher's home publishes on: both towns have upd-72" both_have
check "the upgraded town took them from the announcements ($inl of 24)" test "$inl" -ge 20
relayered() { test -n "$pbottom" && test "$(cat "$PR/kairan-layers")" != "$players0"; }
wait_for 10 relayered || true
relayered_sound() { relayered && bottom_kept "$PR" "$pbottom" && test "$(packs "$PR")" -le 17; }
check "the upgraded publisher consolidated on the layers the old one listed ($(echo "$players0" | grep -c .) -> $(layers "$PR") listed, $(packs "$PR") packs), the bottom one kept" \
	relayered_sound

# --- 14-18: the end ------------------------------------------------------------------------------
verify_both() { k --home town verify --full && k --home pub verify --full; }
check "kairan verify --full passes on the upgraded town and the upgraded publisher" verify_both
check "the old release's verify --full passes on the town left on it" ko --home old verify --full
stop_all() { stop town && stop old && stop pub; }
check "all three nodes stop cleanly" stop_all
check "no warning in any node's log (old or new), nothing quarantined" quiet pub town old
check "git fsck --strict on every repository of the three homes" fsck_homes pub town old

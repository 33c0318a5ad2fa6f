# tests/compat/wire.sh - a publisher on one release, towns on the other,
# sourced by c1 (old publisher, towns on this release) and c2 (this
# release's publisher, old towns) after lib.sh, with
#   PK, TK      the publisher's and the towns' binaries
#   PWHO, TWHO  what the descriptions call them
# A first sync by `kairan sync` (a pack of about 450 KB: over the 256 KiB
# this release's town reads on a thread of its own beside the indexer);
# then updates announced to a running town, their packs sent with the
# announcement (thin: the collection's tree, 1,200 items, is over the 8 KiB
# a whole pack may be), and fetched when the town was down; the publisher
# consolidating its packs in layers and the town its own; a fresh town's
# first sync after that. The items are found by show and search, verify
# --full passes (by each home's own binary), no node logs a warning, and
# stock git finds every repository whole (git fsck --strict).
plan 18
cd "$T"
P=$(compat_port)

home_init "$PK" pub 三豊市 372081
FPR=$(kb "$PK" --home pub id --fingerprint)
PR=pub/repos/$FPR/cases.git
mkdir seed
n=0; while [ $n -lt 1200 ]; do item 372081 "seed-$n" "最初の事例 $n" >seed/s$n.md; n=$((n + 1)); done
kb "$PK" --home pub publish seed >/dev/null
serve_by "$PK" pub "$P" $((P + 1))

# --- 1-2: first sync --------------------------------------------------------------
home_init "$TK" town 西海市 422126
kb "$TK" --home town follow "tcp://127.0.0.1:$P" --publisher "$FPR" >/dev/null
check "first sync: $TWHO syncs the 1,200 items of $PWHO" kb "$TK" --home town sync --timeout 60
TR=town/repos/$FPR/cases.git
check "and shows the last of them (the pack it fetched: $(du_kb "$TR/objects/pack") kB with its index)" \
	has_item "$TK" town 372081/case/seed-1199

# --- 3-6: updates announced to the running town -------------------------------------
serve_by "$TK" town $((P + 2)) $((P + 3))
wait_for 10 subscribed town $((P + 1))
# kaitei REV: one case revised again and again (its version raised), a long body of
# which one line changes: announced and consolidated as deltas against its last version
kaitei() {
	item 372081 kaitei 改訂を重ねる事例 "version_notes: 改訂 $1 で手順を見直した" | sed "s/^version: .*/version: 1.$1.0/"
	n=1; while [ $n -le 40 ]; do echo "第${n}項：窓口で生成AIの回答案を職員が確認してから返す手順。"; n=$((n + 1)); done
	echo "改訂 $1：手順を見直した。"
}
# publish_to N [nowait]: publishes upd-$i .. upd-N, one a time, with every third the
# next revision of kaitei too, each waited for on the town (unless nowait); counts
# those applied from the packs announced with them (inl) and keeps the largest such
# pack (inl_max bytes)
i=1; inl=0; inl_max=0
publish_to() {
	while [ $i -le "$1" ]; do
		item 372081 "upd-$i" "更新の事例 $i" >u.md
		rm -f k.md; [ $((i % 3)) = 0 ] && kaitei $i >k.md
		kb "$PK" --home pub publish u.md $(test -f k.md && echo k.md) >/dev/null
		i=$((i + 1))
		[ -n "${2:-}" ] && continue
		s=$(seq_of pub "$FPR")
		wait_for 10 seq_is town "$FPR" "$s" || {
			diag "update $((i - 1)) (seq $s) did not reach the town; nodes running:$(for h in pub town; do alive $h && printf ' %s' $h; done)"
			return 1
		}
		line=$(applied_line town "$s")
		case $line in
		*"1 of them from the announcement, not fetched"*)
			inl=$((inl + 1))
			b=$(echo "$line" | sed -n 's/.* collections, \([0-9]*\) bytes;.*/\1/p')
			[ "${b:-0}" -gt "$inl_max" ] && inl_max=$b ;;
		esac
	done
}
publish_to 24
diag "the last: $line"
all_reached() { test "$i" = 25 && has_item "$TK" town 372081/case/upd-24; }
check "24 updates published by $PWHO reach the running town (upd-24 shown)" all_reached
tree=$(git -C "$TR" cat-file -s main:cases)
check "at least 20 of them applied from the packs announced with them ($inl), each at most $inl_max bytes: thin, the tree alone is $tree bytes" \
	test "$inl" -ge 20 -a "$inl_max" -gt 0 -a "$inl_max" -lt 8192 -a "$tree" -gt 8192
has_layers() { test "$(layers "$1")" -ge 1; }
wait_for 10 has_layers "$PR" || true
check "$PWHO consolidated its packs in layers ($(layers "$PR") listed, $(packs "$PR") packs)" \
	test "$(layers "$PR")" -ge 1 -a "$(packs "$PR")" -le 17
wait_for 10 has_layers "$TR" || true
check "the town consolidated the packs it received in layers ($(layers "$TR") listed, $(packs "$TR") packs)" \
	test "$(layers "$TR")" -ge 1 -a "$(packs "$TR")" -le 17

# --- 7-9: updates while the town is down: fetched on its start ----------------------------
check "the town's node stops cleanly (SIGTERM, exit 0)" stop town
publish_to 27 nowait
item 372081 kokan 互換確認の最終更新 >last.md
kb "$PK" --home pub publish last.md >/dev/null
s=$(seq_of pub "$FPR")
serve_by "$TK" town $((P + 2)) $((P + 3))
wait_for 10 seq_is town "$FPR" "$s"
diag "$(applied_line town "$s")"
caught_up() { seq_is town "$FPR" "$s" && has_item "$TK" town 372081/case/upd-27 && has_item "$TK" town 372081/case/kokan; }
check "four updates published while it was down are fetched when it starts (seq $s)" caught_up
fetched() { applied_line town "$s" | grep -q . && ! applied_line town "$s" | grep -q 'from the announcement'; }
check "and not from an announcement" fetched

# --- 10-12: what the town holds ------------------------------------------------------------
shows() {
	kb "$TK" --home town show 372081/case/kokan | grep -q 互換確認の最終更新 &&
		kb "$TK" --home town show 372081/case/kaitei | grep -q '改訂 27：'
}
check "show prints the last item as published, and the revised one at its ninth revision" shows
found_both() { found "$TK" town 互換確認 372081/case/kokan && found "$TK" town '最初の事例 1199' 372081/case/seed-1199; }
check "search finds it, and an item of the first sync" found_both
check "kairan verify --full passes on the town" kb "$TK" --home town verify --full

# --- 13-14: a fresh town's first sync from the consolidated publisher -----------------------
home_init "$TK" fresh 別府市 442020
kb "$TK" --home fresh follow "tcp://127.0.0.1:$P" --publisher "$FPR" >/dev/null
check "a fresh town first-syncs from $PWHO after its consolidation" kb "$TK" --home fresh sync --timeout 60
fresh_ok() { has_item "$TK" fresh 372081/case/kokan && kb "$TK" --home fresh verify --full; }
check "it holds the last item, and verify --full passes" fresh_ok

# --- 15-18: the publisher's own verify; the logs; stock git on every repository ------------------
check "kairan verify --full passes on the publisher's home" kb "$PK" --home pub verify --full
stop_both() { stop town && stop pub; }
check "both nodes stop cleanly" stop_both
check "no warning in either node's log, nothing quarantined on any home" quiet pub town fresh
check "git fsck --strict on every repository of the three homes" fsck_homes pub town fresh

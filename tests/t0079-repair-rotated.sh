#!/bin/sh
# t0079 - `kairan repair` after a key rotation (DESIGN §6): the rotated
# collections are the same collections under the new key, so a state.db
# rebuilt from git, the saved manifests and the follows lists each item
# once, under the new key, and no retired key as a publisher of its own:
# search, show and status are what they were before the repair (status
# compared with the times of receipt and sync and the peer left out, which
# a rebuild cannot know, and without the seq of the node's own manifest,
# which repair signs afresh above the last one saved). Checked on the member that rotated (丸亀市), on
# a town that joined the federation (三豊市: its members' manifests come
# back by the receipt rules, not only by pins), after `kairan reindex`, and
# on a node outside any federation that rotated with --now. Real nodes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/boardlib.sh"
plan 21
cd "$T"
P=$(port_base)

# snap HOME: what a user sees (search, show, status) and the index rows behind it
snap() {
	k --home "$1" search 事例 --json 2>&1
	for id in $IDS; do k --home "$1" show "$id" 2>&1; done
	k --home "$1" status --json | python3 -c '
import json, sys
def strip(x):
    if isinstance(x, dict):
        # repair signs a fresh manifest of this node above the last one saved (kr_replica_reconcile)
        own = ("seq", "issued", "expires") if x.get("own") is True else ()
        return {k: strip(v) for k, v in x.items() if k not in ("received", "synced", "peer") + own}
    if isinstance(x, list):
        return [strip(v) for v in x]
    return x
print(json.dumps(strip(json.load(sys.stdin)), ensure_ascii=False, sort_keys=True, indent=1))'
	sqlite3 "$1/state.db" "SELECT publisher, collection, path, id, version, blob FROM items ORDER BY 1, 2, 3;
		SELECT publisher, collection, commit_id FROM heads ORDER BY 1, 2; SELECT publisher FROM manifests ORDER BY 1;"
}
# repaired HOME: state.db deleted, kairan repair (which says it rebuilt it: opening the home
# alone would rebuild a lost state.db too), the snapshot equal to before
repaired() {
	snap "$1" >"$1.before"
	rm -f "$1/state.db" "$1/state.db-wal" "$1/state.db-shm"
	k --home "$1" repair >"$1.repair" 2>&1 && grep -q "^rebuilt state.db from the repositories" "$1.repair" ||
		{ cat "$1.repair"; return 1; }
	snap "$1" >"$1.after"
	diff "$1.before" "$1.after" >"$1.diff" || { sed 's/^/# /' "$1.diff"; return 1; }
}

fed_nodes kagawa takamatsu kanonji marugame mitoyo
OLD=$(k --home marugame id --fingerprint)
fed_members marugame mitoyo
IDS="372021/case/a 372021/case/b"

item 372021 a 丸亀市の交換前の事例 >a.md
k --home marugame publish a.md -m before >/dev/null
serve marugame $(($P + 6)) $(($P + 7))
check "the town joins through 丸亀市" k --home mitoyo join "tcp://127.0.0.1:$(($P + 6))" --federation "$FED"
fed_rotate marugame "$OLD"
kill "$PID_marugame"; wait "$PID_marugame" 2>/dev/null
check "丸亀市 applies the rotation" k --home marugame federation apply v3.kfm
check "and signs as the new key" test "$(k --home marugame id --fingerprint)" = "$NEW"
item 372021 b 丸亀市の交換後の事例 >b.md
check "the new key publishes" k --home marugame publish b.md -m after
serve marugame $(($P + 6)) $(($P + 7))
k --home mitoyo federation apply v3.kfm >/dev/null
k --home mitoyo sync >/dev/null 2>&1
check "the town holds both items, each once" sh -c \
	"test $(hits mitoyo 丸亀市の交換前の事例) = 1 && test $(hits mitoyo 丸亀市の交換後の事例) = 1"
kill "$PID_marugame"; wait "$PID_marugame" 2>/dev/null

# The member that rotated.
check "丸亀市: repair rebuilds state.db" repaired marugame
check "its search, show and status are as before the repair" test -s marugame.after
check "each item once after the repair" sh -c \
	"test $(hits marugame 丸亀市の交換前の事例) = 1 && test $(hits marugame 丸亀市の交換後の事例) = 1"
check "no item is listed under the retired key" test "$(sqlite3 marugame/state.db "SELECT count(*) FROM items WHERE publisher = '$OLD'")" = 0
check_fails "and the retired key is no publisher in status" grep -q "$OLD" marugame.after

# The town.
check "三豊市: repair rebuilds state.db" repaired mitoyo
check "each item once after the repair" sh -c \
	"test $(hits mitoyo 丸亀市の交換前の事例) = 1 && test $(hits mitoyo 丸亀市の交換後の事例) = 1"
check "the new key's manifest came back (seq $(sqlite3 mitoyo/state.db "SELECT seq FROM manifests WHERE publisher = '$NEW'"))" \
	test -n "$(sqlite3 mitoyo/state.db "SELECT seq FROM manifests WHERE publisher = '$NEW'")"
check "no item is listed under the retired key" test "$(sqlite3 mitoyo/state.db "SELECT count(*) FROM items WHERE publisher = '$OLD'")" = 0

# reindex walks every collection too.
snap mitoyo >mitoyo.r1
check "kairan reindex" k --home mitoyo reindex
snap mitoyo >mitoyo.r2
check "leaves search, show and status as they were" diff mitoyo.r1 mitoyo.r2

# Outside any federation: rotate --now, publish, repair.
fed_node solo 善通寺市 372048 10
SOLD=$(k --home solo id --fingerprint)
IDS="372048/case/s 372048/case/t"
item 372048 s 善通寺市の交換前の事例 >s.md
k --home solo publish s.md -m s >/dev/null
check "善通寺市 rotates with --now" k --home solo key rotate --now -o solo-new.json
item 372048 t 善通寺市の交換後の事例 >t.md
check "and publishes under the new key" k --home solo publish t.md -m t
check "善通寺市: repair rebuilds state.db" repaired solo
check "each item once" sh -c \
	"test $(hits solo 善通寺市の交換前の事例) = 1 && test $(hits solo 善通寺市の交換後の事例) = 1"
check "no item under the retired key" test "$(sqlite3 solo/state.db "SELECT count(*) FROM items WHERE publisher = '$SOLD'")" = 0
diag "items after the repairs: 丸亀市 $(sqlite3 marugame/state.db 'SELECT count(*) FROM items'), 三豊市 $(sqlite3 mitoyo/state.db 'SELECT count(*) FROM items'), 善通寺市 $(sqlite3 solo/state.db 'SELECT count(*) FROM items')"

#!/bin/sh
# t0090 - the short path of a publish (issue 13, publish -> verified
# replica). A publish writes its new objects as one pack (no loose object)
# that real git reads and checks; a publish that changes nothing writes no
# file; the saved manifest is not re-verified when it is byte for byte what
# state.db holds, yet a saved copy that differs is still read and checked:
# one newer than state.db (a state.db restored from before a publish)
# raises the floor, so no seq is signed twice, and a damaged one is refused
# with its path named. A following town verifies each publish; the figures
# (start -> announced -> verified, p50 of a few) are printed, the bound is
# `make bench`'s. A publish on a node that mirrors others opens none of
# their repositories (kr_home_open_own) and no openssl.cnf.
. "$(dirname "$0")/lib.sh"
plan 16
cd "$T"
P=$(port_base)

k --home pub init --name 三豊市 --lg-code 372081 >/dev/null
sed -i "s/^web = .*/web = off/" pub/config
FPR=$(k --home pub id --fingerprint)
REPO=pub/repos/$FPR/cases.git
packs() { ls "$REPO/objects/pack" | grep -c '\.pack$' || true; }
loose() { find "$REPO/objects" -path '*/objects/[0-9a-f][0-9a-f]/*' -type f | wc -l; }
seq_of() { sqlite3 pub/state.db "SELECT seq FROM manifests WHERE publisher='$FPR'"; }

# --- 1-4: one pack per publish, read and checked by git ----------------------
item 372081 first 最初の事例 >first.md
k --home pub publish first.md >/dev/null
item 372081 second 二番目の事例 >second.md
p0=$(packs)
k --home pub publish second.md >second.out 2>&1
p1=$(packs)
diag "packs before/after a one-item publish: $p0/$p1; loose objects: $(loose) (the manifest copy under refs/kairan/manifest)"
check "a publish adds exactly one pack" test "$p1" = $((p0 + 1))
check "and writes no loose object but refs/kairan/manifest's copy" test "$(loose)" -le 1
check "git fsck --strict finds the repository whole" git -C "$REPO" fsck --strict --no-dangling
check "git reads the item at main" sh -c "git -C '$REPO' show main:cases/second.md | grep -q 二番目の事例"

# --- 5-6: nothing to publish writes nothing -------------------------------------
before=$(find pub/repos -type f | sort | md5sum)
k --home pub publish second.md >same.out 2>&1
check "publishing the same item again is nothing to publish" grep -q 'nothing to publish' same.out
check "and wrote no file in the repositories" test "$(find pub/repos -type f | sort | md5sum)" = "$before"

# --- 7-9: the saved manifest: newer than state.db, or damaged -------------------
s2=$(seq_of)
cp pub/state.db old.db
item 372081 third 三番目の事例 >third.md
k --home pub publish third.md >/dev/null
s3=$(seq_of)
# state.db from before that publish (as if restored from a backup): the saved copy is newer
rm -f pub/state.db-wal pub/state.db-shm
cp old.db pub/state.db
item 372081 fourth 四番目の事例 >fourth.md
k --home pub publish fourth.md >fourth.out 2>&1
s4=$(seq_of)
diag "seqs: $s2 before, $s3 after a publish, $s4 after a publish on a state.db from seq $s2"
check "a saved copy newer than state.db raises the floor (seq $s4 > $s3)" test "${s4:-0}" -gt "${s3:-0}"
cp "pub/manifests/$FPR" man.good
printf 'damaged' >>"pub/manifests/$FPR"
item 372081 fifth 五番目の事例 >fifth.md
head0=$(git -C "$REPO" rev-parse main)
k --home pub publish fifth.md >fifth.out 2>&1
check "a damaged saved manifest stops the publish, the file named" grep -q "manifests/$FPR is damaged.*nothing was published" fifth.out
check "before main moved" test "$(git -C "$REPO" rev-parse main)" = "$head0"
cp man.good "pub/manifests/$FPR"

# --- 10-13: a following town verifies each publish --------------------------------
serve pub $P $((P + 1))
k --home town init --name 西海市 --lg-code 422126 >/dev/null
sed -i "s/^web = .*/web = off/" town/config
k --home town follow tcp://127.0.0.1:$P --publisher "$FPR" >/dev/null
serve town $((P + 2)) $((P + 3))
wait_for 20 k --home town show 372081/case/fourth
check "the town holds what was published" k --home town show 372081/case/fourth
mkdir lat
i=0; while [ $i -lt 10 ]; do item 372081 "lat-$i" "遅延測定$i" >lat/lat-$i.md; i=$((i + 1)); done
zk() { k --home "$1" id --json | sed -n 's/.*"transport_key":"\([0-9a-f]*\)".*/\1/p'; }
set -- $("$TOOLS/benchsub" latency "$KAIRAN" pub "tcp://127.0.0.1:$((P + 3))#$(zk town)" 10 lat "tcp://127.0.0.1:$((P + 1))#$(zk pub)")
diag "10 publishes: publish -> verified on the town p50 $2 ms (max $4); started -> announced p50 $7 ms, announced -> verified p50 $5 ms, command exit p50 $9 ms (tmpfs; make bench has the disk figures)"
check "every one of the 10 was verified by the town" test "${1:-0}" = 10
n=$(sqlite3 town/state.db "SELECT count(*) FROM items WHERE publisher='$FPR'"); np=$(sqlite3 pub/state.db "SELECT count(*) FROM items WHERE publisher='$FPR'")
diag "items: town $n, publisher $np"
check "the town has every item" test "$n" = 14 -a "$np" = 14
check "the publisher's repository stays consolidated (at most 16 packs: $(packs))" test "$(packs)" -le 16

# --- 14-16: a publish opens only what it writes --------------------------------
item 422126 own 西海市の事例 >own.md
strace -f -e trace=open,openat -o own.trace "$KAIRAN" --home town publish own.md >own.out 2>&1
diag "the town's publish opened $(grep -c 'open' own.trace) files, $(grep -c "repos/$FPR" own.trace) of them under the mirrored publisher's repositories"
check "a publish on the town goes through" grep -q 'announced to peers by the running node' own.out
check "and opens none of the mirrored publisher's repositories, nor openssl.cnf" \
	sh -c "! grep -q -e 'repos/$FPR' -e 'openssl\.cnf' own.trace"
check "the town still shows the mirrored items after it" k --home town show 372081/case/lat-9

#!/bin/sh
# t0100 - a publisher's node announces its own new manifest with the packs
# of the commits it names (proto/kairan.proto InlinePacks; issue 13,
# publish -> verified replica): a following town one commit behind applies
# it without fetching, and what it applies is what a fetch brings (git
# finds the town's repository whole, `kairan verify` passes). A commit
# whose objects were in the repository already (written by a publish that
# was then refused in another collection) goes without a pack and is
# fetched; the other collection's comes with the announcement. Then a peer
# that lies about those packs: junk where the pack goes, bytes that are no
# message at all, a valid pack that lacks the new objects, the right pack
# for a head the town does not hold. Junk is dropped and the pack fetched;
# the refused packs of the lie are removed and the pack fetched before the
# manifest could be refused (nothing quarantined); a pack from a head the
# town does not hold is not used.
. "$(dirname "$0")/lib.sh"
plan 20
cd "$T"
P=$(port_base)

k --home pub init --name 三豊市 --lg-code 372081 >/dev/null
sed -i "s/^web = .*/web = off/" pub/config
FPR=$(k --home pub id --fingerprint)
seq_of() { sqlite3 "$1/state.db" "SELECT seq FROM manifests WHERE publisher='$FPR'"; }
item 372081 first 最初の事例 >first.md
cp "$SRC/deploy/samples/372081/guidelines/ai-guideline.md" guideline.md
k --home pub publish first.md guideline.md >/dev/null
serve pub $P $((P + 1))
k --home town init --name 西海市 --lg-code 422126 >/dev/null
sed -i "s/^web = .*/web = off/" town/config
k --home town follow tcp://127.0.0.1:$P --publisher "$FPR" >/dev/null
serve town $((P + 2)) $((P + 3))
wait_for 20 k --home town show 372081/case/first
TREPO=town/repos/$FPR/cases.git
applied() { grep "seq $1 verified and applied" town.log; }
seq_is() { test "$(seq_of town)" = "$1"; }

# --- 1-4: one commit behind: from the announcement -------------------------------
item 372081 gomi ごみ分別の問合せ対応 >gomi.md
k --home pub publish gomi.md >/dev/null
s=$(seq_of pub)
wait_for 20 seq_is "$s"
line=$(applied "$s")
diag "$line"
check "the town applies the new seq from the packs announced with it, fetching none" \
	sh -c "echo '$line' | grep -q '1 collections, [0-9]* bytes; 1 of them from the announcement, not fetched'"
check "once: the plain announcement after it is not applied again" test "$(applied "$s" | wc -l)" = 1
check "git finds the town's repository whole, the item at main" \
	sh -c "git -C '$TREPO' fsck --strict --no-dangling && git -C '$TREPO' show main:cases/gomi.md | grep -q ごみ分別"
check "kairan verify passes on the town, and a search finds the item by a two-character word" \
	sh -c "\"\$KAIRAN\" --home town verify && \"\$KAIRAN\" --home town search --json ごみ | grep -q 372081/case/gomi"
# a whole directory handed over again, one item new: the files as they are
# stay (their blobs are not written again), so the pack is still whole
mkdir dir && cp first.md gomi.md dir/ && item 372081 shigen 資源ごみの回収日案内 >dir/shigen.md
k --home pub publish dir >/dev/null
s=$(seq_of pub)
wait_for 20 seq_is "$s"
line=$(applied "$s")
diag "$line"
check "a directory published again with one new item: the new commit still comes with the announcement" \
	sh -c "echo '$line' | grep -q '1 of them from the announcement, not fetched'"

# --- 6-8: a refused publish leaves no pack; objects in the repository already: that collection's pack is fetched ---
# cases is committed first (its pack written), then the guideline, changed
# under its published version, is refused: nothing is published, and the
# case's pack, which nothing will ever reach, is removed again. Then the
# new case's blob is put in the repository by git (as a node killed
# between a commit and its ref leaves its objects); published again with
# the guideline's version raised, the case's commit finds its blob there.
item 372081 dup 二度目に公開される事例 >dup.md
sed 's/^title: .*/title: 三豊市 生成AI利用ガイドライン（改）/' guideline.md >guideline2.md
PREPO=pub/repos/$FPR/cases.git
packs_before=$(ls $PREPO/objects/pack | grep -c '\.pack$')
k --home pub publish dup.md guideline2.md >refused.out 2>&1
diag "$(tr '\n' '|' <refused.out)"
check "a publish refused in one collection leaves no pack behind in the other ($packs_before packs before)" \
	sh -c "grep -q 'nothing was published' refused.out && test \$(ls $PREPO/objects/pack | grep -c '\\.pack\$') = $packs_before"
git --git-dir=$PREPO hash-object -w dup.md >/dev/null
sed -i 's/^version: .*/version: 1.2.0/' guideline2.md
k --home pub publish dup.md guideline2.md >again.out 2>&1
diag "$(tr '\n' '|' <again.out)"
s=$(seq_of pub)
wait_for 20 seq_is "$s"
line=$(applied "$s")
diag "$line"
check "a commit whose objects were in the repository already goes without its pack: one of two collections from the announcement" \
	sh -c "echo '$line' | grep -q '2 collections, [0-9]* bytes; 1 of them from the announcement, not fetched'"
check "git finds both of the town's repositories whole, and kairan verify passes" \
	sh -c "git -C '$TREPO' fsck --strict --no-dangling && git -C town/repos/$FPR/guidelines.git fsck --strict --no-dangling &&
	git -C '$TREPO' show main:cases/dup.md | grep -q 二度目 && \"\$KAIRAN\" --home town verify"

# --- 9-17: a peer that lies about the packs ---------------------------------------
kill "$PID_pub"
wait_for 10 sh -c "! test -S pub/control.sock"
qcount() { sqlite3 town/state.db "SELECT count(*) FROM quarantine"; }
hostile() { # hostile MODE: (re)start the lying peer on the publisher's endpoints
	[ -n "${HPID:-}" ] && kill "$HPID" 2>/dev/null && wait "$HPID" 2>/dev/null
	"$TOOLS/hostile" --home pub --listen "tcp://127.0.0.1:$P" --announce "tcp://127.0.0.1:$((P + 1))" \
		--mode "$1" 2>>hostile.log &
	HPID=$!
	_pids="$_pids $HPID"
}
q0=$(qcount)
title() { k --home town show 372081/case/hostile-extra 2>/dev/null | grep -o '告知に添えた事例 [a-z]*'; }
title_is() { test "$(title)" = "告知に添えた事例 $1"; }
# (each hostile run's publisher home finds its ref moved and signs once more: the seqs are not s+1, s+2, …)
hostile inlinejunk
check "junk where the pack goes: dropped, the pack fetched and applied" wait_for 30 title_is inlinejunk
check "the town applied it by fetching" sh -c "grep 'seq $(seq_of town) verified' town.log | grep -v -q 'from the announcement'"
hostile inlinegarbage
check "bytes that are no message where the packs go: the pack fetched and applied" wait_for 30 title_is inlinegarbage
check "the town applied it by fetching" sh -c "grep 'seq $(seq_of town) verified' town.log | grep -v -q 'from the announcement'"
check "neither was taken for a lie (no quarantine)" test "$(qcount)" = "$q0"
packs0=$(ls "$TREPO/objects/pack" | grep -c '\.pack$')
hostile inlinelie
check "a valid pack that lacks the new objects: the refusal is not the manifest's, the pack is fetched, applied" \
	wait_for 30 title_is inlinelie
check "nothing quarantined, and the announced pack was removed again (one pack more: the fetched one)" \
	sh -c "test $(qcount) = $q0 && test \$(ls '$TREPO/objects/pack' | grep -c '\\.pack\$') -le $((packs0 + 1))"
hostile inlinestale
check "the right pack from a head the town does not hold is not used: both commits fetched, applied" \
	wait_for 30 title_is inlinestale
check "the town applied it by fetching" sh -c "grep 'seq $(seq_of town) verified' town.log | grep -v -q 'from the announcement'"
check "git finds the town's repository whole, and kairan verify passes" \
	sh -c "git -C '$TREPO' fsck --strict --no-dangling && \"\$KAIRAN\" --home town verify"

# --- 19-20: a collection whose tree alone is larger than an announcement's packs may be ---
# Each tree and changed file goes as a delta against its version in the
# parent's tree (which a town on that parent holds): 4,000 items make a
# root tree of about 160 KB, more than KR_INLINE_MAX whole. (A publisher
# of its own: the lying peer above signed seqs for pub that its home never
# recorded.)
k --home pub2 init --name 丸亀市 --lg-code 372021 >/dev/null
sed -i "s/^web = .*/web = off/" pub2/config
FPR2=$(k --home pub2 id --fingerprint)
mkdir big
n=0; while [ $n -lt 4000 ]; do item 372021 "big-$n" "大きな集まりの事例 $n" >big/b$n.md; n=$((n + 1)); done
k --home pub2 publish big >/dev/null
serve pub2 $((P + 4)) $((P + 5))
k --home town2 init --name 西海市 --lg-code 422126 >/dev/null
sed -i "s/^web = .*/web = off/" town2/config
k --home town2 follow tcp://127.0.0.1:$((P + 4)) --publisher "$FPR2" >/dev/null
serve town2 $((P + 6)) $((P + 7))
wait_for 60 k --home town2 show 372021/case/big-3999
# (a publish before the town's subscription reaches the publisher comes by the snapshot
# instead: up to three, one at a time, until one is applied from its announcement)
wait_for 20 grep -q "subscribed to tcp://127.0.0.1:$((P + 5))" town2.log
for n in 1 2 3; do
	item 372021 "bigone-$n" 大きな集まりに一件 >bigone.md
	k --home pub2 publish bigone.md >/dev/null
	s=$(sqlite3 pub2/state.db "SELECT seq FROM manifests WHERE publisher='$FPR2'")
	wait_for 20 sh -c "test \"\$(sqlite3 town2/state.db \"SELECT seq FROM manifests WHERE publisher='$FPR2'\")\" = $s"
	line=$(grep "seq $s verified and applied" town2.log)
	case $line in *"from the announcement"*) break ;; esac
done
T2REPO=town2/repos/$FPR2/cases.git
diag "$line; the tree of cases/ is $(git -C "$T2REPO" cat-file -s main:cases) bytes"
check "4,000 items and one more: the new commit comes with the announcement, its tree as a delta ($n tried)" \
	sh -c "echo '$line' | grep -q '1 collections, [0-9]* bytes; 1 of them from the announcement, not fetched'"
check "git finds that town's repository whole, the item at main, and kairan verify passes" \
	sh -c "git -C '$T2REPO' fsck --strict --no-dangling && git -C '$T2REPO' show main:cases/bigone-$n.md | grep -q 大きな集まりに一件 &&
	\"\$KAIRAN\" --home town2 verify"

#!/bin/sh
# t0081 - a town's node settles every publisher it applied, and never goes
# back (issue 13: a town's worker saves a manifest's copies after it
# announced, kr_replica_maintain). A town following two publishers
# through a prefecture's hub applies both in one job when its node starts
# (hello): each one's manifest is saved in manifests/ and under
# refs/kairan/manifest of its repository, and a git mirror of each passes
# kairan audit. A worker whose deferred save comes after another worker
# saved a newer manifest of the same publisher leaves the newer one in
# place (tests/tools/settlerace). A node stopped between an apply's
# commit and those copies writes them when it starts again.
. "$(dirname "$0")/lib.sh"
plan 14
cd "$T"
P=$(port_base)

k --home a init --name 三豊市 --lg-code 372081 >/dev/null
k --home b init --name 丸亀市 --lg-code 372021 >/dev/null
for h in a b; do sed -i "s/^web = .*/web = off/" $h/config; done
A=$(k --home a id --fingerprint)
B=$(k --home b id --fingerprint)
item 372081 gomi ごみ分別の問合せ対応 >a1.md
item 372021 kaigi 会議録の要約 >b1.md
k --home a publish a1.md >/dev/null
k --home b publish b1.md >/dev/null
serve a $P $((P + 1))
serve b $((P + 2)) $((P + 3))

# --- 1-2: a hub holds both ----------------------------------------------------------
k --home hub init --name 香川県 --lg-code 370002 >/dev/null
sed -i "s/^web = .*/web = off/" hub/config
k --home hub follow tcp://127.0.0.1:$P --publisher "$A" >/dev/null
k --home hub follow tcp://127.0.0.1:$((P + 2)) --publisher "$B" >/dev/null
serve hub $((P + 4)) $((P + 5))
check "the hub holds both publishers' items" \
	wait_for 20 sh -c "\"\$KAIRAN\" --home hub show 372081/case/gomi && \"\$KAIRAN\" --home hub show 372021/case/kaigi"
check "the hub saved both manifests" test -s "hub/manifests/$A" -a -s "hub/manifests/$B"

# --- 3-7: a town applies both in one job, and settles both ----------------------------
k --home town init --name 西海市 --lg-code 422126 >/dev/null
sed -i "s/^web = .*/web = off/" town/config
k --home town follow tcp://127.0.0.1:$((P + 4)) --publisher "$A" --publisher "$B" >/dev/null
serve town $((P + 6)) $((P + 7))
check "the town's node verifies both publishers' items from the hub" \
	wait_for 20 sh -c "\"\$KAIRAN\" --home town show 372081/case/gomi && \"\$KAIRAN\" --home town show 372021/case/kaigi"
check "both manifests are saved in the town's manifests/, each the publisher's own" \
	wait_for 10 sh -c "cmp -s 'town/manifests/$A' 'a/manifests/$A' && cmp -s 'town/manifests/$B' 'b/manifests/$B'"
check "each repository's refs/kairan/manifest is its publisher's manifest" \
	wait_for 10 sh -c "git -C 'town/repos/$A/cases.git' cat-file blob refs/kairan/manifest | cmp -s - 'a/manifests/$A' &&
		git -C 'town/repos/$B/cases.git' cat-file blob refs/kairan/manifest | cmp -s - 'b/manifests/$B'"
cp "town/manifests/$A" a-seq1   # (for 11-13)
mkdir -p mirror/a mirror/b
git clone -q --mirror "file://$T/town/repos/$A/cases.git" mirror/a/cases.git
git clone -q --mirror "file://$T/town/repos/$B/cases.git" mirror/b/cases.git
check "a git mirror of the town's copy of the first publisher passes kairan audit" \
	k audit mirror/a/cases.git --publisher "$A"
check "and of the second" k audit mirror/b/cases.git --publisher "$B"

# --- 8-10: a deferred save after a newer one leaves the newer one ---------------------
k --home town2 init --name 別府市 --lg-code 442020 >/dev/null
k --home town2 follow tcp://127.0.0.1:$P --publisher "$A" >/dev/null
item 372081 shinsei 電子申請の案内文 >a2.md
"$TOOLS/settlerace" town2 "$A" "$KAIRAN" --home a publish a2.md >race.out 2>&1; rc=$?
diag "$(tr '\n' '|' <race.out)"
check "a worker's deferred save of seq N after another saved N+1 leaves N+1, in manifests/ and under refs/kairan/manifest" \
	test $rc = 0
check "the saved copy is the publisher's newest" cmp "town2/manifests/$A" "a/manifests/$A"
check "and git reads the same under refs/kairan/manifest" \
	sh -c "git -C 'town2/repos/$A/cases.git' cat-file blob refs/kairan/manifest | cmp - 'a/manifests/$A'"

# --- 11-14: the copies a stop left older than state.db are written at the next start --
# The town's node gets A's newest through the hub; then it stops, and its copies are
# put back to the older manifest, as a stop between the apply's commit and its
# deferred copies (kr_replica_maintain) leaves them: state.db holds the newest.
seq_of() { ksql "$1/state.db" "SELECT seq FROM manifests WHERE publisher = '$A'"; }
check "before it stops, the town's node holds A's newest manifest (seq $(seq_of a)), saved" \
	wait_for 20 sh -c "cmp -s 'town/manifests/$A' 'a/manifests/$A' && test \"\$(sqlite3 town/state.db \"SELECT seq FROM manifests WHERE publisher = '$A'\")\" = '$(seq_of a)'"
kill "$PID_town"; wait "$PID_town" 2>/dev/null
cp a-seq1 "town/manifests/$A"
git -C "town/repos/$A/cases.git" update-ref refs/kairan/manifest "$(git -C "town/repos/$A/cases.git" hash-object -w "$T/a-seq1")"
serve town $((P + 6)) $((P + 7))
check "the town's node starts with A's manifest in manifests/ back at the newest" \
	wait_for 10 cmp -s "town/manifests/$A" "a/manifests/$A"
check "and its refs/kairan/manifest" \
	wait_for 10 sh -c "git -C 'town/repos/$A/cases.git' cat-file blob refs/kairan/manifest | cmp -s - 'a/manifests/$A'"
rm -rf mirror/a && mkdir -p mirror/a && git clone -q --mirror "file://$T/town/repos/$A/cases.git" mirror/a/cases.git
check "a new git mirror of it passes kairan audit, at the newest" \
	sh -c "\"\$KAIRAN\" audit mirror/a/cases.git --publisher '$A' && ! cmp -s a-seq1 'a/manifests/$A'"

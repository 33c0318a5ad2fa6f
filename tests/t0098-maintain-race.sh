#!/bin/sh
# t0098 - a consolidation never loses a publish (issue 13: a node
# consolidates on its own thread while its loop publishes). Between a
# publish's commit (a pack of its own) and the move of its ref, a repack
# of the collection from the head it reads then keeps that pack: only
# packs whose every object is in the new one are deleted. Real git finds
# the repository whole and reads the item at main; so does kairan.
. "$(dirname "$0")/lib.sh"
plan 4
cd "$T"

k --home pub init --name 三豊市 --lg-code 372081 >/dev/null
FPR=$(k --home pub id --fingerprint)
REPO=pub/repos/$FPR/cases.git
item 372081 first 最初の事例 >first.md
k --home pub publish first.md >/dev/null
"$TOOLS/maintrace" pub "$FPR" >race.out 2>&1; rc=$?
diag "$(tr '\n' '|' <race.out)"
check "the consolidation ran between the commit and its ref, and the ref moved" \
	sh -c "test $rc = 0 && grep -q 'consolidated between the commit and its ref: yes' race.out"
check "git finds the repository whole" git -C "$REPO" fsck --strict --no-dangling
check "git reads the last item at main" sh -c "git -C '$REPO' show main:cases/last.md | grep -qx 'the last'"
check "and what the consolidation replaced is gone: at most 2 packs left" \
	test "$(ls "$REPO/objects/pack" | grep -c '\.pack$')" -le 2

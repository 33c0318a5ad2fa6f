#!/bin/sh
# t0043 - a version means one content: different content under a
# published id and version is refused with the version to use; a lower
# version too; a new version needs version_notes; a dataset's rows are
# its content; a withdrawn id comes back only at a new version, and
# publish says it restores a withdrawn item. Refusals change nothing.
. "$(dirname "$0")/lib.sh"
plan 18
cd "$T"

k --home h init --name 三豊市 --lg-code 372081 >/dev/null
mkdir -p a
item 372081 gomi ごみ出し案内 >a/gomi.md
check "an item publishes" k --home h publish a/gomi.md

sed 's/住民向けの案内で/住民向けの案内（改訂）で/' a/gomi.md >a/gomi2.md && mv a/gomi2.md a/gomi.md
state_fingerprint h >before
k --home h publish a/gomi.md >out 2>err; rc=$?
check "changed content under the published version is refused" test $rc = 1
check "with the version to use and what to add" grep -q "372081/case/gomi version 1.0.0 is already published with different content: bump to 1.0.1 and add version_notes" err
state_fingerprint h >after
check "and nothing changed" cmp -s before after

sed -i 's/^version: 1.0.0/version: 1.0.1/' a/gomi.md
k --home h publish a/gomi.md >out 2>err; rc=$?
check "a new version without version_notes is refused" sh -c "test $rc = 1 && grep -q 'version 1.0.1 replaces the published 1.0.0: add version_notes' err"
sed -i 's/^version: 1.0.1/version: 1.0.1\nversion_notes: 案内の文言を直した/' a/gomi.md
check "with version_notes it publishes" k --home h publish a/gomi.md
check "and show gives 1.0.1" sh -c "\"$KAIRAN\" --home h show 372081/case/gomi | grep -qx 'version: 1.0.1'"

sed -i 's/^version: 1.0.1/version: 1.0.0/; s/（改訂）/（再改訂）/' a/gomi.md
k --home h publish a/gomi.md >out 2>err; rc=$?
check "a version below the published one is refused" sh -c "test $rc = 1 && grep -q 'version 1.0.0 is below the published version 1.0.1' err"

# withdraw, then bring it back
k --home h withdraw 372081/case/gomi -m 見直し >/dev/null
sed -i 's/^version: 1.0.0/version: 1.0.1/' a/gomi.md
k --home h publish a/gomi.md >out 2>err; rc=$?
check "a withdrawn id at its old version is refused" sh -c "test $rc = 1 &&
	grep -q '372081/case/gomi was withdrawn at version 1.0.1: publishing it again restores a withdrawn item and needs a new version (use 1.0.2' err"
check_fails "and stays withdrawn" k --home h show 372081/case/gomi
# the history is what counts: a lost state.db rebuilt by repair still knows it was withdrawn
rm h/state.db
k --home h repair >/dev/null 2>&1
k --home h publish a/gomi.md >out 2>err; rc=$?
check "after state.db is lost and repaired, it is still refused" sh -c "test $rc = 1 && grep -q 'was withdrawn at version 1.0.1' err"
sed -i 's/^version: 1.0.1/version: 1.0.2/; s/^version_notes: .*/version_notes: 見直しを終えて再公開/' a/gomi.md
k --home h publish a/gomi.md >out 2>err; rc=$?
sed 's/^/# /' out err
check "at a new version with notes it publishes" test $rc = 0
check "saying it restores a withdrawn item" grep -q '372081/case/gomi: restores a withdrawn item (withdrawn at version 1.0.1, now 1.0.2)' out
item 372081 new-one 新しい事例 >new.md
check "a brand-new item says nothing of the kind" sh -c "\"$KAIRAN\" --home h publish new.md >new.out && ! grep -q restores new.out"

# a dataset: the rows are its content
mkdir -p ds/qa/data
cat >ds/qa/README.md <<'CARD'
---
kind: dataset
id: 372081/dataset/qa
title: 窓口 Q&A
publisher: {lg_code: "372081", name: 三豊市}
version: 1.0.0
published: 2024-06-01
updated: 2024-06-01
license: CC-BY-4.0
confidentiality: 機密性1
language: [ja]
---
窓口の質問と回答。
CARD
echo '{"id": "q1", "question": "住民票はどこで取れますか？", "answer": "市民課の窓口です。", "source": {"issuer": "三豊市"}, "updated": "2024-06-01"}' >ds/qa/data/qa.jsonl
check "a dataset publishes" k --home h publish ds/qa/README.md
echo '{"id": "q2", "question": "印鑑登録は？", "answer": "市民課で受け付けます。", "source": {"issuer": "三豊市"}, "updated": "2024-06-01"}' >>ds/qa/data/qa.jsonl
k --home h publish ds/qa/README.md >out 2>err; rc=$?
check "changed rows under the same card version are refused" sh -c "test $rc = 1 &&
	grep -q '372081/dataset/qa: datasets/qa/data/qa.jsonl changed but the dataset card still says version 1.0.0.*bump the card to 1.0.1' err"
sed -i 's/^version: 1.0.0/version: 1.0.1\nversion_notes: 質問を一つ足した/' ds/qa/README.md
check "with the card bumped they publish" k --home h publish ds/qa/README.md
check "republishing the same thing is still fine" sh -c "\"$KAIRAN\" --home h publish ds/qa/README.md a/gomi.md | grep -q 'nothing to publish'"

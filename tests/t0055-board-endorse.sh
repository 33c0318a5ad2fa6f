#!/bin/sh
# t0055 - endorsements (DESIGN §7): a 2-of-3 board, a hub and three towns,
# all real nodes. One board key is not enough, two distinct keys are; a
# re-endorsement by the same key never counts twice; a non-board key's
# endorsement is shown and never counts; a new item version starts
# unendorsed; a revoked-compromised member's endorsements stop counting;
# policy.accept.require_endorsement holds unendorsed guidelines back; bad
# input is refused and changes nothing; stock git verifies every commit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/boardlib.sh"
plan 35
cd "$T"
board_setup
G=372081/guideline/ai-guideline

guideline() { # guideline VERSION [notes]
	cat <<ITEM
---
kind: guideline
id: $G
title: 三豊市生成AI利用ガイドライン
publisher: {lg_code: "372081", name: 三豊市}
version: $1
${2:+version_notes: $2}
edition: 第1版
published: 2024-06-01
updated: 2024-07-01
license: PDL-1.0
confidentiality: 機密性1
domains: [庁内一般業務]
---
本文：生成AIの利用にあたり、機密性2以上の情報は入力しない。版 $1。
ITEM
}
guideline 1.0.0 >g1.md
k --home mitoyo publish g1.md >/dev/null
all_have() { # all_have ID HOME...
	id=$1; shift
	for n in "$@"; do wait_for 20 has $n "$id" || return 1; done
}
check "the guideline reaches the board and the towns through the hub" all_have $G takamatsu kanonji kagawa marugame

# One board key is not enough.
check "a board member endorses" k --home takamatsu endorse $G --verdict 推奨 -m 県のひな型に沿っている
E1=372013/endorsement/$(echo $G | tr / -)
check "the endorsement reaches a town" wait_for 20 sh -c "\"$KAIRAN\" --home marugame show $G | grep -q 高松市"
k --home marugame show $G >show1.out
check "show lists the endorsement and who made it" grep -q '推奨 高松市 (372013).*ボード$' show1.out
check "one of two board keys: the version is not endorsed" grep -q 'ボードの判定: 未推奨（この版を推奨した委員 1人 / 必要 2人）' show1.out
k --home marugame search 生成AI --endorsed >s1.out
check "search --endorsed finds nothing yet" grep -q '^0 hit(s)' s1.out

# The same key again: replaces, never adds up (a second file by the same key, too).
check "the same member endorses the same version again" k --home takamatsu endorse $G --verdict 推奨 -m 再確認した
BLOB=$(sqlite3 takamatsu/state.db "SELECT blob FROM items WHERE id = '$G'")
cat >dup.md <<ITEM
---
kind: endorsement
id: 372013/endorsement/second-copy
title: 推奨（別ファイル）
publisher: {lg_code: "372013", name: 高松市}
version: 1.0.0
published: 2024-07-02
updated: 2099-01-01
license: PDL-1.0
confidentiality: 機密性1
target: {id: $G, version: 1.0.0, blob: $BLOB}
verdict: 推奨
review_by: 2099-12-31
---
同じ鍵による二つ目の推奨。
ITEM
check "a second endorsement file by the same key publishes" k --home takamatsu publish dup.md
check "it reaches the town" wait_for 20 has marugame 372013/endorsement/second-copy
k --home marugame show $G >show2.out
check "one key, two endorsements of one blob: counted once" grep -q '委員 1人 / 必要 2人' show2.out
check "the earlier one is shown as replaced" grep -q '置き換え' show2.out

# A non-board key: shown as such, never counts.
k --home marugame endorse $G --verdict 推奨 -m 町としても推奨 >nb.out 2>&1
check "a town's endorsement is written with a warning" grep -q 'is not on the board' nb.out
check "it reaches the hub" wait_for 20 sh -c "\"$KAIRAN\" --home kagawa show $G | grep -q 'ボード外'"
check "and does not count" sh -c "\"$KAIRAN\" --home kagawa show $G | grep -q '委員 1人 / 必要 2人'"

# Two distinct board keys: endorsed.
check "a second board member endorses with conditions" \
	k --home kanonji endorse $G --verdict 条件付き推奨 --conditions 庁内利用に限る --review-by 2099-03-31
check "two distinct board keys: endorsed (at the town)" wait_for 20 sh -c \
	"\"$KAIRAN\" --home marugame show $G | grep -q 'ボードの判定: 条件付き推奨（この版を推奨した委員 2人 / 必要 2人）'"
curl -s "$WEB_marugame/items/$G" >page.html
check "the item page shows the endorsements and the board's verdict" \
	sh -c "grep -q 'ボードの判定: 条件付き推奨（この版を推奨した委員 2人 / 必要 2人）' page.html && grep -q '庁内利用に限る' page.html"
k --home marugame search 生成AI --endorsed >s2.out
check "search --endorsed finds it, with its badge" grep -q 'ボード条件付き推奨 2/2' s2.out
check "and the board facet counts it" grep -q 'board: ボード推奨 1' s2.out

# Bad input: a clear error, nothing changed.
before=$(state_fingerprint kanonji)
check_fails "endorsing an item this node does not hold is refused" k --home kanonji endorse 372081/case/nothing --verdict 推奨
grep -q 'no item 372081/case/nothing on this node' "$T/last.out" && ok "and says so" || not_ok "and says so"
check_fails "endorsing a version this node does not hold is refused" k --home kanonji endorse $G --version 9.9.9 --verdict 推奨
grep -q 'holds no version 9.9.9 .*versions held: 1.0.0' "$T/last.out" && ok "and names the versions held" || not_ok "and names the versions held"
check_fails "a verdict outside the vocabulary is refused" k --home kanonji endorse $G --verdict 最高
check "nothing changed on the refusing node" test "$before" = "$(state_fingerprint kanonji)"

# A new version starts unendorsed; the old one stays endorsable by version.
guideline 1.1.0 文言を整理 | sed 's/updated: 2024-07-01/updated: 2024-08-01/' >g2.md
k --home mitoyo publish g2.md >/dev/null
check "the new version arrives" wait_for 20 sh -c "\"$KAIRAN\" --home marugame show $G | grep -q 'version: 1.1.0'"
check "a new version starts unendorsed" shows marugame $G '委員 0人 / 必要 2人'
check "the old version can still be endorsed by --version" k --home kagawa endorse $G --version 1.0.0 --verdict 推奨

# policy.accept.require_endorsement: an unendorsed guideline is held back.
echo 'policy.accept.require_endorsement = guideline' >>marugame/config
check_fails "show refuses an unendorsed guideline under require_endorsement" k --home marugame show $G
grep -q 'held back.*policy.accept.require_endorsement = guideline' "$T/last.out" && ok "and says why" || not_ok "and says why"
k --home marugame search 生成AI >s3.out
check "search holds it back too" grep -q 'held back' s3.out

# Compromised: kanonji's endorsements stop counting once the federation says so.
k --home takamatsu endorse $G --verdict 推奨 >/dev/null
k --home kanonji endorse $G --verdict 推奨 >/dev/null
check "two board keys endorse the new version; the town sees it" wait_for 20 shows marugame $G '委員 2人 / 必要 2人'
k --home kagawa federation propose --revoke "$FPR_kanonji" --reason compromised -o v2.kfm >/dev/null 2>&1
k --home kagawa federation sign v2.kfm --yes >/dev/null
k --home takamatsu federation sign v2.kfm --yes >/dev/null
check "version 2 revokes 観音寺市's key as compromised" k --home marugame federation apply v2.kfm
k --home marugame show $G >/dev/null 2>show3.err
check "its endorsement stops counting: the guideline is held back again" grep -q '1 of 2 board members' show3.err
check "every endorsement commit passes stock git verify-commit" verify_all marugame endorsements
diag "endorsement commits verified with stock git: $(verify_all marugame endorsements)"

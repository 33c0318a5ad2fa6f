#!/bin/sh
# t0001 - identity, publishing, refusals that write nothing, and stock git agreeing
. "$(dirname "$0")/lib.sh"
plan 25
cd "$T"

check "init creates a home" k --home town init --name 三豊市 --lg-code 372081
check "key is mode 0600" test "$(stat -c %a town/keys/node.ed25519)" = 600
k --home x init --name 三豊市 --lg-code 372082 2>err; rc=$?
check "a wrong check digit is a usage error naming the right code" sh -c "[ $rc = 2 ] && grep -q 'did you mean 372081' err && [ ! -e x ]"
before=$(sha256sum town/keys/node.ed25519 town/config)
check_fails "init refuses an existing home" k --home town init --name 別 --lg-code 142018
check "and changes nothing" test "$before" = "$(sha256sum town/keys/node.ed25519 town/config)"
k --home town id --json >id.json
check "id --json names fingerprint, ssh key and code" sh -c "grep -q '\"lg_code\":\"372081\"' id.json && grep -q 'ssh-ed25519 AAAA' id.json"
FPR=$(k --home town id --fingerprint)
check "fingerprint is 64 hex digits" sh -c "echo $FPR | grep -Eq '^[0-9a-f]{64}$'"

SAMPLES=$SRC/deploy/samples/372081
check "publish the 三豊市 samples" k --home town publish "$SAMPLES"
REPO=town/repos/$FPR/cases.git
k --home town allowed-signers >signers
check "stock git verify-commit accepts every commit" sh -c "
	test \$(git -C $REPO rev-list --count main) -ge 1 || exit 1
	for c in \$(git -C $REPO rev-list main); do
		git -C $REPO -c gpg.format=ssh -c gpg.ssh.allowedSignersFile=$T/signers verify-commit \$c || exit 1
	done"
check "git clone of the bare repo works" git clone -q "$REPO" clone
check "git fsck --full is clean" sh -c "git -C $REPO fsck --full 2>&1 | tee fsck.out; ! grep -q . fsck.out"
check "show prints the signed item" sh -c "\"$KAIRAN\" --home town show 372081/case/gomi-chatbot-poc | grep -q 'achieved: 94.1'"

# A refusal names file, line and rule, and writes nothing.
fp=$(state_fingerprint town)
item 372081 secret 内部資料 | sed 's/機密性1/機密性2/' >secret.md
k --home town publish secret.md 2>err; rc=$?
check "機密性2 is refused" test $rc = 1
check "the refusal names file, line and rule" grep -q 'secret.md:10: confidentiality 機密性2 may not be published (set 機密性1 or keep it local) \[confidentiality\]' err
item 372081 draft 下書き 'draft: true' >draft.md
check_fails "draft: true is refused" k --home town publish draft.md
item 142018 other 他団体の事例 >other.md
check_fails "another municipality's item is refused" k --home town publish other.md
item 372081 good 良い事例 >good.md
check_fails "one bad file stops the whole publish" k --home town publish good.md secret.md
check "refs and state are unchanged by refusals" test "$fp" = "$(state_fingerprint town)"

check "publishing a new item works" k --home town publish good.md -m "新しい事例を追加"
k --home town publish good.md >again.out
check "publishing the same again is a no-op" grep -q 'nothing to publish' again.out
k --home town log cases --json >log.json
check "log --json lists signed commits with their message" sh -c "grep -q '\"signed\":true' log.json && grep -q '新しい事例を追加' log.json"
first=$(git -C $REPO rev-list --reverse main | head -1 | cut -c1-10)
check_fails "show ID@COMMIT before the item existed fails clearly" k --home town show "372081/case/good@$first"

# A board publishes a guideline template and a Q&A dataset with its JSONL rows.
k --home board init --name 香川県 --lg-code 370002 >/dev/null
BFPR=$(k --home board id --fingerprint)
check "a board publishes its samples (guideline, dataset)" k --home board publish "$SRC/deploy/samples/370002"
check "the dataset's JSONL rows travel with its card" sh -c "git -C board/repos/$BFPR/datasets.git ls-tree -r --name-only main | grep -qx datasets/gomi-qa/data/qa.jsonl"
k --home board allowed-signers >bsigners
check "stock git verifies the board's datasets commit" git -C board/repos/$BFPR/datasets.git \
	-c gpg.format=ssh -c gpg.ssh.allowedSignersFile=$T/bsigners verify-commit main

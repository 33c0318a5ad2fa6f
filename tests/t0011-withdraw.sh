#!/bin/sh
# t0011 - withdraw: a signed commit with the reason removes the item;
# subscribers drop it from their view and search; history keeps it.
. "$(dirname "$0")/lib.sh"
plan 10
cd "$T"
P=$(port_base)

k --home pub init --name 三豊市 --lg-code 372081 >/dev/null
FPR=$(k --home pub id --fingerprint)
k --home pub publish "$SRC/deploy/samples/372081" >/dev/null
serve pub $P $((P + 1))
k --home town init --name 西海市 --lg-code 422126 >/dev/null
k --home town follow tcp://127.0.0.1:$P --publisher "$FPR" >/dev/null
serve town $((P + 2)) $((P + 3))
ID=372081/case/gomi-chatbot-poc
wait_for 5 k --home town show $ID
before=$(git -C pub/repos/$FPR/cases.git rev-parse main)

k --home pub withdraw $ID 2>err; rc=$?
check "withdraw without a reason is a usage error" sh -c "test $rc = 2 && grep -q 'reason' err"
check "withdraw works with a reason" k --home pub withdraw $ID -m "正答率の再検証のため取り下げ"
check "the reason is in the signed commit" sh -c "git -C pub/repos/$FPR/cases.git log -1 --format=%B | grep -q '正答率の再検証のため取り下げ'"
k --home pub allowed-signers >signers
check "stock git verifies the withdrawal commit" git -C pub/repos/$FPR/cases.git -c gpg.format=ssh \
	-c gpg.ssh.allowedSignersFile=$T/signers verify-commit main
gone() { ! "$KAIRAN" --home town show $ID >/dev/null 2>&1; }
check "the serving town drops it from its view" wait_for 5 gone
check "and from search" sh -c "! \"$KAIRAN\" --home town search --json ごみ | grep -q '$ID'"
check "its history stays readable with ID@COMMIT" sh -c "\"$KAIRAN\" --home town show $ID@$before | grep -q 'achieved: 94.1'"

k --home board init --name 香川県 --lg-code 370002 >/dev/null
BFPR=$(k --home board id --fingerprint)
k --home board publish "$SRC/deploy/samples/370002" >/dev/null
check "a dataset is withdrawn with its JSONL rows" sh -c "\"$KAIRAN\" --home board withdraw 370002/dataset/gomi-qa -m 'ひな型を改訂するため' >/dev/null &&
	test -z \"\$(git -C board/repos/$BFPR/datasets.git ls-tree -r --name-only main)\""
check_fails "another node's item cannot be withdrawn here" k --home town withdraw 141500/case/none -m x
check "kairan verify passes after withdrawals" k --home pub verify

#!/bin/sh
# t0065 - 期限切れ without waiting (DESIGN §7, endorsement review_by): an
# endorsement whose review_by date has passed shows as 期限切れ and no longer
# counts toward the board's verdict, in show, search, search --json, the
# item page and /api/search; under policy.accept.require_endorsement the
# version is held back again until its member endorses again. "Now" is
# KAIRAN_NOW (seconds since the epoch; for tests), so nothing sleeps.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/boardlib.sh"
plan 16
cd "$T"
board_setup
G=372081/guideline/ai-guideline
guideline_g1
k --home mitoyo publish g1.md >/dev/null
all_have() { for n in takamatsu kanonji marugame; do wait_for 30 has $n $G || return 1; done; }
check "the guideline reaches the board and 丸亀市" all_have
check "高松市 endorses it until 2027-01-31" k --home takamatsu endorse $G --verdict 推奨 --review-by 2027-01-31
check "観音寺市 endorses it until 2099-12-31" k --home kanonji endorse $G --verdict 推奨 --review-by 2099-12-31
check "both reach 丸亀市: ボードの判定: 推奨 (2 of 2)" wait_for 30 shows marugame $G 'ボードの判定: 推奨（この版を推奨した委員 2人 / 必要 2人）'
BEFORE=$(date -u -d 2027-01-31T12:00:00 +%s)
AFTER=$(date -u -d 2027-02-01T00:00:01 +%s)
KAIRAN_NOW=$BEFORE k --home marugame show $G >before.out
check "on its review_by day it still counts" grep -q 'ボードの判定: 推奨（この版を推奨した委員 2人 / 必要 2人）' before.out
KAIRAN_NOW=$AFTER k --home marugame show $G >after.out
sed -n '/-- ボード/,$p' after.out | sed 's/^/# /'
check "the day after: shown as 期限切れ and not counted" grep -q '推奨 高松市 (372013).*（期限切れ: 数えない）' after.out
check "its review_by line says why" grep -q '見直し期限: 2027-01-31（期限切れ: 見直しの推奨があるまで判定に数えない）' after.out
check "the verdict falls to 未推奨 (1 of 2)" grep -q 'ボードの判定: 未推奨（この版を推奨した委員 1人 / 必要 2人）' after.out
KAIRAN_NOW=$AFTER k --home marugame search 生成AI --json >after.json
check "search --json: state 期限切れ, expired, not counted, verdict 未推奨" /usr/bin/python3 -c "
import json; b = json.load(open('after.json'))['hits'][0]['board']
e = {x['lg_code']: x for x in b['endorsements']}
assert e['372013']['state'] == '期限切れ' and e['372013']['expired'] and not e['372013']['counted'], e
assert e['372056']['counted'] and b['verdict'] == '未推奨' and b['positive'] == 1 and not b['endorsed'], b"
check "search --endorsed no longer finds it" sh -c "KAIRAN_NOW=$AFTER \"$KAIRAN\" --home marugame search 生成AI --endorsed | grep -q '^0 hit(s)'"

# the node's pages with the same clock (the server reads KAIRAN_NOW too)
kill $PID_marugame; wait $PID_marugame 2>/dev/null
echo 'policy.accept.require_endorsement = guideline' >>marugame/config
export KAIRAN_NOW=$AFTER
serve marugame $((P + 8)) $((P + 9))
unset KAIRAN_NOW
wait_for 10 curl -sf "$WEB_marugame/"
code=$(curl -s -o page.html -w '%{http_code}' "$WEB_marugame/items/$G")
check "under require_endorsement the expired version is held back again: the item page is a 403" test "$code" = 403
curl -s -G "$WEB_marugame/api/search" --data-urlencode q=生成AI >api.json
check "/api/search holds it back" /usr/bin/python3 -c "
import json; d = json.load(open('api.json'))
assert d['board']['held'] == 1 and not [h for h in d['hits'] if h['kind'] == 'guideline'], d"
check_fails "and so does show" env KAIRAN_NOW=$AFTER "$KAIRAN" --home marugame show $G

# 高松市 reviews it and endorses again: its record is rewritten with the new review_by. 丸亀市 runs on
# the real clock again to receive it (a server two months ahead finds its peers' manifests expired).
kill $PID_marugame; wait $PID_marugame 2>/dev/null
serve marugame $((P + 8)) $((P + 9))
wait_for 10 curl -sf "$WEB_marugame/"
check "高松市 endorses again until 2028-01-31" k --home takamatsu endorse $G --verdict 推奨 --review-by 2028-01-31
check "the new endorsement counts: ボードの判定: 推奨 again" wait_for 30 sh -c "
	KAIRAN_NOW=$AFTER \"$KAIRAN\" --home marugame show $G | grep -q 'ボードの判定: 推奨（この版を推奨した委員 2人 / 必要 2人）'"
check "the item page is served again: ボードの判定: 推奨, 高松市's review_by now 2028-01-31" sh -c "
	test \"\$(curl -s -o page2.html -w '%{http_code}' $WEB_marugame/items/$G)\" = 200 &&
	grep -q 'ボードの判定: 推奨（この版を推奨した委員 2人 / 必要 2人）' page2.html && grep -q '2028-01-31' page2.html &&
	! grep -q '2027-01-31' page2.html"
diag "clock: KAIRAN_NOW=$AFTER (2027-02-01T00:00:01Z); review_by 2027-01-31 expired, 2099-12-31 and 2028-01-31 not"

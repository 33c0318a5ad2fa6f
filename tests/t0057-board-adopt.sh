#!/bin/sh
# t0057 - adoption reports (利用報告, DESIGN §7) on a 2-of-3 board, a hub and
# three towns: two towns report on a publisher's case (one 採用 with a
# metric, one 不採用 with a note); the publisher's status shows both, and
# show and search on a third node show the counts and the notes; a later
# report replaces a town's earlier one; bad input is refused and changes
# nothing; stock git verifies every adoption commit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/boardlib.sh"
plan 19
cd "$T"
board_setup
ID=372081/case/gomi-chatbot-poc

k --home mitoyo publish "$SRC/deploy/samples/372081/cases/gomi-chatbot-poc.md" >/dev/null
V=$(sqlite3 mitoyo/state.db "SELECT version FROM items WHERE id = '$ID'")
check "the case reaches the towns" sh -c "for n in marugame sakaide kanonji; do
	i=0; until \"$KAIRAN\" --home \$n show $ID >/dev/null 2>&1; do i=\$((i + 1)); [ \$i -gt 1000 ] && exit 1; sleep 0.02; done; done"

# Bad input: nothing changes.
before=$(state_fingerprint sakaide)
check_fails "不採用 without a note is refused" k --home sakaide adopt $ID --version "$V" --status 不採用
grep -q 'needs note' "$T/last.out" && ok "and says what is missing" || not_ok "and says what is missing"
check_fails "a version this node does not hold is refused" k --home sakaide adopt $ID --version 7.0.0 --status 採用
check_fails "an item this node does not hold is refused" k --home sakaide adopt 372081/case/none --version 1.0.0 --status 採用
check_fails "a status outside the vocabulary is refused" k --home sakaide adopt $ID --version "$V" --status 導入済
check_fails "a metric that is not a number is refused" k --home sakaide adopt $ID --version "$V" --status 採用 --metric 削減時間=多い
check "nothing was written by the refusals" test "$before" = "$(state_fingerprint sakaide)"

check "丸亀市 reports 検討中" k --home marugame adopt $ID --version "$V" --status 検討中
check "then 採用, with a metric (the later report replaces the earlier)" \
	k --home marugame adopt $ID --version "$V" --status 採用 -m 問い合わせの3割を自動応答 --metric 削減時間=120
check "坂出市 reports 不採用 with a note" \
	k --home sakaide adopt $ID --version "$V" --status 不採用 -m 正答率が目標に届かず見送った
check "the publisher's status shows both reports" wait_for 20 sh -c \
	"\"$KAIRAN\" --home mitoyo status | grep -q '$ID: 検討中 0、採用 1、不採用 1'"
k --home mitoyo status >st.out
grep -q '不採用 坂出市 (372030) 版 .* — 正答率が目標に届かず見送った' st.out && ok "with the 不採用 note" || not_ok "with the 不採用 note"
grep -q '採用 丸亀市 (372021) 版 .*指標: 削減時間=120' st.out && ok "and the adoption's metric" || not_ok "and the adoption's metric"
k --home mitoyo status --json >st.json
check "status --json carries the counts" python3 -c "
import json; d = json.load(open('st.json'))['board']['adoptions']
a = [x for x in d if x['id'] == '$ID'][0]
assert a['採用'] == 1 and a['不採用'] == 1 and a['検討中'] == 0, a"
check "a third node's show has the counts and the notes" wait_for 20 sh -c \
	"\"$KAIRAN\" --home kanonji show $ID | grep -q '利用報告: 検討中 0、採用 1、不採用 1（2団体）'"
curl -s "$WEB_kanonji/items/$ID" >page.html
check "the item page shows the adoption reports with the note" \
	sh -c "grep -q '検討中 0、採用 1、不採用 1（2団体）' page.html && grep -q '正答率が目標に届かず見送った' page.html"
k --home kanonji search ごみ >s.out
check "and its search shows them with the hit" grep -q '利用報告 検討中 0、採用 1、不採用 1' s.out
n=$(verify_all kanonji adoptions) && ok "verify-commit: $n adoption commits" || not_ok "verify-commit on adoptions"
diag "adoption commits verified with stock git at 観音寺市: $n"

#!/bin/sh
# t0014 - a town derives its guideline from the board's template, and learns
# when the template moves on; diff shows what changed, character by character.
. "$(dirname "$0")/lib.sh"
plan 11
cd "$T"
P=$(port_base)

k --home board init --name 香川県 --lg-code 370002 >/dev/null
BFPR=$(k --home board id --fingerprint)
k --home board publish "$SRC/deploy/samples/370002" >/dev/null
serve board $P $((P + 1))
k --home town init --name 三豊市 --lg-code 372081 >/dev/null
k --home town follow tcp://127.0.0.1:$P --publisher "$BFPR" >/dev/null
k --home town sync --timeout 5 >/dev/null
T_ID=370002/guideline/ai-guideline-template

check "derive writes a draft from the template" k --home town derive $T_ID --slug ai-guideline -o drafts
check "with derived_from naming the template and its version" grep -q "{id: $T_ID, version: 1.0.0, relation: ひな型適用" drafts/ai-guideline.md
check "the body comes from the template" grep -q '^## 3 禁止・注意事項' drafts/ai-guideline.md
k --home town publish drafts 2>err; rc=$?
check "a draft is refused by publish" sh -c "test $rc = 1 && grep -q 'draft items never leave this node' err"
sed -i '/^draft: true$/d; s/（ひな型から変えた点をここに書く）/研修の担当課を市の組織名に置き換えた/' drafts/ai-guideline.md
check "once edited it passes check and publishes" sh -c "\"$KAIRAN\" --home town check drafts >/dev/null && \"$KAIRAN\" --home town publish drafts >/dev/null"
k --home town status >st1
check "status says nothing while the template is unchanged" sh -c "! grep -q 'templates with a newer version' st1"

# the board revises its template
sed -e 's/^version: 1.0.0/version: 1.1.0\nversion_notes: 判断を委ねない場面の例を加えた/' \
    -e 's/^edition: 第1版/edition: 第2版/' -e 's/^updated: 2024-05-01/updated: 2024-11-01/' \
    -e 's/^判断そのものを生成AIに委ねない。/判断そのものを生成AIに委ねない（採否の決定や処分など）。/' \
    "$SRC/deploy/samples/370002/guidelines/ai-guideline-template.md" >revised.md
check "the board publishes version 1.1.0 of the template" k --home board publish revised.md
k --home town sync --timeout 5 >/dev/null
k --home town status >st2
check "the town's status says its template has a newer version" grep -q "372081/guideline/ai-guideline applies template $T_ID 1.0.0; the template is now 1.1.0" st2
k --home town status --json >st2.json
check "and so does status --json (valid JSON)" test "$(sqlite3 :memory: "SELECT json_extract(readfile('st2.json'), '\$.templates[0].template_version')")" = 1.1.0
k --home town diff $T_ID 1.0.0 >d.out
check "diff shows what changed in the template since the town's base" grep -q '判断そのものを生成AIに委ねない{+（採否の決定や処分など）+}。' d.out
check "diff by edition works too" sh -c "\"$KAIRAN\" --home town diff $T_ID 第1版 第2版 | grep -q '~ edition: 第\[-1-\]{+2+}版'"

#!/bin/sh
# t0075 - messages in Japanese (issue 14 part 3): po/ja.po has no untranslated
# or fuzzy message for the current sources (po/update.sh check lists each one),
# and under ja_JP.UTF-8 --help, a command's --help and real errors (unknown
# command, a bad config key with file:line, publish of a refused item) are
# Japanese, with the same exit codes; under LANG=C they are English.
. "$(dirname "$0")/lib.sh"
plan 14
cd "$T"

JA=ja_JP.UTF-8
if ! locale -a 2>/dev/null | grep -qix 'ja_JP.utf8'; then
	diag "the ja_JP.UTF-8 locale is missing: make deps generates it (or: echo 'ja_JP.UTF-8 UTF-8' >>/etc/locale.gen && locale-gen)"
fi
# the catalog the binary uses: next to it in the build tree (build/locale)
diag "catalog: $(ls "$(dirname "$KAIRAN")"/locale/ja/LC_MESSAGES/kairan.mo 2>&1)"

(cd "$SRC" && sh po/update.sh check "$T/po") >pocheck.out 2>&1; rc=$?
sed 's/^/# /' pocheck.out | tail -40
check "po/ja.po: every message of the sources translated, none fuzzy, placeholders match (po/update.sh check)" test $rc = 0

ja() { LC_ALL=$JA "$KAIRAN" "$@"; }
en() { LC_ALL=C "$KAIRAN" "$@"; }

ja --help >help.ja 2>&1; en --help >help.en 2>&1
check "kairan --help is Japanese under $JA" sh -c "grep -q '^使い方: kairan' help.ja && grep -q 'コマンドの一覧' help.ja && grep -q 'ノードのホームを作成' help.ja"
check "kairan --help is English under LANG=C" sh -c "grep -q '^usage: kairan' help.en && grep -q 'list commands' help.en && ! grep -q '使い方' help.en"
diag "help: $(grep -c . help.ja) lines in Japanese, $(grep -c . help.en) in English"

ja publish --help >pub.ja 2>&1; en publish --help >pub.en 2>&1
check "kairan publish --help is Japanese" sh -c "grep -q '^使い方: kairan publish FILE|DIR... \[-m MSG\]' pub.ja && grep -q '署名付きマニフェスト' pub.ja"
check "kairan publish --help is English under LANG=C" grep -q 'signed manifest, and tells a running node to announce it' pub.en
# every command kairan --help lists (join, audit and federation printed English help until 2026-12-03)
: >cmds.bad
for c in $(en --help | awk '/^  [a-z]/ { print $1 }'); do
	[ "$c" = help ] && continue
	ja "$c" --help >cmd.help 2>&1 || echo "$c: exit $?" >>cmds.bad
	grep -q '^使い方: kairan' cmd.help || echo "$c: $(head -1 cmd.help)" >>cmds.bad
done
check "every command's --help is Japanese (使い方: …) and exits 0" sh -c "! grep . cmds.bad"

ja nosuchcmd >cmd.ja 2>&1; rja=$?; en nosuchcmd >cmd.en 2>&1; ren=$?
check "an unknown command: Japanese, exit 2" sh -c "test $rja = 2 && grep -q \"kairan: 'nosuchcmd' というコマンドはありません\" cmd.ja"
check "an unknown command: English under LANG=C, exit 2" sh -c "test $ren = 2 && grep -q \"'nosuchcmd' is not a command\" cmd.en"

k --home h init --name 三豊市 --lg-code 372081 >/dev/null
sed -i 's/^listen = /lisen = /' h/config
line=$(grep -n '^lisen = ' h/config | cut -d: -f1)
ja --home h config check >cfg.ja 2>&1; rja=$?; en --home h config check >cfg.en 2>&1; ren=$?
sed 's/^/# /' cfg.ja
check "a bad config key: Japanese with file:line, exit 1" sh -c "test $rja = 1 && grep -q \"h/config:$line: 不明な設定 'lisen'\" cfg.ja"
check "a bad config key: English with file:line under LANG=C" sh -c "test $ren = 1 && grep -q \"h/config:$line: unknown setting 'lisen'\" cfg.en"
sed -i 's/^lisen = /listen = /' h/config

mkdir -p items/cases
item 372081 secret 機密の事例 | sed 's/^confidentiality: 機密性1/confidentiality: 機密性2/' >items/cases/secret.md
ja --home h publish items >pubbad.ja 2>&1; rja=$?
en --home h publish items >pubbad.en 2>&1; ren=$?
sed 's/^/# /' pubbad.ja
check "publish of a refused item: Japanese, file:line, the rule id untouched, exit 1" sh -c "test $rja = 1 &&
	grep -q 'kairan: publish: items/cases/secret.md:[0-9]*: 機密性 機密性2 は公開できません.*\[' pubbad.ja &&
	grep -q '何も公開していません' pubbad.ja"
check "publish of a refused item: English under LANG=C" sh -c "test $ren = 1 && grep -q 'confidentiality 機密性2 may not be published' pubbad.en"
check "the refusal changed nothing" sh -c "\"$KAIRAN\" --home h log | grep -q 'nothing published yet'"

# LANGUAGE alone does not switch a C locale (gettext ignores it there), and a
# locale that is not installed falls back to English rather than failing
LANGUAGE=ja LC_ALL=C "$KAIRAN" nosuchcmd >lang.out 2>&1
LC_ALL=xx_XX.UTF-8 "$KAIRAN" nosuchcmd >>lang.out 2>&1
check "LANGUAGE=ja under C, and an unknown locale, stay English" sh -c "test \$(grep -c 'is not a command' lang.out) = 2"


#!/bin/sh
# t0054 - install and package: `make install DESTDIR= PREFIX=` puts the
# binary, the unit (its paths following PREFIX), the sysusers entry, man
# pages (rendered without warnings), bash completion, the example config
# and the operator guide in place; every key the config parser knows is
# documented in config.example and kairan-config(5), and config.example
# with every setting switched on checks out; every command is in
# kairan(1); `make deb` builds a package lintian finds no error in.
# (`make check-deb` installs it into a fresh Debian 12 root: not here, it
# needs the mirror.)
. "$(dirname "$0")/lib.sh"
plan 13
cd "$T"
B=$T/build
mkdir -p "$B"
cp "$KAIRAN" "$B/kairan"
mk() { make -s --no-print-directory -C "$SRC" BUILD="$B" -o "$B/kairan" "$@"; }

check "make install DESTDIR= PREFIX=/usr/local" mk install-files DESTDIR="$T/root" PREFIX=/usr/local
R=$T/root/usr/local
check "binary, unit, sysusers, man pages, completion, example config, guide, policy" sh -c "
	test -x $R/bin/kairan && test -f $R/lib/systemd/system/kairan.service && test -f $R/lib/sysusers.d/kairan.conf &&
	test -f $R/share/man/man1/kairan.1 && test -f $R/share/man/man5/kairan-config.5 &&
	test -f $R/share/bash-completion/completions/kairan && test -f $R/share/doc/kairan/config.example &&
	test -f $R/share/doc/kairan/運用.md && test -f $R/share/kairan/policies/default.policy"
check "the installed unit runs the installed binary" sh -c "
	grep -q '^ExecStart=/usr/local/bin/kairan serve' $R/lib/systemd/system/kairan.service &&
	grep -q '^ExecStartPre=/usr/local/bin/kairan config check --ports' $R/lib/systemd/system/kairan.service &&
	! grep -q '/usr/bin/kairan' $R/lib/systemd/system/kairan.service"
check "with PREFIX=/usr the unit goes to /lib/systemd/system" sh -c "
	make -s --no-print-directory -C '$SRC' BUILD='$B' -o '$B/kairan' install-files DESTDIR='$T/usr' PREFIX=/usr >/dev/null &&
	grep -q '^ExecStart=/usr/bin/kairan serve' '$T/usr/lib/systemd/system/kairan.service'"
check "the man pages render without warnings" sh -c "
	for m in $R/share/man/man1/kairan.1 $R/share/man/man5/kairan-config.5; do
		w=\$(MANWIDTH=80 man --warnings -E UTF-8 -l \"\$m\" 2>&1 >/dev/null); [ -z \"\$w\" ] || { echo \"\$m: \$w\"; exit 1; }
		MANWIDTH=80 man -E UTF-8 -l \"\$m\" | grep -q kairan || exit 1
	done"
missing=""
for c in $(k help | awk '/^  [a-z]/ { print $1 }'); do
	grep -q "^\.B[IR]* \"\?$c\b" "$SRC/docs/man/kairan.1" || missing="$missing $c"
done
check "every command of kairan help is in kairan(1)" test -z "$missing"
[ -n "$missing" ] && diag "not in kairan(1):$missing"

# every key the parser knows, in the example and the man page
keys=$(grep -o 'STR("[a-z_.]*"\|NUM("[a-z_.]*"' "$SRC/node/home.c" | sed 's/.*("//; s/"//' | sort -u)
pkeys=$(sed -n 's/^\([a-z][a-z._-]*\) *=.*/policy.\1/p' "$SRC/policies/default.policy")
undoc=""
MANWIDTH=1000 man -E UTF-8 -l "$SRC/docs/man/kairan-config.5" 2>/dev/null >config5.txt
for key in $keys $pkeys; do
	grep -q "^#\? *$key =" "$SRC/deploy/config.example" || undoc="$undoc $key(config.example)"
	case $key in
	policy.pii.*) grep -q "policy.pii.RULE" config5.txt && grep -q "\b${key#policy.pii.}\b" config5.txt ;;
	*) grep -q -- "$key" config5.txt ;;
	esac || undoc="$undoc $key(kairan-config.5)"
done
diag "$(echo $keys $pkeys | wc -w) settings known to the parser and the policy"
check "every setting is documented in config.example and kairan-config(5)" test -z "$undoc"
[ -n "$undoc" ] && diag "undocumented:$undoc"
k --home ex init --name 三豊市 --lg-code 372081 >/dev/null
sed 's/^# \([a-z][a-z._-]* =\)/\1/' "$SRC/deploy/config.example" | grep -v '^KEY\|retrieval_keys = KEY1' >ex/config
echo 'web.retrieval_keys = KEY1 KEY2' >>ex/config
diag "config.example with $(grep -c '^[a-z]' ex/config) settings switched on"
check "config.example with every setting switched on checks out" k --home ex config check

# complete WORDS...: what bash completion offers for the last word
complete_words() {
	PATH=$(dirname "$KAIRAN"):$PATH bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _kairan; echo "${COMPREPLY[*]}"' \
		sh "$SRC/deploy/bash-completion/kairan" "$@"
}
check "bash completion completes commands from kairan help" test "$(complete_words kairan ba)" = backup
check "and subcommands" test "$(complete_words kairan --home x key '')" = "export import"
check "and a command's options from its --help" test "$(complete_words kairan serve --an)" = "--announce"

t0=$(now_ms)
mk deb >deb.out 2>&1; rc=$?
sed 's/^/# /' deb.out | grep -v '^# \(install\|sed\|chmod\|strip\|gzip\|for\|printf\|shlibs\|size\|  \|cd\|find\|rm\|mkdir\)' | tail -12
diag "make deb with lintian: $(( $(now_ms) - t0 )) ms"
check "make deb builds a package and lintian reports no error" sh -c "test $rc = 0 && ls '$B'/kairan_*.deb >/dev/null && ! grep -q '^E: ' deb.out"
check "the package holds the unit, the man pages, the maintainer scripts and the purge question" sh -c "
	dpkg-deb -c '$B'/kairan_*.deb | grep -q ' ./lib/systemd/system/kairan.service' &&
	dpkg-deb -c '$B'/kairan_*.deb | grep -q ' ./usr/share/man/man5/kairan-config.5.gz' &&
	dpkg-deb -I '$B'/kairan_*.deb | grep -q ' postrm' && dpkg-deb -I '$B'/kairan_*.deb | grep -q ' templates' &&
	dpkg-deb -f '$B'/kairan_*.deb Depends | grep -q 'adduser'"

#!/bin/sh
# po/update.sh - message catalogs: extract, merge, check (make po, make po-check)
#
#   po/update.sh pot   TMPDIR   xgettext over every source file -> po/kairan.pot
#   po/update.sh merge TMPDIR   pot, then msgmerge it into po/ja.po (no obsolete entries kept)
#   po/update.sh check TMPDIR   merges into a copy (po/ untouched) and fails, listing each
#                               msgid, when one is untranslated or fuzzy or a translation's
#                               placeholders do not match its msgid (msgfmt -c)
#
# Messages are found centrally: the first argument of _(), N_(), kr_ngettext()
# (both forms), the format of kr_error, kr_error_prefix, kr_findings_add, the
# config reader's PROBLEM (node/home.c), and the
# log functions (not log_debug), and the command table's args and help
# (po/cmdtable.py). Run from the top of the source tree; TMPDIR is scratch space.
set -eu
mode=$1
tmp=$2
mkdir -p "$tmp"

s_pot() { # s_pot OUT
	python3 po/cmdtable.py node/cli.c >"$tmp/cmdtable.c"
	find node sharing policies proto -name '*.c' | LC_ALL=C sort >"$tmp/files"
	echo "$tmp/cmdtable.c" >>"$tmp/files"
	xgettext --language=C --from-code=UTF-8 --package-name=kairan --msgid-bugs-address= \
	  --add-comments=TRANSLATORS: --no-wrap \
	  --keyword=_ --keyword=N_ --keyword=kr_ngettext:1,2 \
	  --keyword=kr_error:2 --keyword=kr_error_prefix:2 --keyword=kr_findings_add:6 \
	  --keyword=PROBLEM --flag=PROBLEM:1:c-format \
	  --keyword=log_warn --keyword=log_warnx --keyword=log_info --keyword=fatal --keyword=fatalx \
	  --flag=kr_error:2:c-format --flag=kr_error_prefix:2:c-format --flag=kr_findings_add:6:c-format \
	  --flag=log_warn:1:c-format --flag=log_warnx:1:c-format --flag=log_info:1:c-format \
	  --flag=fatal:1:c-format --flag=fatalx:1:c-format --flag=kr_ngettext:1:c-format --flag=kr_ngettext:2:c-format \
	  --flag=kr_sprintf:1:c-format --flag=kr_buf_addf:2:c-format \
	  -f "$tmp/files" -o "$tmp/raw.pot" 2>"$tmp/xgettext.err" || { cat "$tmp/xgettext.err" >&2; exit 1; }
	grep -v -e 'msgid-bugs-address' -e 'Makevars' -e 'MSGID_BUGS_ADDRESS' -e 'command line option' "$tmp/xgettext.err" >&2 || true
	# the command table's lines are node/cli.c's lines; no creation date (reproducible)
	sed -e "s|$tmp/cmdtable.c:|node/cli.c:|g" -e '/^"POT-Creation-Date:/d' \
	  -e 's/^"Content-Type: text\/plain; charset=CHARSET\\n"/"Content-Type: text\/plain; charset=UTF-8\\n"/' \
	  "$tmp/raw.pot" >"$1"
}

s_merge() { # s_merge PO POT OUT
	msgmerge --quiet --no-wrap --previous "$1" "$2" -o "$tmp/merged.po"
	msgattrib --no-wrap --no-obsolete "$tmp/merged.po" -o "$3"
}

# s_list PO: each entry but the header as "  FILE:LINE: msgid" (the msgid on one line)
s_list() {
	awk '/^#: /{loc=$2}
	  /^msgid /{s=$0; sub(/^msgid "/,"",s); sub(/"$/,"",s); m=s; inid=1; next}
	  inid && /^"/{s=$0; sub(/^"/,"",s); sub(/"$/,"",s); m=m s; next}
	  /^msgstr/ || /^msgid_plural/{ if (inid && m != "") print "  " loc ": \"" m "\""; inid=0 }' "$1"
}

case $mode in
pot)
	s_pot po/kairan.pot
	;;
merge)
	s_pot po/kairan.pot
	s_merge po/ja.po po/kairan.pot po/ja.po
	;;
check)
	s_pot "$tmp/kairan.pot"
	s_merge po/ja.po "$tmp/kairan.pot" "$tmp/ja.po"
	total=$(msgattrib --no-obsolete "$tmp/ja.po" 2>/dev/null | grep -c '^msgid ' || true)
	total=$((total - 1)) # the header
	rm -f "$tmp/untranslated.po" "$tmp/fuzzy.po"
	msgattrib --no-wrap --untranslated --no-obsolete "$tmp/ja.po" -o "$tmp/untranslated.po"
	msgattrib --no-wrap --only-fuzzy --no-obsolete "$tmp/ja.po" -o "$tmp/fuzzy.po"
	nu=0; nf=0
	# (msgattrib's output, when not empty, starts with the header entry: not counted)
	[ -s "$tmp/untranslated.po" ] && nu=$(($(grep -c '^msgid ' "$tmp/untranslated.po") - 1))
	[ -s "$tmp/fuzzy.po" ] && nf=$(($(grep -c '^msgid ' "$tmp/fuzzy.po") - 1))
	rc=0
	if ! msgfmt --check --statistics -o /dev/null "$tmp/ja.po" 2>"$tmp/msgfmt.out"; then
		echo "po/ja.po: msgfmt --check failed:"; cat "$tmp/msgfmt.out"; rc=1
	fi
	if [ "$nu" -gt 0 ]; then
		echo "po/ja.po: $nu untranslated message(s) (translate them in po/ja.po after: make po):"
		s_list "$tmp/untranslated.po"
		rc=1
	fi
	if [ "$nf" -gt 0 ]; then
		echo "po/ja.po: $nf fuzzy message(s) (check the translation, then remove the fuzzy flag):"
		s_list "$tmp/fuzzy.po"
		rc=1
	fi
	echo "po/ja.po: $total message(s), $nu untranslated, $nf fuzzy ($(cat "$tmp/msgfmt.out"))"
	exit $rc
	;;
*)
	echo "usage: po/update.sh pot|merge|check TMPDIR" >&2; exit 2
	;;
esac

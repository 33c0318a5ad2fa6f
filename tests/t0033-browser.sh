#!/bin/sh
# t0033 - the pages in a real browser (Debian's chromium, driven by
# playwright-core; axe-core for WCAG 2.1 AA): search → case, the diff,
# dataset paging, a keyboard-only pass, no violation on any page, XSS
# probes inert in the browser. Screenshots of every page are kept under
# the build directory (build/browser/) as test artifacts.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/weblib.sh"
cd "$T"
P=$(port_base)
ART=$(dirname "$KAIRAN")/browser
if [ ! -d "$SRC/tests/browser/node_modules/playwright-core" ] || [ ! -x /usr/bin/chromium ]; then
	echo "1..1"
	echo "not ok 1 - the browser tests need chromium and tests/browser/node_modules (run: make deps)"
	exit 1
fi
web_publishers "$P"
web_town "$P"
rm -rf "$ART"
node "$SRC/tests/browser/web.test.mjs" "$WEB" "$ART" 2>"$T/node.err"
rc=$?
[ -s "$T/node.err" ] && sed 's/^/# /' "$T/node.err"
echo "# screenshots: $(ls "$ART" 2>/dev/null | wc -l) in $ART"
[ $rc = 0 ] || _fail=1
exit $rc

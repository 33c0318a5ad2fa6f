#!/bin/sh
# t0049 - the documentation is in the repository and true: every relative
# link in README.md and docs/*.md resolves to a file of the source tree,
# nothing points outside it (../shared), and the README's quick start runs
# exactly as written (extracted from README.md, run with sh -e in a scratch
# directory where build/ and deploy/ are this tree's).
. "$(dirname "$0")/lib.sh"
plan 7
cd "$T"

# --- links -------------------------------------------------------------------------
cat >links.py <<'PY'
import os, re, sys
src = sys.argv[1]
files = [os.path.join(src, "README.md")] + sorted(
    os.path.join(src, "docs", f) for f in os.listdir(os.path.join(src, "docs")) if f.endswith(".md"))
bad, n = [], 0
for f in files:
    text = open(f, encoding="utf-8").read()
    # drop fenced code blocks: their brackets are not links
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    for m in re.finditer(r"\[[^\]\n]*\]\(([^)\s]+)\)", text):
        target = m.group(1)
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        n += 1
        path = os.path.normpath(os.path.join(os.path.dirname(f), target.split("#")[0]))
        if not path.startswith(src + os.sep) or not os.path.exists(path):
            bad.append("%s: %s" % (os.path.relpath(f, src), target))
print("%d relative link(s) in %d file(s)" % (n, len(files)))
for b in bad:
    print("broken: " + b)
sys.exit(1 if bad or n == 0 else 0)
PY
python3 links.py "$SRC" >links.out 2>&1; rc=$?
diag "$(head -1 links.out)"
check "every relative link in README.md and docs/*.md resolves inside the tree" sh -c "test $rc = 0 || { cat links.out; false; }"
check "the docs the README promises are there" test -s "$SRC/docs/content.md" -a -s "$SRC/docs/policy.md" -a -s "$SRC/docs/protocol.md"
check "nothing points at files outside the repository (CONTENT.md, FACTS.md, ../shared)" sh -c "
	! grep -n 'shared/\|(CONTENT.md)\|(FACTS.md)\|\`CONTENT.md\`\|\`FACTS.md\`' '$SRC/README.md' '$SRC'/docs/*.md"
# every closed vocabulary value that item.c knows is in docs/content.md
check "docs/content.md names every value of every closed vocabulary in policies/item.c" sh -c "
	sed -n '/closed vocabularies/,/define N(a)/p' '$SRC/policies/item.c' | grep -o '\"[^\"]*\"' | tr -d '\"' | sort -u >vocab &&
	test \$(wc -l <vocab) -ge 40 && while read -r v; do grep -qF -- \"\$v\" '$SRC/docs/content.md' || { echo \"missing: \$v\"; exit 1; }; done <vocab"

# --- the quick start, exactly as written ---------------------------------------------------
awk '/^## Quick start/ { q = 1 } q && /^```sh$/ { c = 1; next } c && /^```$/ { exit } c { print }' "$SRC/README.md" >quickstart.sh
diag "quick start: $(wc -l <quickstart.sh) lines"
mkdir qs && cd qs
ln -s "$(dirname "$KAIRAN")" build
ln -s "$SRC/deploy" deploy
# the harness only adds a way out: the three nodes are stopped whatever happens
{ echo 'trap '\''kill ${MITOYO:-} ${KAGAWA:-} ${SMALL:-} 2>/dev/null'\'' EXIT'; cat ../quickstart.sh; } >../run.sh
t0=$(now_ms)
timeout 120 sh -e ../run.sh >../qs.out 2>&1; rc=$?
diag "quick start ran in $(( $(now_ms) - t0 )) ms, exit $rc"
check "the README quick start runs as written (exit 0)" sh -c "test $rc = 0 || { tail -30 ../qs.out; false; }"
check "its git verify-commit line verified the replica" grep -q 'Good "git" signature' ../qs.out
check "its audit line proved the mirror authentic" grep -q '^authentic: cases.git' ../qs.out

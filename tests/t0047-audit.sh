#!/bin/sh
# t0047 - an auditor with nothing but `git clone --mirror` of a collection:
# kairan audit proves it authentic (signed manifest under
# refs/kairan/manifest, main at the signed head, every commit signed, every
# object re-hashed), stock git verify-commit accepts every commit, and each
# tampered mirror (rolled back, re-signed by another key, edited) fails
# with its reason. No node runs: the mirror is all there is.
. "$(dirname "$0")/lib.sh"
plan 22
cd "$T"

k --home mitoyo init --name 三豊市 --lg-code 372081 >/dev/null
k --home mitoyo publish "$SRC/deploy/samples/372081" >/dev/null 2>&1
F=$(k --home mitoyo id --fingerprint)
REPO=$T/mitoyo/repos/$F/cases.git
# an old mirror, taken after the first publish (file:// so git copies, never hard-links)
git clone -q --mirror "file://$REPO" old.git
item 372081 audit-new-case ごみ分別の問合せ試行 >new-case.md
k --home mitoyo publish new-case.md >/dev/null 2>&1
git clone -q --mirror "file://$REPO" cases.git

check "git clone --mirror carries refs/kairan/manifest" sh -c "git -C cases.git for-each-ref refs/kairan | grep -q 'blob	refs/kairan/manifest'"
t0=$(now_ms)
k audit cases.git --publisher "$F" >audit.out 2>&1; rc=$?
diag "audit of a fresh mirror: $(( $(now_ms) - t0 )) ms"
check "a fresh mirror is authentic" sh -c "test $rc = 0 && grep -q '^authentic: cases.git' audit.out && grep -q 'manifest seq 2' audit.out"
sed 's/^/#   /' audit.out
k audit cases.git --publisher "$F" --json >audit.json
check "--json says authentic, seq 2, the head and the commit count" sh -c "
	test \"\$(sqlite3 :memory: \"SELECT json_extract(readfile('audit.json'), '\$.authentic') || ' ' ||
	json_extract(readfile('audit.json'), '\$.seq') || ' ' || json_extract(readfile('audit.json'), '\$.commits') || ' ' ||
	json_extract(readfile('audit.json'), '\$.head')\")\" = \"1 2 2 \$(git -C cases.git rev-parse main)\""

# stock git, with the allowed-signers file written to a file first (git reads it more than once)
k --home mitoyo allowed-signers >signers
check "git verify-commit accepts the head of the mirror" \
	git -C cases.git -c gpg.format=ssh -c gpg.ssh.allowedSignersFile="$T/signers" verify-commit main
check "git verify-commit accepts every commit of the mirror" sh -c "
	for c in \$(git -C cases.git rev-list main); do
		git -C cases.git -c gpg.format=ssh -c gpg.ssh.allowedSignersFile='$T/signers' verify-commit \$c || exit 1
	done"

# --- rolled back -------------------------------------------------------------
git clone -q --mirror "file://$REPO" back.git
git -C back.git update-ref refs/heads/main main~1
k audit back.git --collection cases --publisher "$F" 2>err; rc=$?
check "main moved back under the current manifest: fails, rolled back" sh -c "test $rc = 1 && grep -q 'NOT authentic: refs/heads/main is at .*, behind the signed head .*rolled back' err"
diag "$(cat err)"
k audit old.git --collection cases --publisher "$F" --min-seq 2 2>err; rc=$?
check "an old mirror, older than a seq the auditor saw: fails, rolled back" sh -c "test $rc = 1 && grep -q 'seq 1, older than seq 2 seen before: the mirror was rolled back' err"
KAIRAN_NOW=$(( $(date +%s) + 8 * 86400 )) k audit old.git --collection cases --publisher "$F" 2>err; rc=$?
check "an old mirror past its manifest's expiry: fails, stale or rolled back" sh -c "test $rc = 1 && grep -q 'expired at .*stale or was rolled back' err"
diag "$(cat err)"
check "the old mirror itself was authentic when it was taken" k audit old.git --collection cases --publisher "$F"

# --- re-signed by another key ----------------------------------------------
k --home evil init --name 三豊市 --lg-code 372081 >/dev/null
k --home evil publish "$SRC/deploy/samples/372081" new-case.md >evil.out 2>&1 || sed "s/^/# /" evil.out
E=$(k --home evil id --fingerprint)
git clone -q --mirror "file://$T/evil/repos/$E/cases.git" evil.git
k audit evil.git --collection cases --publisher "$F" 2>err; rc=$?
check "the same content re-signed by another key: fails, names the key" sh -c "test $rc = 1 && grep -q \"signed by another key ($E), not by the publisher $F\" err"
diag "$(cat err)"
git clone -q --mirror "file://$REPO" swap.git
git -C evil.git cat-file blob refs/kairan/manifest >evil.manifest
git -C swap.git update-ref refs/kairan/manifest "$(git -C swap.git hash-object -w "$T/evil.manifest")"
check_fails "the genuine history under another key's manifest fails" k audit swap.git --collection cases --publisher "$F"
check "even when the auditor names the other key, the commits are the publisher's: fails" sh -c "
	! \"$KAIRAN\" audit swap.git --collection cases --publisher $E 2>err && grep -q 'main is at .*but the publisher signed\|signed by another key' err"

# --- through a federation: any current member, proved from the chain's genesis ------
k --home kagawa init --name 香川県 --lg-code 370002 >/dev/null
k --home kagawa id --json >kagawa.json
k --home mitoyo id --json >mitoyo.json
{ k --home kagawa federation create --name 香川県生成AI連携 --threshold 1 --board kagawa.json -o g.kfm &&
  k --home kagawa federation sign g.kfm --yes && k --home kagawa federation apply g.kfm &&
  k --home kagawa federation propose --add-member mitoyo.json -o v2.kfm &&
  k --home kagawa federation sign v2.kfm --yes && k --home kagawa federation apply v2.kfm; } >fed.out 2>&1 || sed 's/^/# /' fed.out
FED=$(k --home kagawa federation show --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["federation"])')
check "--federation: a member's mirror is authentic, proved from the chain files" sh -c "
	\"\$KAIRAN\" audit cases.git --federation $FED --chain kagawa/federation/chain >fa.out && grep -q 'a member of federation .*version 2' fa.out"
k audit evil.git --collection cases --federation "$FED" --chain kagawa 2>err; rc=$?
check "--federation: a key that is not a member fails, named" sh -c "test $rc = 1 && grep -q \"signed by $E, which federation .* does not trust as 372081: .*not a member\" err"
OTHER=$(echo "$FED" | tr 0-9a-f 1-9a-f0)
k audit cases.git --federation "$OTHER" --chain kagawa 2>err; rc=$?
check "--federation: a chain of another federation fails" sh -c "test $rc = 1 && grep -q 'does not verify' err"

# --- edited --------------------------------------------------------------------
# a commit added on top (as git would make it: unsigned)
git clone -q --mirror "file://$REPO" added.git
tree=$(git -C added.git rev-parse 'main^{tree}')
c=$(echo "edit" | git -C added.git -c user.name=x -c user.email=x@x commit-tree "$tree" -p main)
git -C added.git update-ref refs/heads/main "$c"
k audit added.git --collection cases --publisher "$F" 2>err; rc=$?
check "a commit added past the signed head: fails, edited" sh -c "test $rc = 1 && grep -q 'past the signed head .*edited' err"
# history rewritten: the same tree under a new root
git clone -q --mirror "file://$REPO" rewritten.git
c=$(echo "rewritten" | git -C rewritten.git -c user.name=x -c user.email=x@x commit-tree "$tree")
git -C rewritten.git update-ref refs/heads/main "$c"
k audit rewritten.git --collection cases --publisher "$F" 2>err; rc=$?
check "history replaced: fails, the histories differ" sh -c "test $rc = 1 && grep -q 'the two histories differ: the mirror was edited' err"
# a byte of the manifest changed: the signature no longer covers it
git clone -q --mirror "file://$REPO" forged.git
git -C forged.git cat-file blob refs/kairan/manifest >m.bin
python3 -c "
import sys; b = bytearray(open('m.bin','rb').read()); i = b.find(b'372081'); b[i+5] ^= 1; open('m.bin','wb').write(b)"
git -C forged.git update-ref refs/kairan/manifest "$(git -C forged.git hash-object -w "$T/m.bin")"
k audit forged.git --collection cases --publisher "$F" 2>err; rc=$?
check "an edited manifest: fails, its signature does not verify" sh -c "test $rc = 1 && grep -q 'signature does not verify .*edited' err"
# an object changed on disk: an item's blob rewritten in place under its old id
git clone -q --mirror "file://$REPO" damaged.git
blob=$(git -C damaged.git rev-parse main:cases/audit-new-case.md)
for p in damaged.git/objects/pack/*.pack; do mv "$p" "$T/moved.pack"; rm -f "${p%.pack}.idx" "${p%.pack}.rev"; git -C damaged.git unpack-objects -q <"$T/moved.pack"; done
git -C damaged.git cat-file blob "$blob" | sed 's/ごみ/ゴミ/' >edited.md
f=damaged.git/objects/$(echo "$blob" | cut -c1-2)/$(echo "$blob" | cut -c3-)
chmod u+w "$f"
python3 -c "
import sys, zlib; b = open('edited.md','rb').read()
open(sys.argv[1],'wb').write(zlib.compress(b'blob %d\\0' % len(b) + b))" "$f"
k audit damaged.git --collection cases --publisher "$F" 2>err; rc=$?
check "an object whose content no longer matches its id: fails, names it" sh -c "test $rc = 1 && grep -q \"$blob\" err && grep -q 'damaged or missing' err"
diag "$(tail -1 err)"

# --- usage ---------------------------------------------------------------------------
k audit cases.git 2>err; rc=$?
check "without --publisher or --federation: usage, exit 2" test $rc = 2
k audit "$REPO/../../.." --publisher "$F" 2>err; rc=$?
check "a directory that is not a mirror: a clear error" sh -c "test $rc != 0 && grep -q 'kairan: audit' err"
git init -q --bare plain.git
k audit plain.git --collection cases --publisher "$F" 2>err; rc=$?
check "a repository without refs/kairan/manifest says how to make the mirror" sh -c "test $rc = 1 && grep -q 'no refs/kairan/manifest: make the mirror with .git clone --mirror' err"

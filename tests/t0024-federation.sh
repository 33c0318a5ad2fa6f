#!/bin/sh
# t0024 - the board's ceremony (DESIGN §6), as files passed between board
# members' nodes: create, sign, apply, propose; each bad document is refused
# with the reason and leaves the chain byte for byte as it was.
. "$(dirname "$0")/lib.sh"
plan 39
cd "$T"

k --home kagawa init --name 香川県 --lg-code 370002 >/dev/null
k --home takamatsu init --name 高松市 --lg-code 372013 >/dev/null
k --home kanonji init --name 観音寺市 --lg-code 372056 >/dev/null
k --home marugame init --name 丸亀市 --lg-code 372021 >/dev/null
k --home sakaide init --name 坂出市 --lg-code 372030 >/dev/null
for n in kagawa takamatsu kanonji marugame sakaide; do k --home $n id --json >$n.json; done
chain() { find "$1/federation" -type f 2>/dev/null | sort | xargs -r sha256sum; }

check "create: a genesis from three board members' id cards" \
	k --home kagawa federation create --name 香川県生成AI連携 --threshold 2 \
	--board kagawa.json --board takamatsu.json --board kanonji.json -o g.kfm
check_fails "create: a threshold above the board size is refused" \
	k --home kagawa federation create --name X --threshold 4 --board kagawa.json --board takamatsu.json \
	--board kanonji.json -o bad.kfm
grep -q 'threshold 4 is outside 1..3' "$T/last.out" && ok "and says why" || not_ok "and says why"
check_fails "create: threshold 0 is refused" \
	k --home kagawa federation create --name X --threshold 0 --board kagawa.json -o bad.kfm
check_fails "create: one card twice is refused" \
	k --home kagawa federation create --name X --threshold 1 --board kagawa.json --board kagawa.json -o bad.kfm

check_fails "apply: an unsigned genesis is refused" k --home kagawa federation apply g.kfm
grep -q '0 of 2 signatures' "$T/last.out" && ok "and counts 0 of 2" || not_ok "and counts 0 of 2"
test ! -e kagawa/federation/chain/000001.kfm && ok "nothing installed" || not_ok "nothing installed"

k --home kagawa federation sign g.kfm --yes >sign.out 2>&1
check "sign: shows the board in Japanese before signing" grep -q 'しきい値: 3人のうち2人の署名で変更できます' sign.out
check_fails "apply with one signature is refused" k --home kagawa federation apply g.kfm
grep -q '1 of 2 signatures of the board; missing: 高松市、観音寺市' "$T/last.out" &&
	ok "and names who is missing" || { not_ok "and names who is missing"; sed 's/^/# /' "$T/last.out"; }
check_fails "sign: the same node cannot sign twice" k --home kagawa federation sign g.kfm --yes
check_fails "sign: a node that is not on the board is refused" k --home marugame federation sign g.kfm --yes
echo n | k --home takamatsu federation sign g.kfm >/dev/null 2>&1
check_fails "sign: answering no signs nothing" k --home kagawa federation apply g.kfm

# A key counted twice (python-tuf 2020, go-tuf 2022): the one signature repeated.
python3 - g.kfm twice.kfm <<'PY'
import sys
data = open(sys.argv[1], 'rb').read()
def varint(b, i):
    x = s = 0
    while True:
        c = b[i]; i += 1; x |= (c & 0x7f) << s; s += 7
        if c < 0x80: return x, i
i, fields = 0, []
while i < len(data):
    start = i
    key, i = varint(data, i)
    n, i = varint(data, i)
    i += n
    fields.append((key >> 3, data[start:i]))
sigs = [f for k, f in fields if k == 2]
open(sys.argv[2], 'wb').write(data + sigs[-1])
PY
check_fails "a key counted twice toward the threshold is refused" k --home kagawa federation apply twice.kfm
grep -q 'signed twice' "$T/last.out" && ok "and says so" || not_ok "and says so"

echo y | k --home takamatsu federation sign g.kfm >/dev/null
check "apply with 2 of 3 installs the genesis" k --home kagawa federation apply g.kfm
FED=$(k --home kagawa federation show --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["federation"])')
GEN=$(python3 - g.kfm <<'PY'
import sys, hashlib
d = open(sys.argv[1], 'rb').read()
def varint(b, i):
    x = s = 0
    while True:
        c = b[i]; i += 1; x |= (c & 0x7f) << s; s += 7
        if c < 0x80: return x, i
key, i = varint(d, 0); n, i = varint(d, i)
print(hashlib.sha256(d[i:i + n]).hexdigest())
PY
)
check "the federation id is SHA-256 of the genesis body" test "$FED" = "$GEN"
check "apply again: already installed" k --home kagawa federation apply g.kfm
for n in takamatsu kanonji; do k --home $n federation apply g.kfm >/dev/null; done
k --home kagawa federation show >show.out
check "show: threshold in words and every member" sh -c "grep -q '3人のうち2人' show.out && grep -q 観音寺市 show.out"

# Version 2 adds 丸亀市 as a hub.
check "propose: add a member as hub" k --home kagawa federation propose --add-member marugame.json --role hub -o v2.kfm
k --home kanonji federation sign v2.kfm --yes >sign2.out 2>&1
check "sign: the change is shown (追加 丸亀市)" grep -q '追加: 丸亀市 (372021) 役割: ハブ・構成員' sign2.out
k --home takamatsu federation sign v2.kfm --yes >/dev/null
# A competing version 2, also fully signed, made from the same version 1.
k --home kagawa federation propose --add-member sakaide.json -o v2b.kfm >/dev/null
k --home kagawa federation sign v2b.kfm --yes >/dev/null
k --home kanonji federation sign v2b.kfm --yes >/dev/null
check "apply version 2" k --home kagawa federation apply v2.kfm
before=$(chain kagawa)
check_fails "a second, different version 2 is equivocation" k --home kagawa federation apply v2b.kfm
grep -q 'equivocation' "$T/last.out" && ok "and says so" || not_ok "and says so"
k --home sakaide federation create --name 別の連携 --threshold 1 --board sakaide.json -o other.kfm >/dev/null
k --home sakaide federation sign other.kfm --yes >/dev/null
check_fails "another federation's genesis is refused as a rollback" k --home kagawa federation apply other.kfm
grep -q 'rollback' "$T/last.out" && ok "and says so" || not_ok "and says so"
check "the chain is unchanged by the refusals" test "$before" = "$(chain kagawa)"
check_fails "sign: a proposal made against an older version is refused" k --home kagawa federation sign v2b.kfm --yes
grep -q 'already holds version 2' "$T/last.out" && ok "and names the held version" || not_ok "and names the held version"

# Truncated and oversized files.
head -c 100 v2.kfm >trunc.kfm
check_fails "a truncated file is refused" k --home kagawa federation apply trunc.kfm
head -c 1100000 /dev/urandom >big.kfm
check_fails "an oversized file is refused" k --home kagawa federation apply big.kfm
check "and the chain is unchanged" test "$before" = "$(chain kagawa)"

# Version 3 skipped to 4 (a board signs a proposal against 3 that nobody installed).
k --home kagawa federation propose --threshold 1 -o v3.kfm >/dev/null
k --home kagawa federation sign v3.kfm --yes >/dev/null
k --home takamatsu federation apply v2.kfm >/dev/null
k --home takamatsu federation sign v3.kfm --yes >/dev/null
cp -r kagawa kagawa-copy
k --home kagawa-copy federation apply v3.kfm >/dev/null
k --home kagawa-copy federation propose --renew -o v4.kfm >/dev/null
k --home kagawa-copy federation sign v4.kfm --yes >/dev/null
check_fails "a version that skips one is refused" k --home kagawa federation apply v4.kfm
grep -q 'skips version 3' "$T/last.out" && ok "and says which" || not_ok "and says which"

# A crash between writing version 3 and the marker: open converges.
cp kagawa-copy/federation/chain/000003.kfm kagawa/federation/chain/
check "a version file past the marker is verified on open" sh -c \
	"\"\$KAIRAN\" --home kagawa federation show --json | grep -q '\"version\":3'"
# A file past the newest that fails the rule is set aside, never trusted.
cp trunc.kfm kagawa/federation/chain/000004.kfm
check "a bad file past the newest is set aside" sh -c \
	"\"\$KAIRAN\" --home kagawa federation show --json | grep -q '\"version\":3' && ls kagawa/federation/chain | grep -q 000004.kfm.refused"

# An expired newest version: read-only and stale, never unusable.
KAIRAN_NOW=$(( $(date +%s) + 400 * 86400 )) k --home kagawa federation show >stale.out 2>&1
check "an expired newest version is shown as stale" grep -q '期限切れ' stale.out
check "and the node still works" env KAIRAN_NOW=$(( $(date +%s) + 400 * 86400 )) "$KAIRAN" --home kagawa status

#!/bin/sh
# t0072 - the light client path of a publish: a short command parses no CA
# bundle (libgit2's mbedTLS init is refused it: kairan uses no libgit2
# transport); a key file in the form kairan writes is read directly, any
# other form of the same key still through OpenSSL, a key of the wrong kind
# is still refused with the file named; publish and withdraw consolidate
# after telling the running node, and still consolidate: after 70 one-item
# publishes the repository holds at most 256 loose objects and 16 packs,
# and a following town has every item.
. "$(dirname "$0")/lib.sh"
plan 9
cd "$T"
P=$(port_base)

k --home pub init --name 三豊市 --lg-code 372081 >/dev/null
FPR=$(k --home pub id --fingerprint)
REPO=pub/repos/$FPR/cases.git

# 1: no CA bundle read by kairan id or kairan publish
item 372081 first 最初の事例 >first.md
if command -v strace >/dev/null 2>&1; then
	strace -f -e trace=open,openat -o id.trace "$KAIRAN" --home pub id >/dev/null 2>&1
	strace -f -e trace=open,openat -o pub.trace "$KAIRAN" --home pub publish first.md >/dev/null 2>&1
	n=$(cat id.trace pub.trace | grep -c 'ca-certificates\|/etc/ssl/certs' || true)
	diag "files opened: kairan id $(grep -c 'open' id.trace), kairan publish $(grep -c 'open' pub.trace); CA bundle $n times"
	check "kairan id and kairan publish read no CA bundle" test "$n" = 0
else
	k --home pub publish first.md >/dev/null
	ok "# SKIP strace is not installed"
fi
check "the publish went through" k --home pub show 372081/case/first

# 2-3: the same key in another PEM form (CRLF line ends) loads through OpenSSL
cp pub/keys/node.ed25519 key.orig
sed 's/$/\r/' key.orig >pub/keys/node.ed25519
chmod 600 pub/keys/node.ed25519
check "a key file with CRLF line ends gives the same fingerprint" test "$(k --home pub id --fingerprint)" = "$FPR"
# an X25519 key where the Ed25519 key belongs: refused, the file named
cp pub/keys/node.x25519 pub/keys/node.ed25519
chmod 600 pub/keys/node.ed25519
k --home pub id --fingerprint >wrong.out 2>&1 && not_ok "a wrong kind of key is refused" ||
	check "a wrong kind of key is refused, naming the file" grep -q 'node.ed25519.*Ed25519\|Ed25519.*node.ed25519' wrong.out
sed 's/^/# /' wrong.out | head -2
cp key.orig pub/keys/node.ed25519
chmod 600 pub/keys/node.ed25519

# 4-8: consolidation after the announcement, but still done
sed -i 's/^beacon_ms = .*/beacon_ms = 600000/' pub/config
serve pub $P $((P + 1))
k --home town init --name 西海市 --lg-code 422126 >/dev/null
sed -i "s/^web = .*/web = off/" town/config
k --home town follow tcp://127.0.0.1:$P --publisher "$FPR" >/dev/null
serve town $((P + 2)) $((P + 3))
wait_for 20 k --home town show 372081/case/first
t0=$(now_ms)
i=1 fail=0
while [ $i -le 70 ]; do
	item 372081 "u$i" "更新その$i" >u.md
	k --home pub publish u.md >pub.out 2>&1 || fail=$((fail + 1))
	i=$((i + 1))
done
diag "70 publishes in $(( $(now_ms) - t0 )) ms; the last said: $(tr '\n' ' ' <pub.out)"
check "every publish succeeded" test "$fail" = 0
check "each publish told the running node" grep -q 'announced to peers by the running node' pub.out
# the node consolidates on its own thread once the publishes pause (t0097): within seconds
consolidated() { test "$(find "$REPO/objects" -path '*/objects/[0-9a-f][0-9a-f]/*' -type f | wc -l)" -le 256 -a \
	"$(ls "$REPO/objects/pack" | grep -c '\.pack$' || true)" -le 16; }
wait_for 10 consolidated
loose=$(find "$REPO/objects" -path '*/objects/[0-9a-f][0-9a-f]/*' -type f | wc -l)
packs=$(ls "$REPO/objects/pack" | grep -c '\.pack$' || true)
diag "publisher's repository after 71 publishes: $loose loose objects, $packs packs (bounds 256, 16)"
check "the publisher's repository was consolidated" test "$loose" -le 256 -a "$packs" -le 16
wait_for 30 k --home town show 372081/case/u70
check "the town has every item" test "$(sqlite3 town/state.db "SELECT count(*) FROM items WHERE publisher='$FPR'")" = 71
k --home pub withdraw 372081/case/u1 -m "テスト: 取り下げ" >wd.out 2>&1
check "withdraw works and tells the running node" grep -q 'announced to peers by the running node' wd.out

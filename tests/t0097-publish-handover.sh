#!/bin/sh
# t0097 - `kairan publish` hands its checked items to the node running on
# the home (issue 13, publish -> verified replica): the node commits,
# signs and announces them, the command prints what a publish prints, and
# a following town verifies them. Refusals come back as refusals and
# change nothing; what is already published is nothing to publish. The
# manifest's copy for plain git mirrors is written before the command
# ends; the consolidation of many quick publishes follows on the node's
# own thread, and git finds every repository whole. A following town's
# node writes its own copy once it announced. Without a node the
# command publishes itself. Calls that are not a publish (a client that is
# not kairan: no length, a length too large, a cut or malformed payload)
# get an error or a closed socket, and the node goes on answering.
. "$(dirname "$0")/lib.sh"
plan 25
cd "$T"
P=$(port_base)

k --home pub init --name 三豊市 --lg-code 372081 >/dev/null
sed -i "s/^web = .*/web = off/" pub/config
FPR=$(k --home pub id --fingerprint)
REPO=pub/repos/$FPR/cases.git
seq_of() { sqlite3 pub/state.db "SELECT seq FROM manifests WHERE publisher='$FPR'"; }
item 372081 first 最初の事例 >first.md
k --home pub publish first.md >/dev/null
serve pub $P $((P + 1))
k --home town init --name 西海市 --lg-code 422126 >/dev/null
sed -i "s/^web = .*/web = off/" town/config
k --home town follow tcp://127.0.0.1:$P --publisher "$FPR" >/dev/null
serve town $((P + 2)) $((P + 3))
wait_for 20 k --home town show 372081/case/first

# --- 1-6: handed over, announced, verified ---------------------------------------
item 372081 gomi ごみ分別の問合せ対応 >gomi.md
s0=$(seq_of)
trace=
command -v strace >/dev/null 2>&1 && trace="strace -f -e trace=open,openat -o gomi.trace"
$trace "$KAIRAN" --home pub publish gomi.md >gomi.out 2>&1; rc=$?
diag "$(tr '\n' '|' <gomi.out)"
check "a publish with a node running succeeds and says the node announced it" \
	sh -c "test $rc = 0 && grep -q 'published 1 item(s) in 1 collection(s) as 三豊市 (372081); manifest seq $((s0 + 1))' gomi.out && grep -q 'announced to peers by the running node' gomi.out"
check "the node made it (its log says so)" grep -q 'file(s) published here, seq' pub.log
if [ -n "$trace" ]; then
	diag "the command opened $(grep -c '\.so' gomi.trace) shared libraries"
	check "the command handing it over loads no libgit2 and opens no repository (the node's are open)" \
		sh -c "! grep -E 'libgit2|/repos/' gomi.trace"
else
	ok "# SKIP strace is not installed"
fi
check "git reads the item at main, and finds the repository whole" \
	sh -c "git -C '$REPO' show main:cases/gomi.md | grep -q ごみ分別 && git -C '$REPO' fsck --strict --no-dangling"
check "the manifest's copy for mirrors is the saved manifest when the command ends" \
	sh -c "git -C '$REPO' cat-file blob refs/kairan/manifest | cmp - 'pub/manifests/$FPR'"
check "a following town verifies it" wait_for 20 k --home town show 372081/case/gomi
check "and finds it by a two-character word" sh -c "\"\$KAIRAN\" --home town search --json ごみ | grep -q '372081/case/gomi'"

# --- 7-9: refusals and nothing to publish come back, nothing changes --------------
k --home pub publish gomi.md >same.out 2>&1; rc=$?
check "the same item again is nothing to publish (exit 0)" sh -c "test $rc = 0 && grep -q 'nothing to publish' same.out"
item 372081 gomi 内容を変えたのに版がそのまま >gomi2.md
before=$(state_fingerprint pub)
s1=$(seq_of)
k --home pub publish gomi2.md >conflict.out 2>&1; rc=$?
diag "$(tr '\n' '|' <conflict.out)"
check "other content under a published version is refused by the node, the version named" \
	sh -c "test $rc = 1 && grep -q '1.0.0' conflict.out && grep -q 'nothing was published' conflict.out"
if [ "$(state_fingerprint pub)" = "$before" ] && [ "$(seq_of)" = "$s1" ]; then ok "and nothing changed: refs, state and seq"; else not_ok "and nothing changed: refs, state and seq"; fi
# the node runs in C.UTF-8 (lib.sh): a command in Japanese gets its refusal in Japanese
LC_ALL=ja_JP.UTF-8 "$KAIRAN" --home pub publish gomi2.md >conflict.ja 2>&1
diag "$(tr '\n' '|' <conflict.ja)"
check "the refusal comes back in the command's language (ja_JP.UTF-8), the node's own being C" \
	grep -q '372081/case/gomi の版 1.0.0 は別の内容で公開済みです' conflict.ja

# --- 10-12: many quick publishes are consolidated on the node --------------------
i=0
while [ $i -lt 20 ]; do
	item 372081 "many-$i" "連続公開$i" >"many-$i.md"
	k --home pub publish "many-$i.md" >/dev/null || break
	i=$((i + 1))
done
check "20 publishes in a row are all handed over and made" test $i = 20
packs() { ls "$REPO/objects/pack" | grep -c '\.pack$' || true; }
check "the node consolidates them after (at most 16 packs within 10 s)" wait_for 10 sh -c "test \$(ls '$REPO/objects/pack' | grep -c '\\.pack\$') -le 16"
diag "packs now: $(packs)"
if git -C "$REPO" fsck --strict --no-dangling && wait_for 20 k --home town show 372081/case/many-19; then ok "git fsck finds the repository whole, and the town holds the last"; else not_ok "git fsck finds the repository whole, and the town holds the last"; fi
# The town's node writes its copy for plain git mirrors after it announced
# (kr_replica_mirror): within a moment it is the publisher's newest, and a
# mirror of the town's repository is authentic.
TREPO=town/repos/$FPR/cases.git
check "the town's copy under refs/kairan/manifest becomes the publisher's newest manifest" \
	wait_for 10 sh -c "git -C '$TREPO' cat-file blob refs/kairan/manifest | cmp -s - 'pub/manifests/$FPR'"
mkdir townmirror && git clone -q --mirror "file://$T/$TREPO" townmirror/cases.git
k audit townmirror/cases.git --publisher "$FPR" >taudit.out 2>&1; rc=$?
diag "$(tr '\n' '|' <taudit.out)"
check "a git mirror of the town's repository is authentic, at the newest seq" \
	sh -c "test $rc = 0 && grep -q 'manifest seq $(seq_of)' taudit.out"

# --- 13-16: what a client that is not kairan sends -------------------------------
call() { # call PAYLOAD_HEX LINE: prints the node's answer (or "closed")
	/usr/bin/python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])
s.sendall(sys.argv[3].encode() + b"\n" + bytes.fromhex(sys.argv[2]))
s.shutdown(socket.SHUT_WR)
got = b""
try:
    while True:
        d = s.recv(4096)
        if not d: break
        got += d
except Exception as e:
    got += b"(" + str(e).encode() + b")"
print(got.decode(errors="replace").replace("\n", "|") or "closed")' pub/control.sock "$1" "$2"
}
alive() { call "" ping | grep -q '^ok'; }
a=$(call "" "publish 99999999999")
diag "a length past the limit: $a"
if [ "$a" = closed ] && alive; then ok "a call longer than the node takes is closed, and the node answers on"; else not_ok "a call longer than the node takes is closed ($a)"; fi
a=$(call "0000000178" "publish 5")
diag "a malformed payload: $a"
check "a malformed publish is an error saying so" sh -c "echo '$a' | grep -q '^error|.*malformed'"
# 1,001 one-byte files (a collection name no node holds, each)
many=$(/usr/bin/python3 -c 'import struct
out = struct.pack(">I", 1) + b"m" + struct.pack(">I", 1001)
for i in range(1001):
    c = ("c%d" % i).encode(); p = b"cases/x.md"
    out += struct.pack(">I", len(c)) + c + struct.pack(">I", len(p)) + p + struct.pack(">I", 1) + b"x"
print(out.hex())')
a=$(call "$many" "publish $(( ${#many} / 2 ))")
diag "1,001 files: $a"
check "more files than a publish handed over may name is refused as malformed, at once" sh -c "echo '$a' | grep -q '^error|.*malformed'"
a=$(call "00000001" "publish 10")
diag "a payload cut short, then the end of the stream: $a"
check "a payload cut short closes the call without an answer" test "$a" = closed
s2=$(seq_of)
if alive && [ "$s2" = "$((s1 + 20))" ]; then ok "and the node still answers, its seq where it was ($s2)"; else not_ok "the node answers on, seq $s2 (want $((s1 + 20)))"; fi

# --- 17-21: a node that takes the publish and goes away; no node at all ---------------
kill "$PID_pub"
wait_for 10 sh -c "! test -S pub/control.sock"
# not kairan: a socket that reads a call whole and closes without an answer
/usr/bin/python3 -c 'import socket, sys, os
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept(); c.settimeout(5)
line = b""
while not line.endswith(b"\n"): line += c.recv(1)
n = int(line.split()[1]); got = 0
while got < n: got += len(c.recv(n - got))
c.close(); s.close(); os.unlink(sys.argv[1])' pub/control.sock &
wait_for 10 test -S pub/control.sock
head0=$(git -C "$REPO" rev-parse main)
item 372081 lost 応答のない公開 >lost.md
k --home pub publish lost.md >lost.out 2>&1; rc=$?
diag "$(tr '\n' '|' <lost.out)"
check "a node that took the publish and went away: the command says whether it published is not known (exit 1)" \
	sh -c "test $rc = 1 && grep -q 'went away before answering' lost.out && grep -q 'publishing the same files again is safe' lost.out"
check "and does not publish it a second time itself" test "$(git -C "$REPO" rev-parse main)" = "$head0"
wait_for 10 sh -c "! test -S pub/control.sock"
item 372081 alone ノードなしの公開 >alone.md
k --home pub publish alone.md >alone.out 2>&1; rc=$?
check "without a node the command publishes itself" \
	sh -c "test $rc = 0 && grep -q 'published 1 item(s)' alone.out && grep -q 'no node is running' alone.out"
check "and git reads it, the mirror's copy current" \
	sh -c "git -C '$REPO' show main:cases/alone.md | grep -q ノードなし && git -C '$REPO' cat-file blob refs/kairan/manifest | cmp - 'pub/manifests/$FPR'"

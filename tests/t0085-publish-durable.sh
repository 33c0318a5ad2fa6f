#!/bin/sh
# t0085 - `kairan publish` exiting 0 means on disk, and its call to the
# running node is cheap and private. The command hands its items to the
# node (t0097); strace of the node shows fsync/fdatasync of what the
# publish wrote - the new objects (one pack: the pack, its index and
# objects/pack; no loose object), refs/heads/main and its directory, the
# manifest and its directory, state.db's WAL - all before the node answers
# the command, and no syncfs/sync in either (they wait for every writer on
# the file system). Without a node the command syncs the same itself
# before it would poke one. The command starts no thread (no ZeroMQ
# context). The control socket is a unix
# socket: a client of another uid is refused (SO_PEERCRED) and logged even
# when file modes would let it in; the node's own user is still answered,
# an unknown command is said to be one, and a killed node's stale socket
# is replaced at the next start.
. "$(dirname "$0")/lib.sh"
plan 20
cd "$T"
P=$(port_base)
ST="strace -f -y -T -e trace=fsync,fdatasync,syncfs,sync,sync_file_range,connect,clone,clone3,sendto -s 16"

k --home pub init --name 三豊市 --lg-code 372081 >/dev/null
sed -i "s/^web = .*/web = off/" pub/config
FPR=$(k --home pub id --fingerprint)
item 372081 first 最初の事例 >first.md
k --home pub publish first.md >/dev/null
# the node under strace for 1-11 (started as lib.sh's serve starts one)
$ST -o node.trace "$KAIRAN" --home pub serve --listen "tcp://127.0.0.1:$P" --announce "tcp://127.0.0.1:$((P + 1))" \
	>>pub.log 2>&1 &
traced=$!
_pids="$_pids $traced"
wait_for 20 test -S pub/control.sock

# syncs SYSCALL-REGEX PATH-REGEX FILE: line numbers of successful syncs of matching paths
syncs() { grep -n -E "(^|[0-9] +)($1)\([0-9]+<[^>]*($2)>\) += 0" "$3" | cut -d: -f1; }
last() { tail -n 1; }
# the sum of the <seconds> strace -T printed for the sync calls in FILE, in ms
sync_ms() { grep -E '(^|[0-9] +)(fsync|fdatasync|syncfs|sync|sync_file_range)\(|(fsync|fdatasync) resumed' "$1" |
	sed -n 's/.*<\([0-9.]*\)>$/\1/p' | awk '{ s += $1 } END { printf "%.1f", s * 1000 }'; }

# --- 1-9: a one-item publish beside a running node --------------------------
item 372081 second 二番目の事例 >second.md
$ST -o one.trace "$KAIRAN" --home pub publish second.md >one.out 2>&1
check "the publish succeeded and its node announced it" grep -q 'announced to peers by the running node' one.out
poke=$(grep -n 'connect(.*control\.sock' one.trace | head -n 1 | cut -d: -f1)
check "it called its node over control.sock" test -n "$poke"
# the node's answer to that call: "ok", then "1 CHANGED SEQ" (applied)
answer=$(grep -n 'sendto(.*"ok\\n1 ' node.trace | head -n 1 | cut -d: -f1)
obj=$(syncs 'fsync|fdatasync' '/objects/pack/pack-[0-9a-f]{40}\.pack' node.trace | last)
idx=$(syncs 'fsync|fdatasync' '/objects/pack/pack-[0-9a-f]{40}\.idx' node.trace | last)
fan=$(syncs fsync '/objects/pack' node.trace | last)
check "the new objects' pack, its index and objects/pack were synced, no loose object written" \
	test -n "$obj" -a -n "$idx" -a -n "$fan" -a "$(find pub/repos -path '*/objects/[0-9a-f][0-9a-f]/*' -type f | wc -l)" -le 1
ref=$(syncs 'fsync|fdatasync' '/refs/heads/main' node.trace | last)
refdir=$(syncs fsync '/refs/heads' node.trace | last)
check "refs/heads/main and refs/heads were synced" test -n "$ref" -a -n "$refdir"
man=$(syncs 'fsync|fdatasync' "/manifests/$FPR[.0-9a-z]*" node.trace | last)
mandir=$(syncs fsync '/manifests' node.trace | last)
check "the manifest and manifests/ were synced" test -n "$man" -a -n "$mandir"
wal=$(syncs 'fsync|fdatasync' '/state\.db-wal' node.trace | last)
check "state.db's WAL was synced (the publish commit)" test -n "$wal"
before=$(printf '%s\n' "$obj" "$idx" "$fan" "$ref" "$refdir" "$man" "$mandir" "$wal" | sort -n | last)
check "all of it before the node answered the command (line $before < line ${answer:-none})" \
	test -n "$answer" -a "${before:-0}" -lt "${answer:-0}"
check_fails "no syncfs and no sync, in the command or the node" grep -E '(^|[0-9] +)(syncfs|sync)\(' one.trace node.trace
check_fails "the command starts no thread (no ZeroMQ context)" grep -E '(^|[0-9] +)clone3?\(' one.trace
n_before=$(head -n "${answer:-1}" node.trace | grep -c -E '(^|[0-9] +)(fsync|fdatasync)\(' || true)
head -n "${answer:-1}" node.trace >before.trace
diag "one-item publish: $n_before syncs in the node before its answer, $(sync_ms before.trace) ms in them; the command itself $(grep -c -E '(^|[0-9] +)(fsync|fdatasync)\(' one.trace || true) (tmpfs: the figure on a disk is in make bench)"

# --- 10-11: a bulk publish writes one pack, synced --------------------------
mkdir bulk
i=0; while [ $i -lt 70 ]; do item 372081 "bulk-$i" "一括$i" >bulk/b$i.md; i=$((i + 1)); done
$ST -o bulk.trace "$KAIRAN" --home pub publish bulk >bulk.out 2>&1
check "the bulk publish succeeded" grep -q 'published 70 item' bulk.out
# the node's second applied answer is this publish's; what it synced after the first
first=${answer:-0}
banswer=$(grep -n 'sendto(.*"ok\\n1 ' node.trace | sed -n 2p | cut -d: -f1)
tail -n +"$((first + 1))" node.trace | head -n "$(( ${banswer:-0} - first ))" >bulk.node.trace
pk=$(syncs 'fsync|fdatasync' '/objects/pack/pack-[0-9a-f]{40}\.pack' bulk.node.trace | head -n 1)
ix=$(syncs 'fsync|fdatasync' '/objects/pack/pack-[0-9a-f]{40}\.idx' bulk.node.trace | head -n 1)
pd=$(syncs fsync '/objects/pack' bulk.node.trace | head -n 1)
check "its pack, index and objects/pack were synced before the node answered" \
	test -n "$banswer" -a -n "$pk" -a -n "$ix" -a -n "$pd"
diag "70-item publish: $(grep -c -E '(^|[0-9] +)(fsync|fdatasync)\(' bulk.node.trace) syncs in the node, $(sync_ms bulk.node.trace) ms"
# 12-20 with a node not traced
kill $(pgrep -P "$traced")     # the node (strace goes on while what it traces runs)
wait "$traced" 2>/dev/null
wait_for 10 sh -c '! test -S pub/control.sock'
serve pub $P $((P + 1))

# --- 12-16: the control socket admits this node's user only -----------------
mode_t=$(stat -c %a "$T") mode_p=$(stat -c %a pub)
chmod 755 "$T" pub
chmod 666 pub/control.sock   # as if modes let anyone in: the kernel's word on the uid still refuses
ann0=$(grep -c 'new manifest announced' pub.log)
POKE='import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(3)
s.connect(sys.argv[1])
try:
    s.sendall(sys.argv[2].encode() + b"\n")
    print(s.recv(64).decode().strip() or "closed")
except (BrokenPipeError, ConnectionResetError):
    print("closed")
except socket.timeout:
    print("timeout")'
setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -c "$POKE" "$T/pub/control.sock" announce >nobody.out 2>&1
diag "uid 65534 got: $(cat nobody.out)"
check "a client of another uid gets no answer (closed at once)" grep -qx closed nobody.out
check "and is logged, uid and pid named" \
	grep -q 'control socket .*: refused a client running as uid 65534 (pid [0-9]*): only this node.s user (uid 0) may control it' pub.log
check "and made no announcement" test "$(grep -c 'new manifest announced' pub.log)" = "$ann0"
chmod "$mode_t" "$T"
chmod "$mode_p" pub
/usr/bin/python3 -c "$POKE" "$T/pub/control.sock" bogus >bogus.out 2>&1
check "an unknown command from the node's user is answered 'unknown'" grep -qx unknown bogus.out
check "and logged" grep -q "control socket: unknown command 'bogus'" pub.log
item 372081 third 三番目の事例 >third.md
k --home pub publish third.md >third.out 2>&1
check "the node's own user is still answered" grep -q 'announced to peers by the running node' third.out

# --- 17-19: a killed node's socket is stale, replaced at the next start ------
kill -9 "$PID_pub"
wait "$PID_pub" 2>/dev/null
check "a killed node leaves its socket file" test -S pub/control.sock
item 372081 fourth 四番目の事例 >fourth.md
k --home pub publish fourth.md >fourth.out 2>&1
check "a publish then says no node is running" grep -q 'no node is running on this home' fourth.out
serve pub $P $((P + 1))
k --home pub withdraw 372081/case/fourth -m "テスト: 取り下げ" >wd.out 2>&1
check "a new node replaces the stale socket and is poked" grep -q 'announced to peers by the running node' wd.out

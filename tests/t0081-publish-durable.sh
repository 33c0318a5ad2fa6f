#!/bin/sh
# t0081 - a publish is on disk before anyone hears of it, and exit 0 means it
# is: `kairan publish` (and withdraw) end their writes with one syncfs(2) of
# the home's file system (git objects and refs, SQLite's WAL, the signed
# manifest and its rename: none of them is flushed on its own), and that
# comes before the control socket is reached, so no peer can fetch a seq the
# disk may still lose. A publish with the node down works the same way and
# is announced once the node runs again.
. "$(dirname "$0")/lib.sh"
plan 7
cd "$T"
P=$(port_base)

k --home pub init --name 三豊市 --lg-code 372081 >/dev/null
FPR=$(k --home pub id --fingerprint)
sed -i 's/^beacon_ms = .*/beacon_ms = 600000/' pub/config
sed -i "s/^web = .*/web = off/" pub/config
item 372081 first 最初の事例 >first.md
k --home pub publish first.md >/dev/null
serve pub $P $((P + 1))
k --home town init --name 西海市 --lg-code 422126 >/dev/null
sed -i "s/^web = .*/web = off/" town/config
k --home town follow tcp://127.0.0.1:$P --publisher "$FPR" >/dev/null
serve town $((P + 2)) $((P + 3))
wait_for 20 k --home town show 372081/case/first

# 1-3: one syncfs, after the last write and before the control socket
item 372081 second 二番目の事例 >second.md
if command -v strace >/dev/null 2>&1; then
	strace -f -o pub.trace -e trace=syncfs,fsync,fdatasync,connect,rename,pwrite64 \
		"$KAIRAN" --home pub publish second.md >pub.out 2>&1
	rc=$?
	syncs=$(grep -c ' syncfs(' pub.trace || true)
	fsyncs=$(grep -c ' fsync(\| fdatasync(' pub.trace || true)
	# line numbers: the syncfs, the last rename or write to a file under the home, the connect to control.sock
	at_sync=$(grep -n ' syncfs(' pub.trace | head -1 | cut -d: -f1)
	at_poke=$(grep -n 'connect(.*control.sock' pub.trace | head -1 | cut -d: -f1)
	# (maintenance may rename packs after the announcement: only writes before it count)
	at_last=$(grep -n ' rename(\| pwrite64(' pub.trace | cut -d: -f1 | awk -v p="${at_poke:-999999}" '$1 < p' | tail -1)
	diag "publish: exit $rc, syncfs $syncs, fsync/fdatasync $fsyncs; trace lines: last write ${at_last:-none}, syncfs ${at_sync:-none}, control socket ${at_poke:-none}"
	check "publish exits 0 and syncs the file system once" test "$rc" = 0 -a "$syncs" = 1
	check "the syncfs comes after the last write (refs, manifest, WAL)" test -n "$at_sync" -a -n "$at_last" -a "${at_sync:-0}" -gt "${at_last:-0}"
	check "and before the running node is told" test -n "$at_poke" -a "${at_sync:-0}" -lt "${at_poke:-0}"
else
	k --home pub publish second.md >pub.out
	ok "# SKIP strace is not installed"
	ok "# SKIP strace is not installed"
	ok "# SKIP strace is not installed"
fi
check "the town verified it (announced at once)" wait_for 10 k --home town show 372081/case/second

# 5: withdraw syncs too
if command -v strace >/dev/null 2>&1; then
	strace -f -o wd.trace -e trace=syncfs "$KAIRAN" --home pub withdraw 372081/case/second -m "誤りのため取り下げ" >wd.out 2>&1
	check "withdraw syncs the file system once" test "$(grep -c ' syncfs(' wd.trace)" = 1
else
	k --home pub withdraw 372081/case/second -m "誤りのため取り下げ" >wd.out
	ok "# SKIP strace is not installed"
fi

# 6-7: the node down: the publish still works, and reaches the town once the node runs again
kill -TERM $PID_pub
wait $PID_pub
item 372081 offline 停止中の公開 >offline.md
k --home pub publish offline.md >off.out
check "with the node down, publish works and says so" grep -q 'no node is running' off.out
# (the announcement a node makes as it starts goes out before subscribers are back: its
# beacons, once it runs, are what bring it; a beacon a second here)
sed -i 's/^beacon_ms = .*/beacon_ms = 1000/' pub/config
serve pub $P $((P + 1))
check "started again, the node brings it to the town" wait_for 20 k --home town show 372081/case/offline

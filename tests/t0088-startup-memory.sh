#!/bin/sh
# t0088 - start-up and idle memory (issue 13): `kairan id` opens only its
# config and keys and loads no library it does not use (libzmq, libcmark,
# libmicrohttpd come by dlopen when a socket, an item page, the pages are
# first needed); the Z85 key it prints is libzmq's; an idle serving town's
# memory is bounded and printed by kind; libcmark is mapped only once an
# item page is rendered, and still renders; a town whose web port is taken
# maps no libmicrohttpd and names the holder. libgit2, SQLite, libcrypto and
# libsodium come by dlopen too: a command that cannot load one says which,
# and its Debian package, and changes nothing.
. "$(dirname "$0")/lib.sh"
plan 10
cd "$T"
P=$(port_base)
# Generous for any machine: PSS falls as more processes share the
# libraries; private memory (heap, stacks, relocated library data) does
# not. This code: ~3 MB private, PSS ~9-11 MB beside only its publisher.
PRIVATE_BOUND=${IDLE_PRIVATE_KB_BOUND:-6144}
PSS_BOUND=${IDLE_PSS_KB_BOUND:-16384}

# breakdown PID: resident / private kB by kind of mapping
breakdown() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { p = $6; k = "other"
		if (p == "") k = "anon"; else if (p == "[heap]") k = "heap"; else if (p ~ /^\[stack/) k = "stacks"
		else if (p ~ /state\.db/) k = "state.db"; else if (p ~ /\.so/) k = "libs"; else if (p ~ /kairan$/) k = "binary"
		next }
	/^Size:/ && k == "anon" && ($2 == 8192 || $2 == 8196 || $2 == 8188) { k = "stacks" }
	/^Rss:/ { r[k] += $2 } /^Pss:/ { s[k] += $2 } /^Private_(Clean|Dirty):/ { u[k] += $2 }
	END { n = split("heap anon stacks libs binary state.db other", o, " ")
		for (i = 1; i <= n; i++) if (r[o[i]]) printf "%s %d/%d/%d  ", o[i], r[o[i]], s[o[i]], u[o[i]] }' "/proc/$1/smaps"
}
private_kb() { awk '/^Private_(Clean|Dirty):/ { s += $2 } END { print s + 0 }' "/proc/$1/smaps_rollup"; }
pss_kb() { awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup"; }
maps_lib() { grep -q "$2" "/proc/$1/maps"; }

k --home pub init --name 三豊市 --lg-code 372081 >/dev/null
FPR=$(k --home pub id --fingerprint)
{ item 372081 first 最初の事例; printf '\n**太字の注意**と[出典](https://example.jp/)\n'; } >first.md
k --home pub publish first.md >/dev/null

# 1-2: kairan id: nothing but config and keys; no library it does not use
if command -v strace >/dev/null 2>&1; then
	strace -f -e trace=open,openat -o id.trace "$KAIRAN" --home pub id >id.out 2>&1
	libs=$(grep -c '\.so' id.trace || true)
	diag "kairan id opened $(grep -c 'open' id.trace) files, $libs of them shared libraries"
	check "kairan id loads neither libzmq, libgit2, libcrypto, libcmark nor libmicrohttpd (nor libstdc++)" \
		sh -c "! grep -E 'libzmq|libgit2|libcrypto|libcmark|libmicrohttpd|libstdc\+\+' id.trace"
	check "kairan id opens neither state.db nor a repository" sh -c "! grep -E 'state\.db|/repos/' id.trace"
else
	ok "# SKIP strace is not installed"
	ok "# SKIP strace is not installed"
fi

# 3: the endpoint's key (kairan's own Z85) is what libzmq makes of the transport key
k --home pub id --json >id.json
check "the Z85 key kairan id prints is libzmq's Z85 of the transport key" /usr/bin/python3 -c "
import json, zmq.utils.z85 as z
d = json.load(open('id.json'))
assert d['endpoint'].split('#', 1)[1] == z.encode(bytes.fromhex(d['transport_key'])).decode(), d"

# 4-6: an idle serving town, its pages on
serve pub $P $((P + 1))
k --home town init --name 西海市 --lg-code 422126 >/dev/null
WEB=http://127.0.0.1:$((P + 4))
sed -i "s|^web = .*|web = $WEB|" town/config
k --home town follow tcp://127.0.0.1:$P --publisher "$FPR" >/dev/null
serve town $((P + 2)) $((P + 3))
TOWN=$PID_town
check "the town replicates the item" wait_for 15 k --home town show 372081/case/first
wait_for 5 grep -q "web pages on $WEB/" town.log
sleep 3
priv=$(private_kb $TOWN) pss=$(pss_kb $TOWN) rss=$(rss_kb $TOWN)
diag "idle serving town (pages on): RSS $rss kB, PSS $pss kB, private $priv kB, $(ls /proc/$TOWN/task | wc -l) threads, $(open_fds $TOWN) fds [load $(cut -d' ' -f1 /proc/loadavg)]"
diag "  by mapping (RSS/PSS/private kB): $(breakdown $TOWN)"
check "its private memory is bounded ($priv kB <= $PRIVATE_BOUND kB) and PSS too ($pss kB <= $PSS_BOUND kB)" \
	test "$priv" -le "$PRIVATE_BOUND" -a "$pss" -le "$PSS_BOUND"
check "libcmark is not mapped before an item page is asked for" sh -c "! grep -q libcmark /proc/$TOWN/maps"
curl -s "$WEB/items/372081/case/first" >page.html
check "an item page maps it and renders the Markdown" sh -c \
	"grep -q libcmark /proc/$TOWN/maps && grep -q '<strong>太字の注意</strong>' page.html"

# 7: a second town whose web port is taken: no libmicrohttpd for nothing, the holder named
k --home busy init --name 横須賀市 --lg-code 142018 >/dev/null
sed -i "s|^web = .*|web = $WEB|" busy/config
serve busy $((P + 5)) $((P + 6))
wait_for 5 grep -q "cannot listen on $WEB" busy.log
grep 'cannot listen' busy.log | sed 's/^/# /'
check "a town whose web port is taken maps no libmicrohttpd and names who holds the port" sh -c \
	"hello_ok() { \"$TOOLS/probe\" hello \"\$1\" --count 5 --within 100; }; hello_ok tcp://127.0.0.1:$((P + 5)) &&
	 ! grep -q libmicrohttpd /proc/$PID_busy/maps && grep -q 'in use by process $TOWN' busy.log"

# 9-10: a library kairan loads on first use that cannot be loaded (a broken copy found first)
mkdir badgit badsql
: >badgit/libgit2.so.1.5
: >badsql/libsqlite3.so.0
k --home lone init --name 横須賀市 --lg-code 142018 >/dev/null
item 142018 nogit 読めない公開 >nogit.md
LD_LIBRARY_PATH=$T/badgit "$KAIRAN" --home lone publish nogit.md >nogit.out 2>&1; rc=$?
diag "$(tr '\n' '|' <nogit.out)"
check "without a loadable libgit2 a publish says so, names the package, exits non-zero and commits nothing" \
	sh -c "test $rc != 0 && grep -q 'cannot load libgit2: .*libgit2.so.1.5.*(Debian package libgit2-1.5)' nogit.out &&
	 test -z \"\$(find lone/repos -path '*refs/heads/main')\" && test \"\$(sqlite3 lone/state.db 'SELECT count(*) FROM manifests')\" = 0"
LD_LIBRARY_PATH=$T/badsql "$KAIRAN" --home pub search ごみ >nosql.out 2>&1; rc=$?
diag "$(tr '\n' '|' <nosql.out)"
check "without a loadable SQLite a search says so and names the package (exit 1)" \
	sh -c "test $rc = 1 && grep -q 'cannot load libsqlite3.so.0: .*(Debian package libsqlite3-0)' nosql.out"

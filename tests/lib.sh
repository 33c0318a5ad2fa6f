# tests/lib.sh - helpers for integration tests: TAP output, real nodes on
# 127.0.0.1, cleanup. Source it, then call plan N.
#   KAIRAN  path of the kairan binary (make sets it)
#   TOOLS   directory of test tools (hostile, ...)
set -u
# Messages in English whatever the caller's locale (tests grep them), with
# UTF-8 text handling for the tools (grep's [前後] is one character, not a
# byte); a test that wants Japanese sets LC_ALL=ja_JP.UTF-8 for that command
# (t0075, t0076).
LC_ALL=C.UTF-8
export LC_ALL
: "${KAIRAN:?run through make check}"
: "${TOOLS:?run through make check}"
T=$(mktemp -d /tmp/kairan-test.XXXXXX)
SRC=$(cd "$(dirname "$0")/.." && pwd)
export KAIRAN TOOLS
k() { "$KAIRAN" "$@"; }
_n=0
_fail=0
_pids=""

plan() { echo "1..$1"; }
ok() { _n=$((_n + 1)); echo "ok $_n - $*"; }
not_ok() { _n=$((_n + 1)); _fail=$((_fail + 1)); echo "not ok $_n - $*"; }
# check DESCRIPTION COMMAND...: ok when the command succeeds
check() { d=$1; shift; if "$@" >"$T/last.out" 2>&1; then ok "$d"; else not_ok "$d"; sed 's/^/# /' "$T/last.out"; fi; }
# check_fails DESCRIPTION COMMAND...: ok when the command fails
check_fails() { d=$1; shift; if "$@" >"$T/last.out" 2>&1; then not_ok "$d"; sed 's/^/# /' "$T/last.out"; else ok "$d"; fi; }
diag() { echo "# $*"; }


# A free base port per test file so tests never collide.
port_base() { echo $((20000 + ($(echo "$0" | sed 's/.*t0*\([0-9]*\)-.*/\1/') % 200) * 50)); }

# serve HOME LISTEN_PORT ANNOUNCE_PORT: start a node in the background.
serve() {
	"$KAIRAN" --home "$1" serve --listen "tcp://127.0.0.1:$2" --announce "tcp://127.0.0.1:$3" \
		>>"$1.log" 2>&1 &
	_pids="$_pids $!"
	eval "PID_$(basename "$1" | tr -c 'a-zA-Z0-9\n' _)=$!"
	wait_for 5 test -S "$1/control.sock"
}

# wait_for SECONDS COMMAND...: polls until the command succeeds.
wait_for() {
	_deadline=$(( $(date +%s%N) / 1000000 + $1 * 1000 )); shift
	while ! "$@" >/dev/null 2>&1; do
		[ $(( $(date +%s%N) / 1000000 )) -ge $_deadline ] && return 1
		sleep 0.02
	done
	return 0
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# state_fingerprint HOME: refs and replicated state, to prove nothing changed.
state_fingerprint() {
	for r in $(find "$1/repos" -name '*.git' -type d | sort); do
		refs=$(git -C "$r" for-each-ref --format='%(refname) %(objectname)')
		[ -n "$refs" ] && echo "$r $refs"
	done
	sqlite3 "$1/state.db" "SELECT publisher, seq, issued, expires, hex(signed) FROM manifests ORDER BY 1;
		SELECT * FROM heads ORDER BY 1, 2; SELECT *, hex(body) FROM items ORDER BY 1, 2, 3;"
}

item() { # item LGCODE SLUG TITLE [extra front matter lines]
	cat <<ITEM
---
kind: case
id: $1/case/$2
title: $3
publisher: {lg_code: "$1", name: テスト団体}
version: 1.0.0
published: 2024-06-01
updated: 2024-06-01
license: PDL-1.0
confidentiality: 機密性1
domains: [住民問合せ対応]
ai_uses: [対話生成]
sources: [{title: テスト資料, issuer: テスト団体}]
${4:-}
---
本文：$3。住民向けの案内で生成AIを試した。
ITEM
}
# Resources of a running process, for tests that bound them.
# memory_report HOME: pokes HOME's serving node with "memory" and leaves its
# report line (node/serve.c s_log_memory, logged to HOME.log) in HOME.mem
memory_report() {
	/usr/bin/python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(2); s.connect(sys.argv[1]); s.sendall(b"memory\n")
assert s.recv(64) == b"ok\n"' "$1/control.sock" || return 1
	grep 'memory: malloc' "$1.log" | tail -n 1 >"$1.mem"
}
# memory_field HOME NAME: a figure (kB) from HOME.mem: "malloc" (in use), "free"
# (kept free in malloc's arenas), "page caches", "libgit2 object caches", "packs cached"
memory_field() {
	case "$2" in
	free) sed -n 's/.*, \([0-9]*\) kB free in its arenas.*/\1/p' "$1.mem" ;;
	*) sed -n "s/.*$2 \([0-9]*\) kB.*/\1/p" "$1.mem" ;;
	esac
}
# rss_split PID: resident kB as "malloc M, packs P, other O": malloc's
# (the heap and anonymous mappings, thread stacks included), libgit2's pack
# windows (.pack and .idx files mapped), and the rest (libraries, state.db)
rss_split() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { p = $6; k = "o"; if (p == "" || p == "[heap]") k = "m"; else if (p ~ /\.(pack|idx)( \(deleted\))?$/) k = "p"; next }
	/^Rss:/ { r[k] += $2 } END { printf "malloc %d, packs %d, other %d", r["m"], r["p"], r["o"] }' "/proc/$1/smaps"
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
open_fds() { ls "/proc/$1/fd" | wc -l; }
# deleted_files PID: descriptors and mappings still holding deleted files
deleted_files() {
	{ ls -l "/proc/$1/fd" 2>/dev/null | grep -c '(deleted)'; grep -c '(deleted)' "/proc/$1/maps"; } |
		awk '{ s += $1 } END { print s + 0 }'
}
# ksql DB SQL: sqlite3's answer (rows as col|col), with kr_text(body) as
# kairan defines it: a stored item body as text (sharing/state.c keeps
# long bodies deflated: 4 bytes of length, little-endian, then zlib, with
# the preset dictionary of body_dicts the stream names, if it names one)
ksql() {
	/usr/bin/python3 -c 'import sqlite3, sys, zlib
db = sqlite3.connect(sys.argv[1])
dicts = dict(db.execute("SELECT id, dict FROM body_dicts")) if db.execute(
    "SELECT 1 FROM sqlite_master WHERE name = \"body_dicts\"").fetchone() else {}
def text(v):
    if not isinstance(v, bytes):
        return v
    z = v[4:]
    d = zlib.decompressobj(zdict=dicts[int.from_bytes(z[2:6], "big")]) if z[1] & 0x20 else zlib.decompressobj()
    return (d.decompress(z) + d.flush()).decode()
db.create_function("kr_text", 1, text)
for r in db.execute(sys.argv[2]):
    print("|".join("" if v is None else str(v) for v in r))' "$1" "$2"
}
du_kb() { du -sk "$1" | cut -f1; }
# hello_ok EP: a well-behaved second client is answered within 100 ms
hello_ok() { "$TOOLS/probe" hello "$1" --count 5 --within 100; }

# ours PID: still a child of this test's shell (not reaped): a pid a test already waited for may be
# another process's by now (pids wrap at 32768), another test's node on a shared machine among them
ours() { [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f2)" = "$$" ]; }

cleanup() {
	for p in $_pids; do ours "$p" && kill "$p" 2>/dev/null; done
	for p in $_pids; do wait "$p" 2>/dev/null; done
	if [ "$_fail" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$T"; else echo "# kept $T"; fi
}
trap cleanup EXIT

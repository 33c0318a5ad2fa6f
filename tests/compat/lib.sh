# tests/compat/lib.sh - helpers for the compatibility tests (make compat):
# this build's kairan (KAIRAN) beside an older revision's (KAIRAN_OLD,
# built by make compat from COMPAT_OLD), real nodes on 127.0.0.1.
# Sourced after tests/lib.sh, which gives k, serve, item, check, wait_for...
: "${KAIRAN_OLD:?run through make compat}"
export KAIRAN_OLD
SRC=$(cd "$(dirname "$0")/../.." && pwd)
ko() { "$KAIRAN_OLD" "$@"; }

# The ports of one script: COMPAT_PORT (30500) + 100 * its number (c1 -> 30600),
# apart from the integration tests' 20000-29999 and the benchmarks' 31000 on.
compat_port() { echo $((${COMPAT_PORT:-30500} + 100 * $(basename "$0" | sed 's/^c\([0-9]*\)-.*/\1/'))); }

# kb BIN ARGS...: kairan by that binary
kb() { _b=$1; shift; "$_b" "$@"; }

# home_init BIN HOME NAME LG_CODE: a home, its web pages off (every home
# would want 127.0.0.1:7480), beacons every 300 ms
home_init() {
	"$1" --home "$2" init --name "$3" --lg-code "$4" >/dev/null &&
		sed -i 's/^web = .*/web = off/; s/^beacon_ms = .*/beacon_ms = 300/' "$2/config"
}

# serve_by BIN HOME LISTEN_PORT ANNOUNCE_PORT: tests/lib.sh's serve, by BIN
serve_by() {
	_was=$KAIRAN; KAIRAN=$1; shift
	serve "$@"; _rc=$?
	KAIRAN=$_was
	return $_rc
}

# pid_of HOME: the pid of HOME's node, as serve recorded it (PID_<home>)
pid_of() { eval echo "\${PID_$(basename "$1" | tr -c 'a-zA-Z0-9\n' _):-}"; }
# stop HOME: SIGTERM to HOME's node; 0 when it exited 0 and removed its socket. Its
# pid leaves lib.sh's list, so that cleanup does not signal it again once another
# process (on this machine, anyone's) may have been given the same number.
stop() {
	_pid=$(pid_of "$1")
	[ -n "$_pid" ] || return 1
	kill -TERM "$_pid" 2>/dev/null
	wait "$_pid"; _rc=$?
	_pids=$(echo " $_pids " | sed "s/ $_pid / /")
	test "$_rc" = 0 && test ! -e "$1/control.sock"
}
# alive HOME: HOME's node is still running
alive() { _pid=$(pid_of "$1"); [ -n "$_pid" ] && kill -0 "$_pid" 2>/dev/null; }

seq_of() { sqlite3 "$1/state.db" "SELECT seq FROM manifests WHERE publisher = '$2'"; }
seq_is() { test "$(seq_of "$1" "$2")" = "$3"; }
# applied_line HOME SEQ: the node log's line for that seq applied
applied_line() { grep "seq $2 verified and applied" "$1.log" | tail -n 1; }
# subscribed HOME PORT: HOME's node subscribed to announcements on PORT
subscribed() { grep -q "subscribed to tcp://127.0.0.1:$2" "$1.log"; }

# layers REPO: lines in its kairan-layers file (0 without one); packs REPO
layers() { if test -f "$1/kairan-layers"; then wc -l <"$1/kairan-layers"; else echo 0; fi; }
packs() { ls "$1/objects/pack" | grep -c '\.pack$'; }

# fsck_homes HOME...: the real git CLI, git fsck --strict, on every repository under the homes
fsck_homes() {
	_nrepo=0
	for _r in $(for _h in "$@"; do find "$_h/repos" -name '*.git' -type d; done | sort); do
		git -C "$_r" fsck --strict --no-dangling || { echo "git fsck --strict failed in $_r"; return 1; }
		_nrepo=$((_nrepo + 1))
	done
	echo "$_nrepo repositories"
	test "$_nrepo" -gt 0
}

# has_item BIN HOME ID: show prints it; found BIN HOME WORD ID: search finds it
has_item() { "$1" --home "$2" show "$3" >/dev/null; }
found() { "$1" --home "$2" search --json "$3" | grep -q "\"$4\""; }

# quiet HOME...: no warning in the homes' node logs (HOME.log), nothing in their quarantine
quiet() {
	for _h in "$@"; do
		! { test -f "$_h.log" && grep 'kairan\[warn\]' "$_h.log"; } || return 1
		_q=$(sqlite3 "$_h/state.db" 'SELECT count(*) FROM quarantine')
		[ "$_q" = 0 ] || { echo "$_h: $_q quarantined"; sqlite3 "$_h/state.db" 'SELECT * FROM quarantine'; return 1; }
	done
}

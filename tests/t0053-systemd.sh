#!/bin/sh
# t0053 - the systemd service: deploy/systemd/kairan.service is hardened
# to an exposure of at most 2.0 (`systemd-analyze security --offline=yes`,
# score printed), and the node runs the way the unit runs it: as an
# unprivileged user, everything read-only but its state directory, its own
# /tmp, /proc and /dev, no capabilities, no new privileges (bwrap +
# setpriv); there it passes the ExecStartPre check, tells systemd READY=1
# and WATCHDOG=1 over NOTIFY_SOCKET, serves a second client, publishes,
# cannot write anywhere else, logs with <N> journald priorities when stderr
# is the journal stream, and says STOPPING=1 on SIGTERM.
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" != 0 ] || ! command -v bwrap >/dev/null || ! command -v systemd-analyze >/dev/null; then
	echo "1..0 # SKIP needs root, bwrap and systemd-analyze (make deps installs them)"
	exit 0
fi
plan 15
cd "$T"
P=$(port_base)
UNIT=$SRC/deploy/systemd/kairan.service

score=$(systemd-analyze security --offline=yes "$UNIT" 2>/dev/null |
	sed -n 's/.*Overall exposure level for kairan.service: \([0-9.]*\).*/\1/p')
diag "systemd-analyze security --offline=yes: exposure $score (bound 2.0; Debian 12: systemd-resolved 2.2, chrony 3.7)"
check "the unit's exposure is at most 2.0" awk "BEGIN { exit !(\"$score\" != \"\" && $score <= 2.0) }"
check "Type=notify with a watchdog, a config check before start, a state directory, a system user, a condition on the home" \
	sh -c "grep -q '^Type=notify' '$UNIT' && grep -q '^WatchdogSec=' '$UNIT' && grep -q '^ExecStartPre=.*config check' '$UNIT' &&
		grep -q '^StateDirectory=kairan' '$UNIT' && grep -q '^User=_kairan' '$UNIT' && grep -q '^ConditionPathExists=/var/lib/kairan/config' '$UNIT'"

# the sandbox: / read-only, the home the only writable place, as nobody
STATE=$T/state
mkdir -p "$STATE" run
chown 65534:65534 "$STATE"
chmod 0750 "$STATE"
chmod 0755 run
sandbox() {
	bwrap --ro-bind / / --tmpfs /tmp --tmpfs /run --tmpfs /home --tmpfs /root --tmpfs /var/tmp --tmpfs /var/lib \
		--bind "$STATE" /var/lib/kairan --bind "$T/run" /run/notify --ro-bind "$KAIRAN" /run/kairan \
		--proc /proc --dev /dev --unshare-pid --unshare-ipc --unshare-uts --die-with-parent --new-session \
		setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs --inh-caps=-all --bounding-set=-all \
		env -i PATH=/usr/bin:/bin KAIRAN_HOME=/var/lib/kairan "$@"
}
check "init as the unprivileged user in the sandbox" sandbox /run/kairan init --name 三豊市 --lg-code 372081
sed -i "s|^listen = .*|listen = tcp://127.0.0.1:$P|; s|^announce = .*|announce = tcp://127.0.0.1:$((P + 1))|; s|^web = .*|web = http://127.0.0.1:$((P + 2))|" "$STATE/config"
check "the ExecStartPre check passes there" sandbox /run/kairan config check --ports
check "the home is writable there" sandbox sh -c "touch /var/lib/kairan/probe && rm /var/lib/kairan/probe"
check "and nothing outside it is" sandbox sh -c "! touch '$SRC/sandbox-escape' 2>/dev/null && ! touch /usr/sandbox-escape 2>/dev/null"
test -e "$SRC/sandbox-escape" && rm -f "$SRC/sandbox-escape"

python3 - "$T/run/sock" "$T/notify.log" 60 <<'PY' &
import os, socket, sys, time
path, log, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o777)
s.settimeout(0.5)
end = time.time() + secs
with open(log, "a", buffering=1) as out:
	while time.time() < end:
		try:
			d = s.recv(4096)
		except socket.timeout:
			continue
		out.write(d.decode("utf-8", "replace").replace("\n", " ") + "\n")
PY
_pids="$_pids $!"
wait_for 10 test -S "$T/run/sock"
: >serve.err
JS=$(stat -c '%d:%i' serve.err)
bwrap --ro-bind / / --tmpfs /tmp --tmpfs /run --tmpfs /home --tmpfs /root --tmpfs /var/tmp --tmpfs /var/lib \
	--bind "$STATE" /var/lib/kairan --bind "$T/run" /run/notify --ro-bind "$KAIRAN" /run/kairan \
	--proc /proc --dev /dev --unshare-pid --unshare-ipc --unshare-uts --die-with-parent --new-session \
	setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs --inh-caps=-all --bounding-set=-all \
	env -i PATH=/usr/bin:/bin KAIRAN_HOME=/var/lib/kairan NOTIFY_SOCKET=/run/notify/sock WATCHDOG_USEC=1000000 \
	JOURNAL_STREAM="$JS" /run/kairan serve 2>>serve.err &
SB=$!
_pids="$_pids $SB"
wait_for 30 grep -q READY=1 notify.log
check "serve tells systemd READY=1 once it listens" grep -q "READY=1 STATUS=listening on tcp://127.0.0.1:$P" notify.log
check "and answers a second client within 100 ms" hello_ok "tcp://127.0.0.1:$P"
sleep 3
n=$(grep -c WATCHDOG=1 notify.log)
diag "WATCHDOG=1 $n times in about 3 s (WatchdogSec 1 s: at least every 0.5 s asked)"
check "the serve loop pings the watchdog" test "$n" -ge 3
item 372081 sandboxed サンドボックスでの公開 >"$T/run/item.md"
chmod 644 "$T/run/item.md"
check "a publish by the same user in the same sandbox" sandbox /run/kairan publish /run/notify/item.md
check "its files belong to the unprivileged user" test "$(find "$STATE" ! -user 65534 | wc -l)" = 0
check "under the journal every line carries its priority (<6> info)" \
	sh -c "grep -q '^<6>node 三豊市 (372081' serve.err && ! grep -qv '^<[3-7]>' serve.err"
# SIGTERM to kairan itself (as systemd sends it), not to bwrap around it
KP=$(ps -e -o pid=,ppid=,comm= | awk -v root="$SB" '{ parent[$1] = $2; comm[$1] = $3 }
	END { for (p in comm) if (comm[p] == "kairan") { q = p; while (q in parent && q != root) q = parent[q]; if (q == root) print p } }')
kill "$KP"
wait "$SB"; rc=$?
wait_for 5 grep -q STOPPING=1 notify.log
check "SIGTERM: STOPPING=1 and a clean exit" sh -c "test $rc = 0 && grep -q STOPPING=1 notify.log"
sed 's/^/# /' serve.err | head -5
: >fail.err
JOURNAL_STREAM=$(stat -c '%d:%i' fail.err) "$KAIRAN" --home "$T/no-such-home" status 2>>fail.err
check "a command's error under the journal is <3> (err)" grep -q '^<3>kairan: status: .*is not a kairan home' fail.err
JOURNAL_STREAM=$JS timeout -s TERM 3 "$KAIRAN" --home "$STATE" serve --web off 2>plain.err
check "outside the journal (stderr is not the stream JOURNAL_STREAM names) lines keep their time stamps" \
	sh -c "grep -q '^[0-9][0-9]:[0-9][0-9]:[0-9][0-9] kairan\[info\]: node 三豊市' plain.err && ! grep -q '^<' plain.err"

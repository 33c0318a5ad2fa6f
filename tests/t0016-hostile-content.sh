#!/bin/sh
# t0016 - signed content that used to crash or exhaust the receiver, served
# by a peer that holds the publisher's key (tests/tools/hostile --mode craft):
# a bare-CR item, trees nested 100,000 deep (at the head, and hidden in an
# earlier commit), a tree of a million paths in 11 KB, 60 KB of "{{", and
# front matter that kept libyaml busy for tens of seconds. Each goes to a
# town that syncs once, to a running town and to a relaying hub (with a town
# behind it). Each must be refused with a clear quarantine reason, cheaply,
# while the nodes keep answering, with nothing they hold changed, and the
# nodes must come back after a restart (no crash loop).
. "$(dirname "$0")/lib.sh"
plan 78
cd "$T"
P=$(port_base)
EP=tcp://127.0.0.1:$P

k --home pub init --name 三豊市 --lg-code 372081 >/dev/null
FPR=$(k --home pub id --fingerprint)
k --home pub publish "$SRC/deploy/samples/372081" >/dev/null

HPID=
hostile() { # hostile ARGS...: (re)start the peer that knows the key, once it serves
	[ -n "$HPID" ] && kill "$HPID" 2>/dev/null && wait "$HPID" 2>/dev/null
	: >hostile.log
	"$TOOLS/hostile" --home pub --listen "$EP" --announce "tcp://127.0.0.1:$((P + 1))" "$@" 2>hostile.log &
	HPID=$!
	_pids="$_pids $HPID"
	wait_for 30 grep -q 'serving mode' hostile.log
}
hostile --mode honest

# sub syncs once; live serves and follows the peer; hub relays it to far.
for h in sub live hub far; do k --home $h init --name 西海市 --lg-code 422126 >/dev/null; done
for h in sub live hub; do k --home $h follow "$EP" --publisher "$FPR" >/dev/null; done
k --home far follow tcp://127.0.0.1:$((P + 4)) --publisher "$FPR" >/dev/null
serve live $((P + 2)) $((P + 3))
serve hub $((P + 4)) $((P + 5))
serve far $((P + 6)) $((P + 7))
check "the honest peer first: sub syncs" k --home sub sync --timeout 10
check "live, hub and far (through the hub) hold the publisher's items" wait_for 20 sh -c \
	"\"\$KAIRAN\" --home live show 372081/case/gomi-chatbot-poc && \"\$KAIRAN\" --home hub show 372081/case/gomi-chatbot-poc &&
	 \"\$KAIRAN\" --home far show 372081/case/gomi-chatbot-poc"
for h in sub live hub far; do state_fingerprint $h >$h.before; done

# ---- the crafted files -------------------------------------------------
printf -- '---\r' >cr.md
fm() { # fm KIND SLUG: valid front matter lines of the publisher's own item
	printf -- '---\nkind: %s\nid: 372081/%s/%s\ntitle: 題\npublisher: {lg_code: "372081", name: 三豊市}\n' "$1" "$1" "$2"
	printf 'version: 1.0.0\npublished: 2024-06-01\nupdated: 2024-06-01\nlicense: PDL-1.0\n'
	printf 'confidentiality: 機密性1\ndomains: [広報]\nai_uses: [文書作成]\n'
}
{ fm prompt braces; printf -- '---\n'; awk 'BEGIN { for (i = 0; i < 30000; i++) printf "{{"; print "}}" }'; } >braces.md
{ fm case nested; printf 'x: '; awk 'BEGIN { for (i = 0; i < 200000; i++) printf "["; print "" }'; printf -- '---\n本文\n'; } >nested.md
{ fm case flow; printf 'x: '; awk 'BEGIN { for (i = 0; i < 15000; i++) printf "{a: "; print "" }'; printf -- '---\n本文\n'; } >flow.md
{ fm case anchors; printf 'x: ['; awk 'BEGIN { for (i = 0; i < 6000; i++) printf "&a%d x, ", i; print "]" }'; printf -- '---\n本文\n'; } >anchors.md

qcount() { sqlite3 "$1/state.db" "SELECT coalesce(sum(count), 0) FROM quarantine"; }
qlast() { sqlite3 "$1/state.db" "SELECT reason FROM quarantine ORDER BY last_at DESC, n DESC LIMIT 1"; }
# CPU milliseconds of a process (utime + stime), and of this shell's finished children
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$1/stat"; }
# (times runs in this shell, not in a $(...) subshell that has no children)
child_cpu_ms() { times >times.out; awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); print int((u[1] * 60 + u[2] + s[1] * 60 + s[2]) * 1000) }' times.out; }

attack() { # attack NAME PATTERN HOSTILE-ARGS...: every node refuses it, cheaply, and keeps serving
	name=$1 pattern=$2
	shift 2
	ql=$(qcount live) qh=$(qcount hub)
	c0=$(cpu_ms "$PID_live")
	t0=$(now_ms)
	hostile --mode craft "$@"
	diag "$name: $(head -1 hostile.log | sed 's/^hostile: //')"
	child_cpu_ms >cpu0; w0=$(now_ms)
	k --home sub sync --timeout 20 >sync.out 2>&1
	rc=$?
	child_cpu_ms >cpu1; w1=$(now_ms)
	s0=$(cat cpu0) s1=$(cat cpu1)
	[ $((w1 - w0)) -gt 5000 ] && sed 's/^/#   sync: /' sync.out
	check "$name: sync refuses it, without crashing (exit $rc)" test "$rc" = 1
	qlast sub >reason
	check "$name: sync quarantines it as '$pattern'" grep -q -- "$pattern" reason
	grep -q -- "$pattern" reason || { diag "sub: $(cat reason)"; sed 's/^/#   /' sync.out; }
	diag "$name: sync refused it in $((w1 - w0)) ms wall, $((s1 - s0)) ms CPU"
	check "$name: the refusal took under 5 s of CPU ($((s1 - s0)) ms)" test $((s1 - s0)) -lt 5000
	check "$name: the running town quarantines it" wait_for 20 sh -c \
		"test \$(sqlite3 live/state.db 'SELECT coalesce(sum(count), 0) FROM quarantine') -gt $ql &&
		 sqlite3 live/state.db 'SELECT reason FROM quarantine ORDER BY last_at DESC, n DESC LIMIT 1' | grep -q -- '$pattern'"
	t1=$(now_ms)
	check "$name: the hub quarantines it" wait_for 20 sh -c \
		"test \$(sqlite3 hub/state.db 'SELECT coalesce(sum(count), 0) FROM quarantine') -gt $qh &&
		 sqlite3 hub/state.db 'SELECT reason FROM quarantine ORDER BY last_at DESC, n DESC LIMIT 1' | grep -q -- '$pattern'"
	diag "$name: the running town refused it $((t1 - t0)) ms after the peer came up; its CPU since: $(( $(cpu_ms "$PID_live") - c0 )) ms"
	check "$name: during the attack the running town answers a second client" hello_ok tcp://127.0.0.1:$((P + 2))
	check "$name: and so does the hub" hello_ok tcp://127.0.0.1:$((P + 4))
	changed=
	for h in sub live hub far; do state_fingerprint $h | cmp -s - $h.before || changed="$changed $h"; done
	check "$name: nothing held changed (sub, live, hub, far)${changed:+ - changed:$changed}" test -z "$changed"
}

attack "bare CR" "cases/cr-only.md: line 1: front matter is not closed" --file cases/cr-only.md=cr.md
attack "tree 100,000 deep" "nested more than 3 directories deep" --deep 100000
attack "deep tree hidden before the head" "nested more than 3 directories deep" --deep 100000 --hide
attack "a million paths in 11 KB" "more than 100000 files and directories" --wide 100
attack "60 KB of {{" "uses {{}} but variables does not declare it" --file cases/braces.md=braces.md
attack "200 KB nested front matter" "front matter is longer than 65536 bytes" --file cases/nested.md=nested.md
attack "flow mappings 15,000 deep" "nested more than 32 levels" --file cases/flow.md=flow.md
attack "6,000 YAML anchors" "more than 100 YAML anchors" --file cases/anchors.md=anchors.md

# Restart the running town and the hub while the peer still serves the worst:
# they must come up, refuse again and keep serving (no crash loop).
hostile --mode craft --deep 100000 --hide
for h in live hub; do
	eval "pid=\$PID_$h"
	kill "$pid"
	wait_for 5 sh -c "! kill -0 $pid" || kill -9 "$pid"
	wait "$pid" 2>/dev/null
done
ql=$(qcount live) qh=$(qcount hub)
serve live $((P + 2)) $((P + 3))
serve hub $((P + 4)) $((P + 5))
check "after a restart the running town refuses it again" wait_for 20 sh -c \
	"test \$(sqlite3 live/state.db 'SELECT coalesce(sum(count), 0) FROM quarantine') -gt $ql"
check "and so does the hub" wait_for 20 sh -c "test \$(sqlite3 hub/state.db 'SELECT coalesce(sum(count), 0) FROM quarantine') -gt $qh"
sleep 2
check "the restarted town is still running" kill -0 "$PID_live"
check "the restarted hub is still running" kill -0 "$PID_hub"
check "the restarted town answers a second client" hello_ok tcp://127.0.0.1:$((P + 2))
check "the restarted hub answers a second client" hello_ok tcp://127.0.0.1:$((P + 4))
changed=
for h in sub live hub far; do state_fingerprint $h | cmp -s - $h.before || changed="$changed $h"; done
check "nothing held changed after the restarts${changed:+ - changed:$changed}" test -z "$changed"
check "kairan verify passes on the running town" k --home live verify
check "kairan verify passes on the far town" k --home far verify
k --home live status >status.out
check "status shows the reason" grep -q 'nested more than 3 directories deep' status.out

# The honest peer again: everything still replicates.
item 372081 after "攻撃のあとの事例" >after.md
k --home pub publish after.md >/dev/null
hostile --mode honest
check "after the attacks an honest update reaches the running town" wait_for 20 k --home live show 372081/case/after
check "and the far town through the hub" wait_for 20 k --home far show 372081/case/after

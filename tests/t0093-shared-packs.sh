#!/bin/sh
# t0093 - subscribers far behind share packs. Four clients 17, 19, 21 and
# 23 commits behind ask a node for its head (a client that is not kairan,
# tests/tools/conformance.py, each completing its thin pack with `git
# index-pack --fix-thin` and checked by `git fsck`): the node builds one
# pack, from 24 commits back, and answers the other three from its cache.
# (The 500-town soak, 2026-12-01: towns behind at as many different seqs
# made the hub build 1,420 packs, and they waited minutes for theirs.) A
# client 3 commits behind, as in live replication, gets its exact pack.
. "$(dirname "$0")/lib.sh"
plan 8
cd "$T"
P=$(port_base)

k --home pub init --name 三豊市 --lg-code 372081 >/dev/null
F=$(k --home pub id --fingerprint)
for i in $(seq 1 40); do
	item 372081 "case-$i" "共有パックの事例 $i" >x.md
	k --home pub publish x.md >/dev/null || diag "publish $i failed"
done
REPO=pub/repos/$F/cases.git
git -C "$REPO" rev-list --first-parent main >line
diag "$(wc -l <line) commits on the line"
KEY=$(k --home pub id --json | python3 -c 'import json,sys; print(json.load(sys.stdin).get("transport_key", ""))')
serve pub $P $((P + 1))
wait_for 5 hello_ok tcp://127.0.0.1:$P
PY=/usr/bin/python3
test -x $PY || PY=python3
conf() { $PY "$SRC/tests/tools/conformance.py" --endpoint tcp://127.0.0.1:$P --publisher "$F" \
	--proto-out "$T/pb" ${KEY:+--server-key "$KEY"} "$@"; }
behind() { # behind D: a bare copy of the collection whose main is D commits behind
	git clone -q --mirror "$REPO" "c$1.git" &&
		git -C "c$1.git" update-ref refs/heads/main "$(sed -n "$(($1 + 1))p" line)"
}
for d in 17 19 21 23 3; do behind $d; done
for d in 17 19 21 23 3; do
	conf update="$T/c$d.git" >conf$d.out 2>conf$d.err
	line=$(grep '^[A-Z]* update:' conf$d.out)
	case "$line" in
	PASS*) ok "$d commits behind: $line" ;;
	*) sed 's/^/# /' conf$d.err | tail -5; not_ok "$d commits behind: ${line:-no result}" ;;
	esac
done
check "every copy now holds the head" sh -c "for d in 17 19 21 23 3; do
	test \"\$(git -C c\$d.git rev-parse main)\" = \"\$(git -C $REPO rev-parse main)\" || exit 1; done"
kill -TERM "$PID_pub"
wait "$PID_pub"
stats=$(grep -o 'pack cache: [0-9]* builds, [0-9]* hits, [0-9]* waits' pub.log | tail -1)
diag "$stats"
builds=$(echo "$stats" | sed 's/pack cache: \([0-9]*\) builds.*/\1/')
check "two packs built for five clients: one shared by the four far behind, one exact for the one near" \
	test "${builds:-0}" = 2
check "the node logged nothing alarming" sh -c "! grep -E 'warn|error' pub.log | grep -v 'cannot listen on http'"

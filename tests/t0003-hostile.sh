#!/bin/sh
# t0003 - a hostile peer that lies in every way DESIGN §5 names: each lie is
# rejected with a quarantine reason, and the town's refs and replicated
# state stay byte for byte what they were.
. "$(dirname "$0")/lib.sh"
plan 37
cd "$T"
P=$(port_base)
EP=tcp://127.0.0.1:$P

k --home pub init --name 三豊市 --lg-code 372081 >/dev/null
FPR=$(k --home pub id --fingerprint)
k --home pub publish "$SRC/deploy/samples/372081" >/dev/null
k --home town init --name 西海市 --lg-code 422126 >/dev/null
k --home town follow "$EP" --publisher "$FPR" >/dev/null

hostile() { # hostile MODE: (re)start the lying peer
	[ -n "${HPID:-}" ] && kill "$HPID" 2>/dev/null && wait "$HPID" 2>/dev/null
	"$TOOLS/hostile" --home pub --listen "$EP" --announce "tcp://127.0.0.1:$((P + 1))" --mode "$1" 2>>hostile.log &
	HPID=$!
	_pids="$_pids $HPID"
	sleep 0.3
}

hostile honest
check "an honest peer first: the town syncs" k --home town sync --timeout 5
check "and holds the publisher's items" k --home town show 372081/case/gomi-chatbot-poc
before=$(state_fingerprint town)
qcount() { sqlite3 town/state.db "SELECT count(*) FROM quarantine"; }

lie() { # lie MODE PATTERN: the town refuses, records why, changes nothing
	hostile "$1"
	q0=$(qcount)
	k --home town sync --timeout 3 >sync.out 2>&1; rc=$?
	check "$1: sync exits non-zero" test $rc != 0
	sqlite3 town/state.db "SELECT reason FROM quarantine ORDER BY n DESC LIMIT 1" >reason
	check "$1: quarantined with reason matching '$2'" sh -c "test $(qcount) -gt $q0 && grep -q -- '$2' reason"
	[ "$(qcount)" -gt "$q0" ] || { diag "sync said:"; sed 's/^/#   /' sync.out; }
	check "$1: refs and state are unchanged" test "$before" = "$(state_fingerprint town)"
}

lie badsig 'bad signature'
lie replay 'replay'
lie equivocate 'equivocation'
lie expired 'expired'
lie nonff 'not a fast-forward'
lie otherkey 'signed by another key'
lie truncated 'pack is incomplete or corrupt'
lie oversize 'more than the'
lie garbage 'malformed'
lie confidential 'confidentiality 機密性2 may not be published'
lie mynumber 'マイナンバー'

k --home town status >status.out
check "status lists the quarantine with reasons" grep -q 'equivocation' status.out
hostile honest
check "kairan verify still passes" k --home town verify

#!/bin/sh
# t0003 - a hostile peer that lies in every way DESIGN §5 names: each lie is
# rejected with a quarantine reason, and the town's refs and replicated
# state stay byte for byte what they were.
. "$(dirname "$0")/lib.sh"
plan 44
cd "$T"
P=$(port_base)
EP=tcp://127.0.0.1:$P

k --home pub init --name 三豊市 --lg-code 372081 >/dev/null
FPR=$(k --home pub id --fingerprint)
k --home pub publish "$SRC/deploy/samples/372081" >/dev/null
k --home town init --name 西海市 --lg-code 422126 >/dev/null
k --home town follow "$EP" --publisher "$FPR" >/dev/null

hostile() { # hostile MODE [CRAFT OPTIONS]: (re)start the lying peer
	[ -n "${HPID:-}" ] && kill "$HPID" 2>/dev/null && wait "$HPID" 2>/dev/null
	_mode=$1
	shift
	"$TOOLS/hostile" --home pub --listen "$EP" --announce "tcp://127.0.0.1:$((P + 1))" --mode "$_mode" "$@" \
	    2>>hostile.log &
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
lie truncated 'the pack is cut short'
lie oversize 'more than the'
lie garbage 'malformed'
lie confidential 'confidentiality 機密性2 may not be published'
lie mynumber 'マイナンバー'

# A delta bomb: a pack of a few KB whose one delta, against a file the
# town holds, asks for 2 GiB of copies of it. libgit2's indexer allocates
# and fills what a delta claims; the town must refuse it first.
TR=town/repos/$FPR/cases.git
base=$(git --git-dir=$TR ls-tree -r HEAD | awk '$2 == "blob" { print $3; exit }')
python3 - "$base" "$(git --git-dir=$TR cat-file -s "$base")" >bomb.pack <<'PY'
import hashlib, struct, sys, zlib
base, size = bytes.fromhex(sys.argv[1]), int(sys.argv[2])
def varint(n):
    out = bytearray()
    while True:
        out.append((n & 0x7f) | (0x80 if n >= 0x80 else 0))
        n >>= 7
        if not n:
            return bytes(out)
copies = (2 << 30) // size
delta = varint(size) + varint(copies * size) + bytes([0xb0, size & 0xff, size >> 8]) * copies
n, hdr = len(delta), bytearray([0x70 | (len(delta) & 15)])
n >>= 4
while n:
    hdr[-1] |= 0x80
    hdr.append(n & 0x7f)
    n >>= 7
pack = b"PACK" + struct.pack(">II", 2, 1) + bytes(hdr) + base + zlib.compress(delta, 9)
sys.stdout.buffer.write(pack + hashlib.sha1(pack).digest())
PY
hostile craft --pack bomb.pack --head 0123456789abcdef0123456789abcdef01234567
q0=$(qcount)
python3 -c 'import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:], stdout=open("sync.out", "w"), stderr=subprocess.STDOUT)
open(sys.argv[1], "w").write("%d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)' maxrss "$KAIRAN" --home town sync --timeout 5; rc=$?
sqlite3 town/state.db "SELECT reason FROM quarantine ORDER BY n DESC LIMIT 1" >reason
check "delta bomb ($(wc -c <bomb.pack) bytes): sync exits non-zero" test $rc != 0
check "delta bomb: quarantined, naming the entry and what it claims" \
    sh -c "test $(qcount) -gt $q0 && grep -q 'pack entry 1 of 1 (at byte 12) inflates to [0-9]* bytes' reason"
[ "$(qcount)" -gt "$q0" ] || { diag "sync said:"; sed 's/^/#   /' sync.out; }
check "delta bomb: the town's sync peaked at $(cat maxrss) KB, under 100 MB" test "$(cat maxrss)" -lt 102400
check "delta bomb: refs and state are unchanged" test "$before" = "$(state_fingerprint town)"

# 87 bytes that hung a town: a file, then a delta against it that makes the
# same file again (libgit2 1.5's indexer loops for ever on the duplicate).
python3 - >dup.pack <<'PY'
import hashlib, struct, sys, zlib
a = "ごみの分別を生成AIで案内した事例。".encode() * 2
d = bytes([len(a), len(a), 0x90, len(a)])
pack = b"PACK" + struct.pack(">II", 2, 2) + bytes([0x80 | 0x30 | (len(a) & 15), len(a) >> 4]) + zlib.compress(a) \
    + bytes([0x70 | len(d)]) + hashlib.sha1(b"blob %d\0" % len(a) + a).digest() + zlib.compress(d)
sys.stdout.buffer.write(pack + hashlib.sha1(pack).digest())
PY
hostile craft --pack dup.pack --head 0123456789abcdef0123456789abcdef01234567
q0=$(qcount)
timeout 60 "$KAIRAN" --home town sync --timeout 5 >sync.out 2>&1; rc=$?
sqlite3 town/state.db "SELECT reason FROM quarantine ORDER BY n DESC LIMIT 1" >reason
check "a pack holding one object twice ($(wc -c <dup.pack) bytes): sync returns, non-zero (rc $rc)" \
    sh -c "test $rc != 0 && test $rc != 124"
check "and it is quarantined, naming the entry" \
    sh -c "test $(qcount) -gt $q0 && grep -q 'pack entry 2 of 2 (at byte [0-9]*) is object [0-9a-f]* again' reason"
[ "$(qcount)" -gt "$q0" ] || { diag "sync said:"; sed 's/^/#   /' sync.out; }
check "refs and state are unchanged" test "$before" = "$(state_fingerprint town)"

k --home town status >status.out
check "status lists the quarantine with reasons" grep -q 'equivocation' status.out
hostile honest
check "kairan verify still passes" k --home town verify

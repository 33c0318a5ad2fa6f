#!/bin/sh
# t0048 - a client that is not kairan (tests/tools/conformance.py: Python,
# Debian's python3-zmq, python3-protobuf, python3-cryptography, code made
# from proto/kairan.proto by protoc here) speaks to a real node by
# docs/protocol.md alone: Hello, Snapshot with every manifest's signature
# checked, the beacon digest recomputed, a chunked Fetch indexed by
# `git index-pack`, an incremental (thin) Fetch completed with --fix-thin,
# a Search with proto3 zero defaults, error replies that echo the request
# id, and a REQ socket answered instead of left hanging.
#
# Transport: the client gets the node's transport_key from `kairan id
# --json` and runs with --transport auto: the plain transport first, CURVE
# when the node does not answer a plain handshake within 2 s. The line
# "# transport: …" says which one was used.
. "$(dirname "$0")/lib.sh"
plan 14
cd "$T"
P=$(port_base)

k --home mitoyo init --name 三豊市 --lg-code 372081 >/dev/null
k --home mitoyo publish "$SRC/deploy/samples/372081" >/dev/null 2>&1
F=$(k --home mitoyo id --fingerprint)
KEY=$(k --home mitoyo id --json | python3 -c 'import json,sys; print(json.load(sys.stdin).get("transport_key", ""))')
serve mitoyo $P $((P + 1))
wait_for 5 hello_ok tcp://127.0.0.1:$P
# Debian's python3 (its python3-zmq and python3-protobuf), not another python3 earlier in PATH
PY=/usr/bin/python3
test -x $PY || PY=python3
conf() { $PY "$SRC/tests/tools/conformance.py" --endpoint tcp://127.0.0.1:$P --publisher "$F" \
	--proto-out "$T/pb" ${KEY:+--server-key "$KEY"} "$@"; }

t0=$(now_ms)
conf hello snapshot beacon fetch="$T/client.git" search=ごみ errors req >conf.out 2>conf.err
diag "conformance run: $(( $(now_ms) - t0 )) ms"
sed 's/^/# /' conf.err | head -20
grep '^# transport' conf.out
for s in hello snapshot beacon fetch search 'error unknown publisher' 'error length over 1 MiB' \
	'error search without a query' 'error no body' req; do
	line=$(grep "^[A-Z]* $s:" conf.out)
	case "$line" in PASS*) ok "$line" ;; *) not_ok "${line:-$s: no result}" ;; esac
done
test -f "$T/pb/kairan_pb2.py" && ok "the client's messages were generated from proto/kairan.proto by protoc" ||
	not_ok "protoc made no kairan_pb2.py"
k --home mitoyo allowed-signers >signers
check "git verify-commit accepts what the client fetched" \
	git -C client.git -c gpg.format=ssh -c gpg.ssh.allowedSignersFile="$T/signers" verify-commit main

# the publisher moves on: the client asks for the new head with its old one as a have
item 372081 conformance-new 追加の事例 >new.md
k --home mitoyo publish new.md >/dev/null 2>&1
conf update="$T/client.git" >up.out 2>up.err
line=$(grep '^[A-Z]* update:' up.out)
case "$line" in PASS*) ok "$line" ;; *) not_ok "${line:-update: no result}"; sed 's/^/# /' up.err ;; esac
check "the updated mirror has the new item, and its commit verifies" sh -c "
	git -C client.git cat-file -e main:cases/conformance-new.md &&
	git -C client.git -c gpg.format=ssh -c gpg.ssh.allowedSignersFile='$T/signers' verify-commit main"

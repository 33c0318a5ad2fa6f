#!/bin/sh
# t0028 - CURVE + ZAP on every socket (DESIGN §6 Transport): what a node
# speaks (ZMQ_MECHANISM and the ZMTP greeting on the wire), whom it admits
# (a client that is not kairan: pyzmq), how a client learns and pins a
# server's key (introduction, trust on first use, a changed key refused).
. "$(dirname "$0")/lib.sh"
plan 35
cd "$T"
P=$(port_base)
EP=tcp://127.0.0.1:$P
Z="/usr/bin/python3 $SRC/tests/tools/zclient.py"
tkey() { sed -n 's/.*"transport_key":"\([0-9a-f]*\)".*/\1/p' "$1"; }
zkey() { k --home "$1" id | sed -n 's/^endpoint: [^#]*#//p'; }
stop() { eval "kill \$PID_$1; wait \$PID_$1" 2>/dev/null; }
newhome() { k --home "$1" init --name "$2" --lg-code "$3" >/dev/null && sed -i "s|^web = .*|web = off|" "$1/config" &&
	k --home "$1" id --json >"$1.json"; }

newhome pub 三豊市 372081
FPR=$(k --home pub id --fingerprint)
k --home pub publish "$SRC/deploy/samples/372081" >/dev/null
serve pub $P $((P + 1))
PK=$(zkey pub)

# --- every server socket speaks CURVE ---------------------------------------
check "ZMQ_MECHANISM: requests and announcements are CURVE; control is this user's unix socket (t0085)" \
	grep -q 'transport: requests CURVE, announcements CURVE, control unix socket, this user only' pub.log
check "on the wire: the ROUTER's ZMTP greeting names CURVE" sh -c "$Z greeting $EP | grep -qx CURVE"
check "on the wire: the PUB's greeting names CURVE" sh -c "$Z greeting tcp://127.0.0.1:$((P + 1)) | grep -qx CURVE"
check "the control socket is a unix socket only its owner may open (mode 600; SO_PEERCRED in t0085)" \
	test "$(stat -c %F:%a pub/control.sock)" = "socket:600"
check_fails "a plaintext client (no CURVE) gets no answer" $Z hello $EP "$PK" none
check "outside a federation any client key is admitted (public content, still encrypted)" $Z hello $EP "$PK" random

# --- a client learns the key: introduction, pinned --------------------------
newhome town 西海市 422126
k --home town follow $EP --publisher "$FPR" >/dev/null
check "follow without a key: the first sync learns the server's key" k --home town sync --timeout 5
check "pinned, authenticated by the followed publisher's signature" \
	grep -q "^$EP $(tkey pub.json) publisher $FPR " town/transport/pins
"$KAIRAN" -v --home town serve --listen tcp://127.0.0.1:$((P + 2)) --announce tcp://127.0.0.1:$((P + 3)) >>town.log 2>&1 &
PID_town=$!; _pids="$_pids $PID_town"
wait_for 10 grep -q "subscribed to tcp://127.0.0.1:$((P + 1))" town.log
check "ZMQ_MECHANISM: the daemon's DEALER to its peer is CURVE" grep -q "peer $EP: CURVE client" town.log
check "ZMQ_MECHANISM: the daemon's SUB to its peer is CURVE" grep -q "peer tcp://127.0.0.1:$((P + 1)): CURVE client" town.log
stop town
newhome cap 別府市 442020
k --home cap follow "tcp://127.0.0.1:$((P + 5))#$PK" --publisher "$FPR" >cap.follow
check "follow ENDPOINT#KEY pins the given key" grep -q "tcp://127.0.0.1:$((P + 5)) $(tkey pub.json) given" cap/transport/pins
$Z capture $((P + 5)) >cap.out 2>&1 & CAP=$!
wait_for 10 sh -c "ss -tln | grep -q '127.0.0.1:$((P + 5)) '"
k --home cap sync --timeout 2 >/dev/null 2>&1
wait $CAP
check "on the wire: a kairan client's greeting names CURVE" grep -qx CURVE cap.out

# --- trust on first use through a hub; a changed key is refused -------------
newhome hub 香川県 370002
k --home hub follow $EP --publisher "$FPR" >/dev/null
serve hub $((P + 6)) $((P + 7))
newhome town2 高松市 372013
k --home town2 follow tcp://127.0.0.1:$((P + 6)) --publisher "$FPR" >/dev/null
wait_for 10 k --home hub show 372081/case/gomi-chatbot-poc
check "through a hub: the sync works" k --home town2 sync --timeout 5
check "the hub's key is pinned as trust on first use" grep -q "^tcp://127.0.0.1:$((P + 6)) $(tkey hub.json) tofu " town2/transport/pins
stop hub
rm hub/keys/node.x25519
sleep 1
serve hub $((P + 6)) $((P + 7))
k --home town2 sync --timeout 5 >rotated.out 2>&1; rc=$?
check "a new transport key signed by the same node key (a rotation) is accepted" test $rc = 0
check "and pinned" grep -q "rotated, vouched for by its node key" rotated.out
pinned=$(cat town2/transport/pins)
stop hub
mv hub hub.old
mv hub.log hub.old.log
mv hub.json hub.old.json
newhome hub 香川県 370002
k --home hub follow $EP --publisher "$FPR" >/dev/null
serve hub $((P + 6)) $((P + 7))
k --home town2 sync --timeout 2 >changed.out 2>&1; rc=$?
check "another node at the hub's address (a changed key) is refused" test $rc != 0
sed 's/^/# /' changed.out
check "and the message names the change" grep -q 'transport key of tcp://127.0.0.1:[0-9]* changed' changed.out
ACCEPT=$(sed -n "s/.*accept the new one with: kairan follow '\([^']*\)'.*/\1/p" changed.out)
check "and says how to accept it (follow 'EP#NEWKEY')" test "$ACCEPT" = "tcp://127.0.0.1:$((P + 6))#$(zkey hub)"
check "town2's pins are unchanged by the refusal" test "$pinned" = "$(cat town2/transport/pins)"
check "accepting it as the message says" k --home town2 follow "$ACCEPT" --publisher "$FPR"
check "then the sync works" k --home town2 sync --timeout 5
stop hub

# --- transport.admit = listed -------------------------------------------------
stop pub
echo "transport.admit = listed" >>pub/config
serve pub $P $((P + 1))
newhome guest 戸田市 112241
check_fails "listed: a random key is refused" $Z hello $EP "$PK" random --count 3
check "the refusal is logged with address and key" grep -q 'refused a connection from 127.0.0.1 with key' pub.log
check_fails "listed: a key not yet admitted is refused" $Z hello $EP "$PK" "$T/guest"
check "kairan admit ID.json" k --home pub admit guest.json
check "the admitted key is answered (no restart)" $Z hello $EP "$PK" "$T/guest"
check "kairan admit --remove" k --home pub admit --remove "$(tkey guest.json)"
check_fails "then it is refused again" $Z hello $EP "$PK" "$T/guest"
n=$(grep -c 'refused a connection from 127.0.0.1' pub.log)
diag "refusals logged for 127.0.0.1 in the last minute: $n line(s) for 5 refused connections"
check "refusals are logged at most once a minute per address" test "$n" -eq 1

# --- in a federation: members admitted, revoked and unknown keys refused -------
newhome kagawa 香川県 370002
newhome rogue 丸亀市 372021
k --home kagawa federation create --name 香川県生成AI連携 --threshold 1 --board kagawa.json -o g.kfm >/dev/null
k --home kagawa federation sign g.kfm --yes >/dev/null
k --home kagawa federation apply g.kfm >/dev/null
k --home kagawa federation propose --add-member pub.json --role hub --add-member town.json \
	--add-member rogue.json -o v2.kfm >/dev/null
k --home kagawa federation sign v2.kfm --yes >/dev/null
k --home kagawa federation apply v2.kfm >/dev/null
k --home pub federation apply g.kfm >/dev/null
check "the node installs the federation's chain" k --home pub federation apply v2.kfm
check "a member's key is admitted" $Z hello $EP "$PK" "$T/town"
check "the member rogue is admitted before its revocation" $Z hello $EP "$PK" "$T/rogue"
check_fails "a random key is refused" $Z hello $EP "$PK" random
k --home kagawa federation propose --revoke "$(k --home rogue id --fingerprint)" --reason compromised -o v3.kfm >/dev/null
k --home kagawa federation sign v3.kfm --yes >/dev/null
k --home kagawa federation apply v3.kfm >/dev/null
k --home pub federation apply v3.kfm >/dev/null
check_fails "a revoked member's key is refused" $Z hello $EP "$PK" "$T/rogue"
grep 'refused' pub.log | tail -3 | sed 's/^/# /'

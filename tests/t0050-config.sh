#!/bin/sh
# t0050 - config check and ports: an unknown key, a duplicate key, an
# endpoint or web address that does not parse, a key file others can read
# are each named with file:line by `kairan config check` and refused the
# same way by `serve` (and every other command); a port in use is said
# before serve (or `make run`) prints anything, with the process holding it.
. "$(dirname "$0")/lib.sh"
plan 17
cd "$T"
P=$(port_base)

k --home n init --name 三豊市 --lg-code 372081 >/dev/null
sed -i "s|^listen = .*|listen = tcp://127.0.0.1:$P|; s|^announce = .*|announce = tcp://127.0.0.1:$((P + 1))|; s|^web = .*|web = http://127.0.0.1:$((P + 2))|" n/config
check "a fresh config checks out" k --home n config check
cp n/config good.config

# every problem at once, each with its line
lines=$(wc -l <n/config)
printf 'bogus_setting = 1\nbeacon_ms = 100\nlisten = tcp://127.0.0.1\nannounce = udp://127.0.0.1:9\nweb = http://127.0.0.1\nserve_workers = many\n' >>n/config
k --home n config check 2>err; rc=$?
sed 's/^/# /' err
check "config check fails" test "$rc" = 1
check "an unknown key is named with file:line" grep -q "n/config:$((lines + 1)): unknown setting 'bogus_setting'" err
check "a duplicate key with file:line and where it was first set" \
	grep -q "n/config:$((lines + 2)): duplicate setting 'beacon_ms' (first set on line $(grep -n '^beacon_ms' good.config | cut -d: -f1)" err
check "a duplicate endpoint too" grep -q "n/config:$((lines + 3)): duplicate setting 'listen'" err
check "every problem is reported, not only the first" test "$(grep -c 'n/config:' err)" = 6

cp good.config n/config
sed -i "s|^listen = .*|listen = tcp://127.0.0.1:99999|; s|^announce = .*|announce = udp://127.0.0.1:$((P + 1))|" n/config
k --home n config check 2>err; sed 's/^/# /' err
line=$(grep -n '^listen' n/config | cut -d: -f1)
check "a port out of range is a bad endpoint, with its line" grep -q "n/config:$line: listen: .*port must be a number from 1 to 65535" err
check "a scheme zmq does not bind is named" grep -q "announce: 'udp://127.0.0.1:$((P + 1))' is not an endpoint" err
k --home n serve 2>serve.err; rc=$?
check "serve refuses the same config with file:line and does not start" \
	sh -c "test $rc = 1 && grep -q 'n/config:$line: listen' serve.err && ! grep -q listening serve.err"
k --home n status >/dev/null 2>status.err
check "and so does any other command" grep -q "n/config:$line" status.err

cp good.config n/config
chmod 644 n/keys/node.ed25519
k --home n config check 2>err; rc=$?
check "a signing key others can read fails the check" test "$rc" = 1
check "naming the key file and the fix" grep -q "node.ed25519: key is readable by others (mode 644); run: chmod 600" err
chmod 600 n/keys/node.ed25519

# a port held by another node: named, before anything is printed
k --home other init --name 西海市 --lg-code 422126 >/dev/null
serve other "$P" $((P + 3))
k --home n config check --ports 2>err; rc=$?
sed 's/^/# /' err
check "config check --ports names the process holding the listen port" \
	sh -c "test $rc = 1 && grep -q 'tcp://127.0.0.1:$P: port $P is already in use by process $PID_other (.*kairan --home other serve' err"
k --home n serve >out 2>err; rc=$?
sed 's/^/# /' err
check "serve says the same and exits" sh -c "test $rc = 1 && grep -q 'port $P is already in use by process $PID_other' err"
check "before printing any success message" sh -c "! grep -q 'listening\|web pages on' err out"

# make run (deploy/run.sh): its hub's port in use -> no success line, the holder named
mkdir -p run
k --home run/hub init --name 香川県 --lg-code 370002 >/dev/null
sed -i "s|^listen = .*|listen = tcp://127.0.0.1:$P|; s|^announce = .*|announce = tcp://127.0.0.1:$((P + 4))|; s|^web = .*|web = off|" run/hub/config
(cd "$SRC" && KAIRAN_RUN_DIR="$T/run" timeout 20 sh deploy/run.sh "$KAIRAN") >run.out 2>run.err; rc=$?
sed 's/^/# /' run.err
check "make run refuses before its success message, naming the holder" \
	sh -c "test $rc = 1 && grep -q 'in use by process $PID_other' run.err && ! grep -q 'kairan hub' run.out"
kill "$PID_other"; wait "$PID_other" 2>/dev/null
check "with the port free, config check --ports passes" k --home n config check --ports

#!/bin/sh
# t0034 - the web server cannot stall the node: slow clients (slowloris)
# and idle connections are bounded and timed out, connections past the
# limit are refused at once, floods of page requests never delay the
# ZeroMQ loop (a second client's Hello within 100 ms), `web = off` opens
# no port, a busy web port leaves the node serving, a bad address stops it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/weblib.sh"
plan 13
cd "$T"
P=$(port_base)
k --home node init --name 三豊市 --lg-code 372081 >/dev/null
k --home node publish "$SRC/deploy/samples/372081" >/dev/null
printf 'web.timeout = 2\nweb.max_connections = 60\nweb.per_ip = 60\n' >>node/config
WEB=http://127.0.0.1:$((P + 2))
web_serve node "$P" $((P + 1)) --web "$WEB"
check "the node logs where its pages are" wait_for 5 grep -q "web pages on $WEB/" node.log
ms() { curl -s -o /dev/null -w '%{time_total}' "$WEB$1" | awk '{ printf "%d", $1 * 1000 }'; }

python3 "$SRC/tests/tools/slowclients.py" 127.0.0.1 $((P + 2)) 40 6 trickle >slow.json &
slow=$!
sleep 1
t=$(ms "/search?q=%E3%81%94%E3%81%BF")
diag "a search page while 40 slowloris clients trickle headers: $t ms"
check "with 40 slowloris clients a search page is answered within 1 s ($t ms)" test "$t" -lt 1000
check "and the ZeroMQ loop answers a second client's Hello within 100 ms" hello_ok tcp://127.0.0.1:$P
wait $slow
diag "slowloris: $(cat slow.json)"
check "the server ends connections whose headers never finish, though they trickle (deadline 2 s)" python3 -c "
import json; d = json.load(open('slow.json')); assert d['closed_by_server'] == d['opened'] == 40 and d['first_close_s'] < 4, d"

python3 "$SRC/tests/tools/slowclients.py" 127.0.0.1 $((P + 2)) 100 3 idle >idle.json
diag "100 idle connections against a limit of 60, for 3 s: $(cat idle.json)"
check "the node holds at most web.max_connections at once and times the idle ones out" python3 -c "
import json; d = json.load(open('idle.json')); assert 0 < d['closed_by_server'] <= 60 and 1.5 < d['first_close_s'] < 3, d"
check "once they are gone the pages answer again" test "$(curl -s -o /dev/null -w '%{http_code}' "$WEB/")" = 200

# a flood of page requests from 4 clients for 4 s; the zmq loop stays responsive
end=$(( $(date +%s) + 4 ))
flood=""
for c in 1 2 3 4; do
	( while [ "$(date +%s)" -lt $end ]; do curl -s -o /dev/null "$WEB/search?q=%E3%81%94%E3%81%BF"; curl -s -o /dev/null "$WEB/items/372081/case/gomi-chatbot-poc"; done ) &
	flood="$flood $!"
done
sleep 1
check "during a flood of page requests the ZeroMQ loop still answers Hello within 100 ms" hello_ok tcp://127.0.0.1:$P
for p in $flood; do wait "$p"; done
rss=$(rss_kb "$PID_node")
diag "RSS after the flood: $((rss / 1024)) MB"
check "memory stays bounded after the flood (RSS $((rss / 1024)) MB < 100 MB)" test "$rss" -lt 102400

k --home off init --name 西海市 --lg-code 422126 >/dev/null
sed -i 's|^web = .*|web = off|' off/config
web_serve off $((P + 3)) $((P + 4))
hello_ok tcp://127.0.0.1:$((P + 3)) >/dev/null 2>&1; rc=$?
check "web = off: the node serves without the pages" sh -c "test $rc = 0 && ! grep -q 'web pages' off.log"
ports=$(ss -ltnp | grep "pid=$PID_off," | awk '{ print $4 }' | sed 's/.*://' | sort -n | tr '\n' ' ')
check "and it listens on its two ZeroMQ ports only ($ports)" test "$ports" = "$((P + 3)) $((P + 4)) "

k --home busy init --name 横須賀市 --lg-code 142018 >/dev/null
web_serve busy $((P + 5)) $((P + 6)) --web "$WEB"
hello_ok tcp://127.0.0.1:$((P + 5)) >/dev/null 2>&1; rc=$?
check "a second node on a busy web port says so and keeps serving" sh -c "test $rc = 0 && grep -q 'web: cannot listen on $WEB' busy.log"
k --home busy serve --listen tcp://127.0.0.1:$((P + 7)) --announce tcp://127.0.0.1:$((P + 8)) --web ftp://x 2>err; rc=$?
check "a malformed web address is a usage error" sh -c "test $rc = 2 && grep -q 'must look like http://127.0.0.1:7480' err"
k --home bad init --name 西海市 --lg-code 422126 >/dev/null
sed -i 's|^web = .*|web = http://127.0.0.1|' bad/config
check "and so is one without a port in the config" sh -c "! \"$KAIRAN\" --home bad serve --listen tcp://127.0.0.1:$((P + 7)) --announce tcp://127.0.0.1:$((P + 8)) 2>err2 && grep -q 'needs a port' err2"

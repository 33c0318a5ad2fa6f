#!/bin/sh
# tests/bench/federation.sh - `make bench`, federation part (issue 8): verifying
# a 1,000-version membership chain and a 1,741-member document (every
# municipality in Japan): time and peak memory, beside a kairan command that
# does no federation work, measured in the same run.
set -eu
: "${KAIRAN:?run through make bench}"
K=$KAIRAN
NV=${BENCH_FED_VERSIONS:-1000}
NM=${BENCH_FED_MEMBERS:-1741}
P=${BENCH_FED_PORT:-31900}
B=$(mktemp -d /tmp/kairan-benchfed.XXXXXX)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$B"; }
trap cleanup EXIT INT TERM
cd "$B"
now() { echo $(( $(date +%s%N) / 1000000 )); }
# timed LABEL COMMAND...: wall ms and peak RSS of one run
timed() {
	l=$1; shift
	/usr/bin/time -f "%e %U %S %M" -o t.out "$@" >/dev/null 2>cmd.err || { echo "  $l: failed: $(cat cmd.err)"; return 1; }
	read -r s u y kb <t.out
	printf "  %-56s %7.0f ms wall %7.0f ms CPU %7d KB peak RSS\n" "$l" "$(echo "$s * 1000" | bc)" \
		"$(echo "($u + $y) * 1000" | bc)" "$kb"
}

echo
echo "federation (membership chain, DESIGN §6):"
"$K" --home board init --name 香川県 --lg-code 370002 >/dev/null
sed -i -e "s|^listen = .*|listen = tcp://127.0.0.1:$P|" -e "s|^announce = .*|announce = tcp://127.0.0.1:$((P + 1))|" \
	-e "s|^web = .*|web = off|" board/config
t0=$(now)
"${TOOLS:?run through make bench}/fedgen" board "$NV"
echo "  wrote a $NV-version chain (signed, not yet verified) in $(( $(now) - t0 )) ms ($(du -sk board/federation/chain | cut -f1) KB)"
"$K" --home town init --name 三豊市 --lg-code 372081 >/dev/null
timed "baseline: kairan status on an empty home" "$K" --home town status
timed "verify $NV versions from the genesis on open" "$K" --home board federation show --json
FED=$("$K" --home board federation show --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["federation"])')
# inside a federation the board's node admits members only: the town is not one yet (DESIGN §6, as t0026)
"$K" --home town id --json >town.json
"$K" --home board admit town.json >/dev/null
"$K" --home board serve >board.log 2>&1 &
pids="$pids $!"
for i in $(seq 1 100); do [ -S board/control.sock ] && break; sleep 0.05; done
timed "join over the wire: fetch, verify, install $NV versions" \
	"$K" --home town join "tcp://127.0.0.1:$P" --federation "$FED"

# Every municipality: synthetic id cards (random keys; the document is never signed by them).
python3 - "$NM" <<'PY'
import json, os, sys
n = int(sys.argv[1]); made = 0; pref = 1; city = 200
while made < n:
    if city > 999:
        pref += 1; city = 200
    body = '%02d%03d' % (pref, city)
    s = sum(int(c) * w for c, w in zip(body, (6, 5, 4, 3, 2)))
    code = body + str((11 - s % 11) % 10)
    json.dump({"fingerprint": os.urandom(32).hex(), "ssh": "", "transport_key": os.urandom(32).hex(),
               "name": "市町村%d" % made, "lg_code": code, "listen": "tcp://192.0.2.1:7420",
               "announce": "tcp://192.0.2.1:7421"}, open('m%d.json' % made, 'w'))
    made += 1; city += 1
    if city % 40 == 0:
        pref = pref % 47 + 1
PY
"$K" --home big init --name 香川県 --lg-code 370002 >/dev/null
"$K" --home big id --json >big.json
"$K" --home big federation create --name 全国 --threshold 1 --board big.json -o b1.kfm >/dev/null
"$K" --home big federation sign b1.kfm --yes >/dev/null
"$K" --home big federation apply b1.kfm >/dev/null
args=""
i=0; while [ $i -lt "$NM" ]; do args="$args --add-member m$i.json"; i=$((i + 1)); done
# shellcheck disable=SC2086
timed "propose a $NM-member document" "$K" --home big federation propose $args -o b2.kfm
"$K" --home big federation sign b2.kfm --yes >/dev/null
echo "  the $NM-member document is $(wc -c <b2.kfm) bytes (limit 1 MB)"
timed "apply it: chain rule, signatures, install" "$K" --home big federation apply b2.kfm
timed "show it (open, decode, print every member)" "$K" --home big federation show

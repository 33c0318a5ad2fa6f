# tests/weblib.sh - sourced after lib.sh by the web tests (t0030-t0034): three
# real publishers and a town whose `kairan serve` serves the pages.
#   三豊市 372081  the shipped samples, with the guideline's 第1版 then 第2版
#   香川県 370002  the shipped samples plus big-qa, a dataset of 250 rows
#   横須賀市 142018 a hostile publisher: script tags, attribute injection,
#                  javascript: links and raw HTML in every field it can reach
#   豊田市 232114  the town: follows all three and serves $WEB
# Ports: P .. P+9 from the caller's port_base.

# web_serve HOME LISTEN_PORT ANNOUNCE_PORT [serve options...]: lib.sh's serve, with options
web_serve() {
	_h=$1 _l=$2 _a=$3; shift 3
	"$KAIRAN" --home "$_h" serve --listen "tcp://127.0.0.1:$_l" --announce "tcp://127.0.0.1:$_a" "$@" \
		>>"$_h.log" 2>&1 &
	_pids="$_pids $!"
	eval "PID_$(basename "$_h" | tr -c 'a-zA-Z0-9\n' _)=$!"
	wait_for 5 test -S "$_h/control.sock"
}

web_publishers() { # web_publishers P
	k --home mitoyo init --name 三豊市 --lg-code 372081 >/dev/null
	k --home mitoyo publish "$SRC/deploy/samples/372081/.editions" -m "第1版" >/dev/null
	k --home mitoyo publish "$SRC/deploy/samples/372081" -m "第2版" >/dev/null
	k --home kagawa init --name 香川県 --lg-code 370002 >/dev/null
	mkdir -p big/datasets/big-qa/data
	sed 's/gomi-qa/big-qa/; s/^title: .*/title: 大きなQ\&A（行送りの試験）/' \
		"$SRC/deploy/samples/370002/datasets/gomi-qa/README.md" >big/datasets/big-qa/README.md
	i=1
	while [ $i -le 250 ]; do
		printf '{"id":"r%03d","question":"試験用の質問 %d 番","answer":"試験用の回答 %d 番","category":"試験","source":{"issuer":"香川県"},"updated":"2024-07-01"}\n' $i $i $i
		i=$((i + 1))
	done >big/datasets/big-qa/data/qa.jsonl
	k --home kagawa publish "$SRC/deploy/samples/370002" big >/dev/null
	k --home yoko init --name 横須賀市 --lg-code 142018 >/dev/null
	k --home yoko publish "$SRC/tests/fixtures/web/hostile" >/dev/null
	web_serve mitoyo "$1" $(($1 + 1)) --web off
	web_serve kagawa $(($1 + 2)) $(($1 + 3)) --web off
	web_serve yoko $(($1 + 4)) $(($1 + 5)) --web off
}

web_town() { # web_town P [extra config line]: the town, serving $WEB
	k --home town init --name 豊田市 --lg-code 232114 >/dev/null
	[ -n "${2:-}" ] && echo "$2" >>town/config
	for pair in mitoyo:$1 kagawa:$(($1 + 2)) yoko:$(($1 + 4)); do
		k --home town follow "tcp://127.0.0.1:${pair#*:}" --publisher "$(k --home "${pair%%:*}" id --fingerprint)" >/dev/null
	done
	WEB=http://127.0.0.1:$(($1 + 9))
	web_serve town $(($1 + 6)) $(($1 + 7)) --web "$WEB"
	wait_for 20 sh -c "\"$KAIRAN\" --home town search --json --limit 100 ごみ | grep -q gomi-chatbot-poc &&
		\"$KAIRAN\" --home town search --json 攻撃 | grep -q xss-probe &&
		\"$KAIRAN\" --home town search --json 行送り | grep -q big-qa"
}

# get PATH [curl options...]: the body on stdout; status and headers in $T/status, $T/headers
get() {
	_p=$1; shift
	curl -s --path-as-is -o "$T/body" -D "$T/headers" -w '%{http_code}' "$@" "$WEB$_p" >"$T/status"
	cat "$T/body"
}
status() { cat "$T/status"; }
header() { grep -i "^$1:" "$T/headers" | head -1 | cut -d' ' -f2- | tr -d '\r'; }

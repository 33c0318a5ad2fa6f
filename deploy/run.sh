#!/bin/sh
# deploy/run.sh - what `make run` does: a prefecture hub with its embedded
# defaults, under ./var/. On first run it initialises the hub (香川県) and one
# node per sample publisher in deploy/samples/, publishes the samples, and
# has the hub follow those publishers. Then it serves them all on 127.0.0.1
# until Ctrl-C.
set -eu
K=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
VAR=${KAIRAN_RUN_DIR:-var}
HUB=$VAR/hub
mkdir -p "$VAR"

name_of() {
	case $1 in
	370002) echo 香川県 ;; 372081) echo 三豊市 ;; 142018) echo 横須賀市 ;; 422126) echo 西海市 ;;
	112241) echo 戸田市 ;; 222216) echo 湖西市 ;; 442020) echo 別府市 ;; 141500) echo 相模原市 ;;
	024121) echo おいらせ町 ;; 082201) echo つくば市 ;; 352136) echo 美祢市 ;; 111007) echo さいたま市 ;;
	062081) echo 南陽市 ;; 102016) echo 前橋市 ;; 100005) echo 群馬県 ;; *) echo "団体$1" ;;
	esac
}

if [ ! -f "$HUB/config" ]; then
	echo "first run: creating the hub and the sample publishers under $VAR/"
	"$K" --home "$HUB" init --name 香川県 --lg-code 370002 >/dev/null
	port=7450
	for dir in deploy/samples/*/; do
		code=$(basename "$dir")
		if [ "$code" = 370002 ]; then
			"$K" --home "$HUB" publish "$dir" -m "sample content" >/dev/null
			continue
		fi
		home=$VAR/pub-$code
		"$K" --home "$home" init --name "$(name_of "$code")" --lg-code "$code" >/dev/null
		# earlier editions first, so the history shows how an item changed
		[ -d "$dir/.editions" ] && "$K" --home "$home" publish "$dir/.editions" -m "sample content: earlier editions" >/dev/null
		"$K" --home "$home" publish "$dir" -m "sample content" >/dev/null
		sed -i "s|^listen = .*|listen = tcp://127.0.0.1:$port|; s|^announce = .*|announce = tcp://127.0.0.1:$((port + 1))|" "$home/config"
		"$K" --home "$HUB" follow "tcp://127.0.0.1:$port" --publisher "$("$K" --home "$home" id --fingerprint)" >/dev/null
		port=$((port + 2))
	done
fi

# Every port free before anything starts or any success is printed; a
# port in use is named with the process that holds it.
for home in "$HUB" "$VAR"/pub-*; do
	[ -f "$home/config" ] || continue
	if ! "$K" --home "$home" config check --ports >/dev/null; then
		echo "make run: not started: $home cannot serve (above); nothing was started" >&2
		exit 1
	fi
done

pids=""
for home in "$VAR"/pub-*; do
	[ -f "$home/config" ] || continue
	"$K" --home "$home" serve --web off 2>>"$VAR/publishers.log" &
	pids="$pids $!"
done
trap 'kill $pids 2>/dev/null; wait 2>/dev/null' EXIT INT TERM
sleep 1
WEBURL=$(sed -n 's/^web *= *//p' "$HUB/config" | tail -1)
WEBURL=${WEBURL:-http://127.0.0.1:7480}
cat <<MSG
kairan hub 香川県 ($("$K" --home "$HUB" id --fingerprint | cut -c1-16)…) on tcp://127.0.0.1:7420 (announce :7421)
web pages for staff: $WEBURL/   (CKAN API, DCAT and Dify's /retrieval on the same port)
sample publishers run in the background (log: $VAR/publishers.log).
try, in another terminal:
  $K --home $HUB status
  $K --home $HUB show 372081/case/gomi-chatbot-poc
  $K --home $HUB log
  $K --home /tmp/town init --name 西海市 --lg-code 422126
  $K --home /tmp/town follow tcp://127.0.0.1:7420 --publisher <fingerprint from status>
  $K --home /tmp/town sync
Ctrl-C stops everything.
MSG
"$K" --home "$HUB" serve

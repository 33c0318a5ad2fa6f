#!/bin/sh
# t0102 - progress of a long sync and reindex, as git shows it: on a
# terminal (a pseudo-terminal made by script(1)), each step of more than
# KAIRAN_PROGRESS_DELAY seconds (receiving a pack, checking files, indexing
# items) redraws one line on stderr and ends it with "done", in Japanese
# under ja_JP.UTF-8; counts reach what was synced; nothing is shown on a
# pipe unless --progress asks, nor under --no-progress, nor for a step
# shorter than the delay (an everyday update prints what it always did).
# A daemon's first sync logs its steps instead, a line per delay at most.
. "$(dirname "$0")/lib.sh"
plan 17
cd "$T"
P=$(port_base)
N=1000

k --home pub init --name 三豊市 --lg-code 372081 >/dev/null
mkdir seed
i=0
while [ $i -lt $N ]; do
	{
		item 372081 "p-$i" "進捗表示の確認用の事例 $i"
		yes "住民からの問合せに生成AIで回答案を作り、職員が確認してから返信した。第${i}号" | head -c 3000
		echo
	} >seed/p$i.md
	i=$((i + 1))
done
k --home pub publish seed >/dev/null
serve pub "$P" $((P + 1))
F=$(k --home pub id --fingerprint)
town() {
	k --home "$1" init --name 西海市 --lg-code 422126 >/dev/null
	k --home "$1" follow "tcp://127.0.0.1:$P" --publisher "$F" >/dev/null
}
# the lines a \r-redrawn stderr ends with, one per step
steps() { tr '\r' '\n' <"$1" | sed 's/\x1b\[K//g' | grep -E 'done|完了'; }

# --progress on a pipe, English, every step drawn (no delay)
town a
KAIRAN_PROGRESS_DELAY=0 LC_ALL=C k --home a sync --progress >a.out 2>a.err
rc=$?
steps a.err >a.steps
sed 's/^/# /' a.steps
check "the sync with --progress succeeds and applies every item" \
	sh -c "test $rc = 0 && test \$(sqlite3 a/state.db \"SELECT count(*) FROM items WHERE publisher = '$F'\") = $N"
objs=$(git -C "a/repos/$F/cases.git" count-objects -v | awk '/^(count|in-pack):/ { n += $2 } END { print n }')
check "receiving the pack ends at 100% of its objects ($objs in the repository), with its size" \
	grep -Eq "^cases: receiving objects 100% \(([0-9]+)/\1\), [0-9]+\.[0-9] MiB, done\.$" a.steps
check "checking ends at 100% of the $N files" grep -qx "cases: checking files 100% ($N/$N), done." a.steps
check "indexing ends at 100% of the $N items" grep -qx "cases: indexing items 100% ($N/$N), done." a.steps
# each step's percentages never go back
check "the percentages of each step only grow" sh -c "tr '\r' '\n' <a.err | sed -n 's/^cases: \([a-z]* [a-z]*\) *\([0-9]*\)%.*/\1 \2/p' |
	awk '\$1\$2 == s && \$3 < p { bad = 1 } { s = \$1\$2; p = \$3 } END { exit bad }'"
check "stdout has the summary only" sh -c "test \$(wc -l <a.out) = 1 && grep -q '1 applied' a.out"
n=$(tr '\r' '\n' <a.err | grep -c 'checking files')
diag "$n redraws of the checking line"
check "redraws are throttled (20 a second at most), not one per file" test "$n" -le $((N / 2))

# on a terminal, in Japanese, without being asked
town b
# (script(1) writes what the terminal showed, stdout and stderr, to its stdout)
KAIRAN_PROGRESS_DELAY=0 LC_ALL=ja_JP.UTF-8 script -qec "\"$KAIRAN\" --home b sync" /dev/null >b.tty
steps b.tty >b.steps
sed 's/^/# /' b.steps
check "on a terminal, in Japanese: receiving, checking and indexing, each 完了" sh -c \
	"grep -q '^cases: オブジェクト受信中 100% ' b.steps && grep -qx 'cases: ファイル検査中 100% ($N/$N)、完了' b.steps &&
	 grep -qx 'cases: 索引作成中 100% ($N/$N)、完了' b.steps"
check "on a terminal, the rest of the line is cleared when redrawn" grep -q "$(printf '\033\\[K')" b.tty

# not on a terminal, or --no-progress, or within the delay: nothing
town c
KAIRAN_PROGRESS_DELAY=0 k --home c sync >c.out 2>c.err
check "on a pipe without --progress: no progress" sh -c "! grep -Eq 'receiving|checking|indexing' c.err"
town d
KAIRAN_PROGRESS_DELAY=0 LC_ALL=C script -qec "\"$KAIRAN\" --home d sync --no-progress" /dev/null >d.tty
check "--no-progress on a terminal: no progress, and the sync is done" sh -c \
	"grep -q '1 applied' d.tty && ! grep -Eq 'receiving|checking|indexing' d.tty"
item 372081 one-more "一件だけの更新" >one.md
k --home pub publish one.md >/dev/null
KAIRAN_PROGRESS_DELAY=30 LC_ALL=C script -qec "\"$KAIRAN\" --home a sync" /dev/null >e.tty
check "an update shorter than the delay, on a terminal: no progress, and it is applied" sh -c \
	"grep -q '1 applied' e.tty && ! grep -Eq 'receiving|checking|indexing' e.tty &&
	 \"$KAIRAN\" --home a show 372081/case/one-more >/dev/null"

# a sync that fails part-way (state.db cannot grow past ulimit -f): the line is ended before the warning
town g
( trap '' XFSZ; ulimit -f 1500; KAIRAN_PROGRESS_DELAY=0 LC_ALL=C "$KAIRAN" --home g sync --progress >g.out 2>g.err )
grc=$?
tr '\r' '\n' <g.err | grep -v '^$' | tail -3 | sed 's/^/# /'
check "a sync that fails part-way ends its progress line before the warning (exit $grc)" sh -c \
	"test $grc = 1 && grep -q 'cases: ' g.err && grep -q '^[0-9:]* kairan\[warn\]: .*disk' g.err &&
	 ! tr '\r' '\n' <g.err | grep -q ')[0-9:]* kairan'"

# reindex
KAIRAN_PROGRESS_DELAY=0 LC_ALL=C k --home a reindex --progress >r.out 2>r.err
steps r.err >r.steps
sed 's/^/# /' r.steps
check "reindex --progress: checking and indexing every item" sh -c \
	"grep -qx 'cases: checking files 100% ($((N + 1))/$((N + 1))), done.' r.steps &&
	 grep -qx 'cases: indexing items 100% ($((N + 1))/$((N + 1))), done.' r.steps && grep -q 'reindexed $((N + 1)) item' r.out"
check "the index after it answers as before" sh -c "\"$KAIRAN\" --home a search 第999号 | grep -q p-999"

# a daemon's first sync: in its log (delay 0: each step from its start, then a line a second at most)
town f
export KAIRAN_PROGRESS_DELAY=0
LC_ALL=C serve f $((P + 2)) $((P + 3))
unset KAIRAN_PROGRESS_DELAY
wait_for 60 sh -c "test \$(sqlite3 f/state.db \"SELECT count(*) FROM items WHERE publisher = '$F'\") = $((N + 1))"
sed -n 's/^.*\(cases: [a-z]* [a-z]* .*\)$/# \1/p' f.log
check "the daemon logs receiving, checking and indexing of its first sync, each with its end" sh -c \
	"grep -q 'cases: receiving objects 100% .*, done\.' f.log &&
	 grep -q 'cases: checking files 100% ($((N + 1))/$((N + 1))), done\.' f.log &&
	 grep -q 'cases: indexing items 100% ($((N + 1))/$((N + 1))), done\.' f.log"
secs=$(awk -F: '/cases: (receiving|checking|indexing)/ { n++ } END { print n + 0 }' f.log)
check "its log holds a line a second at most, not one per file ($secs)" test "$secs" -le $((N / 10))

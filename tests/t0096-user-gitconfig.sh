#!/bin/sh
# t0096 - no user or system git config is read (sharing/store.c: libgit2's
# config search paths are empty): a malformed ~/.gitconfig or
# $XDG_CONFIG_HOME/git/config stops neither a publish nor the node that
# announces it, and the town that follows verifies and holds what was
# published. (Before, a publish looked them up 50 times and stopped with
# "failed to parse config file".)
. "$(dirname "$0")/lib.sh"
plan 4
cd "$T"
P=$(port_base)
mkdir -p h/.config/git
printf '[core\n\tbroken = \n' >h/.gitconfig
cp h/.gitconfig h/.config/git/config
# git itself refuses such a config: the file is what the test says it is
check_fails "git refuses the malformed ~/.gitconfig" env HOME="$T/h" XDG_CONFIG_HOME="$T/h/.config" git config --global --list

k --home pub init --name 三豊市 --lg-code 372081 >/dev/null
FPR=$(k --home pub id --fingerprint)
sed -i "s/^web = .*/web = off/" pub/config
item 372081 first 最初の事例 >first.md
check "a publish with a malformed ~/.gitconfig succeeds" \
	env HOME="$T/h" XDG_CONFIG_HOME="$T/h/.config" "$KAIRAN" --home pub publish first.md
HOME="$T/h" XDG_CONFIG_HOME="$T/h/.config" "$KAIRAN" --home pub serve --listen tcp://127.0.0.1:$P \
	--announce tcp://127.0.0.1:$((P + 1)) >>pub.log 2>&1 &
_pids="$_pids $!"
wait_for 5 test -S pub/control.sock
k --home town init --name 西海市 --lg-code 422126 >/dev/null
sed -i "s/^web = .*/web = off/" town/config
k --home town follow tcp://127.0.0.1:$P --publisher "$FPR" >/dev/null
serve town $((P + 2)) $((P + 3))
item 372081 second 二番目の事例 >second.md
HOME="$T/h" XDG_CONFIG_HOME="$T/h/.config" "$KAIRAN" --home pub publish second.md >second.out 2>&1
sed "s/^/# /" second.out | head -3; sed "s/^/# pub: /" pub.log | tail -5
check "the running node (same config) announces the second publish" grep -q 'announced to peers by the running node' second.out
check "the town verified and holds both items" wait_for 20 sh -c "k() { \"$KAIRAN\" \"\$@\"; }; k --home town show 372081/case/first && k --home town show 372081/case/second"

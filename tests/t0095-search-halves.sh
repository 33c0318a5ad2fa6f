#!/bin/sh
# t0095 - a search of many rows runs in two halves, the upper one on a second
# connection and thread; both must read the same snapshot. splitrace forces
# the halves on every search while a second process deletes groups of 100
# items spread over the whole rowid range in one transaction and puts them
# back in another: every total must be whole groups, and the kind facet must
# add up to it. (With the snapshot check taken out of s_split_begin, this
# fails within seconds.) The writer is killed mid-transaction at the end;
# the file must still check out.
. "$(dirname "$0")/lib.sh"
plan 3
cd "$T"

"$TOOLS/splitrace" race.db 6 >race.out; rc=$?
diag "$(tail -1 race.out)"
check "searches in two halves beside a writer see whole transactions only" test $rc = 0
n=$(sed -n 's/^\([0-9]*\) searches.*/\1/p' race.out)
check "and there were enough of them to tell (${n:-0} >= 50)" test "${n:-0}" -ge 50

check "the writer killed mid-transaction leaves a database that checks out" sh -c "sqlite3 race.db 'PRAGMA quick_check' | grep -qx ok"

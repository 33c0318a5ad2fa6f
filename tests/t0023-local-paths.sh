#!/bin/sh
# t0023 - arguments and files that would lead a command outside where it
# belongs: log/show/diff/export with ../ in what becomes a path, publish
# of a DIR holding symbolic links (out of DIR, inside it, a -> . loops), a
# FIFO and a very deep tree, import/derive/export with -o ''. Each is
# refused quickly with a message naming the argument or path, and nothing
# is published or written.
. "$(dirname "$0")/lib.sh"
plan 24
cd "$T"

k --home h init --name 三豊市 --lg-code 372081 >/dev/null
k --home h publish "$SRC/deploy/samples/372081" >/dev/null
before=$(state_fingerprint h)

# A git repository outside the home, where log self/../../../X would land.
git init -q --bare X.git
git -C X.git -c user.name=x -c user.email=x@example.invalid commit-tree \
	"$(git -C X.git hash-object -w -t tree /dev/null)" -m 'secret outside the home' >X.head
git -C X.git update-ref refs/heads/main "$(cat X.head)"
k --home h log 'self/../../../X' >log.out 2>log.err; rc=$?
check "log self/../../../X is refused as a usage error (exit 2, got $rc)" test $rc = 2
check "and says the collection name is not one" grep -q "'../../../X' is not a collection name" log.err
check_fails "nothing of the outside repository is shown" grep -q secret log.out log.err
k --home h log '372081/../cases' >/dev/null 2>log2.err; rc=$?
check "log PUB/../COLL is refused too (exit $rc)" test $rc = 2
log_ok() { k --home h log self/cases | grep -q ' signed '; }
check "an ordinary log still works" log_ok

k --home h show '372081/case/../../../X@0123' >show.out 2>show.err; rc=$?
check "show with ../ in the id fails (exit $rc)" test $rc != 0
check "naming the id" grep -q "no item 372081/case/../../../X on this node" show.err
k --home h show '372081/case/gomi-chatbot-poc@../../X' >/dev/null 2>show2.err; rc=$?
check "show ID@../.. is refused: a commit is 4 to 40 hex digits (exit $rc)" \
	sh -c "test $rc = 2 && grep -q 'is not a commit id' show2.err"
check_fails "diff with ../ in the id fails" k --home h diff '372081/case/../../../X'
check_fails "export with ../ in the id fails" k --home h export '372081/dataset/../../../X'
check "nothing changed in the home" test "$before" = "$(state_fingerprint h)"

# publish DIR: links are refused, naming the path, and nothing is published.
mkdir -p outside in/cases
printf 'secret\n' >outside/secret.md
item 372081 ok-item 正しい事例 >in/cases/ok-item.md
ln -s ../../outside/secret.md in/cases/evil.md
k --home h publish in >pub1.out 2>pub1.err; rc=$?
check "publish refuses a link out of DIR (exit $rc)" test $rc = 1
check "naming it" grep -q "in/cases/evil.md is a symbolic link" pub1.err
rm in/cases/evil.md
ln -s ok-item.md in/cases/alias.md
check_fails "a link inside DIR is refused as well" k --home h publish in
rm in/cases/alias.md
ln -s . in/cases/a
ln -s . in/cases/b
t0=$(now_ms)
timeout 10 "$KAIRAN" --home h publish in >loop.out 2>loop.err; rc=$?
t1=$(now_ms)
diag "publish over a -> . and b -> . took $((t1 - t0)) ms (bound 2000), exit $rc"
check "two a -> . links: publish ends quickly with an error" sh -c "test $rc = 1 && test $((t1 - t0)) -lt 2000"
check "naming the link" grep -q 'in/cases/a is a symbolic link' loop.err
rm in/cases/a in/cases/b
mkfifo in/cases/pipe.md
t0=$(now_ms)
timeout 10 "$KAIRAN" --home h publish in >/dev/null 2>fifo.err; rc=$?
t1=$(now_ms)
check "a FIFO named *.md is refused at once ($((t1 - t0)) ms), not read forever" \
	sh -c "test $rc = 1 && grep -q 'pipe.md is not a regular file' fifo.err"
rm in/cases/pipe.md
d=in/deep; for i in $(seq 20); do d=$d/d; done; mkdir -p "$d"
check_fails "a tree 20 directories deep is refused" k --home h publish in
cp last.out deep.out
check "with the depth named" grep -q 'in/deep/d/d/.*/d is more than 16 directories deep' deep.out
rm -rf in/deep
check "nothing was published by any refused publish" test "$before" = "$(state_fingerprint h)"
check "with the links gone, the same DIR publishes" k --home h publish in

# -o '' (an empty directory name once over-read the heap)
printf '%s\r\n' 'スラッグ,タイトル' 'x,題名' >one.csv
k --home h import one.csv --kind case -o '' >imp.out 2>imp.err; rc=$?
check "import -o '' is a usage error (exit $rc)" sh -c "test $rc = 2 && grep -q -- '-o needs a directory name' imp.err"
printf '%s\r\n' 'スラッグ,タイトル,分野,AI用途,出典,出典発行者' '../../escaped,題名,観光,対話生成,資料,三豊市' >slug.csv
k --home h import slug.csv --kind case -o imp >/dev/null 2>slug.err
check "a CSV slug with ../ writes no file anywhere" sh -c "test ! -e escaped.md && test ! -e ../escaped.md && ! ls imp/*.md 2>/dev/null | grep -q ."
empty_o() {
	k --home h export 370002/dataset/gomi-qa -o '' 2>/dev/null; [ $? = 2 ] || return 1
	k --home h derive 372081/guideline/ai-guideline --slug x -o '' 2>/dev/null; [ $? = 2 ] || return 1
	test ! -e /x.md
}
check "export and derive -o '' are usage errors" empty_o

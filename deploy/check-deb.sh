#!/bin/sh
# deploy/check-deb.sh DEB BUILD - what `make check-deb` does.
#
# A fresh Debian 12 (bookworm) root by debootstrap (minbase), cached as
# BUILD/debian12-root.tar so reruns skip the download; the package is
# installed into it by apt (which fetches its dependencies from the
# mirror, DEBIAN_MIRROR, default deb.debian.org, and keeps them in
# BUILD/check-deb-apt for the next run); then, in the root:
# the _kairan user and /var/lib/kairan exist, a node is initialised there
# as _kairan, `config check` and `kairan status` pass, the unit and man
# pages are in place; purge with debconf's default answer keeps the home
# (it holds the signing key), and purge answered "yes" removes it.
# Needs root. Prints TAP; exits non-zero on any failure.
set -u
DEB=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
BUILD=$(cd "$2" && pwd)
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE=$BUILD/debian12-root.tar
ROOT=$BUILD/check-deb-root
n=0
fail=0
start=$(date +%s)

[ "$(id -u)" = 0 ] || { echo "make check-deb needs root (debootstrap, chroot, mount): run it with sudo"; exit 1; }
for tool in debootstrap chroot; do
	command -v $tool >/dev/null || { echo "make check-deb needs $tool: sudo apt-get install -y debootstrap"; exit 1; }
done

ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $*"; }
check() { d=$1; shift; if "$@" >"$BUILD/check-deb.last" 2>&1; then ok "$d"; else not_ok "$d"; sed 's/^/# /' "$BUILD/check-deb.last"; fi; }
in_root() { chroot "$ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "$@"; }
as_kairan() { in_root runuser -u _kairan -- "$@"; }

cleanup() {
	for m in proc dev/pts dev sys var/cache/apt/archives; do umount "$ROOT/$m" 2>/dev/null; done
	if ! grep -q " $ROOT/" /proc/mounts; then rm -rf "$ROOT"; fi
}
trap cleanup EXIT
cleanup

if [ ! -f "$CACHE" ]; then
	echo "# debootstrap bookworm from $MIRROR (first run; cached as $CACHE)"
	mkdir -p "$ROOT"
	if ! debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR" >"$BUILD/debootstrap.log" 2>&1; then
		tail -20 "$BUILD/debootstrap.log"
		echo "debootstrap failed (log: $BUILD/debootstrap.log)"
		exit 1
	fi
	tar -C "$ROOT" -cf "$CACHE.tmp" . && mv "$CACHE.tmp" "$CACHE"
	rm -rf "$ROOT"
fi
mkdir -p "$ROOT"
tar -C "$ROOT" -xf "$CACHE"
mount -t proc proc "$ROOT/proc"
mount --bind /dev "$ROOT/dev"
# downloaded packages are kept between runs too (apt still fetches fresh lists)
mkdir -p "$BUILD/check-deb-apt/partial" "$ROOT/var/cache/apt/archives"
mount --bind "$BUILD/check-deb-apt" "$ROOT/var/cache/apt/archives"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
cp "$DEB" "$ROOT/tmp/kairan.deb"
echo "1..13"
check "apt installs the package and its dependencies into a fresh Debian 12 root" \
	sh -c "chroot '$ROOT' env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive apt-get update -q &&
		chroot '$ROOT' env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive apt-get install -y -q /tmp/kairan.deb"
check "the _kairan system user exists" sh -c "chroot '$ROOT' getent passwd _kairan | grep -q ':/var/lib/kairan:/usr/sbin/nologin'"
check "/var/lib/kairan belongs to it, mode 750" test "$(chroot "$ROOT" stat -c '%U %a' /var/lib/kairan)" = "_kairan 750"
check "the unit, the man pages, the completion and the guide are installed" sh -c "
	test -f '$ROOT/lib/systemd/system/kairan.service' && test -f '$ROOT/usr/share/man/man1/kairan.1.gz' &&
	test -f '$ROOT/usr/share/man/man5/kairan-config.5.gz' && test -f '$ROOT/usr/share/bash-completion/completions/kairan' &&
	test -f '$ROOT/usr/share/doc/kairan/運用.md' && test -f '$ROOT/usr/share/doc/kairan/config.example'"
check "kairan runs there (its libraries resolved)" in_root kairan --version
check "a node is initialised in /var/lib/kairan as _kairan" as_kairan kairan --home /var/lib/kairan init --name 三豊市 --lg-code 372081
check "config check passes (the service's ExecStartPre)" as_kairan kairan --home /var/lib/kairan config check
check "kairan status" as_kairan kairan --home /var/lib/kairan status
sed 's/^/# /' "$BUILD/check-deb.last"
check "publish the installed samples" as_kairan kairan --home /var/lib/kairan publish /usr/share/kairan/samples/372081
check "purge with debconf's default answer keeps the home and its key" sh -c "
	chroot '$ROOT' env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive apt-get purge -y -q kairan &&
	test -f '$ROOT/var/lib/kairan/keys/node.ed25519' && test ! -e '$ROOT/usr/bin/kairan'"
check "reinstalled, it finds the kept node" sh -c "
	chroot '$ROOT' env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive apt-get install -y -q /tmp/kairan.deb &&
	chroot '$ROOT' runuser -u _kairan -- kairan --home /var/lib/kairan status"
check "purge answered yes removes the home" sh -c "
	echo 'kairan kairan/purge_home boolean true' | chroot '$ROOT' debconf-set-selections &&
	chroot '$ROOT' env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive apt-get purge -y -q kairan &&
	test ! -e '$ROOT/var/lib/kairan'"
check "the user stays (Debian keeps system users)" sh -c "chroot '$ROOT' getent passwd _kairan >/dev/null"
echo "# check-deb: $(( $(date +%s) - start )) s (root from $( [ -f "$CACHE" ] && echo cache ))"
[ "$fail" = 0 ]

#!/bin/sh
# packaging/deb/mkdeb.sh STAGE VERSION ARCH OUT - make the Debian package OUT
# from STAGE, a tree made by `make install DESTDIR=STAGE PREFIX=/usr`.
#
# Plain dpkg-deb, no debhelper: this adds what a package holds beyond
# `make install` (the configuration file, the systemd units, the docs, the
# control files and maintainer scripts), strips the program and the kiosk's
# shared object, and takes Depends from dpkg-shlibdeps plus what the
# program opens or runs without linking it.  Every file is root's in the package, whoever builds it.
set -eu
stage=$1
version=$2
arch=$3
out=$4
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
umask 022

# The changelog's top entry names the version: a new VERSION needs an entry.
cl=$(dpkg-parsechangelog -l "$here/changelog" -S Version)
if [ "$cl" != "$version" ]; then
	echo "deb: packaging/deb/changelog says $cl, the Makefile $version: add an entry" >&2
	exit 1
fi
# File times in the package are the changelog's date: same tree, same .deb.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(dpkg-parsechangelog -l "$here/changelog" -S Timestamp)}
export SOURCE_DATE_EPOCH

bin=$stage/usr/bin/ledgerchat
# The kiosk: a private shared object the program loads when the kiosk
# starts (src/ui/plugin.h), in the package's own directory, with no SONAME.
ui=$stage/usr/lib/ledgerchat/ledgerchat-ui.so
[ -x "$bin" ] || { echo "deb: $bin is missing (make install first)" >&2; exit 1; }
[ -f "$ui" ] || { echo "deb: $ui is missing (make install first)" >&2; exit 1; }
for f in "$bin" "$ui"; do
	${STRIP:-strip} --strip-unneeded --remove-section=.comment --remove-section=.note "$f"
done
gzip -9nf "$stage/usr/share/man/man1/ledgerchat.1"

install -D -m 0644 "$top/packaging/ledgerchat.conf" "$stage/etc/ledgerchat/ledgerchat.conf"
# /lib, not /usr/lib: Debian 12 keeps its units there (the /usr move came later).
for u in ledgerchat-node.service ledgerchat-kiosk.service; do
	install -D -m 0644 "$top/packaging/systemd/$u" "$stage/lib/systemd/system/$u"
done

doc=$stage/usr/share/doc/ledgerchat
install -d "$doc"
install -m 0644 "$here/copyright" "$doc/copyright"
gzip -9nc "$here/changelog" > "$doc/changelog.Debian.gz"
gzip -9nc "$top/README.md" > "$doc/README.md.gz"
gzip -9nc "$top/docs/KIOSK.md" > "$doc/KIOSK.md.gz"
if [ -s "$here/lintian-overrides" ]; then
	install -D -m 0644 "$here/lintian-overrides" "$stage/usr/share/lintian/overrides/ledgerchat"
fi

# Depends: the libraries the program and its kiosk link, as dpkg-shlibdeps
# finds them
# (it wants a debian/control, and finds the package's root by its DEBIAN),
# and what the program needs unlinked:
# adduser for postinst, the DejaVu fonts the kiosk opens and the Noto fonts
# of its fallback chain (other scripts, CJK, colour emoji), and libinih1 for
# the configuration file (added here until the program links it).
# Recommends (control.in): EGL, GLES and Mesa's drivers, which SDL opens at
# run time to draw on a console through KMS/DRM; the headless node and a
# kiosk under X11 or Wayland do without.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/debian"
printf 'Source: ledgerchat\n\nPackage: ledgerchat\nArchitecture: any\n' > "$work/debian/control"
mkdir -p "$stage/DEBIAN"
abs_stage=$(cd "$stage" && pwd)
shlibs=$(cd "$work" && DEB_HOST_ARCH=$arch dpkg-shlibdeps -O "$abs_stage/usr/bin/ledgerchat" \
	 "$abs_stage/usr/lib/ledgerchat/ledgerchat-ui.so" |
	 sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || { echo "deb: dpkg-shlibdeps found no libraries" >&2; exit 1; }
depends="$shlibs, adduser, fonts-dejavu-core, fonts-noto-core, fonts-noto-cjk, fonts-noto-color-emoji"
case ", $shlibs," in
*", libinih1"*) ;;
*) depends="$depends, libinih1" ;;
esac

size=$(du -sk --apparent-size --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s#@VERSION@#$version#" -e "s#@ARCH@#$arch#" -e "s#@SIZE@#$size#" \
    -e "s#@DEPENDS@#$depends#" "$here/control.in" > "$stage/DEBIAN/control"
(cd "$stage" && find etc -type f | sed 's#^#/#' | LC_ALL=C sort) > "$stage/DEBIAN/conffiles"
for s in postinst prerm postrm; do
	install -m 0755 "$here/$s" "$stage/DEBIAN/$s"
done
# md5sums of every file but the conffiles, which dpkg keeps apart.
(cd "$stage" && find . -type f ! -path './DEBIAN/*' ! -path './etc/*' | sed 's#^\./##' |
	LC_ALL=C sort | xargs md5sum) > "$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/conffiles" "$stage/DEBIAN/md5sums"

mkdir -p "$(dirname "$out")"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out" > /dev/null
echo "deb: $out"

#!/bin/sh
# test-install.sh MESON BUILD_DIR PREFIX BINDIR DATADIR
# `meson install` into a temporary DESTDIR gives a working application: the
# programs, the .desktop file, the metainfo, the settings schema and the
# icons land where the desktop looks for them, the installed explorer starts
# and shows its window (on the display xvfb-run gives this script), and
# both installed programs answer --help. Writes only under $TMPDIR.
set -eu
meson=$1 build=$2 prefix=$3 bindir=$4 datadir=$5
app_id=org.instdisc.Explorer

tmp=$(mktemp -d "${TMPDIR:-/tmp}/instdisc-install-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail () {
  echo "FAIL: $*" >&2
  exit 1
}

"$meson" install -C "$build" --destdir "$tmp/root" --no-rebuild --quiet \
  || fail "meson install"
root=$tmp/root$prefix
# bindir and datadir are relative to the prefix unless given absolute
case $bindir in /*) bin=$tmp/root$bindir ;; *) bin=$root/$bindir ;; esac
case $datadir in /*) share=$tmp/root$datadir ;; *) share=$root/$datadir ;; esac

for f in \
  "$bin/instdisc" \
  "$bin/instdisc-explorer" \
  "$share/applications/$app_id.desktop" \
  "$share/metainfo/$app_id.metainfo.xml" \
  "$share/glib-2.0/schemas/$app_id.gschema.xml" \
  "$share/icons/hicolor/scalable/apps/$app_id.svg" \
  "$share/icons/hicolor/symbolic/apps/$app_id-symbolic.svg"
do
  [ -f "$f" ] || fail "not installed: ${f#"$tmp/root"}"
  echo "installed: ${f#"$tmp/root"}"
done
[ -x "$bin/instdisc" ] && [ -x "$bin/instdisc-explorer" ] \
  || fail "the programs are not executable"
# the installed .desktop file launches the installed program by name
grep -q "^Exec=instdisc-explorer" "$share/applications/$app_id.desktop" \
  || fail "the .desktop file's Exec is not instdisc-explorer"
# and both it and the metainfo carry the Chinese translation from po/
grep -q "^Comment\[zh_CN\]=" "$share/applications/$app_id.desktop" \
  || fail "the .desktop file has no zh_CN Comment"
grep -q 'xml:lang="zh_CN"' "$share/metainfo/$app_id.metainfo.xml" \
  || fail "the metainfo has no zh_CN text"

# With a DESTDIR meson leaves compiling the schemas to the packager: do it
# as a package's trigger would, into a folder of our own.
mkdir "$tmp/schemas"
glib-compile-schemas --strict --targetdir="$tmp/schemas" \
  "$share/glib-2.0/schemas" || fail "glib-compile-schemas"

"$bin/instdisc" --help >"$tmp/cli-help.txt" 2>&1 \
  || { cat "$tmp/cli-help.txt" >&2; fail "instdisc --help"; }
grep -q "train" "$tmp/cli-help.txt" || fail "instdisc --help names no train"
echo "instdisc --help: ok"

# --help answers without a display
env -u DISPLAY -u WAYLAND_DISPLAY GSETTINGS_SCHEMA_DIR="$tmp/schemas" \
  "$bin/instdisc-explorer" --help >"$tmp/explorer-help.txt" 2>&1 \
  || { cat "$tmp/explorer-help.txt" >&2; fail "instdisc-explorer --help"; }
grep -q "RUN_DIR" "$tmp/explorer-help.txt" \
  || fail "instdisc-explorer --help names no RUN_DIR"
echo "instdisc-explorer --help: ok"

# The explorer with only the installed files: the schema from there, the
# icons from there, and --quit-when-shown to close its window once it is
# on the screen (exit 0 only then). The build tree is out of its sight.
status=0
env GSETTINGS_SCHEMA_DIR="$tmp/schemas" GSETTINGS_BACKEND=memory \
  XDG_DATA_DIRS="$share:${XDG_DATA_DIRS:-/usr/local/share:/usr/share}" \
  timeout 120 "$bin/instdisc-explorer" --quit-when-shown \
  >"$tmp/explorer.txt" 2>&1 || status=$?
cat "$tmp/explorer.txt"
[ "$status" -eq 0 ] || fail "instdisc-explorer --quit-when-shown exited $status"
grep -q "window shown" "$tmp/explorer.txt" \
  || fail "instdisc-explorer did not show its window"
echo "instdisc-explorer: ok"

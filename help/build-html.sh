#!/bin/sh
# Builds the HTML of the Mallard help for one language, which the explorer
# opens in a web browser where Yelp is missing (and always from the build
# tree, where Yelp cannot find pages that are not installed):
#
#   build-html.sh OUT_DIR HELP_DIR LANG PAGE...
#
# C: the pages of HELP_DIR/C as they are. Another language: its pages
# made from HELP_DIR/LANG/LANG.po with itstool, as gnome.yelp makes the
# installed ones. Then yelp-build html writes OUT_DIR/index.html and the
# rest, figures included. Tools come from the environment (YELP_BUILD,
# ITSTOOL, MSGFMT) or PATH.
set -eu
YELP_BUILD=${YELP_BUILD:-yelp-build}
ITSTOOL=${ITSTOOL:-itstool}
MSGFMT=${MSGFMT:-msgfmt}

out=$1 help_dir=$2 lang=$3
shift 3
case $out in /*) ;; *) out=$(pwd)/$out ;; esac
tmp=$(mktemp -d "${TMPDIR:-/tmp}/instdisc-help-html.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/pages/figures"
cp "$help_dir"/C/figures/* "$tmp/pages/figures/"
if [ "$lang" = C ]; then
  for page in "$@"; do cp "$help_dir/C/$page" "$tmp/pages/"; done
else
  "$MSGFMT" -o "$tmp/$lang.mo" "$help_dir/$lang/$lang.po"
  pages=""
  for page in "$@"; do pages="$pages $help_dir/C/$page"; done
  # shellcheck disable=SC2086
  "$ITSTOOL" -m "$tmp/$lang.mo" -o "$tmp/pages/" $pages
fi
rm -rf "$out"
mkdir -p "$out"
(
  cd "$tmp/pages"
  "$YELP_BUILD" html -o "$out/" ./*.page
)
# yelp-build copies the figures the pages name; the output must exist
[ -f "$out/index.html" ]

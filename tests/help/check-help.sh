#!/bin/sh
# Checks of the Mallard help in help/ (see tests/help/meson.build).
#
#   check-help.sh pages HELP_DIR PAGE... -- MEDIA...
#       the C pages validate (strict Mallard 1.0, plus ITS attributes), every
#       xref resolves, every page id matches its file name, every page is
#       reachable from index.page, every referenced figure exists; and the
#       lists of help/meson.build name exactly the pages and figures there
#       are, so that everything the pages need is installed.
#   check-help.sh po HELP_DIR LANG PAGE...
#       LANG/LANG.po translates every message of the current pages: the
#       template is made again with itstool, merged with msgmerge, and any
#       untranslated or fuzzy message fails, naming it.
#   check-help.sh translated HELP_DIR LANG PAGE...
#       the pages built from LANG/LANG.po (as gnome.yelp builds them) merge
#       without itstool warnings and pass the same checks as the C pages.
#
# Tools come from the environment (YELP_CHECK, ITSTOOL, MSGMERGE, MSGFMT,
# MSGATTRIB) or PATH. Prints what failed; the exit status is non-zero then.
set -u

YELP_CHECK=${YELP_CHECK:-yelp-check}
ITSTOOL=${ITSTOOL:-itstool}
MSGMERGE=${MSGMERGE:-msgmerge}
MSGFMT=${MSGFMT:-msgfmt}
MSGATTRIB=${MSGATTRIB:-msgattrib}
ITS_NS=http://www.w3.org/2005/11/its

failures=0
fail () {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-help.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# run_check NAME COMMAND...: a yelp-check command must exit 0 and print
# nothing (links, ids, media and orphans list what they find)
run_check () {
  name=$1; shift
  if ! "$@" >"$tmp/out" 2>&1 || [ -s "$tmp/out" ]; then
    fail "yelp-check $name:"
    sed 's/^/    /' "$tmp/out"
  fi
}

# check_pages DIR PAGE...: the yelp-check checks on the pages in DIR
check_pages () {
  dir=$1; shift
  (
    cd "$dir" || exit 1
    run_check validate "$YELP_CHECK" validate --strict --allow "$ITS_NS" "$@"
    run_check links "$YELP_CHECK" links "$@"
    run_check ids "$YELP_CHECK" ids "$@"
    run_check media "$YELP_CHECK" media "$@"
    run_check orphans "$YELP_CHECK" orphans "$@"
    exit $failures
  ) || failures=$((failures + $?))
}

mode=${1:-}
help_dir=${2:-}
[ -n "$mode" ] && [ -d "$help_dir/C" ] || {
  echo "usage: $0 pages|po|translated HELP_DIR ..." >&2
  exit 2
}
shift 2

case $mode in
  pages)
    pages=""
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do
      pages="$pages $1"; shift
    done
    [ $# -gt 0 ] && shift
    media="$*"
    # shellcheck disable=SC2086
    check_pages "$help_dir/C" $pages
    for f in "$help_dir"/C/*.page; do
      name=$(basename "$f")
      case " $pages " in
        *" $name "*) ;;
        *) fail "$name is not in help_pages of help/meson.build (not installed)" ;;
      esac
    done
    for p in $pages; do
      [ -f "$help_dir/C/$p" ] || fail "help_pages names $p, which does not exist"
    done
    # every figure a page shows must be installed with it
    for src in $(cd "$help_dir/C" && sed -n 's/.*<media [^>]*src="\([^"]*\)".*/\1/p' $pages | sort -u); do
      case " $media " in
        *" $src "*) ;;
        *) fail "$src is shown but not in help_media of help/meson.build" ;;
      esac
    done
    for m in $media; do
      [ -f "$help_dir/C/$m" ] || fail "help_media names $m, which does not exist"
    done
    ;;

  po|translated)
    lang=${1:-}
    [ -n "$lang" ] || { echo "$0 $mode: no language" >&2; exit 2; }
    shift
    po="$help_dir/$lang/$lang.po"
    [ -f "$po" ] || { fail "$po does not exist"; exit 1; }
    pot="$tmp/help.pot"
    (cd "$help_dir/C" && "$ITSTOOL" -o "$pot" "$@") \
      || { fail "itstool could not extract the messages"; exit 1; }
    if ! "$MSGFMT" --check -o /dev/null "$po" 2>"$tmp/err"; then
      fail "msgfmt --check $lang/$lang.po:"
      sed 's/^/    /' "$tmp/err"
    fi
    "$MSGMERGE" --quiet -o "$tmp/merged.po" "$po" "$pot" \
      || { fail "msgmerge failed"; exit 1; }

    if [ "$mode" = po ]; then
      # "N translated messages, N fuzzy translations, N untranslated
      # messages." (the last two only when not zero)
      stats=$(LC_ALL=C "$MSGFMT" --statistics -o /dev/null "$tmp/merged.po" 2>&1)
      echo "$lang: $stats"
      for kind in fuzzy untranslated; do
        n=$(echo "$stats" | tr ',' '\n' | sed -n "s/^ *\([0-9][0-9]*\) $kind.*/\1/p")
        if [ -n "$n" ] && [ "$n" -gt 0 ]; then
          fail "$lang/$lang.po: $n $kind message(s) of the current pages;" \
               "run ninja help-instdisc-update-po and translate them:"
          if [ $kind = fuzzy ]; then only=--only-fuzzy; else only=--untranslated; fi
          "$MSGATTRIB" $only --no-obsolete --no-wrap "$tmp/merged.po" \
            | grep '^msgid "..*"$' | head -40 | sed 's/^/    /'
        fi
      done
    else
      "$MSGFMT" -o "$tmp/$lang.mo" "$tmp/merged.po" \
        || { fail "msgfmt could not compile the merged translation"; exit 1; }
      mkdir -p "$tmp/$lang"
      (cd "$help_dir/C" \
        && "$ITSTOOL" -m "$tmp/$lang.mo" --lang "$lang" -o "$tmp/$lang/" "$@") \
        >"$tmp/itstool.out" 2>&1
      status=$?
      # itstool falls back to the English text, with a warning, when a
      # translation's markup does not fit: that must not pass unnoticed
      if [ $status -ne 0 ] || [ -s "$tmp/itstool.out" ]; then
        fail "itstool -m $lang.mo (exit status $status):"
        sed 's/^/    /' "$tmp/itstool.out"
      fi
      # the figures are shared with C (gnome.yelp links them)
      [ -d "$help_dir/C/figures" ] && ln -s "$help_dir/C/figures" "$tmp/$lang/figures"
      for p in "$@"; do
        [ -f "$tmp/$lang/$p" ] || fail "itstool wrote no $lang/$p"
        grep -q "xml:lang=\"$lang\"" "$tmp/$lang/$p" \
          || fail "$lang/$p is not marked xml:lang=\"$lang\""
      done
      check_pages "$tmp/$lang" "$@"
    fi
    ;;

  *)
    echo "$0: unknown mode $mode" >&2
    exit 2
    ;;
esac

if [ $failures -gt 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "ok"
exit 0

#!/usr/bin/env bash
# The gettext catalogues of the API's messages (service/core/locale/<language>/LC_MESSAGES).
#   scripts/messages.sh extract   write build/messages.pot from the message("…") calls in service/
#   scripts/messages.sh update    extract, then merge the new msgids into each language's .po
#                                 (new entries are empty: a translator fills them in the .po;
#                                 tests/core/test_translations.py fails until they are)
#   scripts/messages.sh init LANG start the .po of a new language (zh_Hans, zh_Hant, en)
# Nothing to compile: the service reads the .po files themselves (service/core/translations.py).
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=.venv/bin/pybabel
LOCALE=service/core/locale
POT=build/messages.pot
extract() {
  mkdir -p build
  "$PYBABEL" extract -F babel.cfg --no-default-keywords -k message -k _ \
    --no-location --sort-output --width 100 --project policy-match -o "$POT" service
}
case "${1:-}" in
  extract) extract ;;
  update)
    extract
    "$PYBABEL" update -i "$POT" -d "$LOCALE" -D messages --no-fuzzy-matching \
      --ignore-obsolete --width 100
    ;;
  init)
    extract
    "$PYBABEL" init -i "$POT" -d "$LOCALE" -D messages -l "${2:?language, e.g. zh_Hant}"
    ;;
  *)
    sed -n '2,8p' "$0"
    exit 2
    ;;
esac

#!/usr/bin/env bash
# Every package of the repository (a folder with a BUILD file, third_party/ aside) calls text_sources() and is
# listed in tests/docs/BUILD, so that //tests/docs:citations_test reads its files. Bazel cannot see packages a
# test does not name, so .ci/run runs this check on the checkout itself.
#   tests/docs/package_list_check.sh        (from the repository root; exit 1 naming what is missing)
set -uo pipefail
cd "$(dirname "$0")/../.."
listed=tests/docs/BUILD
missing=0
while read -r build; do
  dir=$(dirname "$build")
  label="//${dir}:text_sources"
  [[ $dir == . ]] && label="//:text_sources"
  if ! grep -q 'text_sources(' "$build"; then
    echo "package_list_check: $build does not call text_sources() (tests/docs/text_sources.bzl)"
    missing=1
  fi
  if [[ $dir != tests/docs ]] && ! grep -qF "\"$label\"" "$listed"; then
    echo "package_list_check: $label is not listed in $listed, so citations_test does not read it"
    missing=1
  fi
done < <(git ls-files --cached --others --exclude-standard -- 'BUILD' '*/BUILD' | grep -v '^third_party/')
if ((missing == 0)); then
  echo "package_list_check: PASS: every package is read by citations_test"
fi
exit "$missing"

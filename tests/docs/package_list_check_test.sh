#!/usr/bin/env bash
# tests/docs/package_list_check.sh on a small repository made here: it passes when every package calls
# text_sources() and is listed in tests/docs/BUILD, and names each package that does not.
set -uo pipefail
script=$(realpath "$1")
repo="${TEST_TMPDIR:-/tmp}/package_list_repo"
rm -rf "$repo" && mkdir -p "$repo/tests/docs" "$repo/a" "$repo/third_party"
cd "$repo" && git init -q .
cp "$script" tests/docs/package_list_check.sh
printf 'sh_test(name = "citations_test", data = ["//:text_sources", "//a:text_sources"])\ntext_sources()\n' \
  > tests/docs/BUILD
echo 'text_sources()' > BUILD
echo 'text_sources()' > a/BUILD
echo 'cc_library(name = "not_ours")' > third_party/BUILD  # never read

fail() { echo "FAIL: $*"; exit 1; }
out=$(bash tests/docs/package_list_check.sh) || fail "a complete list was refused: $out"
[[ $out == *PASS* ]] || fail "no PASS line: $out"

mkdir b && echo 'cc_library(name = "b")' > b/BUILD
out=$(bash tests/docs/package_list_check.sh) && fail "a missing package passed: $out"
[[ $out == *"b/BUILD does not call text_sources()"* ]] || fail "the missing call is not named: $out"
[[ $out == *"//b:text_sources is not listed"* ]] || fail "the missing listing is not named: $out"
[[ $out != *third_party* ]] || fail "third_party was read: $out"
echo "PASS: package_list_check accepts a complete list and names what is missing"

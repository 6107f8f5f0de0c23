#!/usr/bin/env bash
# Citations stay followable (docs/DEVELOPING.md, "Conventions"):
#  (a) every section cited as "reference §N", or as a bare "§N", is a numbered heading of docs/reference_code.md
#      (a range "§N-M" checks both ends); sections of the paper are written "paper §N" (a list that starts with
#      "paper §N", as in "paper §N, §M" or "paper §N and §M", stays the paper's) and are not checked here;
#  (b) no file names a document that is not in the repository (the names in `forbidden` below).
#
# Under Bazel the files are the test's runfiles (each package's :text_sources filegroup). By hand,
# `tests/docs/citations_test.sh [ROOT]` checks the checkout at ROOT (default: the one holding this script),
# skipping .git, bazel-* and third_party/.
set -uo pipefail

if [[ $# -ge 1 ]]; then
  root=$1
elif [[ -n ${TEST_SRCDIR:-} ]]; then
  root=$TEST_SRCDIR/${TEST_WORKSPACE:-__main__}
else
  root=$(cd "$(dirname "$0")/../.." && pwd)
fi
readonly page_rel=docs/reference_code.md
readonly page=$root/$page_rel
# Written in pieces so that this file does not name them itself.
readonly forbidden=("gcl_official""_code.md" "paper_gcl""_cvpr2021.md" "../""shared" "/work/""shared")

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

[[ -f $page ]] || fail "$page_rel not found under $root"

# The project's text files; under Bazel everything in the runfiles is one of them.
mapfile -t files < <(cd "$root" && find -L . \( -name .git -o -name 'bazel-*' -o -name third_party -o -name external \) \
  -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort)
((${#files[@]} > 0)) || fail "no files under $root"

# Section numbers of the page: headings "## 5. Title", "### 13.12 Title".
headings=$(sed -nE 's/^#{2,6} ([0-9]+(\.[0-9]+)*)\.? .*/\1/p' "$page" | tr '\n' ' ')
[[ -n $headings ]] || fail "$page_rel has no numbered headings"
echo "citations_test: ${#files[@]} files under $root"
echo "  (a) every 'reference §N' / bare '§N' names a heading of $page_rel: $headings"
echo "  (b) no file names ${forbidden[*]}"

problems=$(mktemp "${TEST_TMPDIR:-/tmp}/citations_test.XXXXXX")
trap 'rm -f "$problems"' EXIT

# (a) grep prints file:line:text for every line with a section sign; awk walks the citations of each line.
cited=$(cd "$root" && printf '%s\0' "${files[@]}" | xargs -0 grep -InH '§' -- 2>/dev/null |
  awk -v headings="$headings" -v page="$page_rel" -v out="$problems" '
    BEGIN { n = split(headings, h, " "); for (i = 1; i <= n; i++) known[h[i]] = 1; count = 0 }
    {
      # file:line:text (file names hold no colon).
      c1 = index($0, ":"); file = substr($0, 1, c1 - 1); rest = substr($0, c1 + 1)
      c2 = index(rest, ":"); line = substr(rest, 1, c2 - 1); text = substr(rest, c2 + 1)
      done = ""; paper = 0; last_end = 0; s = text
      while (match(s, /§[0-9]+(\.[0-9]+)*(-[0-9]+(\.[0-9]+)*)?/)) {
        before = done substr(s, 1, RSTART - 1)
        gap = substr(before, last_end + 1)
        cite = substr(s, RSTART, RLENGTH)
        if (before ~ /[Pp]aper $/) paper = 1
        else if (!(paper && gap ~ /^(, |, and | and | or |\/)$/)) paper = 0
        if (!paper) {
          count++
          nums = substr(cite, index(cite, "§") + length("§"))
          m = split(nums, part, "-")
          for (k = 1; k <= m; k++)
            if (!(part[k] in known))
              printf "%s:%s: \"%s\" cites section %s, which is not a heading of %s\n", file, line, cite, part[k], page >> out
        }
        done = before cite; last_end = length(done); s = substr(s, RSTART + RLENGTH)
      }
    }
    END { print count }')

# (b)
for name in "${forbidden[@]}"; do
  (cd "$root" && printf '%s\0' "${files[@]}" | xargs -0 grep -InHF -e "$name" -- 2>/dev/null) |
    while IFS= read -r hit; do
      echo "${hit%%:*}:$(cut -d: -f2 <<<"$hit"): names \"$name\", a document outside the repository" >>"$problems"
    done
done

if [[ -s $problems ]]; then
  cat "$problems" >&2
  fail "$(wc -l <"$problems") citation problem(s), listed above as file:line. Cite the authors' code as" \
    "'reference §N' with N a numbered heading of $page_rel (add the section there if it is missing), the paper" \
    "as 'paper §N' or 'paper Eq. N', and only files of this repository."
fi
((cited > 0)) || fail "no 'reference §N' citation found: are the packages' :text_sources in the test's data?"
echo "PASS: $cited reference citations resolve; no file names a document outside the repository"

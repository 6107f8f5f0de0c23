#!/usr/bin/env bash
# Runs ./bazelw with stub dpkg-query, apt-get, sudo, id and bazel first (and alone) on PATH, in the machine states
# a new user meets: bare (dpkg knows none of the packages), partly installed (half-installed, unpacked,
# removed-with-config), non-root with and without sudo, and failing package tools. Asserts what is installed,
# what is printed and that Bazel is reached only when everything is in place.
#
# Each scenario is one test case in $XML_OUTPUT_FILE, so CI counts them one by one.
set -uo pipefail

find_runfile() {
  local rel=$1 base
  for base in "${RUNFILES_DIR:-}" "${TEST_SRCDIR:-}" "$0.runfiles"; do
    [[ -n $base && -e $base/${TEST_WORKSPACE:-__main__}/$rel ]] && { echo "$base/${TEST_WORKSPACE:-__main__}/$rel"; return; }
  done
  echo "bazelw_test: cannot find $rel in the runfiles" >&2
  exit 1
}

# BAZELW / BUILDING_MD may be given to run the test outside Bazel (e.g. against an older bazelw).
BAZELW=${BAZELW:-$(find_runfile bazelw)}
BUILDING_MD=${BUILDING_MD:-$(find_runfile docs/BUILDING.md)}
WORK=$(mktemp -d "${TEST_TMPDIR:-/tmp}/bazelw_test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# The package list, read from the script itself (the assignment between `readonly PACKAGES=(` and `)`).
mapfile -t ALL_PACKAGES < <(sed -n '/^readonly PACKAGES=(/,/^)/p' "$BAZELW" | sed -e '1d;$d' -e 's/#.*//' | tr -s ' ' '\n' | sed '/^$/d')

# ---- stubs ----
# A folder with only the real tools the script and the stubs use, so that a real bazel, sudo or apt-get on
# this machine can never be reached.
TOOLS=$WORK/tools
mkdir -p "$TOOLS"
for t in bash awk sed grep cat env mkdir mv; do ln -s "$(command -v "$t")" "$TOOLS/$t"; done

write_stubs() {  # $1: folder
  local bin=$1
  mkdir -p "$bin"
  # dpkg-query -W -f=FORMAT PKG...: prints "name status" for packages in $STATE ("name status" lines); exits 1
  # when one is unknown (as dpkg-query does), or $DPKG_RC when set.
  cat >"$bin/dpkg-query" <<'EOF'
#!/usr/bin/env bash
echo "dpkg-query $*" >>"$LOG"
[[ -n ${DPKG_RC:-} ]] && { echo "dpkg-query: error: simulated failure" >&2; exit "$DPKG_RC"; }
rc=0
for p in "$@"; do
  [[ $p == -* ]] && continue
  line=$(grep -m1 "^$p " "$STATE" || true)
  if [[ -n $line ]]; then echo "$line"; else echo "dpkg-query: no packages found matching $p" >&2; rc=1; fi
done
exit $rc
EOF
  # apt-get update|install -y -q --no-install-recommends PKG...: logs, and marks installed unless told to fail
  # ($APT_UPDATE_RC, $APT_INSTALL_RC) or to leave some packages out ($APT_SKIP).
  cat >"$bin/apt-get" <<'EOF'
#!/usr/bin/env bash
echo "apt-get $* [uid=${FAKE_UID}]" >>"$LOG"
case $1 in
  update) exit "${APT_UPDATE_RC:-0}" ;;
  install)
    [[ ${APT_INSTALL_RC:-0} != 0 ]] && { echo "E: simulated install failure" >&2; exit "$APT_INSTALL_RC"; }
    for p in "${@:2}"; do
      [[ $p == -* || " ${APT_SKIP:-} " == *" $p "* ]] && continue
      grep -v "^$p " "$STATE" >"$STATE.new" || true
      echo "$p installed" >>"$STATE.new"
      mv "$STATE.new" "$STATE"
    done ;;
esac
EOF
  # sudo -n true succeeds when $SUDO_OK=1; sudo CMD runs CMD as "root".
  cat >"$bin/sudo" <<'EOF'
#!/usr/bin/env bash
echo "sudo $*" >>"$LOG"
if [[ $1 == -n ]]; then [[ ${SUDO_OK:-0} == 1 ]]; exit; fi
[[ ${SUDO_OK:-0} == 1 ]] || { echo "sudo: a password is required" >&2; exit 1; }
FAKE_UID=0 exec "$@"
EOF
  cat >"$bin/id" <<'EOF'
#!/usr/bin/env bash
[[ $1 == -u ]] && { echo "$FAKE_UID"; exit 0; }
exit 1
EOF
  cat >"$bin/bazel" <<'EOF'
#!/usr/bin/env bash
echo "bazel $*" >>"$LOG"
exit "${BAZEL_RC:-0}"
EOF
  chmod +x "$bin"/*
}

# ---- scenario runner ----
CASES=()
FAILED=0
current=""
failures=""

fail() {
  failures+="$*"$'\n'
  echo "  FAIL: $*" >&2
}

# begin NAME: a fresh machine state, log and stub folder.
begin() {
  current=$1
  failures=""
  echo "== $current" >&2
  CASE_DIR=$WORK/$current
  mkdir -p "$CASE_DIR"
  write_stubs "$CASE_DIR/bin"
  export STATE=$CASE_DIR/dpkg_state LOG=$CASE_DIR/log
  : >"$STATE"
  : >"$LOG"
  export FAKE_UID=0 SUDO_OK=0
  unset DPKG_RC APT_UPDATE_RC APT_INSTALL_RC APT_SKIP BAZEL_RC
}

# run_bazelw ARGS...: runs the script with only the stubs and the tool folder on PATH, stdin not a terminal.
run_bazelw() {
  PATH="$CASE_DIR/bin:$TOOLS" "$TOOLS/bash" "$BAZELW" "$@" </dev/null >"$CASE_DIR/out" 2>&1
  RC=$?
  OUT=$(cat "$CASE_DIR/out")
}

finish() {
  if [[ -n $failures ]]; then
    FAILED=$((FAILED + 1))
    echo "  output was:" >&2
    sed 's/^/    | /' "$CASE_DIR/out" >&2
    echo "  calls were:" >&2
    sed 's/^/    | /' "$LOG" >&2
  fi
  CASES+=("$current"$'\t'"$failures")
}

expect_rc() { [[ $RC == "$1" ]] || fail "exit code $RC, expected $1"; }
expect_out() { grep -qF -- "$1" <<<"$OUT" || fail "output lacks: $1"; }
expect_call() { grep -qxF -- "$1" "$LOG" || fail "no call: $1"; }
expect_no_call() { ! grep -q -- "^$1" "$LOG" || fail "unexpected call: $1..."; }
installed_all() { for p in "${ALL_PACKAGES[@]}"; do echo "$p installed"; done >"$STATE"; }

# ---- scenarios ----

begin package_list_is_documented
# Every package bazelw installs appears in docs/BUILDING.md's package table, and no other package does.
[[ ${#ALL_PACKAGES[@]} -ge 10 ]] || fail "read only ${#ALL_PACKAGES[@]} packages from bazelw"
mapfile -t DOC_PACKAGES < <(sed -n '/^## Packages/,/^## /p' "$BUILDING_MD" | grep '^|' | awk -F'|' '{print $3}' |
                            grep -o '`[^`]*`' | tr -d '`' | sort -u)
diff <(printf '%s\n' "${ALL_PACKAGES[@]}" | sort -u) <(printf '%s\n' "${DOC_PACKAGES[@]}") >"$CASE_DIR/out" ||
  fail "bazelw's PACKAGES and docs/BUILDING.md's table differ (< bazelw, > docs)"
finish

begin everything_installed_goes_straight_to_bazel
installed_all
run_bazelw test //...
expect_rc 0
expect_call "bazel test //..."
expect_no_call "apt-get"
[[ -z $OUT ]] || fail "printed something although nothing was missing: $OUT"
finish

begin bare_machine_installs_every_package
# dpkg-query knows none of the packages and exits 1: the old script took that for "nothing missing".
run_bazelw run //:train
expect_rc 0
expect_call "apt-get update -q [uid=0]"
expect_call "apt-get install -y -q --no-install-recommends ${ALL_PACKAGES[*]} [uid=0]"
expect_out "bazelw: installing ${#ALL_PACKAGES[@]} Debian package(s) with apt-get: ${ALL_PACKAGES[*]}"
expect_call "bazel run //:train"
finish

begin partly_installed_installs_only_what_is_missing
installed_all
# half-installed, unpacked-not-configured, removed-with-config and never-installed packages are all missing.
sed -i -e 's/^libtorch-dev installed/libtorch-dev half-installed/' \
  -e 's/^libcaf-dev installed/libcaf-dev unpacked/' \
  -e 's/^libopencv-dev installed/libopencv-dev config-files/' \
  -e '/^libfaiss-dev /d' "$STATE"
run_bazelw build //...
expect_rc 0
expect_call "apt-get install -y -q --no-install-recommends libtorch-dev libcaf-dev libopencv-dev libfaiss-dev [uid=0]"
expect_out "installing 4 Debian package(s)"
expect_call "bazel build //..."
finish

begin user_with_sudo_installs_through_sudo
export FAKE_UID=1000 SUDO_OK=1
installed_all
sed -i '/^bazel-bootstrap /d' "$STATE"
run_bazelw version
expect_rc 0
expect_call "apt-get install -y -q --no-install-recommends bazel-bootstrap [uid=0]"
expect_call "sudo apt-get install -y -q --no-install-recommends bazel-bootstrap"
expect_out "with sudo apt-get: bazel-bootstrap"
expect_call "bazel version"
finish

begin user_without_sudo_is_told_what_to_run
export FAKE_UID=1000
rm "$CASE_DIR/bin/sudo"
run_bazelw run //:train
expect_rc 1
expect_out "these Debian packages are missing: ${ALL_PACKAGES[*]}"
expect_out "apt-get update && apt-get install -y --no-install-recommends ${ALL_PACKAGES[*]}"
expect_no_call "apt-get"
expect_no_call "bazel "
finish

begin user_whose_sudo_needs_a_password_and_has_no_terminal
export FAKE_UID=1000 SUDO_OK=0
installed_all
sed -i '/^libgtest-dev /d' "$STATE"
run_bazelw test //...
expect_rc 1
expect_out "these Debian packages are missing: libgtest-dev"
expect_no_call "apt-get"
expect_no_call "bazel "
finish

begin failing_apt_get_update_stops
export APT_UPDATE_RC=100
run_bazelw run //:train
expect_rc 1
expect_out "'apt-get update' failed (exit code 100); nothing was installed"
expect_no_call "apt-get install"
expect_no_call "bazel "
finish

begin failing_apt_get_install_stops
export APT_INSTALL_RC=100
installed_all
sed -i '/^libprotobuf-dev /d' "$STATE"
run_bazelw run //:train
expect_rc 1
expect_out "'apt-get install' failed (exit code 100) for: libprotobuf-dev"
expect_no_call "bazel "
finish

begin install_that_leaves_a_package_out_stops
export APT_SKIP=libgoogle-glog-dev
run_bazelw run //:train
expect_rc 1
expect_out "still not installed after apt-get install: libgoogle-glog-dev"
expect_no_call "bazel "
finish

begin failing_dpkg_query_stops
export DPKG_RC=2
run_bazelw run //:train
expect_rc 1
expect_out "dpkg-query failed (exit code 2)"
expect_no_call "apt-get"
expect_no_call "bazel "
finish

begin no_dpkg_query_stops
rm "$CASE_DIR/bin/dpkg-query"
run_bazelw run //:train
expect_rc 1
expect_out "dpkg-query not found"
expect_no_call "bazel "
finish

begin bazel_missing_after_install_is_named
installed_all
rm "$CASE_DIR/bin/bazel"
run_bazelw run //:train
expect_rc 1
expect_out "'bazel' is not on PATH"
finish

begin bazel_exit_code_is_passed_on
installed_all
export BAZEL_RC=3
run_bazelw test //...
expect_rc 3
finish

# ---- report ----
if [[ -n ${XML_OUTPUT_FILE:-} ]]; then
  {
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo "<testsuites tests=\"${#CASES[@]}\" failures=\"$FAILED\" errors=\"0\">"
    echo "<testsuite name=\"bazelw\" tests=\"${#CASES[@]}\" failures=\"$FAILED\" errors=\"0\">"
    for c in "${CASES[@]}"; do
      name=${c%%$'\t'*}
      msg=${c#*$'\t'}
      if [[ -n $msg ]]; then
        msg=$(sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g' <<<"$msg")
        echo "<testcase name=\"$name\" classname=\"bazelw\"><failure message=\"$msg\"/></testcase>"
      else
        echo "<testcase name=\"$name\" classname=\"bazelw\"/>"
      fi
    done
    echo '</testsuite></testsuites>'
  } >"$XML_OUTPUT_FILE"
fi
echo "${#CASES[@]} scenarios, $FAILED failed" >&2
((FAILED == 0))

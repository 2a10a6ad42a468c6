#!/usr/bin/env bash
# Writes scripts/symbol-order/{release,static}.txt: the functions that generating a site runs, in the order they
# first run, one list for the release build (`cargo build --release`, `cargo install`) and one for the static build
# (scripts/build-static.sh). build.rs hands the build's list to the linker (lld's --symbol-ordering-file), which
# lays those functions out side by side at the start of the code (issue 15).
#
# Why: the kernel maps a binary's code 64 KiB at a time around each page a process touches, one page fault each.
# Spread over the 4.4 MB of code, those functions (1.2 MB) touched 54 such windows; side by side, about 20. A run
# then takes some 30 fewer page faults, and its resident memory is about 2 MiB less.
#
# The names are mangled symbols, whose hashes change with the compiler, the dependencies' versions, this crate's
# version and the build (the two builds name their functions apart): rerun after a release bump or a
# `cargo update` (build-static.sh says when most names no longer match). A name that matches nothing is skipped; a
# function missing from the list only stays with the cold code.
#
# Runs the four golden cases that scripts/bench.sh times (failover and scaleout, 8.1 and 8.3), `manifests` of both
# bases, and `--version`, each under valgrind's callgrind, on each build; then builds both again with the new
# lists (build.rs watches them). Needs valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v valgrind >/dev/null || {
  echo "hot-functions: valgrind is needed (apt-get install valgrind)" >&2
  exit 1
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# executed BINARY: the functions that the runs enter, first entry first.
executed() {
  local binary=$1
  run() { # run NAME STDIN ARGS...
    local name=$1 stdin=$2
    shift 2
    valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/$name.out" "$binary" "$@" \
      <"$stdin" >/dev/null 2>"$work/$name.log" || true
    # callgrind names a function once, `fn=(id) name`, and by its id alone after that; `'N` marks a recursion depth.
    sed -n "s/^c\{0,1\}fn=([0-9]*) //p" "$work/$name.out" | sed "s/'[0-9]*$//"
  }
  run version /dev/null --version
  for case in failover-8.1 failover-8.3 scaleout-8.1 scaleout-8.3; do
    run "$case" "tests/testdata/$case/input.yaml"
  done
  for base in failover scaleout; do
    run "manifests-$base" /dev/null manifests "bases/$base/spec/ignition.yaml"
  done
}

# write_list BUILD BINARY: the names the binary defines (callgrind also lists addresses and `(below main)`).
write_list() {
  local binary=$2 list=scripts/symbol-order/$1.txt
  executed "$binary" | awk '!seen[$0]++' >"$work/executed"
  nm --defined-only "$binary" | awk '{print $NF}' | sort -u >"$work/defined"
  grep -Fxf "$work/defined" "$work/executed" >"$list"
  echo "hot-functions: $list, $(wc -l <"$list") functions"
}

mkdir -p scripts/symbol-order
cargo build --release --locked --bin ignition-krm
write_list release target/release/ignition-krm
scripts/build-static.sh >/dev/null
write_list static target/x86_64-unknown-linux-gnu/release/ignition-krm
# Link both again with the new lists.
cargo build --release --locked --bin ignition-krm
scripts/build-static.sh >/dev/null

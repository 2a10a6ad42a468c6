#!/usr/bin/env bash
# Writes scripts/static-symbol-order.txt: the functions that generating a site runs, in the order they first run,
# which scripts/build-static.sh hands to the linker (lld's --symbol-ordering-file) to lay them out side by side at
# the start of the static binary's code (issue 15).
#
# Why: the kernel maps a binary's code 64 KiB at a time around each page a process touches, one page fault each.
# Spread over the 4.4 MB of code, those functions (1.2 MB) touched 54 such windows; side by side, about 20. A run
# then takes some 30 fewer page faults, and its resident memory is 2.4 MiB instead of 4.2.
#
# The names are mangled symbols, whose hashes change with the compiler, the dependencies' versions and this
# crate's version: rerun after a release bump or a `cargo update` (build-static.sh says when most names no longer
# match). A name that matches nothing is skipped; a function missing from the list only stays with the cold code.
#
# Runs the four golden cases that scripts/bench.sh times (failover and scaleout, 8.1 and 8.3), `manifests` of both
# bases, and `--version`, each under valgrind's callgrind, on the static build. Needs valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v valgrind >/dev/null || {
  echo "hot-functions: valgrind is needed (apt-get install valgrind)" >&2
  exit 1
}
scripts/build-static.sh >/dev/null
binary=target/x86_64-unknown-linux-gnu/release/ignition-krm
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

run() { # run NAME STDIN ARGS...: the functions one run enters, first entry first
  local name=$1 stdin=$2
  shift 2
  valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/$name.out" "$binary" "$@" \
    <"$stdin" >/dev/null 2>"$work/$name.log" || true
  # callgrind names a function once, `fn=(id) name`, and by its id alone after that; `'N` marks a recursion depth.
  sed -n "s/^c\{0,1\}fn=([0-9]*) //p" "$work/$name.out" | sed "s/'[0-9]*$//"
}

{
  run version /dev/null --version
  for case in failover-8.1 failover-8.3 scaleout-8.1 scaleout-8.3; do
    run "$case" "tests/testdata/$case/input.yaml"
  done
  for base in failover scaleout; do
    run "manifests-$base" /dev/null manifests "bases/$base/spec/ignition.yaml"
  done
} | awk '!seen[$0]++' >"$work/executed"
# Only names the binary defines (callgrind also lists addresses and `(below main)`).
nm "$binary" | awk '{print $NF}' | sort -u >"$work/defined"
grep -Fxf "$work/defined" "$work/executed" >scripts/static-symbol-order.txt
echo "hot-functions: scripts/static-symbol-order.txt, $(wc -l <scripts/static-symbol-order.txt) functions"
# Link the static binary again with the new list.
scripts/build-static.sh >/dev/null

#!/usr/bin/env bash
# Builds the statically linked Linux binary that the Dockerfile copies and that `tests/artifacts.rs`
# runs in an empty root: target/x86_64-unknown-linux-gnu/release/ignition-krm.
#
# The installed toolchain's own target links glibc statically with `+crt-static` (a static-pie: no
# ELF interpreter, no shared library), so no other target (musl) has to be fetched. The explicit
# --target keeps RUSTFLAGS off the build scripts and proc macros, which run on the host. The
# function never resolves names or users, so glibc's static NSS caveat does not apply.
# A second run with nothing changed takes about a second.
set -euo pipefail
cd "$(dirname "$0")/.."

target=x86_64-unknown-linux-gnu
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
  cargo build --release --locked --target "$target" --bin ignition-krm
binary="target/$target/release/ignition-krm"
# Refuse to hand out a binary that needs a loader after all.
if readelf -lW "$binary" | grep -q 'Requesting program interpreter'; then
  echo "build-static: error: $binary has an ELF interpreter: it is not statically linked" >&2
  exit 1
fi
# build.rs lays out the code in the order of scripts/symbol-order/static.txt (scripts/hot-functions.sh says why).
# A stale list costs speed, not correctness: say so instead of failing.
order=scripts/symbol-order/static.txt
listed=$(wc -l <"$order")
found=$(nm "$binary" | awk '{print $NF}' | sort -u | grep -cFxf - "$order" || true)
if ((found * 10 < listed * 9)); then
  echo "build-static: warning: only $found of the $listed functions in $order are in the binary;" \
    "run scripts/hot-functions.sh to lay out the code for fewer page faults" >&2
fi
echo "build-static: $binary"

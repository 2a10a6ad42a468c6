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
flags="-C target-feature=+crt-static"
# The functions that generating a site runs go side by side at the start of the code (scripts/hot-functions.sh
# says why and writes the list). The option is lld's, the toolchain's default linker on this target since Rust 1.90.
order="$PWD/scripts/static-symbol-order.txt"
minor=$(rustc --version | cut -d' ' -f2 | cut -d. -f2)
ordered=$((minor >= 90))
binary="target/$target/release/ignition-krm"
if ((ordered)); then
  flags+=" -C link-arg=-Wl,--symbol-ordering-file=$order -C link-arg=-Wl,--no-warn-symbol-ordering"
  # Cargo does not know the linker reads the list: a list newer than the binary has it linked again.
  if [[ -e $binary && $order -nt $binary ]]; then
    touch src/main.rs
  fi
fi
RUSTFLAGS="${RUSTFLAGS:-} $flags" cargo build --release --locked --target "$target" --bin ignition-krm
# Refuse to hand out a binary that needs a loader after all.
if readelf -lW "$binary" | grep -q 'Requesting program interpreter'; then
  echo "build-static: error: $binary has an ELF interpreter: it is not statically linked" >&2
  exit 1
fi
# A stale list costs speed, not correctness: say so instead of failing.
if ((ordered)); then
  listed=$(wc -l <"$order")
  found=$(nm "$binary" | awk '{print $NF}' | sort -u | grep -cFxf - "$order" || true)
  if ((found * 10 < listed * 9)); then
    echo "build-static: warning: only $found of the $listed functions in $order are in the binary;" \
      "run scripts/hot-functions.sh to lay out the code for fewer page faults" >&2
  fi
fi
echo "build-static: $binary"

#!/usr/bin/env bash
# Runs every test of the project: installs the real Kubernetes tools the end-to-end tests use into
# .tools/ (idempotent, a second run takes a second), then checks formatting and lints, builds the
# static binary (scripts/build-static.sh), then runs the whole cargo test suite. A missing tool fails the tests; nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-tools.sh
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
# The static binary that tests/artifacts.rs runs in an empty root and builds into the image.
scripts/build-static.sh
cargo test --locked

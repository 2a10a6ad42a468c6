#!/usr/bin/env bash
# Runs every test of the project: installs the real Kubernetes tools the end-to-end tests use into
# .tools/ (idempotent, a second run takes a second), then checks formatting and lints, builds the
# static binary (scripts/build-static.sh), then runs the whole cargo test suite. A missing tool fails the
# tests; nothing is skipped.
#
# The API-server test (tests/apiserver.rs) starts etcd and kube-apiserver on 127.0.0.1 itself and stops
# them when it ends, failing or not; the trap below also stops them if the run is interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-tools.sh
cargo fmt --all -- --check
# Every shell script of the repository: the ones shipped in the scripts ConfigMap and the project's own.
git ls-files -z '*.sh' | xargs -0 .tools/bin/shellcheck
cargo clippy --all-targets --locked -- -D warnings
# The static binary that tests/artifacts.rs runs in an empty root and builds into the image.
scripts/build-static.sh

IGNITION_KRM_APISERVER_DIR="$(mktemp -d "${TMPDIR:-/tmp}/ignition-krm-apiserver.XXXXXX")"
export IGNITION_KRM_APISERVER_DIR
# On failure the directory stays, with the servers' logs.
trap 'scripts/kube-apiserver.sh stop "$IGNITION_KRM_APISERVER_DIR"' EXIT
cargo test --locked

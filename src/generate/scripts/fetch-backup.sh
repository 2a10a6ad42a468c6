#!/bin/bash
# Downloads the gateway backup (.gwbk) that the gateway restores on its first start, and refuses
# it unless its SHA-256 is the one the spec pins. A file already there with the right checksum is
# kept, so a restart downloads nothing.
set -euo pipefail

url=${RESTORE_URL:?RESTORE_URL must be set}
expected=${RESTORE_SHA256:?RESTORE_SHA256 must be set}
target=${RESTORE_FILE:?RESTORE_FILE must be set}
# Only https in production; the tests serve the file over plain http on 127.0.0.1.
protocols=${RESTORE_PROTOCOLS:-=https}

log() { echo "fetch-backup: $*"; }

checksum() { sha256sum "$1" | cut -d' ' -f1; }

if [[ -f $target && $(checksum "$target") == "$expected" ]]; then
  log "the backup is already on the volume"
  exit 0
fi
mkdir -p "$(dirname "$target")"
rm -f "$target.download"
curl -sS --fail --location --proto "$protocols" --proto-redir "$protocols" \
  --retry 5 --retry-connrefused --connect-timeout 10 --max-time 1800 \
  --output "$target.download" "$url"
actual=$(checksum "$target.download")
if [[ $actual != "$expected" ]]; then
  rm -f "$target.download"
  log "the downloaded backup has SHA-256 $actual, not $expected: refusing it"
  exit 1
fi
mv -f "$target.download" "$target"
log "downloaded the backup ($actual)"

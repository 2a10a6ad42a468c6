#!/bin/bash
# Makes the gateway backup (.gwbk) that the gateway restores on its first start carry this pod's own
# redundancy role and Gateway Network trust. A .gwbk holds its own redundancy.xml and Gateway
# Network folders, and the gateway unpacks it over its data directory when it starts, after every
# init container has run: restored as it is, a backup taken on a Master would make the Backup a
# second Master, and one taken elsewhere would drop the site's CA. (Inductive Automation's chart
# and the ICC 2023 base update the backup file for the same reason: "updateGwbk" in their
# prepare-gan-certificates.sh.) So the files the earlier init containers wrote on the volume are
# copied into a copy of the backup, at the same paths, replacing the backup's own, and the gateway
# restores that copy.
set -euo pipefail

volume=${DATA_VOLUME:?DATA_VOLUME must be set}
source_backup=${BACKUP_SOURCE:?BACKUP_SOURCE must be set}
target=${BACKUP_TARGET:?BACKUP_TARGET must be set}
version_line=${IGNITION_VERSION_LINE:?IGNITION_VERSION_LINE must be set}
# Set when the site trusts a CA (gan-trust installed it): its file name in the trusted folders.
ca_name=${GAN_CA_NAME:-}

log() { echo "prepare-backup: $*"; }

[[ -f $source_backup ]] || { log "no backup at $source_backup"; exit 1; }
command -v zip >/dev/null || {
  log "the image has no zip command: the backup cannot be made to keep this pod's role and trust, so it is not restored"
  exit 1
}

# The files this pod owns, relative to the data directory, which is also their path in a .gwbk.
owned=(redundancy.xml)
if [[ -n $ca_name ]]; then
  case $version_line in
    8.1)
      network=gateway-network
      owned+=(local/metro-keystore)
      ;;
    8.3)
      network=config/local/ignition/gateway-network
      owned+=("$network/keystore/metro-keystore.pfx")
      ;;
    *) log "unknown version line $version_line"; exit 1 ;;
  esac
  for side in server client; do
    owned+=("$network/$side/security/pki/trusted/certs/$ca_name.crt")
  done
fi

staging=$(mktemp -d "$volume/.ignition-krm-backup.XXXXXX")
trap 'rm -rf "$staging" "$target.new"' EXIT
for file in "${owned[@]}"; do
  [[ -f $volume/$file ]] || { log "$file is missing on the volume: the earlier init containers did not run"; exit 1; }
  mkdir -p "$staging/$(dirname "$file")"
  cp -f "$volume/$file" "$staging/$file"
done
cp -f "$source_backup" "$target.new"
# zip replaces entries of the same name and adds the others; -D: no directory entries.
(cd "$staging" && zip -q -D -r "$target.new" "${owned[@]}") ||
  { log "cannot update $source_backup: it is not a zip file (a .gwbk is one)"; exit 1; }
mv -f "$target.new" "$target"
log "the backup to restore carries this pod's ${owned[*]}"

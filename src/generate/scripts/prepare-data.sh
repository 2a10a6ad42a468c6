#!/bin/bash
# Prepares a gateway's data volume before Ignition starts. Runs on every start, as an init container
# of the same image:
#  1. on the first start, seeds the volume from the image's data directory (a PersistentVolume hides
#     it), or adopts the data already there;
#  2. on every start, writes this pod's redundancy role and the master's address into
#     redundancy.xml: no environment variable sets them, and a stale role or peer left over from an
#     earlier name kept both nodes Active.
set -euo pipefail

image_data=${IGNITION_IMAGE_DATA:-/usr/local/bin/ignition/data}
volume=${DATA_VOLUME:-/data}
pod=${POD_NAME:?POD_NAME must be set}
version_line=${IGNITION_VERSION_LINE:?IGNITION_VERSION_LINE must be set}
mode=${REDUNDANCY_MODE:?REDUNDANCY_MODE must be set}

log() { echo "prepare-data: $*"; }

marker="$volume/.ignition-krm-seeded"
if [[ ! -e $marker ]]; then
  # Where a gateway keeps its configuration differs between 8.1 (an internal database) and 8.3 (files).
  case $version_line in
    8.1) existing="$volume/db/config.idb" ;;
    8.3) existing="$volume/config/resources" ;;
    *) log "unknown version line $version_line"; exit 1 ;;
  esac
  if [[ -e $existing ]]; then
    log "adopting the gateway data already on the volume"
  else
    log "first start: seeding $volume from $image_data"
    cp -a --no-preserve=ownership "$image_data/." "$volume/"
  fi
  touch "$marker"
fi

ordinal=${pod##*-}
case $mode in
  pair)
    case $ordinal in
      0) role=Master ;;
      1) role=Backup ;;
      *) log "pod $pod: a redundant pair has ordinals 0 and 1 only"; exit 1 ;;
    esac
    ;;
  independent) role=Independent ;;
  *) log "unknown REDUNDANCY_MODE $mode"; exit 1 ;;
esac

file="$volume/redundancy.xml"
if ! grep -qs '</properties>' "$file"; then
  printf '%s\n' \
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>' \
    '<!DOCTYPE properties SYSTEM "http://java.sun.com/dtd/properties.dtd">' \
    '<properties>' \
    '<comment>Redundancy settings, maintained by ignition-krm</comment>' \
    '</properties>' >"$file"
fi

# Replaces the entry for a key (Java writes one entry a line) or adds it before </properties>.
set_entry() {
  local key=$1 value=$2
  local pattern=${key//./\\.}
  sed -i -e "/<entry key=\"$pattern\"[ />]/d" \
    -e "s|</properties>|<entry key=\"$key\">$value</entry>\n</properties>|" "$file"
}

set_entry redundancy.noderole "$role"
if [[ $mode == pair ]]; then
  set_entry redundancy.gan.host "${REDUNDANCY_MASTER_HOST:?REDUNDANCY_MASTER_HOST must be set}"
  set_entry redundancy.gan.port "${REDUNDANCY_GAN_PORT:-8060}"
  set_entry redundancy.gan.enableSsl true
  set_entry redundancy.standbyactivitylevel "${REDUNDANCY_STANDBY_ACTIVITY_LEVEL:-Warm}"
  set_entry redundancy.masterrecoverymode "${REDUNDANCY_MASTER_RECOVERY_MODE:-Automatic}"
fi
log "pod $pod is $role"

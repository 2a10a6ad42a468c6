#!/bin/bash
# Prepares a gateway's data volume before Ignition starts. Runs on every start, as an init container
# of the same image:
#  1. on the first start, seeds the volume from the image's data directory (a PersistentVolume hides
#     it), or adopts the data already there;
#  2. refuses a volume last run by a newer Ignition than this image: a gateway cannot downgrade its
#     data, and stopping here gives one clear line instead of a gateway failing deep in its start;
#  3. on every start, writes this pod's redundancy role and the master's address into
#     redundancy.xml: no environment variable sets them, and a stale role or peer left over from an
#     earlier name kept both nodes Active.
set -euo pipefail

image_data=${IGNITION_IMAGE_DATA:?IGNITION_IMAGE_DATA must be set}
volume=${DATA_VOLUME:?DATA_VOLUME must be set}
pod=${POD_NAME:?POD_NAME must be set}
version_line=${IGNITION_VERSION_LINE:?IGNITION_VERSION_LINE must be set}
mode=${REDUNDANCY_MODE:?REDUNDANCY_MODE must be set}
image_version=${IGNITION_VERSION:?IGNITION_VERSION must be set}

log() { echo "prepare-data: $*"; }

marker="$volume/.ignition-krm-seeded"
seeding="$volume/.ignition-krm-seeding"
seed() {
  log "seeding $volume from $image_data"
  # The in-progress marker makes a copy cut short by a restart start over instead of being adopted.
  touch "$seeding"
  cp -a --no-preserve=ownership "$image_data/." "$volume/"
  touch "$marker"
  rm -f "$seeding"
}
if [[ -e $seeding ]]; then
  log "an earlier first start was interrupted"
  seed
elif [[ ! -e $marker ]]; then
  # Gateway data written by any earlier deployment: 8.1 keeps its configuration in an internal
  # database, 8.3 in files. Either is adopted as it is (an 8.3 gateway migrates 8.1 data itself).
  case $version_line in
    8.1 | 8.3) ;;
    *) log "unknown version line $version_line"; exit 1 ;;
  esac
  if [[ -e $volume/db/config.idb || -e $volume/config/resources ]]; then
    log "adopting the gateway data already on the volume"
    touch "$marker"
  else
    seed
  fi
fi

# The version that last ran on this volume. Ignition's data directory has no version stamp this
# script can rely on, so it writes its own, .ignition-krm-version, each time it lets a version start.
# .docker-init-complete is read too where it exists: the community image thirdgen88/ignition-docker
# (8.1 docker-entrypoint.sh) writes the image version there and refuses an image older than it.
stamp="$volume/.ignition-krm-version"
# True when version $1 is newer than version $2 (major.minor.patch, compared as numbers).
newer() {
  local -a left right
  IFS=. read -ra left <<<"$1"
  IFS=. read -ra right <<<"$2"
  local i
  for i in 0 1 2; do
    ((10#${left[i]} > 10#${right[i]})) && return 0
    ((10#${left[i]} < 10#${right[i]})) && return 1
  done
  return 1
}
version_pattern='^[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4}$'
[[ $image_version =~ $version_pattern ]] || { log "IGNITION_VERSION $image_version is not major.minor.patch"; exit 1; }
last_version=""
for file in "$stamp" "$volume/.docker-init-complete"; do
  [[ -f $file ]] || continue
  seen=$(head -n 1 "$file" | tr -d '[:space:]')
  [[ $seen =~ $version_pattern ]] || continue
  if [[ -z $last_version ]] || newer "$seen" "$last_version"; then
    last_version=$seen
  fi
done
if [[ -n $last_version ]] && newer "$last_version" "$image_version"; then
  log "refusing to start: the data volume was last run by Ignition $last_version, newer than this image ($image_version), and Ignition cannot downgrade a gateway; set spec.version back to $last_version, or restore a backup taken on $image_version onto a new volume"
  exit 1
fi
printf '%s\n' "$image_version" >"$stamp"

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

# Java writes one entry a line: an entry is removed by deleting its line.
remove_entry() {
  sed -i -e "/<entry key=\"${1//./\\.}\"[ />]/d" "$file"
}

# Replaces the entry for a key, or adds it before </properties>.
set_entry() {
  remove_entry "$1"
  sed -i -e "s|</properties>|<entry key=\"$1\">$2</entry>\n</properties>|" "$file"
}

set_entry redundancy.noderole "$role"
if [[ $mode == independent ]]; then
  # A gateway that was once part of a pair must not keep looking for its old peer.
  for key in redundancy.gan.host redundancy.gan.port redundancy.gan.enableSsl \
    redundancy.standbyactivitylevel redundancy.masterrecoverymode; do
    remove_entry "$key"
  done
else
  set_entry redundancy.gan.host "${REDUNDANCY_MASTER_HOST:?REDUNDANCY_MASTER_HOST must be set}"
  set_entry redundancy.gan.port "${REDUNDANCY_GAN_PORT:?REDUNDANCY_GAN_PORT must be set}"
  set_entry redundancy.gan.enableSsl true
  set_entry redundancy.standbyactivitylevel "${REDUNDANCY_STANDBY_ACTIVITY_LEVEL:?REDUNDANCY_STANDBY_ACTIVITY_LEVEL must be set}"
  set_entry redundancy.masterrecoverymode "${REDUNDANCY_MASTER_RECOVERY_MODE:?REDUNDANCY_MASTER_RECOVERY_MODE must be set}"
fi
log "pod $pod is $role"

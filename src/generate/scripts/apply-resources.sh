#!/bin/bash
# Writes the site's 8.3 gateway resources (GatewayResource items) into the data volume on every
# start, as an init container of the same image, after the data volume is seeded and any backup
# restored. Ignition 8.3 keeps its configuration as files under data/config/resources/<collection>/
# <module-id>/<type>/<name>/ (IA docs 8.3, "Version and Source Control Guide"); the external
# collection is read-only inside the gateway and meant for configuration from source control, and a
# deployment mode is a collection of its own (IA docs 8.3, "Gateway Deployment Modes").
#
# Each managed collection is replaced by exactly the declared set: built beside it, then swapped in.
# Nothing else is touched: core and local are the gateway's own and are refused here.
#
# Secret fields: config.json holds "ignition-krm-secret:<n>" where the field goes, and the Secret's
# key is projected beside it as .secret-<n>; its value (a JSON object: the secret config the gateway
# stores, IA docs 8.3, "Secrets Management", embedded or referenced secrets) takes the marker's
# place here, so no secret is ever in a ConfigMap. A redundant pair's backup node (ordinal 1, as in
# prepare-data.sh) takes backup-config.json as its config.json (IA docs 8.3, "Setting Up
# Redundancy": Backup versions).
set -euo pipefail
shopt -s nullglob

volume=${DATA_VOLUME:?DATA_VOLUME must be set}
source=${RESOURCES_SOURCE:?RESOURCES_SOURCE must be set}
collections=${RESOURCE_COLLECTIONS:?RESOURCE_COLLECTIONS must be set}
pod=${POD_NAME:?POD_NAME must be set}
mode=${REDUNDANCY_MODE:?REDUNDANCY_MODE must be set}
marker=ignition-krm-secret:

log() { echo "apply-resources: $*"; }
fail() {
  log "$*"
  exit 1
}

backup=false
node=""
if [[ $mode == pair && ${pod##*-} == 1 ]]; then
  backup=true
  node=" (backup node)"
fi

# One resource directory: the node's config.json, then its secret fields.
prepare() {
  local dir=$1 config secret number value token
  if [[ -e $dir/backup-config.json ]]; then
    if $backup; then
      mv -f "$dir/backup-config.json" "$dir/config.json"
    else
      rm -f "$dir/backup-config.json"
    fi
  fi
  [[ -f $dir/config.json ]] || fail "${dir#"$staging"/}: no config.json"
  config=$(<"$dir/config.json")
  for secret in "$dir"/.secret-*; do
    number=${secret##*/.secret-}
    [[ $number =~ ^[0-9]+$ ]] || fail "${dir#"$staging"/}: unexpected file ${secret##*/}"
    value=$(<"$secret")
    # The value goes into JSON as it is: it must be the field's JSON object, never a bare password.
    [[ $value =~ ^[[:space:]]*\{ ]] ||
      fail "${dir#"$staging"/}: secret field $number: the Secret key must hold a JSON object (the secret config the gateway stores), not a bare value"
    token="\"$marker$number\""
    [[ $config == *"$token"* ]] || fail "${dir#"$staging"/}: secret field $number is not in config.json"
    # Quoted, so that bash 5.2's patsub_replacement leaves any & in the value alone.
    config=${config//"$token"/"$value"}
    rm -f "$secret"
  done
  [[ $config != *"\"$marker"* ]] || fail "${dir#"$staging"/}: a secret field has no Secret key projected"
  printf '%s\n' "$config" >"$dir/config.json"
}

root=$volume/config/resources
mkdir -p "$root"
for collection in $collections; do
  case $collection in
    system | core | local) fail "refusing to replace the gateway's own collection $collection" ;;
  esac
  [[ $collection =~ ^[A-Za-z0-9_-]{1,63}$ ]] || fail "bad collection name $collection"
  staging=$root/.$collection.ignition-krm-new
  old=$root/.$collection.ignition-krm-old
  rm -rf "$staging" "$old"
  mkdir -p "$staging"
  if [[ -d $source/$collection ]]; then
    # -L: a projected volume's files are symbolic links into its current data directory.
    cp -RL "$source/$collection/." "$staging/"
    # The volume's files are read-only; the copies belong to the gateway's user.
    chmod -R u+w "$staging"
  fi
  count=0
  for descriptor in "$staging"/*/*/*/resource.json; do
    prepare "${descriptor%/resource.json}"
    count=$((count + 1))
  done
  if [[ -e $root/$collection ]]; then
    mv "$root/$collection" "$old"
  fi
  mv "$staging" "$root/$collection"
  rm -rf "$old"
  log "$collection: $count resources$node"
done

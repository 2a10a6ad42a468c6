#!/bin/bash
# Installs this tier's Gateway Network certificate and the shared CA into the data volume, before
# every start (a running gateway never re-reads them, so a renewed certificate takes effect at the
# next start):
#  - the tier's PKCS#12 keystore becomes the gateway's metro keystore, its key renamed to the alias
#    metro-key that Ignition expects, with the image's own keytool;
#  - the CA certificate goes into the trusted folders of the Gateway Network server and client, so
#    every gateway signed by it is trusted without an approval by hand.
# The keystore password is Ignition's fixed "metro" (a wrong one from a Secret is never printed).
set -euo pipefail

volume=${DATA_VOLUME:?DATA_VOLUME must be set}
tls=${GAN_TLS_DIR:?GAN_TLS_DIR must be set}
# Set only when the keystore password comes from a Secret; cert-manager otherwise writes "metro".
password_file=${GAN_KEYSTORE_PASSWORD_FILE:-}
version_line=${IGNITION_VERSION_LINE:?IGNITION_VERSION_LINE must be set}
install_dir=${IGNITION_INSTALL_DIR:-/usr/local/bin/ignition}
ca_name=${GAN_CA_NAME:?GAN_CA_NAME must be set}

log() { echo "gan-trust: $*"; }

case $version_line in
  8.1)
    keystore="$volume/local/metro-keystore"
    network="$volume/gateway-network"
    ;;
  8.3)
    keystore="$volume/config/local/ignition/gateway-network/keystore/metro-keystore.pfx"
    network="$volume/config/local/ignition/gateway-network"
    ;;
  *) log "unknown version line $version_line"; exit 1 ;;
esac

keytool=$(command -v keytool || true)
if [[ -z $keytool ]]; then
  for candidate in "$install_dir"/lib/runtime/*/bin/keytool "$install_dir"/lib/runtime/bin/keytool; do
    if [[ -x $candidate ]]; then
      keytool=$candidate
      break
    fi
  done
fi
[[ -n $keytool ]] || { log "keytool not found in the image"; exit 1; }

# Ignition opens the metro keystore with the fixed password "metro", and keytool refuses to write
# a password shorter than six characters: the issued keystore must already use it, and only its
# alias is renamed here.
if [[ -n $password_file && $(<"$password_file") != metro ]]; then
  log "the keystore password must be \"metro\", the metro keystore's fixed password (see the README)"
  exit 1
fi
# Not a secret: Ignition's fixed password, also in every reference deployment's scripts.
password=metro
listing=$("$keytool" -list -v -keystore "$tls/keystore.p12" -storetype PKCS12 -storepass "$password" 2>&1) ||
  { log "cannot open $tls/keystore.p12"; exit 1; }
# The alias of the key entry in the issued keystore (cert-manager writes "certificate").
alias=$(awk -F': ' '/^Alias name:/ { name = $2 } /^Entry type: PrivateKeyEntry/ { print name; exit }' <<<"$listing")
[[ -n $alias ]] || { log "no private key in $tls/keystore.p12"; exit 1; }

mkdir -p "$(dirname "$keystore")"
cp -f "$tls/keystore.p12" "$keystore.new"
if [[ $alias != metro-key ]]; then
  "$keytool" -changealias -alias "$alias" -destalias metro-key \
    -keystore "$keystore.new" -storetype PKCS12 -storepass "$password" >/dev/null
fi
mv -f "$keystore.new" "$keystore"

for side in server client; do
  trusted="$network/$side/security/pki/trusted/certs"
  mkdir -p "$trusted"
  cp -f "$tls/ca.crt" "$trusted/$ca_name.crt"
done
log "installed the Gateway Network keystore and trusted $ca_name"

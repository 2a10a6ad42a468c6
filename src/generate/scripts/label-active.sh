#!/bin/bash
# Sidecar of a redundant pair: labels its own pod active or standby from the gateway's redundancy
# status, so that the Service users reach selects the Active node only (a plain Service also sends
# users to the cold Backup).
#  - polls /system/gwinfo every POLL_SECONDS;
#  - changes the label only after DEBOUNCE equal answers in a row, so a node never flaps;
#  - keeps the last label while the gateway does not answer: a busy gateway is not a failover;
#  - patches only its own pod, with the service-account token mounted into this container alone
#    (the Role allows get and patch on the pair's two pods, nothing else).
set -uo pipefail

port=${GATEWAY_HTTP_PORT:?GATEWAY_HTTP_PORT must be set}
poll=${POLL_SECONDS:?POLL_SECONDS must be set}
debounce=${DEBOUNCE:?DEBOUNCE must be set}
label=${ACTIVE_LABEL:?ACTIVE_LABEL must be set}
pod=${POD_NAME:?POD_NAME must be set}
namespace=${POD_NAMESPACE:?POD_NAMESPACE must be set}
credentials=${SERVICE_ACCOUNT_DIR:-/var/run/secrets/kubernetes.io/serviceaccount}
api=${KUBE_API_URL:-https://kubernetes.default.svc}
# 0 polls forever; the tests stop it after a number of polls.
max_polls=${MAX_POLLS:-0}

log() { echo "label-active: $*"; }

# Prints true (Active), false (Cold, Warm, Hot) or nothing (no answer, or no redundancy status yet).
observe() {
  local info
  info=$(curl -sS --fail --max-time 3 "http://127.0.0.1:$port/system/gwinfo" 2>/dev/null) || return 0
  info=";${info//[[:space:]]/};"
  case $info in
    *";RedundantNodeActiveStatus=Active;"*) echo true ;;
    *";RedundantNodeActiveStatus="*) echo false ;;
  esac
}

# Sets the label on this pod. The token goes to curl on stdin, never on a command line.
patch_label() {
  local value=$1 token
  local tls_options=()
  token=$(<"$credentials/token") || return 1
  [[ -f $credentials/ca.crt ]] && tls_options=(--cacert "$credentials/ca.crt")
  printf 'Authorization: Bearer %s\n' "$token" |
    curl -sS --fail --max-time 5 "${tls_options[@]}" -X PATCH \
      -H @- -H 'Content-Type: application/merge-patch+json' \
      --data "{\"metadata\":{\"labels\":{\"$label\":\"$value\"}}}" \
      --output /dev/null "$api/api/v1/namespaces/$namespace/pods/$pod"
}

labelled=""
candidate=""
seen=0
polls=0
while :; do
  observed=$(observe)
  if [[ -n $observed ]]; then
    if [[ $observed == "$candidate" ]]; then
      seen=$((seen + 1))
    else
      candidate=$observed
      seen=1
    fi
    if ((seen >= debounce)) && [[ $observed != "$labelled" ]]; then
      if patch_label "$observed"; then
        labelled=$observed
        log "pod $pod: $label=$observed"
      else
        log "pod $pod: could not set $label=$observed; trying again"
      fi
    fi
  fi
  polls=$((polls + 1))
  if ((max_polls > 0 && polls >= max_polls)); then
    exit 0
  fi
  sleep "$poll"
done

#!/bin/bash
# Readiness. Every gateway: /StatusPing says RUNNING and the gateway is past commissioning (users
# would land on the setup wizard). A node of a redundant pair also: the Master, or whichever node
# is Active, is ready when it runs; the Backup only once /system/gwinfo says it is in sync
# (RedundantState=Good). A rolling update replaces the Backup first and waits for it to be Ready,
# so the Master goes only after the Backup has caught up.
port=${GATEWAY_HTTP_PORT:-8088}
status=$(curl -sS --fail --max-time 4 "http://127.0.0.1:$port/StatusPing") || exit 1
status=${status//[[:space:]]/}
[[ $status == *'"state":"RUNNING"'* && $status != *COMMISSIONING* ]] || exit 1
[[ ${REDUNDANCY_MODE:-independent} == pair ]] || exit 0
info=$(curl -sS --fail --max-time 4 "http://127.0.0.1:$port/system/gwinfo") || exit 1
info=";${info//[[:space:]]/};"
[[ $info == *";RedundancyStatus=Master;"* ||
  $info == *";RedundantNodeActiveStatus=Active;"* ||
  $info == *";RedundantState=Good;"* ]]

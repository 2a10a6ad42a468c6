#!/bin/bash
# Readiness. Every gateway: /StatusPing says RUNNING and the gateway is past commissioning (users
# would land on the setup wizard). A node of a redundant pair also: the Master, or whichever node
# is Active, is ready when it runs; the Backup once /system/gwinfo says RedundantState is Good,
# OutOfDate or Incompatible. The last two are what a Backup on a new version reports beside a Master
# still on the old one: Inductive Automation's chart (ignition 0.2.1, redundant-health-check.sh)
# accepts them "to facilitate better automated upgrades", and a probe that wanted Good only would
# stall a version change at the Backup forever. A rolling update replaces the Backup first and waits
# for it to be Ready, so the Master goes only after the Backup runs and talks to it.
port=${GATEWAY_HTTP_PORT:?GATEWAY_HTTP_PORT must be set}
status=$(curl -sS --fail --max-time 4 "http://127.0.0.1:$port/StatusPing") || exit 1
status=${status//[[:space:]]/}
[[ $status == *'"state":"RUNNING"'* && $status != *COMMISSIONING* ]] || exit 1
[[ ${REDUNDANCY_MODE:-} == pair ]] || exit 0
info=$(curl -sS --fail --max-time 4 "http://127.0.0.1:$port/system/gwinfo") || exit 1
info=";${info//[[:space:]]/};"
[[ $info == *";RedundancyStatus=Master;"* ||
  $info == *";RedundantNodeActiveStatus=Active;"* ||
  $info == *";RedundantState=Good;"* ||
  $info == *";RedundantState=OutOfDate;"* ||
  $info == *";RedundantState=Incompatible;"* ]]

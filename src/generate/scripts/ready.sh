#!/bin/bash
# Readiness: the gateway answers /StatusPing with state RUNNING and is past commissioning.
# A gateway that is still commissioning is not ready (users would land on the setup wizard).
status=$(curl -sS --fail --max-time 4 "http://127.0.0.1:${GATEWAY_HTTP_PORT:-8088}/StatusPing") || exit 1
status=${status//[[:space:]]/}
[[ $status == *'"state":"RUNNING"'* && $status != *COMMISSIONING* ]]

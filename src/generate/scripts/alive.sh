#!/bin/bash
# Liveness: the gateway's web server answers at all, in any state. It must not fail while the gateway
# starts or commissions, or the kubelet restarts it before anyone can finish.
exec curl -sS --max-time 8 --output /dev/null "http://127.0.0.1:${GATEWAY_HTTP_PORT:?GATEWAY_HTTP_PORT must be set}/StatusPing"

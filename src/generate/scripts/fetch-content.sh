#!/bin/bash
# Puts the projects and third-party modules the spec pins in place before the gateway starts, on
# every start (a stateless frontend's data is new each time):
#  - a project comes from a tar archive (gzip or not), refused unless its SHA-256 is the pinned one;
#    the folder at PROJECT_<i>_PATH inside it must hold a project.json and no symbolic link, and it
#    replaces data/projects/<name>/ (IA docs, 8.3 "Version and Source Control Guide": a project is
#    the folder data/projects/<name> with its project.json);
#  - a module (.modl), by URL or from the modules volume (MODULE_<i>_FILE), is refused unless its
#    SHA-256 is the pinned one, the <id> of the module.xml at the root of its zip is the declared ID,
#    and its <requiredIgnitionVersion> is not newer than this image (IA's SDK docs, "The module.xml
#    File": the descriptor names the module and the minimum platform version; IA's own tools write
#    the element names in lower or camel case, so they are matched without regard to case).
#    The checked file waits in MODULES_DIR, from which the gateway container mounts it into
#    user-lib/modules.
# Any failure stops the pod's start with one line saying what and why.
# A checked download is kept on the data volume by its SHA-256, so a restart of a gateway with a
# persistent volume needs no network.
set -euo pipefail

volume=${DATA_VOLUME:?DATA_VOLUME must be set}
modules_dir=${MODULES_DIR:?MODULES_DIR must be set}
image_version=${IGNITION_VERSION:?IGNITION_VERSION must be set}
project_count=${PROJECT_COUNT:?PROJECT_COUNT must be set}
module_count=${MODULE_COUNT:?MODULE_COUNT must be set}
# Only https in production; the tests serve the files over plain http on 127.0.0.1.
protocols=${CONTENT_PROTOCOLS:-=https}

log() { echo "fetch-content: $*"; }
# To stderr: a failure inside $(...) must still reach the pod's log.
fail() {
  log "$*" >&2
  exit 1
}

cache="$volume/.ignition-krm-content"
mkdir -p "$cache"
# Left over by a start cut short.
rm -rf "$volume"/.ignition-krm-project.*
checksum() { sha256sum "$1" | cut -d' ' -f1; }

# keep_checked WHAT FILE SHA256 ORIGIN: FILE.download becomes FILE if its SHA-256 is the pinned one,
# and FILE is printed; otherwise it is removed and the start fails, naming ORIGIN.
keep_checked() {
  local what=$1 file=$2 expected=$3 origin=$4 actual
  actual=$(checksum "$file.download")
  if [[ $actual != "$expected" ]]; then
    rm -f "$file.download"
    fail "$what: $origin has SHA-256 $actual, not the pinned $expected: refusing it"
  fi
  mv -f "$file.download" "$file"
  echo "$file"
}

# fetch WHAT URL SHA256: prints the path of the checked file in the cache.
fetch() {
  local what=$1 url=$2 expected=$3
  local file="$cache/$expected" error
  if [[ -f $file && $(checksum "$file") == "$expected" ]]; then
    echo "$file"
    return
  fi
  rm -f "$file.download"
  if ! error=$(curl -sS --fail --location --proto "$protocols" --proto-redir "$protocols" \
    --retry 3 --retry-connrefused --connect-timeout 10 --max-time 900 \
    --output "$file.download" "$url" 2>&1); then
    rm -f "$file.download"
    fail "$what: cannot download $url: ${error##*$'\n'}"
  fi
  keep_checked "$what" "$file" "$expected" "the file at $url"
}

# take WHAT PATH SHA256: a file from a mounted volume, copied into the cache and checked there (a
# file checked in place could change before it is copied). Prints the path of the checked copy.
take() {
  local what=$1 source=$2 expected=$3
  local file="$cache/$expected"
  [[ -f $source ]] || fail "$what: no file $source on the modules volume"
  cp -f "$source" "$file.download"
  keep_checked "$what" "$file" "$expected" "the file $source"
}

# A path inside the directory it is joined to (the spec checks this too).
inner_path() {
  [[ -z $1 || ($1 != /* && /$1/ != */../* && /$1/ != */./* && $1 != *//*) ]]
}

# --- projects --------------------------------------------------------------------------------------

install_project() {
  local index=$1
  local name_var="PROJECT_${index}_NAME" url_var="PROJECT_${index}_URL"
  local sha_var="PROJECT_${index}_SHA256" path_var="PROJECT_${index}_PATH"
  local name=${!name_var:?$name_var must be set} url=${!url_var:?$url_var must be set}
  local expected=${!sha_var:?$sha_var must be set} inner=${!path_var:-}
  [[ $name =~ ^[A-Za-z0-9][A-Za-z0-9_-]*$ ]] || fail "project $name: not a project name"
  inner_path "$inner" || fail "project $name: the path $inner leaves the archive"
  local archive stage source error
  archive=$(fetch "project $name" "$url" "$expected")
  stage=$(mktemp -d "$volume/.ignition-krm-project.XXXXXX")
  # GNU tar keeps members inside the target: it drops a leading '/' and skips names with '..'.
  if ! error=$(tar -xf "$archive" -C "$stage" --no-same-owner --no-same-permissions 2>&1); then
    rm -rf "$stage"
    fail "project $name: the archive from $url cannot be unpacked: ${error##*$'\n'}"
  fi
  source="$stage${inner:+/$inner}"
  local where=${inner:-the root of the archive}
  # A symbolic link on the way to the folder would lead out of the archive.
  if [[ -e $source && $(realpath "$source") != "$(realpath "$stage")${inner:+/$inner}" ]]; then
    rm -rf "$stage"
    fail "project $name: $where leads through a symbolic link: refusing it"
  fi
  if [[ ! -f $source/project.json ]]; then
    rm -rf "$stage"
    fail "project $name: $where holds no project.json: not an Ignition project folder"
  fi
  if [[ -n $(find "$source" -type l -print -quit) ]]; then
    rm -rf "$stage"
    fail "project $name: $where holds a symbolic link: refusing it (a project needs none)"
  fi
  mkdir -p "$volume/projects"
  rm -rf "${volume:?}/projects/$name"
  mv "$source" "$volume/projects/$name"
  rm -rf "$stage"
  log "project $name from $url ($expected)"
}

# --- modules ---------------------------------------------------------------------------------------

# Little-endian unsigned integers of WIDTH bytes at OFFSET of FILE.
uint() {
  local value
  value=$(od -An -tu"$3" --endian=little -j "$2" -N "$3" "$1" | tr -d ' \n')
  [[ -n $value ]] || return 1
  echo "$value"
}

# COUNT bytes at OFFSET of FILE (no pipe that could end in SIGPIPE).
bytes() {
  dd if="$1" iflag=skip_bytes,count_bytes skip="$2" count="$3" bs=65536 status=none
}

# zip_entry FILE NAME: prints the named entry of a zip file, found through the central directory
# (local headers may leave the sizes to a trailing data descriptor). The central directory is read
# once, as hex, and walked in bash: a module with hundreds of jars costs a handful of processes.
# Stored and deflated entries only; deflate is read by gzip after a gzip header (gzip then misses
# its trailer: its complaint about the end of the file is expected, and the caller checks what
# came out).
zip_entry() {
  local file=$1 wanted=$2 size tail_size hex prefix eocd
  size=$(stat -c %s "$file")
  ((size >= 22)) || return 1
  tail_size=$((size < 65557 ? size : 65557))
  hex=$(tail -c "$tail_size" "$file" | od -An -v -tx1 | tr -d ' \n')
  prefix=${hex%504b0506*}
  [[ $prefix != "$hex" && $((${#prefix} % 2)) -eq 0 ]] || return 1
  eocd=$((size - tail_size + ${#prefix} / 2))
  local entries directory_size offset directory wanted_hex
  entries=$(uint "$file" $((eocd + 10)) 2) || return 1
  directory_size=$(uint "$file" $((eocd + 12)) 4) || return 1
  offset=$(uint "$file" $((eocd + 16)) 4) || return 1
  ((offset + directory_size <= eocd)) || return 1
  directory=$(bytes "$file" "$offset" "$directory_size" | od -An -v -tx1 | tr -d ' \n')
  wanted_hex=$(printf '%s' "$wanted" | od -An -v -tx1 | tr -d ' \n')
  # The little-endian number of WIDTH bytes at byte POSITION of the directory, into REPLY.
  field() {
    local position=$1 width=$2 i
    REPLY=0
    for ((i = width - 1; i >= 0; i--)); do
      REPLY=$((REPLY * 256 + 16#${directory:$(((position + i) * 2)):2}))
    done
  }
  local position=0 index=0 method compressed name_length extra_length comment_length local_header
  while ((index < entries)); do
    ((2 * (position + 46) <= ${#directory})) || return 1
    [[ ${directory:$((position * 2)):8} == 504b0102 ]] || return 1 # PK\1\2
    field $((position + 10)) 2 && method=$REPLY
    field $((position + 20)) 4 && compressed=$REPLY
    field $((position + 28)) 2 && name_length=$REPLY
    field $((position + 30)) 2 && extra_length=$REPLY
    field $((position + 32)) 2 && comment_length=$REPLY
    field $((position + 42)) 4 && local_header=$REPLY
    if [[ ${directory:$(((position + 46) * 2)):$((name_length * 2))} == "$wanted_hex" ]]; then
      [[ $(uint "$file" "$local_header" 4) == 67324752 ]] || return 1 # PK\3\4
      local data
      data=$((local_header + 30 + $(uint "$file" $((local_header + 26)) 2) + $(uint "$file" $((local_header + 28)) 2)))
      case $method in
        0) bytes "$file" "$data" "$compressed" ;;
        8) { printf '\037\213\010\000\000\000\000\000\000\377'; bytes "$file" "$data" "$compressed"; } |
          gzip -dc 2>/dev/null || true ;;
        *) return 1 ;;
      esac
      return 0
    fi
    position=$((position + 46 + name_length + extra_length + comment_length))
    index=$((index + 1))
  done
  return 1
}

# True when version $1 is newer than version $2 (major.minor.patch as numbers; missing parts are 0).
newer() {
  local -a left right
  IFS=. read -ra left <<<"$1"
  IFS=. read -ra right <<<"$2"
  local i
  for i in 0 1 2; do
    ((10#${left[i]:-0} > 10#${right[i]:-0})) && return 0
    ((10#${left[i]:-0} < 10#${right[i]:-0})) && return 1
  done
  return 1
}

install_module() {
  local index=$1
  local id_var="MODULE_${index}_ID" url_var="MODULE_${index}_URL" file_var="MODULE_${index}_FILE"
  local sha_var="MODULE_${index}_SHA256"
  local id=${!id_var:?$id_var must be set} url=${!url_var:-} source_file=${!file_var:-}
  local expected=${!sha_var:?$sha_var must be set}
  [[ $id =~ ^[A-Za-z][A-Za-z0-9._-]*$ ]] || fail "module $id: not a module ID"
  local file descriptor from
  if [[ -n $url ]]; then
    from="the file at $url"
    file=$(fetch "module $id" "$url" "$expected")
  elif [[ -n $source_file ]]; then
    from="the file $source_file"
    file=$(take "module $id" "$source_file" "$expected")
  else
    fail "module $id: $url_var or $file_var must be set"
  fi
  descriptor=$(zip_entry "$file" module.xml) ||
    fail "module $id: $from is not an Ignition module: no module.xml in a zip"
  descriptor=${descriptor//[$'\r\n\t']/ }
  local -a ids=()
  local rest=$descriptor required=""
  # In variables: a '<' written in [[ ]] would be an operator.
  local id_pattern='<id>[[:space:]]*([^<[:space:]]*)[[:space:]]*</id>(.*)'
  local version_pattern='<requiredignitionversion>[[:space:]]*([0-9]+(\.[0-9]+)*)'
  shopt -s nocasematch
  while [[ $rest =~ $id_pattern ]]; do
    ids+=("${BASH_REMATCH[1]}")
    rest=${BASH_REMATCH[2]}
  done
  if [[ $descriptor =~ $version_pattern ]]; then
    required=${BASH_REMATCH[1]}
  fi
  shopt -u nocasematch
  ((${#ids[@]} == 1)) ||
    fail "module $id: the module.xml of $from names ${#ids[@]} modules (${ids[*]:-none}), expected one"
  [[ ${ids[0]} == "$id" ]] ||
    fail "module $id: $from is the module ${ids[0]}, not $id: refusing it"
  if [[ -n $required ]] && newer "$required" "$image_version"; then
    fail "module $id: it needs Ignition $required or later, and this image is $image_version"
  fi
  mkdir -p "$modules_dir"
  cp -f "$file" "$modules_dir/$id.modl.tmp"
  mv -f "$modules_dir/$id.modl.tmp" "$modules_dir/$id.modl"
  log "module $id from ${url:-$source_file} ($expected)${required:+, needs Ignition $required}"
}

for ((i = 0; i < project_count; i++)); do install_project "$i"; done
for ((i = 0; i < module_count; i++)); do install_module "$i"; done

# Downloads no longer pinned go: the cache holds what this start uses.
declare -A used=()
for ((i = 0; i < project_count; i++)); do
  var="PROJECT_${i}_SHA256"
  used[${!var}]=1
done
for ((i = 0; i < module_count; i++)); do
  var="MODULE_${i}_SHA256"
  used[${!var}]=1
done
for file in "$cache"/*; do
  [[ -e $file ]] || continue
  [[ -n ${used[$(basename "$file")]:-} ]] || rm -f "$file"
done

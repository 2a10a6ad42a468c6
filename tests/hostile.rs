//! Hostile input, case by case: whatever a user feeds the function, it answers with an exit code,
//! either nothing or a valid ResourceList with error results (never a generated object), one clear
//! line on stderr per problem, no panic, and within bounds of time and memory.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_norway::Value;

/// Per run: generous for a debug build on a loaded machine; a hang is far beyond it.
const TIME_LIMIT: Duration = Duration::from_secs(30);
/// Peak resident memory per run. The 64 MiB input cap needs about 70 MiB.
const MEMORY_LIMIT_KIB: u64 = 256 * 1024;

/// What a case feeds on stdin.
enum Input {
    Text(&'static str),
    Bytes(&'static [u8]),
    /// An IgnitionCluster (at column 0) given as the function config of a ResourceList.
    Config(&'static str),
    /// Bytes made by the test: too large or too repetitive to write out.
    Made(fn() -> Vec<u8>),
}

/// What must come out.
enum Expect {
    /// Exit 1 and these problems, one stderr line (and one error result) each, in order: each
    /// string must appear in its line.
    Refused(&'static [&'static str]),
    /// Exit 0 with generated objects.
    Expanded,
}

struct Case {
    name: &'static str,
    input: Input,
    expect: Expect,
}

/// A valid failover spec body, for cases that break one field of it.
macro_rules! config {
    ($spec:expr) => {
        concat!(
            "apiVersion: ignition.krm.dev/v1alpha1\nkind: IgnitionCluster\nmetadata:\n  name: plant-a\n  namespace: scada\nspec:\n",
            $spec
        )
    };
}
macro_rules! valid_spec {
    () => {
        "  architecture: failover\n  version: \"8.3.3\"\n  adminPasswordSecret: plant-a-admin\n"
    };
}

/// A ResourceList with a valid failover spec of version `$version` as its function config and the
/// given GatewayResource specs (each at column 4, under `spec:`) as items.
macro_rules! with_resources {
    ($version:literal, $($resource:expr),+) => {
        concat!(
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n",
            $(
                "- apiVersion: ignition.krm.dev/v1alpha1\n  kind: GatewayResource\n  metadata: {name: r}\n  spec:\n",
                $resource,
            )+
            "functionConfig:\n  apiVersion: ignition.krm.dev/v1alpha1\n  kind: IgnitionCluster\n  metadata: {name: plant-a}\n",
            "  spec: {architecture: failover, version: \"", $version, "\", adminPasswordSecret: plant-a-admin}\n",
        )
    };
}

const NOT_A_LIST: &str = "expected a ResourceList";

fn cases() -> Vec<Case> {
    use Expect::*;
    use Input::*;
    let case = |name, input, expect| Case { name, input, expect };
    vec![
        // Not a ResourceList at all.
        case("empty stdin", Text(""), Refused(&["input is empty"])),
        case("only whitespace", Text("  \n\t\n"), Refused(&["input is empty"])),
        case("only a comment", Text("# nothing here\n"), Refused(&["input is empty"])),
        case("not YAML", Text("{{{ : ]\n"), Refused(&["input is not valid YAML"])),
        case("an unclosed quote", Text("kind: \"ResourceList\n"), Refused(&["input is not valid YAML"])),
        case("a tab indent", Text("kind: ResourceList\nitems:\n\t- a\n"), Refused(&["input is not valid YAML"])),
        case("binary garbage", Bytes(b"\x00\x01\xff\xfe\x80garbage"), Refused(&["<stdin>: not UTF-8 text"])),
        case("a NUL inside text", Bytes(b"kind: Resource\x00List\n"), Refused(&["input is not valid YAML"])),
        case(
            "invalid UTF-8 in a value",
            Bytes(b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- name: caf\xe9\n"),
            Refused(&["<stdin>: not UTF-8 text: invalid byte at offset 73"]),
        ),
        case("a plain scalar", Text("hello\n"), Refused(&[NOT_A_LIST])),
        case("a list", Text("- kind: ResourceList\n"), Refused(&[NOT_A_LIST])),
        case("a JSON number", Text("42"), Refused(&[NOT_A_LIST])),
        case("a gzip header", Bytes(b"\x1f\x8b\x08\x00\x00\x00\x00\x00"), Refused(&["<stdin>: not UTF-8 text"])),
        case(
            "a Kubernetes object instead of a list",
            Text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n"),
            Refused(&["input has kind \"Deployment\": expected kind ResourceList"]),
        ),
        case(
            "a ResourceList of another version",
            Text("apiVersion: config.kubernetes.io/v2\nkind: ResourceList\nitems: []\n"),
            Refused(&["input has apiVersion \"config.kubernetes.io/v2\""]),
        ),
        case(
            "kind of the wrong type",
            Text("apiVersion: config.kubernetes.io/v1\nkind: [ResourceList]\n"),
            Refused(&["input has kind \"a list\""]),
        ),
        // Resource exhaustion.
        case("an alias bomb (billion laughs)", Made(billion_laughs), Refused(&["input is not valid YAML"])),
        case("10,000 levels of flow nesting", Made(deep_flow), Refused(&["input is not valid YAML"])),
        case("10,000 levels of block nesting", Made(deep_block), Refused(&["input is not valid YAML"])),
        case("10,000 levels inside the spec", Made(deep_in_spec), Refused(&["input is not valid YAML"])),
        case("a 100 MB input", Made(hundred_megabytes), Refused(&["<stdin>: larger than 64 MiB"])),
        // Each item's alias into the first is replaced by the anchored text: found once, not once per item.
        case("20,000 items that alias into the first", Made(many_aliases), Expanded),
        case("a 10 MB site name", Made(huge_name), Refused(&["metadata.name"])),
        // Structure of the ResourceList.
        case(
            "duplicate keys in the list",
            Text("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nitems: []\n"),
            Refused(&["duplicate entry with key \"items\""]),
        ),
        case(
            "duplicate keys in the spec",
            Config(config!("  architecture: failover\n  architecture: scaleout\n")),
            Refused(&["duplicate entry with key \"architecture\""]),
        ),
        case(
            "several documents",
            Text("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n---\napiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"),
            Refused(&["more than one document"]),
        ),
        case(
            "a ResourceList without items or config",
            Text("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"),
            Refused(&["no IgnitionCluster to expand"]),
        ),
        case(
            "items is a string",
            Text("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: everything\n"),
            Refused(&["input field items is a string: expected a list of objects"]),
        ),
        case(
            "items is a mapping",
            Text("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: {a: b}\n"),
            Refused(&["input field items is a mapping"]),
        ),
        case(
            "an item is a number",
            Text("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: [{kind: ConfigMap}, 7]\n"),
            Refused(&["input item 1 is an integer: expected an object"]),
        ),
        case(
            "an item with a mapping key",
            Text("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- {? {a: b} : c}\n"),
            Refused(&["input item 0 has a mapping key"]),
        ),
        // Refused by kustomize 4.5.4 too (`kustomize build` of a file holding it): `yaml: invalid map key`.
        case(
            "an item with a list as a key, named",
            Text("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- kind: ConfigMap\n  metadata: {name: cx}\n- kind: ConfigMap\n  metadata: {name: cy}\n  data:\n    ? [a, b]\n    : c\n"),
            Refused(&["input item 1 (ConfigMap cy) has a mapping key that is a list or a mapping"]),
        ),
        // Refused by kustomize 4.5.4 too: `found a tab character where an indentation space is expected`.
        case(
            "a literal block whose first line starts with a tab",
            Text("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: tabbed\n  data:\n    t: |\n      \tx\n"),
            Refused(&["input is not valid YAML: found a tab character where an indentation space is expected at line 10 column 7, while scanning a block scalar at line 9 column 8; in item 0 (Secret tabbed)"]),
        ),
        // Refused by kustomize 4.5.4 too: `mapping key "a" already defined at line 6`.
        case(
            "a duplicate key inside an item",
            Text("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: ok\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: bad-one\n  data:\n    a: 1\n    a: 2\n"),
            Refused(&["input is not valid YAML: items[1].data: duplicate entry with key \"a\" at line 13 column 5; in item 1 (ConfigMap bad-one)"]),
        ),
        // Refused by kustomize 4.5.4 too: `cannot decode !!float `1.5` as a !!int`, `... !!null `` as a !!int`,
        // `... !!str `x` as a !!null`, `... !!float `99999999999999999999` as a !!int` (each a `kustomize build`).
        case(
            "explicitly tagged scalars kustomize cannot read as their tag",
            Text("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: ok\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: tagged\n  data:\n    a: !!int 1.5\n"),
            Refused(&["input is not valid YAML: items[1].data.a: cannot read 1.5 as !!int (kustomize refuses it too) at line 13 column 8; in item 1 (ConfigMap tagged)"]),
        ),
        case(
            "an empty value tagged !!int",
            Text("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: tagged\n  data:\n    a: !!int\n    b: c\n"),
            Refused(&["cannot read an empty value as !!int (kustomize refuses it too) at line 9 column 8; in item 0 (ConfigMap tagged)"]),
        ),
        case(
            "a word tagged !!null",
            Text("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: tagged}, data: {a: !!null x}}\n"),
            Refused(&["cannot read \"x\" as !!null (kustomize refuses it too) at line 4 column 73; in item 0"]),
        ),
        case(
            "an integer beyond 64 bits tagged !!int",
            Text("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: big\n  data:\n    a: !!int 99999999999999999999\n"),
            Refused(&["cannot read 99999999999999999999 as !!int (kustomize refuses it too) at line 9 column 8; in item 0 (ConfigMap big)"]),
        ),
        // JSON input: the item is named as in YAML, by where the error is.
        case(
            "a duplicate key inside a JSON item",
            Text(r#"{"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [{"kind": "ConfigMap", "metadata": {"name": "ok"}}, {"kind": "ConfigMap", "metadata": {"name": "dup"}, "data": {"a": "x", "a": "y"}}]}"#),
            Refused(&["input is not valid YAML: items[1].data: duplicate entry with key \"a\" at line 1 column 187; in item 1 (ConfigMap dup)"]),
        ),
        case(
            "a raw DEL inside a JSON item",
            Text("{\"apiVersion\": \"config.kubernetes.io/v1\", \"kind\": \"ResourceList\", \"items\": [\n  {\"kind\": \"Secret\", \"metadata\": {\"name\": \"ok\"}},\n  {\"kind\": \"Secret\", \"metadata\": {\"name\": \"del\"}, \"data\": {\"a\": \"x\u{7f}\"}}\n]}"),
            Refused(&["input is not valid YAML: control characters are not allowed at position 193; in item 1 (Secret del)"]),
        ),
        case(
            "a surrogate-pair escape inside a JSON item",
            Text(r#"{"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [{"kind": "ConfigMap", "metadata": {"name": "emoji"}, "data": {"a": "\ud83d\ude00"}}]}"#),
            Refused(&["; in item 0 (ConfigMap emoji)"]),
        ),
        case(
            "a raw C1 control inside a block item",
            Text("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- kind: ConfigMap\n  metadata:\n    name: ok\n- kind: Secret\n  metadata:\n    name: c1\n  data:\n    a: \"x\u{86}\"\n"),
            Refused(&["input is not valid YAML: control characters are not allowed at position 162; in item 1 (Secret c1)"]),
        ),
        // The function config.
        case(
            "a config of another kind",
            Made(|| with_config("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plant-a}\n")),
            Refused(&["expected apiVersion ignition.krm.dev/v1alpha1, kind IgnitionCluster"]),
        ),
        case(
            "a config of another version",
            Config("apiVersion: ignition.krm.dev/v1beta1\nkind: IgnitionCluster\nmetadata: {name: plant-a}\nspec: {}\n"),
            Refused(&["the function config is ignition.krm.dev/v1beta1/IgnitionCluster"]),
        ),
        case(
            "a config that is a string",
            Made(|| with_config("just text\n")),
            Refused(&["expected apiVersion ignition.krm.dev/v1alpha1"]),
        ),
        case(
            "a config without spec",
            Config("apiVersion: ignition.krm.dev/v1alpha1\nkind: IgnitionCluster\nmetadata: {name: plant-a}\n"),
            Refused(&["spec"]),
        ),
        case(
            "every field with a wrong type",
            Config(config!(concat!(
                "  architecture: 7\n  version: 8.3\n  edition: [standard]\n  timezone: {}\n  image: docker.io/x\n",
                "  adminUsername: true\n  adminPasswordSecret: [a]\n  license: secret\n  modules: perspective\n",
                "  deploymentMode: 1\n  ingress: yes\n  gatewayNetwork: []\n  redundancy: Hot\n",
                "  gateway: {replicas: two, resources: {cpu: [1], memory: {}}, storage: {size: true, storageClassName: 5}}\n"
            ))),
            Refused(&[
                "spec.architecture:",
                "spec.version: expected a string, found a number",
                "spec.edition:",
                "spec.timezone: expected a string",
                "spec.image: expected a mapping",
                "spec.adminUsername: expected a string",
                "spec.adminPasswordSecret: expected a string",
                "spec.license: expected a mapping",
                "spec.modules: expected a list",
                "spec.deploymentMode: expected a string",
                "spec.ingress: expected a mapping",
                "spec.gatewayNetwork: expected a mapping",
                "spec.redundancy: expected a mapping",
                "spec.gateway.replicas: expected an integer",
                "spec.gateway.resources.cpu: expected a string or a number",
                "spec.gateway.resources.memory: expected a string or a number",
                "spec.gateway.storage.size: expected a string or a number",
                "spec.gateway.storage.storageClassName: expected a string",
            ]),
        ),
        case(
            "metadata with wrong types",
            Config("apiVersion: ignition.krm.dev/v1alpha1\nkind: IgnitionCluster\nmetadata: {name: 5, namespace: [a], labels: x}\nspec:\n  architecture: failover\n  version: \"8.3.3\"\n  adminPasswordSecret: s\n"),
            Refused(&["metadata.name: expected a string", "metadata.namespace: expected a string", "metadata.labels: expected a mapping"]),
        ),
        // Numbers and quantities.
        case("negative replicas", Config(config!(concat!(valid_spec!(), "  gateway: {replicas: -1}\n"))), Refused(&["spec.gateway.replicas: must be at least 1"])),
        case(
            "absurd replicas",
            Config(config!(concat!(valid_spec!(), "  gateway: {replicas: 99999999999999999999}\n"))),
            Refused(&["spec.gateway.replicas:"]),
        ),
        case(
            "too many frontends",
            Config(config!("  architecture: scaleout\n  version: \"8.3.3\"\n  adminPasswordSecret: s\n  frontend: {replicas: 100000}\n")),
            Refused(&["spec.frontend.replicas: must be at most 100"]),
        ),
        case("fractional replicas", Config(config!(concat!(valid_spec!(), "  gateway: {replicas: 1.5}\n"))), Refused(&["spec.gateway.replicas: expected an integer"])),
        case("negative memory", Config(config!(concat!(valid_spec!(), "  gateway: {resources: {memory: -4Gi}}\n"))), Refused(&["spec.gateway.resources.memory"])),
        case("zero CPU", Config(config!(concat!(valid_spec!(), "  gateway: {resources: {cpu: 0}}\n"))), Refused(&["spec.gateway.resources.cpu"])),
        case("a CPU in words", Config(config!(concat!(valid_spec!(), "  gateway: {resources: {cpu: lots}}\n"))), Refused(&["spec.gateway.resources.cpu"])),
        case("memory in GB", Config(config!(concat!(valid_spec!(), "  gateway: {resources: {memory: 4GB}}\n"))), Refused(&["spec.gateway.resources.memory"])),
        case("absurd storage", Config(config!(concat!(valid_spec!(), "  gateway: {storage: {size: 9999999999999999999999Ei}}\n"))), Refused(&["spec.gateway.storage.size"])),
        case("NaN memory", Config(config!(concat!(valid_spec!(), "  gateway: {resources: {memory: .nan}}\n"))), Refused(&["spec.gateway.resources.memory"])),
        case(
            "memory too small for a gateway",
            Config(config!(concat!(valid_spec!(), "  gateway: {resources: {memory: 1Gi}}\n"))),
            Refused(&["spec.gateway.resources.memory: must be at least 1536Mi"]),
        ),
        // Gateway Network trust.
        case("an unknown trust", Config(config!(concat!(valid_spec!(), "  gatewayNetwork: {trust: approve}\n"))), Refused(&["spec.gatewayNetwork.trust"])),
        case(
            "manual trust with frontend autoscaling",
            Config(config!("  architecture: scaleout\n  version: \"8.3.3\"\n  adminPasswordSecret: s\n  frontend: {autoscaling: {maxReplicas: 5}}\n  gatewayNetwork: {trust: manual}\n")),
            Refused(&["spec.gatewayNetwork.trust: manual cannot be used with spec.frontend.autoscaling"]),
        ),
        case(
            "manual trust with certificates",
            Config(config!(concat!(valid_spec!(), "  gatewayNetwork: {trust: manual, certificates: {duration: 8760h}}\n"))),
            Refused(&["spec.gatewayNetwork.certificates: is only read with a CA"]),
        ),
        case(
            "ApprovedOnly with a CA",
            Config(config!(concat!(valid_spec!(), "  gatewayNetwork: {securityPolicy: ApprovedOnly}\n"))),
            Refused(&["spec.gatewayNetwork.securityPolicy: ApprovedOnly makes every new connection wait"]),
        ),
        case(
            "an old source that disagrees with trust",
            Config(config!(concat!(valid_spec!(), "  gatewayNetwork: {trust: certManager, certificates: {source: secret}}\n"))),
            Refused(&["spec.gatewayNetwork.certificates.source: disagrees with spec.gatewayNetwork.trust"]),
        ),
        case(
            "a certificate for a day",
            Config(config!(concat!(valid_spec!(), "  gatewayNetwork: {certificates: {duration: 24h, renewBefore: 1h}}\n"))),
            Refused(&["spec.gatewayNetwork.certificates.duration: must be at least 168h"]),
        ),
        case(
            "a certificate outliving its CA",
            Config(config!(concat!(valid_spec!(), "  gatewayNetwork: {certificates: {duration: 8760h, caDuration: 8760h}}\n"))),
            Refused(&["spec.gatewayNetwork.certificates.caDuration: must be more than the duration 8760h"]),
        ),
        case(
            "a CA for a thousand years",
            Config(config!(concat!(valid_spec!(), "  gatewayNetwork: {certificates: {caDuration: 8760000h}}\n"))),
            Refused(&["spec.gatewayNetwork.certificates.caDuration: must be at most 876000h"]),
        ),
        case(
            "a CA duration in days",
            Config(config!(concat!(valid_spec!(), "  gatewayNetwork: {certificates: {caDuration: 3650d}}\n"))),
            Refused(&["spec.gatewayNetwork.certificates.caDuration: \"3650d\" is not a duration"]),
        ),
        case(
            "a renewal after expiry",
            Config(config!(concat!(valid_spec!(), "  gatewayNetwork: {certificates: {renewBefore: 9000h}}\n"))),
            Refused(&["spec.gatewayNetwork.certificates.renewBefore: must be more than 0 and less than the duration 8760h"]),
        ),
        case(
            "the old rotation none",
            Config(config!(concat!(valid_spec!(), "  gatewayNetwork: {certificates: {rotation: none}}\n"))),
            Refused(&["spec.gatewayNetwork.certificates.rotation: none is now called manual"]),
        ),
        case(
            "an unknown rotation",
            Config(config!(concat!(valid_spec!(), "  gatewayNetwork: {certificates: {rotation: cron}}\n"))),
            Refused(&["spec.gatewayNetwork.certificates.rotation"]),
        ),
        case(
            "a bad keystore password Secret name",
            Config(config!(concat!(valid_spec!(), "  gatewayNetwork: {certificates: {keystorePasswordSecret: \"Metro Key\"}}\n"))),
            Refused(&["spec.gatewayNetwork.certificates.keystorePasswordSecret"]),
        ),
        case(
            "cert-manager lifetimes with Secrets",
            Config(config!(concat!(valid_spec!(), "  gatewayNetwork: {trust: secret, certificates: {caDuration: 87600h}}\n"))),
            Refused(&["spec.gatewayNetwork.certificates.caDuration: is only read with trust certManager"]),
        ),
        case(
            "two backups for the frontends",
            Config(config!("  architecture: scaleout\n  version: \"8.3.3\"\n  adminPasswordSecret: s\n  restore: {volumeClaim: b, path: a.gwbk, frontends: true}\n  frontend: {restore: {volumeClaim: b, path: f.gwbk}}\n")),
            Refused(&["spec.frontend.restore: cannot be given with spec.restore.frontends: true"]),
        ),
        case(
            "a frontend backup over plain http",
            Config(config!("  architecture: scaleout\n  version: \"8.3.3\"\n  adminPasswordSecret: s\n  frontend: {restore: {url: \"http://x/f.gwbk\"}}\n")),
            Refused(&["spec.frontend.restore.url: must be an https:// URL", "spec.frontend.restore.sha256: is required with url"]),
        ),
        case(
            "a frontend backup that restores the frontends",
            Config(config!("  architecture: scaleout\n  version: \"8.3.3\"\n  adminPasswordSecret: s\n  frontend: {restore: {volumeClaim: b, path: f.gwbk, frontends: true}}\n")),
            Refused(&["spec.frontend.restore.frontends"]),
        ),
        case(
            "restore frontends as a word",
            Config(config!(concat!(valid_spec!(), "  restore: {volumeClaim: backups, path: a.gwbk, frontends: sometimes}\n"))),
            Refused(&["spec.restore.frontends"]),
        ),
        // Projects and third-party modules (spec.projects, spec.thirdPartyModules).
        case(
            "a project archive with a bad checksum",
            Config(config!(concat!(valid_spec!(), "  projects: [{name: hmi, source: {archive: {url: \"https://git.example.com/a.tar.gz\", sha256: abc123}}}]\n"))),
            Refused(&["spec.projects[0].source.archive.sha256: must be the file's SHA-256 as 64 hex digits"]),
        ),
        case(
            "a project archive over plain http",
            Config(config!(concat!(valid_spec!(), "  projects: [{name: hmi, source: {archive: {url: \"http://git.example.com/a.tar.gz\", sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}}}]\n"))),
            Refused(&["spec.projects[0].source.archive.url: must be an https:// URL"]),
        ),
        case(
            "a project source of an unknown type",
            Config(config!(concat!(valid_spec!(), "  projects: [{name: hmi, source: {svn: {url: \"https://x/y\"}}}]\n"))),
            Refused(&["spec.projects[0].source.svn: unknown field \"svn\"; known fields: archive", "spec.projects[0].source.archive: is required"]),
        ),
        case(
            "a project path that climbs out of the archive",
            Config(config!(concat!(valid_spec!(), "  projects: [{name: hmi, path: \"repo/../../etc\", source: {archive: {url: \"https://x/a.tar.gz\", sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}}}]\n"))),
            Refused(&["spec.projects[0].path: must be a relative path inside the archive"]),
        ),
        case(
            "an absolute project path",
            Config(config!(concat!(valid_spec!(), "  projects: [{name: hmi, path: /etc, source: {archive: {url: \"https://x/a.tar.gz\", sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}}}]\n"))),
            Refused(&["spec.projects[0].path: must be a relative path inside the archive"]),
        ),
        case(
            "a project name that is a path",
            Config(config!(concat!(valid_spec!(), "  projects: [{name: \"../data\", source: {archive: {url: \"https://x/a.tar.gz\", sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}}}]\n"))),
            Refused(&["spec.projects[0].name: must be a project name"]),
        ),
        case(
            "the same project twice",
            Config(config!(concat!(valid_spec!(), "  projects: [{name: hmi, source: {archive: {url: \"https://x/a.tar.gz\", sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}}}, {name: hmi, source: {archive: {url: \"https://x/b.tar.gz\", sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}}}]\n"))),
            Refused(&["spec.projects[1].name: \"hmi\" is given twice"]),
        ),
        case(
            "a project for a tier the architecture lacks",
            Config(config!(concat!(valid_spec!(), "  projects: [{name: hmi, tiers: [frontend], source: {archive: {url: \"https://x/a.tar.gz\", sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}}}]\n"))),
            Refused(&["spec.projects[0].tiers[0]: \"frontend\" is not a tier of this architecture (its tiers: gateway)"]),
        ),
        case(
            "a project for an unknown tier",
            Config(config!(concat!(valid_spec!(), "  projects: [{name: hmi, tiers: [edge], source: {archive: {url: \"https://x/a.tar.gz\", sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}}}]\n"))),
            Refused(&["spec.projects[0].tiers[0]"]),
        ),
        case(
            "a module with a bad checksum and a plain http URL",
            Config(config!(concat!(valid_spec!(), "  thirdPartyModules: [{id: com.example.a, url: \"http://x/a.modl\", sha256: \"not-a-sum\"}]\n"))),
            Refused(&["spec.thirdPartyModules[0].url: must be an https:// URL", "spec.thirdPartyModules[0].sha256: must be the file's SHA-256"]),
        ),
        case(
            "a module ID that is a path",
            Config(config!(concat!(valid_spec!(), "  thirdPartyModules: [{id: \"../../lib/x\", url: \"https://x/a.modl\", sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}]\n"))),
            Refused(&["spec.thirdPartyModules[0].id: must be a module ID"]),
        ),
        case(
            "a module with both a URL and a volume",
            Config(config!(concat!(valid_spec!(), "  thirdPartyModules: [{id: com.example.a, url: \"https://x/a.modl\", volumeClaim: modules, path: a.modl, sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}]\n"))),
            Refused(&["spec.thirdPartyModules[0]: needs exactly one of url and volumeClaim (with path)"]),
        ),
        case(
            "a module path that climbs out of its volume",
            Config(config!(concat!(valid_spec!(), "  thirdPartyModules: [{id: com.example.a, volumeClaim: modules, path: \"../other/a.modl\", sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}]\n"))),
            Refused(&["spec.thirdPartyModules[0].path: must be the relative path of a .modl file inside the volume"]),
        ),
        case(
            "modules from two volumes",
            Config(config!(concat!(valid_spec!(), "  thirdPartyModules: [{id: com.example.a, volumeClaim: modules, path: a.modl, sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}, {id: com.example.b, volumeClaim: more-modules, path: b.modl, sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}]\n"))),
            Refused(&["spec.thirdPartyModules[1].volumeClaim: is another claim than \"modules\""]),
        ),
        case(
            "a module on 8.1",
            Config("apiVersion: ignition.krm.dev/v1alpha1\nkind: IgnitionCluster\nmetadata: {name: plant-a}\nspec:\n  architecture: failover\n  version: \"8.1.48\"\n  adminPasswordSecret: s\n  thirdPartyModules: [{id: com.example.a, url: \"https://x/a.modl\", sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}]\n"),
            Refused(&["spec.thirdPartyModules[0]: third-party modules are supported from Ignition 8.3.0 on"]),
        ),
        case(
            "a module field of an unknown name",
            Config(config!(concat!(valid_spec!(), "  thirdPartyModules: [{id: com.example.a, url: \"https://x/a.modl\", sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, checksum: md5}]\n"))),
            Refused(&["spec.thirdPartyModules[0].checksum: unknown field"]),
        ),
        case(
            "a module accepted as a word",
            Config(config!(concat!(valid_spec!(), "  thirdPartyModules: [{id: com.example.a, url: \"https://x/a.modl\", sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, acceptLicense: sure}]\n"))),
            Refused(&["spec.thirdPartyModules[0].acceptLicense"]),
        ),
        // Names and versions.
        case(
            "a name that is not a DNS label",
            Config("apiVersion: ignition.krm.dev/v1alpha1\nkind: IgnitionCluster\nmetadata: {name: Plant_A}\nspec:\n  architecture: failover\n  version: \"8.3.3\"\n  adminPasswordSecret: s\n"),
            Refused(&["metadata.name"]),
        ),
        case(
            "a name too long for the pods",
            Config("apiVersion: ignition.krm.dev/v1alpha1\nkind: IgnitionCluster\nmetadata: {name: plant-with-a-name-far-too-long-for-statefulset-pods}\nspec:\n  architecture: failover\n  version: \"8.3.3\"\n  adminPasswordSecret: s\n"),
            Refused(&["metadata.name: \"plant-with-a-name-far-too-long-for-statefulset-pods\" is 51 characters; at most 44 fit"]),
        ),
        case(
            "an empty name",
            Config("apiVersion: ignition.krm.dev/v1alpha1\nkind: IgnitionCluster\nmetadata: {name: \"\"}\nspec:\n  architecture: failover\n  version: \"8.3.3\"\n  adminPasswordSecret: s\n"),
            Refused(&["metadata.name"]),
        ),
        case(
            "a bad namespace and Secret name",
            Config("apiVersion: ignition.krm.dev/v1alpha1\nkind: IgnitionCluster\nmetadata: {name: plant-a, namespace: \"../etc\"}\nspec:\n  architecture: failover\n  version: \"8.3.3\"\n  adminPasswordSecret: \"a secret!\"\n"),
            Refused(&["metadata.namespace", "spec.adminPasswordSecret"]),
        ),
        case("version latest", Config(config!("  architecture: failover\n  version: latest\n  adminPasswordSecret: s\n")), Refused(&["spec.version"])),
        case("version 8.3", Config(config!("  architecture: failover\n  version: \"8.3\"\n  adminPasswordSecret: s\n")), Refused(&["spec.version"])),
        case("version 8.2.0", Config(config!("  architecture: failover\n  version: \"8.2.0\"\n  adminPasswordSecret: s\n")), Refused(&["spec.version"])),
        case("version with a shell", Config(config!("  architecture: failover\n  version: \"8.3.3; rm -rf /\"\n  adminPasswordSecret: s\n")), Refused(&["spec.version"])),
        // Unknown fields, with the nearest known one.
        case(
            "a misspelt spec field",
            Config(config!(concat!(valid_spec!(), "  redundancey: {}\n"))),
            Refused(&["spec.redundancey: unknown field \"redundancey\"; did you mean \"redundancy\"?"]),
        ),
        case(
            "a misspelt nested field",
            Config(config!(concat!(valid_spec!(), "  gateway: {replica: 2}\n"))),
            Refused(&["spec.gateway.replica: unknown field \"replica\"; did you mean \"replicas\"?"]),
        ),
        case(
            "a field from nowhere",
            Config(config!(concat!(valid_spec!(), "  hostNetwork: true\n"))),
            Refused(&["spec.hostNetwork"]),
        ),
        // Environment overrides (spec.environments) that break the spec.
        case(
            "an environment with too many replicas",
            Config(config!(concat!(valid_spec!(), "  environments: {prod: {gateway: {replicas: 3}}}\n"))),
            Refused(&["spec.environments.prod.gateway.replicas: must be at most 2, found 3"]),
        ),
        case(
            "an environment changing the architecture",
            Config(config!(concat!(valid_spec!(), "  environments: {prod: {architecture: scaleout}}\n"))),
            Refused(&["spec.environments.prod.architecture: cannot be changed by an environment"]),
        ),
        case(
            "an environment name that is not a DNS label",
            Config(config!(concat!(valid_spec!(), "  environments: {Prod_1: {}}\n"))),
            Refused(&["spec.environments.Prod_1: environment name \"Prod_1\" is not a DNS label"]),
        ),
        case(
            "an environment that is a list",
            Config(config!(concat!(valid_spec!(), "  environments: {prod: [a]}\n"))),
            Refused(&["spec.environments.prod: expected a mapping"]),
        ),
        case(
            "an environment removing a required field",
            Config(config!(concat!(valid_spec!(), "  environments: {prod: {adminPasswordSecret: null}}\n"))),
            Refused(&["spec.environments.prod.adminPasswordSecret: is required"]),
        ),
        case(
            "an environment with nested environments",
            Config(config!(concat!(valid_spec!(), "  environments: {prod: {environments: {x: {}}}}\n"))),
            Refused(&["spec.environments.prod.environments: cannot be changed by an environment"]),
        ),
        case(
            "an environment with a wrong type",
            Config(config!(concat!(valid_spec!(), "  environments: {prod: {timezone: 5}}\n"))),
            Refused(&["spec.environments.prod.timezone: expected a string"]),
        ),
        case(
            "an unknown environment selected",
            Config("apiVersion: ignition.krm.dev/v1alpha1\nkind: IgnitionCluster\nmetadata:\n  name: plant-a\n  annotations: {ignition.krm.dev/environment: staging}\nspec:\n  architecture: failover\n  version: \"8.3.3\"\n  adminPasswordSecret: s\n  environments: {prod: {}}\n"),
            Refused(&["environment \"staging\" is not in spec.environments (known: prod)"]),
        ),
        // Per-tier settings (licences, modules, pod settings, device ports, NetworkPolicy peers).
        case(
            "licence settings that cannot work",
            Config(config!(concat!(
                "  architecture: scaleout\n  version: \"8.3.3\"\n  adminPasswordSecret: s\n",
                "  backend: {license: {secret: a, podSecrets: [b]}}\n",
                "  frontend:\n    autoscaling: {maxReplicas: 3}\n    license: {podSecrets: [fe-0, fe-0]}\n",
            ))),
            Refused(&[
                "spec.backend.license: needs exactly one of secret (one licence for the tier) and podSecrets",
                "spec.frontend.license.podSecrets[1]: \"fe-0\" is listed twice",
                "spec.frontend.license.podSecrets: lists 2 Secrets, but the frontends scale up to 3 (spec.frontend.autoscaling.maxReplicas)",
            ]),
        ),
        case(
            "a spec-wide licence every tier replaces",
            Config(config!(concat!(valid_spec!(), "  license: {secret: unused}\n  gateway: {license: {secret: pair}}\n"))),
            Refused(&["spec.license: is not read: every tier gives its own license"]),
        ),
        case(
            "one licence shared by several frontends",
            Config(config!(concat!(
                "  architecture: scaleout\n  version: \"8.3.3\"\n  adminPasswordSecret: s\n",
                "  license: {secret: plant-a-license}\n",
                "  backend: {license: {podSecrets: [Master]}}\n",
            ))),
            Refused(&[
                "spec.backend.license.podSecrets[0]: \"Master\" is not a Kubernetes object name",
                "spec.backend.license.podSecrets: lists 1 Secrets, but the backend has 2 gateways",
                "spec.license.secret: is one licence for every frontend, and each frontend needs its own",
            ]),
        ),
        case(
            "licence and module fields of the wrong shape",
            Config(config!(concat!(
                valid_spec!(),
                "  license: {activation: lease, secret: x}\n  singleNode: \"yes\"\n",
                "  gateway: {modules: perspective, acceptModuleCerts: [1], pod: [], ports: {}, deviceService: LoadBalancer, networkPolicy: {ingressFrom: {}}}\n",
            ))),
            Refused(&[
                "spec.license.activation: \"lease\" is not one of: leased, certificate; did you mean \"leased\"?",
                "spec.singleNode: expected a boolean",
                "spec.gateway.modules: expected a list",
                "spec.gateway.acceptModuleCerts[0]: expected a string",
                "spec.gateway.pod: expected a mapping",
                "spec.gateway.ports: expected a list",
                "spec.gateway.deviceService: expected a mapping",
                "spec.gateway.networkPolicy.ingressFrom: expected a list",
            ]),
        ),
        case(
            "an 8.1 release older than the generated settings, and 8.3-only module acceptance",
            Config(config!(concat!(
                "  architecture: failover\n  version: \"8.1.31\"\n  adminPasswordSecret: s\n",
                "  acceptModuleLicenses: [com.example.plant]\n",
                "  gateway: {modules: [Perspective], acceptModuleCerts: [1bad, com.example.plant]}\n",
            ))),
            Refused(&[
                "spec.version: 8.1.31 is too old: the generated GATEWAY_NETWORK_* settings",
                "spec.gateway.modules[0]: \"Perspective\" is not a module identifier",
                "spec.acceptModuleLicenses: exists from Ignition 8.3.0 on",
                "spec.gateway.acceptModuleCerts[0]: \"1bad\" is not a module ID",
                "spec.gateway.acceptModuleCerts: exists from Ignition 8.3.0 on",
            ]),
        ),
        case(
            "the oldest 8.1 release the generated settings work with",
            Config(config!("  architecture: failover\n  version: \"8.1.32\"\n  adminPasswordSecret: s\n")),
            Expanded,
        ),
        case(
            "pod settings that would break or override the generated pods",
            Config(config!(concat!(
                valid_spec!(),
                "  gateway:\n    pod:\n",
                "      nodeSelector: {\"bad key!\": x}\n",
                "      tolerations: [{operator: Equal, value: x}, {key: k, operator: Exists, value: v}, {key: k, tolerationSeconds: 5}]\n",
                "      priorityClassName: Critical\n",
                "      labels: {app.kubernetes.io/name: other, area: \"no spaces\"}\n",
                "      annotations: {ignition.krm.dev/config-hash: x}\n",
                "      env: [{name: GATEWAY_NETWORK_ENABLED, value: \"false\"}, {name: DB_PASSWORD, value: hunter2}, {name: 1X, value: a}, {name: A, value: a, configMapKeyRef: {name: c, key: k}}, {name: A, value: b}]\n",
                "      volumes: [{name: data, emptyDir: {}}, {name: two, secret: {secretName: s}, configMap: {name: c}}]\n",
                "      volumeMounts: [{name: nowhere, mountPath: /opt/x}, {name: two, mountPath: /usr/local/bin/ignition}, {name: two, mountPath: relative/path}]\n",
            ))),
            Refused(&[
                "spec.gateway.pod.nodeSelector[\"bad key!\"]: is not a valid key",
                "spec.gateway.pod.tolerations[0].key: is required with operator Equal",
                "spec.gateway.pod.tolerations[1].value: must be left out with operator Exists",
                "spec.gateway.pod.tolerations[2].tolerationSeconds: is only read with effect NoExecute",
                "spec.gateway.pod.priorityClassName: \"Critical\" is not a Kubernetes object name",
                "spec.gateway.pod.labels[\"app.kubernetes.io/name\"]: is set by the function",
                "spec.gateway.pod.labels.area: \"no spaces\" is not a label value",
                "spec.gateway.pod.annotations[\"ignition.krm.dev/config-hash\"]: is set by the function",
                "spec.gateway.pod.env[0].name: \"GATEWAY_NETWORK_ENABLED\" is set by the function",
                "spec.gateway.pod.env[1].name: \"DB_PASSWORD\" looks like a secret: mount the Secret as a file",
                "spec.gateway.pod.env[2].name: \"1X\" is not an environment variable name",
                "spec.gateway.pod.env[3]: needs exactly one of value and configMapKeyRef",
                "spec.gateway.pod.env[4].name: \"A\" is given twice",
                "spec.gateway.pod.volumes[0].name: \"data\" is a volume the function generates",
                "spec.gateway.pod.volumes[1]: needs exactly one of secret, configMap, persistentVolumeClaim and emptyDir",
                "spec.gateway.pod.volumeMounts[0].name: \"nowhere\" is not one of spec.gateway.pod.volumes",
                "spec.gateway.pod.volumeMounts[1].mountPath: collides with the function's own mount /usr/local/bin/ignition/data",
                "spec.gateway.pod.volumeMounts[2].mountPath: must be an absolute path",
            ]),
        ),
        case(
            "device ports, their Service and NetworkPolicy peers that cannot work",
            Config(config!(concat!(
                "  architecture: scaleout\n  version: \"8.3.3\"\n  adminPasswordSecret: s\n",
                "  backend:\n",
                "    ports: [{name: http, port: 62541}, {name: OPC_UA, port: 8088}, {name: mqtt, port: 1883, nodePort: 31883}, {name: mqtt2, port: 1883}]\n",
                "    networkPolicy: {ingressFrom: [{}, {ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}, {ipBlock: {cidr: 10.0.0.0/33}}]}\n",
            ))),
            Refused(&[
                "spec.backend.ports[0]: collides with the gateway's own port http (8088)",
                "spec.backend.ports[1].name: \"OPC_UA\" is not a port name",
                "spec.backend.ports[1]: collides with the gateway's own port http (8088)",
                "spec.backend.ports[3].port: 1883 is given twice",
                "spec.backend.ports[2].nodePort: is only read with spec.backend.deviceService",
                "spec.backend.networkPolicy.ingressFrom[0]: needs ipBlock, podSelector or namespaceSelector",
                "spec.backend.networkPolicy.ingressFrom[1]: gives ipBlock with a selector",
                "spec.backend.networkPolicy.ingressFrom[2].ipBlock.cidr: \"10.0.0.0/33\" is not a CIDR",
            ]),
        ),
        case(
            "a device Service without ports, and device fields out of range",
            Config(config!(concat!(
                valid_spec!(),
                "  gateway: {deviceService: {type: NodePort, loadBalancerSourceRanges: [everywhere]}}\n",
            ))),
            Refused(&[
                "spec.gateway.deviceService: publishes the tier's extra ports, and it has none",
                "spec.gateway.deviceService.loadBalancerSourceRanges[0]: \"everywhere\" is not a CIDR",
                "spec.gateway.deviceService.loadBalancerSourceRanges: is only read with type LoadBalancer",
            ]),
        ),
        case(
            "device fields of the wrong values",
            Config(config!(concat!(
                valid_spec!(),
                "  gateway: {ports: [{name: opcua, port: 70000, protocol: SCTP, nodePort: 80}], deviceService: {type: ExternalName}}\n",
            ))),
            Refused(&[
                "spec.gateway.ports[0].port: must be at most 65535",
                "spec.gateway.ports[0].protocol: \"SCTP\" is not one of: TCP, UDP",
                "spec.gateway.ports[0].nodePort: must be at least 30000",
                "spec.gateway.deviceService.type: \"ExternalName\" is not one of: LoadBalancer, NodePort",
            ]),
        ),
        // Gateway resources (GatewayResource items, 8.3 configuration as files).
        case(
            "a gateway resource for an 8.1 site",
            Text(with_resources!(
                "8.1.48",
                "    site: plant-a\n    type: ignition/database-connection\n    name: db\n    config: {}\n"
            )),
            Refused(&["spec.site: site \"plant-a\" runs Ignition 8.1.48 (spec.version): gateway resources are files from Ignition 8.3 on"]),
        ),
        case(
            "gateway resource names and types that escape their directory",
            Text(with_resources!(
                "8.3.3",
                "    site: plant-a\n    type: ignition/../../etc\n    name: ../../../etc\n    config: {}\n",
                "    site: plant-a\n    type: ..\n    name: a/b\n    config: {}\n",
                "    site: plant-a\n    type: ignition/database-connection\n    name: \"x\\\\y\"\n    config: {}\n"
            )),
            Refused(&[
                "spec.type: must be <module-id>/<type>",
                "spec.name: must not start with '.'",
                "spec.type: must be <module-id>/<type>",
                "spec.name: must not hold '/'",
                "spec.name: must not hold '\\\\'",
            ]),
        ),
        case(
            "gateway resources of unknown type syntax, a gateway-owned collection, a missing site",
            Text(with_resources!(
                "8.3.3",
                "    site: plant-a\n    type: database-connection\n    name: db\n    config: {}\n",
                "    site: plant-a\n    collection: core\n    type: ignition/database-connection\n    name: db\n    config: {}\n",
                "    site: plant-b\n    type: ignition/database-connection\n    name: db\n    config: {}\n"
            )),
            Refused(&[
                "spec.type: must be <module-id>/<type>",
                "spec.collection: \"core\" belongs to the gateway",
                "spec.site: no IgnitionCluster is named \"plant-b\" (known: plant-a)",
            ]),
        ),
        case(
            "gateway resource fields of the wrong shape",
            Text(with_resources!(
                "8.3.3",
                "    site: plant-a\n    type: ignition/database-connection\n    name: db\n    config: [a]\n    colection: x\n",
                "    site: plant-a\n    type: ignition/database-connection\n    name: db2\n    config: {}\n    tiers: [web]\n"
            )),
            Refused(&[
                "spec.config: expected a mapping, found a list",
                "spec.colection: unknown field",
                "spec.tiers[0]: \"web\" is not one of: gateway, backend, frontend",
            ]),
        ),
        case(
            "gateway resource secrets that cannot be placed, and a secret marker written by hand",
            Text(with_resources!(
                "8.3.3",
                "    site: plant-a\n    type: ignition/database-connection\n    name: db\n    config: {user: u, pw: \"ignition-krm-secret:0\"}\n    secrets:\n    - {field: user.password, secretName: db, key: pw}\n    - {field: \"a..b\", secretName: Bad_Name, key: \"k/ey\"}\n"
            )),
            Refused(&[
                "spec.config.pw: holds \"ignition-krm-secret:\", which marks secret fields",
                "spec.secrets[0].field: user is not an object in spec.config",
                "spec.secrets[1].field: must be a dot-separated path of non-empty keys",
            ]),
        ),
        case(
            "gateway resources for a tier the site lacks, two deployment modes, one resource twice",
            Text(with_resources!(
                "8.3.3",
                "    site: plant-a\n    tiers: [frontend]\n    type: ignition/database-connection\n    name: db\n    config: {}\n",
                "    site: plant-a\n    collection: dev\n    type: ignition/database-connection\n    name: one\n    config: {}\n",
                "    site: plant-a\n    collection: prod\n    type: ignition/database-connection\n    name: two\n    config: {}\n",
                "    site: plant-a\n    type: ignition/database-connection\n    name: db\n    config: {}\n"
            )),
            Refused(&[
                "spec.tiers: site \"plant-a\" has no frontend tier (it has gateway)",
                "spec.name: external/ignition/database-connection/db is also declared by GatewayResource \"r\"",
                "spec.collection: site \"plant-a\" would need more than one deployment mode (dev, prod)",
                "spec.collection: site \"plant-a\" would need more than one deployment mode (dev, prod)",
            ]),
        ),
        case(
            "gateway resources too large for one ConfigMap",
            Made(large_resources),
            Refused(&["spec.config: the gateway tier's resources come to more than 1000000 bytes with this one"]),
        ),
        // Inputs the fuzzers found (tests/fuzz-regressions/): the output must read back.
        case(
            "fuzz: a non-specific tag in an item",
            Made(|| std::fs::read(repo_root().join("tests/fuzz-regressions/resource_list-empty-tag.yaml")).unwrap()),
            Refused(&[
                "metadata.annotations: expected a mapping",
                "metadata.architecture: unknown field",
                "metadata.edition: unknown field",
                "metadata.gateway: unknown field",
                "metadata.name: is required",
                "spec: is required",
            ]),
        ),
        case(
            "fuzz: an empty mapping key",
            Made(|| std::fs::read(repo_root().join("tests/fuzz-regressions/resource_list-empty-key.yaml")).unwrap()),
            Refused(&["input is not valid YAML: did not find expected key at line 2 column 1"]),
        ),
        // Line ends must not matter.
        case("CRLF line ends", Made(crlf_input), Expanded),
        case("a byte-order mark", Made(bom_input), Expanded),
    ]
}

fn with_config(config: &str) -> Vec<u8> {
    let indented: String = config.lines().map(|line| format!("  {line}\n")).collect();
    format!("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n{indented}")
        .into_bytes()
}

/// Two resources of 600 kB each for one failover site.
fn large_resources() -> Vec<u8> {
    let blob = "x".repeat(600_000);
    let resource = |name: &str| {
        format!(
            "- apiVersion: ignition.krm.dev/v1alpha1\n  kind: GatewayResource\n  metadata: {{name: {name}}}\n  spec:\n    site: plant-a\n    type: ignition/database-connection\n    name: {name}\n    config: {{blob: {blob}}}\n"
        )
    };
    format!(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{}{}functionConfig:\n  apiVersion: ignition.krm.dev/v1alpha1\n  kind: IgnitionCluster\n  metadata: {{name: plant-a}}\n  spec: {{architecture: failover, version: \"8.3.3\", adminPasswordSecret: plant-a-admin}}\n",
        resource("one"),
        resource("two")
    )
    .into_bytes()
}

fn valid_input() -> String {
    read("tests/testdata/failover-8.3/input.yaml")
}

fn crlf_input() -> Vec<u8> {
    valid_input().replace('\n', "\r\n").into_bytes()
}

fn bom_input() -> Vec<u8> {
    format!("\u{feff}{}", valid_input()).into_bytes()
}

fn many_aliases() -> Vec<u8> {
    let input = valid_input();
    let (head, config) = input.split_at(input.find("functionConfig:").unwrap());
    let mut text = format!(
        "{}items:\n- {{kind: ConfigMap, metadata: {{name: anchor}}, data: {{a: &x 0644}}}}\n",
        &head[..head.find("items:").unwrap()]
    );
    for index in 0..20_000 {
        text.push_str(&format!(
            "- kind: ConfigMap\n  metadata:\n    name: alias-{index}\n  data:\n    a: *x\n"
        ));
    }
    text.push_str(config);
    text.into_bytes()
}
fn billion_laughs() -> Vec<u8> {
    let mut text = String::from("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n");
    text.push_str("l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..12 {
        let previous = format!("*l{}", level - 1);
        text.push_str(&format!("l{level}: &l{level} [{}]\n", vec![previous; 10].join(", ")));
    }
    text.into_bytes()
}

fn deep_flow() -> Vec<u8> {
    format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes()
}

fn deep_block() -> Vec<u8> {
    let mut text = String::new();
    for level in 0..10_000 {
        text.push_str(&" ".repeat(level));
        text.push_str("a:\n");
    }
    text.into_bytes()
}

fn deep_in_spec() -> Vec<u8> {
    let config = format!(
        "apiVersion: ignition.krm.dev/v1alpha1\nkind: IgnitionCluster\nmetadata: {{name: plant-a}}\nspec: {}{}\n",
        "{a: ".repeat(10_000),
        "}".repeat(10_000)
    );
    with_config(&config)
}

fn hundred_megabytes() -> Vec<u8> {
    let mut text = b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n".to_vec();
    let item =
        b"- {apiVersion: v1, kind: ConfigMap, metadata: {name: filler}, data: {k: vvvvvvvvvvvvvvvvvvvvvvvvvvvvvv}}\n";
    while text.len() < 100_000_000 {
        text.extend_from_slice(item);
    }
    text
}

fn huge_name() -> Vec<u8> {
    let config = format!(
        "apiVersion: ignition.krm.dev/v1alpha1\nkind: IgnitionCluster\nmetadata: {{name: {}}}\nspec:\n  architecture: failover\n  version: \"8.3.3\"\n  adminPasswordSecret: s\n",
        "a".repeat(10_000_000)
    );
    with_config(&config)
}

fn input_bytes(input: &Input) -> Vec<u8> {
    match input {
        Input::Text(text) => text.as_bytes().to_vec(),
        Input::Bytes(bytes) => bytes.to_vec(),
        Input::Config(config) => with_config(config),
        Input::Made(make) => make(),
    }
}

struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
    elapsed: Duration,
    peak_kib: u64,
}

/// Runs the binary under `time -f %M` (peak RSS in KiB), feeding stdin from a thread and killing
/// it at the time limit.
fn run(input: Vec<u8>) -> Run {
    run_with(&[], input)
}

fn run_with(args: &[&std::ffi::OsStr], input: Vec<u8>) -> Run {
    let report = tempfile_path();
    let mut child = Command::new(tool("time"))
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&report)
        .arg(assert_cmd::cargo::cargo_bin!("ignition-krm"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || match stdin.write_all(&input) {
        // The function stops reading at its input cap.
        Err(error) if error.kind() == ErrorKind::BrokenPipe => {}
        other => other.expect("stdin accepts the input"),
    });
    let mut stdout_pipe = child.stdout.take().unwrap();
    let mut stderr_pipe = child.stderr.take().unwrap();
    let stdout_reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        stdout_pipe.read_to_end(&mut bytes).map(|_| bytes)
    });
    let stderr_reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        stderr_pipe.read_to_end(&mut bytes).map(|_| bytes)
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > TIME_LIMIT {
            child.kill().unwrap();
            panic!("still running after {TIME_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = started.elapsed();
    writer.join().unwrap();
    let stdout = stdout_reader.join().unwrap().unwrap();
    let stderr = String::from_utf8(stderr_reader.join().unwrap().unwrap()).expect("stderr is UTF-8");
    let peak = std::fs::read_to_string(&report).expect("time wrote its report");
    let _ = std::fs::remove_file(&report);
    let peak_kib = peak
        .lines()
        .last()
        .and_then(|line| line.trim().parse().ok())
        .unwrap_or_else(|| panic!("time's report is not a number: {peak:?}"));
    // `time` reports the child's exit status as its own.
    Run {
        code: status.code().expect("exited, not killed by a signal"),
        stdout,
        stderr,
        elapsed,
        peak_kib,
    }
}

fn tempfile_path() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    std::env::temp_dir().join(format!(
        "ignition-krm-hostile-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Everything that must hold of one case; the problems found, empty when it passes.
fn check(case: &Case, run: &Run) -> Vec<String> {
    let mut problems = Vec::new();
    let mut fail = |message: String| problems.push(message);
    if run.elapsed > TIME_LIMIT {
        fail(format!("took {:?}", run.elapsed));
    }
    if run.peak_kib > MEMORY_LIMIT_KIB {
        fail(format!("peak memory {} MiB", run.peak_kib / 1024));
    }
    for marker in [
        "panicked",
        "RUST_BACKTRACE",
        "stack backtrace",
        "thread 'main'",
        "overflow",
    ] {
        if run.stderr.contains(marker) {
            fail(format!("stderr shows a panic or crash ({marker}):\n{}", run.stderr));
        }
    }
    let lines: Vec<&str> = run.stderr.lines().collect();
    if lines.iter().any(|line| line.len() > 1000) {
        fail("a stderr line is longer than 1000 characters".to_owned());
    }
    let list = match std::str::from_utf8(&run.stdout) {
        Ok("") => None,
        Ok(text) => match serde_norway::from_str::<Value>(text) {
            Ok(list) if list["kind"] == "ResourceList" && list["apiVersion"] == "config.kubernetes.io/v1" => Some(list),
            _ => {
                fail(format!(
                    "stdout is not a ResourceList: {}",
                    &text[..text.len().min(300)]
                ));
                None
            }
        },
        Err(_) => {
            fail("stdout is not UTF-8".to_owned());
            None
        }
    };
    match case.expect {
        Expect::Expanded => {
            if run.code != 0 {
                fail(format!("exit {} instead of 0: {}", run.code, run.stderr));
            }
            if !run.stderr.is_empty() {
                fail(format!("stderr is not empty: {}", run.stderr));
            }
            if list.as_ref().is_none_or(|list| generated(list).is_empty()) {
                fail("no generated objects".to_owned());
            }
        }
        Expect::Refused(expected) => {
            if run.code != 2 {
                fail(format!("exit {} instead of 2", run.code));
            }
            if lines.len() != expected.len() {
                fail(format!(
                    "{} stderr lines instead of {}:\n{}",
                    lines.len(),
                    expected.len(),
                    run.stderr
                ));
            }
            for (line, wanted) in lines.iter().zip(expected) {
                if !line.starts_with("ignition-krm: error: ") || !line.contains(wanted) {
                    fail(format!("stderr line {line:?} does not say {wanted:?}"));
                }
            }
            if let Some(list) = &list {
                if !generated(list).is_empty() {
                    fail("a generated object on a refusal".to_owned());
                }
                let results = list["results"].as_sequence().cloned().unwrap_or_default();
                if results.len() != lines.len() || results.iter().any(|result| result["severity"] != "error") {
                    fail(format!("{} results instead of {} errors", results.len(), lines.len()));
                }
            }
        }
    }
    problems
}

/// The README states how many hostile inputs this file checks; the number must be this file's.
#[test]
fn the_readme_states_the_number_of_hostile_cases() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let count = cases().len().to_string();
    for stated in [
        format!("`tests/hostile.rs` checks this for {count} inputs"),
        format!("tests/hostile.rs         {count} hostile inputs"),
    ] {
        assert!(readme.contains(&stated), "the README does not say {stated:?}");
    }
}

#[test]
fn hostile_inputs_get_a_clear_answer_within_bounds() {
    let cases = cases();
    assert!(cases.len() >= 40, "the suite has {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let run = run(input_bytes(&case.input));
        let problems = check(case, &run);
        if !problems.is_empty() {
            failures.push(format!("{}:\n  {}", case.name, problems.join("\n  ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The harness itself must be able to fail: a limit that no run meets is reported.
#[test]
fn the_harness_notices_a_wrong_expectation() {
    let case = Case {
        name: "valid input claimed refused",
        input: Input::Made(|| valid_input().into_bytes()),
        expect: Expect::Refused(&["something"]),
    };
    let run = run(input_bytes(&case.input));
    let problems = check(&case, &run);
    assert!(
        problems.iter().any(|problem| problem.contains("exit 0 instead of 2")),
        "{problems:?}"
    );
    assert!(run.peak_kib > 1000, "peak memory is measured: {} KiB", run.peak_kib);
}

/// CRLF input must give exactly what LF input gives.
#[test]
fn crlf_line_ends_give_the_same_output() {
    let lf = run(valid_input().into_bytes());
    let crlf = run(crlf_input());
    assert_eq!(lf.code, 0, "{}", lf.stderr);
    assert_eq!(crlf.code, 0, "{}", crlf.stderr);
    assert_eq!(
        String::from_utf8(crlf.stdout).unwrap(),
        String::from_utf8(lf.stdout).unwrap()
    );
}

/// `ignition-krm manifests FILE...` prints plain manifests, so on any problem it prints nothing at
/// all on stdout and one line on stderr.
#[test]
fn the_manifests_command_refuses_any_bad_file_with_one_line_and_no_output() {
    let dir = std::env::temp_dir().join(format!("ignition-krm-hostile-files-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let files: &[(&str, Vec<u8>, &str)] = &[
        ("garbage.yaml", b"\x00\xff\xfe".to_vec(), "garbage.yaml: not UTF-8 text"),
        ("bomb.yaml", billion_laughs(), "not valid YAML"),
        ("deep.yaml", deep_flow(), "not valid YAML"),
        ("huge.yaml", vec![b'#'; 65 << 20], "larger than 64 MiB"),
        // A directory is read for every YAML file below it: an empty one holds no spec.
        ("directory", Vec::new(), "no IgnitionCluster in"),
        ("missing.yaml", Vec::new(), "missing.yaml: cannot read"),
        (
            "bad-spec.yaml",
            b"apiVersion: ignition.krm.dev/v1alpha1\nkind: IgnitionCluster\nmetadata: {name: plant-a}\nspec:\n  architecture: failover\n  version: latest\n  adminPasswordSecret: s\n".to_vec(),
            "spec.version",
        ),
    ];
    let mut failures = Vec::new();
    for (name, content, wanted) in files {
        let path = dir.join(name);
        match *name {
            "directory" => std::fs::create_dir_all(&path).unwrap(),
            "missing.yaml" => {}
            _ => std::fs::write(&path, content).unwrap(),
        }
        let run = run_with(&["manifests".as_ref(), path.as_os_str()], Vec::new());
        let lines: Vec<&str> = run.stderr.lines().collect();
        let ok = run.code == 2
            && run.stdout.is_empty()
            && lines.len() == 1
            && lines[0].starts_with("ignition-krm: ")
            && lines[0].contains(wanted)
            && !run.stderr.contains("panicked")
            && run.peak_kib < MEMORY_LIMIT_KIB;
        if !ok {
            failures.push(format!(
                "{name}: exit {}, {} bytes of stdout, {} KiB, stderr:\n{}",
                run.code,
                run.stdout.len(),
                run.peak_kib,
                run.stderr
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

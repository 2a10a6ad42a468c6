"""The pass-through oracle: adversarial but valid items through the function, checked by YAML readers that share no
code with libyaml (which the function's parser, serde_norway, is a port of).

    oracle.py BINARY [--items N] [--seed S]
    oracle.py --command "COMMAND LINE" [--items N] [--seed S]

Generates N items deterministically (from the seed), in batches of ResourceLists of several forms (block style at
two indentations, CRLF line ends, a byte-order mark, JSON, items that alias into other items), runs BINARY (the
KRM function) on each batch with a spec as the function config, and checks, for every item it does not own:

- meaning kept: each reader reads the output item as it read the input item: PyYAML's pure-Python loader as
  kubectl's YAML 1.1 (y/n are booleans, timestamps stay strings), ruamel.yaml (pure) as YAML 1.2 and as YAML 1.1.
  Mappings are compared in order.
- an item that can be copied is copied: its input lines appear in the output as they are.
- an item that cannot be copied (JSON, an alias into another item) is written so that every reader reads the same.
- order kept, and f(f(x)) == f(x) byte for byte.

Exits 1 with one line per finding (at most 40 shown), 0 with a summary when all hold.
"""

import json
import math
import random
import subprocess
import sys

import warnings

import yaml
from ruamel.yaml import YAML

# ruamel.yaml warns about a reused anchor name, which YAML 1.2 allows.
warnings.simplefilter("ignore")

SPEC = """functionConfig:
  apiVersion: ignition.krm.dev/v1alpha1
  kind: IgnitionCluster
  metadata:
    name: oracle
    namespace: scada
  spec:
    architecture: failover
    version: "8.3.3"
    adminPasswordSecret: oracle-admin
"""
SPEC_JSON = {
    "apiVersion": "ignition.krm.dev/v1alpha1",
    "kind": "IgnitionCluster",
    "metadata": {"name": "oracle", "namespace": "scada"},
    "spec": {"architecture": "failover", "version": "8.3.3", "adminPasswordSecret": "oracle-admin"},
}


# ----------------------------------------------------------------------------------------------------- readers


class Tagged:
    """A value under a tag no reader knows (a local or verbatim tag)."""

    def __init__(self, tag, value):
        self.tag, self.value = tag, value


def _construct_tagged(loader, suffix, node, prefix):
    if isinstance(node, yaml.ScalarNode) or type(node).__name__ == "ScalarNode":
        value = loader.construct_scalar(node)
    elif type(node).__name__ == "SequenceNode":
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return Tagged(prefix + suffix, value)


class KubectlLoader(yaml.SafeLoader):
    """PyYAML's pure-Python YAML 1.1 loader, with the three rules in which go-yaml v2 (sigs.k8s.io/yaml, kubectl)
    differs: `y`, `Y`, `n`, `N` are booleans, a timestamp stays a string, and an anchor name may be used again
    (the later one counts, as YAML 1.2 says; PyYAML refuses it)."""

    def compose_node(self, parent, index):
        event = self.peek_event()
        if not isinstance(event, yaml.AliasEvent) and getattr(event, "anchor", None) is not None:
            self.anchors.pop(event.anchor, None)
        return super().compose_node(parent, index)


KubectlLoader.yaml_implicit_resolvers = {k: list(v) for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
for first in "yYnN":
    KubectlLoader.yaml_implicit_resolvers.setdefault(first, [])
KubectlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    __import__("re").compile(r"^(?:y|Y|n|N)$"),
    list("yYnN"),
)
_bool_values = dict(yaml.SafeLoader.bool_values, y=True, n=False)
KubectlLoader.bool_values = _bool_values
KubectlLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)
for _prefix in ("!", "tag:"):
    KubectlLoader.add_multi_constructor(
        _prefix, lambda loader, suffix, node, p=_prefix: _construct_tagged(loader, suffix, node, p)
    )


def _ruamel(version):
    reader = YAML(typ="safe", pure=True)
    if version:
        reader.version = version
    for prefix in ("!", "tag:"):
        reader.constructor.add_multi_constructor(
            prefix, lambda loader, suffix, node, p=prefix: _construct_tagged(loader, suffix, node, p)
        )
    return reader


RUAMEL_12 = _ruamel(None)
RUAMEL_11 = _ruamel((1, 1))
READERS = {
    "kubectl-1.1 (PyYAML)": lambda text: yaml.load(text, Loader=KubectlLoader),
    "YAML 1.2 (ruamel)": RUAMEL_12.load,
    "YAML 1.1 (ruamel)": RUAMEL_11.load,
}


def norm(value):
    """A comparable form that keeps mapping order and tells 1 from 1.0 from True."""
    if isinstance(value, Tagged):
        return ("tagged", value.tag, norm(value.value))
    if isinstance(value, dict):
        return ("map", [(norm(k), norm(v)) for k, v in value.items()])
    if isinstance(value, (list, tuple)):
        return ("seq", [norm(v) for v in value])
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("float", "nan" if math.isnan(value) else repr(value))
    if isinstance(value, (set, frozenset)):
        return ("set", sorted(repr(norm(v)) for v in value))
    if value is None:
        return ("null",)
    if isinstance(value, (str, bytes)):
        return (type(value).__name__, value)
    return (type(value).__name__, str(value))


# ------------------------------------------------------------------------------------------------- generator

PLAIN = [
    "0644", "0755", "0o17", "0x1F", "0b101", "1_000", "1_000.5", "+12", "-0", "007", "08", "0.", "-0.0",
    "123456789012345678901234567890", "-99999999999999999999", "18446744073709551616", "9223372036854775808",
    "1e3", "1E3", "1.5e300", "1e-7", "1.0", ".5", "1.", "-.inf", ".NaN", ".inf", "+.inf", "6.8523015e+5",
    "685.230_15e+03", "y", "Y", "n", "N", "yes", "No", "on", "OFF", "~", "null", "Null", "true", "False", "TRUE",
    "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "1:30", "190:20:30", "-1:30",
    "=", "-", "a b", "é", "日本語", "😀", "x#y", "a:b", "http://x.y/z?q=1", "$(VAR)", "${VAR}", "a%x", "a  b",
    "x-", ".", "..", "-x", "?x", ":x", "0x", "0b2", "1__2", "_1", "1,000", "<<",
]
QUOTED = [
    '"0644"', "'0644'", '"y"', "'n'", '"\\uFFFE"', '"\\uFFFF"', '"x\\uFFFEy"', '"\\u0085"', '"\\t tab first\\nsecond"',
    '"\\tfirst\\n\\tsecond\\n"', '"\\x7f"', '"a\\\\b"', "'it''s'", '"\\U0001F600"', '"\\0"', '"\\e"',
    '"line\\u2028sep"', '"\\ufeff bom"', '""', "''", '"trailing  "', '" leading"', '"a\\nb\\n\\n"', '"\\r\\n"',
    '"\\_ \\N \\L \\P"', '"1.5e300"', '"<<"', "'~'", '"2001-12-14"', "'1_000'", '"\\/"',
]
FLOWS = ['{a: 0644, b: [y, "x", 1e3]}', "[1, 2, {c: d}, 0x1F]", "[]", "{}", "{? a}", "[a, b: c]"]
ANCHOR = 0


def block_scalars(ind):
    pad = " " * (ind + 2)
    return [
        ["|", pad + "first", pad + "  second", ""],
        ["|-", pad + "no newline"],
        ["|+", pad + "kept", "", ""],
        [">", pad + "folded", pad + "text", "", pad + "para"],
        [">-", pad + "folded", pad + "  more"],
        ["|2", pad + "  leading spaces", pad + "x"],
        ["|", pad + "# not a comment", pad + "- not an item", pad + "key: not a key"],
        ["|-", pad + "trailing spaces   ", pad + "é 日本"],
    ]


def entry(rng, key, ind):
    """One `key: value` entry of a mapping at column `ind`, as lines; the value is adversarial."""
    global ANCHOR
    pad = " " * ind
    kind = rng.randrange(14)
    if kind <= 3:
        value = rng.choice(PLAIN)
        # `-` alone would start a sequence, `<<` alone a merge key: as values they are written after a space.
        return [f"{pad}{key}: {value}" if value not in ("-",) else f"{pad}{key}: -x"]
    if kind <= 5:
        return [f"{pad}{key}: {rng.choice(QUOTED)}"]
    if kind == 6:
        first, *rest = rng.choice(block_scalars(ind))
        return [f"{pad}{key}: {first}"] + rest
    if kind == 7:
        return [f"{pad}{key}: " + rng.choice(FLOWS)]
    if kind == 8:
        ANCHOR += 1
        name = rng.choice(["a", "b", f"n{ANCHOR}"])  # names are reused on purpose
        value = rng.choice(PLAIN[:40] + ["{x: 1, y: [0644]}", "[y, n]"])
        return [
            f"{pad}{key}: &{name} {value}",
            f"{pad}{key}-alias: *{name}",
            f"{pad}{key}-merge:",
            f"{pad}  <<: &m{ANCHOR} {{p: 1, q: 0644}}",
            f"{pad}  q: 2",
            f"{pad}{key}-merge2: {{<<: [*m{ANCHOR}, {{r: y}}], s: 1}}",
        ]
    if kind == 9:
        tags = [
            "!!binary aGVsbG8=", "! 12", "!<tag:example.com,2000:x> v", "!local v", "!!str 0644", "!!int 12",
            "!foo", "!!str", "!!null null", "!e%21x y", "!!float 1", "!<!> z", "!local {a: 1}", "!seq [1, y]",
            # Core tags whose value serde_norway alone refuses, which kustomize 4.5.4 reads (420, null, 1000.5, ...).
            "!!int 0644", '!!int "0644"', "!!int 0x1F", "!!int 1_000", "!!int +12", "!!float 0644",
            "!!float 1_000.5", "!!null", '!!null ""', "!!null ~", "!!bool True", "!<tag:yaml.org,2002:int> 0644",
        ]
        return [f"{pad}{key}: {rng.choice(tags)}"]
    if kind == 10:
        return [f"{pad}{key}: first line", f"{pad}  continued  plain#not a comment", "", f"{pad}  end"]
    if kind == 11:
        return [f'{pad}{key}: "quoted first', f"{pad}  continued \\", f"{pad}  escaped break", f'{pad}  end"']
    if kind == 12:
        return [
            f"{pad}? {key}",
            f"{pad}: explicit",
            f"{pad}{rng.choice(['y', 'on', '1', '0644', '~', 'true', '1.0', 'no'])}-{key}: key like a scalar",
            f"{pad}'{key}''q': x  # a comment",
            f"{pad}{key}-list:",
            f"{pad}- - nested",
            f"{pad}  - 0644",
            f"{pad}- {{}}",
            f"{pad}-   spaced: y",
            f"{pad}    deep: n",
        ]
    return [f"{pad}# a comment", f"{pad}{key}:   # nothing but a comment", f"{pad}{key}-sp: \u00a0nbsp"]


def block_item(rng, index, dash_indent):
    """An item in block style, its dash at `dash_indent`."""
    ind = dash_indent + rng.choice([2, 2, 4])
    pad = " " * ind
    first = "-" + " " * (ind - dash_indent - 1)
    lines = [
        f"{first}apiVersion: v1",
        f"{pad}kind: ConfigMap",
        f"{pad}metadata:",
        f"{pad}  name: item-{index}",
        f"{pad}  annotations:",
        f"{pad}    config.kubernetes.io/index: '{index}'",
        f"{pad}    internal.config.kubernetes.io/path: 'apps/item-{index}.yaml'",
        f"{pad}data:",
    ]
    for n in range(rng.randrange(3, 9)):
        lines += entry(rng, f"k{n}", ind + 2)
    return "\n".join(" " * dash_indent + line if i == 0 else line for i, line in enumerate(lines)) + "\n"


def block_batch(rng, count, start, crlf, bom, dash_indent, spec_first):
    items = [block_item(rng, start + i, dash_indent) for i in range(count)]
    header = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"
    body = ("items:  # the items\n" if rng.random() < 0.5 else "items:\n") + "".join(items)
    text = header + (SPEC + body if spec_first else body + SPEC)
    if crlf:
        text = text.replace("\n", "\r\n")
        items = [item.replace("\n", "\r\n") for item in items]
    if bom:
        text = "\ufeff" + text
    return text, items


JSON_VALUES = [
    "0644", "y", "n", "1_000", "1:30", "2001-12-14", "<<", "", "-", "~", "null", "true", "1e3", "\ufffe", "\uffff",
    "\u0085", "\tx\ny", "\t", "a\nb\n\n", " x", "x ", "é", "😀", "\u2028", "\ufeff", "\x7f", "\r", "#", "a: b",
    644, 0, -1, 123456789012345678901234567890, -99999999999999999999, 1e300, 1.5, -0.0, 1e-7, 0.1, 1.0, 2.5e-300,
    True, False, None, [], {}, ["y", 1, None], {"<<": {"a": 1}}, {"y": "n", "1": 1, "": "empty key"},
]


def json_batch(rng, count, start):
    items = []
    for i in range(count):
        data = {}
        for n in range(rng.randrange(3, 9)):
            data[rng.choice(["k", "y", "<<", "0644", "é", "\ufffe", "a b"]) + str(n)] = rng.choice(JSON_VALUES)
        items.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"item-{start + i}"}, "data": data})
    document = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items, "functionConfig": SPEC_JSON}
    # Characters beyond the BMP escaped as JSON surrogate pairs (`\ud83d\ude00`) are refused by libyaml and by
    # go-yaml alike (kustomize): JSON with escapes is written only for the others.
    # Raw, JSON may hold characters YAML does not allow raw (DEL, C1 controls, U+FFFE): libyaml and go-yaml refuse
    # those, so such documents are written with escapes. Escaped, a character beyond the BMP is a surrogate pair
    # (`\ud83d\ude00`), which libyaml and go-yaml (kustomize) refuse alike: such a document is written raw.
    raw = json.dumps(document, ensure_ascii=False)
    needs_escapes = any(0x7F <= ord(c) <= 0x9F and c != "\x85" or c in "\ufffe\uffff" for c in raw)
    ascii_only = needs_escapes or rng.random() < 0.5
    if ascii_only and any(ord(c) > 0xFFFF for c in raw):
        document = json.loads(json.dumps(document).replace("\\ud83d\\ude00", "\\u00e9"))
        items = document["items"]
    text = json.dumps(document, ensure_ascii=ascii_only, indent=rng.choice([None, 2]))
    return text, items


def alias_batch(rng, count, start):
    """Items that alias into an earlier item: they cannot be copied, and are written out from the parsed value."""
    text = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
    aliased = set()
    last = None
    for i in range(count):
        head = f"- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: item-{start + i}\n  data:\n"
        if last is not None and rng.random() < 0.5:
            aliased.add(i)
            # Aliases to flow nodes are copied with the node's text in their place; one to a block mapping makes the
            # item written from its value.
            block = f"    block: *b{last}\n" if rng.random() < 0.5 else ""
            text += head + f"    own: 'x'\n    shared: *s{last}\n    text: *t{last}\n    merged:\n      <<: *s{last}\n      b: 13\n" + block
        else:
            last = i
            text += head + (
                f"    s: &s{i} {{a: '0644', b: 12, c: \"\\uFFFE\", d: 'y', e: 1.5, f: \"1e3\"}}\n"
                f"    t: &t{i} \"\\tfirst\\n\\tsecond \\u0085\"\n"
                f"    b: &b{i}\n      k: '0644'\n      num: 12\n      l: [1, 'y']\n"
            )
    return text + SPEC, aliased


# ------------------------------------------------------------------------------------------------- checking


def run(binary, text):
    done = subprocess.run(binary, input=text.encode(), capture_output=True, timeout=120)
    return done.returncode, done.stdout.decode(), done.stderr.decode()


class Findings:
    def __init__(self):
        self.lines = []

    def add(self, line):
        self.lines.append(line)


def readings(text):
    out = {}
    for name, load in READERS.items():
        try:
            out[name] = load(text)
        except Exception as error:  # noqa: BLE001 - any reader error is the finding
            out[name] = error
    return out


def check_batch(binary, label, text, expected_items, findings, copies=None):
    """Runs the function on `text`; `expected_items` maps an item index to {reader: value} (its meaning per reader).
    `copies` maps an item index to the text that must appear in the output as it is."""
    code, out, err = run(binary, text)
    if code != 0:
        findings.add(f"{label}: the function refused a valid input: {err.strip()[:300]}")
        return
    for reader, document in readings(out).items():
        if isinstance(document, Exception):
            findings.add(f"{label}: {reader} cannot read the output: {str(document)[:300]}")
            continue
        items = document.get("items") or []
        for index, meanings in expected_items.items():
            want = meanings.get(reader)
            if want is None:
                continue
            got = norm(items[index]) if index < len(items) else None
            if got != want:
                path, before, after = first_difference(want, got)
                findings.add(f"{label}: item {index}: {reader} reads it differently after the function at {path}: "
                             f"{str(before)[:150]} became {str(after)[:150]}")
    for index, copy in (copies or {}).items():
        # CRLF line ends are written as LF, like the rest of the output.
        if copy.replace("\r\n", "\n") not in out:
            findings.add(f"{label}: item {index} was not copied as it came in")
    # The next run of a pipeline gets the function config again (the output has none).
    code2, out2, err2 = run(binary, out + SPEC)
    if code2 != 0 or out2 != out:
        findings.add(f"{label}: f(f(x)) != f(x) (exit {code2}: {err2.strip()[:200]})")


def first_difference(a, b, path="item"):
    """Where two normalized values first differ, and the two parts there."""
    if a is None or b is None or a[0] != b[0] or a[0] not in ("map", "seq", "tagged"):
        return path, a, b
    if a[0] == "tagged":
        return first_difference(a[2], b[2], f"{path}<{a[1]}>") if a[1] == b[1] else (path, a, b)
    if len(a[1]) != len(b[1]):
        return path, f"{len(a[1])} entries {[k for k, *_ in a[1]][:8] if a[0] == 'map' else ''}", \
            f"{len(b[1])} entries {[k for k, *_ in b[1]][:8] if b[0] == 'map' else ''}"
    for index, (x, y) in enumerate(zip(a[1], b[1])):
        if a[0] == "map":
            if x[0] != y[0]:
                return f"{path} key #{index}", x[0], y[0]
            if x[1] != y[1]:
                return first_difference(x[1], y[1], f"{path}.{x[0][1] if len(x[0]) > 1 else x[0]}")
        elif x != y:
            return first_difference(x, y, f"{path}[{index}]")
    return path, a, b


def meanings_of(text, count, findings, label):
    result = {i: {} for i in range(count)}
    for reader, document in readings(text).items():
        if isinstance(document, Exception):
            findings.add(f"{label}: generator error: {reader} cannot read the input: {str(document)[:300]}")
            continue
        for i, item in enumerate(document["items"]):
            result[i][reader] = norm(item)
    return result


def main():
    args = sys.argv[1:]
    binary = args[1].split() if args[0] == "--command" else [args[0]]
    total = int(args[args.index("--items") + 1]) if "--items" in args else 3000
    seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 11
    rng = random.Random(seed)
    findings = Findings()
    done = {"block": 0, "json": 0, "alias": 0}
    copied = reemitted = 0
    batch = 0
    while sum(done.values()) < total:
        batch += 1
        form = ["block", "block", "block", "block", "json", "alias"][batch % 6]
        count = rng.randrange(20, 60)
        label = f"batch {batch} ({form}, seed {seed})"
        if form == "block":
            crlf, bom = rng.random() < 0.2, rng.random() < 0.2
            text, sources = block_batch(rng, count, done["block"], crlf, bom, rng.choice([0, 2]), rng.random() < 0.3)
            check_batch(binary, label, text, meanings_of(text, count, findings, label), findings,
                        dict(enumerate(sources)))
            copied += count
        elif form == "json":
            text, items = json_batch(rng, count, done["json"])
            # JSON has one meaning: every reader must read the written item as JSON's value.
            want = {i: {reader: norm(item) for reader in READERS} for i, item in enumerate(items)}
            check_batch(binary, label, text, want, findings)
            reemitted += count
        else:
            text, aliased = alias_batch(rng, count, done["alias"])
            meanings = meanings_of(text, count, findings, label)
            # A re-written item must read the same in every reader.
            for index in aliased:
                values = set(map(repr, meanings[index].values()))
                if len(values) != 1:
                    findings.add(f"{label}: generator error: item {index} is ambiguous in the input")
            check_batch(binary, label, text, meanings, findings)
            reemitted += len(aliased)
            copied += count - len(aliased)
        done[form] += count
    if findings.lines:
        for line in findings.lines[:40]:
            print(line)
        print(f"{len(findings.lines)} findings over {sum(done.values())} items in {batch} batches (seed {seed})")
        return 1
    print(f"oracle: {sum(done.values())} items in {batch} batches (seed {seed}): {copied} copied as they came in, "
          f"{reemitted} written anew or with their aliases inlined; meaning kept for {', '.join(READERS)}; f(f(x)) == f(x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

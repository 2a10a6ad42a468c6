"""A deliberately lossy stand-in for the function (tests/lossless.rs): it reads the ResourceList with PyYAML and
writes the items back from the parsed values, as a function that re-serializes everything would. The oracle must
find what this loses (`0644` read as 420 by YAML 1.1 is 644 in YAML 1.2, comments, tags, ...)."""

import sys

import yaml

document = yaml.safe_load(sys.stdin.read())
document.pop("functionConfig", None)
sys.stdout.write(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))

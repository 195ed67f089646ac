"""Validate hub/z2jh-values.yaml the way Helm does: merged over the chart's values, against its schema.

    .venv/bin/python hub/validate_z2jh_values.py SCHEMA CHART_VALUES [VALUES]

SCHEMA is the chart's ``values.schema.yaml`` (or the packaged ``values.schema.json``) and
CHART_VALUES its ``values.yaml``, both from https://github.com/jupyterhub/zero-to-jupyterhub-k8s
(folder ``jupyterhub/``) or from ``helm pull jupyterhub/jupyterhub --untar``. Neither is kept in
this repository; hub/z2jh-values.yaml's header says which chart commit it was last checked with.
Prints OK or the schema's complaints, and exits 0 or 1.
"""

from __future__ import annotations

import sys
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parent.parent


def merge(base: dict, over: dict) -> dict:
    """Helm's merge of user values over chart values: maps merge, everything else replaces."""
    out = dict(base)
    for key, value in over.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__)
        return 2
    schema = yaml.safe_load(Path(argv[0]).read_text())
    chart = yaml.safe_load(Path(argv[1]).read_text())
    path = Path(argv[2]) if len(argv) == 3 else ROOT / "hub" / "z2jh-values.yaml"
    values = yaml.safe_load(path.read_text())
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(merge(chart, values)))
    for err in errors:
        print(f"{'.'.join(map(str, err.absolute_path)) or '(top)'}: {err.message}")
    print("OK" if not errors else f"{len(errors)} error(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Benchmark ``dsgit validate`` on a generated repository of 100,000 entries (``--quick``: 10,000).

The repository has value schemas (with ``$ref`` across files, ``format`` checks), key patterns,
sensitive pointers, attributes and users, in five stores and several scopes. Each measurement
runs in its own process so peak memory (max RSS) is its own:

- ``dsgit``: the full validation (YAML, file schemas, value schemas, limits, encodings);
- ``ruamel``: a naive round-trip load of the same files with ruamel (no checks at all).

Judged by: dsgit entries/s >= 5,000 and peak RSS < 1 GB; the ratio to ruamel is printed too.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_RATE = 5_000
TARGET_RSS_MB = 1024

SCHEMAS = {
    "schemas/common.schema.yaml": """\
$schema: https://json-schema.org/draft/2020-12/schema
$defs:
  userId: {type: integer, minimum: 1}
  emptyTable:
    oneOf:
      - {type: array, maxItems: 0}
      - {type: object, maxProperties: 0}
""",
    "schemas/item.schema.json": json.dumps(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": ["display_name", "price", "currency"],
            "additionalProperties": False,
            "properties": {
                "display_name": {"type": "string", "minLength": 1, "maxLength": 40},
                "price": {"type": "integer", "minimum": 0},
                "currency": {"enum": ["coins", "gems", "robux"]},
                "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
                "available_from": {"type": "string", "format": "date-time"},
            },
        },
        indent=2,
    ),
    "schemas/profile.schema.yaml": """\
$schema: https://json-schema.org/draft/2020-12/schema
type: object
required: [Data, MetaData]
properties:
  Data:
    type: object
    required: [Coins, Stage]
    properties:
      Coins: {type: integer, minimum: 0}
      Stage: {type: integer, minimum: 1}
      OwnedItems:
        anyOf:
          - {type: array, items: {type: string}}
          - {$ref: common.schema.yaml#/$defs/emptyTable}
      Settings: {type: object, additionalProperties: {type: boolean}}
  MetaData:
    type: object
    required: [ProfileCreateTime, SessionLoadCount]
    properties:
      ProfileCreateTime: {type: integer}
      SessionLoadCount: {type: integer, minimum: 0}
      LastUpdate: {type: integer}
      MetaTags: {$ref: common.schema.yaml#/$defs/emptyTable}
  UserIds: {type: array, items: {$ref: common.schema.yaml#/$defs/userId}}
""",
}

STORES = {
    "Shop": "schema: schemas/item.schema.json\nkey_pattern: '^item_[0-9]+$'\n",
    "PlayerStore": (
        "ownership: observed\nschema: schemas/profile.schema.yaml\n"
        "key_pattern: '^[1-9][0-9]*$'\nsensitive: [/Data/Settings]\n"
    ),
    "Flags": "counters: ['epoch_*']\n",
}


def _item(n: int) -> str:
    return (
        "value:\n"
        f"  display_name: Item {n}\n"
        f"  price: {n % 5000}\n"
        f"  currency: {('coins', 'gems', 'robux')[n % 3]}\n"
        f"  tags: [t{n % 7}, t{n % 11 + 7}]\n"
        f'  available_from: "2025-0{n % 9 + 1}-01T00:00:00Z"\n'
        "attributes:\n"
        f"  tier: tier{n % 4}\n"
    )


def _profile(n: int) -> str:
    owned = "[]" if n % 3 == 0 else "{}" if n % 3 == 1 else f"[sword_{n % 13}, shield]"
    return (
        "# a ProfileStore profile\n"
        "value:\n"
        "  Data:\n"
        f"    Coins: {n * 7 % 100000}\n"
        f"    Stage: {n % 60 + 1}\n"
        f"    OwnedItems: {owned}\n"
        "    Settings:\n"
        "      music: true\n"
        "      sfx: false\n"
        "  MetaData:\n"
        f"    ProfileCreateTime: {1700000000 + n}\n"
        f"    SessionLoadCount: {n % 100}\n"
        f"    LastUpdate: {1750000000 + n}\n"
        "    MetaTags: {}\n"
        f"  UserIds: [{n + 1}]\n"
        f"users: [{n + 1}]\n"
    )


def _flag(n: int) -> str:
    if n % 10 == 0:
        return f"value: {n}\n"
    return f"value:\n  enabled: {'true' if n % 2 else 'false'}\n  rollout: {n % 100}\n"


def generate(root: Path, entries: int) -> None:
    """Write dsgit.yaml, schemas, stores and ``entries`` entry files under ``root``."""
    (root / "dsgit.yaml").write_text(
        "version: 1\nenvironments:\n  local: {universe_id: 1, emulator: .dsgit/emulator.db}\n"
    )
    for path, text in SCHEMAS.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    for store, settings in STORES.items():
        (root / "datastores" / store).mkdir(parents=True, exist_ok=True)
        (root / "datastores" / store / "_store.yaml").write_text(settings)
    shares = [("Shop", 0.3), ("PlayerStore", 0.6), ("Flags", 0.1)]
    made = 0
    for index, (store, share) in enumerate(shares):
        count = entries - made if index == len(shares) - 1 else int(entries * share)
        for n in range(count):
            scope = "global" if store != "Flags" else f"region_{n % 5}"
            folder = root / "datastores" / store / scope
            if n < 5 or store != "Flags":
                folder.mkdir(parents=True, exist_ok=True)
            if store == "Shop":
                key, text = f"item_{n}", _item(n)
            elif store == "PlayerStore":
                key, text = str(n + 1), _profile(n)
            else:
                key, text = (f"epoch_{n}" if n % 10 == 0 else f"flag_{n}"), _flag(n)
            (folder / f"{key}.yaml").write_text(text)
        made += count


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_dsgit(root: Path) -> dict[str, float]:
    from dsgit.repo import validate_repository

    start, cpu = time.perf_counter(), time.process_time()
    reading = validate_repository(root)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    if reading.errors:
        raise SystemExit(f"generated repository has problems: {reading.errors[:3]}")
    return {"seconds": seconds, "cpu": cpu, "entries": reading.entries, "peak_mb": _peak_mb()}


def measure_ruamel(root: Path) -> dict[str, float]:
    from ruamel.yaml import YAML

    start, cpu = time.perf_counter(), time.process_time()
    count = 0
    for path in sorted(root.rglob("*.yaml")):
        if "datastores" in path.parts and path.name != "_store.yaml":
            count += 1
        YAML(typ="rt").load(path.read_text(encoding="utf-8"))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"seconds": seconds, "cpu": cpu, "entries": count, "peak_mb": _peak_mb()}


def _run(kind: str, root: Path) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--measure", kind, str(root)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(output)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 entries instead of 100,000")
    parser.add_argument("--entries", type=int, default=None)
    parser.add_argument("--measure", nargs=2, metavar=("KIND", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        kind, folder = args.measure
        measure = measure_dsgit if kind == "dsgit" else measure_ruamel
        print(json.dumps(measure(Path(folder))))
        return
    entries = args.entries or (10_000 if args.quick else 100_000)
    root = Path(tempfile.mkdtemp(prefix="dsgit-bench-"))
    try:
        start = time.perf_counter()
        generate(root, entries)
        print(f"generated {entries:,} entries in {time.perf_counter() - start:.1f}s ({root})")
        dsgit = _run("dsgit", root)
        ruamel = _run("ruamel", root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(
        f"{'':28}{'entries':>9}{'wall s':>8}{'cpu s':>8}{'entries/s':>11}{'per cpu s':>11}"
        f"{'peak MB':>9}"
    )
    for name, result in (
        ("dsgit validate (all checks)", dsgit),
        ("ruamel round-trip load", ruamel),
    ):
        print(
            f"{name:28}{result['entries']:>9,.0f}{result['seconds']:>8.2f}{result['cpu']:>8.2f}"
            f"{result['entries'] / result['seconds']:>11,.0f}"
            f"{result['entries'] / result['cpu']:>11,.0f}{result['peak_mb']:>9.0f}"
        )
    rate = dsgit["entries"] / dsgit["seconds"]
    cpu_rate = dsgit["entries"] / dsgit["cpu"]
    ratio = (dsgit["entries"] / dsgit["cpu"]) / (ruamel["entries"] / ruamel["cpu"])
    print(f"dsgit validate (every check) runs {ratio:.1f}x as fast as a bare ruamel load (CPU)")
    ok = max(rate, cpu_rate) >= TARGET_RATE and dsgit["peak_mb"] < TARGET_RSS_MB
    verdict = "met" if ok else "NOT met"
    print(
        f"target >= {TARGET_RATE:,} entries/s and < {TARGET_RSS_MB} MB: {verdict}"
        f" ({rate:,.0f} entries/s wall, {cpu_rate:,.0f} per CPU second, "
        f"{dsgit['peak_mb']:.0f} MB peak)"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()

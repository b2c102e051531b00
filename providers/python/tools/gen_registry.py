"""Writes, or checks, igloo/registry.py: the component classes the built `igloo._igloo`
module generates from its components.toml (providers/python/src/pygen.rs).

    python gen_registry.py FILE            write FILE
    python gen_registry.py --check FILE    exit 1, with a diff, when FILE differs

The `igloo` package it imports (on PYTHONPATH) decides the registry: scripts/gen-python-registry
puts a fresh debug build there; the tests put the wheel they test.
"""

import argparse
import difflib
import sys
from pathlib import Path

from igloo._igloo import _registry_source


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    parser.add_argument("file", type=Path, help="the registry.py to write or check")
    args = parser.parse_args()
    want = _registry_source()
    if not args.check:
        args.file.write_text(want, encoding="utf-8")
        return 0
    try:
        have = args.file.read_text(encoding="utf-8")
    except OSError as e:
        print(f"{args.file}: {e}", file=sys.stderr)
        return 1
    if have == want:
        return 0
    diff = difflib.unified_diff(
        have.splitlines(keepends=True),
        want.splitlines(keepends=True),
        fromfile=str(args.file),
        tofile="generated from components.toml",
    )
    sys.stderr.writelines(diff)
    print(
        f"{args.file} is stale: run scripts/gen-python-registry (it is generated, never edited)",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())

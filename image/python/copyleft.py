"""Sorts the top-level modules of a pip `--target` directory by licence.

Usage: copyleft.py DIR

Prints one line per top-level module or package of DIR (what a distribution's
RECORD installs outside its .dist-info): `copyleft NAME` for distributions
under a GNU licence (GPL, LGPL, AGPL: their source must ship with their
bytecode, the licence's "Corresponding Source"), `permissive NAME` for the
rest. The licence is read from the core metadata (`License-Expression`,
`License`, and `License ::` classifiers: Core Metadata 2.4, packaging.python.org).
A distribution whose metadata names no licence at all counts as copyleft:
its source stays. Exits 1 if DIR holds no distribution.
"""

from __future__ import annotations

import csv
import sys
from email.parser import Parser
from pathlib import Path

GNU_MARKERS = ("GPL", "GNU General Public", "GNU Lesser General Public", "GNU Affero")


def licence_text(metadata: str) -> str:
    """The licence fields of a METADATA file, joined; empty if it has none."""
    message = Parser().parsestr(metadata, headersonly=True)
    fields = [message.get("License-Expression", ""), message.get("License", "")]
    fields += [c for c in message.get_all("Classifier", []) if c.startswith("License ::")]
    return " ".join(f for f in fields if f)


def top_level(dist_info: Path) -> set[str]:
    """The top-level names (package directories, modules) a distribution installs."""
    names: set[str] = set()
    with (dist_info / "RECORD").open(newline="") as record:
        for row in csv.reader(record):
            if not row:
                continue
            first = row[0].split("/", 1)[0]
            if first.endswith(".dist-info") or first in ("..", "bin", "__pycache__"):
                continue
            names.add(first)
    return names


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(argv[1])
    dists = sorted(root.glob("*.dist-info"))
    if not dists:
        print(f"copyleft.py: no .dist-info in {root}", file=sys.stderr)
        return 1
    for dist in dists:
        text = licence_text((dist / "METADATA").read_text(encoding="utf-8"))
        copyleft = not text or any(m in text for m in GNU_MARKERS)
        for name in sorted(top_level(dist)):
            print(("copyleft" if copyleft else "permissive"), name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

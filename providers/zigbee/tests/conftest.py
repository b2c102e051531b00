"""pytest setup for the Zigbee provider's tests: the provider package
(providers/zigbee) and the emulated devices (tests/fakes/zigbee_devices.py)
are imported from the checkout. The `igloo` SDK must be importable (the
wheel installed on PYTHONPATH, as scripts/test does)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
for path in (ROOT / "providers" / "zigbee", ROOT / "tests" / "fakes"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

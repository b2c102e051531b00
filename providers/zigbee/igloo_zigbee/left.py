"""The devices that left the network, kept in `<data dir>/left.json` so they
stay unavailable across a provider restart or a replugged stick.

zigpy keeps a device that left in its database (it may join again with the
same IEEE address and keep its Igloo id); only a new join or Device_annce
takes it off this list. The file is a JSON array of IEEE addresses
(`"00:17:88:01:0b:1c:00:01"`), replaced atomically on each change. A file
that cannot be read or parsed is logged and treated as empty: those devices
come back as available, as they did before the list existed; nothing else is
lost.
"""

from __future__ import annotations

import json
import logging
import os

LOG = logging.getLogger(__name__)

FILE_NAME = "left.json"


class LeftDevices:
    """The IEEE addresses of devices that left, as stored in `data_dir`."""

    def __init__(self, data_dir: str) -> None:
        self.path = os.path.join(data_dir, FILE_NAME)
        self.ieees: set[str] = self._load()

    def __contains__(self, ieee: str) -> bool:
        return ieee in self.ieees

    def add(self, ieee: str) -> None:
        """`ieee` left the network."""
        if ieee not in self.ieees:
            self.ieees.add(ieee)
            self._save()

    def discard(self, ieee: str) -> None:
        """`ieee` joined again."""
        if ieee in self.ieees:
            self.ieees.discard(ieee)
            self._save()

    def _load(self) -> set[str]:
        try:
            with open(self.path, encoding="utf-8") as f:
                stored = json.load(f)
        except FileNotFoundError:
            return set()
        except (OSError, ValueError) as err:
            LOG.warning(
                "%s cannot be read (%s): devices that left count as present", self.path, err
            )
            return set()
        if not isinstance(stored, list) or not all(isinstance(i, str) for i in stored):
            LOG.warning("%s is not a list of IEEE addresses: ignored", self.path)
            return set()
        return set(stored)

    def _save(self) -> None:
        partial = self.path + ".partial"
        try:
            with open(partial, "w", encoding="utf-8") as f:
                json.dump(sorted(self.ieees), f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(partial, self.path)
        except OSError as err:
            LOG.warning("cannot write %s (%s): kept until the provider stops", self.path, err)

"""Which zigpy radio library drives a granted stick, and its zigpy config.

The radio follows from the USB identity the core recognised (the grant's
`known` attribute, an id of the core's known-dongle table,
core/daemon/src/grants/known.rs) or from the provider's config
`radio = "znp" | "ezsp" | "deconz"`, which wins when set.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import zigpy.config as zconf

from igloo_zigbee import transport

# Known-dongle ids (the core's table) → radio library.
KNOWN_RADIOS = {
    "sonoff-zbdongle-p": "znp",
    "slaesh-cc2652rb": "znp",
    "cc2531": "znp",
    "sonoff-zbdongle-e": "ezsp",
    "ha-skyconnect": "ezsp",
    "ha-connect-zbt1": "ezsp",
    "conbee2": "deconz",
    "conbee3": "deconz",
}
# Radio → (module with its ControllerApplication, serial speed).
RADIOS = {
    "znp": ("zigpy_znp.zigbee.application", 115200),
    "ezsp": ("bellows.zigbee.application", 115200),
    "deconz": ("zigpy_deconz.zigbee.application", 38400),
}


class RadioError(Exception):
    """No radio library can be chosen or loaded for a grant."""


@dataclass(frozen=True)
class Radio:
    """The radio library for one grant."""

    name: str
    module: str
    baudrate: int

    def application(self) -> Any:
        """The library's `ControllerApplication` class."""
        try:
            return importlib.import_module(self.module).ControllerApplication
        except ImportError as err:
            raise RadioError(f"radio {self.name}: {self.module} is not installed ({err})") from err


def choose(attributes: dict[str, str], configured: str | None) -> Radio:
    """The radio for a grant with `attributes`; `configured` (the config's `radio`) wins."""
    name = configured or KNOWN_RADIOS.get(attributes.get("known", ""))
    if name is None:
        raise RadioError(
            f"cannot tell the radio of {attributes.get('product', 'this stick')!r}"
            f' (known: {attributes.get("known", "none")}): set radio = "znp", "ezsp"'
            ' or "deconz" in [provider.config]'
        )
    if name not in RADIOS:
        raise RadioError(f"unknown radio {name!r}: one of {', '.join(sorted(RADIOS))}")
    module, baudrate = RADIOS[name]
    return Radio(name=name, module=module, baudrate=baudrate)


def app_config(radio: Radio, grant: int, database: str) -> dict[str, Any]:
    """zigpy's config for running `radio` on granted device `grant`, with its
    database (network settings, devices, backups) at `database`. The provider
    has no network: OTA downloads and topology scans are off."""
    return {
        zconf.CONF_DEVICE: {
            zconf.CONF_DEVICE_PATH: transport.url(grant),
            zconf.CONF_DEVICE_BAUDRATE: radio.baudrate,
        },
        zconf.CONF_DATABASE: database,
        zconf.CONF_OTA: {zconf.CONF_OTA_ENABLED: False},
        zconf.CONF_TOPO_SCAN_ENABLED: False,
    }

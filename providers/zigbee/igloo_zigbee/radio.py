"""Which zigpy radio library drives a granted stick, and its zigpy config.

The radio and the serial settings follow from the USB identity the core
recognised (the grant's `known` attribute, an id of the core's known-dongle
table, core/daemon/src/grants/known.rs) or from the provider's config
`radio = "znp" | "ezsp" | "deconz"`, `baudrate` and `flow_control`
(`"hardware"`, `"software"`, `"none"`), which win when set. The serial line
is the granted fd itself (transport.py): zigpy sets its speed and flow
control through termios.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import zigpy.config as zconf

from igloo_zigbee import transport

# Radio → (module with its ControllerApplication, default serial speed,
# default flow control).
RADIOS: dict[str, tuple[str, int, str | None]] = {
    "znp": ("zigpy_znp.zigbee.application", 115200, None),
    "ezsp": ("bellows.zigbee.application", 115200, "software"),
    "deconz": ("zigpy_deconz.zigbee.application", 38400, None),
}
# Known-dongle ids (the core's table) → (radio, baud rate, flow control) of
# their stock firmware: Z-Stack at 115200 8N1 without flow control; EmberZNet
# at 115200 with XON/XOFF on the ZBDongle-E, RTS/CTS on the SkyConnect and
# Connect ZBT-1 (Nabu Casa's firmware); deCONZ at 38400 on the ConBee II,
# 115200 on the ConBee III.
KNOWN_STICKS: dict[str, tuple[str, int, str | None]] = {
    "sonoff-zbdongle-p": ("znp", 115200, None),
    "slaesh-cc2652rb": ("znp", 115200, None),
    "cc2531": ("znp", 115200, None),
    "sonoff-zbdongle-e": ("ezsp", 115200, "software"),
    "ha-skyconnect": ("ezsp", 115200, "hardware"),
    "ha-connect-zbt1": ("ezsp", 115200, "hardware"),
    "conbee2": ("deconz", 38400, None),
    "conbee3": ("deconz", 115200, None),
}
FLOW_CONTROLS = ("hardware", "software", None)


class RadioError(Exception):
    """No radio library can be chosen or loaded for a grant."""


@dataclass(frozen=True)
class Radio:
    """The radio library for one grant and the serial settings of the stick:
    `flow_control` is zigpy's `hardware` (RTS/CTS), `software` (XON/XOFF)
    or None."""

    name: str
    module: str
    baudrate: int
    flow_control: str | None = None

    def application(self) -> Any:
        """The library's `ControllerApplication` class."""
        try:
            return importlib.import_module(self.module).ControllerApplication
        except ImportError as err:
            raise RadioError(f"radio {self.name}: {self.module} is not installed ({err})") from err


def choose(
    attributes: dict[str, str],
    configured: str | None,
    baudrate: int | None = None,
    flow_control: str | None = "",
) -> Radio:
    """The radio for a grant with `attributes` (its `known` id from the
    core's table). The config's `radio`, `baudrate` and `flow_control` win
    when set (`flow_control = ""`: not set)."""
    known = KNOWN_STICKS.get(attributes.get("known", ""))
    name = configured or (known[0] if known else None)
    if name is None:
        raise RadioError(
            f"cannot tell the radio of {attributes.get('product', 'this stick')!r}"
            f' (known: {attributes.get("known", "none")}): set radio = "znp", "ezsp"'
            ' or "deconz" in [provider.config]'
        )
    if name not in RADIOS:
        raise RadioError(f"unknown radio {name!r}: one of {', '.join(sorted(RADIOS))}")
    module, speed, flow = RADIOS[name]
    if known is not None and known[0] == name:
        speed, flow = known[1], known[2]
    if flow_control != "":
        if flow_control not in FLOW_CONTROLS:
            raise RadioError(f"flow_control {flow_control!r}: hardware, software or none")
        flow = flow_control
    return Radio(name=name, module=module, baudrate=baudrate or speed, flow_control=flow)


def app_config(radio: Radio, grant: int, database: str | None) -> dict[str, Any]:
    """zigpy's config for running `radio` on granted device `grant`, with its
    database (network settings, devices, backups) at `database` (None: kept in
    memory only, for tests). The provider has no network: OTA downloads and
    topology scans are off."""
    return {
        zconf.CONF_DEVICE: {
            zconf.CONF_DEVICE_PATH: transport.url(grant),
            zconf.CONF_DEVICE_BAUDRATE: radio.baudrate,
            zconf.CONF_DEVICE_FLOW_CONTROL: radio.flow_control,
        },
        zconf.CONF_DATABASE: database,
        zconf.CONF_OTA: {zconf.CONF_OTA_ENABLED: False},
        zconf.CONF_TOPO_SCAN_ENABLED: False,
    }

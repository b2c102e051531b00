"""The radio and the serial settings of each known stick (radio.py), and
each radio library's ControllerApplication built from radio.py's config and
run on the provider's `igloo-grant://` transport over a pty: the library
opens the granted fd, sets its speed and flow control through termios and
sends its first frame to the stick."""

from __future__ import annotations

import asyncio
import os
import termios
import tty

import pytest
from igloo_zigbee import radio, transport

# known id → (radio, termios speed, flow control) as the stock firmware wants.
STICKS = {
    "sonoff-zbdongle-p": ("znp", 115200, None),
    "slaesh-cc2652rb": ("znp", 115200, None),
    "cc2531": ("znp", 115200, None),
    "sonoff-zbdongle-e": ("ezsp", 115200, "software"),
    "ha-skyconnect": ("ezsp", 115200, "hardware"),
    "ha-connect-zbt1": ("ezsp", 115200, "hardware"),
    "conbee2": ("deconz", 38400, None),
    "conbee3": ("deconz", 115200, None),
}
SPEEDS = {115200: termios.B115200, 38400: termios.B38400}
# The first bytes each library sends on a fresh line: bellows' ASH cancel
# byte before its RST frame, deCONZ's SLIP frame start, Z-Stack's MT SOF.
FIRST_BYTE = {"ezsp": 0x1A, "deconz": 0xC0, "znp": 0xFE}
MODULES = {
    "znp": "zigpy_znp.zigbee.application",
    "ezsp": "bellows.zigbee.application",
    "deconz": "zigpy_deconz.zigbee.application",
}


@pytest.mark.parametrize("known", sorted(STICKS))
def test_each_known_stick_gets_its_radio_and_serial_settings(known: str) -> None:
    name, speed, flow = STICKS[known]
    chosen = radio.choose({"known": known, "product": "x"}, None)
    assert (chosen.name, chosen.module, chosen.baudrate, chosen.flow_control) == (
        name,
        MODULES[name],
        speed,
        flow,
    )
    config = radio.app_config(chosen, 3, "/data/zigbee.db")
    # The library's own schema takes it, with our transport's URL as the path.
    app_cls = chosen.application()
    validated = app_cls.SCHEMA(config)
    device = validated["device"]
    assert device == {"path": "igloo-grant://3", "baudrate": speed, "flow_control": flow}
    assert validated["ota"]["enabled"] is False


def test_the_config_wins_and_an_unknown_stick_needs_it() -> None:
    chosen = radio.choose({"known": "cp210x"}, "ezsp", 460800, "hardware")
    assert (chosen.name, chosen.baudrate, chosen.flow_control) == ("ezsp", 460800, "hardware")
    # The configured radio differs from the stick's: that radio's defaults.
    chosen = radio.choose({"known": "conbee2"}, "znp")
    assert (chosen.name, chosen.baudrate, chosen.flow_control) == ("znp", 115200, None)
    with pytest.raises(radio.RadioError, match="set radio"):
        radio.choose({"known": "cp210x", "product": "CP2102N"}, None)
    with pytest.raises(radio.RadioError, match="unknown radio"):
        radio.choose({}, "xbee")


async def _open_on_pty(known: str) -> tuple[list[int | list[bytes | int]], bytes]:
    """Builds the stick's ControllerApplication through radio.py on a
    granted pty and lets it connect (nothing answers); returns the pty's
    termios attributes and the bytes the library wrote."""
    master, slave = os.openpty()
    tty.setraw(master)
    grant = 900 + sorted(STICKS).index(known)
    transport.hold(grant, slave)
    try:
        chosen = radio.choose({"known": known}, None)
        app = chosen.application()(radio.app_config(chosen, grant, None))
        try:
            await asyncio.wait_for(app.connect(), 1.0)
        except Exception:  # noqa: BLE001 - no stick answers: expected to fail
            pass
        finally:
            await app.disconnect()
        os.set_blocking(master, False)
        try:
            written = os.read(master, 256)
        except BlockingIOError:
            written = b""
        return termios.tcgetattr(slave), written
    finally:
        transport.release(grant)
        os.close(slave)
        os.close(master)


@pytest.mark.parametrize("known", sorted(STICKS))
def test_the_library_runs_on_the_granted_fd_with_the_sticks_settings(known: str) -> None:
    name, speed, flow = STICKS[known]
    attrs, written = asyncio.run(_open_on_pty(known))
    iflag, cflag, ospeed = attrs[0], attrs[2], attrs[5]
    assert isinstance(iflag, int) and isinstance(cflag, int)
    assert ospeed == SPEEDS[speed]
    assert bool(cflag & termios.CRTSCTS) == (flow == "hardware")
    assert bool(iflag & termios.IXON) == (flow == "software")
    assert written, f"{name} wrote nothing to the granted fd"
    assert written[0] == FIRST_BYTE[name], written[:16].hex()

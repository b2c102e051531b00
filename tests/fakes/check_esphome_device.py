#!/usr/bin/env python3
"""Self-check for esphome_device.py: drive the fake with aioesphomeapi's real APIClient.

Each check spawns the fake as a subprocess (same interpreter), talks to it with
``aioesphomeapi.APIClient`` and watches its stdout events. Prints one line per
check and exits non-zero if any check fails.

    python3 tests/fakes/check_esphome_device.py [-v]
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, TypeVar, Unpack

from control import JSONValue
from selfcheck import (
    EVENT_TIMEOUT,
    VERBOSE,
    VERY_VERBOSE,
    CheckFailed,
    FakeProcess,
    of,
    require,
    run_checks,
)

try:
    from aioesphomeapi import (
        ClimateMode,
        ClimateState,
        CoverState,
        EntityState,
        FanState,
        LightInfo,
        LightState,
        LockCommand,
        LockEntityState,
        LockState,
        NumberState,
        SelectState,
        SensorInfo,
        SensorState,
        SwitchState,
    )
    from aioesphomeapi.client import APIClient
    from aioesphomeapi.core import (
        APIConnectionError,
        EncryptionPlaintextAPIError,
        InvalidEncryptionKeyAPIError,
        RequiresEncryptionAPIError,
    )
except ImportError as import_err:  # pragma: no cover - environment problem
    sys.stderr.write(
        f"check_esphome_device.py needs aioesphomeapi installed: {import_err}\n"
        "  e.g. python3 -m venv venv && venv/bin/pip install aioesphomeapi==46.23.0\n"
    )
    sys.exit(2)

if TYPE_CHECKING:
    from esphome_device import Event

FAKE = Path(__file__).resolve().with_name("esphome_device.py")
NAME = "fake-check"
MAC = "AA:BB:CC:DD:EE:FF"


def close(a: float, b: float) -> bool:
    return abs(a - b) < 1e-5


# --------------------------------------------------------------------------
# The fake as a subprocess
# --------------------------------------------------------------------------


class Fake(FakeProcess["Event"]):
    """The fake device with a fixed name and MAC on a free port."""

    def __init__(self, *args: str) -> None:
        super().__init__(FAKE, "--port", "0", "--name", NAME, "--mac", MAC, *args)
        self.port = 0

    async def __aenter__(self) -> Fake:
        listening = await self.start()
        self.port = listening["port"]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop(check_exit=exc[0] is None)
        if exc[0] is not None:
            self.print_stderr_tail()

    async def expect_message(self, type_name: str, since: int) -> Event:
        return await self.expect(
            lambda e: e["event"] == "message" and e["type"] == type_name,
            since=since,
            what=f"message {type_name}",
        )


# --------------------------------------------------------------------------
# Client helpers
# --------------------------------------------------------------------------


S = TypeVar("S", bound=EntityState)


class States:
    """Collects the client's state callbacks by key."""

    def __init__(self) -> None:
        self.latest: dict[int, EntityState] = {}
        self._changed = asyncio.Event()

    def __call__(self, state: EntityState) -> None:
        self.latest[state.key] = state
        self._changed.set()

    def get(self, key: int, kind: type[S]) -> S:
        """The latest state of `key`, which must be a `kind`."""
        return of(kind, self.latest[key])

    async def wait(self, what: str, pred: Callable[[dict[int, EntityState]], bool]) -> None:
        try:
            async with asyncio.timeout(EVENT_TIMEOUT):
                while not pred(self.latest):
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise CheckFailed(f"client never saw {what}; states: {self.latest}") from None

    async def wait_key(self, key: int, kind: type[S], what: str, pred: Callable[[S], bool]) -> S:
        await self.wait(what, lambda latest: key in latest and pred(of(kind, latest[key])))
        return self.get(key, kind)


class Stops:
    """on_stop callback recorder."""

    def __init__(self) -> None:
        self.count = 0
        self._event = asyncio.Event()

    async def __call__(self, expected: bool) -> None:
        self.count += 1
        self._event.set()

    async def wait(self, what: str) -> None:
        try:
            async with asyncio.timeout(EVENT_TIMEOUT):
                await self._event.wait()
        except TimeoutError:
            raise CheckFailed(f"client did not notice {what}") from None
        self._event.clear()


class ClientOptions(TypedDict, total=False):
    """The APIClient arguments some checks set."""

    expected_name: str
    expected_mac: str
    keepalive: float


def make_client(port: int, *, key: str | None = None, **kwargs: Unpack[ClientOptions]) -> APIClient:
    return APIClient(
        "127.0.0.1",
        port,
        None,
        client_info="igloo-selfcheck",
        noise_psk=key,
        timezone="UTC",
        **kwargs,
    )


async def connect_and_subscribe(
    fake: Fake, client: APIClient, expected_keys: set[int], stops: Stops | None = None
) -> States:
    await client.connect(on_stop=stops, login=False)
    states = States()
    since = fake.mark()
    client.subscribe_states(states)
    await states.wait(
        f"initial states of {sorted(expected_keys)}",
        lambda latest: expected_keys <= latest.keys(),
    )
    await fake.expect_message("GetTimeResponse", since)
    return states


async def expect_connect_error(client: APIClient) -> APIConnectionError:
    try:
        async with asyncio.timeout(15):
            await client.connect(login=False)
    except APIConnectionError as err:
        return err
    await client.disconnect(force=True)
    raise CheckFailed("connect unexpectedly succeeded")


BASIC_TYPES = {
    1001: "SwitchInfo",
    1002: "LightInfo",
    1003: "SensorInfo",
    1004: "BinarySensorInfo",
    1005: "CoverInfo",
}
ALL_TYPES = {
    **BASIC_TYPES,
    1006: "TextSensorInfo",
    1007: "FanInfo",
    1008: "ClimateInfo",
    1009: "NumberInfo",
    1010: "SelectInfo",
    1011: "ButtonInfo",
    1012: "LockInfo",
    1013: "SirenInfo",
}
STATEFUL_BASIC = set(BASIC_TYPES)
STATEFUL_ALL = set(ALL_TYPES) - {1011}


# --------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------


async def check_plaintext() -> str:
    async with Fake() as fake:
        client = make_client(fake.port)
        since = fake.mark()
        await client.connect(login=False)
        hello = await fake.expect_message("HelloRequest", since)
        require(hello["fields"]["client_info"] == "igloo-selfcheck", f"hello fields {hello}")
        require(client.api_version is not None and client.api_version.minor == 14, "api 1.14")

        info = await client.device_info()
        require(info.name == NAME, f"device name {info.name!r}")
        require(info.mac_address == MAC, f"mac {info.mac_address!r}")
        require(info.esphome_version == "2026.11.0", f"version {info.esphome_version!r}")
        require(not info.api_encryption_supported, "plaintext device claims encryption")

        entities, _services = await client.list_entities_services()
        kinds = {e.key: type(e).__name__ for e in entities}
        require(kinds == BASIC_TYPES, f"entities {kinds}")
        by_key = {e.key: e for e in entities}
        light = of(LightInfo, by_key[1002])
        require(
            list(light.supported_color_modes) == [35, 11]
            and light.min_mireds == 153
            and light.max_mireds == 500
            and list(light.effects) == ["None", "Rainbow"],
            f"light info {light}",
        )
        sensor = of(SensorInfo, by_key[1003])
        require(
            sensor.unit_of_measurement == "°C" and sensor.accuracy_decimals == 1,
            f"sensor info {sensor}",
        )
        require(by_key[1001].object_id == "relay", f"object_id {by_key[1001].object_id!r}")

        states = States()
        since = fake.mark()
        client.subscribe_states(states)
        await states.wait("5 initial states", lambda s: STATEFUL_BASIC <= s.keys())
        sensor_state = states.get(1003, SensorState)
        require(close(sensor_state.state, 21.5), f"sensor {sensor_state}")
        require(states.get(1001, SwitchState).state is False, "switch initially off")
        lamp = states.get(1002, LightState)
        require(lamp.state is False and close(lamp.brightness, 0.5), f"lamp {lamp}")
        cover = states.get(1005, CoverState)
        require(cover.position == 0.0, f"cover {cover}")
        await fake.expect_message("GetTimeResponse", since)

        # switch_command -> exact command event, confirmed state back
        since = fake.mark()
        client.switch_command(1001, True)
        cmd = await fake.expect_message("SwitchCommandRequest", since)
        require(
            cmd["fields"] == {"key": 1001, "state": True, "device_id": 0},
            f"switch command fields {cmd['fields']}",
        )
        await states.wait_key(1001, SwitchState, "switch on", lambda s: s.state is True)

        # light_command with brightness + rgb
        since = fake.mark()
        client.light_command(1002, state=True, brightness=0.8, rgb=(0.25, 0.5, 1.0))
        cmd = await fake.expect_message("LightCommandRequest", since)
        f = cmd["fields"]
        require(
            f["key"] == 1002
            and f["has_state"] is True
            and f["state"] is True
            and f["has_brightness"] is True
            and close(of(float, f["brightness"]), 0.8)
            and f["has_rgb"] is True
            and (f["red"], f["green"], f["blue"]) == (0.25, 0.5, 1.0)
            and f["has_color_temperature"] is False
            and f["has_effect"] is False,
            f"light command fields {f}",
        )
        lamp = await states.wait_key(1002, LightState, "lamp on", lambda s: s.state is True)
        require(
            close(lamp.brightness, 0.8)
            and (lamp.red, lamp.green, lamp.blue) == (0.25, 0.5, 1.0)
            and lamp.color_mode == 35,
            f"lamp state {lamp}",
        )

        # injected state change
        await fake.op(
            {"op": "send", "type": "SensorStateResponse", "fields": {"key": 1003, "state": 22.25}}
        )
        await states.wait_key(1003, SensorState, "sensor 22.25", lambda s: close(s.state, 22.25))

        since = fake.mark()
        await client.disconnect()
        await fake.expect_message("DisconnectRequest", since)
        await fake.expect(
            lambda e: e["event"] == "disconnected" and "DisconnectRequest" in e["reason"],
            since=since,
            what="disconnected after DisconnectRequest",
        )
    return "device_info, 5 entities, initial states, switch + light commands, injected state"


async def check_all_entities() -> str:
    async with Fake("--entities", "all") as fake:
        client = make_client(fake.port)
        await client.connect(login=False)
        entities, _ = await client.list_entities_services()
        kinds = {e.key: type(e).__name__ for e in entities}
        require(kinds == ALL_TYPES, f"entities {kinds}")
        states = States()
        client.subscribe_states(states)
        await states.wait("all initial states", lambda s: STATEFUL_ALL <= s.keys())

        async def command(type_name: str, send: Callable[[], None]) -> dict[str, JSONValue]:
            since = fake.mark()
            send()
            return (await fake.expect_message(type_name, since))["fields"]

        await command(
            "CoverCommandRequest", lambda: client.cover_command(1005, position=0.5, tilt=0.25)
        )
        await states.wait_key(
            1005,
            CoverState,
            "cover at 0.5",
            lambda s: close(s.position, 0.5) and close(s.tilt, 0.25),
        )
        await command(
            "FanCommandRequest", lambda: client.fan_command(1007, state=True, oscillating=True)
        )
        await states.wait_key(
            1007, FanState, "fan on", lambda s: s.state and s.oscillating and s.speed_level == 3
        )
        await command(
            "ClimateCommandRequest",
            lambda: client.climate_command(1008, mode=ClimateMode.HEAT, target_temperature=23.0),
        )
        await states.wait_key(
            1008,
            ClimateState,
            "climate heat 23",
            lambda s: s.mode == ClimateMode.HEAT and close(s.target_temperature, 23.0),
        )
        await command("NumberCommandRequest", lambda: client.number_command(1009, 42.0))
        await states.wait_key(1009, NumberState, "number 42", lambda s: close(s.state, 42.0))
        await command("SelectCommandRequest", lambda: client.select_command(1010, "boost"))
        await states.wait_key(1010, SelectState, "select boost", lambda s: s.state == "boost")
        fields = await command("ButtonCommandRequest", lambda: client.button_command(1011))
        require(fields == {"key": 1011, "device_id": 0}, f"button fields {fields}")
        fields = await command(
            "LockCommandRequest", lambda: client.lock_command(1012, LockCommand.OPEN)
        )
        require(fields["command"] == "LOCK_OPEN", f"lock fields {fields}")
        await states.wait_key(
            1012, LockEntityState, "lock open", lambda s: s.state == LockState.OPEN
        )
        await client.disconnect()
    return "13 entities incl. siren; cover, fan, climate, number, select, button, lock commands"


async def check_noise() -> str:
    key = base64.b64encode(os.urandom(32)).decode()
    async with Fake("--key", key, "--ping-interval", "0.3") as fake:
        client = make_client(
            fake.port, key=key, expected_name=NAME, expected_mac=MAC.replace(":", "").lower()
        )
        states = await connect_and_subscribe(fake, client, STATEFUL_BASIC)
        info = await client.device_info()
        require(info.name == NAME and info.mac_address == MAC, f"device info {info}")
        require(info.api_encryption_supported, "encrypted device must say api_encryption_supported")
        require(close(states.get(1003, SensorState).state, 21.5), f"sensor {states.latest[1003]}")

        since = fake.mark()
        client.switch_command(1001, True)
        cmd = await fake.expect_message("SwitchCommandRequest", since)
        require(cmd["fields"] == {"key": 1001, "state": True, "device_id": 0}, f"fields {cmd}")
        await states.wait_key(1001, SwitchState, "switch on", lambda s: s.state is True)

        await fake.op(
            {"op": "send", "type": "SensorStateResponse", "fields": {"key": 1003, "state": 19.0}}
        )
        await states.wait_key(1003, SensorState, "sensor 19.0", lambda s: close(s.state, 19.0))
        # the device pings every 0.3 s; the client answers through the cipher
        await fake.expect_message("PingResponse", 0)
        # oversize: a correctly encrypted frame whose inner length lies (0xFFFF);
        # aioesphomeapi ignores that field, so it sees the short payload (state 1.0)
        await fake.op({"op": "oversize"})
        await states.wait_key(
            1003, SensorState, "sensor 1.0 from the oversize frame", lambda s: close(s.state, 1.0)
        )
        await client.disconnect()
    return (
        "Noise handshake (name + mac checked by client), states, command, device pings, "
        "oversize frame"
    )


async def check_wrong_key() -> str:
    key = base64.b64encode(os.urandom(32)).decode()
    other = base64.b64encode(os.urandom(32)).decode()
    async with Fake("--key", key) as fake:
        err = await expect_connect_error(make_client(fake.port, key=other))
        require(isinstance(err, InvalidEncryptionKeyAPIError), f"got {type(err).__name__}: {err}")
        await fake.expect(
            lambda e: e["event"] == "handshake_failed" and e["reason"] == "Handshake MAC failure",
            what="handshake_failed event",
        )
        # still serving afterwards
        client = make_client(fake.port, key=key)
        await client.connect(login=False)
        await client.disconnect()
    return f"{type(err).__name__}: {err}"


async def check_plaintext_to_encrypted() -> str:
    key = base64.b64encode(os.urandom(32)).decode()
    async with Fake("--key", key) as fake:
        err = await expect_connect_error(make_client(fake.port))
        require(isinstance(err, RequiresEncryptionAPIError), f"got {type(err).__name__}: {err}")
        await fake.expect(
            lambda e: e["event"] == "rejected" and e["reason"] == "Bad indicator byte",
            what="rejected event",
        )
    return f"{type(err).__name__}: {err}"


async def check_noise_to_plaintext() -> str:
    key = base64.b64encode(os.urandom(32)).decode()
    async with Fake() as fake:
        err = await expect_connect_error(make_client(fake.port, key=key))
        require(isinstance(err, EncryptionPlaintextAPIError), f"got {type(err).__name__}: {err}")
        await fake.expect(
            lambda e: e["event"] == "rejected" and e["reason"] == "Bad indicator byte",
            what="rejected event",
        )
    return f"{type(err).__name__}: {err}"


async def check_reboot() -> str:
    async with Fake() as fake:
        stops = Stops()
        client = make_client(fake.port)
        await connect_and_subscribe(fake, client, STATEFUL_BASIC, stops)
        since = fake.mark()
        started = time.monotonic()
        reboot = asyncio.create_task(fake.op({"op": "reboot", "down_ms": 1500}))
        await stops.wait("the reboot")
        # while down, the port refuses connections
        err = await expect_connect_error(make_client(fake.port))
        require(time.monotonic() - started < 1.5, "refusal came only after the device was back")
        await reboot
        listening = await fake.expect(
            lambda e: e["event"] == "listening", since=since, what="listening again"
        )
        require(
            listening["port"] == fake.port, f"relistened on {listening['port']}, not {fake.port}"
        )
        states = await connect_and_subscribe(fake, client, STATEFUL_BASIC, stops)
        require(close(states.get(1003, SensorState).state, 21.5), "states after reboot")
        await client.disconnect()
    return f"client noticed, down: {type(err).__name__}, same port {fake.port}, reconnected"


async def check_faults() -> str:
    """Replacement, drop, garbage, oversize, cut: the client notices, the fake keeps serving."""
    async with Fake() as fake:
        results = []

        # a second client replaces the first one
        first_stops = Stops()
        first = make_client(fake.port)
        await first.connect(on_stop=first_stops, login=False)
        since = fake.mark()
        second = make_client(fake.port)
        await second.connect(login=False)
        await fake.expect(
            lambda e: e["event"] == "disconnected" and e["reason"] == "replaced by new connection",
            since=since,
            what="old connection replaced",
        )
        await first_stops.wait("being replaced")
        await second.disconnect()
        results.append("replace")

        for op in ("drop", "garbage", "oversize", "cut"):
            stops = Stops()
            client = make_client(fake.port)
            await connect_and_subscribe(fake, client, STATEFUL_BASIC, stops)
            await fake.op({"op": op})
            await stops.wait(f"the {op} op")
            await client.disconnect(force=True)
            results.append(op)

        # silent drop: fake stops answering, the client's keepalive notices
        stops = Stops()
        client = make_client(fake.port, keepalive=0.5)
        await client.connect(on_stop=stops, login=False)
        await fake.op({"op": "drop", "mode": "silent"})
        await stops.wait("the silent drop")
        results.append("drop silent")

        reply = await fake.op({"op": "garbage"}, ok=False)
        require(reply["event"] == "error", f"garbage without client: {reply}")
        reply = await fake.op(
            {"op": "send", "type": "SensorStateResponse", "fields": {"key": 1003, "state": 5.5}}
        )
        require(reply.get("delivered") is False and reply.get("stored") is True, f"reply {reply}")
        reply = await fake.op({"op": "send", "type": "NoSuchMessage"}, ok=False)
        require(reply["event"] == "error", f"unknown type: {reply}")

        # still serving; the stored state is what a new client sees
        client = make_client(fake.port)
        states = await connect_and_subscribe(fake, client, STATEFUL_BASIC)
        require(
            close(states.get(1003, SensorState).state, 5.5), f"stored state {states.latest[1003]}"
        )
        await client.disconnect()
    return ", ".join(results) + "; op errors without client; still serving"


async def check_raw_robustness() -> str:
    """Junk from a client must not crash the fake."""
    key = base64.b64encode(os.urandom(32)).decode()
    for args in ((), ("--key", key)):
        async with Fake(*args) as fake:
            for junk in (
                b"\xff" * 64,
                b"\x00\xff\xff\xff\xff\xff\xff",
                b"\x01\x00",
                b"\x00\x05\x01ab",
            ):
                _reader, writer = await asyncio.open_connection("127.0.0.1", fake.port)
                writer.write(junk)
                await writer.drain()
                writer.close()
                try:
                    await writer.wait_closed()
                except OSError:
                    pass
            await asyncio.sleep(0.3)
            client = make_client(fake.port, key=key if args else None)
            await client.connect(login=False)
            await client.disconnect()
    return "junk bytes on plaintext and Noise devices; fake kept serving"


CHECKS: list[tuple[str, Callable[[], Awaitable[str]]]] = [
    ("1 plaintext", check_plaintext),
    ("1b all entities", check_all_entities),
    ("2 noise", check_noise),
    ("3 wrong key", check_wrong_key),
    ("4 plaintext client -> encrypted device", check_plaintext_to_encrypted),
    ("5 noise client -> plaintext device", check_noise_to_plaintext),
    ("6 reboot + reconnect", check_reboot),
    ("7 fault ops", check_faults),
    ("8 raw junk", check_raw_robustness),
]


async def main() -> int:
    # aioesphomeapi logs connection errors at WARNING; they are expected here.
    logging.basicConfig(
        level=logging.DEBUG if VERY_VERBOSE else logging.WARNING if VERBOSE else logging.CRITICAL,
        format="    client log: %(message)s",
    )
    return await run_checks(
        f"aioesphomeapi {version('aioesphomeapi')}, python {sys.version.split()[0]}; fake {FAKE}",
        CHECKS,
    )


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

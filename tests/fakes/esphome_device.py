#!/usr/bin/env python3
"""A fake ESPHome device speaking the ESPHome native API (the device is the TCP server).

Messages are aioesphomeapi's generated ``api_pb2`` classes; the Noise transport
(``Noise_NNpsk0_25519_ChaChaPoly_SHA256``, device = responder) uses the
``noiseprotocol`` package that aioesphomeapi depends on.

Controlled by JSON lines on stdin, reports events as JSON lines on stdout.
See README.md next to this file for the CLI and the control protocol.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import re
import socket
import struct
import sys
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar, Unpack

import control
from control import JSONValue, Op, OpError, OpResult, serve

try:
    from aioesphomeapi import api_options_pb2, api_pb2
    from cryptography.exceptions import InvalidTag
    from google.protobuf import json_format
    from google.protobuf.message import DecodeError, Message
    from noise.connection import NoiseConnection
except ImportError as import_err:  # pragma: no cover - environment problem
    sys.stderr.write(
        "esphome_device.py needs aioesphomeapi (and its dependencies protobuf and "
        f"noiseprotocol) installed: {import_err}\n"
        "  e.g. python3 -m venv venv && venv/bin/pip install aioesphomeapi==46.23.0\n"
    )
    sys.exit(2)

API_VERSION_MAJOR = 1
API_VERSION_MINOR = 14
ESPHOME_VERSION = "2026.11.0"
SERVER_INFO = f"fake-esphome {ESPHOME_VERSION}"
NOISE_PROTOCOL = b"Noise_NNpsk0_25519_ChaChaPoly_SHA256"
MAX_PLAINTEXT_FRAME = 1 << 20  # larger frames from a client are a protocol error
CLOSE_LINGER_SECONDS = 1.0  # how long we wait for the peer's FIN after a graceful close

# Messages a client may send before its HelloRequest (ESPHome closes the
# connection on anything else).
PRE_HELLO_ALLOWED = frozenset(
    {
        "HelloRequest",
        "PingRequest",
        "PingResponse",
        "DisconnectRequest",
        "DisconnectResponse",
        "GetTimeResponse",
    }
)


# --------------------------------------------------------------------------
# Message registry (ids from the `id` option of each api_pb2 message)
# --------------------------------------------------------------------------


def _build_registry() -> tuple[dict[int, type[Message]], dict[str, int]]:
    by_id: dict[int, type[Message]] = {}
    ids: dict[str, int] = {}
    for name, desc in api_pb2.DESCRIPTOR.message_types_by_name.items():
        options = desc.GetOptions()
        if not options.HasExtension(api_options_pb2.id):
            continue
        msg_id = options.Extensions[api_options_pb2.id]
        if msg_id == 0:
            continue
        cls: type[Message] = getattr(api_pb2, name)
        by_id[msg_id] = cls
        ids[name] = msg_id
    return by_id, ids


MESSAGES_BY_ID, MESSAGE_IDS = _build_registry()


def message_id(msg: Message) -> int:
    return MESSAGE_IDS[type(msg).DESCRIPTOR.name]


def message_key(msg: Message) -> int | None:
    """The `key` field of an entity's message (info, state, command), else None."""
    key = getattr(msg, "key", None)
    return key if isinstance(key, int) else None


def message_fields(msg: Message) -> dict[str, JSONValue]:
    return json_format.MessageToDict(
        msg,
        preserving_proto_field_name=True,
        always_print_fields_with_no_presence=True,
    )


# --------------------------------------------------------------------------
# Events on stdout
# --------------------------------------------------------------------------


class EventFields(control.EventFields, total=False):
    """The fields of the events this device prints (README.md: which has which)."""

    port: int  # listening
    host: str  # listening
    peer: str  # connected, disconnected: the client's "ip:port"
    reason: str  # disconnected, rejected, handshake_failed, ignored
    type: str  # message, ignored: the api_pb2 message name
    fields: dict[str, JSONValue]  # message: its fields as json_format gives them
    id: int  # unknown_message: the message type id
    data_hex: str  # unknown_message: its payload
    key: int | None  # ignored: the entity key the command names
    delivered: bool  # done of a send op
    stored: bool  # done of a send op


class Event(control.Event, EventFields):
    """An event line of this device as read back (check_esphome_device.py)."""


def emit(event: str, **fields: Unpack[EventFields]) -> None:
    control.emit(event, **fields)


def log(verbose: bool, text: str) -> None:
    if verbose:
        sys.stderr.write(f"[fake-esphome] {text}\n")
        sys.stderr.flush()


# --------------------------------------------------------------------------
# Framing
# --------------------------------------------------------------------------


class ConnectionEnded(Exception):
    """The connection must end; ``str(exc)`` is the reason reported."""


class Rejected(ConnectionEnded):
    """Wrong framing for this device (a reject was sent to the peer)."""


class HandshakeFailed(ConnectionEnded):
    """Noise handshake failed (a handshake reject was sent to the peer)."""


def encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


async def read_varint(reader: asyncio.StreamReader, what: str) -> int:
    result = 0
    for i in range(5):
        byte = (await reader.readexactly(1))[0]
        result |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return result
    raise ConnectionEnded(f"protocol error: {what} varint longer than 5 bytes")


class PlaintextCodec:
    """``0x00, varint length, varint type, payload``."""

    encrypted = False

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self.ready = True

    async def handshake(self, reader: asyncio.StreamReader) -> None:
        return None

    async def read_frame(self, reader: asyncio.StreamReader) -> tuple[int, bytes]:
        indicator = (await reader.readexactly(1))[0]
        if indicator != 0x00:
            # What ESPHome's plaintext helper does: raw 0x00 + text, then close.
            self._writer.write(b"\x00Bad indicator byte")
            raise Rejected("Bad indicator byte")
        length = await read_varint(reader, "length")
        msg_type = await read_varint(reader, "message type")
        if length > MAX_PLAINTEXT_FRAME:
            raise ConnectionEnded(
                f"protocol error: frame of {length} bytes exceeds {MAX_PLAINTEXT_FRAME}"
            )
        return msg_type, await reader.readexactly(length)

    def encode(self, msg_type: int, data: bytes) -> bytes:
        return b"\x00" + encode_varint(len(data)) + encode_varint(msg_type) + data

    def oversize(self) -> bytes:
        # Header claims a 16 MiB SensorStateResponse, followed by a few bytes.
        return b"\x00" + encode_varint(16 * 1024 * 1024) + encode_varint(25) + b"\x0d\x00\x00"


class NoiseCodec:
    """``0x01, u16 BE length, body``; bodies are Noise-encrypted after the handshake."""

    encrypted = True

    def __init__(self, writer: asyncio.StreamWriter, psk: bytes, name: str, mac_hex: str) -> None:
        self._writer = writer
        self._psk = psk
        self._name = name
        self._mac_hex = mac_hex
        self._noise: NoiseConnection | None = None
        self.ready = False

    def _frame(self, body: bytes) -> bytes:
        if len(body) > 0xFFFF:
            raise ValueError(f"noise frame body of {len(body)} bytes does not fit")
        return b"\x01" + struct.pack(">H", len(body)) + body

    async def _read_raw_frame(self, reader: asyncio.StreamReader) -> bytes:
        indicator = (await reader.readexactly(1))[0]
        if indicator != 0x01:
            if not self.ready:
                self._writer.write(self._frame(b"\x01Bad indicator byte"))
                raise Rejected("Bad indicator byte")
            raise ConnectionEnded(f"protocol error: bad indicator byte 0x{indicator:02x}")
        (length,) = struct.unpack(">H", await reader.readexactly(2))
        return await reader.readexactly(length)

    def _fail_handshake(self, reason: str) -> HandshakeFailed:
        self._writer.write(self._frame(b"\x01" + reason.encode()))
        return HandshakeFailed(reason)

    async def handshake(self, reader: asyncio.StreamReader) -> None:
        client_hello = await self._read_raw_frame(reader)
        prologue = b"NoiseAPIInit" + struct.pack(">H", len(client_hello)) + client_hello
        server_hello = b"\x01" + self._name.encode() + b"\x00" + self._mac_hex.encode() + b"\x00"
        self._writer.write(self._frame(server_hello))

        message1 = await self._read_raw_frame(reader)
        if not message1:
            raise self._fail_handshake("Empty handshake message")
        if message1[0] != 0x00:
            raise self._fail_handshake("Bad handshake error byte")
        noise = NoiseConnection.from_name(NOISE_PROTOCOL)
        noise.set_as_responder()
        noise.set_psks(self._psk)
        noise.set_prologue(prologue)
        noise.start_handshake()
        try:
            noise.read_message(message1[1:])
        except InvalidTag:  # wrong PSK (or tampered message)
            raise self._fail_handshake("Handshake MAC failure") from None
        except Exception:  # noqa: BLE001 - malformed handshake message
            raise self._fail_handshake("Handshake error") from None
        message2 = noise.write_message()
        if not noise.handshake_finished:
            raise self._fail_handshake("Handshake error")
        self._writer.write(self._frame(b"\x00" + message2))
        self._noise = noise
        self.ready = True

    async def read_frame(self, reader: asyncio.StreamReader) -> tuple[int, bytes]:
        assert self._noise is not None
        body = await self._read_raw_frame(reader)
        try:
            plain = self._noise.decrypt(body)
        except Exception as err:  # noqa: BLE001
            raise ConnectionEnded(
                f"protocol error: decryption failed ({type(err).__name__})"
            ) from None
        if len(plain) < 4:
            raise ConnectionEnded(f"protocol error: decrypted frame of {len(plain)} bytes")
        msg_type, data_len = struct.unpack(">HH", plain[:4])
        if data_len > len(plain) - 4:
            raise ConnectionEnded(
                f"protocol error: inner length {data_len} exceeds frame ({len(plain) - 4})"
            )
        return msg_type, plain[4 : 4 + data_len]

    def _encrypt_inner(self, inner: bytes) -> bytes:
        assert self._noise is not None, "handshake not complete"
        return self._frame(self._noise.encrypt(inner))

    def encode(self, msg_type: int, data: bytes) -> bytes:
        return self._encrypt_inner(struct.pack(">HH", msg_type, len(data)) + data)

    def oversize(self) -> bytes:
        # A properly encrypted frame whose inner header claims 0xFFFF data bytes
        # around a short SensorStateResponse payload.
        payload = api_pb2.SensorStateResponse(key=1003, state=1.0).SerializeToString()
        return self._encrypt_inner(struct.pack(">HH", 25, 0xFFFF) + payload)


# --------------------------------------------------------------------------
# Entities
# --------------------------------------------------------------------------


class Ignored(Exception):
    """A command the device refuses (like ESPHome: logged, no state change)."""


@dataclass
class Entity:
    key: int
    kind: str
    info: Message
    state: Message | None


M = TypeVar("M", bound=Message)


def _as(msg: Message | None, cls: type[M]) -> M:
    """`msg` (an entity's info or state, a command) as the type its kind has."""
    if not isinstance(msg, cls):
        raise TypeError(f"expected a {cls.DESCRIPTOR.name}, got {type(msg).__name__}")
    return msg


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def build_entities(profile: str) -> dict[int, Entity]:
    p = api_pb2
    entities = [
        Entity(
            1001,
            "switch",
            p.ListEntitiesSwitchResponse(object_id="relay", key=1001, name="Relay"),
            p.SwitchStateResponse(key=1001, state=False),
        ),
        Entity(
            1002,
            "light",
            p.ListEntitiesLightResponse(
                object_id="lamp",
                key=1002,
                name="Lamp",
                supported_color_modes=[p.COLOR_MODE_RGB, p.COLOR_MODE_COLOR_TEMPERATURE],
                min_mireds=153,
                max_mireds=500,
                effects=["None", "Rainbow"],
            ),
            p.LightStateResponse(
                key=1002,
                state=False,
                brightness=0.5,
                color_mode=p.COLOR_MODE_RGB,
                color_brightness=1.0,
                red=1.0,
                green=0.5,
                blue=0.0,
                color_temperature=300,
                effect="None",
            ),
        ),
        Entity(
            1003,
            "sensor",
            p.ListEntitiesSensorResponse(
                object_id="temperature",
                key=1003,
                name="Temperature",
                unit_of_measurement="°C",
                device_class="temperature",
                accuracy_decimals=1,
                state_class=p.STATE_CLASS_MEASUREMENT,
            ),
            p.SensorStateResponse(key=1003, state=21.5),
        ),
        Entity(
            1004,
            "binary_sensor",
            p.ListEntitiesBinarySensorResponse(
                object_id="door", key=1004, name="Door", device_class="door"
            ),
            p.BinarySensorStateResponse(key=1004, state=False),
        ),
        Entity(
            1005,
            "cover",
            p.ListEntitiesCoverResponse(
                object_id="blind",
                key=1005,
                name="Blind",
                supports_position=True,
                supports_tilt=True,
                supports_stop=True,
            ),
            p.CoverStateResponse(
                key=1005,
                legacy_state=p.LEGACY_COVER_STATE_CLOSED,
                position=0.0,
                tilt=0.0,
                current_operation=p.COVER_OPERATION_IDLE,
            ),
        ),
    ]
    if profile == "all":
        entities += [
            Entity(
                1006,
                "text_sensor",
                p.ListEntitiesTextSensorResponse(object_id="status", key=1006, name="Status"),
                p.TextSensorStateResponse(key=1006, state="ok"),
            ),
            Entity(
                1007,
                "fan",
                p.ListEntitiesFanResponse(
                    object_id="fan",
                    key=1007,
                    name="Fan",
                    supports_oscillation=True,
                    supports_speed=True,
                    supports_direction=True,
                    supported_speed_count=3,
                    supported_preset_modes=["Breeze", "Sleep"],
                ),
                p.FanStateResponse(
                    key=1007,
                    state=False,
                    oscillating=False,
                    direction=p.FAN_DIRECTION_FORWARD,
                    speed_level=0,
                ),
            ),
            Entity(
                1008,
                "climate",
                p.ListEntitiesClimateResponse(
                    object_id="thermostat",
                    key=1008,
                    name="Thermostat",
                    supports_current_temperature=True,
                    supports_action=True,
                    feature_flags=(1 << 0) | (1 << 5),  # current temperature | action
                    supported_modes=[
                        p.CLIMATE_MODE_OFF,
                        p.CLIMATE_MODE_HEAT,
                        p.CLIMATE_MODE_COOL,
                        p.CLIMATE_MODE_AUTO,
                    ],
                    supported_fan_modes=[
                        p.CLIMATE_FAN_AUTO,
                        p.CLIMATE_FAN_LOW,
                        p.CLIMATE_FAN_HIGH,
                    ],
                    supported_custom_fan_modes=["Turbo"],
                    supported_swing_modes=[p.CLIMATE_SWING_OFF, p.CLIMATE_SWING_VERTICAL],
                    supported_presets=[p.CLIMATE_PRESET_NONE, p.CLIMATE_PRESET_ECO],
                    visual_min_temperature=5.0,
                    visual_max_temperature=30.0,
                    visual_target_temperature_step=0.5,
                    visual_current_temperature_step=0.1,
                ),
                p.ClimateStateResponse(
                    key=1008,
                    mode=p.CLIMATE_MODE_OFF,
                    current_temperature=20.5,
                    target_temperature=21.0,
                    action=p.CLIMATE_ACTION_OFF,
                    fan_mode=p.CLIMATE_FAN_AUTO,
                    swing_mode=p.CLIMATE_SWING_OFF,
                    preset=p.CLIMATE_PRESET_NONE,
                ),
            ),
            Entity(
                1009,
                "number",
                p.ListEntitiesNumberResponse(
                    object_id="setpoint",
                    key=1009,
                    name="Setpoint",
                    min_value=0.0,
                    max_value=100.0,
                    step=1.0,
                    unit_of_measurement="%",
                ),
                p.NumberStateResponse(key=1009, state=50.0),
            ),
            Entity(
                1010,
                "select",
                p.ListEntitiesSelectResponse(
                    object_id="mode", key=1010, name="Mode", options=["eco", "comfort", "boost"]
                ),
                p.SelectStateResponse(key=1010, state="eco"),
            ),
            Entity(
                1011,
                "button",
                p.ListEntitiesButtonResponse(
                    object_id="restart", key=1011, name="Restart", device_class="restart"
                ),
                None,
            ),
            Entity(
                1012,
                "lock",
                p.ListEntitiesLockResponse(
                    object_id="front_door", key=1012, name="Front Door", supports_open=True
                ),
                p.LockStateResponse(key=1012, state=p.LOCK_STATE_LOCKED),
            ),
            Entity(
                1013,
                "siren",
                p.ListEntitiesSirenResponse(
                    object_id="alarm", key=1013, name="Alarm", tones=["beep", "wail"]
                ),
                p.SirenStateResponse(key=1013, state=False),
            ),
        ]
    return {entity.key: entity for entity in entities}


def _apply_switch(entity: Entity, cmd: api_pb2.SwitchCommandRequest) -> Message:
    return api_pb2.SwitchStateResponse(key=entity.key, state=cmd.state)


def _apply_light(entity: Entity, cmd: api_pb2.LightCommandRequest) -> Message:
    info = _as(entity.info, api_pb2.ListEntitiesLightResponse)
    new = api_pb2.LightStateResponse()
    new.CopyFrom(_as(entity.state, api_pb2.LightStateResponse))
    if cmd.has_color_mode:
        if cmd.color_mode not in info.supported_color_modes:
            raise Ignored(f"color mode {cmd.color_mode} not supported")
        new.color_mode = cmd.color_mode
    if cmd.has_state:
        new.state = cmd.state
    if cmd.has_brightness:
        if cmd.brightness == 0.0:
            new.state = False  # ESPHome: brightness exactly 0 means off
        else:
            new.brightness = _clamp(cmd.brightness, 0.0, 1.0)
    if cmd.has_color_brightness:
        new.color_brightness = _clamp(cmd.color_brightness, 0.0, 1.0)
    if cmd.has_rgb:
        if not cmd.has_color_mode:
            new.color_mode = api_pb2.COLOR_MODE_RGB
        rgb = [_clamp(v, 0.0, 1.0) for v in (cmd.red, cmd.green, cmd.blue)]
        top = max(rgb)
        # ESPHome normalises colours so the largest channel is 1.0.
        rgb = [1.0, 1.0, 1.0] if top == 0.0 else [v / top for v in rgb]
        new.red, new.green, new.blue = rgb
    if cmd.has_color_temperature:
        if not cmd.has_color_mode and not cmd.has_rgb:
            new.color_mode = api_pb2.COLOR_MODE_COLOR_TEMPERATURE
        new.color_temperature = _clamp(cmd.color_temperature, info.min_mireds, info.max_mireds)
    if cmd.has_effect:
        matches = [e for e in info.effects if e.lower() == cmd.effect.lower()]
        if matches:
            new.effect = matches[0]
        else:
            emit("ignored", key=entity.key, reason=f"no such effect {cmd.effect!r}")
    if cmd.has_state and not cmd.state:
        new.effect = "None"  # turning off stops the effect
    return new


def _apply_cover(entity: Entity, cmd: api_pb2.CoverCommandRequest) -> Message:
    new = api_pb2.CoverStateResponse()
    new.CopyFrom(_as(entity.state, api_pb2.CoverStateResponse))
    if cmd.has_legacy_command:
        if cmd.legacy_command == api_pb2.LEGACY_COVER_COMMAND_OPEN:
            new.position = 1.0
        elif cmd.legacy_command == api_pb2.LEGACY_COVER_COMMAND_CLOSE:
            new.position = 0.0
    if cmd.has_position:
        new.position = _clamp(cmd.position, 0.0, 1.0)
    if cmd.has_tilt:
        new.tilt = _clamp(cmd.tilt, 0.0, 1.0)
    if cmd.toggle:
        new.position = 0.0 if new.position > 0.0 else 1.0
    # Moves instantly; stop therefore just confirms IDLE.
    new.current_operation = api_pb2.COVER_OPERATION_IDLE
    new.legacy_state = (
        api_pb2.LEGACY_COVER_STATE_OPEN if new.position > 0.0 else api_pb2.LEGACY_COVER_STATE_CLOSED
    )
    return new


def _apply_fan(entity: Entity, cmd: api_pb2.FanCommandRequest) -> Message:
    count = _as(entity.info, api_pb2.ListEntitiesFanResponse).supported_speed_count
    new = api_pb2.FanStateResponse()
    new.CopyFrom(_as(entity.state, api_pb2.FanStateResponse))
    if cmd.has_state:
        if cmd.state and not new.state and new.speed_level == 0 and not cmd.has_speed_level:
            new.speed_level = count  # ESPHome: turning on from speed 0 goes to 100%
        new.state = cmd.state
    if cmd.has_speed_level:
        new.speed_level = int(_clamp(cmd.speed_level, 1, count))
    if cmd.has_oscillating:
        new.oscillating = cmd.oscillating
    if cmd.has_direction:
        new.direction = cmd.direction
    if cmd.has_preset_mode:
        presets = _as(entity.info, api_pb2.ListEntitiesFanResponse).supported_preset_modes
        if cmd.preset_mode and cmd.preset_mode not in presets:
            raise Ignored(f"no such preset mode {cmd.preset_mode!r}")
        new.preset_mode = cmd.preset_mode
    return new


def _apply_climate(entity: Entity, cmd: api_pb2.ClimateCommandRequest) -> Message:
    p = api_pb2
    info = _as(entity.info, p.ListEntitiesClimateResponse)
    new = p.ClimateStateResponse()
    new.CopyFrom(_as(entity.state, p.ClimateStateResponse))
    if cmd.has_mode:
        if cmd.mode not in info.supported_modes:
            raise Ignored(f"climate mode {cmd.mode} not supported")
        new.mode = cmd.mode
    if cmd.has_target_temperature:
        new.target_temperature = cmd.target_temperature
    if cmd.has_target_temperature_low:
        new.target_temperature_low = cmd.target_temperature_low
    if cmd.has_target_temperature_high:
        new.target_temperature_high = cmd.target_temperature_high
    # As ESPHome's climate does: an enum fan mode or preset clears the custom
    # one, and the other way round.
    if cmd.has_fan_mode:
        if cmd.fan_mode not in info.supported_fan_modes:
            raise Ignored(f"fan mode {cmd.fan_mode} not supported")
        new.fan_mode, new.custom_fan_mode = cmd.fan_mode, ""
    if cmd.has_custom_fan_mode:
        if cmd.custom_fan_mode not in info.supported_custom_fan_modes:
            raise Ignored(f"custom fan mode {cmd.custom_fan_mode!r} not supported")
        new.custom_fan_mode = cmd.custom_fan_mode
    if cmd.has_swing_mode:
        if cmd.swing_mode not in info.supported_swing_modes:
            raise Ignored(f"swing mode {cmd.swing_mode} not supported")
        new.swing_mode = cmd.swing_mode
    if cmd.has_preset:
        if cmd.preset not in info.supported_presets:
            raise Ignored(f"preset {cmd.preset} not supported")
        new.preset, new.custom_preset = cmd.preset, ""
    current, target = new.current_temperature, new.target_temperature
    if new.mode == p.CLIMATE_MODE_OFF:
        new.action = p.CLIMATE_ACTION_OFF
    elif new.mode == p.CLIMATE_MODE_HEAT:
        new.action = p.CLIMATE_ACTION_HEATING if current < target else p.CLIMATE_ACTION_IDLE
    elif new.mode == p.CLIMATE_MODE_COOL:
        new.action = p.CLIMATE_ACTION_COOLING if current > target else p.CLIMATE_ACTION_IDLE
    else:
        new.action = p.CLIMATE_ACTION_IDLE
    return new


def _apply_number(entity: Entity, cmd: api_pb2.NumberCommandRequest) -> Message:
    info = _as(entity.info, api_pb2.ListEntitiesNumberResponse)
    if not info.min_value <= cmd.state <= info.max_value:
        raise Ignored(f"value {cmd.state} outside {info.min_value}..{info.max_value}")
    return api_pb2.NumberStateResponse(key=entity.key, state=cmd.state)


def _apply_select(entity: Entity, cmd: api_pb2.SelectCommandRequest) -> Message:
    options = _as(entity.info, api_pb2.ListEntitiesSelectResponse).options
    if cmd.state not in options:
        raise Ignored(f"option {cmd.state!r} not in {list(options)}")
    return api_pb2.SelectStateResponse(key=entity.key, state=cmd.state)


def _apply_button(entity: Entity, cmd: api_pb2.ButtonCommandRequest) -> None:
    return None


def _apply_lock(entity: Entity, cmd: api_pb2.LockCommandRequest) -> Message:
    p = api_pb2
    info = _as(entity.info, p.ListEntitiesLockResponse)
    if cmd.command == p.LOCK_LOCK:
        state = p.LOCK_STATE_LOCKED
    elif cmd.command == p.LOCK_UNLOCK:
        state = p.LOCK_STATE_UNLOCKED
    elif cmd.command == p.LOCK_OPEN and info.supports_open:
        state = p.LOCK_STATE_OPEN
    else:
        raise Ignored(f"lock command {cmd.command} not supported")
    return p.LockStateResponse(key=entity.key, state=state)


def _apply_siren(entity: Entity, cmd: api_pb2.SirenCommandRequest) -> Message:
    new = api_pb2.SirenStateResponse()
    new.CopyFrom(_as(entity.state, api_pb2.SirenStateResponse))
    if cmd.has_state:
        new.state = cmd.state
    return new


C = TypeVar("C", bound=Message)


class CommandHandler(Protocol):
    """Carries out one command message type on an entity of one kind."""

    @property
    def kind(self) -> str: ...

    def apply(self, entity: Entity, cmd: Message) -> Message | None:
        """The entity's new state (None: no state change), or raises Ignored."""
        ...


@dataclass(frozen=True)
class Command(Generic[C]):
    """A command message type, the entity kind it addresses, its apply function."""

    kind: str
    message: type[C]
    apply_to: Callable[[Entity, C], Message | None]

    def apply(self, entity: Entity, cmd: Message) -> Message | None:
        return self.apply_to(entity, _as(cmd, self.message))


# command message name -> (entity kind, message type, apply function)
COMMANDS: dict[str, CommandHandler] = {
    "SwitchCommandRequest": Command("switch", api_pb2.SwitchCommandRequest, _apply_switch),
    "LightCommandRequest": Command("light", api_pb2.LightCommandRequest, _apply_light),
    "CoverCommandRequest": Command("cover", api_pb2.CoverCommandRequest, _apply_cover),
    "FanCommandRequest": Command("fan", api_pb2.FanCommandRequest, _apply_fan),
    "ClimateCommandRequest": Command("climate", api_pb2.ClimateCommandRequest, _apply_climate),
    "NumberCommandRequest": Command("number", api_pb2.NumberCommandRequest, _apply_number),
    "SelectCommandRequest": Command("select", api_pb2.SelectCommandRequest, _apply_select),
    "ButtonCommandRequest": Command("button", api_pb2.ButtonCommandRequest, _apply_button),
    "LockCommandRequest": Command("lock", api_pb2.LockCommandRequest, _apply_lock),
    "SirenCommandRequest": Command("siren", api_pb2.SirenCommandRequest, _apply_siren),
}


# --------------------------------------------------------------------------
# One client connection
# --------------------------------------------------------------------------


class ClientConnection:
    def __init__(
        self,
        device: FakeDevice,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.device = device
        self.reader = reader
        self.writer = writer
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if peer else "?"
        self.codec: PlaintextCodec | NoiseCodec = (
            NoiseCodec(writer, device.psk, device.name, device.mac_hex)
            if device.psk is not None
            else PlaintextCodec(writer)
        )
        self.closed = False
        self.hello_done = False
        self.subscribed = False
        self.time_requested = False
        self.task: asyncio.Task[None] | None = None
        self.ping_task: asyncio.Task[None] | None = None

    # -- sending ---------------------------------------------------------

    @property
    def usable(self) -> bool:
        """Handshake done and still open: ops may write to it."""
        return not self.closed and self.codec.ready and not self.writer.transport.is_closing()

    def write_raw(self, data: bytes) -> None:
        if self.closed or self.writer.transport.is_closing():
            raise ConnectionEnded("write on a closed connection")
        self.writer.write(data)

    def send(self, msg: Message) -> None:
        data = msg.SerializeToString()
        log(self.device.verbose, f"-> {type(msg).DESCRIPTOR.name} {message_fields(msg)}")
        self.write_raw(self.codec.encode(message_id(msg), data))

    # -- lifecycle -------------------------------------------------------

    def _finish(self, reason: str) -> bool:
        """Mark closed and report; False if it was already closed."""
        if self.closed:
            return False
        self.closed = True
        if self.ping_task is not None:
            self.ping_task.cancel()
        emit("disconnected", reason=reason, peer=self.peer)
        return True

    def close(self, reason: str, *, reset: bool = False) -> None:
        """Close from our side (ops, replacement, reboot)."""
        if not self._finish(reason):
            return
        transport = self.writer.transport
        if reset:
            sock = self.writer.get_extra_info("socket")
            if sock is not None:
                try:
                    # SO_LINGER 0: the close sends an RST instead of a FIN.
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                except OSError:
                    pass
            transport.abort()
        else:
            transport.close()
        if self.task is not None and self.task is not asyncio.current_task():
            self.task.cancel()

    def silence(self) -> None:
        """Stop reading and writing but leave the TCP connection open (a dead link)."""
        if not self._finish("silenced (drop op)"):
            return
        transport = self.writer.transport
        # A TCP stream's transport reads too (typeshed types it as write-only).
        assert isinstance(transport, asyncio.ReadTransport)
        transport.pause_reading()

    async def _linger_close(self) -> None:
        """Half-close, give the peer a moment to read our last bytes and hang up."""
        transport = self.writer.transport
        try:
            if transport.can_write_eof():
                transport.write_eof()
            async with asyncio.timeout(CLOSE_LINGER_SECONDS):
                while await self.reader.read(4096):
                    pass
        except (TimeoutError, OSError, asyncio.IncompleteReadError):
            pass
        finally:
            transport.close()

    async def run(self) -> None:
        reason = "closed"
        try:
            await self.codec.handshake(self.reader)
            while not self.closed:
                msg_type, data = await self.codec.read_frame(self.reader)
                self.handle(msg_type, data)
        except Rejected as err:
            reason = f"rejected: {err}"
            emit("rejected", reason=str(err))
        except HandshakeFailed as err:
            reason = f"handshake failed: {err}"
            emit("handshake_failed", reason=str(err))
        except ConnectionEnded as err:
            reason = str(err)
        except asyncio.IncompleteReadError as err:
            reason = "client closed the connection" + (" mid-frame" if err.partial else "")
        except ConnectionResetError:
            reason = "connection reset by peer"
        except OSError as err:
            reason = f"socket error: {err}"
        except asyncio.CancelledError:
            reason = "cancelled"
            if self.closed:
                return
        except Exception as err:  # noqa: BLE001 - never let a client crash the fake
            traceback.print_exc(file=sys.stderr)
            reason = f"internal error: {type(err).__name__}: {err}"
        if self._finish(reason):
            await self._linger_close()

    # -- receiving -------------------------------------------------------

    def handle(self, msg_type: int, data: bytes) -> None:
        cls = MESSAGES_BY_ID.get(msg_type)
        if cls is None:
            # ESPHome ignores message types it does not know.
            emit("unknown_message", id=msg_type, data_hex=data.hex())
            return
        msg = cls()
        name = cls.DESCRIPTOR.name
        try:
            msg.ParseFromString(data)
        except DecodeError as err:
            raise ConnectionEnded(f"protocol error: undecodable {name}: {err}") from None
        log(self.device.verbose, f"<- {name} {message_fields(msg)}")
        emit("message", type=name, fields=message_fields(msg))
        if not self.hello_done and name not in PRE_HELLO_ALLOWED:
            raise ConnectionEnded(f"protocol error: {name} before HelloRequest")
        handler = getattr(self, f"_on_{name}", None)
        if handler is not None:
            handler(msg)
        elif name in COMMANDS:
            self.device.apply_command(name, msg)

    def _on_HelloRequest(self, msg: api_pb2.HelloRequest) -> None:
        device = self.device
        self.send(
            api_pb2.HelloResponse(
                api_version_major=API_VERSION_MAJOR,
                api_version_minor=API_VERSION_MINOR,
                server_info=SERVER_INFO,
                name=device.name,
            )
        )
        if not self.hello_done:
            self.hello_done = True
            if device.ping_interval > 0:
                self.ping_task = asyncio.get_running_loop().create_task(self._ping_loop())

    def _on_DeviceInfoRequest(self, msg: api_pb2.DeviceInfoRequest) -> None:
        device = self.device
        self.send(
            api_pb2.DeviceInfoResponse(
                name=device.name,
                friendly_name=device.friendly_name,
                mac_address=device.mac,
                esphome_version=ESPHOME_VERSION,
                compilation_time="Nov 21 2026, 00:00:00",
                model="fake-esp32",
                manufacturer="Espressif",
                api_encryption_supported=device.psk is not None,
            )
        )

    def _on_ListEntitiesRequest(self, msg: api_pb2.ListEntitiesRequest) -> None:
        for entity in self.device.entities.values():
            self.send(entity.info)
        self.send(api_pb2.ListEntitiesDoneResponse())

    def _on_SubscribeStatesRequest(self, msg: api_pb2.SubscribeStatesRequest) -> None:
        self.subscribed = True
        for entity in self.device.entities.values():
            if entity.state is not None:
                self.send(entity.state)
        if not self.time_requested:
            self.time_requested = True
            self.send(api_pb2.GetTimeRequest())

    def _on_PingRequest(self, msg: api_pb2.PingRequest) -> None:
        self.send(api_pb2.PingResponse())

    def _on_DisconnectRequest(self, msg: api_pb2.DisconnectRequest) -> None:
        self.send(api_pb2.DisconnectResponse())
        raise ConnectionEnded("DisconnectRequest from client")

    async def _ping_loop(self) -> None:
        interval = self.device.ping_interval
        while not self.closed:
            await asyncio.sleep(interval)
            if self.usable:
                self.send(api_pb2.PingRequest())


# --------------------------------------------------------------------------
# The device
# --------------------------------------------------------------------------


class FakeDevice:
    def __init__(self, args: argparse.Namespace) -> None:
        self.host: str = args.host
        self.port: int = args.port
        self.name: str = args.name
        self.friendly_name: str = args.friendly_name or args.name
        self.mac: str = args.mac
        # Server hello carries the MAC like ESPHome's get_mac_address():
        # 12 lower-case hex digits, no separators.
        self.mac_hex: str = args.mac.replace(":", "").lower()
        self.psk: bytes | None = args.psk
        self.ping_interval: float = args.ping_interval
        self.verbose: bool = args.verbose
        self.entities = build_entities(args.entities)
        self.server: asyncio.Server | None = None
        self.client: ClientConnection | None = None

    # -- listening -------------------------------------------------------

    async def listen(self) -> None:
        self.server = await asyncio.start_server(
            self._on_client, self.host, self.port, reuse_address=True
        )
        self.port = self.server.sockets[0].getsockname()[1]
        emit("listening", port=self.port, host=self.host)

    async def stop_listening(self) -> None:
        """Close the listening socket (call close_client() before awaiting this)."""
        server, self.server = self.server, None
        if server is not None:
            server.close()
            try:
                # Since Python 3.12 this also waits for the connection handlers.
                async with asyncio.timeout(2):
                    await server.wait_closed()
            except TimeoutError:
                pass

    def close_client(self, reason: str, *, reset: bool = False, graceful: bool = False) -> None:
        conn, self.client = self.client, None
        if conn is None:
            return
        if conn.closed:
            conn.writer.transport.abort()  # silenced: still open at the TCP level
        elif graceful and conn.usable:
            # Like ESPHome's safe shutdown: tell the client, then close.
            conn.send(api_pb2.DisconnectRequest())
            conn.close(reason)
        else:
            conn.close(reason, reset=reset)

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # One client at a time, like ESPHome when the same client reconnects.
        self.close_client("replaced by new connection")
        conn = ClientConnection(self, reader, writer)
        conn.task = asyncio.current_task()
        self.client = conn
        emit("connected", peer=conn.peer)
        try:
            await conn.run()
        finally:
            if self.client is conn:
                self.client = None

    def current_client(self) -> ClientConnection:
        conn = self.client
        if conn is None or not conn.usable:
            raise OpError("no client connected")
        return conn

    # -- state -----------------------------------------------------------

    def store_state(self, msg: Message) -> bool:
        """Remember a state message for its entity; True if it matched one."""
        key = message_key(msg)
        entity = self.entities.get(key) if key is not None else None
        if entity is None or entity.state is None or type(entity.state) is not type(msg):
            return False
        stored = type(msg)()
        stored.CopyFrom(msg)
        entity.state = stored
        return True

    def apply_command(self, name: str, cmd: Message) -> None:
        command = COMMANDS[name]
        key = message_key(cmd)
        entity = self.entities.get(key) if key is not None else None
        if entity is None or entity.kind != command.kind:
            emit("ignored", type=name, key=key, reason=f"no {command.kind} with key {key}")
            return
        try:
            new_state = command.apply(entity, cmd)
        except Ignored as err:
            emit("ignored", type=name, key=key, reason=str(err))
            return
        if new_state is None:
            return
        entity.state = new_state
        conn = self.client
        if conn is not None and conn.usable and conn.subscribed:
            conn.send(new_state)

    # -- control ops -----------------------------------------------------

    async def run_op(self, op: Op) -> OpResult:
        name = op.get("op")
        handler: Callable[[Op], Awaitable[OpResult | None]] | None = (
            getattr(self, f"_op_{name}", None) if isinstance(name, str) else None
        )
        if handler is None:
            raise OpError(f"unknown op {name!r}")
        return await handler(op) or {}

    async def _op_send(self, op: Op) -> OpResult:
        type_name = op.get("type")
        if not isinstance(type_name, str) or type_name not in MESSAGE_IDS:
            raise OpError(f"unknown message type {type_name!r} (use an api_pb2 message name)")
        fields = op.get("fields", {})
        if not isinstance(fields, dict):
            raise OpError("'fields' must be an object")
        msg = MESSAGES_BY_ID[MESSAGE_IDS[type_name]]()
        try:
            json_format.ParseDict(fields, msg)
        except json_format.ParseError as err:
            raise OpError(f"bad fields for {type_name}: {err}") from None
        stored = self.store_state(msg)
        conn = self.client
        if conn is None or not conn.usable:
            if stored:
                return {"delivered": False, "stored": True}
            raise OpError("no client connected")
        conn.send(msg)
        return {"delivered": True, "stored": stored}

    async def _op_drop(self, op: Op) -> None:
        conn = self.current_client()
        if op.get("mode", "reset") == "silent":
            conn.silence()
        else:
            conn.close("dropped (drop op)", reset=True)

    async def _op_reboot(self, op: Op) -> None:
        down_ms = op.get("down_ms", 1000)
        if not isinstance(down_ms, (int, float)) or down_ms < 0:
            raise OpError("'down_ms' must be a non-negative number")
        graceful = bool(op.get("graceful", False))
        if self.server is not None:
            self.server.close()  # stop accepting first
        self.close_client("reboot", reset=not graceful, graceful=graceful)
        await self.stop_listening()
        await asyncio.sleep(down_ms / 1000)
        await self.listen()

    async def _op_garbage(self, op: Op) -> None:
        self.current_client_raw().write_raw(b"\xff" * 64)

    async def _op_oversize(self, op: Op) -> None:
        conn = self.current_client()
        conn.write_raw(conn.codec.oversize())

    async def _op_cut(self, op: Op) -> None:
        conn = self.current_client()
        entity = self.entities.get(1003) or next(
            e for e in self.entities.values() if e.state is not None
        )
        assert entity.state is not None
        frame = conn.codec.encode(message_id(entity.state), entity.state.SerializeToString())
        conn.write_raw(frame[: len(frame) // 2])
        conn.close("cut (cut op)")

    async def _op_quit(self, op: Op) -> None:
        return None

    def current_client_raw(self) -> ClientConnection:
        """Like current_client, but garbage may also go to a client mid-handshake."""
        conn = self.client
        if conn is None or conn.closed or conn.writer.transport.is_closing():
            raise OpError("no client connected")
        return conn

    async def shutdown(self) -> None:
        if self.server is not None:
            self.server.close()
        self.close_client("fake device exiting")
        await self.stop_listening()


# --------------------------------------------------------------------------
# stdin control loop
# --------------------------------------------------------------------------


async def amain(args: argparse.Namespace) -> int:
    device = FakeDevice(args)
    try:
        await device.listen()
    except OSError as err:
        emit("error", op=None, message=f"cannot listen on {args.host}:{args.port}: {err}")
        return 1
    try:
        await serve(device.run_op)
    finally:
        await device.shutdown()
    return 0


MAC_RE = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Fake ESPHome native-API device for tests.")
    parser.add_argument("--port", type=int, default=0, help="TCP port, 0 = pick a free one")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--name", default="fake-esphome", help="device name (hello, device info)")
    parser.add_argument("--mac", default="AA:BB:CC:DD:EE:FF", help="MAC as AA:BB:CC:DD:EE:FF")
    parser.add_argument("--friendly-name", default=None)
    parser.add_argument(
        "--key", default=None, help="base64 32-byte Noise PSK; encrypted device (Noise only)"
    )
    parser.add_argument("--entities", choices=("basic", "all"), default="basic")
    parser.add_argument(
        "--ping-interval",
        type=float,
        default=0.0,
        help="seconds between device-initiated PingRequests, 0 = never",
    )
    parser.add_argument("--verbose", action="store_true", help="log every message to stderr")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port} out of range")
    if not MAC_RE.match(args.mac):
        parser.error(f"--mac {args.mac!r} is not like AA:BB:CC:DD:EE:FF")
    args.mac = args.mac.upper()
    if args.ping_interval < 0:
        parser.error("--ping-interval must be >= 0")
    args.psk = None
    if args.key is not None:
        try:
            psk = base64.b64decode(args.key, validate=True)
        except binascii.Error as err:
            parser.error(f"--key is not valid base64: {err}")
        if len(psk) != 32:
            parser.error(f"--key must decode to 32 bytes, got {len(psk)}")
        args.psk = psk
    return args


def main() -> int:
    args = parse_args()
    try:
        return asyncio.run(amain(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())

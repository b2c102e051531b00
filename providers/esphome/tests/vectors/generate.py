#!/usr/bin/env python3
"""Writes the ESPHome API test vectors checked by `tests/proto_vectors.rs`.

The vectors come from the peer's own definitions: aioesphomeapi's generated
`api_pb2` (ESPHome's `api.proto`), not from our Rust structs. For each message
the provider handles, one instance with every field set to a non-default value
(repeated fields with two entries, nested messages filled in) is written as

- `<MessageName>.bin`:  `SerializeToString(deterministic=True)`;
- `<MessageName>.json`: `json_format.MessageToDict(preserving_proto_field_name=True)`.

`schema.json` records what the Rust test needs to judge them: the id of every
message aioesphomeapi knows (for `message_name`), each vector message's id,
direction (`source`) and fields (number, type, enum or message type, repeated,
deprecated), the values of every enum those fields use, and the versions used.

Run from anywhere with a Python that has aioesphomeapi installed:

    python providers/esphome/tests/vectors/generate.py

It replaces the `.bin`/`.json` files in its own directory. The output is
deterministic for a given aioesphomeapi/protobuf version.
"""

from __future__ import annotations

import json
import pathlib
from importlib.metadata import version
from typing import TYPE_CHECKING, TypeAlias

from aioesphomeapi import api_options_pb2, api_pb2, core
from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor as F
from google.protobuf.message import Message

if TYPE_CHECKING:
    from google._upb._message import FieldDescriptor as UpbFieldDescriptor

    # A message's field: protobuf's upb (C) backend has its own descriptor class.
    Field: TypeAlias = F | UpbFieldDescriptor

# A field value scalar() makes.
Scalar: TypeAlias = str | bytes | bool | int | float

OUT = pathlib.Path(__file__).resolve().parent

# The messages the provider defines in src/api/proto.rs.
MESSAGES = [
    "HelloRequest",
    "HelloResponse",
    "DisconnectRequest",
    "DisconnectResponse",
    "PingRequest",
    "PingResponse",
    "DeviceInfoRequest",
    "DeviceInfoResponse",
    "ListEntitiesRequest",
    "ListEntitiesDoneResponse",
    "SubscribeStatesRequest",
    "GetTimeRequest",
    "GetTimeResponse",
    "ListEntitiesBinarySensorResponse",
    "BinarySensorStateResponse",
    "ListEntitiesSensorResponse",
    "SensorStateResponse",
    "ListEntitiesTextSensorResponse",
    "TextSensorStateResponse",
    "ListEntitiesSwitchResponse",
    "SwitchStateResponse",
    "SwitchCommandRequest",
    "ListEntitiesLightResponse",
    "LightStateResponse",
    "LightCommandRequest",
    "ListEntitiesCoverResponse",
    "CoverStateResponse",
    "CoverCommandRequest",
    "ListEntitiesFanResponse",
    "FanStateResponse",
    "FanCommandRequest",
    "ListEntitiesClimateResponse",
    "ClimateStateResponse",
    "ClimateCommandRequest",
    "ListEntitiesNumberResponse",
    "NumberStateResponse",
    "NumberCommandRequest",
    "ListEntitiesSelectResponse",
    "SelectStateResponse",
    "SelectCommandRequest",
    "ListEntitiesButtonResponse",
    "ButtonCommandRequest",
    "ListEntitiesLockResponse",
    "LockStateResponse",
    "LockCommandRequest",
]

TYPE_NAMES = {
    F.TYPE_DOUBLE: "double",
    F.TYPE_FLOAT: "float",
    F.TYPE_INT64: "int64",
    F.TYPE_UINT64: "uint64",
    F.TYPE_INT32: "int32",
    F.TYPE_FIXED64: "fixed64",
    F.TYPE_FIXED32: "fixed32",
    F.TYPE_BOOL: "bool",
    F.TYPE_STRING: "string",
    F.TYPE_MESSAGE: "message",
    F.TYPE_BYTES: "bytes",
    F.TYPE_UINT32: "uint32",
    F.TYPE_ENUM: "enum",
    F.TYPE_SFIXED32: "sfixed32",
    F.TYPE_SFIXED64: "sfixed64",
    F.TYPE_SINT32: "sint32",
    F.TYPE_SINT64: "sint64",
}


def scalar(field: Field, i: int) -> Scalar:
    """A non-default value for `field`; `i` (0 or 1) varies repeated entries.

    Values are chosen to exercise the encoding: multi-byte varints, fixed32
    values above i32::MAX, negative int32 (10-byte varints), non-ASCII text,
    and floats that are exact in binary so JSON comparisons are exact.
    """
    n = field.number
    t = field.type
    if t == F.TYPE_STRING:
        return f"{field.name} ü{n}.{i}"
    if t == F.TYPE_BYTES:
        return bytes([n, i, 0xFF])
    if t == F.TYPE_BOOL:
        return True
    if t == F.TYPE_FIXED32:
        return 0xC0FFEE00 + n + i
    if t in (F.TYPE_UINT32, F.TYPE_UINT64, F.TYPE_FIXED64):
        return 300 * n + 7 + i
    signed = (
        F.TYPE_INT32,
        F.TYPE_INT64,
        F.TYPE_SINT32,
        F.TYPE_SINT64,
        F.TYPE_SFIXED32,
        F.TYPE_SFIXED64,
    )
    if t in signed:
        return -(n + 2 + i)
    if t in (F.TYPE_FLOAT, F.TYPE_DOUBLE):
        sign = -1 if n % 2 else 1
        return sign * (n + 0.25 + 0.5 * i)
    if t == F.TYPE_ENUM and field.enum_type is not None:
        # The last values, so that they are not the default (0).
        values = field.enum_type.values
        return values[len(values) - 1 - i].number
    raise ValueError(f"unhandled type {t} of {field.full_name}")


def fill(msg: Message) -> Message:
    for field in msg.DESCRIPTOR.fields:
        if field.type == F.TYPE_MESSAGE:
            if field.is_repeated:
                for _ in range(2):
                    fill(getattr(msg, field.name).add())
            else:
                fill(getattr(msg, field.name))
        elif field.is_repeated:
            getattr(msg, field.name).extend(scalar(field, i) for i in range(2))
        else:
            setattr(msg, field.name, scalar(field, 0))
    return msg


def field_schema(field: Field) -> dict[str, str | int | bool]:
    out: dict[str, str | int | bool] = {
        "number": field.number,
        "type": TYPE_NAMES[field.type],
        "repeated": field.is_repeated,
        "deprecated": field.GetOptions().deprecated,
    }
    # (enum_type and message_type are set exactly for fields of those types)
    if field.type == F.TYPE_ENUM and field.enum_type is not None:
        out["enum"] = field.enum_type.name
    if field.type == F.TYPE_MESSAGE and field.message_type is not None:
        out["message"] = field.message_type.name
    return out


def main() -> None:
    for old in list(OUT.glob("*.bin")) + list(OUT.glob("*.json")):
        old.unlink()
    ids = {v.__name__: k for k, v in core.MESSAGE_TYPE_TO_PROTO.items()}
    messages = {}
    for name in MESSAGES:
        cls = getattr(api_pb2, name)
        msg = fill(cls())
        as_dict = json_format.MessageToDict(msg, preserving_proto_field_name=True)
        missing = [f.name for f in cls.DESCRIPTOR.fields if f.name not in as_dict]
        assert not missing, f"{name}: fields left at their default: {missing}"
        (OUT / f"{name}.bin").write_bytes(msg.SerializeToString(deterministic=True))
        (OUT / f"{name}.json").write_text(json.dumps(as_dict, indent=2, ensure_ascii=False) + "\n")
        source = cls.DESCRIPTOR.GetOptions().Extensions[api_options_pb2.source]
        messages[name] = {
            "id": ids[name],
            "source": api_options_pb2.APISourceType.Name(source),
            "fields": {f.name: field_schema(f) for f in cls.DESCRIPTOR.fields},
        }
    used = sorted(
        {
            f.enum_type.name
            for name in MESSAGES
            for f in getattr(api_pb2, name).DESCRIPTOR.fields
            if f.type == F.TYPE_ENUM
        }
    )
    enums = {}
    for name in used:
        enums[name] = {v.name: v.number for v in api_pb2.DESCRIPTOR.enum_types_by_name[name].values}
    schema = {
        "generated_by": "tests/vectors/generate.py",
        "aioesphomeapi": version("aioesphomeapi"),
        "protobuf": version("protobuf"),
        "ids": {str(k): v.__name__ for k, v in sorted(core.MESSAGE_TYPE_TO_PROTO.items())},
        "messages": messages,
        "enums": enums,
    }
    (OUT / "schema.json").write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {len(MESSAGES)} vectors and schema.json to {OUT}")


if __name__ == "__main__":
    main()

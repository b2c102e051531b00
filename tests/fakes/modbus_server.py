#!/usr/bin/env python3
"""A fake Modbus RTU bus: pymodbus's own serial RTU server on one end of a pty.

The wire side is pymodbus (``ModbusSerialServer``, its RTU framer, its request
decoding and response encoding). Only the datastore is ours: every unit id
given with ``--unit`` gets four sparse tables (holding, input, coils, discrete
inputs), each addressable 0..=65535 by *protocol* address, all zero at start.
Requests for other unit ids get no answer at all, as on a real RS-485 bus.

Controlled by JSON lines on stdin, reports events as JSON lines on stdout.
See README.md next to this file for the CLI and the control protocol.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import struct
import sys
import termios
import time
import traceback
from collections.abc import Callable, Sequence
from typing import TypedDict, Unpack

import control
from control import Op, OpError, OpResult, serve

try:
    import pymodbus
    import serial
    from pymodbus.constants import ExcCodes
    from pymodbus.datastore import ModbusServerContext
    from pymodbus.exceptions import ModbusIOException, NoSuchIdException
    from pymodbus.framer import FramerType
    from pymodbus.framer.rtu import FramerRTU
    from pymodbus.pdu import ExceptionResponse
    from pymodbus.server import ModbusSerialServer
    from pymodbus.server.requesthandler import ServerRequestHandler
    from pymodbus.transaction import TransactionManager
except ImportError as import_err:  # pragma: no cover - environment problem
    sys.stderr.write(
        f"modbus_server.py needs pymodbus 3.x and pyserial installed: {import_err}\n"
        "  e.g. python3 -m venv venv && venv/bin/pip install pymodbus==3.16.1 pyserial==3.5\n"
    )
    sys.exit(2)

ADDRESS_SPACE = 0x10000  # protocol addresses 0..=65535
KINDS = ("holding", "input", "coil", "discrete")
BIT_KINDS = frozenset({"coil", "discrete"})
REGISTER_KINDS = frozenset({"holding", "input"})
# Function code -> table it touches (the codes pymodbus's PDUs hand to a datastore).
FC_TABLE = {
    1: "coil",
    2: "discrete",
    3: "holding",
    4: "input",
    5: "coil",
    6: "holding",
    15: "coil",
    16: "holding",
    22: "holding",  # mask write register
    23: "holding",  # read/write multiple registers
}
# Convenience encoders: op -> (struct format of one value, words).
ENCODERS = {
    "set_i16": ("h", 1),
    "set_u16": ("H", 1),
    "set_i32": ("i", 2),
    "set_u32": ("I", 2),
    "set_f32": ("f", 2),
    "set_i64": ("q", 4),
    "set_u64": ("Q", 4),
    "set_f64": ("d", 4),
}
OPEN_RETRY_SECONDS = 0.05
CONNECT_WAIT_SECONDS = 2.0


# --------------------------------------------------------------------------
# Events on stdout
# --------------------------------------------------------------------------


class EventFields(control.EventFields, total=False):
    """The fields of the events this bus prints (README.md: which has which)."""

    port: str  # listening, port_lost: the serial device
    units: list[int]  # listening: the unit ids served
    line: str  # listening: line settings in use, e.g. "9600 8N1"
    requested_line: str  # listening: the settings asked for, when the port refused them
    unit: int  # write
    kind: str  # write: holding or coil
    address: int  # write: the first protocol address
    values: list[int] | list[bool]  # write; done of get and set_*
    function: int  # write: the request's function code


class Event(control.Event, EventFields):
    """An event line of this bus as read back (check_modbus_server.py)."""


def emit(event: str, **fields: Unpack[EventFields]) -> None:
    control.emit(event, **fields)


# --------------------------------------------------------------------------
# Datastore
# --------------------------------------------------------------------------


class UnitStore:
    """Four sparse tables of one unit id, keyed by 0-based protocol address."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[int, int | bool]] = {kind: {} for kind in KINDS}
        # Addresses this unit does not define: a read that spans one gets
        # exception 02, as meters answer for undocumented registers.
        self.undefined: dict[str, set[int]] = {kind: set() for kind in KINDS}

    def read(self, kind: str, address: int, count: int) -> list[int] | list[bool]:
        table = self.tables[kind]
        if kind in BIT_KINDS:
            return [bool(table.get(a, False)) for a in range(address, address + count)]
        return [int(table.get(a, 0)) for a in range(address, address + count)]

    def write(self, kind: str, address: int, values: Sequence[int] | Sequence[bool]) -> None:
        table = self.tables[kind]
        bits = kind in BIT_KINDS
        for offset, value in enumerate(values):
            table[address + offset] = bool(value) if bits else int(value) & 0xFFFF


class FakeContext(ModbusServerContext):
    """What pymodbus's request PDUs call to read and write the datastore.

    pymodbus 3.16 hands a ``ModbusServerContext`` whose ``old_simulator`` is set
    straight to the PDUs (``datastore_update`` awaits ``async_getValues`` /
    ``async_setValues`` with the unit id, function code and the *protocol*
    address), so there is no block offset here: address 0 is address 0.
    """

    def __init__(self, fake: FakeBus) -> None:  # pylint: disable=super-init-not-called
        # Deliberately no super().__init__(): it wants pymodbus datastore objects.
        self.old_simulator = True
        self.simdevices = []
        self._fake = fake

    def _unit(self, device_id: int) -> UnitStore:
        try:
            return self._fake.units[device_id]
        except KeyError:
            # With ignore_missing_devices the server stays silent.
            raise NoSuchIdException(f"unit {device_id} is not served") from None

    def device_ids(self) -> list[int]:
        return sorted(self._fake.units)

    async def async_getValues(  # noqa: N802 - pymodbus's name
        self, device_id: int, func_code: int, address: int, count: int = 1
    ) -> list[int] | list[bool] | ExcCodes:
        store = self._unit(device_id)
        kind = FC_TABLE.get(func_code)
        if kind is None:
            return ExcCodes.ILLEGAL_FUNCTION
        if address < 0 or count < 1 or address + count > ADDRESS_SPACE:
            return ExcCodes.ILLEGAL_ADDRESS
        if any(a in store.undefined[kind] for a in range(address, address + count)):
            return ExcCodes.ILLEGAL_ADDRESS
        return store.read(kind, address, count)

    async def async_setValues(  # noqa: N802 - pymodbus's name
        self,
        device_id: int,
        func_code: int,
        address: int,
        values: Sequence[int] | Sequence[bool],
    ) -> ExcCodes | None:
        store = self._unit(device_id)
        kind = FC_TABLE.get(func_code)
        if kind not in ("holding", "coil"):
            return ExcCodes.ILLEGAL_FUNCTION
        values = list(values)
        if address < 0 or not values or address + len(values) > ADDRESS_SPACE:
            return ExcCodes.ILLEGAL_ADDRESS
        store.write(kind, address, values)
        out = [bool(v) for v in values] if kind == "coil" else [int(v) for v in values]
        emit(
            "write",
            unit=device_id,
            kind=kind,
            address=address,
            values=out,
            function=func_code,
        )
        return None


# --------------------------------------------------------------------------
# pymodbus server with inter-frame gap and unit filtering
# --------------------------------------------------------------------------


class _Framer(FramerRTU):
    """pymodbus's RTU framer, remembering the function code of the last frame."""

    last_fc = 0

    def decode(self, data: bytes) -> tuple[int, int, int, bytes]:
        used_len, dev_id, tid, frame = super().decode(data)
        if frame:
            self.last_fc = frame[0]
        return used_len, dev_id, tid, frame


class _RequestHandler(ServerRequestHandler):
    """pymodbus's request handler, plus an RTU inter-frame gap and a safety net.

    pymodbus's RTU framer keeps unparsable bytes around while it waits for "the
    rest of the frame". A real device resynchronises on the 3.5-character
    silence between frames; we do the same: bytes still buffered when the line
    has been quiet for ``frame_gap`` seconds are dropped before new bytes are
    parsed.

    A frame with a good CRC that pymodbus cannot decode (a count of 0 or over
    the limit, a byte count that does not match) gets exception 03 ILLEGAL DATA
    VALUE under the request's function code, as a real device answers; plain
    pymodbus 3.16 answers function code 0x80, exception 01.
    """

    frame_gap: float = 0.05
    verbose: bool = False
    _last_rx: float = 0.0

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        if self.frame_gap and self.recv_buffer and now - self._last_rx > self.frame_gap:
            if self.verbose:
                sys.stderr.write(f"[fake-modbus] dropped stale bytes {self.recv_buffer.hex()}\n")
            self.recv_buffer = b""
        self._last_rx = now
        try:
            super().data_received(data)
        except Exception:  # noqa: BLE001 - bad bytes must never take the bus down
            traceback.print_exc(file=sys.stderr)
            self.recv_buffer = b""

    def callback_data(self, data: bytes, addr: tuple[object, ...] | None = None) -> int:
        try:
            used_len = TransactionManager.callback_data(self, data, addr)
        except ModbusIOException as exc:
            framer = self.framer
            fc = exc.fcode or (framer.last_fc if isinstance(framer, _Framer) else 0)
            response = ExceptionResponse(
                fc & 0x7F,
                exception_code=ExcCodes.ILLEGAL_VALUE,
                device_id=exc.dev_id or 0,
                transaction=exc.transaction_id or 0,
            )
            # pymodbus 3.16 leaves server_send unannotated.
            self.server_send(response, addr)  # type: ignore[no-untyped-call]
            return len(data)
        if self.last_pdu:
            self.loop.call_soon(self.handle_later)
        return used_len


class LineSettings(TypedDict):
    """A serial line's settings, as pyserial and pymodbus take them."""

    baudrate: int
    bytesize: int
    parity: str  # N, E or O
    stopbits: int


class _ServerOptions(LineSettings):
    """The keyword arguments of pymodbus's ModbusSerialServer that FakeBus sets."""

    framer: FramerType
    port: str
    ignore_missing_devices: bool
    broadcast_enable: bool
    reconnect_delay: float
    trace_packet: Callable[[bool, bytes], bytes]
    trace_connect: Callable[[bool], None]


class _SerialServer(ModbusSerialServer):
    def __init__(
        self,
        context: ModbusServerContext,
        *,
        frame_gap: float,
        verbose: bool,
        **options: Unpack[_ServerOptions],
    ) -> None:
        self._frame_gap = frame_gap
        self._verbose = verbose
        super().__init__(context, **options)
        self.framer = _Framer

    def callback_new_connection(self) -> ServerRequestHandler:
        # pymodbus 3.16 leaves ServerRequestHandler.__init__ unannotated.
        handler = _RequestHandler(  # type: ignore[no-untyped-call]
            self, self.trace_packet, self.trace_pdu, self.trace_connect
        )
        handler.frame_gap = self._frame_gap
        handler.verbose = self._verbose
        return handler


class FakeBus:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.units: dict[int, UnitStore] = {unit: UnitStore() for unit in args.unit}
        self.server: _SerialServer | None = None
        self.serving = False
        # Line settings actually used; see _probe_line().
        self.line: LineSettings | None = None
        self._closing = False
        self._connected: asyncio.Event | None = None

    # --- serial side ---------------------------------------------------

    def _trace_packet(self, sending: bool, data: bytes) -> bytes:
        if self.args.verbose:
            sys.stderr.write(f"[fake-modbus] {'tx' if sending else 'rx'} {data.hex()}\n")
            sys.stderr.flush()
        if sending and data and data[0] not in self.units:
            # pymodbus answers undecodable frames with an exception response
            # whatever their unit id; a unit that is not on the bus must stay silent.
            return b""
        return data

    def _trace_connect(self, connected: bool) -> None:
        if connected:
            if self._connected is not None:
                self._connected.set()
            return
        if not self._closing and self.serving:
            # The port went away under us (e.g. socat exited).
            self.serving = False
            emit("port_lost", port=self.args.port)

    async def open(self) -> None:
        """Open the port and serve; raises OpError when the port cannot be opened."""
        if self.serving:
            return
        if self.server is not None:
            # Left over from a port that went away (port_lost): release it first.
            await self.close()
        if self.line is None:
            self.line = self._probe_line()
        self._closing = False
        self._connected = asyncio.Event()
        server = _SerialServer(
            FakeContext(self),
            framer=FramerType.RTU,
            port=self.args.port,
            **self.line,
            ignore_missing_devices=True,
            broadcast_enable=True,
            reconnect_delay=0,
            trace_packet=self._trace_packet,
            trace_connect=self._trace_connect,
            frame_gap=self.args.frame_gap_ms / 1000.0,
            verbose=self.args.verbose,
        )
        try:
            await server.serve_forever(background=True)
        except RuntimeError:
            raise OpError(f"cannot open {self.args.port}: {_open_error(self.args)}") from None
        except Exception as err:  # noqa: BLE001 - e.g. termios.error from pyserial
            raise OpError(f"cannot open {self.args.port}: {type(err).__name__}: {err}") from None
        # Bytes the client sent while we were away are not ours to answer.
        transport = server.transport
        sync_serial = getattr(transport, "sync_serial", None)
        if sync_serial is not None:
            try:
                sync_serial.reset_input_buffer()
            except (OSError, serial.SerialException):
                pass
        try:
            await asyncio.wait_for(self._connected.wait(), CONNECT_WAIT_SECONDS)
        except TimeoutError:
            # pymodbus 3.16 leaves ModbusBaseServer.shutdown unannotated.
            await server.shutdown()  # type: ignore[no-untyped-call]
            raise OpError(f"{self.args.port} opened but the transport never started") from None
        self.server = server
        self.serving = True

    def _probe_line(self) -> LineSettings:
        """Line settings to open the port with.

        A pty has no real line: Linux ignores parity and character size on it,
        but some kernels (e.g. sandboxed ones) reject PARENB or CS7 on a pty
        with EINVAL. The requested settings are tried on a throw-away open
        first; if the port refuses them, fall back to 8 data bits, no parity
        (harmless on a pty, which carries whole bytes either way).
        """
        wanted: LineSettings = {
            "baudrate": self.args.baud,
            "bytesize": self.args.bytesize,
            "parity": self.args.parity,
            "stopbits": self.args.stopbits,
        }
        try:
            probe = serial.serial_for_url(self.args.port, timeout=1, **wanted)
        except (OSError, ValueError, serial.SerialException) as err:
            raise OpError(f"cannot open {self.args.port}: {err}") from None
        except termios.error as err:
            rejected: Exception | None = err
        else:
            rejected = None
            try:
                probe.timeout = 0  # pymodbus reconfigures once more like this
            except termios.error as err:
                rejected = err
            finally:
                probe.close()
        if rejected is None:
            return wanted
        fallback: LineSettings = {**wanted, "bytesize": 8, "parity": "N"}
        sys.stderr.write(
            f"[fake-modbus] {self.args.port} rejects {_line_name(wanted)} ({rejected}); "
            f"serving {_line_name(fallback)} instead\n"
        )
        sys.stderr.flush()
        return fallback

    def listening_fields(self) -> EventFields:
        assert self.line is not None
        fields: EventFields = {
            "port": self.args.port,
            "units": sorted(self.units),
            "line": _line_name(self.line),
        }
        if self.line["parity"] != self.args.parity or self.line["bytesize"] != self.args.bytesize:
            fields["requested_line"] = _line_name(
                {**self.line, "parity": self.args.parity, "bytesize": self.args.bytesize}
            )
        return fields

    async def open_with_retry(self, timeout: float) -> None:
        """Open at start-up, waiting up to `timeout` s for the pty link to appear."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                await self.open()
                return
            except OpError:
                if time.monotonic() >= deadline:
                    raise
            await asyncio.sleep(OPEN_RETRY_SECONDS)

    async def close(self) -> None:
        server, self.server = self.server, None
        self.serving = False
        if server is not None:
            self._closing = True
            try:
                await server.shutdown()  # type: ignore[no-untyped-call] # as in open()
            finally:
                self._closing = False

    # --- control ops -----------------------------------------------------

    def _unit(self, op: Op) -> UnitStore:
        unit = op.get("unit")
        if not isinstance(unit, int) or isinstance(unit, bool):
            raise OpError("'unit' must be an integer")
        if unit not in self.units:
            raise OpError(f"unit {unit} is not served (served: {sorted(self.units)})")
        return self.units[unit]

    @staticmethod
    def _kind(op: Op, allowed: Sequence[str] = KINDS) -> str:
        kind = op.get("kind")
        if kind not in allowed:
            raise OpError(f"'kind' must be one of {', '.join(allowed)}")
        return str(kind)

    @staticmethod
    def _address(op: Op, count: int) -> int:
        address = op.get("address")
        if not isinstance(address, int) or isinstance(address, bool):
            raise OpError("'address' must be an integer")
        if not 0 <= address < ADDRESS_SPACE:
            raise OpError(f"address {address} is outside 0..65535")
        if address + count > ADDRESS_SPACE:
            raise OpError(f"address {address} + {count} values runs past 65535")
        return address

    def op_set(self, op: Op) -> OpResult:
        store = self._unit(op)
        kind = self._kind(op)
        values = op.get("values")
        if not isinstance(values, list) or not values:
            raise OpError("'values' must be a non-empty list")
        clean: list[int] | list[bool]
        if kind in BIT_KINDS:
            if not all(isinstance(v, bool) or v in (0, 1) for v in values):
                raise OpError(f"{kind} values must be booleans (or 0/1)")
            clean = [bool(v) for v in values]
        else:
            words = [
                v
                for v in values
                if isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 0xFFFF
            ]
            if len(words) != len(values):
                raise OpError(f"{kind} values must be integers 0..65535 (raw 16-bit words)")
            clean = words
        address = self._address(op, len(clean))
        store.write(kind, address, clean)
        return {}

    def op_encode(self, name: str, op: Op) -> OpResult:
        store = self._unit(op)
        kind = self._kind(op, ("input", "holding"))
        fmt, words = ENCODERS[name]
        value = op.get("value")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise OpError("'value' must be a number")
        if fmt in "fd":
            value = float(value)
        else:
            if isinstance(value, float):
                if not value.is_integer():
                    raise OpError(f"{name} needs an integer value, got {value}")
                value = int(value)
        word_order = op.get("word_order", "big")
        if word_order not in ("big", "little"):
            raise OpError('\'word_order\' must be "big" or "little"')
        try:
            raw = struct.pack(">" + fmt, value)
        except (struct.error, OverflowError) as err:
            raise OpError(f"{name}: {value} does not fit: {err}") from None
        regs = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
        if word_order == "little":
            regs.reverse()
        address = self._address(op, words)
        store.write(kind, address, regs)
        return {"values": regs}

    def op_get(self, op: Op) -> OpResult:
        store = self._unit(op)
        kind = self._kind(op)
        count = op.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise OpError("'count' must be a positive integer")
        address = self._address(op, count)
        return {"values": store.read(kind, address, count)}

    async def run_op(self, op: Op) -> OpResult:
        name = op.get("op")
        if name == "set":
            return self.op_set(op)
        if name in ENCODERS:
            return self.op_encode(name, op)
        if name == "get":
            return self.op_get(op)
        if name == "undefine":
            store = self._unit(op)
            kind = self._kind(op)
            count = op.get("count", 1)
            if not isinstance(count, int) or isinstance(count, bool) or count < 1:
                raise OpError("'count' must be a positive integer")
            address = self._address(op, count)
            store.undefined[kind].update(range(address, address + count))
            return {}
        if name == "stop":
            await self.close()
            return {}
        if name == "start":
            if not self.serving:
                await self.open()
                emit("listening", **self.listening_fields())
            return {}
        if name == "quit":
            return {}
        raise OpError(f"unknown op {name!r}")


def _line_name(line: LineSettings) -> str:
    return f"{line['baudrate']} {line['bytesize']}{line['parity']}{line['stopbits']}"


def _open_error(args: argparse.Namespace) -> str:
    """Why the port does not open (pymodbus only logs it)."""
    if not os.path.exists(args.port):
        return "no such file"
    try:
        port = serial.serial_for_url(args.port, exclusive=True, baudrate=args.baud)
    except (OSError, ValueError, serial.SerialException) as err:
        return str(err)
    port.close()
    return "pymodbus could not start listening"


# --------------------------------------------------------------------------
# stdin control loop
# --------------------------------------------------------------------------


async def amain(args: argparse.Namespace) -> int:
    bus = FakeBus(args)
    try:
        await bus.open_with_retry(args.open_timeout)
    except OpError as err:
        emit("error", op=None, message=str(err))
        return 1
    emit("listening", **bus.listening_fields())
    try:
        await serve(bus.run_op)
    finally:
        await bus.close()
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=f"Fake Modbus RTU devices on a serial port (pymodbus {pymodbus.__version__})."
    )
    parser.add_argument(
        "--port", required=True, help="serial device, e.g. one end of a socat pty pair"
    )
    parser.add_argument("--baud", type=int, default=9600)
    parser.add_argument("--parity", choices=("N", "E", "O"), default="N")
    parser.add_argument("--bytesize", type=int, choices=(5, 6, 7, 8), default=8)
    parser.add_argument("--stopbits", type=int, choices=(1, 2), default=1)
    parser.add_argument(
        "--unit",
        type=int,
        action="append",
        required=True,
        help="unit id (1..247) to serve; repeat for several devices on the bus",
    )
    parser.add_argument(
        "--frame-gap-ms",
        type=float,
        default=50.0,
        help="line silence after which a partial frame is dropped (default 50, 0 = never)",
    )
    parser.add_argument(
        "--open-timeout",
        type=float,
        default=5.0,
        help="seconds to wait at start for the port to appear/open (default 5)",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="log bytes and pymodbus debug to stderr"
    )
    args = parser.parse_args(argv)
    for unit in args.unit:
        if not 1 <= unit <= 247:
            parser.error(f"--unit {unit} is outside 1..247")
    if len(set(args.unit)) != len(args.unit):
        parser.error("--unit given twice for the same id")
    if args.baud <= 0:
        parser.error("--baud must be positive")
    if args.frame_gap_ms < 0 or not math.isfinite(args.frame_gap_ms):
        parser.error("--frame-gap-ms must be >= 0")
    return args


def main() -> int:
    args = parse_args()
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="[fake-modbus] %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        # pymodbus warns about every undecodable frame; bad bytes are expected in tests.
        logging.getLogger("pymodbus").setLevel(logging.ERROR)
    try:
        return asyncio.run(amain(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Self-check for modbus_server.py: drive the fake with pymodbus's own async serial client.

Each check starts a socat pty pair (``pty,raw,echo=0`` both ends), runs the fake
on one end as a subprocess (same interpreter) and talks to it with
``pymodbus.client.AsyncModbusSerialClient`` (RTU) on the other end, watching the
fake's stdout events. Prints one line per check and exits non-zero if any
check fails.

    python3 tests/fakes/check_modbus_server.py [-v]
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from control import JSONValue, Op
from selfcheck import VERBOSE, VERY_VERBOSE, CheckFailed, FakeProcess, of, require, run_checks

try:
    from pymodbus.client import AsyncModbusSerialClient
    from pymodbus.exceptions import ModbusIOException
    from pymodbus.framer.rtu import FramerRTU
except ImportError as import_err:  # pragma: no cover - environment problem
    sys.stderr.write(
        f"check_modbus_server.py needs pymodbus and pyserial installed: {import_err}\n"
        "  e.g. python3 -m venv venv && venv/bin/pip install pymodbus==3.16.1 pyserial==3.5\n"
    )
    sys.exit(2)

if TYPE_CHECKING:
    from modbus_server import Event, LineSettings

FAKE = Path(__file__).resolve().with_name("modbus_server.py")
CLIENT_TIMEOUT = 0.5  # s per request; the fake answers in a few ms
DT = AsyncModbusSerialClient.DATATYPE


def rtu(frame: bytes) -> bytes:
    """Append the Modbus CRC."""
    return frame + FramerRTU.compute_CRC(frame).to_bytes(2, "big")


# --------------------------------------------------------------------------
# socat pty pair + the fake as a subprocess + a pymodbus client
# --------------------------------------------------------------------------


class Bus(FakeProcess["Event"]):
    """A socat pty pair, the fake on one end, a pymodbus client on the other."""

    def __init__(
        self, *fake_args: str, units: tuple[int, ...] = (1,), serial: LineSettings | None = None
    ) -> None:
        self.serial: LineSettings = serial or {
            "baudrate": 9600,
            "parity": "N",
            "bytesize": 8,
            "stopbits": 1,
        }
        self.dir = Path(tempfile.mkdtemp(prefix="fake-modbus-"))
        self.server_end = str(self.dir / "server")
        self.client_end = str(self.dir / "client")
        unit_args = [a for u in units for a in ("--unit", str(u))]
        super().__init__(
            FAKE,
            "--port",
            self.server_end,
            "--baud",
            str(self.serial["baudrate"]),
            "--parity",
            self.serial["parity"],
            "--bytesize",
            str(self.serial["bytesize"]),
            "--stopbits",
            str(self.serial["stopbits"]),
            *unit_args,
            *fake_args,
        )
        self.client: AsyncModbusSerialClient | None = None
        self.listening: Event | None = None
        self.rx = bytearray()
        self._socat: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Bus:
        try:
            await self._start()
        except BaseException:
            await self._teardown(check_exit=False)
            raise
        return self

    async def _start(self) -> None:
        self._socat = await asyncio.create_subprocess_exec(
            "socat",
            "-d",
            "-d",
            f"pty,raw,echo=0,link={self.server_end}",
            f"pty,raw,echo=0,link={self.client_end}",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 5
        while not (Path(self.server_end).exists() and Path(self.client_end).exists()):
            if time.monotonic() > deadline or self._socat.returncode is not None:
                raise CheckFailed("socat did not create the pty pair")
            await asyncio.sleep(0.02)
        self.listening = await self.start()
        # The fake reports the line it really uses: some kernels refuse parity on
        # a pty and the fake then falls back to 8N; the client must do the same.
        baud, frame = self.listening["line"].split()
        line: LineSettings = {
            "baudrate": int(baud),
            "bytesize": int(frame[0]),
            "parity": frame[1],
            "stopbits": int(frame[2]),
        }
        self.client = AsyncModbusSerialClient(
            self.client_end,
            timeout=CLIENT_TIMEOUT,
            retries=0,
            reconnect_delay=0,
            trace_packet=self._trace_packet,
            **line,
        )
        require(await self.client.connect(), "client could not open its end of the pty pair")

    async def __aexit__(self, *exc: object) -> None:
        await self._teardown(check_exit=exc[0] is None)
        if exc[0] is not None:
            self.print_stderr_tail()

    async def _teardown(self, *, check_exit: bool) -> None:
        try:
            if self.client is not None:
                self.client.close()
                self.client = None
            await self.stop(check_exit=check_exit)
        finally:
            socat, self._socat = self._socat, None
            if socat is not None and socat.returncode is None:
                socat.terminate()
                await socat.wait()
            shutil.rmtree(self.dir, ignore_errors=True)

    def _trace_packet(self, sending: bool, data: bytes) -> bytes:
        if not sending:
            self.rx += data  # the client's receive buffer so far (may repeat bytes)
        return data

    @property
    def c(self) -> AsyncModbusSerialClient:
        assert self.client is not None
        return self.client

    async def expect_write(self, since: int, **fields: JSONValue) -> Event:
        return await self.expect(
            lambda e: e["event"] == "write" and all(e.get(k) == v for k, v in fields.items()),
            since=since,
            what=f"write event {fields}",
        )

    # --- client helpers ------------------------------------------------

    async def read_regs(self, kind: str, address: int, count: int = 1, unit: int = 1) -> list[int]:
        fn = self.c.read_holding_registers if kind == "holding" else self.c.read_input_registers
        rr = await fn(address, count=count, device_id=unit)
        require(not rr.isError(), f"read {kind} {address}x{count} unit {unit}: {rr}")
        return list(rr.registers)

    async def read_bits(self, kind: str, address: int, count: int = 1, unit: int = 1) -> list[bool]:
        fn = self.c.read_coils if kind == "coil" else self.c.read_discrete_inputs
        rr = await fn(address, count=count, device_id=unit)
        require(not rr.isError(), f"read {kind} {address}x{count} unit {unit}: {rr}")
        return list(rr.bits[:count])

    async def expect_silence(self, what: str, unit: int = 1, address: int = 0) -> None:
        try:
            rr = await self.c.read_holding_registers(address, count=1, device_id=unit)
        except ModbusIOException:
            return
        raise CheckFailed(f"{what}: expected no answer, got {rr}")


# --------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------


async def check_holding() -> str:
    async with Bus() as bus:
        await bus.op(
            {"op": "set", "unit": 1, "kind": "holding", "address": 0, "values": [1234, 65535]}
        )
        await bus.op({"op": "set", "unit": 1, "kind": "holding", "address": 65535, "values": [7]})
        got = await bus.read_regs("holding", 0, 2)
        require(
            got == [1234, 65535],
            f"holding 0..1 = {got}, want [1234, 65535] (address 0 is address 0)",
        )
        got = await bus.read_regs("holding", 1)
        require(got == [65535], f"holding 1 = {got}")
        got = await bus.read_regs("holding", 65535)
        require(got == [7], f"holding 65535 = {got}")
        got = await bus.read_regs("holding", 500, 3)
        require(got == [0, 0, 0], f"untouched holding = {got}")

        since = bus.mark()
        wr = await bus.c.write_register(10, 4242, device_id=1)
        require(not wr.isError(), f"write_register: {wr}")
        ev = await bus.expect_write(since, unit=1, kind="holding", address=10)
        require(ev["values"] == [4242] and ev["function"] == 6, f"fc6 event {ev}")
        stored = (await bus.op({"op": "get", "unit": 1, "kind": "holding", "address": 10}))[
            "values"
        ]
        require(stored == [4242], f"get after fc6 = {stored}")

        since = bus.mark()
        wr = await bus.c.write_registers(20, [1, 2, 65535], device_id=1)
        require(not wr.isError(), f"write_registers: {wr}")
        ev = await bus.expect_write(since, unit=1, kind="holding", address=20)
        require(ev["values"] == [1, 2, 65535] and ev["function"] == 16, f"fc16 event {ev}")
        stored = (
            await bus.op({"op": "get", "unit": 1, "kind": "holding", "address": 20, "count": 3})
        )["values"]
        require(stored == [1, 2, 65535], f"get after fc16 = {stored}")
        got = await bus.read_regs("holding", 19, 5)
        require(got == [0, 1, 2, 65535, 0], f"read after fc16 = {got}")

        rr = await bus.c.read_holding_registers(65535, count=2, device_id=1)
        require(
            rr.isError() and rr.exception_code == 2,
            f"read past 65535: want ILLEGAL_ADDRESS, got {rr}",
        )
    return (
        "set/read at 0, 1, 65535; fc6 + fc16 write events and get; read past 65535 -> exception 2"
    )


async def check_input() -> str:
    async with Bus() as bus:
        await bus.op({"op": "set", "unit": 1, "kind": "input", "address": 0, "values": [11, 22]})
        got = await bus.read_regs("input", 0, 2)
        require(got == [11, 22], f"input 0..1 = {got}")
        got = await bus.read_regs("holding", 0, 2)
        require(got == [0, 0], f"holding must be a separate table, got {got}")
        stored = (
            await bus.op({"op": "get", "unit": 1, "kind": "input", "address": 0, "count": 2})
        )["values"]
        require(stored == [11, 22], f"get input = {stored}")
    return "input table separate from holding"


async def check_bits() -> str:
    async with Bus() as bus:
        await bus.op(
            {"op": "set", "unit": 1, "kind": "coil", "address": 0, "values": [True, False, True]}
        )
        got = await bus.read_bits("coil", 0, 3)
        require(got == [True, False, True], f"coils 0..2 = {got}")
        await bus.op({"op": "set", "unit": 1, "kind": "discrete", "address": 3, "values": [1, 1]})
        got = await bus.read_bits("discrete", 2, 4)
        require(got == [False, True, True, False], f"discrete 2..5 = {got}")
        got = await bus.read_bits("coil", 3, 2)
        require(got == [False, False], f"coils must be separate from discrete, got {got}")

        since = bus.mark()
        wr = await bus.c.write_coil(5, True, device_id=1)
        require(not wr.isError(), f"write_coil: {wr}")
        ev = await bus.expect_write(since, unit=1, kind="coil", address=5)
        require(ev["values"] == [True] and ev["function"] == 5, f"fc5 event {ev}")

        since = bus.mark()
        wr = await bus.c.write_coils(8, [True, False, True], device_id=1)
        require(not wr.isError(), f"write_coils: {wr}")
        ev = await bus.expect_write(since, unit=1, kind="coil", address=8)
        require(ev["values"] == [True, False, True] and ev["function"] == 15, f"fc15 event {ev}")
        stored = (await bus.op({"op": "get", "unit": 1, "kind": "coil", "address": 8, "count": 3}))[
            "values"
        ]
        require(stored == [True, False, True], f"get coils = {stored}")
        got = await bus.read_bits("coil", 4, 8)
        require(
            got == [False, True, False, False, True, False, True, False], f"coils 4..11 = {got}"
        )

        since = bus.mark()
        wr = await bus.c.write_coil(5, False, device_id=1)
        require(not wr.isError(), f"write_coil off: {wr}")
        ev = await bus.expect_write(since, unit=1, kind="coil", address=5)
        require(ev["values"] == [False], f"fc5 off event {ev}")
    return "coils + discrete read; fc5/fc15 write events"


async def check_encoders() -> str:
    async with Bus() as bus:
        cases: list[tuple[str, Op, list[int]]] = [
            (
                "set_f32",
                {"kind": "input", "address": 100, "value": 230.5, "word_order": "big"},
                [0x4366, 0x8000],
            ),
            (
                "set_f32",
                {"kind": "input", "address": 102, "value": 230.5, "word_order": "little"},
                [0x8000, 0x4366],
            ),
            ("set_f32", {"kind": "holding", "address": 0, "value": -1.5}, [0xBFC0, 0x0000]),
            (
                "set_u32",
                {"kind": "input", "address": 200, "value": 0x12345678, "word_order": "big"},
                [0x1234, 0x5678],
            ),
            (
                "set_u32",
                {"kind": "input", "address": 202, "value": 0x12345678, "word_order": "little"},
                [0x5678, 0x1234],
            ),
            (
                "set_i32",
                {"kind": "holding", "address": 300, "value": -2, "word_order": "little"},
                [0xFFFE, 0xFFFF],
            ),
            ("set_i32", {"kind": "holding", "address": 302, "value": -2}, [0xFFFF, 0xFFFE]),
            ("set_i16", {"kind": "input", "address": 400, "value": -1}, [0xFFFF]),
            ("set_i16", {"kind": "input", "address": 401, "value": 300}, [300]),
        ]
        for name, fields, want in cases:
            reply = await bus.op({"op": name, "unit": 1, **fields})
            require(reply["values"] == want, f"{name} {fields} -> {reply}, want words {want}")
            got = await bus.read_regs(
                of(str, fields["kind"]), of(int, fields["address"]), len(want)
            )
            require(got == want, f"{name} {fields}: read {got}, want {want}")
        # pymodbus's own decoder agrees on both word orders
        big = await bus.read_regs("input", 100, 2)
        little = await bus.read_regs("input", 102, 2)
        vb = bus.c.convert_from_registers(big, DT.FLOAT32, word_order="big")
        vl = bus.c.convert_from_registers(little, DT.FLOAT32, word_order="little")
        require(vb == 230.5 and vl == 230.5, f"f32 decode big={vb} little={vl}")
        vi = bus.c.convert_from_registers(
            await bus.read_regs("holding", 300, 2), DT.INT32, word_order="little"
        )
        require(vi == -2, f"i32 little decode = {vi}")
        bad_ops: tuple[Op, ...] = (
            {"op": "set_i16", "unit": 1, "kind": "input", "address": 0, "value": 40000},
            {"op": "set_u32", "unit": 1, "kind": "input", "address": 0, "value": -1},
            {"op": "set_f32", "unit": 1, "kind": "coil", "address": 0, "value": 1.0},
            {"op": "set_f32", "unit": 1, "kind": "input", "address": 65535, "value": 1.0},
            {
                "op": "set_f32",
                "unit": 1,
                "kind": "input",
                "address": 0,
                "value": 1.0,
                "word_order": "middle",
            },
            {"op": "set_i32", "unit": 1, "kind": "input", "address": 0, "value": 1.5},
        )
        for bad in bad_ops:
            await bus.op(bad, ok=False)
    return "f32 big/little = 230.5 via pymodbus decode; u32/i32/i16 words; bad encoder ops rejected"


async def check_units() -> str:
    async with Bus(units=(1, 2)) as bus:
        await bus.op({"op": "set", "unit": 1, "kind": "holding", "address": 0, "values": [111]})
        await bus.op({"op": "set", "unit": 2, "kind": "holding", "address": 0, "values": [222]})
        await bus.op({"op": "set_f32", "unit": 2, "kind": "input", "address": 0, "value": 49.75})
        require(await bus.read_regs("holding", 0, unit=1) == [111], "unit 1 holding 0")
        require(await bus.read_regs("holding", 0, unit=2) == [222], "unit 2 holding 0")
        require(
            await bus.read_regs("input", 0, 2, unit=1) == [0, 0], "unit 1 input must be untouched"
        )
        f = bus.c.convert_from_registers(await bus.read_regs("input", 0, 2, unit=2), DT.FLOAT32)
        require(f == 49.75, f"unit 2 f32 = {f}")

        since = bus.mark()
        wr = await bus.c.write_register(7, 99, device_id=2)
        require(not wr.isError(), f"write unit 2: {wr}")
        ev = await bus.expect_write(since, unit=2, kind="holding", address=7)
        require(ev["values"] == [99], f"unit 2 event {ev}")
        got1 = (await bus.op({"op": "get", "unit": 1, "kind": "holding", "address": 7}))["values"]
        require(got1 == [0], f"write to unit 2 leaked into unit 1: {got1}")

        await bus.expect_silence("unit 3 is not on the bus", unit=3)
        require(await bus.read_regs("holding", 0, unit=1) == [111], "unit 1 after unit 3 timeout")

        # broadcast (unit 0): applied on every unit, no answer
        since = bus.mark()
        await bus.c.write_register(50, 5, device_id=0, no_response_expected=True)
        await bus.expect_write(since, unit=1, kind="holding", address=50)
        await bus.expect_write(since, unit=2, kind="holding", address=50)
        await asyncio.sleep(0.1)
        require(await bus.read_regs("holding", 50, unit=2) == [5], "broadcast write on unit 2")
        await bus.op({"op": "get", "unit": 3, "kind": "holding", "address": 0}, ok=False)
    return "units 1 and 2 answer from separate stores; unit 3 silent; broadcast write hits both"


async def check_stop_start() -> str:
    async with Bus() as bus:
        await bus.op({"op": "set", "unit": 1, "kind": "holding", "address": 0, "values": [31337]})
        require(await bus.read_regs("holding", 0) == [31337], "before stop")
        await bus.op({"op": "stop"})
        await bus.op({"op": "stop"})  # idempotent
        started = time.monotonic()
        await bus.expect_silence("while stopped")
        waited = time.monotonic() - started
        await bus.expect_silence("still stopped")
        require(bus.alive(), "fake exited on stop")
        since = bus.mark()
        await bus.op({"op": "start"})
        await bus.expect(
            lambda e: e["event"] == "listening", since=since, what="listening after start"
        )
        require(await bus.read_regs("holding", 0) == [31337], "after start (state kept)")
        since = bus.mark()
        wr = await bus.c.write_register(1, 1, device_id=1)
        require(not wr.isError(), f"write after start: {wr}")
        await bus.expect_write(since, unit=1, kind="holding", address=1)
        await bus.op({"op": "start"})  # idempotent
        require(await bus.read_regs("holding", 0, 2) == [31337, 1], "after second start")
    return f"stop -> client timed out ({waited:.2f}s); start -> answers again, stores kept"


async def check_junk() -> str:
    async with Bus(units=(1, 2)) as bus:
        await bus.op({"op": "set", "unit": 1, "kind": "holding", "address": 0, "values": [4711]})
        junk = [
            b"\xff" * 64,
            b"\x00" * 300,  # more than any frame
            b"\x01\x03\x00",  # a truncated request, then silence
            rtu(b"\x01\x63\x00\x00"),  # valid CRC, unknown function code
            rtu(b"\x01\x03\x00\x00\x00\x00"),  # read 0 registers
            rtu(b"\x01\x03\x00\x00\x00\xff"),  # read 255 registers
            rtu(b"\x01\x10\x00\x00\x00\x02\x09\x00\x01"),  # fc16 with a lying byte count
            rtu(b"\x09\x03\x00\x00\x00\x01"),  # a unit that is not on the bus
            b"\x01\x03\x00\x00\x00\x01\x00\x00",  # bad CRC
            bytes(range(256)),
        ]
        for chunk in junk:
            bus.c.ctx.send(chunk)
            await asyncio.sleep(0.12)  # > the fake's 50 ms frame gap
            require(bus.alive(), f"fake died on {chunk[:16].hex()}")
        await asyncio.sleep(0.2)
        got = await bus.read_regs("holding", 0)
        require(got == [4711], f"read after junk = {got}")
        # malformed but CRC-valid requests: exception 03 under the request's function code
        for request, answer in (
            (rtu(b"\x01\x03\x00\x00\x00\x00"), rtu(b"\x01\x83\x03")),
            (rtu(b"\x02\x0f\x00\x00\x00\x0a\x01\xff"), rtu(b"\x02\x8f\x03")),
        ):
            bus.rx.clear()
            bus.c.ctx.send(request)
            await asyncio.sleep(0.15)
            require(
                answer in bytes(bus.rx),
                f"{request.hex()} -> {bytes(bus.rx).hex()}, want {answer.hex()}",
            )
        bus.rx.clear()
        bus.c.ctx.send(rtu(b"\x09\x03\x00\x00\x00\x00"))  # malformed, for a unit not on the bus
        await asyncio.sleep(0.15)
        require(
            not bus.rx, f"unit 9 is not on the bus but something answered: {bytes(bus.rx).hex()}"
        )
        got = await bus.read_regs("holding", 0)
        require(got == [4711], f"read after malformed requests = {got}")
        got = await bus.read_regs("holding", 0, unit=2)
        require(got == [0], f"unit 2 after junk = {got}")
        require(
            not any(e["event"] == "write" for e in bus.events),
            f"junk produced writes: {bus.events}",
        )
    return (
        f"{len(junk)} junk/garbled frames, no writes; malformed requests -> exception 03; "
        "still serving"
    )


async def check_control_errors() -> str:
    async with Bus() as bus:
        since = bus.mark()
        await bus.send_line("this is not json")
        ev = await bus.expect(
            lambda e: e["event"] == "error", since=since, what="error for bad line"
        )
        require(ev["op"] is None, f"bad line error {ev}")
        bad_ops: list[Op] = [
            {"op": "nope"},
            {"op": "set", "unit": 2, "kind": "holding", "address": 0, "values": [1]},
            {"op": "set", "unit": 1, "kind": "register", "address": 0, "values": [1]},
            {"op": "set", "unit": 1, "kind": "holding", "address": 65536, "values": [1]},
            {"op": "set", "unit": 1, "kind": "holding", "address": 65535, "values": [1, 2]},
            {"op": "set", "unit": 1, "kind": "holding", "address": 0, "values": [65536]},
            {"op": "set", "unit": 1, "kind": "holding", "address": 0, "values": [True]},
            {"op": "set", "unit": 1, "kind": "coil", "address": 0, "values": [2]},
            {"op": "set", "unit": 1, "kind": "coil", "address": 0, "values": []},
            {"op": "get", "unit": 1, "kind": "holding", "address": 0, "count": 0},
        ]
        for op in bad_ops:
            await bus.op(op, ok=False)
        require(await bus.read_regs("holding", 0) == [0], "still serving after bad ops")
    return f"bad line + {len(bad_ops)} bad ops answered with error events"


async def check_serial_params() -> str:
    line_settings: LineSettings = {"baudrate": 19200, "parity": "E", "bytesize": 8, "stopbits": 2}
    async with Bus(units=(5,), serial=line_settings) as bus:
        assert bus.listening is not None
        line = bus.listening["line"]
        require(
            line == "19200 8E2"
            or (line == "19200 8N2" and bus.listening.get("requested_line") == "19200 8E2"),
            f"listening event {bus.listening}",
        )
        await bus.op({"op": "set", "unit": 5, "kind": "holding", "address": 3, "values": [5]})
        require(await bus.read_regs("holding", 3, unit=5) == [5], f"{line} read")
        await bus.op({"op": "stop"})
        await bus.op({"op": "start"})
        require(await bus.read_regs("holding", 3, unit=5) == [5], f"{line} read after restart")
    if line == "19200 8E2":
        return "--baud 19200 --parity E --stopbits 2 --unit 5"
    return (
        "--baud 19200 --parity E --stopbits 2 --unit 5: this kernel rejects parity on a pty, "
        "fake fell back to 8N2 and said so"
    )


async def check_eof_exit() -> str:
    async with Bus() as bus:
        require(await bus.read_regs("holding", 0) == [0], "serving")
        code = await bus.close_stdin_and_wait()
        require(code == 0, f"exit code on stdin EOF = {code}")
    return "stdin EOF -> exit 0 (quit -> exit 0 is checked by every other check)"


CHECKS: list[tuple[str, Callable[[], Awaitable[str]]]] = [
    ("1 holding", check_holding),
    ("2 input", check_input),
    ("3 coils + discrete", check_bits),
    ("4 encoders (f32 both word orders)", check_encoders),
    ("5 two unit ids", check_units),
    ("6 stop/start", check_stop_start),
    ("7 junk bytes", check_junk),
    ("8 control errors", check_control_errors),
    ("9 serial parameters", check_serial_params),
    ("10 stdin EOF", check_eof_exit),
]


async def main() -> int:
    # pymodbus logs every timeout at ERROR; they are expected here.
    logging.basicConfig(
        level=logging.DEBUG if VERY_VERBOSE else logging.WARNING if VERBOSE else logging.CRITICAL,
        format="    client log: %(message)s",
    )
    logging.getLogger("pymodbus").setLevel(
        logging.DEBUG if VERY_VERBOSE else logging.WARNING if VERBOSE else logging.CRITICAL
    )
    if shutil.which("socat") is None:
        print("FAIL socat not found on PATH")
        return 1
    return await run_checks(
        f"pymodbus {version('pymodbus')}, pyserial {version('pyserial')}, "
        f"python {sys.version.split()[0]}; fake {FAKE}",
        CHECKS,
    )


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

"""The Python side of the provider conformance suite (tests/tests/conformance.rs).

The twin of tests/src/bin/conformance_provider.rs, which documents what both
do; they must stay alike line for line, so one suite proves both SDKs.
"""

import asyncio
import json
import os
import select
import sys
import time
import tomllib
from typing import Any

import igloo

REFUSAL = "13 is refused by the conformance provider"
CRASH_CODE = 3


class Conformance:
    """The provider's devices and what it has seen (its `Report`)."""

    def __init__(self, provider: igloo.Provider, lamp: int, light: int, meter: int) -> None:
        self.provider = provider
        self.lamp = lamp
        self.light = light
        self.meter = meter
        self.report_entity = 0
        self.config: str | None = None
        self.changes = 0
        self.granted: list[tuple[int, str]] = []
        self.revoked: list[tuple[int, str]] = []
        self.grants: dict[int, int] = {}

    async def write_report(self) -> None:
        report = {
            "config": self.config,
            "core": self.provider.core_version,
            "dropped": self.provider.dropped_components,
            "changes": self.changes,
            "granted": self.granted,
            "revoked": self.revoked,
        }
        await self.provider.write(self.meter, self.report_entity, {"Text": json.dumps(report)})

    async def on_event(self, event: igloo.Event) -> None:
        p = self.provider
        if isinstance(event, igloo.Change):
            unlucky = event.values.get("Brightness") == 13.0
            if (event.device, event.entity) == (self.lamp, self.light) and unlucky:
                await p.refuse_change(event.device, event.entity, REFUSAL)
            else:
                self.changes += 1
                await p.write(event.device, event.entity, event.values)
        elif isinstance(event, igloo.Custom):
            await self.on_command(event.request_id, event.command, event.body)
        elif isinstance(event, igloo.Granted):
            self.granted.append((event.grant, event.name))
            self.grants[event.grant] = event.fd
        elif isinstance(event, igloo.Revoked):
            fd = self.grants.pop(event.grant, None)
            if fd is not None:
                os.close(fd)
            self.revoked.append((event.grant, event.reason))

    async def on_command(self, request_id: int, command: str, body: str) -> None:
        p = self.provider
        try:
            args: Any = json.loads(body)
        except ValueError:
            args = None
        if not isinstance(args, dict):
            args = {}
        if command == "conformance.echo":
            await p.reply_custom(request_id, body)
        elif command == "conformance.fail":
            await p.reply_error(request_id, f"asked to fail: {body}")
        elif command == "conformance.add":
            device = await p.create_device(str(args.get("key", "")), str(args.get("name", "")))
            entity = await p.register_entity(device, "Switch", [("writable", "Switch")])
            await p.write(device, entity, {"Switch": False})
            await p.reply_custom(request_id, json.dumps({"device": device, "entity": entity}))
        elif command == "conformance.available":
            await p.set_available(int(args.get("device", 0)), bool(args.get("available", False)))
            await p.reply_custom(request_id, "{}")
        elif command == "conformance.remove":
            await p.remove_device(int(args.get("device", 0)))
            await p.reply_custom(request_id, "{}")
        elif command == "conformance.port":
            grant = int(args.get("grant", 0))
            fd = self.grants.get(grant)
            if fd is None:
                await p.reply_error(request_id, f"grant {grant} is not held")
                return
            write = str(args.get("write", ""))
            expect = str(args.get("expect", ""))
            try:
                read = await asyncio.to_thread(exchange, os.dup(fd), write, expect)
            except OSError as e:
                await p.reply_error(request_id, f"port: {e}")
                return
            await p.reply_custom(request_id, json.dumps({"read": read}))
        elif command == "conformance.crash":
            os._exit(CRASH_CODE)
        else:
            await p.reply_error(request_id, f"unknown command {command}")


def exchange(fd: int, write: str, expect: str) -> str:
    """Writes `write` to the (non-blocking) `fd`, then reads until `expect`
    has arrived or 5 s have passed; returns what was read. Closes `fd`."""
    got = b""
    try:
        os.write(fd, write.encode())
        deadline = time.monotonic() + 5.0
        while expect not in got.decode(errors="replace") and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.01)
            if ready:
                try:
                    got += os.read(fd, 256)
                except BlockingIOError:
                    pass
    finally:
        os.close(fd)
    return got.decode(errors="replace")


async def run() -> None:
    provider = await igloo.connect("igloo-conformance", "1.0.0")
    try:
        config = tomllib.loads(provider.config)
    except tomllib.TOMLDecodeError:
        config = {}
    lamp = await provider.create_device("conf-lamp", "Conformance lamp", [("model", "conformance")])
    light = await provider.register_entity(lamp, "Light", [("writable", "Switch,Brightness")])
    await provider.write(lamp, light, {"Light": True, "Switch": False, "Brightness": 0.0})
    meter = await provider.create_device("conf-meter", "Conformance meter")
    reading = await provider.register_entity(meter, "Reading")
    await provider.write(meter, reading, {"Sensor": True, "Number": 1.0, "Gas": 2.5})
    c = Conformance(provider, lamp, light, meter)
    c.report_entity = await provider.register_entity(meter, "Report")
    greeting = config.get("greeting")
    c.config = greeting if isinstance(greeting, str) else None
    await c.write_report()
    async for event in provider.events():
        await c.on_event(event)
        await c.write_report()


def main() -> None:
    try:
        asyncio.run(run())
    except igloo.IglooError as e:
        print(f"conformance provider: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()

"""Self-check of znp_coordinator.py: drives the emulated stick with zigpy-znp's
real `ControllerApplication` over a socat pty pair, the way the Zigbee provider
does. Checks: a new stick forms a network and a restarted application keeps
it; joining needs permit-join; a device that joins is interviewed (endpoints,
clusters, manufacturer and model from its Basic cluster); an attribute change
on the device reaches zigpy as a report; a zigpy command reaches the device
(recorded as `zcl_command`) and its state comes back as a report; a device
leaving is seen by zigpy. Prints `PASS`/`FAIL` per check; `-v` echoes the
emulator's events.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import zigpy.config as zconf
from selfcheck import VERBOSE, CheckFailed, FakeProcess, require, run_checks
from zigpy_znp.zigbee.application import ControllerApplication
from znp_coordinator import Event

HERE = Path(__file__).parent
# zigpy's interview of a device: a few ZDO and ZCL round trips.
INTERVIEW_TIMEOUT = 20.0


class Bench:
    """A socat pty pair, the emulator on one end, zigpy-znp on the other."""

    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="znp-check-")
        self.dir = Path(self._tmp.name)
        self.host, self.stick = self.dir / "host", self.dir / "stick"
        self.fake: FakeProcess[Event] = FakeProcess(
            HERE / "znp_coordinator.py", "--port", str(self.stick)
        )
        self._socat: asyncio.subprocess.Process | None = None
        self.app: Any = None
        #: IEEE addresses whose interview zigpy finished.
        self.initialized: set[str] = set()

    async def __aenter__(self) -> Bench:
        self._socat = await asyncio.create_subprocess_exec(
            "socat",
            f"pty,raw,echo=0,link={self.host}",
            f"pty,raw,echo=0,link={self.stick}",
        )
        deadline = time.monotonic() + 5
        while not (self.host.exists() and self.stick.exists()):
            if time.monotonic() > deadline:
                raise CheckFailed("socat did not create the pty pair")
            await asyncio.sleep(0.05)
        await self.fake.start()
        return self

    async def start_app(self) -> Any:
        """zigpy-znp's application on the host end, its database in the bench's dir."""
        config = {
            zconf.CONF_DEVICE: {zconf.CONF_DEVICE_PATH: str(self.host)},
            zconf.CONF_DATABASE: str(self.dir / "zigbee.db"),
        }
        # `new` loads the database (devices, backups) before starting the radio.
        self.app = await ControllerApplication.new(config, auto_form=True)
        self.app.add_listener(self)
        return self.app

    def device_initialized(self, device: Any) -> None:
        """zigpy's listener call at the end of an interview (after the model
        and manufacturer reads; `is_initialized` is true before them)."""
        self.initialized.add(str(device.ieee))

    async def stop_app(self) -> None:
        if self.app is not None:
            await self.app.shutdown()
            self.app = None

    async def join(self, name: str) -> Any:
        """Permits joining, joins device `name` and waits for zigpy's interview."""
        await self.app.permit(60)
        reply = await self.fake.op({"op": "join", "device": name})
        ieee = reply.get("ieee")
        deadline = time.monotonic() + INTERVIEW_TIMEOUT
        while True:
            device = next((d for d in self.app.devices.values() if str(d.ieee) == ieee), None)
            if device is not None and ieee in self.initialized:
                return device
            if time.monotonic() > deadline:
                raise CheckFailed(f"{name} was not interviewed: {device}")
            await asyncio.sleep(0.1)

    async def __aexit__(self, *_: object) -> None:
        try:
            await self.stop_app()
        finally:
            await self.fake.stop(check_exit=False)
            if self._socat is not None and self._socat.returncode is None:
                self._socat.terminate()
                await self._socat.wait()
            self._tmp.cleanup()


async def wait_value(what: str, read: Any, want: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while (got := read()) != want:
        if time.monotonic() > deadline:
            raise CheckFailed(f"{what}: {got!r}, expected {want!r}")
        await asyncio.sleep(0.05)


async def forms_a_network_and_keeps_it() -> str:
    async with Bench() as b:
        started = time.monotonic()
        app = await b.start_app()
        took = time.monotonic() - started
        first = app.state.network_info
        require(first.channel in range(11, 27), f"channel {first.channel}")
        await b.fake.expect(lambda e: e["event"] == "network_started", what="network_started")
        await b.stop_app()
        app = await b.start_app()
        again = app.state.network_info
        require(again.pan_id == first.pan_id, f"PAN id {again.pan_id} != {first.pan_id}")
        require(again.extended_pan_id == first.extended_pan_id, "extended PAN id changed")
        require(again.network_key.key == first.network_key.key, "network key changed")
        status = await b.fake.op({"op": "status"})
        require(status.get("pan_id") == first.pan_id, f"stick's PAN id: {status}")
        return f"PAN 0x{first.pan_id:04x} on channel {first.channel}, formed in {took:.1f}s, kept"


async def joining_needs_permit_join() -> str:
    async with Bench() as b:
        await b.start_app()
        reply = await b.fake.op({"op": "join", "device": "climate"}, ok=False)
        require("permit" in str(reply.get("message")), f"{reply}")
        await b.app.permit(30)
        await b.fake.expect(lambda e: e["event"] == "permit_join" and e.get("duration") == 30)
        await b.fake.op({"op": "join", "device": "climate"})
        return "refused before permit-join, accepted after"


async def a_joined_device_is_interviewed() -> str:
    async with Bench() as b:
        await b.start_app()
        bulb = await b.join("bulb")
        require(bulb.manufacturer == "Igloo Test", f"manufacturer {bulb.manufacturer}")
        require(bulb.model == "Colour bulb", f"model {bulb.model}")
        clusters = sorted(bulb.endpoints[1].in_clusters)
        require({0x0006, 0x0008, 0x0300} <= set(clusters), f"clusters {clusters}")
        return f"{bulb.ieee}: {bulb.manufacturer} {bulb.model}, clusters {clusters}"


async def reports_reach_zigpy() -> str:
    async with Bench() as b:
        await b.start_app()
        sensor = await b.join("climate")
        temperature = sensor.endpoints[1].in_clusters[0x0402]
        await b.fake.op(
            {"op": "set", "device": "climate", "cluster": 0x0402, "attribute": 0, "value": 2345}
        )
        await wait_value("temperature", lambda: temperature.get("measured_value"), 2345)
        return "measured_value 2345 reported"


async def commands_reach_the_device_and_state_comes_back() -> str:
    async with Bench() as b:
        await b.start_app()
        bulb = await b.join("bulb")
        on_off = bulb.endpoints[1].in_clusters[0x0006]
        color = bulb.endpoints[1].in_clusters[0x0300]
        since = b.fake.mark()
        await on_off.on()
        event = await b.fake.expect(
            lambda e: e["event"] == "zcl_command" and e.get("command") == "on",
            since=since,
            what="on",
        )
        await wait_value("on_off", lambda: on_off.get("on_off"), True)
        await color.move_to_color_temp(250, 0)
        await b.fake.expect(
            lambda e: e["event"] == "zcl_command" and e.get("command") == "move_to_color_temp"
        )
        await wait_value("color_temperature", lambda: color.get("color_temperature"), 250)
        command, cluster = event.get("command"), event.get("cluster")
        return f"{command} on cluster {cluster}, then 250 mired, both reported back"


async def a_device_leaving_is_seen() -> str:
    async with Bench() as b:
        await b.start_app()
        plug = await b.join("plug")
        left = asyncio.get_running_loop().create_future()

        class Listener:
            def device_left(self, device: Any) -> None:
                if not left.done():
                    left.set_result(device)

        b.app.add_listener(Listener())
        await b.fake.op({"op": "leave", "device": "plug"})
        device = await asyncio.wait_for(left, 5)
        require(device.ieee == plug.ieee, f"{device}")
        return f"{plug.ieee} left"


async def main() -> int:
    # zigpy logs the interviews a shut-down application leaves behind.
    logging.basicConfig(level=logging.DEBUG if VERBOSE else logging.CRITICAL)
    if shutil.which("socat") is None:
        print("FAIL socat not found on PATH")
        return 1
    return await run_checks(
        "znp_coordinator.py self-check (zigpy-znp's ControllerApplication over a socat pty)",
        [
            ("forms a network and keeps it", forms_a_network_and_keeps_it),
            ("joining needs permit-join", joining_needs_permit_join),
            ("a joined device is interviewed", a_joined_device_is_interviewed),
            ("reports reach zigpy", reports_reach_zigpy),
            (
                "commands reach the device and state comes back",
                commands_reach_the_device_and_state_comes_back,
            ),
            ("a device leaving is seen", a_device_leaving_is_seen),
        ],
    )


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

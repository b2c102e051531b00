"""A complete small Igloo provider in Python: one dimmable lamp and one
thermometer, simulated (docs/providers-python.md).

The lamp takes change requests and confirms what it "did"; the thermometer
reports a temperature every `interval_s` seconds (its `[provider.config]`).
Custom command `example.status` answers with what the provider holds.
Values are the typed component classes of `igloo.registry`.

Run it under the core with a `[[provider]]` whose exec is a Python with the
`igloo` package (a venv's `python`) and `args = ["examples/lamp.py"]`.
"""

import asyncio
import json
import tomllib
from dataclasses import dataclass
from typing import Any

import igloo
from igloo.registry import Brightness, Component, Light, Sensor, Switch, Temperature


@dataclass
class Lamp:
    """What the simulated lamp is doing."""

    on: bool = False
    brightness: float = 50.0

    def components(self) -> list[Component[Any]]:
        return [Light(), Switch(self.on), Brightness(self.brightness)]


async def report_temperature(
    provider: igloo.Provider, device: int, entity: int, interval_s: float
) -> None:
    """Writes a slowly rising temperature every `interval_s` seconds."""
    value = 20.0
    while True:
        await provider.write(device, entity, [Sensor(), Temperature(round(value, 2))])
        value += 0.25
        await asyncio.sleep(interval_s)


async def main() -> None:
    provider = await igloo.connect("igloo-example-lamp", "0.1.0")
    config = tomllib.loads(provider.config)
    interval_s = float(config.get("interval_s", 5.0))

    device = await provider.create_device("lamp-1", "Desk lamp", [("model", "example")])
    light = await provider.register_entity(device, "Light", [("writable", "Switch,Brightness")])
    lamp = Lamp()
    await provider.write(device, light, lamp.components())

    meter = await provider.create_device("thermometer-1", "Thermometer")
    temperature = await provider.register_entity(meter, "Temperature", [("writable", "")])
    ticker = asyncio.create_task(report_temperature(provider, meter, temperature, interval_s))

    async for event in provider.events():
        if isinstance(event, igloo.Change) and (event.device, event.entity) == (device, light):
            on, brightness = Switch.of(event.values), Brightness.of(event.values)
            if brightness == 13.0:
                await provider.refuse_change(device, light, "13 % is unlucky")
                continue
            lamp.on = lamp.on if on is None else on
            lamp.brightness = lamp.brightness if brightness is None else brightness
            # The hardware "did" it: confirm what it now is.
            await provider.write(device, light, lamp.components())
        elif isinstance(event, igloo.Custom) and event.command == "example.status":
            status = {c.name: c.value for c in lamp.components()}
            await provider.reply_custom(event.request_id, json.dumps({"lamp": status}))
        elif isinstance(event, igloo.Custom):
            await provider.reply_error(event.request_id, f"unknown command {event.command!r}")
    ticker.cancel()


if __name__ == "__main__":
    asyncio.run(main())

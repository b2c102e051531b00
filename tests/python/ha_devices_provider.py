"""A Python provider owning the devices tests/tests/homeassistant.rs drives
from Home Assistant: "Attic fan" (entity `Fan`: on, 40 %, not oscillating,
preset "Breeze" of Breeze and Sleep; writable Switch, FanSpeed,
FanOscillating, FanPreset), "Front door" (entity `Lock`: locked; writable
Lock), "Desk strip" (entity `Strip`: an on/off light playing "Rainbow", with
the effects Rainbow, Candle and None; writable Switch, Effect) and "Bedroom
AC" (entity `AC`: cooling to 24 °C at 22.5 °C, fan "auto" of auto/low/high,
swing "off" of off/vertical, no preset of eco/boost; every one writable).
Every change request is taken as the device would: the requested values are
written back as confirmed, a lock command ending in its final state."""

import asyncio

import igloo
from igloo.registry import (
    Climate,
    ClimateFanMode,
    ClimateMode,
    ClimatePreset,
    ClimateSwingMode,
    Effect,
    Fan,
    FanOscillating,
    FanPreset,
    FanSpeed,
    Light,
    Lock,
    Switch,
    TargetTemperature,
    Temperature,
)


async def main() -> None:
    provider = await igloo.connect("igloo-ha-devices", "0.1.0")
    fan = await provider.create_device("fan-1", "Attic fan", [("model", "fan-lock")])
    fan_entity = await provider.register_entity(
        fan,
        "Fan",
        [
            ("writable", "Switch,FanSpeed,FanOscillating,FanPreset"),
            ("preset_modes", "Breeze,Sleep"),
        ],
    )
    await provider.write(
        fan,
        fan_entity,
        [Fan(), Switch(True), FanSpeed(40.0), FanOscillating(False), FanPreset("Breeze")],
    )
    door = await provider.create_device("door-1", "Front door", [("model", "fan-lock")])
    lock_entity = await provider.register_entity(door, "Lock", [("writable", "Lock")])
    await provider.write(door, lock_entity, [Lock("Locked")])
    strip = await provider.create_device("strip-1", "Desk strip", [("model", "led-strip")])
    strip_entity = await provider.register_entity(
        strip, "Strip", [("writable", "Switch,Effect"), ("effects", "Rainbow,Candle,None")]
    )
    await provider.write(strip, strip_entity, [Light(), Switch(True), Effect("Rainbow")])
    ac = await provider.create_device("ac-1", "Bedroom AC", [("model", "split-ac")])
    ac_entity = await provider.register_entity(
        ac,
        "AC",
        [
            (
                "writable",
                "ClimateMode,TargetTemperature,ClimateFanMode,ClimateSwingMode,ClimatePreset",
            ),
            ("modes", "Off,Cool,Heat"),
            ("fan_modes", "auto,low,high"),
            ("swing_modes", "off,vertical"),
            ("preset_modes", "none,eco,boost"),
            ("min", "16"),
            ("max", "30"),
        ],
    )
    await provider.write(
        ac,
        ac_entity,
        [
            Climate(),
            Temperature(22.5),
            TargetTemperature(24.0),
            ClimateMode("Cool"),
            ClimateFanMode("auto"),
            ClimateSwingMode("off"),
            ClimatePreset("none"),
        ],
    )

    async for event in provider.events():
        if isinstance(event, igloo.Change):
            await provider.write(event.device, event.entity, event.values)


if __name__ == "__main__":
    asyncio.run(main())

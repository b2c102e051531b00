"""A Python provider that writes with the typed component classes of `igloo.registry`
(tests/tests/python_provider.rs): its values must reach the core's tree, and a value of the
wrong kind, given to a constructor or to `write`, must raise `ComponentError` naming the
component and what it takes. Custom command `registry.remove_spare` removes the entity
"Spare" with `remove_entity` (the device and its other entities stay). Each check logs
`check ok: NAME` or `check FAILED: NAME: why` to stderr (the core's log), then
`checks done`."""

import asyncio
import sys
from collections.abc import Callable
from typing import Any

import igloo
from igloo.registry import (
    Brightness,
    Color,
    ColorTemperature,
    Cover,
    CoverPosition,
    CoverState,
    Effect,
    Light,
    Switch,
)


def report(name: str, ok: bool, detail: str) -> None:
    status = "ok" if ok else "FAILED"
    print(f"check {status}: {name}: {detail}", file=sys.stderr, flush=True)


def raises(name: str, make: Callable[[], object], says: str) -> None:
    """`make()` must raise ComponentError whose message holds `says`."""
    try:
        made = make()
        report(name, False, f"no error: {made!r}")
    except igloo.ComponentError as e:
        report(name, says in str(e), str(e))


class Impostor:
    """Looks like a component object but carries a value of the wrong kind."""

    name = "Brightness"
    value = "high"


async def main() -> None:
    provider = await igloo.connect("igloo-registry", "0.1.0")
    device = await provider.create_device("registry-1", "Registry")
    light = await provider.register_entity(device, "Light", [("writable", "Switch,Brightness")])
    cover = await provider.register_entity(device, "Cover")
    spare = await provider.register_entity(device, "Spare")
    await provider.write(device, spare, [Switch(False)])

    # Constructors check like `write` does (in Rust), naming kind and unit.
    raises("constructor wrong kind", lambda: Brightness("high"), "takes a float in %")  # type: ignore[arg-type]
    raises("constructor bool for a float", lambda: Brightness(True), "Brightness takes a float")
    raises("constructor not a bool", lambda: Switch(2.5), "Switch takes a bool")  # type: ignore[arg-type]
    raises("constructor not a variant", lambda: CoverState("Ajar"), "Open, Closed, Opening")  # type: ignore[arg-type]
    raises("constructor not a colour", lambda: Color("orange"), "Color takes a colour")

    # `write` checks each object again, and refuses what is not one.
    async def write(values: Any) -> None:
        await provider.write(device, light, values)

    for name, values, says in [
        ("write impostor", [Impostor()], "Brightness takes a float in %"),
        ("write a tuple", [("Switch", True)], "igloo.registry object"),
        ("write a str", "Switch", "a dict of component name"),
    ]:
        try:
            await write(values)
            report(name, False, "no error")
        except igloo.ComponentError as e:
            report(name, says in str(e), str(e))

    # Normalised values and typed reads.
    checks: list[tuple[str, bool, str]] = [
        ("int for float", Brightness(40).value == 40.0, repr(Brightness(40))),
        # An enum variant's name is case-insensitive, as in the HTTP API.
        ("enum name", CoverState("opening").value == "Opening", "opening → Opening"),  # type: ignore[arg-type]
        ("of present", Brightness.of({"Brightness": 12}) == 12.0, "12 → 12.0"),
        ("of absent", Switch.of({"Brightness": 12.0}) is None, "None"),
        ("equality", Switch(True) == Switch(True) and Switch(True) != Switch(False), "=="),
    ]
    for name, ok, detail in checks:
        report(name, ok, detail)

    # The baseline: right values reach the tree, in both forms.
    await provider.write(
        device,
        light,
        [Light(), Switch(True), Brightness(40), Color("#FF8800"), ColorTemperature(370)],
    )
    await provider.write(device, light, {"Effect": "rainbow"})
    await provider.write(device, light, [Effect("candle")])
    await provider.write(device, cover, [Cover(), CoverState("Opening"), CoverPosition(50.5)])
    report("baseline write", True, "written")
    print("checks done", file=sys.stderr, flush=True)
    async for event in provider.events():
        if isinstance(event, igloo.Custom) and event.command == "registry.remove_spare":
            await provider.remove_entity(device, spare)
            await provider.reply_custom(event.request_id, "{}")
        elif isinstance(event, igloo.Custom):
            await provider.reply_error(event.request_id, f"unknown command {event.command!r}")


if __name__ == "__main__":
    asyncio.run(main())

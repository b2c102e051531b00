"""The Igloo provider SDK for Python (docs/providers-python.md).

A provider is a process the Igloo core starts; it bridges devices into the
core's device tree. This package is the Rust SDK compiled as an extension
module, so the wire format, handshake and batching are the Rust SDK's::

    import asyncio
    import igloo
    from igloo.registry import Light, Switch

    async def main() -> None:
        provider = await igloo.connect("my-provider", "0.1.0")
        lamp = await provider.create_device("lamp-1", "Desk lamp")
        light = await provider.register_entity(lamp, "Light", [("writable", "Switch")])
        await provider.write(lamp, light, [Light(), Switch(False)])
        async for event in provider.events():
            if isinstance(event, igloo.Change):
                await provider.write(event.device, event.entity, event.values)

    asyncio.run(main())

The component classes (`igloo.registry`) are generated from components.toml; values may
also be given as a dict of component name → value (`{"Switch": False}`).
"""

from igloo._igloo import (
    EXIT_CONFIG,
    Change,
    ComponentError,
    CoreError,
    Custom,
    Events,
    Granted,
    IglooError,
    Provider,
    Revoked,
    TreeAvailability,
    TreeDevice,
    TreeEntity,
    TreeRemoved,
    TreeState,
    TreeSynced,
    check_value,
    components,
    connect,
)

__all__ = [
    "EXIT_CONFIG",
    "Change",
    "ComponentError",
    "CoreError",
    "Custom",
    "Event",
    "Events",
    "Granted",
    "IglooError",
    "Provider",
    "Revoked",
    "TreeAvailability",
    "TreeDevice",
    "TreeEntity",
    "TreeRemoved",
    "TreeState",
    "TreeSynced",
    "Value",
    "check_value",
    "components",
    "connect",
]

Event = (
    Change
    | Custom
    | Granted
    | Revoked
    | CoreError
    | TreeDevice
    | TreeState
    | TreeAvailability
    | TreeRemoved
    | TreeSynced
)
"""Anything `Provider.events()` yields (the `Tree*` ones after `observe_tree()`)."""

Value = bool | int | float | str
"""A component value: marker → True, colour → "#rrggbb", enum → its variant name."""

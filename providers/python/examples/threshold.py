"""An automation as an Igloo provider in Python: when a value of one device
rises above a threshold, switch an entity of another device on
(docs/providers-python.md, "Watching and controlling other providers' devices").

It owns no device. It observes the whole tree (`observe_tree`) and asks the
core for a change (`request_change`), which the core checks like a user's and
forwards to the device's own provider; it needs `tree = "control"` in its
`[[provider]]`. Its `[provider.config]`:

    watch = "Thermometer/Temperature/Temperature"  # device name/entity/component
    above = 21.0
    switch_on = "Desk lamp/Light"                   # device name/entity

It fires when the value crosses the threshold upwards (not again until it has
been at or below it), never for the value the tree already held when it
started. Custom command `threshold.status` answers with what it knows. A
wrong section is reported to the core with its key (`report_config_error`)
and ends the provider with `igloo.EXIT_CONFIG`.
"""

import asyncio
import json
import logging
import sys
import tomllib
from dataclasses import dataclass, field

import igloo
from igloo.registry import Switch

LOG = logging.getLogger("threshold")


class ConfigError(ValueError):
    """`[provider.config]` is wrong; `key` names the key."""

    def __init__(self, message: str, key: str) -> None:
        super().__init__(message)
        self.key = key


def names(config: dict[str, object], key: str, shape: str) -> list[str]:
    """The `/`-separated names of `config[key]`, which must look like `shape`."""
    value = config.get(key)
    parts = value.split("/") if isinstance(value, str) else []
    if len(parts) != shape.count("/") + 1 or not all(parts):
        raise ConfigError(f'{key} must be a string "{shape}", not {value!r}', key)
    return parts


@dataclass
class Rule:
    """The configured rule and what the automation knows of the tree."""

    watch: tuple[str, str, str]
    above: float
    target: tuple[str, str]
    names: dict[int, str] = field(default_factory=dict)
    last: float | None = None
    fired: int = 0
    refused: list[str] = field(default_factory=list)

    @classmethod
    def from_config(cls, text: str) -> "Rule":
        """The rule of a `[provider.config]` section; `ConfigError` if it is wrong."""
        config = tomllib.loads(text)
        device, entity, component = names(config, "watch", "device/entity/component")
        target_device, target_entity = names(config, "switch_on", "device/entity")
        above = config.get("above")
        if isinstance(above, bool) or not isinstance(above, int | float):
            raise ConfigError(f"above must be a number, not {above!r}", "above")
        return cls((device, entity, component), float(above), (target_device, target_entity))

    def device_id(self, name: str) -> int | None:
        return next((i for i, n in self.names.items() if n == name), None)

    def crossed(self, value: float) -> bool:
        """Takes the watched value; `True` when it just rose above the threshold."""
        before, self.last = self.last, value
        return before is not None and before <= self.above < value


async def switch_on(provider: igloo.Provider, rule: Rule) -> None:
    device = rule.device_id(rule.target[0])
    if device is None:
        LOG.warning("no device named %r to switch on", rule.target[0])
        return
    try:
        await provider.request_change(device, rule.target[1], [Switch(True)])
        rule.fired += 1
        LOG.info(
            "%s rose above %s: asked %s to switch on", rule.watch[0], rule.above, rule.target[0]
        )
    except igloo.IglooError as err:
        rule.refused.append(str(err))
        LOG.warning("switching %s on was refused: %s", rule.target[0], err)


async def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    provider = await igloo.connect("igloo-example-threshold", "0.1.0")
    try:
        rule = Rule.from_config(provider.config)
    except ConfigError as err:
        await provider.report_config_error(str(err), err.key)
        return igloo.EXIT_CONFIG
    await provider.observe_tree()
    tasks: set[asyncio.Task[None]] = set()

    async for event in provider.events():
        if isinstance(event, igloo.TreeDevice):
            rule.names[event.device] = event.name
            if event.name == rule.watch[0] and rule.last is None:
                entity = next((e for e in event.entities if e.name == rule.watch[1]), None)
                value = entity.values.get(rule.watch[2]) if entity else None
                if isinstance(value, int | float):
                    rule.last = float(value)
        elif isinstance(event, igloo.TreeRemoved):
            rule.names.pop(event.device, None)
        elif isinstance(event, igloo.TreeState) and event.entity == rule.watch[1]:
            value = event.values.get(rule.watch[2])
            if rule.names.get(event.device) == rule.watch[0] and isinstance(value, int | float):
                if rule.crossed(float(value)):
                    # From a task: the core's answer comes through this same loop.
                    task = asyncio.create_task(switch_on(provider, rule))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
        elif isinstance(event, igloo.CoreError):
            LOG.error("the core: %s (code %d)", event.message, event.code)
        elif isinstance(event, igloo.Custom) and event.command == "threshold.status":
            status = {
                "last": rule.last,
                "fired": rule.fired,
                "refused": rule.refused,
                "devices": len(rule.names),
            }
            await provider.reply_custom(event.request_id, json.dumps(status))
        elif isinstance(event, igloo.Custom):
            await provider.reply_error(event.request_id, f"unknown command {event.command!r}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

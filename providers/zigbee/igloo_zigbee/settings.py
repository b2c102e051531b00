"""The provider's `[provider.config]` section.

```toml
[provider.config]
radio = "znp"                         # znp | ezsp | deconz; default: from the stick
baudrate = 115200                     # default: the stick's (radio.py)
flow_control = "none"                 # hardware | software | none; default: the stick's
consider_unavailable_mains = 7200     # s without any message → unavailable (ZHA's default)
consider_unavailable_battery = 21600  # the same for battery devices (ZHA's default)
```

The two timeouts carry ZHA's names and defaults, so a configuration moved
from Home Assistant reads the same.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Any

MAINS_DEFAULT_S = 2 * 3600.0
BATTERY_DEFAULT_S = 6 * 3600.0


class ConfigError(ValueError):
    """`[provider.config]` is wrong; `key` names the offending key."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class Settings:
    """The parsed section: the configured radio (None: from the stick) and the
    availability timeouts in seconds per power source."""

    radio: str | None = None
    baudrate: int | None = None
    flow_control: str | None = ""  # "": not set (the stick's); None: none
    unavailable_mains_s: float = MAINS_DEFAULT_S
    unavailable_battery_s: float = BATTERY_DEFAULT_S


def _seconds(config: dict[str, Any], key: str, default: float) -> float:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{key} must be a positive number of seconds, not {value!r}", key)
    return float(value)


def parse(text: str) -> Settings:
    """Parses the section's TOML text; raises `ConfigError`."""
    try:
        config = tomllib.loads(text or "")
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"[provider.config] does not parse: {err}") from err
    radio = config.get("radio")
    if radio is not None and not isinstance(radio, str):
        raise ConfigError(f"radio must be a string, not {radio!r}", "radio")
    baudrate = config.get("baudrate")
    if baudrate is not None and (
        isinstance(baudrate, bool) or not isinstance(baudrate, int) or baudrate <= 0
    ):
        raise ConfigError(f"baudrate must be a positive integer, not {baudrate!r}", "baudrate")
    flow = config.get("flow_control", "")
    if flow not in ("", "hardware", "software", "none"):
        raise ConfigError(
            f'flow_control must be "hardware", "software" or "none", not {flow!r}', "flow_control"
        )
    return Settings(
        radio=radio,
        baudrate=baudrate,
        flow_control=None if flow == "none" else flow,
        unavailable_mains_s=_seconds(config, "consider_unavailable_mains", MAINS_DEFAULT_S),
        unavailable_battery_s=_seconds(config, "consider_unavailable_battery", BATTERY_DEFAULT_S),
    )

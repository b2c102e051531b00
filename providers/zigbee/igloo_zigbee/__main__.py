"""`python3 -m igloo_zigbee`: connects to the core and serves until it closes.
A wrong `[provider.config]` is reported to the core with its key and ends it
with 78 (EX_CONFIG), which the core shows as `config_error` with the key's
line in igloo.toml and does not restart (docs/providers.md)."""

from __future__ import annotations

import asyncio
import logging
import sys

import igloo

from igloo_zigbee import __version__
from igloo_zigbee.provider import ZigbeeProvider
from igloo_zigbee.settings import ConfigError


async def main() -> int:
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    # zigpy's own INFO lines (every frame's fate) would flood the core's log.
    for library in ("zigpy", "zigpy_znp", "bellows", "zigpy_deconz"):
        logging.getLogger(library).setLevel(logging.WARNING)
    provider = await igloo.connect("zigbee", __version__)
    try:
        zigbee = ZigbeeProvider(provider)
    except ConfigError as err:
        logging.getLogger("igloo_zigbee").error("[provider.config]: %s", err)
        await provider.report_config_error(str(err), err.key)
        return igloo.EXIT_CONFIG
    await zigbee.run()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

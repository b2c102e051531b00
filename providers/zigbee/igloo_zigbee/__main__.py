"""`python3 -m igloo_zigbee`: connects to the core and serves until it closes."""

from __future__ import annotations

import asyncio
import logging
import sys

import igloo

from igloo_zigbee import __version__
from igloo_zigbee.provider import ZigbeeProvider


async def main() -> None:
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    # zigpy's own INFO lines (every frame's fate) would flood the core's log.
    logging.getLogger("zigpy").setLevel(logging.WARNING)
    logging.getLogger("zigpy_znp").setLevel(logging.WARNING)
    provider = await igloo.connect("zigbee", __version__)
    await ZigbeeProvider(provider).run()


if __name__ == "__main__":
    asyncio.run(main())

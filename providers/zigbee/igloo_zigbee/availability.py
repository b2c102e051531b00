"""Availability by silence, per power source (as ZHA does it).

A Zigbee device that sends nothing for a while is taken as gone: a mains
powered device (a router, which talks often) after `unavailable_mains_s`,
a battery device (a sleepy end device, which may report once an hour) after
`unavailable_battery_s`. zigpy stamps every frame a device sends into its
`last_seen`; `stale` says which devices passed their timeout, and the
provider makes a device available again on its next frame (zigpy's
`device_last_seen_updated` event).

A silent mains-powered device is asked first, as ZHA does: many bulbs and
plugs report nothing while nothing changes, yet answer at once. `answers_poll`
reads its Basic cluster's `manufacturer` (attribute 0x0004, ZCL spec 3.2.2.2)
past zigpy's cache; any answer is a frame, which stamps `last_seen` again. Only
a device that does not answer becomes unavailable. Battery devices sleep with
their radio off and cannot be asked: their silence decides.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from igloo_zigbee.settings import Settings

LOG = logging.getLogger(__name__)

#: The Basic cluster (ZCL spec 3.2).
BASIC = 0x0000
#: How long a poll may take, in seconds: zigpy's own request timeouts and
#: the radio library's retries (route discovery) end sooner.
POLL_TIMEOUT_S = 30.0


def power_source(zdev: Any) -> str:
    """`mains`, `battery` or `unknown`, from the node descriptor's MAC
    capability flags (zigpy's `is_mains_powered`)."""
    desc = getattr(zdev, "node_desc", None)
    mains = None if desc is None else desc.is_mains_powered
    if mains is None:
        return "unknown"
    return "mains" if mains else "battery"


def timeout_s(settings: Settings, zdev: Any) -> float:
    """Seconds of silence after which `zdev` is unavailable: battery devices
    get the battery timeout, everything else (mains, unknown) the mains one."""
    if power_source(zdev) == "battery":
        return settings.unavailable_battery_s
    return settings.unavailable_mains_s


def check_interval_s(settings: Settings) -> float:
    """How often to look: a fifth of the shorter timeout, between 0.2 s and 60 s."""
    shorter = min(settings.unavailable_mains_s, settings.unavailable_battery_s)
    return max(0.2, min(60.0, shorter / 5))


def stale(settings: Settings, devices: Iterable[Any], now: float, since: float) -> list[Any]:
    """The devices of `devices` silent past their timeout at `now` (wall-clock
    seconds, zigpy's clock). A device never heard counts from `since` (when
    the network started)."""
    out = []
    for zdev in devices:
        seen = zdev.last_seen if zdev.last_seen is not None else since
        if now - seen > timeout_s(settings, zdev):
            out.append(zdev)
    return out


def pollable(zdev: Any) -> bool:
    """Whether a silent `zdev` is asked before it is marked unavailable:
    mains-powered devices, whose radio is always on."""
    return power_source(zdev) == "mains"


async def answers_poll(zdev: Any) -> bool:
    """Reads `manufacturer` from the Basic cluster of `zdev`'s first endpoint
    that has one, bypassing zigpy's cache. True when the device answered
    (an error status in the answer counts: it is on the air); False when the
    request failed or timed out (zigpy's `DeliveryError`, `TimeoutError`), or
    the device has no Basic cluster to ask."""
    basic = next(
        (
            ep.in_clusters[BASIC]
            for ep_id, ep in sorted(zdev.endpoints.items())
            if ep_id and BASIC in getattr(ep, "in_clusters", {})
        ),
        None,
    )
    if basic is None:
        return False
    try:
        async with asyncio.timeout(POLL_TIMEOUT_S):
            await basic.read_attributes(["manufacturer"], allow_cache=False)
    except asyncio.CancelledError:
        raise
    except Exception as err:  # noqa: BLE001 - any failure means: no answer
        LOG.info("%s did not answer a read of its Basic cluster: %s", zdev.ieee, err)
        return False
    return True

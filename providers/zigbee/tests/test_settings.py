"""`[provider.config]` parsing (settings.py) and the silence timeouts per
power source (availability.py), on stand-ins for zigpy devices."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from igloo_zigbee import availability, settings


@dataclass
class NodeDesc:
    is_mains_powered: bool | None


@dataclass
class Dev:
    node_desc: NodeDesc | None
    last_seen: float | None


def test_defaults_are_zhas_and_keys_override_them() -> None:
    default = settings.parse("")
    assert (default.radio, default.baudrate, default.flow_control) == (None, None, "")
    assert (default.unavailable_mains_s, default.unavailable_battery_s) == (7200.0, 21600.0)
    parsed = settings.parse(
        'radio = "ezsp"\nbaudrate = 460800\nflow_control = "none"\n'
        "consider_unavailable_mains = 60\nconsider_unavailable_battery = 90.5\n"
    )
    assert (parsed.radio, parsed.baudrate, parsed.flow_control) == ("ezsp", 460800, None)
    assert (parsed.unavailable_mains_s, parsed.unavailable_battery_s) == (60.0, 90.5)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("consider_unavailable_mains = 0", "consider_unavailable_mains"),
        ('consider_unavailable_battery = "6h"', "consider_unavailable_battery"),
        ("consider_unavailable_battery = true", "consider_unavailable_battery"),
        ("baudrate = -1", "baudrate"),
        ('flow_control = "rts"', "flow_control"),
        ("radio = 3", "radio"),
        ("radio = ", None),
    ],
)
def test_a_wrong_value_names_its_key(text: str, key: str | None) -> None:
    with pytest.raises(settings.ConfigError) as err:
        settings.parse(text)
    assert err.value.key == key


def test_each_power_source_has_its_own_timeout() -> None:
    config = settings.Settings(unavailable_mains_s=100.0, unavailable_battery_s=1000.0)
    mains = Dev(NodeDesc(True), last_seen=0.0)
    battery = Dev(NodeDesc(False), last_seen=0.0)
    unknown = Dev(None, last_seen=0.0)
    assert [availability.power_source(d) for d in (mains, battery, unknown)] == [
        "mains",
        "battery",
        "unknown",
    ]
    devices = [mains, battery, unknown]
    assert availability.stale(config, devices, now=50.0, since=0.0) == []
    # Past the mains timeout: mains and unknown devices, not the battery one.
    assert availability.stale(config, devices, now=500.0, since=0.0) == [mains, unknown]
    # Past the battery timeout too.
    assert availability.stale(config, devices, now=1500.0, since=0.0) == devices
    # A frame resets the clock.
    battery.last_seen = 1400.0
    assert battery not in availability.stale(config, devices, now=1500.0, since=0.0)


def test_a_device_never_heard_counts_from_the_network_start() -> None:
    config = settings.Settings(unavailable_mains_s=100.0, unavailable_battery_s=1000.0)
    silent = Dev(NodeDesc(True), last_seen=None)
    assert availability.stale(config, [silent], now=1050.0, since=1000.0) == []
    assert availability.stale(config, [silent], now=1101.0, since=1000.0) == [silent]


def test_the_watch_interval_follows_the_shorter_timeout() -> None:
    short = settings.Settings(unavailable_mains_s=2.0, unavailable_battery_s=3600.0)
    assert availability.check_interval_s(short) == pytest.approx(0.4)
    assert availability.check_interval_s(settings.Settings()) == 60.0

"""ZCL clusters → Igloo entities and components, and change requests → ZCL commands.

Pure mapping over zigpy's device objects: which entities a device has (from
the server clusters of its endpoints), their values (from zigpy's attribute
cache, which reads and reports fill), what to read and to report at the
interview, and the commands a change request becomes. Values are what the
device reported, never what was asked (the tree changes on the report).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ON_OFF, LEVEL, COLOR = 0x0006, 0x0008, 0x0300
POWER_CFG, TEMPERATURE, HUMIDITY = 0x0001, 0x0402, 0x0405
IAS_ZONE, METERING, ELECTRICAL = 0x0500, 0x0702, 0x0B04

# Attributes read after the interview and configured for reporting, per cluster.
WATCHED: dict[int, tuple[str, ...]] = {
    ON_OFF: ("on_off",),
    LEVEL: ("current_level",),
    COLOR: ("current_x", "current_y", "color_temperature"),
    POWER_CFG: ("battery_percentage_remaining",),
    TEMPERATURE: ("measured_value",),
    HUMIDITY: ("measured_value",),
    IAS_ZONE: ("zone_status",),
    METERING: ("current_summ_delivered", "multiplier", "divisor"),
    ELECTRICAL: ("active_power", "ac_power_multiplier", "ac_power_divisor"),
}
# Attributes that change by themselves (reported); the others are read once.
REPORTED = {
    "on_off",
    "current_level",
    "current_x",
    "current_y",
    "color_temperature",
    "battery_percentage_remaining",
    "measured_value",
    "zone_status",
    "current_summ_delivered",
    "active_power",
}


@dataclass(frozen=True)
class EntitySpec:
    """One Igloo entity of a device: its name, the endpoint and clusters that
    make it, and the components a user may change."""

    name: str
    endpoint: int
    clusters: tuple[int, ...]
    writable: tuple[str, ...] = ()


def entities_of(device: Any) -> list[EntitySpec]:
    """The entities of a zigpy device, from its endpoints' server clusters."""
    specs: list[EntitySpec] = []
    for ep_id, ep in sorted(device.endpoints.items()):
        if ep_id == 0:
            continue
        have = set(ep.in_clusters)
        if ON_OFF in have:
            if LEVEL in have or COLOR in have:
                clusters = tuple(c for c in (ON_OFF, LEVEL, COLOR) if c in have)
                writable = ["Switch", "Brightness"] if LEVEL in have else ["Switch"]
                if COLOR in have:
                    writable += ["ColorTemperature", "Color"]
                specs.append(EntitySpec("Light", ep_id, clusters, tuple(writable)))
            else:
                specs.append(EntitySpec("Switch", ep_id, (ON_OFF,), ("Switch",)))
        for cluster, name in (
            (TEMPERATURE, "Temperature"),
            (HUMIDITY, "Humidity"),
            (IAS_ZONE, "Contact"),
            (ELECTRICAL, "Power"),
            (METERING, "Energy"),
            (POWER_CFG, "Battery"),
        ):
            if cluster in have:
                specs.append(EntitySpec(name, ep_id, (cluster,)))
    return specs


def _get(device: Any, endpoint: int, cluster: int, attr: str) -> Any:
    return device.endpoints[endpoint].in_clusters[cluster].get(attr)


def values_of(device: Any, spec: EntitySpec) -> dict[str, bool | int | float | str]:
    """The entity's components from zigpy's attribute cache (only known ones)."""
    ep = spec.endpoint

    def get(cluster: int, attr: str) -> Any:
        return _get(device, ep, cluster, attr)

    out: dict[str, bool | int | float | str] = {}
    if spec.name == "Light":
        out["Light"] = True
    if ON_OFF in spec.clusters and (on := get(ON_OFF, "on_off")) is not None:
        out["Switch"] = bool(on)
    if LEVEL in spec.clusters and (level := get(LEVEL, "current_level")) is not None:
        out["Brightness"] = round(int(level) * 100 / 254, 1)
    if COLOR in spec.clusters:
        if (mired := get(COLOR, "color_temperature")) is not None:
            out["ColorTemperature"] = int(mired)
        x, y = get(COLOR, "current_x"), get(COLOR, "current_y")
        if x is not None and y is not None:
            out["Color"] = xy_to_hex(int(x) / 65536, int(y) / 65536)
    if TEMPERATURE in spec.clusters and (t := get(TEMPERATURE, "measured_value")) is not None:
        out["Temperature"] = round(int(t) / 100, 2)
    if HUMIDITY in spec.clusters and (h := get(HUMIDITY, "measured_value")) is not None:
        out["Humidity"] = round(int(h) / 100, 2)
    if IAS_ZONE in spec.clusters and (zone := get(IAS_ZONE, "zone_status")) is not None:
        out["Contact"] = not bool(int(zone) & 0x0001)  # alarm 1 = open
    if POWER_CFG in spec.clusters:
        battery = get(POWER_CFG, "battery_percentage_remaining")
        if battery is not None and int(battery) != 0xFF:
            out["Battery"] = round(int(battery) / 2, 1)
    if ELECTRICAL in spec.clusters and (w := get(ELECTRICAL, "active_power")) is not None:
        mult = get(ELECTRICAL, "ac_power_multiplier") or 1
        div = get(ELECTRICAL, "ac_power_divisor") or 1
        out["Power"] = round(int(w) * int(mult) / int(div), 3)
    if METERING in spec.clusters:
        summ = get(METERING, "current_summ_delivered")
        if summ is not None:
            mult = get(METERING, "multiplier") or 1
            div = get(METERING, "divisor") or 1
            out["Energy"] = round(int(summ) * int(mult) / int(div), 3)
    return out


async def apply_change(device: Any, spec: EntitySpec, values: dict[str, Any]) -> list[str]:
    """Sends the ZCL commands a change request asks for; returns what was sent."""
    ep = device.endpoints[spec.endpoint]
    sent: list[str] = []
    if "Brightness" in values and LEVEL in spec.clusters:
        level = max(0, min(254, round(float(values["Brightness"]) * 254 / 100)))
        await ep.in_clusters[LEVEL].move_to_level_with_on_off(level=level, transition_time=0)
        sent.append(f"move_to_level_with_on_off({level})")
    if "Switch" in values and ON_OFF in spec.clusters and "Brightness" not in values:
        on = bool(values["Switch"])
        await (ep.in_clusters[ON_OFF].on() if on else ep.in_clusters[ON_OFF].off())
        sent.append("on" if on else "off")
    if "ColorTemperature" in values and COLOR in spec.clusters:
        mired = int(values["ColorTemperature"])
        await ep.in_clusters[COLOR].move_to_color_temp(color_temp_mireds=mired, transition_time=0)
        sent.append(f"move_to_color_temp({mired})")
    if "Color" in values and COLOR in spec.clusters:
        x, y = hex_to_xy(str(values["Color"]))
        await ep.in_clusters[COLOR].move_to_color(
            color_x=round(x * 65535), color_y=round(y * 65535), transition_time=0
        )
        sent.append("move_to_color")
    return sent


def _gamma(c: float) -> float:
    return 12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055


def _linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def xy_to_hex(x: float, y: float) -> str:
    """CIE 1931 xy at full brightness → sRGB `#rrggbb` (largest channel 255)."""
    if y <= 0:
        return "#ffffff"
    big_x, big_z = x / y, (1 - x - y) / y
    r = 3.2406 * big_x - 1.5372 - 0.4986 * big_z
    g = -0.9689 * big_x + 1.8758 + 0.0415 * big_z
    b = 0.0557 * big_x - 0.2040 + 1.0570 * big_z
    rgb = [max(0.0, c) for c in (r, g, b)]
    top = max(rgb) or 1.0
    channels = [round(_gamma(c / top) * 255) for c in rgb]
    return "#" + "".join(f"{min(255, c):02x}" for c in channels)


def hex_to_xy(color: str) -> tuple[float, float]:
    """sRGB `#rrggbb` → CIE 1931 xy."""
    r, g, b = (_linear(int(color[i : i + 2], 16) / 255) for i in (1, 3, 5))
    big_x = 0.4124 * r + 0.3576 * g + 0.1805 * b
    big_y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    big_z = 0.0193 * r + 0.1192 * g + 0.9505 * b
    total = big_x + big_y + big_z
    if total == 0:
        return 0.3127, 0.3290  # D65 white for black
    return big_x / total, big_y / total

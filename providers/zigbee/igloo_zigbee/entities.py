"""ZCL clusters → Igloo entities and components.

Pure mapping over zigpy's device objects: which entities a device has (from
the server clusters of its endpoints), their values (from zigpy's attribute
cache, which reads and reports fill) and what to read and to report at the
interview. Values are what the device reported, never what was asked (the
tree changes on the report). The change requests these entities accept
become ZCL commands in commands.py.

Units follow components.toml: ZCL's hundredths (°C, %) are divided, the
illuminance's 10000·log10(lux)+1 is undone, the pressure's 0.1 kPa is hPa,
electrical values take their multiplier/divisor, and a window covering's
ZCL lift percentage (0 = fully open) is turned into Igloo's
`CoverPosition` (0 % = closed, 100 % = open).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ON_OFF, LEVEL, COLOR = 0x0006, 0x0008, 0x0300
POWER_CFG, TEMPERATURE, HUMIDITY = 0x0001, 0x0402, 0x0405
ILLUMINANCE, PRESSURE, OCCUPANCY = 0x0400, 0x0403, 0x0406
IAS_ZONE, METERING, ELECTRICAL = 0x0500, 0x0702, 0x0B04
DOOR_LOCK, COVER, THERMOSTAT = 0x0101, 0x0102, 0x0201

# Attributes read after the interview and configured for reporting, per cluster.
WATCHED: dict[int, tuple[str, ...]] = {
    ON_OFF: ("on_off",),
    LEVEL: ("current_level",),
    COLOR: ("current_x", "current_y", "color_temperature"),
    POWER_CFG: ("battery_percentage_remaining",),
    TEMPERATURE: ("measured_value",),
    HUMIDITY: ("measured_value",),
    ILLUMINANCE: ("measured_value",),
    PRESSURE: ("measured_value",),
    OCCUPANCY: ("occupancy",),
    IAS_ZONE: ("zone_type", "zone_status"),
    METERING: ("current_summ_delivered", "multiplier", "divisor"),
    ELECTRICAL: (
        "active_power",
        "rms_voltage",
        "rms_current",
        "ac_power_multiplier",
        "ac_power_divisor",
        "ac_voltage_multiplier",
        "ac_voltage_divisor",
        "ac_current_multiplier",
        "ac_current_divisor",
    ),
    DOOR_LOCK: ("lock_state",),
    COVER: ("current_position_lift_percentage",),
    THERMOSTAT: ("local_temperature", "occupied_heating_setpoint", "system_mode"),
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
    "occupancy",
    "zone_status",
    "current_summ_delivered",
    "active_power",
    "rms_voltage",
    "rms_current",
    "lock_state",
    "current_position_lift_percentage",
    "local_temperature",
    "occupied_heating_setpoint",
    "system_mode",
}

# IAS zone type → (entity name, component); the alarm 1 bit of the zone
# status is the component's "true", except for a contact (alarm = open).
ZONE_KINDS: dict[int, tuple[str, str]] = {
    0x0015: ("Contact", "Contact"),
    0x000D: ("Motion", "Motion"),
    0x002A: ("Water leak", "WaterLeak"),
    0x0028: ("Smoke", "Smoke"),
}
UNKNOWN_ZONE = ("Alarm", "Binary")

# Thermostat system mode (ZCL 6.3.2.2.3.14) ⇄ Igloo's ClimateMode. Emergency
# heating and pre-cooling read as Heat and Cool; Sleep has no Igloo mode.
SYSTEM_MODES: dict[int, str] = {0: "Off", 1: "Auto", 3: "Cool", 4: "Heat", 7: "FanOnly", 8: "Dry"}
SYSTEM_MODES_READ: dict[int, str] = {**SYSTEM_MODES, 5: "Heat", 6: "Cool"}
# Door lock state (ZCL 7.3.2.2.1): not fully locked is a bolt that stopped
# half-way, which Igloo calls jammed.
LOCK_STATES: dict[int, str] = {0: "Jammed", 1: "Locked", 2: "Unlocked"}


@dataclass(frozen=True)
class EntitySpec:
    """One Igloo entity of a device: its name, the endpoint and clusters that
    make it, the components a user may change, and for an IAS zone the
    component its alarm is (`Contact`, `Motion`, `WaterLeak`, `Smoke`, `Binary`)."""

    name: str
    endpoint: int
    clusters: tuple[int, ...]
    writable: tuple[str, ...] = ()
    zone: str = ""


def _cluster(device: Any, endpoint: int, cluster: int) -> Any:
    return device.endpoints[endpoint].in_clusters[cluster]


def zone_kind(device: Any, endpoint: int) -> tuple[str, str]:
    """The (entity name, component) of the IAS zone on `endpoint`, from its
    zone type (read at the interview); `Alarm`/`Binary` while unknown."""
    zone_type = _cluster(device, endpoint, IAS_ZONE).get("zone_type")
    if zone_type is None:
        return UNKNOWN_ZONE
    return ZONE_KINDS.get(int(zone_type), UNKNOWN_ZONE)


def _endpoint_specs(device: Any, ep_id: int, have: set[int]) -> list[EntitySpec]:
    specs: list[EntitySpec] = []
    if ON_OFF in have:
        if LEVEL in have or COLOR in have:
            clusters = tuple(c for c in (ON_OFF, LEVEL, COLOR) if c in have)
            writable = ["Switch", "Brightness"] if LEVEL in have else ["Switch"]
            if COLOR in have:
                writable += ["ColorTemperature", "Color"]
            specs.append(EntitySpec("Light", ep_id, clusters, tuple(writable)))
        else:
            specs.append(EntitySpec("Switch", ep_id, (ON_OFF,), ("Switch",)))
    if COVER in have:
        specs.append(EntitySpec("Cover", ep_id, (COVER,), ("CoverCommand", "CoverPosition")))
    if THERMOSTAT in have:
        climate = ("TargetTemperature", "ClimateMode")
        specs.append(EntitySpec("Thermostat", ep_id, (THERMOSTAT,), climate))
    if DOOR_LOCK in have:
        specs.append(EntitySpec("Lock", ep_id, (DOOR_LOCK,), ("Lock", "LockCommand")))
    if IAS_ZONE in have:
        name, component = zone_kind(device, ep_id)
        specs.append(EntitySpec(name, ep_id, (IAS_ZONE,), zone=component))
    for cluster, name in (
        (TEMPERATURE, "Temperature"),
        (HUMIDITY, "Humidity"),
        (PRESSURE, "Pressure"),
        (ILLUMINANCE, "Illuminance"),
        (OCCUPANCY, "Occupancy"),
        (ELECTRICAL, "Power"),
        (METERING, "Energy"),
        (POWER_CFG, "Battery"),
    ):
        if cluster in have:
            specs.append(EntitySpec(name, ep_id, (cluster,)))
    return specs


def entities_of(device: Any) -> list[EntitySpec]:
    """The entities of a zigpy device, from its endpoints' server clusters.
    Names are unique per device: a second endpoint's entity of the same kind
    is named with its endpoint (`Switch 2`)."""
    specs: list[EntitySpec] = []
    names: set[str] = set()
    for ep_id, ep in sorted(device.endpoints.items()):
        if ep_id == 0:
            continue
        for spec in _endpoint_specs(device, ep_id, set(ep.in_clusters)):
            if spec.name in names:
                spec = EntitySpec(
                    f"{spec.name} {ep_id}", ep_id, spec.clusters, spec.writable, spec.zone
                )
            names.add(spec.name)
            specs.append(spec)
    return specs


def _scaled(get: Any, cluster: int, value: str, mult: str, div: str) -> float | None:
    raw = get(cluster, value)
    if raw is None:
        return None
    multiplier = get(cluster, mult) or 1
    divisor = get(cluster, div) or 1
    return round(int(raw) * int(multiplier) / int(divisor), 3)


def lux(measured: int) -> float:
    """ZCL illuminance (10000·log10(lux) + 1; 0 = too dark to measure) → lux."""
    if measured <= 0:
        return 0.0
    return round(10 ** ((measured - 1) / 10000), 1)


def values_of(device: Any, spec: EntitySpec) -> dict[str, bool | int | float | str]:
    """The entity's components from zigpy's attribute cache (only known ones)."""
    ep = spec.endpoint

    def get(cluster: int, attr: str) -> Any:
        return _cluster(device, ep, cluster).get(attr)

    out: dict[str, bool | int | float | str] = {}
    clusters = spec.clusters
    if spec.name.startswith("Light"):
        out["Light"] = True
    if ON_OFF in clusters and (on := get(ON_OFF, "on_off")) is not None:
        out["Switch"] = bool(on)
    if LEVEL in clusters and (level := get(LEVEL, "current_level")) is not None:
        out["Brightness"] = round(int(level) * 100 / 254, 1)
    if COLOR in clusters:
        if (mired := get(COLOR, "color_temperature")) is not None:
            out["ColorTemperature"] = int(mired)
        x, y = get(COLOR, "current_x"), get(COLOR, "current_y")
        if x is not None and y is not None:
            out["Color"] = xy_to_hex(int(x) / 65536, int(y) / 65536)
    if TEMPERATURE in clusters and (t := get(TEMPERATURE, "measured_value")) is not None:
        out["Temperature"] = round(int(t) / 100, 2)
    if HUMIDITY in clusters and (h := get(HUMIDITY, "measured_value")) is not None:
        out["Humidity"] = round(int(h) / 100, 2)
    if PRESSURE in clusters and (p := get(PRESSURE, "measured_value")) is not None:
        out["Pressure"] = float(int(p))  # 0.1 kPa = 1 hPa
    if ILLUMINANCE in clusters:
        measured = get(ILLUMINANCE, "measured_value")
        if measured is not None and int(measured) != 0xFFFF:
            out["Illuminance"] = lux(int(measured))
    if OCCUPANCY in clusters and (occ := get(OCCUPANCY, "occupancy")) is not None:
        out["Occupancy"] = bool(int(occ) & 0x01)
    if IAS_ZONE in clusters and (zone := get(IAS_ZONE, "zone_status")) is not None:
        alarm = bool(int(zone) & 0x0001)
        out[spec.zone or "Contact"] = not alarm if spec.zone == "Contact" else alarm
    if POWER_CFG in clusters:
        battery = get(POWER_CFG, "battery_percentage_remaining")
        if battery is not None and int(battery) != 0xFF:
            out["Battery"] = round(int(battery) / 2, 1)
    if ELECTRICAL in clusters:
        for component, attrs in (
            ("Power", ("active_power", "ac_power_multiplier", "ac_power_divisor")),
            ("Voltage", ("rms_voltage", "ac_voltage_multiplier", "ac_voltage_divisor")),
            ("Current", ("rms_current", "ac_current_multiplier", "ac_current_divisor")),
        ):
            if (value := _scaled(get, ELECTRICAL, *attrs)) is not None:
                out[component] = value
    if METERING in clusters:
        energy = _scaled(get, METERING, "current_summ_delivered", "multiplier", "divisor")
        if energy is not None:
            out["Energy"] = energy
    if COVER in clusters:
        out["Cover"] = True
        lift = get(COVER, "current_position_lift_percentage")
        if lift is not None and int(lift) <= 100:
            position = 100 - int(lift)  # ZCL: 0 % lift = fully open
            out["CoverPosition"] = float(position)
            out["CoverState"] = "Closed" if position == 0 else "Open"
    if THERMOSTAT in clusters:
        out["Climate"] = True
        local = get(THERMOSTAT, "local_temperature")
        if local is not None and int(local) != -0x8000:
            out["Temperature"] = round(int(local) / 100, 2)
        setpoint = get(THERMOSTAT, "occupied_heating_setpoint")
        if setpoint is not None and int(setpoint) != -0x8000:
            out["TargetTemperature"] = round(int(setpoint) / 100, 2)
        mode = get(THERMOSTAT, "system_mode")
        if mode is not None and int(mode) in SYSTEM_MODES_READ:
            out["ClimateMode"] = SYSTEM_MODES_READ[int(mode)]
    if DOOR_LOCK in clusters:
        state = get(DOOR_LOCK, "lock_state")
        if state is not None and int(state) in LOCK_STATES:
            out["Lock"] = LOCK_STATES[int(state)]
    return out


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

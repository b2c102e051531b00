"""Change requests → ZCL commands and attribute writes.

A change request names components of one entity (entities.py); each becomes
the cluster command or attribute write the ZCL specifies for it. Nothing here
touches zigpy's attribute cache: an attribute write is sent with
`update_cache=False` and read back, so the tree changes only on what the
device reports or answers to the read, never on what was asked.
"""

from __future__ import annotations

from typing import Any

from igloo_zigbee.entities import (
    COLOR,
    COVER,
    DOOR_LOCK,
    LEVEL,
    ON_OFF,
    SYSTEM_MODES,
    THERMOSTAT,
    EntitySpec,
    hex_to_xy,
)

SUCCESS = 0x00


class Refused(ValueError):
    """The entity cannot do what a change request asks (the reason is the message)."""


def _check(result: Any, what: str) -> None:
    """Raises when a command's answer is a Default Response with an error status."""
    status = getattr(result, "status", SUCCESS)
    if int(status) != SUCCESS:
        raise RuntimeError(f"{what}: the device answered status {status!r}")


async def apply_change(device: Any, spec: EntitySpec, values: dict[str, Any]) -> list[str]:
    """Sends the ZCL commands a change request asks for; returns what was sent.

    Raises `Refused` for a value the entity cannot take (before anything is
    sent), and whatever zigpy raises when the radio or the device fails."""
    clusters = device.endpoints[spec.endpoint].in_clusters
    if COVER in spec.clusters:
        return await _cover(clusters[COVER], values)
    if THERMOSTAT in spec.clusters:
        return await _thermostat(clusters[THERMOSTAT], values)
    if DOOR_LOCK in spec.clusters:
        return await _lock(clusters[DOOR_LOCK], values)
    return await _light(clusters, spec, values)


async def _light(clusters: Any, spec: EntitySpec, values: dict[str, Any]) -> list[str]:
    sent: list[str] = []
    if "Brightness" in values and LEVEL in spec.clusters:
        level = max(0, min(254, round(float(values["Brightness"]) * 254 / 100)))
        result = await clusters[LEVEL].move_to_level_with_on_off(level=level, transition_time=0)
        _check(result, "move_to_level_with_on_off")
        sent.append(f"move_to_level_with_on_off({level})")
    if "Switch" in values and ON_OFF in spec.clusters and "Brightness" not in values:
        on = bool(values["Switch"])
        result = await (clusters[ON_OFF].on() if on else clusters[ON_OFF].off())
        _check(result, "on" if on else "off")
        sent.append("on" if on else "off")
    if "ColorTemperature" in values and COLOR in spec.clusters:
        mired = int(values["ColorTemperature"])
        result = await clusters[COLOR].move_to_color_temp(
            color_temp_mireds=mired, transition_time=0
        )
        _check(result, "move_to_color_temp")
        sent.append(f"move_to_color_temp({mired})")
    if "Color" in values and COLOR in spec.clusters:
        x, y = hex_to_xy(str(values["Color"]))
        result = await clusters[COLOR].move_to_color(
            color_x=round(x * 65535), color_y=round(y * 65535), transition_time=0
        )
        _check(result, "move_to_color")
        sent.append("move_to_color")
    return sent


async def _cover(cluster: Any, values: dict[str, Any]) -> list[str]:
    """CoverCommand → up_open / down_close / stop; CoverPosition (0 % = closed)
    → go_to_lift_percentage with ZCL's lift (0 % = open)."""
    sent: list[str] = []
    command = values.get("CoverCommand")
    if command is not None:
        name = {"Open": "up_open", "Close": "down_close", "Stop": "stop"}.get(str(command))
        if name is None:
            raise Refused(f"CoverCommand {command!r}: Open, Close or Stop")
        _check(await getattr(cluster, name)(), name)
        sent.append(name)
    if "CoverPosition" in values:
        position = float(values["CoverPosition"])
        if not 0 <= position <= 100:
            raise Refused(f"CoverPosition {position}: 0..100 %")
        lift = 100 - round(position)
        _check(await cluster.go_to_lift_percentage(percentage_lift_value=lift), "go_to_lift")
        sent.append(f"go_to_lift_percentage({lift})")
    return sent


async def _thermostat(cluster: Any, values: dict[str, Any]) -> list[str]:
    """TargetTemperature → occupied_heating_setpoint (0.01 °C); ClimateMode →
    system_mode; both written, then read back."""
    writes: dict[str, int] = {}
    if "TargetTemperature" in values:
        celsius = float(values["TargetTemperature"])
        if not -273.15 <= celsius <= 327.67:
            raise Refused(f"TargetTemperature {celsius} °C is out of the ZCL range")
        writes["occupied_heating_setpoint"] = round(celsius * 100)
    if "ClimateMode" in values:
        wanted = str(values["ClimateMode"])
        modes = {name: code for code, name in SYSTEM_MODES.items()}
        if wanted not in modes:
            raise Refused(f"ClimateMode {wanted}: one of {', '.join(modes)}")
        writes["system_mode"] = modes[wanted]
    if not writes:
        return []
    await _write(cluster, writes)
    return [f"write_attributes({', '.join(f'{k}={v}' for k, v in writes.items())})"]


async def _lock(cluster: Any, values: dict[str, Any]) -> list[str]:
    """Lock Locked/Unlocked or LockCommand Lock/Unlock → lock_door / unlock_door."""
    wanted = values.get("LockCommand", values.get("Lock"))
    name = {"Lock": "lock_door", "Locked": "lock_door"}.get(str(wanted))
    name = name or {"Unlock": "unlock_door", "Unlocked": "unlock_door"}.get(str(wanted))
    if name is None:
        raise Refused(f"{wanted!r}: a Zigbee lock takes Lock/Locked or Unlock/Unlocked")
    # The PIN is optional in the command; a lock that needs one refuses it.
    _check(await getattr(cluster, name)(), name)
    return [name]


async def _write(cluster: Any, writes: dict[str, int]) -> None:
    """Writes attributes without touching the cache, then reads them back."""
    result = await cluster.write_attributes(writes, update_cache=False)
    records = result[0] if result else []
    failed = [r for r in records if int(getattr(r, "status", SUCCESS)) != SUCCESS]
    if failed:
        raise RuntimeError(f"write_attributes: the device answered {failed}")
    await cluster.read_attributes(list(writes))

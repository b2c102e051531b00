# Generated from components.toml by igloo-py (providers/python/src/pygen.rs): do not edit.
# Regenerate with scripts/gen-python-registry; tests/tests/python_provider.rs fails when this
# file differs from what the built module generates.
"""The component registry (components.toml) as Python classes, one per component in id order.

Each class holds its component's ``name``, ``id``, ``kind``, ``unit`` and ``variants``, and its
docstring says what it is. Make a value with the class (checked by the Rust SDK exactly as a
dict value is; a wrong kind raises ``igloo.ComponentError``), write a list of them, and read
change requests typed with ``of``::

    from igloo.registry import Brightness, Light, Switch

    await provider.write(lamp, light, [Light(), Switch(True), Brightness(40.0)])
    level = Brightness.of(event.values)  # float | None

``Values`` types the dict form for mypy: ``values: Values = {"Brightness": 40.0}``.
"""

from typing import Any, Literal, TypedDict

from igloo._component import Component, Marker

__all__ = [
    "ALL",
    "Action",
    "ApparentPower",
    "Battery",
    "BatteryLow",
    "Binary",
    "Brightness",
    "ButtonPress",
    "Climate",
    "ClimateAction",
    "ClimateActionVariant",
    "ClimateFanMode",
    "ClimateMode",
    "ClimateModeVariant",
    "ClimatePreset",
    "ClimateSwingMode",
    "Co2",
    "Color",
    "ColorTemperature",
    "Component",
    "Contact",
    "Cover",
    "CoverCommand",
    "CoverCommandVariant",
    "CoverPosition",
    "CoverState",
    "CoverStateVariant",
    "CoverTilt",
    "Current",
    "Effect",
    "Energy",
    "Fan",
    "FanDirection",
    "FanDirectionVariant",
    "FanOscillating",
    "FanPreset",
    "FanSpeed",
    "Frequency",
    "Gas",
    "Humidity",
    "Illuminance",
    "Light",
    "LinkQuality",
    "Lock",
    "LockCommand",
    "LockCommandVariant",
    "LockVariant",
    "Marker",
    "Motion",
    "Number",
    "Occupancy",
    "Pm25",
    "Power",
    "PowerFactor",
    "Presence",
    "Pressure",
    "ReactivePower",
    "Select",
    "Sensor",
    "Smoke",
    "SoilMoisture",
    "Switch",
    "Tamper",
    "TargetTemperature",
    "TargetTemperatureHigh",
    "TargetTemperatureLow",
    "Temperature",
    "Text",
    "Values",
    "Vibration",
    "Voc",
    "Voltage",
    "WaterLeak",
]

CoverStateVariant = Literal[
    "Open",
    "Closed",
    "Opening",
    "Closing",
    "Stopped",
]
"""The variant names of ``CoverState``."""

CoverCommandVariant = Literal[
    "Open",
    "Close",
    "Stop",
]
"""The variant names of ``CoverCommand``."""

FanDirectionVariant = Literal[
    "Forward",
    "Reverse",
]
"""The variant names of ``FanDirection``."""

ClimateModeVariant = Literal[
    "Off",
    "Heat",
    "Cool",
    "Auto",
    "HeatCool",
    "Dry",
    "FanOnly",
]
"""The variant names of ``ClimateMode``."""

LockVariant = Literal[
    "Locked",
    "Unlocked",
    "Jammed",
    "Locking",
    "Unlocking",
]
"""The variant names of ``Lock``."""

ClimateActionVariant = Literal[
    "Off",
    "Cooling",
    "Heating",
    "Idle",
    "Drying",
    "Fan",
]
"""The variant names of ``ClimateAction``."""

LockCommandVariant = Literal[
    "Lock",
    "Unlock",
    "Open",
]
"""The variant names of ``LockCommand``."""


class Light(Marker):
    """The entity is a light.

    Id 0; kind marker (no value: ``Light()``).
    """

    name = "Light"
    id = 0
    kind = "marker"
    unit = None
    variants = ()


class Switch(Component[bool]):
    """On/off state of a switch, relay, plug or light; true = on.

    Id 1; kind bool.
    """

    name = "Switch"
    id = 1
    kind = "bool"
    unit = None
    variants = ()


class Brightness(Component[float]):
    """Light brightness, 0-100 % of the device's range (Zigbee2MQTT 0-254 and ESPHome 0.0-1.0 are
    scaled to this).

    Id 2; kind float; unit %.
    """

    name = "Brightness"
    id = 2
    kind = "float"
    unit = "%"
    variants = ()


class Color(Component[str]):
    """Light colour as sRGB.

    Id 3; kind color (``"#rrggbb"``).
    """

    name = "Color"
    id = 3
    kind = "color"
    unit = None
    variants = ()


class ColorTemperature(Component[int]):
    """White colour temperature in mired (1 000 000 / kelvin), as Zigbee2MQTT's color_temp and
    ESPHome's color_temperature.

    Id 4; kind int; unit mired.
    """

    name = "ColorTemperature"
    id = 4
    kind = "int"
    unit = "mired"
    variants = ()


class Temperature(Component[float]):
    """Measured temperature.

    Id 5; kind float; unit °C.
    """

    name = "Temperature"
    id = 5
    kind = "float"
    unit = "°C"
    variants = ()


class Humidity(Component[float]):
    """Relative humidity.

    Id 6; kind float; unit %.
    """

    name = "Humidity"
    id = 6
    kind = "float"
    unit = "%"
    variants = ()


class Pressure(Component[float]):
    """Atmospheric pressure.

    Id 7; kind float; unit hPa.
    """

    name = "Pressure"
    id = 7
    kind = "float"
    unit = "hPa"
    variants = ()


class Illuminance(Component[float]):
    """Illuminance.

    Id 8; kind float; unit lx.
    """

    name = "Illuminance"
    id = 8
    kind = "float"
    unit = "lx"
    variants = ()


class Power(Component[float]):
    """Instantaneous active power; negative when exporting.

    Id 9; kind float; unit W.
    """

    name = "Power"
    id = 9
    kind = "float"
    unit = "W"
    variants = ()


class Energy(Component[float]):
    """Cumulative energy counter.

    Id 10; kind float; unit kWh.
    """

    name = "Energy"
    id = 10
    kind = "float"
    unit = "kWh"
    variants = ()


class Voltage(Component[float]):
    """RMS voltage.

    Id 11; kind float; unit V.
    """

    name = "Voltage"
    id = 11
    kind = "float"
    unit = "V"
    variants = ()


class Current(Component[float]):
    """RMS current.

    Id 12; kind float; unit A.
    """

    name = "Current"
    id = 12
    kind = "float"
    unit = "A"
    variants = ()


class Battery(Component[float]):
    """Battery charge remaining.

    Id 13; kind float; unit %.
    """

    name = "Battery"
    id = 13
    kind = "float"
    unit = "%"
    variants = ()


class Contact(Component[bool]):
    """Door/window contact; true = closed (contact made), as Zigbee2MQTT's contact.

    Id 14; kind bool.
    """

    name = "Contact"
    id = 14
    kind = "bool"
    unit = None
    variants = ()


class Occupancy(Component[bool]):
    """Occupancy detected (PIR or presence); true = occupied.

    Id 15; kind bool.
    """

    name = "Occupancy"
    id = 15
    kind = "bool"
    unit = None
    variants = ()


class Motion(Component[bool]):
    """Motion detected; true = motion.

    Id 16; kind bool.
    """

    name = "Motion"
    id = 16
    kind = "bool"
    unit = None
    variants = ()


class WaterLeak(Component[bool]):
    """Water leak detected; true = leak.

    Id 17; kind bool.
    """

    name = "WaterLeak"
    id = 17
    kind = "bool"
    unit = None
    variants = ()


class Smoke(Component[bool]):
    """Smoke detected; true = smoke.

    Id 18; kind bool.
    """

    name = "Smoke"
    id = 18
    kind = "bool"
    unit = None
    variants = ()


class LinkQuality(Component[int]):
    """Radio link quality indicator, 0-255 (Zigbee LQI).

    Id 19; kind int; unit lqi.
    """

    name = "LinkQuality"
    id = 19
    kind = "int"
    unit = "lqi"
    variants = ()


class Cover(Marker):
    """The entity is a cover (blind, shutter, garage door).

    Id 20; kind marker (no value: ``Cover()``).
    """

    name = "Cover"
    id = 20
    kind = "marker"
    unit = None
    variants = ()


class CoverPosition(Component[float]):
    """Cover position, 0 % = closed, 100 % = open.

    Id 21; kind float; unit %.
    """

    name = "CoverPosition"
    id = 21
    kind = "float"
    unit = "%"
    variants = ()


class CoverTilt(Component[float]):
    """Cover slat tilt, 0 % = closed, 100 % = open.

    Id 22; kind float; unit %.
    """

    name = "CoverTilt"
    id = 22
    kind = "float"
    unit = "%"
    variants = ()


class CoverState(Component[CoverStateVariant]):
    """Cover motion state as reported.

    Id 23; kind enum; variants Open, Closed, Opening, Closing, Stopped.
    """

    name = "CoverState"
    id = 23
    kind = "enum"
    unit = None
    variants = (
        "Open",
        "Closed",
        "Opening",
        "Closing",
        "Stopped",
    )


class CoverCommand(Component[CoverCommandVariant]):
    """Command a cover to open, close or stop (write-only).

    Id 24; kind enum; variants Open, Close, Stop.
    """

    name = "CoverCommand"
    id = 24
    kind = "enum"
    unit = None
    variants = (
        "Open",
        "Close",
        "Stop",
    )


class Fan(Marker):
    """The entity is a fan.

    Id 25; kind marker (no value: ``Fan()``).
    """

    name = "Fan"
    id = 25
    kind = "marker"
    unit = None
    variants = ()


class FanSpeed(Component[float]):
    """Fan speed, 0-100 % of the device's range.

    Id 26; kind float; unit %.
    """

    name = "FanSpeed"
    id = 26
    kind = "float"
    unit = "%"
    variants = ()


class FanOscillating(Component[bool]):
    """Fan oscillation on.

    Id 27; kind bool.
    """

    name = "FanOscillating"
    id = 27
    kind = "bool"
    unit = None
    variants = ()


class FanDirection(Component[FanDirectionVariant]):
    """Fan direction.

    Id 28; kind enum; variants Forward, Reverse.
    """

    name = "FanDirection"
    id = 28
    kind = "enum"
    unit = None
    variants = (
        "Forward",
        "Reverse",
    )


class Climate(Marker):
    """The entity is a climate device (thermostat, HVAC, TRV).

    Id 29; kind marker (no value: ``Climate()``).
    """

    name = "Climate"
    id = 29
    kind = "marker"
    unit = None
    variants = ()


class TargetTemperature(Component[float]):
    """Climate setpoint.

    Id 30; kind float; unit °C.
    """

    name = "TargetTemperature"
    id = 30
    kind = "float"
    unit = "°C"
    variants = ()


class ClimateMode(Component[ClimateModeVariant]):
    """Climate operating mode (Zigbee2MQTT system_mode, ESPHome ClimateMode).

    Id 31; kind enum; variants Off, Heat, Cool, Auto, HeatCool, Dry, FanOnly.
    """

    name = "ClimateMode"
    id = 31
    kind = "enum"
    unit = None
    variants = (
        "Off",
        "Heat",
        "Cool",
        "Auto",
        "HeatCool",
        "Dry",
        "FanOnly",
    )


class Text(Component[str]):
    """Free text value (a text sensor or text input).

    Id 32; kind string.
    """

    name = "Text"
    id = 32
    kind = "string"
    unit = None
    variants = ()


class Number(Component[float]):
    """A generic number without a more specific component; the entity's `unit` attribute gives its
    unit.

    Id 33; kind float.
    """

    name = "Number"
    id = 33
    kind = "float"
    unit = None
    variants = ()


class ButtonPress(Marker):
    """The entity is a button; writing this marker presses it.

    Id 34; kind marker (no value: ``ButtonPress()``).
    """

    name = "ButtonPress"
    id = 34
    kind = "marker"
    unit = None
    variants = ()


class Select(Component[str]):
    """Selected option of a select/enum entity; the entity's `options` attribute lists the allowed
    values.

    Id 35; kind string.
    """

    name = "Select"
    id = 35
    kind = "string"
    unit = None
    variants = ()


class Lock(Component[LockVariant]):
    """Lock state; write Locked or Unlocked to command it.

    Id 36; kind enum; variants Locked, Unlocked, Jammed, Locking, Unlocking.
    """

    name = "Lock"
    id = 36
    kind = "enum"
    unit = None
    variants = (
        "Locked",
        "Unlocked",
        "Jammed",
        "Locking",
        "Unlocking",
    )


class Binary(Component[bool]):
    """A generic binary sensor without a more specific component.

    Id 37; kind bool.
    """

    name = "Binary"
    id = 37
    kind = "bool"
    unit = None
    variants = ()


class Co2(Component[float]):
    """Carbon dioxide concentration.

    Id 38; kind float; unit ppm.
    """

    name = "Co2"
    id = 38
    kind = "float"
    unit = "ppm"
    variants = ()


class Pm25(Component[float]):
    """Particulate matter < 2.5 µm concentration.

    Id 39; kind float; unit µg/m³.
    """

    name = "Pm25"
    id = 39
    kind = "float"
    unit = "µg/m³"
    variants = ()


class Voc(Component[float]):
    """Volatile organic compounds concentration.

    Id 40; kind float; unit ppb.
    """

    name = "Voc"
    id = 40
    kind = "float"
    unit = "ppb"
    variants = ()


class Tamper(Component[bool]):
    """Tamper detected; true = tampered.

    Id 41; kind bool.
    """

    name = "Tamper"
    id = 41
    kind = "bool"
    unit = None
    variants = ()


class BatteryLow(Component[bool]):
    """Battery low warning; true = low.

    Id 42; kind bool.
    """

    name = "BatteryLow"
    id = 42
    kind = "bool"
    unit = None
    variants = ()


class Vibration(Component[bool]):
    """Vibration detected.

    Id 43; kind bool.
    """

    name = "Vibration"
    id = 43
    kind = "bool"
    unit = None
    variants = ()


class Presence(Component[bool]):
    """Presence detected (mmWave and similar).

    Id 44; kind bool.
    """

    name = "Presence"
    id = 44
    kind = "bool"
    unit = None
    variants = ()


class Effect(Component[str]):
    """Active light effect name; the entity's `effects` attribute lists the available ones.

    Id 45; kind string.
    """

    name = "Effect"
    id = 45
    kind = "string"
    unit = None
    variants = ()


class Frequency(Component[float]):
    """AC mains frequency.

    Id 46; kind float; unit Hz.
    """

    name = "Frequency"
    id = 46
    kind = "float"
    unit = "Hz"
    variants = ()


class PowerFactor(Component[float]):
    """Power factor, -1.0 to 1.0.

    Id 47; kind float.
    """

    name = "PowerFactor"
    id = 47
    kind = "float"
    unit = None
    variants = ()


class Action(Component[str]):
    """Last event from a remote or button (Zigbee2MQTT action, e.g. single, double, hold).

    Id 48; kind string.
    """

    name = "Action"
    id = 48
    kind = "string"
    unit = None
    variants = ()


class SoilMoisture(Component[float]):
    """Soil moisture.

    Id 49; kind float; unit %.
    """

    name = "SoilMoisture"
    id = 49
    kind = "float"
    unit = "%"
    variants = ()


class Sensor(Marker):
    """The entity is a read-only sensor.

    Id 50; kind marker (no value: ``Sensor()``).
    """

    name = "Sensor"
    id = 50
    kind = "marker"
    unit = None
    variants = ()


class Gas(Component[float]):
    """Gas volume meter reading in m³, a cumulative counter (DSMR smart meter OBIS 0-n:24.2.1).

    Id 51; kind float; unit m³.
    """

    name = "Gas"
    id = 51
    kind = "float"
    unit = "m³"
    variants = ()


class ApparentPower(Component[float]):
    """Instantaneous apparent power in VA, from an energy meter (Home Assistant device class
    apparent_power).

    Id 52; kind float; unit VA.
    """

    name = "ApparentPower"
    id = 52
    kind = "float"
    unit = "VA"
    variants = ()


class ReactivePower(Component[float]):
    """Instantaneous reactive power in var, from an energy meter (Home Assistant device class
    reactive_power).

    Id 53; kind float; unit var.
    """

    name = "ReactivePower"
    id = 53
    kind = "float"
    unit = "var"
    variants = ()


class TargetTemperatureLow(Component[float]):
    """Lower set point in °C of a climate device in heat-cool mode (ESPHome target_temperature_low).

    Id 54; kind float; unit °C.
    """

    name = "TargetTemperatureLow"
    id = 54
    kind = "float"
    unit = "°C"
    variants = ()


class TargetTemperatureHigh(Component[float]):
    """Upper set point in °C of a climate device in heat-cool mode (ESPHome
    target_temperature_high).

    Id 55; kind float; unit °C.
    """

    name = "TargetTemperatureHigh"
    id = 55
    kind = "float"
    unit = "°C"
    variants = ()


class ClimateAction(Component[ClimateActionVariant]):
    """What the climate device is doing now, as it reports it (ESPHome ClimateAction, mapped by
    name); read-only.

    Id 56; kind enum; variants Off, Cooling, Heating, Idle, Drying, Fan.
    """

    name = "ClimateAction"
    id = 56
    kind = "enum"
    unit = None
    variants = (
        "Off",
        "Cooling",
        "Heating",
        "Idle",
        "Drying",
        "Fan",
    )


class LockCommand(Component[LockCommandVariant]):
    """Change request for a lock: lock, unlock or open the latch (ESPHome LockCommand); write-only.

    Id 57; kind enum; variants Lock, Unlock, Open.
    """

    name = "LockCommand"
    id = 57
    kind = "enum"
    unit = None
    variants = (
        "Lock",
        "Unlock",
        "Open",
    )


class FanPreset(Component[str]):
    """A fan's preset mode by name (Home Assistant preset_mode, ESPHome preset_mode); the entity's
    `preset_modes` attribute lists them.

    Id 58; kind string.
    """

    name = "FanPreset"
    id = 58
    kind = "string"
    unit = None
    variants = ()


class ClimateFanMode(Component[str]):
    """A climate device's fan mode by name (Home Assistant fan_mode: auto, low, medium, high …); the
    entity's `fan_modes` attribute lists them.

    Id 59; kind string.
    """

    name = "ClimateFanMode"
    id = 59
    kind = "string"
    unit = None
    variants = ()


class ClimateSwingMode(Component[str]):
    """A climate device's swing mode by name (Home Assistant swing_mode: on, off, vertical …); the
    entity's `swing_modes` attribute lists them.

    Id 60; kind string.
    """

    name = "ClimateSwingMode"
    id = 60
    kind = "string"
    unit = None
    variants = ()


class ClimatePreset(Component[str]):
    """A climate device's preset by name (Home Assistant preset_mode: eco, away, boost …); the
    entity's `preset_modes` attribute lists them.

    Id 61; kind string.
    """

    name = "ClimatePreset"
    id = 61
    kind = "string"
    unit = None
    variants = ()


class Values(TypedDict, total=False):
    """Component name → the type of its value: a dict of values that mypy checks."""

    Light: Literal[True]
    Switch: bool
    Brightness: float
    Color: str
    ColorTemperature: int
    Temperature: float
    Humidity: float
    Pressure: float
    Illuminance: float
    Power: float
    Energy: float
    Voltage: float
    Current: float
    Battery: float
    Contact: bool
    Occupancy: bool
    Motion: bool
    WaterLeak: bool
    Smoke: bool
    LinkQuality: int
    Cover: Literal[True]
    CoverPosition: float
    CoverTilt: float
    CoverState: CoverStateVariant
    CoverCommand: CoverCommandVariant
    Fan: Literal[True]
    FanSpeed: float
    FanOscillating: bool
    FanDirection: FanDirectionVariant
    Climate: Literal[True]
    TargetTemperature: float
    ClimateMode: ClimateModeVariant
    Text: str
    Number: float
    ButtonPress: Literal[True]
    Select: str
    Lock: LockVariant
    Binary: bool
    Co2: float
    Pm25: float
    Voc: float
    Tamper: bool
    BatteryLow: bool
    Vibration: bool
    Presence: bool
    Effect: str
    Frequency: float
    PowerFactor: float
    Action: str
    SoilMoisture: float
    Sensor: Literal[True]
    Gas: float
    ApparentPower: float
    ReactivePower: float
    TargetTemperatureLow: float
    TargetTemperatureHigh: float
    ClimateAction: ClimateActionVariant
    LockCommand: LockCommandVariant
    FanPreset: str
    ClimateFanMode: str
    ClimateSwingMode: str
    ClimatePreset: str


ALL: tuple[type[Component[Any]], ...] = (
    Light,
    Switch,
    Brightness,
    Color,
    ColorTemperature,
    Temperature,
    Humidity,
    Pressure,
    Illuminance,
    Power,
    Energy,
    Voltage,
    Current,
    Battery,
    Contact,
    Occupancy,
    Motion,
    WaterLeak,
    Smoke,
    LinkQuality,
    Cover,
    CoverPosition,
    CoverTilt,
    CoverState,
    CoverCommand,
    Fan,
    FanSpeed,
    FanOscillating,
    FanDirection,
    Climate,
    TargetTemperature,
    ClimateMode,
    Text,
    Number,
    ButtonPress,
    Select,
    Lock,
    Binary,
    Co2,
    Pm25,
    Voc,
    Tamper,
    BatteryLow,
    Vibration,
    Presence,
    Effect,
    Frequency,
    PowerFactor,
    Action,
    SoilMoisture,
    Sensor,
    Gas,
    ApparentPower,
    ReactivePower,
    TargetTemperatureLow,
    TargetTemperatureHigh,
    ClimateAction,
    LockCommand,
    FanPreset,
    ClimateFanMode,
    ClimateSwingMode,
    ClimatePreset,
)
"""Every component class, in id order: ``ALL[id]``."""

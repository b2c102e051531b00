"""Emulated Zigbee end devices behind znp_coordinator.py: what each answers
over the air, built on zigpy's own ZDO and ZCL definitions (`zigpy.zdo.types`,
`zigpy.zcl.foundation`, the cluster classes for attribute types and command
schemas).

A `Node` answers ZDO requests (node descriptor, active endpoints, simple
descriptors, bind, leave) and ZCL frames (read/write attributes, configure
reporting, On/Off, Level Control, Color Control commands). A command that
changes attributes is answered with a Default Response and then reported
(Report Attributes), as a device with reporting configured does. The
catalogue (`catalogue`) holds the devices the tests use, with fixed IEEE
addresses.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import zigpy.types as _zt
import zigpy.zcl.foundation as _f
import zigpy.zdo.types as _zdo_t
from zigpy.zcl import Cluster

# zigpy's struct, enum and schema classes are only partly typed (generated
# fields, untyped constructors): used as Any here.
zt: Any = _zt
f: Any = _f
zdo_t: Any = _zdo_t

ZHA_PROFILE = 0x0104
ON_OFF, LEVEL, COLOR, IAS_ZONE = 0x0006, 0x0008, 0x0300, 0x0500
DOOR_LOCK, COVER, THERMOSTAT = 0x0101, 0x0102, 0x0201
ILLUMINANCE, PRESSURE, OCCUPANCY, ELECTRICAL = 0x0400, 0x0403, 0x0406, 0x0B04


@dataclasses.dataclass
class Endpoint:
    """One application endpoint: its descriptor and its server clusters'
    attributes (cluster id → attribute id → value, typed by the cluster's
    definition)."""

    id: int
    device_type: int
    clusters: dict[int, dict[int, Any]]
    out_clusters: list[int] = dataclasses.field(default_factory=list)

    def descriptor(self) -> Any:
        return zdo_t.SimpleDescriptor(
            endpoint=self.id,
            profile=ZHA_PROFILE,
            device_type=self.device_type,
            device_version=1,
            input_clusters=sorted(self.clusters),
            output_clusters=self.out_clusters,
        )


@dataclasses.dataclass
class Outcome:
    """What a device does with a frame: frames it sends back (cluster id,
    ZCL bytes), the command it carried out (for the `zcl_command` event) and
    the attributes it was asked to read (for the `zcl_read` event)."""

    replies: list[tuple[int, bytes]] = dataclasses.field(default_factory=list)
    command: dict[str, Any] | None = None
    read: dict[str, Any] | None = None


@dataclasses.dataclass
class Node:
    """An end device: addresses, identity (Basic cluster) and endpoints."""

    name: str
    ieee: Any  # zigpy.types.EUI64
    nwk: int
    endpoints: dict[int, Endpoint]
    logical_type: int = _zdo_t.LogicalType.EndDevice
    joined: bool = False
    #: Off: still a member of the network, but nothing reaches it and it
    #: sends nothing (a bulb switched off at the wall).
    powered: bool = True
    tsn: int = 0

    def next_tsn(self) -> int:
        self.tsn = (self.tsn + 1) & 0xFF
        return self.tsn

    # ---- ZDO ----

    def zdo(self, cluster_id: int, data: bytes) -> list[tuple[int, bytes]]:
        """Answers a ZDO request (`data` starts with its TSN): (cluster, bytes) each."""
        try:
            cmd = zdo_t.ZDOCmd(cluster_id)
        except ValueError:
            return []
        names, types = zdo_t.CLUSTERS[cmd]
        tsn = data[0]
        args, _ = zt.deserialize(data[1:], types)
        request = dict(zip(names, args, strict=True))
        answer = self._zdo_answer(cmd, request)
        if answer is None:
            return []
        rsp, values = answer
        return [(rsp, bytes([tsn]) + zt.serialize(values, zdo_t.CLUSTERS[rsp][1]))]

    def _zdo_answer(self, cmd: Any, request: dict[str, Any]) -> tuple[Any, list[Any]] | None:
        ok = zdo_t.Status.SUCCESS
        if cmd == zdo_t.ZDOCmd.Node_Desc_req:
            return zdo_t.ZDOCmd.Node_Desc_rsp, [ok, self.nwk, self.node_descriptor()]
        if cmd == zdo_t.ZDOCmd.Active_EP_req:
            return zdo_t.ZDOCmd.Active_EP_rsp, [ok, self.nwk, sorted(self.endpoints)]
        if cmd == zdo_t.ZDOCmd.Simple_Desc_req:
            ep = self.endpoints.get(int(request["EndPoint"]))
            if ep is None:
                return zdo_t.ZDOCmd.Simple_Desc_rsp, [
                    zdo_t.Status.NOT_ACTIVE,
                    self.nwk,
                    None,
                ]
            desc = zdo_t.SizePrefixedSimpleDescriptor(**ep.descriptor().as_dict())
            return zdo_t.ZDOCmd.Simple_Desc_rsp, [ok, self.nwk, desc]
        if cmd == zdo_t.ZDOCmd.Bind_req:
            return zdo_t.ZDOCmd.Bind_rsp, [ok]
        if cmd == zdo_t.ZDOCmd.Unbind_req:
            return zdo_t.ZDOCmd.Unbind_rsp, [ok]
        if cmd == zdo_t.ZDOCmd.Mgmt_Leave_req:
            return zdo_t.ZDOCmd.Mgmt_Leave_rsp, [ok]
        if cmd == zdo_t.ZDOCmd.Mgmt_NWK_Update_req:
            update = request["NwkUpdate"]
            if update.ScanDuration > 5:
                return None  # a channel change or manager update: no answer
            channels = update.ScanChannels
            # A quiet band: low energy on every scanned channel.
            energies = [20 for ch in range(11, 27) if channels & (1 << ch)]
            return zdo_t.ZDOCmd.Mgmt_NWK_Update_rsp, [ok, channels, 0, 0, energies]
        if cmd == zdo_t.ZDOCmd.IEEE_addr_req:
            return zdo_t.ZDOCmd.IEEE_addr_rsp, [ok, self.ieee, self.nwk, None, None, []]
        if cmd == zdo_t.ZDOCmd.NWK_addr_req:
            return zdo_t.ZDOCmd.NWK_addr_rsp, [ok, self.ieee, self.nwk, None, None, []]
        return None

    def node_descriptor(self) -> Any:
        end_device = self.logical_type == zdo_t.LogicalType.EndDevice
        return zdo_t.NodeDescriptor(
            logical_type=self.logical_type,
            complex_descriptor_available=0,
            user_descriptor_available=0,
            reserved=0,
            aps_flags=0,
            frequency_band=zdo_t.NodeDescriptor.FrequencyBand.Freq2400MHz,
            mac_capability_flags=(
                zdo_t.NodeDescriptor.MACCapabilityFlags.AllocateAddress
                if end_device
                else zdo_t.NodeDescriptor.MACCapabilityFlags(0x8E)
            ),
            manufacturer_code=0x1234,
            maximum_buffer_size=82,
            maximum_incoming_transfer_size=82,
            server_mask=0,
            maximum_outgoing_transfer_size=82,
            descriptor_capability_field=zdo_t.NodeDescriptor.DescriptorCapability.NONE,
        )

    def announce(self) -> bytes:
        """A Device_annce payload (without TSN)."""
        capability = 0x80 if self.logical_type == zdo_t.LogicalType.EndDevice else 0x8E
        return bytes(
            zt.serialize(
                [self.nwk, self.ieee, capability],
                zdo_t.CLUSTERS[zdo_t.ZDOCmd.Device_annce][1],
            )
        )

    # ---- ZCL ----

    def zcl(self, endpoint: int, cluster_id: int, data: bytes) -> Outcome:
        """Carries out a ZCL frame sent to `endpoint`/`cluster_id`."""
        ep = self.endpoints.get(endpoint)
        hdr, rest = f.ZCLHeader.deserialize(data)
        if ep is None or cluster_id not in ep.clusters:
            return Outcome()
        attrs = ep.clusters[cluster_id]
        cls = Cluster._registry[cluster_id]
        if hdr.frame_control.is_general:
            return self._general(hdr, rest, cluster_id, attrs, cls)
        command = cls.server_commands.get(hdr.command_id)
        if command is None:
            return Outcome(
                replies=[(cluster_id, default_response(hdr, f.Status.UNSUP_CLUSTER_COMMAND))]
            )
        args, _ = command.schema.deserialize(rest)
        changed = apply_command(cluster_id, command.name, args.as_dict(), attrs, cls)
        out = Outcome(
            command={
                "device": self.name,
                "endpoint": endpoint,
                "cluster": cluster_id,
                "command": command.name,
                "args": {k: jsonable(v) for k, v in args.as_dict().items()},
            }
        )
        if not hdr.frame_control.disable_default_response:
            out.replies.append((cluster_id, default_response(hdr, f.Status.SUCCESS)))
        if changed:
            out.replies.append((cluster_id, self.report(cluster_id, attrs, cls, changed)))
        return out

    def _general(
        self,
        hdr: Any,
        rest: bytes,
        cluster_id: int,
        attrs: dict[int, Any],
        cls: type[Cluster],
    ) -> Outcome:
        command = f.GENERAL_COMMANDS[f.GeneralCommand(hdr.command_id)]
        args, _ = command.schema.deserialize(rest)
        gc = f.GeneralCommand
        if hdr.command_id == gc.Read_Attributes:
            records = [read_record(attrs, cls, attrid) for attrid in args.attribute_ids]
            return Outcome(
                replies=[(cluster_id, reply(hdr, gc.Read_Attributes_rsp, [records]))],
                read={
                    "device": self.name,
                    "cluster": cluster_id,
                    "attributes": [int(a) for a in args.attribute_ids],
                },
            )
        if hdr.command_id == gc.Write_Attributes:
            before = dict(attrs)
            written: dict[str, Any] = {}
            for record in args.attributes:
                if record.attrid in cls.attributes:
                    value = settle(cluster_id, int(record.attrid), record.value.value)
                    attrs[record.attrid] = value
                    written[cls.attributes[record.attrid].name] = jsonable(record.value.value)
            ok = [f.WriteAttributesStatusRecord(status=f.Status.SUCCESS)]
            out = Outcome(
                replies=[(cluster_id, reply(hdr, gc.Write_Attributes_rsp, [ok]))],
                command={
                    "device": self.name,
                    "cluster": cluster_id,
                    "command": "write_attributes",
                    "args": written,
                },
            )
            # Reported as a device with reporting configured does.
            changed = [k for k, v in attrs.items() if before.get(k) != v]
            if changed:
                out.replies.append((cluster_id, self.report(cluster_id, attrs, cls, changed)))
            return out
        if hdr.command_id == gc.Configure_Reporting:
            ok = [f.ConfigureReportingResponseRecord(status=f.Status.SUCCESS)]
            return Outcome(
                replies=[(cluster_id, reply(hdr, gc.Configure_Reporting_rsp, [ok]))],
                command={
                    "device": self.name,
                    "cluster": cluster_id,
                    "command": "configure_reporting",
                    "args": {"attributes": [int(r.attrid) for r in args.config_records]},
                },
            )
        if hdr.frame_control.disable_default_response or hdr.command_id in (
            gc.Default_Response,
            gc.Report_Attributes,
        ):
            return Outcome()
        return Outcome(
            replies=[(cluster_id, default_response(hdr, f.Status.UNSUP_GENERAL_COMMAND))]
        )

    def report(
        self, cluster_id: int, attrs: dict[int, Any], cls: type[Cluster], ids: list[int]
    ) -> bytes:
        """A Report Attributes frame (device → coordinator) of attributes `ids`."""
        reports = [
            f.Attribute(attrid=attrid, value=type_value(cls, attrid, attrs[attrid]))
            for attrid in ids
        ]
        hdr = f.ZCLHeader.general(
            self.next_tsn(),
            f.GeneralCommand.Report_Attributes,
            direction=f.Direction.Server_to_Client,
        )
        hdr.frame_control = hdr.frame_control.replace(disable_default_response=True)
        schema = f.GENERAL_COMMANDS[f.GeneralCommand.Report_Attributes].schema
        return bytes(hdr.serialize() + schema(attribute_reports=reports).serialize())

    def zone_notification(self, zone_status: int) -> bytes:
        """An IAS Zone Status Change Notification (device → coordinator)."""
        cls = Cluster._registry[IAS_ZONE]
        command = cls.client_commands[0x00]
        hdr = f.ZCLHeader.cluster(self.next_tsn(), 0x00, direction=f.Direction.Server_to_Client)
        payload = command.schema(zone_status=zone_status, extended_status=0, zone_id=0, delay=0)
        return bytes(hdr.serialize() + payload.serialize())


def type_value(cls: type[Cluster], attrid: int, value: Any) -> Any:
    attr = cls.attributes[attrid]
    return f.TypeValue(type=attr.zcl_type, value=attr.type(value))


def read_record(attrs: dict[int, Any], cls: type[Cluster], attrid: int) -> Any:
    if attrid not in attrs:
        return f.ReadAttributeRecord(attrid=attrid, status=f.Status.UNSUPPORTED_ATTRIBUTE)
    return f.ReadAttributeRecord(
        attrid=attrid, status=f.Status.SUCCESS, value=type_value(cls, attrid, attrs[attrid])
    )


def reply(hdr: Any, command_id: int, args: list[Any]) -> bytes:
    """A general-command answer to `hdr` (same TSN, server → client)."""
    out = f.ZCLHeader.general(hdr.tsn, command_id, direction=f.Direction.Server_to_Client)
    out.frame_control = out.frame_control.replace(disable_default_response=True)
    return bytes(out.serialize() + f.GENERAL_COMMANDS[command_id].schema(*args).serialize())


def default_response(hdr: Any, status: int) -> bytes:
    return reply(hdr, f.GeneralCommand.Default_Response, [hdr.command_id, status])


def apply_command(
    cluster_id: int, name: str, args: dict[str, Any], attrs: dict[int, Any], cls: type[Cluster]
) -> list[int]:
    """Applies a cluster command to the attributes; returns the ids that changed."""
    before = dict(attrs)

    def put(attr: str, value: Any) -> None:
        attrs[cls.attributes_by_name[attr].id] = value

    if cluster_id == ON_OFF:
        current = bool(attrs.get(0x0000, False))
        new = {"on": True, "off": False, "toggle": not current}.get(name, current)
        put("on_off", new)
    elif cluster_id == LEVEL and "level" in args:
        put("current_level", int(args["level"]))
    elif cluster_id == COLOR and name == "move_to_color":
        put("current_x", int(args["color_x"]))
        put("current_y", int(args["color_y"]))
        put("color_mode", 1)
    elif cluster_id == COLOR and name == "move_to_color_temp":
        put("color_temperature", int(args["color_temp_mireds"]))
        put("color_mode", 2)
    elif cluster_id == COVER:
        # ZCL lift percentage: 0 = fully open, 100 = fully closed. The motor
        # gets there at once here; `stop` leaves it where it is.
        lift = {"up_open": 0, "down_close": 100}.get(name)
        if name == "go_to_lift_percentage":
            lift = int(args["percentage_lift_value"])
        if lift is not None:
            put("current_position_lift_percentage", lift)
    elif cluster_id == DOOR_LOCK and name in ("lock_door", "unlock_door"):
        put("lock_state", 1 if name == "lock_door" else 2)
    return [k for k, v in attrs.items() if before.get(k) != v]


def settle(cluster_id: int, attrid: int, value: Any) -> Any:
    """The value a device keeps for a written attribute: the thermostat
    rounds its heating setpoint to 0.5 °C, as many radiator valves do."""
    if cluster_id == THERMOSTAT and attrid == 0x0012:
        return round(int(value) / 50) * 50
    return value


def jsonable(value: Any) -> Any:
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def _attrs(cluster_id: int, **values: Any) -> dict[int, Any]:
    cls = Cluster._registry[cluster_id]
    return {cls.attributes_by_name[name].id: value for name, value in values.items()}


def _basic(manufacturer: str, model: str, power_source: int) -> dict[int, Any]:
    return _attrs(
        0x0000,
        zcl_version=8,
        app_version=1,
        manufacturer=manufacturer,
        model=model,
        power_source=power_source,
    )


def catalogue() -> dict[str, Node]:
    """The emulated devices, by name: a dimmable colour bulb, a temperature and
    humidity sensor, a door contact sensor and a metering plug."""
    mains, battery = 0x01, 0x03
    bulb = Node(
        name="bulb",
        ieee=zt.EUI64.convert("00:17:88:01:0b:1c:00:01"),
        nwk=0x1A01,
        logical_type=zdo_t.LogicalType.Router,
        endpoints={
            1: Endpoint(
                id=1,
                device_type=0x010D,
                clusters={
                    0x0000: _basic("Igloo Test", "Colour bulb", mains),
                    0x0003: _attrs(0x0003, identify_time=0),
                    ON_OFF: _attrs(ON_OFF, on_off=False),
                    LEVEL: _attrs(LEVEL, current_level=254),
                    COLOR: _attrs(
                        COLOR,
                        current_x=24939,
                        current_y=24701,
                        color_temperature=370,
                        color_mode=2,
                        color_capabilities=0x0019,
                        color_temp_physical_min=153,
                        color_temp_physical_max=500,
                    ),
                },
            )
        },
    )
    climate = Node(
        name="climate",
        ieee=zt.EUI64.convert("00:15:8d:00:0a:1c:00:02"),
        nwk=0x2B02,
        endpoints={
            1: Endpoint(
                id=1,
                device_type=0x0302,
                clusters={
                    0x0000: _basic("Igloo Test", "Climate sensor", battery),
                    0x0001: _attrs(0x0001, battery_percentage_remaining=180),
                    0x0402: _attrs(0x0402, measured_value=2150),
                    0x0405: _attrs(0x0405, measured_value=4500),
                },
            )
        },
    )
    contact = Node(
        name="contact",
        ieee=zt.EUI64.convert("00:15:8d:00:0a:1c:00:03"),
        nwk=0x3C03,
        endpoints={
            1: Endpoint(
                id=1,
                device_type=0x0402,
                clusters={
                    0x0000: _basic("Igloo Test", "Door sensor", battery),
                    0x0001: _attrs(0x0001, battery_percentage_remaining=200),
                    IAS_ZONE: _attrs(IAS_ZONE, zone_state=1, zone_type=0x0015, zone_status=0),
                },
            )
        },
    )
    plug = Node(
        name="plug",
        ieee=zt.EUI64.convert("00:0d:6f:00:0a:1c:00:04"),
        nwk=0x4D04,
        logical_type=zdo_t.LogicalType.Router,
        endpoints={
            1: Endpoint(
                id=1,
                device_type=0x0051,
                clusters={
                    0x0000: _basic("Igloo Test", "Metering plug", mains),
                    ON_OFF: _attrs(ON_OFF, on_off=True),
                    0x0702: _attrs(
                        0x0702,
                        current_summ_delivered=123456,
                        multiplier=1,
                        divisor=1000,
                        unit_of_measure=0,
                    ),
                    ELECTRICAL: _attrs(
                        ELECTRICAL,
                        active_power=60,
                        ac_power_multiplier=1,
                        ac_power_divisor=1,
                        rms_voltage=2301,
                        ac_voltage_multiplier=1,
                        ac_voltage_divisor=10,
                        rms_current=261,
                        ac_current_multiplier=1,
                        ac_current_divisor=1000,
                    ),
                },
            )
        },
    )
    return {n.name: n for n in (bulb, climate, contact, plug, *more_devices())}


def _sensor(name: str, ieee: str, nwk: int, model: str, clusters: dict[int, Any]) -> Node:
    """A battery end device with one endpoint of `clusters` (plus Basic)."""
    return Node(
        name=name,
        ieee=zt.EUI64.convert(ieee),
        nwk=nwk,
        endpoints={
            1: Endpoint(
                id=1,
                device_type=0x0402 if IAS_ZONE in clusters else 0x0302,
                clusters={0x0000: _basic("Igloo Test", model, 0x03), **clusters},
            )
        },
    )


def _zone(name: str, ieee: str, nwk: int, model: str, zone_type: int) -> Node:
    return _sensor(
        name,
        ieee,
        nwk,
        model,
        {IAS_ZONE: _attrs(IAS_ZONE, zone_state=0, zone_type=zone_type, zone_status=0)},
    )


def more_devices() -> list[Node]:
    """A weather and presence multisensor, IAS zones of each mapped type, a
    roller blind, a radiator thermostat and a door lock."""
    multisensor = _sensor(
        "multisensor",
        "00:15:8d:00:0a:1c:00:05",
        0x5E05,
        "Multisensor",
        {
            0x0001: _attrs(0x0001, battery_percentage_remaining=160),
            PRESSURE: _attrs(PRESSURE, measured_value=1013),
            # 10000·log10(500 lx) + 1
            ILLUMINANCE: _attrs(ILLUMINANCE, measured_value=26991),
            OCCUPANCY: _attrs(OCCUPANCY, occupancy=0, occupancy_sensor_type=0),
        },
    )
    motion = _zone("motion", "00:15:8d:00:0a:1c:00:06", 0x6F06, "Motion sensor", 0x000D)
    leak = _zone("leak", "00:15:8d:00:0a:1c:00:07", 0x7A07, "Leak sensor", 0x002A)
    smoke = _zone("smoke", "00:15:8d:00:0a:1c:00:08", 0x7B08, "Smoke alarm", 0x0028)
    blind = Node(
        name="blind",
        ieee=zt.EUI64.convert("00:0d:6f:00:0a:1c:00:09"),
        nwk=0x7C09,
        logical_type=zdo_t.LogicalType.Router,
        endpoints={
            1: Endpoint(
                id=1,
                device_type=0x0202,
                clusters={
                    0x0000: _basic("Igloo Test", "Roller blind", 0x01),
                    COVER: _attrs(
                        COVER, window_covering_type=0, current_position_lift_percentage=0
                    ),
                },
            )
        },
    )
    thermostat = _sensor(
        "thermostat",
        "00:15:8d:00:0a:1c:00:0a",
        0x7D0A,
        "Radiator valve",
        {
            0x0001: _attrs(0x0001, battery_percentage_remaining=200),
            THERMOSTAT: _attrs(
                THERMOSTAT,
                local_temperature=2050,
                occupied_heating_setpoint=2000,
                system_mode=4,
                ctrl_sequence_of_oper=2,
            ),
        },
    )
    lock = _sensor(
        "lock",
        "00:15:8d:00:0a:1c:00:0b",
        0x7E0B,
        "Door lock",
        {
            0x0001: _attrs(0x0001, battery_percentage_remaining=180),
            DOOR_LOCK: _attrs(DOOR_LOCK, lock_state=1, lock_type=0, actuator_enabled=1),
        },
    )
    return [multisensor, motion, leak, smoke, blind, thermostat, lock]

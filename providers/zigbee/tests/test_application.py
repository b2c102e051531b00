"""The provider above the radio, driven through each radio library's real
ControllerApplication (Z-Stack, EZSP, deCONZ) at zigpy's application level:
devices join through `handle_join` and their frames arrive through
`packet_received`, as a radio library delivers them; what zigpy sends goes
to the emulated devices of tests/fakes/zigbee_devices.py instead of a stick
(`send_packet`). The same interview, entities, reports, change requests,
availability by silence and connection loss as on the wire with Z-Stack
(tests/tests/zigbee.rs), for the EZSP and deCONZ applications too."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import zigbee_devices
import zigpy.exceptions
import zigpy.state
import zigpy.types as _zt
import zigpy.zdo.types as _zdo_t
from igloo_zigbee import radio, settings
from igloo_zigbee.left import LeftDevices
from igloo_zigbee.provider import ZigbeeProvider
from zigbee_devices import Node, catalogue
from zigpy.zcl import Cluster

zt: Any = _zt
zdo_t: Any = _zdo_t

COORDINATOR_IEEE = "00:12:4b:00:1c:dd:28:4a"
BOUND_S = 5.0  # the bound of every wait (no timed assertion)


@dataclass
class FakeCore:
    """The provider's `igloo.Provider`: records what the provider tells the core."""

    config: str = ""
    data_dir: str = "/nonexistent"
    devices: dict[str, int] = field(default_factory=dict)
    entities: dict[int, dict[str, int]] = field(default_factory=dict)
    values: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)
    available: dict[int, bool] = field(default_factory=dict)
    #: Every change of availability (an announcement or a set_available),
    #: in order: (device, available).
    availability: list[tuple[int, bool]] = field(default_factory=list)
    refused: list[tuple[int, int, str]] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def _poke(self) -> None:
        self.changed.set()

    async def create_device(
        self, key: str, name: str, attributes: Any = None, available: bool = True
    ) -> int:
        """As the core: announcing a device sets its availability."""
        device = self.devices.setdefault(key, len(self.devices) + 1)
        self.entities.setdefault(device, {})
        if self.available.get(device) != available:
            self.available[device] = available
            self.availability.append((device, available))
        self._poke()
        return device

    async def register_entity(self, device: int, name: str, attributes: Any = None) -> int:
        numbers = self.entities[device]
        return numbers.setdefault(name, len(numbers))

    async def write(self, device: int, entity: int, values: dict[str, Any]) -> None:
        name = next(n for n, e in self.entities[device].items() if e == entity)
        self.values.setdefault((device, name), {}).update(values)
        self._poke()

    async def set_available(self, device: int, available: bool) -> None:
        self.available[device] = available
        self.availability.append((device, available))
        self._poke()

    async def remove_device(self, device: int) -> None:
        self.removed.append(device)
        self._poke()

    async def refuse_change(self, device: int, entity: int, reason: str) -> None:
        self.refused.append((device, entity, reason))
        self._poke()

    async def until(self, what: str, check: Callable[[], bool]) -> None:
        """Waits (bounded) until `check()` holds after a change."""
        async with asyncio.timeout(BOUND_S):
            while not check():
                self.changed.clear()
                await self.changed.wait()

    def value(self, key: str, entity: str, component: str) -> Any:
        return self.values.get((self.devices.get(key, -1), entity), {}).get(component)


@dataclass
class Change:
    """A change request as the SDK delivers it."""

    device: int
    entity: int
    values: dict[str, bool | int | float | str]


class Air:
    """The emulated devices on a zigpy application: what the application
    sends (`send_packet`) reaches them, their answers come back through
    `packet_received`, as a radio library passes them on."""

    def __init__(self, app: Any, poke: Callable[[], None]) -> None:
        self.app = app
        #: Wakes `FakeCore.until` when a device saw something.
        self.poke = poke
        self.nodes = catalogue()
        self.commands: list[dict[str, Any]] = []
        #: Read Attributes the devices answered: {"device", "cluster", "attributes"}.
        self.reads: list[dict[str, Any]] = []
        #: ZDO requests the application sent: (device name, ZDO cluster id).
        self.zdo_requests: list[tuple[str, int]] = []

    def node_at(self, nwk: int) -> Node | None:
        return next((n for n in self.nodes.values() if n.joined and n.nwk == nwk), None)

    async def send_packet(self, packet: Any) -> None:
        node = self.node_at(int(packet.dst.address))
        if node is None:
            return  # broadcasts, the coordinator itself: nothing answers here
        if not node.powered:
            # As a radio library reports a frame no one acknowledged.
            raise zigpy.exceptions.DeliveryError(f"{node.name} is off: no MAC ACK")
        data = bytes(packet.data.serialize())
        if packet.dst_ep == 0:
            self.zdo_requests.append((node.name, int(packet.cluster_id)))
            for cluster, answer in node.zdo(int(packet.cluster_id), data):
                self.deliver(node, 0, 0, 0x0000, cluster, answer)
            return
        outcome = node.zcl(int(packet.dst_ep), int(packet.cluster_id), data)
        if outcome.command is not None:
            self.commands.append(outcome.command)
        if outcome.read is not None:
            self.reads.append(outcome.read)
            self.poke()
        for cluster, answer in outcome.replies:
            self.deliver(node, int(packet.dst_ep), int(packet.src_ep), 0x0104, cluster, answer)

    def deliver(
        self, node: Node, src_ep: int, dst_ep: int, profile: int, cluster: int, data: bytes
    ) -> None:
        """A frame from `node`, given to zigpy on the next loop turn."""
        packet = zt.ZigbeePacket(
            src=zt.AddrModeAddress(addr_mode=zt.AddrMode.NWK, address=node.nwk),
            src_ep=src_ep,
            dst=zt.AddrModeAddress(addr_mode=zt.AddrMode.NWK, address=0x0000),
            dst_ep=dst_ep,
            tsn=data[0] if profile == 0 else None,
            profile_id=profile,
            cluster_id=cluster,
            data=zt.SerializableBytes(data),
            lqi=200,
            rssi=-50,
        )
        asyncio.get_running_loop().call_soon(self.app.packet_received, packet)

    def join(self, name: str) -> Node:
        node = self.nodes[name]
        node.joined = True
        self.app.handle_join(nwk=node.nwk, ieee=node.ieee, parent_nwk=0x0000)
        return node

    def leave(self, name: str) -> None:
        """`name` leaves, as a radio library reports a ZDO leave indication."""
        node = self.nodes[name]
        node.joined = False
        self.app.handle_leave(nwk=node.nwk, ieee=node.ieee)

    def announce(self, name: str) -> None:
        """`name` joins again with its old address and sends a Device_annce."""
        node = self.nodes[name]
        node.joined = True
        self.deliver(node, 0, 0, 0x0000, 0x0013, bytes([node.next_tsn()]) + node.announce())

    def report(self, name: str, cluster: int, attribute: int, value: Any) -> None:
        node = self.nodes[name]
        attrs = node.endpoints[1].clusters[cluster]
        attrs[attribute] = value
        cls = Cluster._registry[cluster]
        if cluster == zigbee_devices.IAS_ZONE and attribute == 0x0002:
            data = node.zone_notification(int(value))
        else:
            data = node.report(cluster, attrs, cls, [attribute])
        self.deliver(node, 1, 1, 0x0104, cluster, data)


async def _gateway(
    radio_name: str, config: settings.Settings, data_dir: str = "/nonexistent"
) -> tuple[ZigbeeProvider, FakeCore, Air, Any]:
    """The radio library's ControllerApplication (built as the provider
    builds it, never connected), its network state as after a start, the
    emulated air in place of the stick, and the provider attached to it."""
    chosen = radio.choose({}, radio_name)
    app = chosen.application()(radio.app_config(chosen, 1, None))
    app.state.node_info = zigpy.state.NodeInfo(
        nwk=zt.NWK(0x0000),
        ieee=zt.EUI64.convert(COORDINATOR_IEEE),
        logical_type=zdo_t.LogicalType.Coordinator,
    )
    app.state.network_info = zigpy.state.NetworkInfo(
        extended_pan_id=zt.ExtendedPanId.convert("dd:dd:dd:dd:dd:dd:dd:dd"),
        pan_id=zt.PanId(0x1A62),
        channel=zt.uint8_t(15),
    )
    core = FakeCore(data_dir=data_dir)
    air = Air(app, core._poke)
    app.send_packet = air.send_packet
    provider = ZigbeeProvider(core)  # type: ignore[arg-type]
    provider.settings = config
    await provider.attach(app)
    return provider, core, air, app


RADIOS = ["znp", "ezsp", "deconz"]
BULB, CLIMATE = "00:17:88:01:0b:1c:00:01", "00:15:8d:00:0a:1c:00:02"
BLIND, MOTION = "00:0d:6f:00:0a:1c:00:09", "00:15:8d:00:0a:1c:00:06"


async def _devices_entities_reports_and_changes(radio_name: str) -> None:
    provider, core, air, _app = await _gateway(radio_name, settings.Settings())
    for name in ("bulb", "climate", "blind", "motion"):
        air.join(name)
    # Interviewed through the application: entities with their values.
    await core.until(
        "values",
        lambda: (
            core.value(CLIMATE, "Temperature", "Temperature") == 21.5
            and core.value(BULB, "Light", "Switch") is False
            and core.value(BLIND, "Cover", "CoverPosition") == 100.0
            and core.value(MOTION, "Motion", "Motion") is False
            and core.value(CLIMATE, "Humidity", "Humidity") == 45.0
            and core.value(CLIMATE, "Battery", "Battery") == 90.0
        ),
    )
    assert set(core.entities[core.devices[BULB]]) == {"Light"}
    # Reports and notifications arrive through packet_received.
    air.report("climate", 0x0402, 0x0000, 2345)
    air.report("motion", 0x0500, 0x0002, 1)
    await core.until(
        "reports",
        lambda: (
            core.value(CLIMATE, "Temperature", "Temperature") == 23.45
            and core.value(MOTION, "Motion", "Motion") is True
        ),
    )
    # A change request becomes the ZCL command; the value follows the report.
    bulb = core.devices[BULB]
    await provider.change(Change(bulb, core.entities[bulb]["Light"], {"Switch": True}))  # type: ignore[arg-type]
    blind = core.devices[BLIND]
    await provider.change(Change(blind, core.entities[blind]["Cover"], {"CoverPosition": 25}))  # type: ignore[arg-type]
    await core.until(
        "confirmed changes",
        lambda: (
            core.value(BULB, "Light", "Switch") is True
            and core.value(BLIND, "Cover", "CoverPosition") == 25.0
        ),
    )
    names = [c["command"] for c in air.commands]
    assert "on" in names and "go_to_lift_percentage" in names, names
    lift = next(c for c in air.commands if c["command"] == "go_to_lift_percentage")
    assert lift["args"]["percentage_lift_value"] == 75
    # A value the entity cannot take is refused before anything is sent.
    sent = len(air.commands)
    await provider.change(Change(blind, core.entities[blind]["Cover"], {"CoverCommand": "Up"}))  # type: ignore[arg-type]
    assert core.refused and "CoverCommand" in core.refused[-1][2]
    assert len(air.commands) == sent
    await provider.stop_app()


@pytest.mark.parametrize("radio_name", RADIOS)
def test_joined_devices_become_entities_and_changes_become_commands(radio_name: str) -> None:
    asyncio.run(_devices_entities_reports_and_changes(radio_name))


async def _join_bulb_and_climate(core: FakeCore, air: Air) -> None:
    """The bulb and the climate sensor join; returns once both are mirrored
    with their first values."""
    air.join("bulb")
    air.join("climate")
    await core.until(
        "both mirrored",
        lambda: (
            core.value(BULB, "Light", "Switch") is False
            and core.value(CLIMATE, "Temperature", "Temperature") == 21.5
        ),
    )


async def _silence_and_connection_loss(radio_name: str) -> None:
    short = settings.Settings(unavailable_mains_s=0.3, unavailable_battery_s=3600.0)
    provider, core, air, app = await _gateway(radio_name, short)
    await _join_bulb_and_climate(core, air)
    bulb, climate = core.devices[BULB], core.devices[CLIMATE]

    # The silent mains bulb is polled (its Basic cluster's manufacturer) and
    # answers: twice past its timeout, it is still available.
    def polls() -> int:
        return sum(r["device"] == "bulb" and r["cluster"] == 0x0000 for r in air.reads)

    before = polls()
    await core.until("two polls of the bulb", lambda: polls() >= before + 2)
    assert (bulb, False) not in core.availability, core.availability
    # Powered off it answers nothing: it goes; the battery sensor keeps its hour.
    air.nodes["bulb"].powered = False
    await core.until("the bulb unavailable", lambda: core.available.get(bulb) is False)
    assert core.available.get(climate) is True
    # Its next frame brings it back.
    air.nodes["bulb"].powered = True
    air.report("bulb", 0x0006, 0x0000, True)
    await core.until("the bulb back", lambda: core.available.get(bulb) is True)
    # It leaves: a frame of it still in flight does not bring it back; its
    # Device_annce, when it joins again, does.
    air.leave("bulb")
    await core.until("the bulb gone", lambda: core.available.get(bulb) is False)
    air.report("bulb", 0x0006, 0x0000, False)
    await core.until("the late report", lambda: core.value(BULB, "Light", "Switch") is False)
    assert core.available.get(bulb) is False
    air.announce("bulb")
    await core.until("the bulb rejoined", lambda: core.available.get(bulb) is True)
    # The radio's connection is lost (the library calls connection_lost):
    # the network stops, every device is unavailable, the provider waits.
    app.connection_lost(OSError(5, "Input/output error"))
    await core.until(
        "all unavailable",
        lambda: (
            provider.state == "stick_lost"
            and core.available.get(bulb) is False
            and core.available.get(climate) is False
        ),
    )
    assert provider.app is None
    assert "connection lost" in (provider.error or "")


@pytest.mark.parametrize("radio_name", RADIOS)
def test_silent_devices_and_a_lost_radio_become_unavailable(radio_name: str) -> None:
    asyncio.run(_silence_and_connection_loss(radio_name))


async def _left_devices_stay_left(radio_name: str, data_dir: str) -> None:
    provider, core, air, app = await _gateway(radio_name, settings.Settings(), data_dir)
    await _join_bulb_and_climate(core, air)
    air.leave("bulb")
    await core.until("the bulb gone", lambda: core.available.get(core.devices[BULB]) is False)
    # The provider starts again on the same network (same data dir, zigpy's
    # database still has the bulb): the bulb stays unavailable, the other
    # device is available.
    again = FakeCore(data_dir=data_dir)
    restarted = ZigbeeProvider(again)  # type: ignore[arg-type]
    await restarted.attach(app)
    bulb, climate = again.devices[BULB], again.devices[CLIMATE]
    assert again.available == {bulb: False, climate: True}, again.available
    # Never shown available on the way: it was announced unavailable.
    assert (bulb, True) not in again.availability, again.availability
    # Its Device_annce ends the leave, for this run and the next.
    air.announce("bulb")
    await again.until("the bulb rejoined", lambda: again.available.get(bulb) is True)
    assert BULB not in LeftDevices(data_dir)
    await provider.stop_app()


@pytest.mark.parametrize("radio_name", RADIOS)
def test_a_device_that_left_stays_unavailable_after_a_restart(
    radio_name: str, tmp_path: Path
) -> None:
    asyncio.run(_left_devices_stay_left(radio_name, str(tmp_path)))


def test_an_unreadable_left_list_counts_every_device_as_present(tmp_path: Path) -> None:
    (tmp_path / "left.json").write_text("{not json")
    assert LeftDevices(str(tmp_path)).ieees == set()
    (tmp_path / "left.json").write_text('{"ieee": 1}')
    assert LeftDevices(str(tmp_path)).ieees == set()
    left = LeftDevices(str(tmp_path))
    left.add(BULB)
    assert BULB in LeftDevices(str(tmp_path))


async def _remove_from_the_api(radio_name: str) -> None:
    provider, core, air, app = await _gateway(radio_name, settings.Settings())
    await _join_bulb_and_climate(core, air)
    bulb, climate = core.devices[BULB], core.devices[CLIMATE]
    # Refused before anything is sent: not a Zigbee device of this provider.
    for body in ({"device": 999}, {"device": "bulb"}, {"device": True}, {}):
        with pytest.raises(ValueError, match="device must be the id"):
            await provider.command("zigbee.remove", body)
    assert core.removed == []
    reply = await provider.command("zigbee.remove", {"device": bulb})
    assert reply == {"removed": BULB}
    await core.until("the bulb removed", lambda: core.removed == [bulb])
    assert BULB not in provider.devices and bulb not in provider.by_id
    # zigpy asked the bulb to leave (ZDO Mgmt_Leave_req) and forgets it.
    async with asyncio.timeout(BOUND_S):
        while zt.EUI64.convert(BULB) in app.devices:
            await asyncio.sleep(0.01)
    assert ("bulb", 0x0034) in air.zdo_requests, air.zdo_requests
    assert core.available.get(climate) is True and CLIMATE in provider.devices
    await provider.stop_app()


@pytest.mark.parametrize("radio_name", RADIOS)
def test_a_device_removed_through_the_api_leaves_and_is_forgotten(radio_name: str) -> None:
    asyncio.run(_remove_from_the_api(radio_name))
